<#
.SYNOPSIS
    Test-MtvWaveReadiness for a wave of 200 VMs on 24 hosts: wall time against its floor, SOAP round
    trips per VM and SSH commands per host, measured in one run against the lab (issue 24).

.DESCRIPTION
    The wave is every lab VM on the first $HostCount hosts, topped up to $VmCount with VMs created
    through raw SOAP round-robin on those hosts (destroyed afterwards). Sessions are opened once
    (Connect-EsxiShell) and reused; nothing is changed (the command only reads).
    - Wall time with -ThrottleLimit 16 against its floor: the larger of the CPU floor (lab + client
      CPU over the cores, same runs) and the slowest host's chain (that host's VMs alone).
    - SOAP round trips per VM, counted by the module's connection (every request it sent).
    - Remote commands per host, counted by the hosts' sshd at VERBOSE (one line per exec request).
#>
[CmdletBinding()]
param([int] $HostCount = 24, [int] $VmCount = 200)

$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$root = Resolve-Path (Join-Path $PSScriptRoot '../..')
. (Join-Path $PSScriptRoot 'BenchHelpers.ps1')
. (Join-Path $root 'tests/Pester/PowerCliFixture.ps1')
Import-Module (Get-BenchManifest $root) -Force
. (Join-Path $root 'tests/lab/RunbookScene.ps1')

$lab = Get-MtvLab
$hosts = @(Get-LabHost | Select-Object -First $HostCount)
$raw = New-VcsimSoapSession $lab
$created = [System.Collections.Generic.List[object]]::new()
try {
    $existing = @(Get-LabVM | Where-Object { $_.host -in $hosts.name })
    $placements = @{}
    $i = 0
    while ($existing.Count + $created.Count -lt $VmCount) {
        $h = $hosts[$i % $hosts.Count].name
        if (-not $placements[$h]) { $placements[$h] = Get-VcsimPlacement $raw $lab -HostName $h }
        $created.Add((New-VcsimVM $raw $placements[$h] ('mtvwave-{0:000} {1}' -f $i, $h)))
        $i++
    }
    $wave = @($existing | ForEach-Object { [pscustomobject]@{ Name = $_.name; Host = $_.host } }) +
            @($created | ForEach-Object { [pscustomobject]@{ Name = $_.Name; Host = $_.HostName } })
    $names = $wave.Name
    $chains = @(foreach ($h in $hosts) { $on = @($wave | Where-Object Host -EQ $h.name); if ($on) { [pscustomobject]@{ Name = $h.name; VMs = $on.Name } } })
    $BenchmarkName = "Test-MtvWaveReadiness, $($hosts.Count) hosts / $($names.Count) VMs"   # read by Result (BenchHelpers.ps1)
    function Invoke-Readiness([string[]] $Vms) { $null = Test-MtvWaveReadiness -VM $Vms -ThrottleLimit 16 -WarningAction SilentlyContinue }

    Set-LabSshdLogLevel Info
    Connect-RunbookLab
    $conn = @(Get-MtvVIServer)[0]
    Invoke-Readiness $names[0]   # warm-up (JIT, TLS, first commands)

    $fanOut = Measure-FanOut { Invoke-Readiness $names } $lab
    $chain = Measure-Chain $chains { param($c) Invoke-Readiness $c.VMs } $lab
    FloorResult 'readiness, ThrottleLimit 16' $fanOut $chain

    $trips = $conn.RoundTrips
    Invoke-Readiness $names
    $perVm = ($conn.RoundTrips - $trips) / $names.Count
    Result 'SOAP round trips per VM, one run' $perVm 'trips' "$($names.Count) VMs, $($hosts.Count) hosts" 1 '<= 1 per VM (amortised)' ($perVm -le 1)

    # Remote commands per host: one more run, counted by the hosts' sshd.
    Get-EsxiShell | Disconnect-EsxiShell
    Set-LabSshdLogLevel Verbose
    Connect-RunbookLab
    $logBefore = Get-LabSshdLogLength $hosts
    Invoke-Readiness $names
    $read = @(Get-LabSshdActivity $hosts $logBefore | Where-Object Host -In $chains.Name)
    $commands = $read | Measure-Object Commands -Minimum -Maximum
    Result 'remote commands per host, one run (sshd VERBOSE log; most on a host)' $commands.Maximum 'commands' ("space probe and readiness probe (fewest on a host: {0})" -f $commands.Minimum) 2 '<= 2 per host' ($commands.Maximum -le 2)
}
finally {
    Get-EsxiShell | Disconnect-EsxiShell
    Get-MtvVIServer | Disconnect-MtvVIServer
    Set-LabSshdLogLevel Info
    foreach ($vm in $created) { try { Remove-VcsimVM $raw $vm } catch { Write-Warning "cleanup of $($vm.Name): $_" } }
    Remove-VcsimSoapSession $raw
}
