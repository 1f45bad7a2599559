<#
.SYNOPSIS
    Growth: cold and warm scans (Connect-EsxiShell + Test-VmkfstoolsLogSpace) of 8, 24 and 72 lab
    hosts in one run; per-host wall time and client CPU at 72 against those at 24, each beside its
    CPU floor; and the client memory each open session costs.

.DESCRIPTION
    The lab hosts share the client's cores, so the wall time of a fleet grows with the fleet's CPU
    (lab + client) whatever the module does; what the module controls is that each host costs the
    same at 72 as at 24 (no per-host overhead that grows with the fleet) and that the wall time
    stays near the floor. Client CPU is this process's; lab CPU is the lab's own process trees
    (Get-LabCpuMs), so other users of the machine do not count. Memory: resident set after a full
    garbage collection (managed heap; the resident set beside it), with all sessions open against
    none, per session.
#>
[CmdletBinding()]
param([int[]] $Sizes = @(8, 24, 72), [int] $Runs = 3)

$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$root = Resolve-Path (Join-Path $PSScriptRoot '../..')
. (Join-Path $PSScriptRoot 'BenchHelpers.ps1')
Import-Module (Get-BenchManifest $root) -Force
Import-Module (Join-Path $root 'tests/lab/Lab.psm1') -Force
$lab = Get-MtvLab
$max = [int]($Sizes | Measure-Object -Maximum).Maximum   # [int]: Measure-Object gives a double, and $m is keyed by int
if (@($lab.hosts).Count -lt $max) { throw "the lab runs $(@($lab.hosts).Count) hosts; this benchmark needs $max (build.ps1 Bench starts 72)" }
$all = @($lab.hosts | ForEach-Object { [pscustomobject]@{ Name = $_.name; Address = $_.address; Port = [int]$_.port } })
$keyUser = [pscredential]::new($lab.ssh.user, [securestring]::new())
$BenchmarkName = 'Fleet growth'   # read by Result (BenchHelpers.ps1)

function Connect-Fleet([object[]] $Targets) {
    $s = @($Targets | Connect-EsxiShell -Credential $keyUser -KeyFilePath $lab.ssh.keyFile -KnownHostsPath $lab.ssh.knownHostsFile)
    if ($s.Count -ne $Targets.Count) { throw "only $($s.Count) of $($Targets.Count) hosts connected" }
}
function Test-Fleet([object[]] $Targets) {
    $r = @($Targets.Name | Test-VmkfstoolsLogSpace)
    if ($r.Count -ne $Targets.Count) { throw "the scan returned $($r.Count) results for $($Targets.Count) hosts" }
}
function Get-RssAfterGc { [GC]::Collect(); [GC]::WaitForPendingFinalizers(); [GC]::Collect(); (Get-ProcStatusKiB 'VmRSS') * 1KB }

try {
    Set-LabSlowness 0
    $disconnect = { Disconnect-EsxiShell -All -Confirm:$false }
    & $disconnect
    # The chain floors: every host of the largest set alone once, cold and warm; each size's slowest
    # host among its own hosts is then measured alone again (BenchHelpers.ps1 Measure-Chain).
    $coldOne = { param($h) Connect-Fleet @($h); Test-Fleet @($h) }
    $warmOne = { param($h) Test-Fleet @($h) }
    $largest = $all[0..($max - 1)]
    $coldAlone = @(Measure-Alone $largest $coldOne $disconnect)
    Connect-Fleet $largest
    $warmAlone = @(Measure-Alone $largest $warmOne)
    & $disconnect
    $m = @{}
    foreach ($n in $Sizes) {
        $t = $all[0..($n - 1)]
        $cold = Measure-FanOut { Connect-Fleet $t; Test-Fleet $t } $lab -Runs $Runs -Setup $disconnect -Width $n
        $coldChain = Measure-Chain $t $coldOne $lab -Setup $disconnect -Alone $coldAlone[0..($n - 1)]
        Connect-Fleet $t
        $warm = Measure-FanOut { Test-Fleet $t } $lab -Runs $Runs -Width $n
        $warmChain = Measure-Chain $t $warmOne $lab -Alone $warmAlone[0..($n - 1)]
        & $disconnect
        $m[$n] = @{ Cold = $cold; Warm = $warm }
        FloorResult "cold scan of $n hosts" $cold $coldChain
        FloorResult "warm scan of $n hosts" $warm $warmChain
    }
    $a = 24; $b = $max
    if ($m.ContainsKey($a) -and $a -ne $b) {
        foreach ($kind in 'Cold', 'Warm') {
            $perA = $m[$a][$kind].Wall / $a; $perB = $m[$b][$kind].Wall / $b
            Result "$($kind.ToLower()) scan: wall time per host at $b hosts" ($perB * 1000) 'ms' "per host at $a hosts" ($perA * 1000) '<= 1.2x' ($perB -le 1.2 * $perA)
            $cpuA = $m[$a][$kind].ClientCpuMs / $a; $cpuB = $m[$b][$kind].ClientCpuMs / $b
            Result "$($kind.ToLower()) scan: client CPU per host at $b hosts" $cpuB 'ms' "per host at $a hosts" $cpuA '<= 1.2x' ($cpuB -le 1.2 * $cpuA)
        }
    }

    # Client memory per open session: all $max sessions open against none. The managed heap after
    # a full collection is the figure (the sessions' objects and buffers); the resident set moves
    # by whole GC segments the runtime keeps or returns, so its difference is shown beside it only
    # (it can even come out negative).
    $heapNone = [GC]::GetTotalMemory($true); $rssNone = Get-RssAfterGc
    Connect-Fleet $all[0..($max - 1)]
    $heapOpen = [GC]::GetTotalMemory($true); $rssOpen = Get-RssAfterGc
    Result "client managed memory per open session ($max open)" (($heapOpen - $heapNone) / $max / 1KB) 'KiB' ("managed heap with no session (resident set {0:N0} KiB, {1:N1} KiB per session)" -f ($rssNone / 1KB), (($rssOpen - $rssNone) / $max / 1KB)) ($heapNone / 1KB) 'reported only' $true
}
finally {
    Disconnect-EsxiShell -All -Confirm:$false
}
