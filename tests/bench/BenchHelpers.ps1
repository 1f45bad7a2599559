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

<#
    CPU (ms) the lab has used so far: each lab host's sshd listener with everything it forked
    (sessions, BusyBox shells, stub commands: the live ones read directly, the finished ones
    through their parent's cutime/cstime once reaped), and vcsim. From /proc/<pid>/stat, so other
    users of the machine do not count. The difference across a call is the lab's share of it.
#>
function Get-LabCpuMs($Lab) {
    $group = Enable-LabCpuAccounting $Lab
    if ($group) { return [double](Get-Content -LiteralPath (Join-Path $group 'cpuacct.usage')) / 1e6 }
    (Get-LabCpu $Lab).Ms
}

<#
    The kernel's own count of the lab's CPU where the machine offers it: a cpuacct control group
    (cgroup v1, root only) named after the lab instance, into which every process of the lab's
    trees is moved; whatever they fork later is born in it. cpuacct.usage then counts every
    nanosecond the lab's processes run, in user and kernel mode, whether a process is reaped by its
    parent, re-parented or still alive. The /proc tree walk (Get-LabCpu) counted less for cold
    connects (270 ms against 370 on 6 hosts; warm probes the same), for a reason not established. Returns the group's directory, or $null (no cgroup v1 cpuacct, not
    writable): then the /proc walk counts. Remove-LabCpuAccounting puts the processes back.
#>
function Enable-LabCpuAccounting($Lab) {
    $base = '/sys/fs/cgroup/cpuacct'
    if (-not $Lab.instance -or -not (Test-Path -LiteralPath (Join-Path $base 'cgroup.procs'))) { return $null }
    $group = Join-Path $base "mtvbench-$($Lab.instance)"
    if ($script:LabCpuGroupOf -eq $group) { return $group }
    try {
        if (-not (Test-Path -LiteralPath $group)) { New-Item -ItemType Directory -Path $group -ErrorAction Stop | Out-Null }
        foreach ($procId in Get-LabProcessIds $Lab) {
            try { [IO.File]::AppendAllText((Join-Path $group 'cgroup.procs'), "$procId`n") } catch { }   # gone meanwhile
        }
        $script:LabCpuGroupOf = $group
        $group
    }
    catch { $null }
}

# Moves every process out of the benchmarks' lab CPU groups and removes the groups (Invoke-Bench's end).
function Remove-LabCpuAccounting {
    $base = '/sys/fs/cgroup/cpuacct'
    foreach ($group in Get-ChildItem -LiteralPath $base -Directory -Filter 'mtvbench-*' -ErrorAction SilentlyContinue) {
        foreach ($procId in Get-Content -LiteralPath (Join-Path $group.FullName 'cgroup.procs') -ErrorAction SilentlyContinue) {
            try { [IO.File]::AppendAllText((Join-Path $base 'cgroup.procs'), "$procId`n") } catch { }
        }
        & rmdir $group.FullName 2>$null   # a cgroup directory goes with rmdir, its control files with it
    }
}

# Every process of the lab's trees: each host's sshd listener and vcsim with their descendants.
function Get-LabProcessIds($Lab) {
    $roots = @(foreach ($h in $Lab.hosts) { Get-Content -LiteralPath $h.sshdPidFile -ErrorAction SilentlyContinue }) + @($Lab.vcsim.pid) | Where-Object { $_ } | ForEach-Object { [int]$_ }
    $children = @{}
    foreach ($dir in [IO.Directory]::GetDirectories('/proc')) {
        $name = [IO.Path]::GetFileName($dir)
        if ($name -notmatch '^\d+$') { continue }
        try { $stat = [IO.File]::ReadAllText("$dir/stat") } catch { continue }
        $parent = [int]$stat.Substring($stat.LastIndexOf(')') + 2).Split(' ')[1]
        if (-not $children.ContainsKey($parent)) { $children[$parent] = [Collections.Generic.List[int]]::new() }
        $children[$parent].Add([int]$name)
    }
    $todo = [Collections.Generic.Stack[int]]::new()
    foreach ($r in $roots) { $todo.Push($r) }
    while ($todo.Count) {
        $p = $todo.Pop()
        $p
        if ($children.ContainsKey($p)) { foreach ($c in $children[$p]) { $todo.Push($c) } }
    }
}

