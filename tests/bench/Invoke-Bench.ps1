<#
.SYNOPSIS
    Runs every tests/bench/*.Bench.ps1 against the running lab and prints one table of figures,
    each with its baseline and ratio measured in the same run; writes out/bench/results.json.

.DESCRIPTION
    A benchmark script returns objects with: Benchmark, Measure, Value, Unit, Baseline,
    BaselineValue, Ratio, Target, Met, where Ratio = Value / BaselineValue (below 1: smaller than
    the baseline). Benchmarks are evidence, not tests: a missed target is reported, not failed.
    Also writes out/bench/results.md (the table as Markdown, with the machine and its load).
#>
[CmdletBinding()]
param([string[]] $Name = '*')

$ErrorActionPreference = 'Stop'
$root = Resolve-Path (Join-Path $PSScriptRoot '../..')
$outDir = Join-Path $root 'out/bench'
New-Item -ItemType Directory -Force $outDir | Out-Null

. (Join-Path $PSScriptRoot 'BenchHelpers.ps1')
# The machine's process-start cost, for the caption: the lab's stubs and BusyBox shells start processes all the time.
$processStart = Measure-ProcessStart 500
$loadBefore = (Get-Content /proc/loadavg -ErrorAction SilentlyContinue) -replace '^(\S+ \S+ \S+).*', '$1'
$results = [System.Collections.Generic.List[object]]::new()
$labCpuBy = '/proc trees of the lab processes (no writable cgroup v1 cpuacct here)'
try {
foreach ($script in Get-ChildItem $PSScriptRoot -Filter '*.Bench.ps1' | Where-Object { $n = $_.Name; @($Name | Where-Object { $n -like "$_.Bench.ps1" -or $n -like $_ }).Count }) {
    Write-Host "==> $($script.Name)" -ForegroundColor Cyan
    try {
        foreach ($r in @(& $script.FullName)) { if ($r -and $r.PSObject.Properties['Benchmark']) { $results.Add($r) } }
    }
    catch {
        Write-Host "   failed: $_" -ForegroundColor Red
        $results.Add([pscustomobject]@{ Benchmark = $script.BaseName; Measure = 'error'; Value = $null; Unit = ''; Baseline = "$_"; BaselineValue = $null; Ratio = $null; Target = ''; Met = $false })
    }
}
}
finally {
    # The benches moved the lab's processes into a cpuacct group (Enable-LabCpuAccounting): back out.
    if (Get-ChildItem -LiteralPath '/sys/fs/cgroup/cpuacct' -Directory -Filter 'mtvbench-*' -ErrorAction SilentlyContinue) { $labCpuBy = "the kernel's cpuacct cgroup of the lab's processes" }
    Remove-LabCpuAccounting
}

$memKb = [double]((Get-Content /proc/meminfo -ErrorAction SilentlyContinue | Select-Object -First 1) -replace '\D', '')
$memGiB = [math]::Round($memKb / 1MB)
$machine = '{0} cores, {1} GiB, {2}' -f [Environment]::ProcessorCount, $memGiB, [System.Runtime.InteropServices.RuntimeInformation]::OSDescription
$loadAfter = (Get-Content /proc/loadavg -ErrorAction SilentlyContinue) -replace '^(\S+ \S+ \S+).*', '$1'
$load = "load average (1/5/15 min) $loadBefore at start, $loadAfter at end; 500 /bin/true one after another took {0:N2} s; lab CPU counted by {1}" -f $processStart, $labCpuBy
$date = (Get-Date).ToUniversalTime().ToString('o')
$report = [pscustomobject]@{ Date = $date; Machine = $machine; Load = $load; Results = $results }
$report | ConvertTo-Json -Depth 5 | Set-Content (Join-Path $outDir 'results.json')

function Format-Figure($v, $unit) { if ($v -is [double]) { '{0:N3} {1}' -f $v, $unit } elseif ($null -ne $v) { "$v $unit" } else { '' } }
$md = [Text.StringBuilder]::new()
[void]$md.AppendLine("Machine: $machine; $load; $date")
[void]$md.AppendLine('')
[void]$md.AppendLine('| Benchmark | Measure | Value | Baseline | Baseline value | Ratio | Target | Met |')
[void]$md.AppendLine('|---|---|---|---|---|---|---|---|')
foreach ($r in $results) {
    $ratio = if ($null -ne $r.Ratio) { '{0:N2}x' -f $r.Ratio } else { '' }
    $cells = @($r.Benchmark, $r.Measure, (Format-Figure $r.Value $r.Unit), $r.Baseline, (Format-Figure $r.BaselineValue $r.Unit), $ratio, $r.Target, $(if ($r.Met) { 'yes' } else { '**no**' })) | ForEach-Object { "$_" -replace '\|', '\|' }
    [void]$md.AppendLine('| ' + ($cells -join ' | ') + ' |')
}
Set-Content (Join-Path $outDir 'results.md') $md.ToString()

Write-Host ''
Write-Host "Machine: $machine"
Write-Host "Load: $load"
$results | Format-Table Benchmark, Measure,
    @{ n = 'Value'; e = { if ($_.Value -is [double]) { '{0:N3} {1}' -f $_.Value, $_.Unit } else { "$($_.Value) $($_.Unit)" } } },
    Baseline,
    @{ n = 'Baseline value'; e = { if ($_.BaselineValue -is [double]) { '{0:N3} {1}' -f $_.BaselineValue, $_.Unit } else { $_.BaselineValue } } },
    @{ n = 'Ratio'; e = { if ($null -ne $_.Ratio) { '{0:N2}x' -f $_.Ratio } } },
    Target, Met -AutoSize -Wrap | Out-String -Width 200 | Write-Host
Write-Host "Written: $(Join-Path $outDir 'results.json')"
