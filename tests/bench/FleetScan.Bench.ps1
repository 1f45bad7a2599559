<#
.SYNOPSIS
    Fleet scan: Test-VmkfstoolsLogSpace over the lab's hosts (24 by default), cold, slow and warm,
    each against a baseline measured in this same run.

.DESCRIPTION
    (a) Cold: connect (handshake, key login) and scan every host, against a sequential loop of the
        OpenSSH ssh client that logs in to each host with the same key and known_hosts file and
        runs the exact probe script the cmdlet sends (LogSpaceProbe.BuildCommand).
    (b) Slow hosts (latency hiding): the lab's stub commands (vdf, esxcli...) sleep 1 s per call,
        like distant hosts; the whole fleet with -ThrottleLimit 24 against one host's scan,
        sessions open for both, beside the slowed fleet's CPU floor and the time the slowing
        added to the fleet against the time it added to one host (the part the module controls).
    (c) Warm re-scan (sessions open): the whole fleet against one warm single-host scan.
    Cold and warm also stand beside their CPU floor measured in the same runs (Measure-FanOut):
    the lab hosts run on the client's cores, so (lab + client CPU) / cores bounds the wall time.
    Each figure is the median of several runs after a warm-up run.
#>
[CmdletBinding()]
param([int] $Hosts = 24, [int] $Runs = 5, [int] $SlowMs = 1000)

$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$root = Resolve-Path (Join-Path $PSScriptRoot '../..')
. (Join-Path $PSScriptRoot 'BenchHelpers.ps1')
# Engines are internal: this bench drives one directly through the module's assembly.
. (Join-Path $PSScriptRoot '../tools/InternalTypes.ps1')
$manifest = Get-BenchManifest $root
Import-Module $manifest -Force
Import-Module (Join-Path $root 'tests/lab/Lab.psm1') -Force
$lab = Get-MtvLab
$labHosts = @($lab.hosts | Select-Object -First $Hosts | ForEach-Object { [pscustomobject]@{ Name = $_.name; Address = $_.address; Port = [int]$_.port; User = $_.user } })
if ($labHosts.Count -lt $Hosts) { throw "the lab runs $($labHosts.Count) hosts; this benchmark needs $Hosts (lab.sh start --hosts $Hosts)" }
$key = $lab.ssh.keyFile
$knownHosts = $lab.ssh.knownHostsFile
# Key login for both sides (the credential names the user; its empty password = no key passphrase).
$keyUser = [pscredential]::new($lab.ssh.user, [securestring]::new())

$BenchmarkName = "Fleet scan x$($labHosts.Count)"   # read by Result (BenchHelpers.ps1)

# Median wall time (seconds) of $Runs runs of $Work after one warm-up run; $Check validates each output.
function Measure-Median([scriptblock] $Work, [scriptblock] $Setup = {}, [int] $Count = $Runs) {
    & $Setup; $null = & $Work
    $t = foreach ($i in 1..$Count) {
        & $Setup
        $sw = [Diagnostics.Stopwatch]::StartNew()
        $null = & $Work
        $sw.Elapsed.TotalSeconds
    }
    Get-Median $t
}

function Connect-Fleet([object[]] $Targets, [int] $Throttle = 32) {
    $s = @($Targets | Connect-EsxiShell -Credential $keyUser -KeyFilePath $key -KnownHostsPath $knownHosts -ThrottleLimit $Throttle)
    if ($s.Count -ne $Targets.Count) { throw "only $($s.Count) of $($Targets.Count) hosts connected" }
}

function Test-Fleet([object[]] $Targets, [int] $Throttle = 32) {
    $r = @($Targets.Name | Test-VmkfstoolsLogSpace -ThrottleLimit $Throttle)
    if ($r.Count -ne $Targets.Count -or @($r | Where-Object { -not $_.VolumeSizeBytes }).Count) { throw "the scan returned $($r.Count) complete results for $($Targets.Count) hosts" }
    $r
}

# The exact script the cmdlet runs on each host (default -LogPath), for the OpenSSH baseline.
$probe = (Get-MtvInternalType 'MtvRemediation.HostLog.LogSpaceProbe')::BuildCommand([Activator]::CreateInstance((Get-MtvInternalType 'MtvRemediation.HostLog.LogSpaceOptions'))).Text
function Invoke-OpenSshLoop {
    foreach ($h in $labHosts) {
        $out = & ssh -i $key -o "UserKnownHostsFile=$knownHosts" -o StrictHostKeyChecking=yes -o BatchMode=yes -o LogLevel=ERROR -p $h.Port "$($h.User)@$($h.Address)" $probe
        if ($LASTEXITCODE -ne 0 -or -not ($out -contains '@@end')) { throw "ssh to $($h.Name) failed ($LASTEXITCODE)" }
    }
}