# The same, with the number of processes in the lab's trees (to wait for closed sessions to be gone).
function Get-LabCpu($Lab) {
    $roots = [Collections.Generic.List[int]]::new()
    foreach ($h in $Lab.hosts) { $p = Get-Content -LiteralPath $h.sshdPidFile -ErrorAction SilentlyContinue; if ($p) { $roots.Add([int]$p) } }
    if ($Lab.vcsim.pid) { $roots.Add([int]$Lab.vcsim.pid) }
    $children = @{}
    $ticks = @{}
    foreach ($dir in [IO.Directory]::GetDirectories('/proc')) {
        $name = [IO.Path]::GetFileName($dir)
        if ($name -notmatch '^\d+$') { continue }
        try { $stat = [IO.File]::ReadAllText("$dir/stat") } catch { continue }
        $f = $stat.Substring($stat.LastIndexOf(')') + 2).Split(' ')
        $procId = [int]$name
        $ticks[$procId] = [long]$f[11] + [long]$f[12] + [long]$f[13] + [long]$f[14]   # utime stime cutime cstime
        $parent = [int]$f[1]
        if (-not $children.ContainsKey($parent)) { $children[$parent] = [Collections.Generic.List[int]]::new() }
        $children[$parent].Add($procId)
    }
    $sum = [long]0
    $count = 0
    $todo = [Collections.Generic.Stack[int]]::new()
    foreach ($r in $roots) { if ($ticks.ContainsKey($r)) { $todo.Push($r) } }
    while ($todo.Count) {
        $p = $todo.Pop()
        $sum += $ticks[$p]
        $count++
        if ($children.ContainsKey($p)) { foreach ($c in $children[$p]) { $todo.Push($c) } }
    }
    [pscustomobject]@{ Ms = $sum * 1000.0 / $script:ClockTicks; Processes = $count }
}

# Waits (up to 5 s) until the lab's process count is steady: closed sessions must be gone before a
# measurement starts, or the CPU of a session that dies (and is re-parented away from its sshd)
# during the measurement would be lost from the lab's count.
function Wait-LabQuiet($Lab) {
    $until = [DateTime]::UtcNow.AddSeconds(5)
    $last = (Get-LabCpu $Lab).Processes
    while ([DateTime]::UtcNow -lt $until) {
        Start-Sleep -Milliseconds 300
        $now = (Get-LabCpu $Lab).Processes
        if ($now -eq $last) { return }
        $last = $now
    }
}
$script:ClockTicks = [double](& getconf CLK_TCK 2>$null)
if (-not $script:ClockTicks) { $script:ClockTicks = 100 }

<#
    Wall time of a fan-out beside its CPU floor on this machine: the lab hosts share the client's
    cores, so a call cannot take less than (lab CPU + client CPU) / cores (/ hosts when fewer
    hosts than cores are worked on: -Width), whatever the module does. Medians of $Runs runs after
    one warm-up; $Setup runs before each (not measured). Returns Wall, Floor, LabCpuMs,
    ClientCpuMs (per run), Cores (the divisor), Output (of the last run).
#>
function Measure-FanOut([scriptblock] $Work, $Lab, [int] $Runs = 3, [scriptblock] $Setup = {}, [int] $Width = [int]::MaxValue) {
    $proc = [Diagnostics.Process]::GetCurrentProcess()
    # A fan-out over fewer hosts than cores cannot spread over every core.
    $cores = [Math]::Min([Environment]::ProcessorCount, $Width)
    & $Setup; $null = & $Work
    $walls = @(); $floors = @(); $labs = @(); $clients = @(); $out = $null
    foreach ($i in 1..$Runs) {
        & $Setup
        Wait-LabQuiet $Lab   # the Setup's own teardown (closing sessions) settles outside the measurement
        $l0 = Get-LabCpuMs $Lab
        $proc.Refresh(); $c0 = $proc.TotalProcessorTime
        $sw = [Diagnostics.Stopwatch]::StartNew()
        $out = & $Work
        $sw.Stop()
        $proc.Refresh(); $c1 = $proc.TotalProcessorTime
        $l1 = Get-LabCpuMs $Lab
        # (Not $lab: a variable of that name here would shadow the caller's $lab inside $Work.)
        $labMs = $l1 - $l0; $clientMs = ($c1 - $c0).TotalMilliseconds
        $walls += $sw.Elapsed.TotalSeconds; $labs += $labMs; $clients += $clientMs
        $floors += ($labMs + $clientMs) / $cores / 1000
    }
    [pscustomobject]@{ Wall = (Get-Median $walls); Floor = (Get-Median $floors); LabCpuMs = (Get-Median $labs); ClientCpuMs = (Get-Median $clients); Cores = $cores; Output = $out }
}

# A fan-out target's name for the tables: a host's Name, a session's VMHost.
function Get-TargetName($Target) {
    foreach ($p in 'Name', 'VMHost') { if ($Target.PSObject.Properties[$p]) { return [string]$Target.$p } }
    "$Target"
}

# Each target alone once, one after another: $Setup (not measured), then $Work, both given the
# target. Returns Target, Seconds per target; Measure-Chain picks the slowest from them.
function Measure-Alone([object[]] $Targets, [scriptblock] $Work, [scriptblock] $Setup = {}) {
    foreach ($aloneTarget in $Targets) {
        & $Setup $aloneTarget
        $aloneSw = [Diagnostics.Stopwatch]::StartNew()
        $null = & $Work $aloneTarget
        $aloneSw.Stop()
        [pscustomobject]@{ Target = $aloneTarget; Seconds = $aloneSw.Elapsed.TotalSeconds }
    }
}

