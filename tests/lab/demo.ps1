<#
.SYNOPSIS
    The MtvRemediation demo on the lab: a host whose /var is full of vmkfstools-wrapper log, a VM
    with a stale ctk file and the 7228 line in that log; diagnosis, plan, remediation, after-state.

.DESCRIPTION
    Run by `dotnet pwsh ./build.ps1 Demo` (which builds, starts the lab, runs this with
    MTV_MODULE_PATH set, and stops the lab). Can also be run on its own against a running lab.
    The scene is prepared without the module (tests/lab/RunbookScene.ps1); everything after that
    is the module talking SOAP to vcsim and SSH to the lab's sshd hosts. Exits 1 if the
    after-state is not healthy.
#>
#Requires -Version 7.2
$ErrorActionPreference = 'Stop'

$modulePath = if ($env:MTV_MODULE_PATH) { $env:MTV_MODULE_PATH } else { Join-Path $PSScriptRoot '../../out/MtvRemediation/0.1.0/MtvRemediation.psd1' }
Import-Module $modulePath -Force
. (Join-Path $PSScriptRoot 'RunbookScene.ps1')

function Write-Step([string] $Title) {
    Write-Host ''
    Write-Host ('=' * 100) -ForegroundColor DarkCyan
    Write-Host "  $Title" -ForegroundColor Cyan
    Write-Host ('=' * 100) -ForegroundColor DarkCyan
}
function Write-Note([string] $Text) { Write-Host $Text -ForegroundColor DarkGray }
function Show($InputObject) { $InputObject | Out-String -Width 160 | Write-Host }

if (-not (Get-MtvLab -ErrorAction SilentlyContinue)) { throw 'The lab is not running. Start it with: bash tests/lab/lab.sh start' }

Write-Step '1. The scene (prepared on the lab without the module)'
$scene = Set-RunbookScene
$hostName = $scene.Host.name
$vmName = $scene.Vm.name
$before = Get-RunbookSceneState $scene
Write-Host ("Host {0}: /var {1}% used, {2} KiB free; /var/log/vmkfstools-wrapper.log is {3:N0} bytes, {4} line(s) with (7228)." -f $hostName, $before.VarUsePercent, $before.VarAvailableKB, $before.LogBytes, $before.Lines7228)
Write-Host ("VM {0} (on {1}): {2}, CBT {3}, stale change tracking file {4} beside its disk." -f $vmName, $hostName, $before.PowerState, $(if ($before.Cbt) { 'enabled' } else { 'disabled' }), ($scene.Vm.disks[0] -replace '\.vmdk$', '-ctk.vmdk'))
Write-Note 'The lab VMs have no VMware Tools, so the CBT reset below needs -Force (hard power-off) besides -PowerOff.'

Write-Step '2. Connect: vCenter (vcsim) and the ESXi shells, host keys pinned from the lab'
Connect-RunbookLab
Show (Get-MtvVIServer)
Show (Get-EsxiShell)

Write-Step '3. Diagnosis'
Write-Note "Test-VmkfstoolsLogSpace -VMHost $hostName"
Show (Test-VmkfstoolsLogSpace -VMHost $hostName)
Write-Note "Get-VMChangeTracking -VM $vmName"
Show (Get-VMChangeTracking -VM $vmName | Format-List VM, VMHost, PowerState, Enabled, CtkFiles, Healthy, Reason)
$find = Get-Command Find-MtvCloneFailure
if ($find.Parameters.ContainsKey('VMHost')) {
    Write-Note "Find-MtvCloneFailure -VMHost $hostName   (scanned on the host; only matching lines cross the wire)"
    Show (Find-MtvCloneFailure -VMHost $hostName | Where-Object Signature -NE 'XcopyNotUsed' | Format-List Source, LineNumber, Signature, Line, Cause, Remediation)
}
else {
    $log = Join-Path $scene.Host.chrootPath 'var/log/vmkfstools-wrapper.log'
    Write-Note "Find-MtvCloneFailure -Path <the host's wrapper log, read from the lab host's file system>"
    Show (Find-MtvCloneFailure -Path $log | Where-Object Signature -NE 'XcopyNotUsed' | Format-List LineNumber, Signature, Line, Cause, Remediation)
}

Write-Step '4. The plan: Invoke-MtvRemediation -WhatIf (changes nothing)'
Write-Note "Invoke-MtvRemediation -VM $vmName -PowerOff -Force -RegisterLogRotation -WhatIf"
$plan = Invoke-MtvRemediation -VM $vmName -PowerOff -Force -RegisterLogRotation -WhatIf
Show $plan
$unchanged = Get-RunbookSceneState $scene
Write-Note ("After -WhatIf, read on the lab: /var {0}% used, log {1:N0} bytes, {2} rotation cron line(s), VM {3}, {4} ctk file(s)." -f $unchanged.VarUsePercent, $unchanged.LogBytes, $unchanged.CronLines, $unchanged.PowerState, $unchanged.CtkFiles.Count)

Write-Step '5. Remediation'
$reportDir = Join-Path $PSScriptRoot '../../out/demo'
Write-Note "Invoke-MtvRemediation -VM $vmName -PowerOff -Force -RegisterLogRotation -Confirm:`$false -ReportPath out/demo"
$result = Invoke-MtvRemediation -VM $vmName -PowerOff -Force -RegisterLogRotation -Confirm:$false -ReportPath $reportDir
Show $result
foreach ($r in $result) {
    $name = if ($r.PSObject.Properties['VM']) { "VM $($r.VM)" } else { "Host $($r.VMHost)" }
    Write-Host "$name - what was done:" -ForegroundColor White
    foreach ($a in $r.Actions) { Write-Host "  - $a" }
    foreach ($e in $r.Errors) { Write-Host "  ! $e" -ForegroundColor Red }
}
$report = Get-ChildItem -LiteralPath $reportDir -Filter 'mtv-remediation-*.html' | Sort-Object LastWriteTime | Select-Object -Last 1
if ($report) { Write-Note "Report: $($report.FullName) (and $([IO.Path]::ChangeExtension($report.Name, '.json')), log archive beside it)" }

Write-Step '6. After-state, read again'
Show (Test-VmkfstoolsLogSpace -VMHost $hostName)
Show (Get-VMChangeTracking -VM $vmName | Format-List VM, PowerState, Enabled, CtkFiles, Healthy, Reason)
Show (Get-LogRotationCron -VMHost $hostName)

Write-Step '7. Run it again: nothing left to do'
$again = Invoke-MtvRemediation -VM $vmName -PowerOff -Force -RegisterLogRotation -Confirm:$false
Show $again

$healthy = (Test-VmkfstoolsLogSpace -VMHost $hostName -Quiet) -and (Get-VMChangeTracking -VM $vmName).Healthy -and
    @($again | Where-Object Result -NE 'Healthy').Count -eq 0
Get-EsxiShell | Disconnect-EsxiShell
Get-MtvVIServer | Disconnect-MtvVIServer
if ($healthy) { Write-Host "`nHealthy: /var has room, CBT is reset and healthy, a re-run finds nothing to do." -ForegroundColor Green }
else { Write-Host "`nNOT healthy: see the output above." -ForegroundColor Red; exit 1 }
