<#
.SYNOPSIS
    The MtvRemediation demo on the lab: a real MTV 2.10 failure (a host whose /var is full of the
    wrapper's per-poll log, the failed clone's task directory holding the 7228 stderr, the
    populator pod's log and the Migration JSON) and a VM with a stale ctk file; diagnosis, plan,
    remediation, after-state.

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
Write-Host ("Host {0}: /var {1}% used, {2} KiB free; /var/log/vmkfstools-wrapper.log is {3:N0} bytes of vsish/XCOPY poll lines; {4} failed clone task directory(ies) hold the 7228 stderr." -f $hostName, $before.VarUsePercent, $before.VarAvailableKB, $before.LogBytes, $before.Lines7228)
Write-Note (Invoke-LabHost $hostName 'tail -n 2 /var/log/vmkfstools-wrapper.log')
Write-Note (Invoke-LabHost $hostName 'for d in /tmp/vmkfstools-wrapper-*; do echo "$d: exitcode $(cat $d/exitcode), err: $(cat $d/err)"; done')
# The cluster side of the same failure (tests/fixtures/mtv/2.10, forklift's types and messages at v2.10.4), pointed at the scene's VM.
$fixtures = Join-Path $PSScriptRoot '../fixtures/mtv/2.10'
$migrationJson = (Get-Content (Join-Path $fixtures 'migration.json') -Raw) -replace 'vm-1013', $scene.Vm.moref -replace '"db01"', "`"$vmName`""
$podLog = Get-Content (Join-Path $fixtures 'populate-7c9e6679-7425-40de-944b-e07fc1f90ae7.log')
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

Write-Note 'oc logs -n openshift-mtv populate-7c9e6679-... | Find-MtvCloneFailure   (the populator pod''s log)'
Show ($podLog | Find-MtvCloneFailure | Where-Object Signature -NE 'XcopyNotUsed' | Format-List LineNumber, Signature, ExitCode, Line, Remediation)
Write-Note 'oc get migration wave3-db-kxq2p -n openshift-mtv -o json | ConvertFrom-MtvClusterObject'
Show ($migrationJson | ConvertFrom-MtvClusterObject | Format-List Name, VMId, Signature, Reason, PopulatorPod, Source)
Write-Note "Get-VmkfstoolsWrapper -VMHost $hostName"
Show (Get-VmkfstoolsWrapper -VMHost $hostName | Format-List VMHost, VibVersion, ScriptVersion, MtvVersion, LogsTo, TaskDirectoryCount, FailedTasks)

Write-Step '4. The plan: Invoke-MtvRemediation -WhatIf (changes nothing)'
Write-Note "oc get migration ... -o json | ConvertFrom-MtvClusterObject | Invoke-MtvRemediation -PowerOff -Force -RegisterLogRotation -WhatIf"
$plan = $migrationJson | ConvertFrom-MtvClusterObject | Invoke-MtvRemediation -PowerOff -Force -RegisterLogRotation -WhatIf
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