<#
    The chain floor of a fan-out: its operation on the slowest host of the set, alone. However many
    cores, a fan-out cannot end before its slowest host's own chain (its round trips and its host
    work, each waiting for the one before) has; against real hosts this bounds the wall time, not
    CPU. The slowest is found by running every target alone once (Measure-Alone; pass -Alone to
    reuse a pass, e.g. over a larger set), then that one alone $Runs times, each after $Setup and
    a quiet lab like the fan-out's own runs: the fastest of them, because other users of the
    machine only ever add to a wall time and a floor must not be raised by their load. Returns
    Seconds, Name, Hosts.
#>
function Measure-Chain([object[]] $Targets, [scriptblock] $Work, $Lab, [scriptblock] $Setup = {}, [int] $Runs = 5, [object[]] $Alone) {
    if (-not $Alone) { $Alone = @(Measure-Alone $Targets $Work $Setup) }
    $slowest = ($Alone | Sort-Object Seconds -Descending | Select-Object -First 1).Target
    $chainTimes = foreach ($i in 1..$Runs) {
        & $Setup $slowest
        Wait-LabQuiet $Lab
        $chainSw = [Diagnostics.Stopwatch]::StartNew()
        $null = & $Work $slowest
        $chainSw.Elapsed.TotalSeconds
    }
    [pscustomobject]@{ Seconds = ($chainTimes | Measure-Object -Minimum).Minimum; Name = (Get-TargetName $slowest); Hosts = $Alone.Count }
}

<#
    The fan-out efficiency figures: wall time against the CPU floor measured in the same runs and,
    given the chain (Measure-Chain), against the floor: the larger of the CPU floor and the
    slowest host's chain alone. Neither can be beaten; the wall time should stay within 1.15x.
#>
function FloorResult([string] $Measure, $Measured, $Chain) {
    $cores = $Measured.Cores
    Result "$Measure`: wall vs CPU floor" $Measured.Wall 's' ("CPU floor ((lab {0:N0} + client {1:N0} ms CPU) / {2} cores)" -f $Measured.LabCpuMs, $Measured.ClientCpuMs, $cores) $Measured.Floor '<= 1.15x' ($Measured.Wall -le 1.15 * $Measured.Floor)
    if ($Chain) {
        $floor = [Math]::Max($Measured.Floor, $Chain.Seconds)
        $what = "floor = max(CPU floor {0:N3} s, chain floor {1:N3} s: slowest of {2} hosts alone, {3})" -f $Measured.Floor, $Chain.Seconds, $Chain.Hosts, $Chain.Name
        Result "$Measure`: wall vs floor" $Measured.Wall 's' $what $floor '<= 1.15x' ($Measured.Wall -le 1.15 * $floor)
    }
}

<#
    What each lab host's sshd logged since $Since (Get-LabSshdLogLength): handshakes (one
    "Accepted <method> for" line per login) and, when its sshd runs at VERBOSE
    (Set-LabSshdLogLevel), remote commands: one "Starting session: command ... id N" line per exec
    request. N is the lowest session slot free on that connection (a slot is held until sshd
    closes the session), so the highest N + 1 is exactly how many sessions sshd held open at once.
    Returns Host, Handshakes, Commands, PeakOpen.
#>
function Get-LabSshdLogLength($LabHosts) {
    $length = @{}
    foreach ($h in $LabHosts) { $length[$h.name] = @(Get-Content -LiteralPath $h.sshdLog).Count }
    $length
}
function Get-LabSshdActivity($LabHosts, [hashtable] $Since) {
    foreach ($h in $LabHosts) {
        $new = @(Get-Content -LiteralPath $h.sshdLog | Select-Object -Skip $Since[$h.name])
        $ids = @($new | Select-String '^Starting session: command for .* id (\d+)$' | ForEach-Object { [int]$_.Matches[0].Groups[1].Value })
        [pscustomobject]@{
            Host = $h.name; Handshakes = @($new -match '^Accepted \S+ for ').Count; Commands = $ids.Count
            PeakOpen = if ($ids.Count) { ($ids | Measure-Object -Maximum).Maximum + 1 } else { 0 }
        }
    }
}

# What starting a process costs here (the caption's machine figure): 500 /bin/true, one after another.
function Measure-ProcessStart([int] $Count = 500) {
    $sw = [Diagnostics.Stopwatch]::StartNew()
    & /bin/sh -c "i=0; while [ `$i -lt $Count ]; do /bin/true; i=`$((i+1)); done"
    $sw.Elapsed.TotalSeconds
}
