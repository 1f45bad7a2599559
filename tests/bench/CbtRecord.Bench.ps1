<#
.SYNOPSIS
    What the CBT reset's durable record (extraConfig mtvremediation.cbtReset, issue 22) costs a
    reset of 50 VMs: SOAP round trips per VM and wall time with the record against the same reset
    without it (the baseline, measured in this run through ChangeTrackingEngine.KeepRecords), for
    VMs that are off (the record rides on the two CBT reconfigures) and for running VMs reset with
    -PowerOff -Force (the record rides on the disable, done before the power-off, and needs one
    reconfigure of its own: its removal after the final power-on).

.DESCRIPTION
    The VMs (one disk, a planted disk1-ctk.vmdk) are created through raw SOAP and destroyed
    afterwards; vcsim runs the tasks synchronously here (no task times), so the wall time is the
    client's and vcsim's work, not vCenter's task durations.
#>
[CmdletBinding()]
param([int] $Count = 50, [int] $ThrottleLimit = 10)

$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$root = Resolve-Path (Join-Path $PSScriptRoot '../..')
. (Join-Path $root 'tests/Pester/PowerCliFixture.ps1')
. (Join-Path $PSScriptRoot 'BenchHelpers.ps1')
. (Join-Path $PSScriptRoot '../tools/InternalTypes.ps1')
Import-Module (Get-BenchManifest $root) -Force
Import-Module (Join-Path $root 'tests/lab/Lab.psm1') -Force

$lab = Get-MtvLab
Invoke-LabVcsimCtl reset | Out-Null
Invoke-LabVcsimCtl ctk-on-power-on @{ enabled = 1 } | Out-Null
$raw = New-VcsimSoapSession $lab
$placement = Get-VcsimPlacement $raw $lab
$prefix = 'mtvrecord-{0}' -f (Get-Random -Maximum 99999)
$vcUri = [uri]$lab.vcsim.url
$conn = Connect-MtvVIServer -Server $vcUri.Host -Port $vcUri.Port -Credential (Get-LabVCenterCredential $lab) -SkipCertificateCheck -WarningAction SilentlyContinue
$keep = (Get-MtvInternalType 'MtvRemediation.Cbt.ChangeTrackingEngine').GetProperty('KeepRecords', [Reflection.BindingFlags]'NonPublic,Static')

$vms = [System.Collections.Generic.List[object]]::new()
try {
    foreach ($i in 1..$Count) { $vms.Add((New-VcsimVM $raw $placement ('{0} {1:000}' -f $prefix, $i))) }
    Get-VMChangeTracking -VM $vms[0].Name | Out-Null # warm-up (JIT, TLS, datacenter map)

    function Measure-Reset([bool] $Records, [bool] $Running) {
        foreach ($v in $vms) {
            Set-VcsimVMPower $raw $v $(if ($Running) { 'On' } else { 'Off' })
            Set-Content -LiteralPath (Join-Path $v.Dir 'disk1-ctk.vmdk') -Value 'stale'
        }
        $keep.SetValue($null, $Records)
        try {
            $trips = $conn.RoundTrips
            $sw = [Diagnostics.Stopwatch]::StartNew()
            $r = @(Reset-VMChangeTracking -VM "$prefix *" -PowerOff:$Running -Force:$Running -ThrottleLimit $ThrottleLimit -Confirm:$false)
            $sw.Stop()
            $trips = $conn.RoundTrips - $trips
        }
        finally { $keep.SetValue($null, $true) }
        $failed = @($r | Where-Object { -not $_.Succeeded })
        if ($r.Count -ne $Count -or $failed.Count) { throw "reset: $($r.Count) results, $($failed.Count) failed: $($failed[0].Error)" }
        $left = @($vms | Where-Object { (Get-VcsimVMState $raw $_).ExtraConfig.ContainsKey('mtvremediation.cbtReset') }).Count
        if ($left) { throw "$left VMs kept the record after a reset that succeeded" }
        [pscustomobject]@{ Seconds = $sw.Elapsed.TotalSeconds; TripsPerVm = $trips / $Count }
    }

    foreach ($running in $false, $true) {
        $label = if ($running) { "Reset-VMChangeTracking x$Count -PowerOff (running VMs)" } else { "Reset-VMChangeTracking x$Count (VMs off)" }
        $base = Measure-Reset $false $running
        $new = Measure-Reset $true $running
        [pscustomobject]@{
            Benchmark = "$label, durable record"; Measure = 'SOAP round trips per VM'; Value = [double]$new.TripsPerVm; Unit = 'trips'
            Baseline = 'same reset without the record, same run'; BaselineValue = [double]$base.TripsPerVm; Ratio = $new.TripsPerVm / $base.TripsPerVm
            Target = '<= +0.1 trips per VM'; Met = ($new.TripsPerVm - $base.TripsPerVm) -le 0.1
        }
        [pscustomobject]@{
            Benchmark = "$label, durable record"; Measure = "wall time, -ThrottleLimit $ThrottleLimit"; Value = [double]$new.Seconds; Unit = 's'
            Baseline = 'same reset without the record, same run'; BaselineValue = [double]$base.Seconds; Ratio = $new.Seconds / $base.Seconds
            Target = '<= 1.05x (no measurable wall time)'; Met = ($new.Seconds / $base.Seconds) -le 1.05
        }
    }
}
finally {
    $keep.SetValue($null, $true)
    Invoke-LabVcsimCtl reset | Out-Null
    foreach ($vm in $vms) { try { Remove-VcsimVM $raw $vm } catch { Write-Warning "cleanup of $($vm.Name): $_" } }
    Get-MtvVIServer | Disconnect-MtvVIServer -Confirm:$false
    Remove-VcsimSoapSession $raw
}
