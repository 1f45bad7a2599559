<#
.SYNOPSIS
    Invoke-MtvRemediation at fleet scale: the diagnosis of every lab host and VM (what -WhatIf
    runs: log space, on-host log scan, CBT inspection) in parallel against one item at a time,
    beside its floor, and the SSH round trips it makes per host, measured in the same run against
    the lab.

.DESCRIPTION
    Uses every VM of the lab that lives on one of the first $HostCount hosts (build.ps1 Bench
    starts at least 24 hosts with 2 VMs each). Sessions are opened once (Connect-EsxiShell) and
    reused. Each host's wrapper log gets 1 MiB of records first so the scan has something to read.
    Nothing is changed (-WhatIf).
    - Wall time with -ThrottleLimit 16 against -ThrottleLimit 1; beside its CPU floor and its
      floor: the larger of the CPU floor and the slowest host's chain (that host's VMs alone).
    - Round trips per host, counted by the hosts, not by the module: for one more -WhatIf run the
      hosts' sshd log at VERBOSE (Set-LabSshdLogLevel), which writes one line per remote command
      ("Starting session: command ... id N") and one per login ("Accepted <method> for"). The
      sessions are reopened for it (a connection keeps the log level it was opened with); the
      timed runs above ran at the lab's default INFO.
#>
[CmdletBinding()]
param([int] $HostCount = 24)   # not $Hosts: PowerShell names are case-insensitive, and $hosts below holds the host list

$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$root = Resolve-Path (Join-Path $PSScriptRoot '../..')
. (Join-Path $PSScriptRoot 'BenchHelpers.ps1')
Import-Module (Get-BenchManifest $root) -Force
. (Join-Path $root 'tests/lab/RunbookScene.ps1')

$lab = Get-MtvLab
$hosts = @(Get-LabHost | Select-Object -First $HostCount)
$vms = @(Get-LabVM | Where-Object { $_.host -in $hosts.name })
if ($vms.Count -eq 0) { throw 'No lab VM on a host with an SSH endpoint.' }
# The runbook reads the hosts of the VMs it is given: one chain per such host, its VMs.
$chains = @(foreach ($h in $hosts) { $on = @($vms | Where-Object host -EQ $h.name); if ($on) { [pscustomobject]@{ Name = $h.name; VMs = $on.name } } })
foreach ($h in $hosts) { Reset-LabHost $h.name; $null = Add-LabWrapperLog -HostName $h.name -Bytes 1MB }

$BenchmarkName = "Invoke-MtvRemediation -WhatIf, $($hosts.Count) hosts / $($vms.Count) VMs"   # read by Result (BenchHelpers.ps1)
function Invoke-WhatIfRun([string[]] $Names, [int] $Throttle = 16) {
    $null = Invoke-MtvRemediation -VM $Names -PowerOff -Force -RegisterLogRotation -WhatIf -ThrottleLimit $Throttle 6>$null
}

Set-LabSshdLogLevel Info
Connect-RunbookLab
try {
    # Warm up (JIT, TLS, first commands) on one VM so neither side pays it.
    Invoke-WhatIfRun $vms[0].name
    $logBefore = Get-LabSshdLogLength $hosts

    $names = $vms.name
    $serial = Measure-Command { Invoke-WhatIfRun $names 1 }
    $parallel = Measure-Command { Invoke-WhatIfRun $names 16 }
    $fanOut = Measure-FanOut { Invoke-WhatIfRun $names 16 } $lab
    $chain = Measure-Chain $chains { param($c) Invoke-WhatIfRun $c.VMs 16 } $lab
    $handshakes = (Get-LabSshdActivity $hosts $logBefore | Measure-Object Handshakes -Sum).Sum

    $target = Get-ParallelTarget
    Result 'wall time (diagnosis + plan)' $parallel.TotalSeconds 's' '-ThrottleLimit 1' $serial.TotalSeconds ('<= {0:N2}x ({1:N1}x faster)' -f (1 / $target), $target) ($parallel.TotalSeconds -le $serial.TotalSeconds / $target)
    FloorResult 'diagnosis + plan, ThrottleLimit 16' $fanOut $chain
    Result 'SSH handshakes during the runs' $handshakes 'logins' 'one per host, already open' 0 '0 (sessions reused)' ($handshakes -eq 0)

    # Round trips per host: one more run, its commands counted by the hosts' sshd.
    Get-EsxiShell | Disconnect-EsxiShell
    Set-LabSshdLogLevel Verbose
    Connect-RunbookLab
    $logBefore = Get-LabSshdLogLength $hosts
    Invoke-WhatIfRun $names 16
    $read = @(Get-LabSshdActivity $hosts $logBefore | Where-Object Host -In $chains.Name)
    $commands = $read | Measure-Object Commands -Minimum -Maximum
    $perHostLogins = $read | Measure-Object Handshakes -Maximum
    $open = $read | Measure-Object PeakOpen -Minimum -Maximum
    $spread = { param($m) if ($m.Minimum -eq $m.Maximum) { "$($m.Maximum)" } else { "$($m.Minimum) to $($m.Maximum)" } }
    # What one host read asks for here, each piece one remote command at best: space probe, wrapper
    # inventory, log scan and, for -RegisterLogRotation, the crontab (agent risk only with -RestartAgents).
    $pieces = 4
    $what = "pieces of one host read: space probe, wrapper inventory, log scan, crontab (per host: {0} commands, sshd held {1} sessions at once)" -f (& $spread $commands), (& $spread $open)
    Result 'remote commands per host, one run (sshd VERBOSE log; most on a host)' $commands.Maximum 'commands' $what $pieces '1x: one per piece, on every host' ($commands.Maximum -eq $pieces -and $commands.Minimum -eq $pieces)
    Result 'SSH handshakes per host, one run (most on a host)' $perHostLogins.Maximum 'logins' 'sessions opened before the run' 0 '0 (sessions reused)' ($perHostLogins.Maximum -eq 0)
}
finally {
    Get-EsxiShell | Disconnect-EsxiShell
    Get-MtvVIServer | Disconnect-MtvVIServer
    Set-LabSshdLogLevel Info
    foreach ($h in $hosts) { Reset-LabHost $h.name }
}
