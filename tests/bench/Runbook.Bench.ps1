<#
.SYNOPSIS
    Invoke-MtvRemediation at fleet scale: the diagnosis of every lab host and VM (what -WhatIf
    runs: log space, on-host log scan, CBT inspection) in parallel against one item at a time,
    beside its floor (the larger of the CPU floor and the slowest host's chain: that host's VMs
    alone), and SSH handshakes per host, measured in the same run against the lab.

.DESCRIPTION
    Uses every VM of the lab that lives on a host with an SSH endpoint (build.ps1 Bench starts
    at least 24 hosts with 2 VMs each). Sessions are opened once (Connect-EsxiShell) and reused:
    the handshake count comes from the hosts' sshd logs. Each host's wrapper log gets 1 MiB of
    records first so the scan has something to read. Nothing is changed (-WhatIf).
#>
[CmdletBinding()]
param([int] $HostCount = 24)   # not $Hosts: PowerShell names are case-insensitive, and $hosts below holds the host list

$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$root = Resolve-Path (Join-Path $PSScriptRoot '../..')
. (Join-Path $PSScriptRoot 'BenchHelpers.ps1')
Import-Module (Get-BenchManifest $root) -Force
. (Join-Path $root 'tests/lab/RunbookScene.ps1')

$hosts = @(Get-LabHost | Select-Object -First $HostCount)
$vms = @(Get-LabVM | Where-Object { $_.host -in $hosts.name })
if ($vms.Count -eq 0) { throw 'No lab VM on a host with an SSH endpoint.' }
foreach ($h in $hosts) { Reset-LabHost $h.name; $null = Add-LabWrapperLog -HostName $h.name -Bytes 1MB }

Connect-RunbookLab
try {
    # Warm up (JIT, TLS, first commands) on one VM so neither side pays it.
    $null = Invoke-MtvRemediation -VM $vms[0].name -PowerOff -Force -RegisterLogRotation -WhatIf 6>$null
    $logins = { ($hosts | ForEach-Object { @(Get-Content $_.sshdLog | Select-String 'Accepted ').Count } | Measure-Object -Sum).Sum }
    $loginsBefore = & $logins

    $names = $vms.name
    $serial = Measure-Command { $null = Invoke-MtvRemediation -VM $names -PowerOff -Force -RegisterLogRotation -WhatIf -ThrottleLimit 1 6>$null }
    $parallel = Measure-Command { $null = Invoke-MtvRemediation -VM $names -PowerOff -Force -RegisterLogRotation -WhatIf -ThrottleLimit 16 6>$null }
    $floor = Measure-FanOut { Invoke-MtvRemediation -VM $names -PowerOff -Force -RegisterLogRotation -WhatIf -ThrottleLimit 16 6>$null } (Get-MtvLab)
    # The chain floor: the runbook reads the hosts of the VMs it is given, so one host's chain is its VMs alone.
    $chains = @(foreach ($h in $hosts) { $on = @($vms | Where-Object host -EQ $h.name); if ($on) { [pscustomobject]@{ Name = $h.name; VMs = $on.name } } })
    $chain = Measure-Chain $chains { param($c) $null = Invoke-MtvRemediation -VM $c.VMs -PowerOff -Force -RegisterLogRotation -WhatIf -ThrottleLimit 16 6>$null } (Get-MtvLab)
    $handshakes = (& $logins) - $loginsBefore

    $ratio = $parallel.TotalSeconds / $serial.TotalSeconds
    $target = Get-ParallelTarget
    [pscustomobject]@{
        Benchmark = "Invoke-MtvRemediation -WhatIf, $($hosts.Count) hosts / $($vms.Count) VMs"; Measure = 'wall time (diagnosis + plan)'
        Value = [double]$parallel.TotalSeconds; Unit = 's'
        Baseline = '-ThrottleLimit 1'; BaselineValue = [double]$serial.TotalSeconds; Ratio = $ratio
        Target = ('<= {0:N2}x ({1:N1}x faster)' -f (1 / $target), $target); Met = $ratio -le 1 / $target
    }
    $BenchmarkName = "Invoke-MtvRemediation -WhatIf, $($hosts.Count) hosts / $($vms.Count) VMs"
    FloorResult 'diagnosis + plan, ThrottleLimit 16' $floor $chain
    [pscustomobject]@{
        Benchmark = "Invoke-MtvRemediation -WhatIf, $($hosts.Count) hosts / $($vms.Count) VMs"; Measure = 'SSH handshakes during the runs'
        Value = [double]$handshakes; Unit = 'logins'
        Baseline = 'one per host, already open'; BaselineValue = 0.0; Ratio = $null
        Target = '0 (sessions reused)'; Met = $handshakes -eq 0
    }
}
finally {
    Get-EsxiShell | Disconnect-EsxiShell
    Get-MtvVIServer | Disconnect-MtvVIServer
    foreach ($h in $hosts) { Reset-LabHost $h.name }
}
