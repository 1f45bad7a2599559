# CBT reset on a vSAN datastore (issue 14.4), against the lab's vsanDatastore (tests/lab/vcsim/vsan.go):
# summary.type vsan, summary.url ds:///vmfs/volumes/vsan:<uuid>/, VM files in a directory named by
# the namespace object's UUID. What vSAN really does with a -ctk.vmdk delete is unverified
# (docs/field-sources.md#6-changed-block-tracking), so the module verifies every vSAN delete
# by listing; the partial delete is the lab's /ctl/vsan-keep-on-delete fault (the delete task
# succeeds, the file stays).
# The VMs used here are created by the tests and destroyed afterwards.

BeforeDiscovery {
    Import-Module (Join-Path $PSScriptRoot '../lab/Lab.psm1') -Force
    $script:NoLab = try { $null -eq (Get-MtvLab) } catch { $true }
}

Describe 'CBT reset on vSAN' -Tag Lab, Vsan -Skip:$NoLab {
    BeforeAll {
        $manifestPath = if ($env:MTV_MODULE_PATH) { $env:MTV_MODULE_PATH } else { Join-Path $PSScriptRoot '../../out/MtvRemediation/0.1.0/MtvRemediation.psd1' }
        Import-Module $manifestPath -Force
        Import-Module (Join-Path $PSScriptRoot '../lab/Lab.psm1') -Force
        . (Join-Path $PSScriptRoot 'PowerCliFixture.ps1')

        $lab = Get-MtvLab
        function Reset-Vcsim { Invoke-LabVcsimCtl reset | Out-Null; Invoke-LabVcsimCtl ctk-on-power-on @{ enabled = 1 } | Out-Null }
        Reset-Vcsim
        $raw = New-VcsimSoapSession $lab
        $placement = Get-VcsimVsanPlacement $raw $lab
        $ds = $placement.Datastore.name
        $prefix = 'mtvvsan-{0}' -f (Get-Random -Maximum 99999)
        $vcUri = [uri]$lab.vcsim.url
        $cred = Get-LabVCenterCredential $lab
        $null = Connect-MtvVIServer -Server $vcUri.Host -Port $vcUri.Port -Credential $cred -SkipCertificateCheck -WarningAction SilentlyContinue
        $created = [System.Collections.Generic.List[object]]::new()

        function New-VsanTestVM([string] $Suffix, [switch] $PowerOn) {
            $vm = New-VcsimVsanVM $raw $placement "$prefix-$Suffix" -PowerOn:$PowerOn
            $created.Add($vm)
            $vm
        }
        function Add-File([string] $Dir, [string] $Name, [string] $Text = 'stale change tracking file') { Set-Content -LiteralPath (Join-Path $Dir $Name) -Value $Text }
        function Get-Listing([string] $Dir) { @(Get-ChildItem -LiteralPath $Dir -Force | Sort-Object Name | ForEach-Object Name) }
    }

    AfterAll {
        if ($lab) { Invoke-LabVcsimCtl reset | Out-Null }
        foreach ($vm in $created) { try { Remove-VcsimVM $raw $vm } catch { Write-Warning "cleanup of $($vm.Name): $_" } }
        Get-MtvVIServer | Disconnect-MtvVIServer -Confirm:$false
        if ($raw) { Remove-VcsimSoapSession $raw }
    }

    It 'the lab''s vsanDatastore reports summary.type vsan and a vsan: URL, and its lab VM lives in a UUID directory' {
        $p = Get-VcsimProperty $raw 'Datastore' $placement.Datastore.moref 'summary.type', 'summary.url'
        $p['summary.type'].'#text' | Should -Be 'vsan'
        $p['summary.url'].'#text' | Should -Match '^ds:///vmfs/volumes/vsan:[0-9a-f]{16}-[0-9a-f]{16}/$'
        $labVm = @(Get-LabVM | Where-Object datastore -EQ $ds)[0]
        $labVm | Should -Not -BeNullOrEmpty
        $labVm.disks[0] | Should -Match "^\[$ds\] [0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/$($labVm.name)\.vmdk$"
        (Get-Item -LiteralPath (Join-Path $placement.Datastore.dir $labVm.name)).LinkTarget | Should -Be (Split-Path $labVm.localDir -Leaf)
        $s = Get-VMChangeTracking -VM $labVm.name
        @($s.Disks.File) | Should -Be @($labVm.disks)
        @($s.Disks.Datastore) | Should -Be @($ds)
    }

    It 'Reset-VMChangeTracking on a vSAN VM deletes only its own -ctk.vmdk, verified by listing the namespace directory' {
        $vm = New-VsanTestVM 'web' -PowerOn
        $other = New-VsanTestVM 'db'
        $own = "$($vm.Name)-ctk.vmdk"
        Add-File $vm.Dir $own
        Add-File $vm.Dir 'other.vmdk' 'a descriptor that is not this VM''s disk'
        Add-File $vm.Dir 'other-ctk.vmdk'                 # foreign: its descriptor exists, never touched
        Add-File $other.Dir "$($other.Name)-ctk.vmdk"     # another VM's namespace: never touched
        $otherBefore = Get-Listing $other.Dir

        $r = Reset-VMChangeTracking -VM $vm.Name -PowerOff -Force -Confirm:$false
        $r.Succeeded | Should -BeTrue -Because ($r.Steps -join "`n")
        @($r.DeletedFiles) | Should -Be @("[$ds] $($vm.Uuid)/$own")
        $r.Steps | Should -Contain "Verified by listing [$ds] $($vm.Uuid) (vSAN): the deleted -ctk.vmdk files are gone"
        # The listing came after the delete and before CBT was enabled again (KB order kept).
        $i = [array]::IndexOf([string[]]$r.Steps, "Verified by listing [$ds] $($vm.Uuid) (vSAN): the deleted -ctk.vmdk files are gone")
        $i | Should -BeGreaterThan ([array]::IndexOf([string[]]$r.Steps, "Deleted [$ds] $($vm.Uuid)/$own"))
        $i | Should -BeLessThan ([array]::IndexOf([string[]]$r.Steps, 'Powered on with CBT disabled (the disks are opened without CBT)'))
        $r.PowerStateAfter | Should -Be 'PoweredOn'
        $r.EnabledAfter | Should -BeTrue
        # The ctk beside the disk now is the one ESXi (the lab) created at the power-on, not the stale one.
        (Get-Content -LiteralPath (Join-Path $vm.Dir $own) -Raw) | Should -Match 'created at power-on'
        Test-Path -LiteralPath (Join-Path $vm.Dir 'other-ctk.vmdk') | Should -BeTrue
        Test-Path -LiteralPath (Join-Path $vm.Dir 'other.vmdk') | Should -BeTrue
        Get-Listing $other.Dir | Should -Be $otherBefore
    }

    It 'a vSAN delete that reports success but leaves the file is reported as a partial delete, with CBT left disabled' {
        $vm = New-VsanTestVM 'app' -PowerOn
        $own = "$($vm.Name)-ctk.vmdk"
        Add-File $vm.Dir $own
        Invoke-LabVcsimCtl vsan-keep-on-delete @{ file = $own } | Out-Null
        $start = [datetime]::UtcNow
        try {
            $r = Reset-VMChangeTracking -VM $vm.Name -PowerOff -Force -Confirm:$false -ErrorVariable errs -ErrorAction SilentlyContinue
        }
        finally { Invoke-LabVcsimCtl vsan-keep-on-delete @{ clear = 1 } | Out-Null }
        # vCenter saw a successful delete task: the fault is the file still being there.
        $deletes = @(Get-LabVcsimTask -Since $start | Where-Object name -EQ 'DeleteDatastoreFile')
        $deletes.Count | Should -Be 1
        $deletes[0].state | Should -Be 'success'
        Test-Path -LiteralPath (Join-Path $vm.Dir $own) | Should -BeTrue

        $r.Succeeded | Should -BeFalse
        $r.FailedStep | Should -Be 'DeleteCtkFiles'
        $r.Error | Should -Match 'partial delete'
        $r.Error | Should -Match ([regex]::Escape("[$ds] $($vm.Uuid)/$own"))
        @($r.DeletedFiles) | Should -BeNullOrEmpty -Because 'a file still listed is not reported as deleted'
        $r.EnabledAfter | Should -BeFalse -Because 'CBT is not enabled on top of a partial delete'
        $r.PowerStateAfter | Should -Be 'PoweredOn' -Because 'the original power state is restored after the failure'
        @($r.Steps) -join "`n" | Should -Not -Match 'Enabled CBT'
        @($errs | ForEach-Object FullyQualifiedErrorId) | Should -Contain 'ChangeTrackingResetFailed,MtvRemediation.Commands.ResetVMChangeTrackingCommand'

        # Nothing was hidden: the status shows the stale file with CBT off, and a re-run completes.
        $s = Get-VMChangeTracking -VM $vm.Name
        $s.Healthy | Should -BeFalse
        $s.Reason | Should -Match 'stale -ctk.vmdk files exist while CBT is disabled'
        $again = Reset-VMChangeTracking -VM $vm.Name -PowerOff -Force -Confirm:$false
        $again.Succeeded | Should -BeTrue -Because ($again.Steps -join "`n")
        (Get-Content -LiteralPath (Join-Path $vm.Dir $own) -Raw) | Should -Match 'created at power-on'
    }
}
