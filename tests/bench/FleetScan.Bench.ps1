<#
.SYNOPSIS
    Fleet scan: Test-VmkfstoolsLogSpace over the lab's hosts (24 by default), cold, slow and warm,
    each against a baseline measured in this same run.

.DESCRIPTION
    (a) Cold: connect (handshake, key login) and scan every host, against a sequential loop of the
        OpenSSH ssh client that logs in to each host with the same key and known_hosts file and
        runs the exact probe script the cmdlet sends (LogSpaceProbe.BuildCommand).
    (b) Slow hosts: the lab's stub commands (vdf, esxcli...) sleep 250 ms per call; the whole
        fleet with -ThrottleLimit 24 against one host's scan, sessions open for both.
    (c) Warm re-scan (sessions open): the whole fleet against one warm single-host scan.
    Each figure is the median of several runs after a warm-up run.
#>
[CmdletBinding()]
param([int] $Hosts = 24, [int] $Runs = 5, [int] $SlowMs = 250)

$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$root = Resolve-Path (Join-Path $PSScriptRoot '../..')
. (Join-Path $PSScriptRoot 'BenchHelpers.ps1')
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
$probe = [MtvRemediation.Remediation.LogSpaceProbe]::BuildCommand([MtvRemediation.Remediation.LogSpaceOptions]::new()).Text
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
    # Where the warm time goes: this process's CPU per host (client side) for the fleet against one
    # host; the rest of the fleet's wall time is the lab hosts' own shells and sshds on the same cores.
    $proc = [Diagnostics.Process]::GetCurrentProcess()
    $cpuPerHost = {
        param($Targets)
        $proc.Refresh(); $c0 = $proc.TotalProcessorTime
        foreach ($i in 1..$Runs) { $null = Test-Fleet $Targets }
        $proc.Refresh(); ($proc.TotalProcessorTime - $c0).TotalMilliseconds / $Runs / $Targets.Count
    }
    $cpuOne = & $cpuPerHost $labHosts[0..0]
    $cpuAll = & $cpuPerHost $labHosts
    Result 'warm re-scan: client CPU per host' $cpuAll 'ms' 'one host, warm' $cpuOne '<= 1x (no per-host overhead)' ($cpuAll -le $cpuOne)
    # The lab hosts' side of it: the whole machine's busy CPU (/proc/stat, 10 ms ticks) minus this
    # process's, per probe. With both sides on these cores, the fleet cannot be faster than
    # (host + client CPU per probe) x hosts / cores, whatever the client does.
    $machineBusyMs = { $f = (Get-Content /proc/stat -TotalCount 1) -split '\s+'; ([long]$f[1] + [long]$f[2] + [long]$f[3] + [long]$f[6] + [long]$f[7]) * 10 }
    $proc.Refresh(); $c0 = $proc.TotalProcessorTime; $b0 = & $machineBusyMs
    foreach ($i in 1..$Runs) { $null = Test-Fleet $labHosts }
    $proc.Refresh(); $b1 = & $machineBusyMs
    $hostCpu = (($b1 - $b0) - ($proc.TotalProcessorTime - $c0).TotalMilliseconds) / $Runs / $labHosts.Count
    Result 'warm re-scan: lab host CPU per probe (sshd + BusyBox)' $hostCpu 'ms' 'client CPU per host' $cpuAll 'reported only' $true
    $cores = [Environment]::ProcessorCount
    $floor = ($hostCpu + $cpuAll) * $labHosts.Count / $cores / 1000
    Result "warm re-scan: CPU floor here ((host + client CPU) x $($labHosts.Count) / $cores cores)" $floor 's' 'measured warm re-scan' $warmAll 'reported only' $true

    # (b) Slow hosts: every stub call sleeps $SlowMs ms; throttle = host count.
    Set-LabSlowness $SlowMs
    $slowOne = Measure-Median { Test-Fleet $labHosts[0..0] }
    $slowAll = Measure-Median { Test-Fleet $labHosts $labHosts.Count }
    Result "hosts slowed $SlowMs ms/call, ThrottleLimit $($labHosts.Count)" $slowAll 's' 'one slowed host' $slowOne '<= 2x' ($slowAll -le 2 * $slowOne)
}
finally {
    Set-LabSlowness 0
    Disconnect-EsxiShell -All -Confirm:$false
}
