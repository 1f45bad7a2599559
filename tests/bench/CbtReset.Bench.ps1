<#
.SYNOPSIS
    CBT inspection and reset at fleet scale: SOAP round trips per VM and wall time, 100 VMs in one
    call against 1 VM per call, measured in the same run against the lab's vcsim.

.DESCRIPTION
    Creates 100 powered-off VMs (one disk each, a planted disk1-ctk.vmdk) on the lab's standalone
    host through raw SOAP, measures, and destroys them again. The lab's default inventory is too
    small for this (MTVLAB_VMS_PER_HOST raises it, but build.ps1 Bench does not set it), so the
    benchmark brings its own VMs.

    Figures: round trips per VM (from VIConnection.RoundTrips) and wall time for
    Get-VMChangeTracking and Reset-VMChangeTracking, each with its one-VM-per-call baseline.
#>
[CmdletBinding()]
param([int] $Count = 100)

$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$root = Resolve-Path (Join-Path $PSScriptRoot '../..')
. (Join-Path $root 'tests/Pester/PowerCliFixture.ps1')
. (Join-Path $PSScriptRoot 'BenchHelpers.ps1')
Import-Module (Get-BenchManifest $root) -Force

Import-Module (Join-Path $root 'tests/lab/Lab.psm1') -Force
$lab = Get-MtvLab
$raw = New-VcsimSoapSession $lab
$placement = Get-VcsimPlacement $raw $lab
$prefix = 'mtvbench-{0}' -f (Get-Random -Maximum 99999)
$vcUri = [uri]$lab.vcsim.url
$cred = Get-LabVCenterCredential $lab
$conn = Connect-MtvVIServer -Server $vcUri.Host -Port $vcUri.Port -Credential $cred -SkipCertificateCheck -WarningAction SilentlyContinue

$vms = [System.Collections.Generic.List[object]]::new()
try {
    foreach ($i in 1..$Count) {
        $vm = New-VcsimVM $raw $placement ('{0} {1:000}' -f $prefix, $i)
        New-Item -ItemType File -Path (Join-Path $vm.Dir 'disk1-ctk.vmdk') -Force | Out-Null
        $vms.Add($vm)
    }
    # Warm up (JIT, TLS session, datacenter map) so neither side pays it.
    Get-VMChangeTracking -VM $vms[0].Name | Out-Null

    function Measure-Call([scriptblock] $Action) {
        $trips = $conn.RoundTrips
        $byMethod = $conn.GetRoundTripsByMethod()
        $sw = [System.Diagnostics.Stopwatch]::StartNew()
        & $Action | Out-Null
        $sw.Stop()
        $after = $conn.GetRoundTripsByMethod()
        $delta = [ordered]@{}
        foreach ($k in $after.Keys) { $d = $after[$k] - $(if ($byMethod.ContainsKey($k)) { $byMethod[$k] } else { 0 }); if ($d) { $delta[$k] = $d } }
        Write-Verbose ("{0} round trips: {1}" -f ($conn.RoundTrips - $trips), (($delta.GetEnumerator() | ForEach-Object { "$($_.Key)=$($_.Value)" }) -join ', '))
        [pscustomobject]@{ Seconds = $sw.Elapsed.TotalSeconds; Trips = $conn.RoundTrips - $trips; ByMethod = $delta }
    }

    # Baseline: one VM per call (what a foreach loop over Get-VM output does), over 10 VMs, scaled.
    $sample = $vms | Select-Object -First 10
    $one = Measure-Call { foreach ($v in $sample) { Get-VMChangeTracking -VM $v.Name } }
    $all = Measure-Call { Get-VMChangeTracking -VM "$prefix *" -ThrottleLimit 8 }

    $oneReset = Measure-Call { foreach ($v in $sample) { Reset-VMChangeTracking -VM $v.Name -Confirm:$false } }
    foreach ($v in $sample) { New-Item -ItemType File -Path (Join-Path $v.Dir 'disk1-ctk.vmdk') -Force | Out-Null }
    $allReset = Measure-Call { Reset-VMChangeTracking -VM "$prefix *" -ThrottleLimit 8 -Confirm:$false }
    $left = @($vms | Where-Object { Test-Path -LiteralPath (Join-Path $_.Dir 'disk1-ctk.vmdk') }).Count
    if ($left -ne 0) { throw "$left VMs still have their disk1-ctk.vmdk after the reset" }

    $n = $sample.Count
    # Property reads: RetrievePropertiesEx (+Continue...). Tasks are waited for with the
    # PropertyCollector's WaitForUpdatesEx, not polled with RetrievePropertiesEx, so every one of
    # these is a read of VMs, hosts or datastores.
    function Get-VMReads($m) {
        $reads = 0
        foreach ($k in $m.ByMethod.Keys) {
            if ($k -like '*RetrievePropertiesEx') { $reads += $m.ByMethod[$k] }
        }
        $reads
    }
    foreach ($r in @(
            @{ B = 'Get-VMChangeTracking'; One = $one; All = $all; T = 10 }
            @{ B = 'Reset-VMChangeTracking'; One = $oneReset; All = $allReset; T = 10 }
        )) {
        $perVmAll = $r.All.Trips / $Count
        $perVmOne = $r.One.Trips / $n
        [pscustomobject]@{
            Benchmark = "$($r.B) x$Count"; Measure = 'SOAP round trips per VM (amortised)'; Value = [double]$perVmAll; Unit = 'trips'
            Baseline = '1 VM per call'; BaselineValue = [double]$perVmOne; Ratio = $perVmAll / $perVmOne
            Target = "<= $($r.T) per VM"; Met = $perVmAll -le $r.T
        }
        $readsAll = Get-VMReads $r.All
        $readsOne = (Get-VMReads $r.One) / $n
        [pscustomobject]@{
            Benchmark = "$($r.B) x$Count"; Measure = "property reads, all $Count VMs"; Value = [double]$readsAll; Unit = 'reads'
            Baseline = 'one call for 1 VM'; BaselineValue = [double]$readsOne; Ratio = $readsAll / $readsOne
            Target = 'constant (= one VM''s)'; Met = $readsAll -le $readsOne
        }
        $wallAll = $r.All.Seconds
        $wallOneScaled = $r.One.Seconds / $n * $Count
        [pscustomobject]@{
            Benchmark = "$($r.B) x$Count"; Measure = 'wall time'; Value = [double]$wallAll; Unit = 's'
            Baseline = "1 VM per call x$Count (scaled from $n)"; BaselineValue = [double]$wallOneScaled; Ratio = $wallAll / $wallOneScaled
            Target = '< 0.5x the per-VM loop'; Met = ($wallAll / $wallOneScaled) -lt 0.5
        }
        [pscustomobject]@{
            Benchmark = "$($r.B) x$Count"; Measure = 'wall time vs one VM'; Value = [double]$wallAll; Unit = 's'
            Baseline = '1 VM, one call'; BaselineValue = [double]($r.One.Seconds / $n); Ratio = $wallAll / ($r.One.Seconds / $n)
            Target = 'reported only'; Met = $true
        }
        Write-Verbose "$($r.B): x$Count $(($r.All.ByMethod.GetEnumerator() | ForEach-Object { "$($_.Key)=$($_.Value)" }) -join ', ')"
    }
}
finally {
    foreach ($vm in $vms) { try { Remove-VcsimVM $raw $vm } catch { Write-Warning "cleanup of $($vm.Name): $_" } }
    Get-MtvVIServer | Disconnect-MtvVIServer -Confirm:$false
    Remove-VcsimSoapSession $raw
}
