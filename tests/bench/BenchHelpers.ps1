# Shared by the *.Bench.ps1 scripts (dot-source it). Not a benchmark itself: the runner only
# picks up *.Bench.ps1.

# The module under test: the build's output (MTV_MODULE_PATH, set by build.ps1 Bench) or the default build folder.
function Get-BenchManifest($Root) {
    if ($env:MTV_MODULE_PATH) { $env:MTV_MODULE_PATH } else { Join-Path $Root 'out/MtvRemediation/0.1.0/MtvRemediation.psd1' }
}

# One benchmark figure in the runner's shape. The calling script names its benchmark once, in
# $BenchmarkName; Ratio is always Value / BaselineValue.
function Result($Measure, $Value, $Unit, $Baseline, $BaselineValue, $Target, [bool] $Met) {
    [pscustomobject]@{
        Benchmark = $BenchmarkName; Measure = $Measure; Value = [double]$Value; Unit = $Unit
        Baseline = $Baseline; BaselineValue = [double]$BaselineValue
        Ratio = if ($BaselineValue) { [double]$Value / [double]$BaselineValue } else { $null }
        Target = $Target; Met = $Met
    }
}

# Speedup a parallel fan-out must reach over one-at-a-time: 75% of the cores' ideal, between 1.5x
# and 3x. The lab's hosts run on the client's cores, so CPU-bound fan-outs cannot beat the core count.
# (Doubles on purpose: [Math]::Min(3, 1.5) picks the int overload in PowerShell and yields 2.)
function Get-ParallelTarget {
    [Math]::Min([double]3, [Math]::Max([double]1.5, [Environment]::ProcessorCount * 0.75))
}

function Get-Median([double[]] $Values) {
    $s = @($Values | Sort-Object)
    if ($s.Count % 2) { $s[[int][math]::Floor($s.Count / 2)] } else { ($s[$s.Count / 2 - 1] + $s[$s.Count / 2]) / 2 }
}

function Get-ProcStatusKiB([string] $Field) {
    $line = Select-String -LiteralPath '/proc/self/status' -Pattern "^${Field}:\s+(\d+)\s+kB" | Select-Object -First 1
    if ($line) { [long]$line.Matches[0].Groups[1].Value } else { $null }
}

<#
    Runs $Work and measures the peak growth of this process's resident memory while it ran:
    /proc/self/status VmHWM (the kernel's own high-water mark of resident memory, so no peak is
    missed between samples), reset before the call by writing 5 to /proc/self/clear_refs;
    growth = VmHWM after - VmRSS before. Linux only (like the lab). Returns Seconds,
    PeakGrowthBytes, Method, Output.
#>
function Measure-PeakMemory([scriptblock] $Work) {
    [GC]::Collect(); [GC]::WaitForPendingFinalizers(); [GC]::Collect()
    [IO.File]::WriteAllText('/proc/self/clear_refs', '5')
    $before = (Get-ProcStatusKiB 'VmRSS') * 1KB
    $sw = [Diagnostics.Stopwatch]::StartNew()
    $out = & $Work
    $sw.Stop()
    $after = (Get-ProcStatusKiB 'VmHWM') * 1KB
    [pscustomobject]@{
        Seconds         = $sw.Elapsed.TotalSeconds
        PeakGrowthBytes = [Math]::Max(0, $after - $before)
        Method          = 'VmHWM (reset via clear_refs) - VmRSS before'
        Output          = $out
    }
}

# The lab's OpenSSH command line for one host: key login, the lab's known_hosts, no prompts.
function Get-LabSshArgs($Lab, $LabHost) {
    @('-i', $Lab.ssh.keyFile, '-o', "UserKnownHostsFile=$($Lab.ssh.knownHostsFile)", '-o', 'StrictHostKeyChecking=yes',
        '-o', 'BatchMode=yes', '-o', 'LogLevel=ERROR', '-p', "$($LabHost.port)", "$($LabHost.user)@$($LabHost.address)")
}