try {
    Set-LabSlowness 0
    Disconnect-EsxiShell -All -Confirm:$false

    # (a) Cold: handshakes included, side by side with the sequential OpenSSH loop.
    $disconnect = { Disconnect-EsxiShell -All -Confirm:$false }
    $cold = Measure-Median -Setup $disconnect { Connect-Fleet $labHosts; Test-Fleet $labHosts }
    $openssh = Measure-Median { Invoke-OpenSshLoop }
    Result 'cold scan (connect + probe)' $cold 's' 'sequential OpenSSH ssh loop, same probe' $openssh '<= 0.25x (>= 4x faster)' ($cold * 4 -le $openssh)

    # (c) Warm: sessions open.
    Connect-Fleet $labHosts
    $warmOne = Measure-Median { Test-Fleet $labHosts[0..0] }
    $warmAll = Measure-Median { Test-Fleet $labHosts }
    Result 'warm re-scan (sessions open)' $warmAll 's' 'one host, warm' $warmOne '<= 3x' ($warmAll -le 3 * $warmOne)
    # Where the time goes: the floor of each, from the lab's and this process's CPU in the same runs.
    # The chain floor: the slowest host's own scan, alone (BenchHelpers.ps1 Measure-Chain).
    $coldOne = { param($t) Connect-Fleet @($t); Test-Fleet @($t) }
    $warmOneHost = { param($t) Test-Fleet @($t) }
    FloorResult 'cold scan (connect + probe)' (Measure-FanOut { Connect-Fleet $labHosts; Test-Fleet $labHosts } $lab -Setup $disconnect) (Measure-Chain $labHosts $coldOne $lab -Setup $disconnect)
    Connect-Fleet $labHosts
    $warm = Measure-FanOut { Test-Fleet $labHosts } $lab -Runs $Runs
    FloorResult 'warm re-scan (sessions open)' $warm (Measure-Chain $labHosts $warmOneHost $lab)
    $one = Measure-FanOut { Test-Fleet $labHosts[0..0] } $lab -Runs $Runs -Width 1
    Result 'warm re-scan: client CPU per host' ($warm.ClientCpuMs / $labHosts.Count) 'ms' 'one host, warm' $one.ClientCpuMs '<= 1x (no per-host overhead)' ($warm.ClientCpuMs / $labHosts.Count -le $one.ClientCpuMs)
    Result 'warm re-scan: lab host CPU per probe (sshd + BusyBox)' ($warm.LabCpuMs / $labHosts.Count) 'ms' 'client CPU per host' ($warm.ClientCpuMs / $labHosts.Count) 'reported only' $true

    # (b) Slow hosts: every stub call sleeps $SlowMs ms; throttle = host count.
    Set-LabSlowness $SlowMs
    $slowOne = Measure-Median { Test-Fleet $labHosts[0..0] }
    $slow = Measure-FanOut { Test-Fleet $labHosts $labHosts.Count } $lab -Runs $Runs
    $slowAll = $slow.Wall
    Result "hosts slowed $SlowMs ms/call, ThrottleLimit $($labHosts.Count)" $slowAll 's' 'one slowed host' $slowOne '<= 1.3x' ($slowAll -le 1.3 * $slowOne)
    # On this machine the slowed fleet's CPU (lab hosts on the client's cores) adds to its sleeps:
    # the hosts start together, so their CPU bursts meet between the same sleeps. Beside it, what
    # the module controls: the time the slowing ADDED to the fleet (slowed minus warm, both
    # measured here) against the time it added to one host. Hosts run one after another would add
    # $($labHosts.Count)x; latency fully hidden adds no more than to one host.
    Result "hosts slowed: their CPU floor ((lab $('{0:N0}' -f $slow.LabCpuMs) + client $('{0:N0}' -f $slow.ClientCpuMs) ms CPU) / $($slow.Cores) cores)" $slow.Floor 's' 'one slowed host' $slowOne 'reported only' $true
    Result "latency hiding: time $SlowMs ms/call added to $($labHosts.Count) hosts (slowed - warm)" ($slowAll - $warmAll) 's' 'time it added to one host' ($slowOne - $warmOne) '<= 1.3x' (($slowAll - $warmAll) -le 1.3 * ($slowOne - $warmOne))
}
finally {
    Set-LabSlowness 0
    Disconnect-EsxiShell -All -Confirm:$false
}
