# Issue 22: a run that dies or races leaves nothing a re-run cannot finish (CBT resets).
#
# Each case runs the real module in a child process (ChildClient.ps1), kills it with SIGKILL at a step the
# lab makes observable (a vCenter task of the VM, slowed by /ctl/task-time so the kill lands while
# the client waits for it), then checks the VM's state on vcsim and what the next run does.
# Case -> test:
#   1 killed after the power-off / after the disable ...... 'killed after the power-off of a running VM ...',
#                                                           'killed after the disable of a running VM, before its power-off ...'
#   1 the runbook's re-run ............................... 'the runbook never calls an interrupted VM healthy ...'
#   2 killed during KB's cycle of a VM that was off ....... 'killed during the KB power cycle of a VM that was off ...'
#   6 another admin powers the VM on during the reset ..... 'a power-on by another user during the reset is never undone ...'
#   9 a disk named data-ctk.vmdk beside data.vmdk ......... 'a disk whose name looks like a ctk file is never deleted ...'
#   issue 25 item 6: a stopped runbook writes its report .. 'Ctrl+C during Invoke-MtvRemediation still writes its report, marked incomplete ...'
#   listing and resuming .................................. Get-MtvPendingOperation in the tests above;
#                                                           'Get-MtvPendingOperation | Resume-MtvPendingOperation ...'

BeforeDiscovery {
    $script:LabUp = Test-Path (Join-Path $PSScriptRoot '../../out/lab/lab.json')
    if ($env:MTVLAB_STATE) { $script:LabUp = Test-Path $env:MTVLAB_STATE }
}

BeforeAll {
    $script:ManifestPath = if ($env:MTV_MODULE_PATH) { $env:MTV_MODULE_PATH } else { Join-Path $PSScriptRoot '../../out/MtvRemediation/0.1.0/MtvRemediation.psd1' }
    Import-Module $ManifestPath -Force
    Import-Module (Join-Path $PSScriptRoot '../lab/Lab.psm1') -Force
    . (Join-Path $PSScriptRoot 'HelpExample.ps1')
    . (Join-Path $PSScriptRoot 'ChildClient.ps1')
}

Describe 'Crash-safe CBT resets' -Tag Lab, Fault -Skip:(-not $LabUp) {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'PowerCliFixture.ps1')
        $script:VLab = Get-MtvLab
        Invoke-LabVcsimCtl reset | Out-Null
        $script:Raw = New-VcsimSoapSession $VLab
        $script:Placement = Get-VcsimPlacement $Raw $VLab
        $script:Prefix = 'mtvcrash-{0}' -f (Get-Random -Maximum 99999)
        $script:VcUri = [uri]$VLab.vcsim.url
        $script:VcCred = Get-LabVCenterCredential $VLab
        Connect-MtvVIServer -Server $VcUri.Host -Port $VcUri.Port -Credential $VcCred -SkipCertificateCheck -WarningAction SilentlyContinue | Out-Null
        $script:Created = [System.Collections.Generic.List[object]]::new()
        function New-CrashVM([string] $Suffix, [switch] $PowerOn) {
            $vm = New-VcsimVM $Raw $Placement "$Prefix $Suffix" -PowerOn:$PowerOn
            $Created.Add($vm)
            New-Item -ItemType File -Path (Join-Path $vm.Dir 'disk1-ctk.vmdk') -Force | Out-Null
            $vm
        }
        function Get-Record($Vm) { (Get-VcsimVMState $Raw $Vm).ExtraConfig['mtvremediation.cbtReset'] }

        # Runs Reset-VMChangeTracking (or any command) in a child pwsh and kills it (SIGKILL) as soon as
        # $KillWhen is true; returns how the child ended. The child never reaches its own cleanup.
        function Invoke-KilledClient([string] $Command, [scriptblock] $KillWhen, [int] $TimeoutSeconds = 60) {
            $p = Start-ChildPwsh @"
`$ErrorActionPreference = 'Stop'
Import-Module '$($ManifestPath -replace "'", "''")'
Import-Module '$((Join-Path $PSScriptRoot '../lab/Lab.psm1') -replace "'", "''")'
. '$((Join-Path $PSScriptRoot 'PowerCliFixture.ps1') -replace "'", "''")'
`$lab = Get-MtvLab
`$uri = [uri]`$lab.vcsim.url
Connect-MtvVIServer -Server `$uri.Host -Port `$uri.Port -Credential (Get-LabVCenterCredential `$lab) -SkipCertificateCheck -WarningAction SilentlyContinue | Out-Null
$Command
'finished'
"@
            $out = $p.StandardOutput.ReadToEndAsync()
            $err = $p.StandardError.ReadToEndAsync()
            $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSeconds)
            $killed = $false
            while (-not $p.HasExited -and [DateTime]::UtcNow -lt $deadline) {
                if (& $KillWhen) { $p.Kill($true); $killed = $true; break }
                Start-Sleep -Milliseconds 25
            }
            if (-not $p.HasExited) { $p.Kill($true) }
            $p.WaitForExit()
            [pscustomobject]@{ Killed = $killed; Output = $out.Result; Error = $err.Result }
        }
        # vcsim names its own (synchronous) tasks PowerOff/PowerOn after the VM's moref; the lab's
        # asynchronous ones PowerOffVM_Task... after the VM's name: either counts.
        function Test-TaskOf($Vm, [string] $Method, [string] $State) {
            @(Get-LabVcsimTask | Where-Object { $_.name -like "$Method*" -and $_.entityName -in @($Vm.Name, $Vm.MoRef) -and (-not $State -or $_.state -eq $State) }).Count -gt 0
        }
        # A running VM's reset -PowerOff -Force, its client killed once vCenter finished the power-off
        # (the ctk delete that follows runs 3 s as a vCenter task, so the kill lands while the client
        # waits for it); returns when vCenter has finished what the dead client had started.
        function Stop-ResetAfterPowerOff($Vm) {
            Invoke-LabVcsimCtl task-time @{ method = 'DeleteDatastoreFile_Task'; ms = 3000 } | Out-Null
            $run = Invoke-KilledClient "Reset-VMChangeTracking -VM '$($Vm.Name)' -PowerOff -Force -Confirm:`$false" -KillWhen { Test-TaskOf $Vm 'PowerOff' 'success' }
            $run.Killed | Should -BeTrue -Because "the client must die mid-reset (output: $($run.Output) $($run.Error))"
            Wait-NoRunningTask
            Invoke-LabVcsimCtl reset | Out-Null
        }
        function Wait-NoRunningTask([int] $TimeoutSeconds = 20) {
            $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSeconds)
            while (@(Get-LabVcsimTask | Where-Object { $_.state -in 'queued', 'running' }).Count -gt 0 -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 100 }
        }
    }

    AfterAll {
        if ($script:Raw) {
            Invoke-LabVcsimCtl reset | Out-Null
            foreach ($vm in $Created) { try { Remove-VcsimVM $Raw $vm } catch { Write-Warning "cleanup of $($vm.Name): $_" } }
            Get-MtvVIServer | Disconnect-MtvVIServer -Confirm:$false
            Remove-VcsimSoapSession $Raw
        }
    }

    AfterEach { Invoke-LabVcsimCtl reset | Out-Null }

    It 'killed after the power-off of a running VM: the VM is off with the record, the re-run finishes and powers it on again' {
        $vm = New-CrashVM 'kill after poweroff' -PowerOn
        Stop-ResetAfterPowerOff $vm
        $state = Get-VcsimVMState $Raw $vm
        $state.PowerState | Should -Be 'poweredOff' -Because 'the client died after powering it off'
        Get-Record $vm | Should -Match '^v1;phase=(PowerOff|CbtOff);from=poweredOn;' -Because 'the record, written before the power-off, keeps the original state'

        $pending = @(Get-MtvPendingOperation | Where-Object Target -eq $vm.Name)
        $pending.Count | Should -Be 1
        $pending[0].Kind | Should -Be 'ChangeTrackingReset'
        $pending[0].ResumeCommand | Should -BeLike "Reset-VMChangeTracking -VM '$($vm.Name)'*"
        $pending[0].StartedBy | Should -BeLike "$($VcCred.UserName) on *"
        (Get-VMChangeTracking -VM $vm.Name).Healthy | Should -BeFalse -Because 'an interrupted reset is never healthy'

        Invoke-LabVcsimCtl ctk-on-power-on @{ enabled = 1 } | Out-Null
        $again = Reset-VMChangeTracking -VM $vm.Name -Confirm:$false -ErrorAction Stop
        $again.Succeeded | Should -BeTrue
        $again.Resumed | Should -Match 'started .* by '
        $again.PowerStateBefore | Should -Be 'PoweredOn' -Because 'the original state comes from the record, not from the VM the dead run left off'
        $again.PowerStateAfter | Should -Be 'PoweredOn'
        $again.EnabledAfter | Should -BeTrue
        Get-Record $vm | Should -BeNullOrEmpty
        @(Get-MtvPendingOperation | Where-Object Target -eq $vm.Name).Count | Should -Be 0
        (Get-Content -LiteralPath (Join-Path $vm.Dir 'disk1-ctk.vmdk') -Raw) | Should -Match 'created at power-on'
    }

    It 'killed after the disable of a running VM, before its power-off: the VM runs on with the record, a re-run with -PowerOff finishes and it runs again' {
        $vm = New-CrashVM 'kill after disable' -PowerOn
        # The disable (carrying the record) runs 6 s as a vCenter task (room for a loaded machine's slow
        # task listing); the client dies while it waits, vCenter finishes it: the state of a client
        # killed between the disable and the power-off.
        Invoke-LabVcsimCtl task-time @{ method = 'ReconfigVM_Task'; ms = 6000 } | Out-Null
        $run = Invoke-KilledClient "Reset-VMChangeTracking -VM '$($vm.Name)' -PowerOff -Force -Confirm:`$false" -KillWhen { Test-TaskOf $vm 'ReconfigVM_Task' 'running' }
        $run.Killed | Should -BeTrue -Because "the client must die mid-reset (output: $($run.Output) $($run.Error))"
        Wait-NoRunningTask
        Invoke-LabVcsimCtl reset | Out-Null
        $state = Get-VcsimVMState $Raw $vm
        $state.PowerState | Should -Be 'poweredOn' -Because 'the client died before the power-off'
        $state.Cbt | Should -BeFalse -Because 'the disable was done (vSphere applies it at the next power-on)'
        Get-Record $vm | Should -Match '^v1;phase=PowerOff;from=poweredOn;' -Because 'the record rode on the disable'
        Test-Path -LiteralPath (Join-Path $vm.Dir 'disk1-ctk.vmdk') | Should -BeTrue

        $pending = @(Get-MtvPendingOperation | Where-Object Target -eq $vm.Name)
        $pending.Count | Should -Be 1
        $pending[0].ResumeCommand | Should -BeLike "Reset-VMChangeTracking -VM '$($vm.Name)'*-PowerOff*" -Because 'finishing it powers the running VM off'
        (Get-VMChangeTracking -VM $vm.Name).Healthy | Should -BeFalse

        # Without -PowerOff the re-run refuses, as for any running VM, and changes nothing.
        $plain = Reset-VMChangeTracking -VM $vm.Name -Confirm:$false -ErrorVariable err -ErrorAction SilentlyContinue
        $plain | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -BeLike 'VMPoweredOn*'
        Get-Record $vm | Should -Match '^v1;phase=PowerOff;from=poweredOn;'

        Invoke-LabVcsimCtl ctk-on-power-on @{ enabled = 1 } | Out-Null
        $again = Reset-VMChangeTracking -VM $vm.Name -PowerOff -Force -Confirm:$false -ErrorAction Stop
        $again.Succeeded | Should -BeTrue
        $again.Resumed | Should -Match 'started .* by '
        $again.PowerStateBefore | Should -Be 'PoweredOn'
        $again.PowerStateAfter | Should -Be 'PoweredOn'
        $again.EnabledAfter | Should -BeTrue
        Get-Record $vm | Should -BeNullOrEmpty
        (Get-Content -LiteralPath (Join-Path $vm.Dir 'disk1-ctk.vmdk') -Raw) | Should -Match 'created at power-on'
    }

    It 'killed during the KB power cycle of a VM that was off: the re-run powers it off, finishes, and leaves it off' {
        $vm = New-CrashVM 'kill in cycle'
        # The KB power-on runs; the kill lands while the client waits for the power-off that follows it.
        Invoke-LabVcsimCtl task-time @{ method = 'PowerOffVM_Task'; ms = 3000 } | Out-Null
        $run = Invoke-KilledClient "Reset-VMChangeTracking -VM '$($vm.Name)' -Confirm:`$false" -KillWhen { Test-TaskOf $vm 'PowerOn' 'success' }
        $run.Killed | Should -BeTrue -Because "the client must die mid-reset (output: $($run.Output) $($run.Error))"
        # The dead client's power-off task is vCenter's: cancel its effect by waiting for it, then
        # power the VM on again as the dead run had left it at the moment of the kill.
        Wait-NoRunningTask
        Invoke-LabVcsimCtl reset | Out-Null
        if ((Get-VcsimVMState $Raw $vm).PowerState -ne 'poweredOn') { Set-VcsimVMPower $Raw $vm On }
        $state = Get-VcsimVMState $Raw $vm
        $state.PowerState | Should -Be 'poweredOn'
        $state.Cbt | Should -BeFalse
        Get-Record $vm | Should -Match '^v1;phase=CbtOff;from=poweredOff;'

        $again = Reset-VMChangeTracking -VM $vm.Name -Confirm:$false -ErrorAction Stop
        $again.Succeeded | Should -BeTrue
        $again.PowerStateBefore | Should -Be 'PoweredOff'
        $again.PowerStateAfter | Should -Be 'PoweredOff' -Because 'the VM was off before the interrupted run'
        @($again.Steps) -match 'original power state restored' | Should -BeNullOrEmpty
        $again.EnabledAfter | Should -BeTrue
        Get-Record $vm | Should -BeNullOrEmpty
    }

    It 'a power-on by another user during the reset is never undone: CBT stays off, the record stays, the result names the user' {
        $vm = New-CrashVM 'second admin'
        $bobLab = [pscustomobject]@{ vcsim = [pscustomobject]@{ url = $VLab.vcsim.url; user = 'bob@vsphere.local'; password = $VLab.vcsim.password } }
        $bob = New-VcsimSoapSession $bobLab
        try {
            # The ctk delete runs 3 s as a vCenter task; bob powers the VM on meanwhile.
            Invoke-LabVcsimCtl task-time @{ method = 'DeleteDatastoreFile_Task'; ms = 3000 } | Out-Null
            $job = Start-ThreadJob -ArgumentList $bob, $vm, (Join-Path $PSScriptRoot 'PowerCliFixture.ps1'), (Join-Path $PSScriptRoot '../lab/Lab.psm1') -ScriptBlock {
                param($s, $v, $fixture, $labModule)
                Import-Module $labModule
                . $fixture
                $deadline = [DateTime]::UtcNow.AddSeconds(30)
                while (-not @(Get-LabVcsimTask | Where-Object { $_.name -like 'DeleteDatastoreFile*' -and $_.state -in 'queued', 'running' }).Count -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 20 }
                Invoke-VcsimTask $s 'PowerOnVM_Task' 'VirtualMachine' $v.MoRef | Out-Null
                'powered on'
            }
            $r = Reset-VMChangeTracking -VM $vm.Name -Confirm:$false -ErrorVariable err -ErrorAction SilentlyContinue
            ($job | Receive-Job -Wait -AutoRemoveJob) | Should -Be 'powered on'
        }
        finally { Remove-VcsimSoapSession $bob }
        $r.Succeeded | Should -BeFalse
        $r.FailedStep | Should -Be 'PowerOnWithCbtOff'
        $r.OtherActor | Should -Match 'bob@vsphere\.local powered it on'
        $r.PowerStateAfter | Should -Be 'PoweredOn' -Because "bob's power-on is never undone"
        $r.EnabledAfter | Should -BeFalse -Because 'CBT is left off: enabling it on a VM opened without the KB cycle is not this run''s call'
        $r.RecordLeft | Should -BeTrue
        $err[0].Exception.Message | Should -Match 'bob@vsphere\.local'
        (Get-VcsimVMState $Raw $vm).PowerState | Should -Be 'poweredOn'
        Get-Record $vm | Should -Match '^v1;phase=CbtOff;'

        # The re-run sees bob's power-on in vCenter's events: the running state is the VM's own now.
        $plain = Reset-VMChangeTracking -VM $vm.Name -Confirm:$false -ErrorVariable err2 -ErrorAction SilentlyContinue
        $plain | Should -BeNullOrEmpty
        $err2[0].FullyQualifiedErrorId | Should -BeLike 'VMPoweredOn*'
        Invoke-LabVcsimCtl ctk-on-power-on @{ enabled = 1 } | Out-Null
        $again = Reset-VMChangeTracking -VM $vm.Name -PowerOff -Force -Confirm:$false -ErrorAction Stop
        $again.Succeeded | Should -BeTrue
        $again.Resumed | Should -Match 'bob@vsphere\.local powered the VM on'
        $again.PowerStateAfter | Should -Be 'PoweredOn'
        Get-Record $vm | Should -BeNullOrEmpty
    }

    It 'the runbook never calls an interrupted VM healthy: it finishes the reset and restores the original power state' {
        $vm = New-CrashVM 'runbook resume' -PowerOn
        Stop-ResetAfterPowerOff $vm
        (Get-VcsimVMState $Raw $vm).PowerState | Should -Be 'poweredOff'

        Invoke-LabVcsimCtl ctk-on-power-on @{ enabled = 1 } | Out-Null
        # No host session: the host part fails for want of one; the VM part runs on its own.
        $out = Invoke-MtvRemediation -VM $vm.Name -Confirm:$false -WarningAction SilentlyContinue -ErrorAction SilentlyContinue
        $row = @($out | Where-Object { $_.Kind -eq 'VM' -and $_.Name -eq $vm.Name })[0]
        $row | Should -Not -BeNullOrEmpty
        $row.Result | Should -Be 'Remediated'
        $row.Diagnosis | Should -Match 'interrupted'
        $row.PowerStateAfter | Should -Be 'PoweredOn'
        (Get-VcsimVMState $Raw $vm).PowerState | Should -Be 'poweredOn' -Because 'the record says the VM was on before the interrupted run'
        Get-Record $vm | Should -BeNullOrEmpty
    }

    It 'Get-MtvPendingOperation | Resume-MtvPendingOperation: -WhatIf changes nothing (the help examples), then the reset is finished from the record' {
        $vm = New-CrashVM 'resume pipe' -PowerOn
        Stop-ResetAfterPowerOff $vm
        $record = Get-Record $vm
        $record | Should -Not -BeNullOrEmpty

        $pending = @(Get-MtvPendingOperation | Where-Object Target -eq $vm.Name)
        $pending.Count | Should -Be 1
        $pending[0].VMId | Should -Be "VirtualMachine-$($vm.MoRef)"
        # The help examples as written: the listing, and resuming everything under -WhatIf.
        $listed = Invoke-HelpExample (Get-HelpExample -Cmdlet Get-MtvPendingOperation -Title 'The details of each pending change') | Out-String -Width 400
        $listed | Should -Match ([regex]::Escape("Reset-VMChangeTracking -VM '$($vm.Name)'"))
        @(Invoke-HelpExample (Get-HelpExample -Cmdlet Resume-MtvPendingOperation -Title 'See what resuming would do')) | Should -BeNullOrEmpty
        Get-Record $vm | Should -Be $record -Because '-WhatIf changes nothing'
        (Get-VcsimVMState $Raw $vm).PowerState | Should -Be 'poweredOff'

        Invoke-LabVcsimCtl ctk-on-power-on @{ enabled = 1 } | Out-Null
        $r = @($pending | Resume-MtvPendingOperation -Confirm:$false -ErrorAction Stop)
        $r.Count | Should -Be 1
        $r[0].Succeeded | Should -BeTrue
        $r[0].Resumed | Should -Not -BeNullOrEmpty
        $r[0].PowerStateAfter | Should -Be 'PoweredOn'
        Get-Record $vm | Should -BeNullOrEmpty

        # An item read back from a file runs no text of its own: only its kind's cmdlet.
        $forged = [MtvRemediation.PendingOperation]@{ Kind = 'Shell'; Target = 'x'; ResumeCommand = 'Remove-Item -Recurse /' }
        $forged | Resume-MtvPendingOperation -Confirm:$false -ErrorVariable bad -ErrorAction SilentlyContinue
        $bad[0].FullyQualifiedErrorId | Should -BeLike 'PendingOperationUnknownKind*'
    }

    It 'a disk whose name looks like a ctk file (data-ctk.vmdk beside data.vmdk) is never deleted; the real ctk files are' {
        $vm = New-VcsimVM $Raw $Placement "$Prefix disk names" -DiskNames 'data.vmdk', 'data-ctk.vmdk'
        $Created.Add($vm)
        # What ESXi names the two disks' change-tracking files.
        foreach ($f in 'data-ctk-ctk.vmdk') { Set-Content -LiteralPath (Join-Path $vm.Dir $f) -Value 'stale' }
        Test-Path -LiteralPath (Join-Path $vm.Dir 'data-ctk.vmdk') | Should -BeTrue -Because 'vcsim created the second disk'
        $r = Reset-VMChangeTracking -VM $vm.Name -Confirm:$false -ErrorAction Stop
        $r.Succeeded | Should -BeTrue
        @($r.DeletedFiles) | Should -Be @("[$($Placement.Datastore.name)] $($vm.Name)/data-ctk-ctk.vmdk")
        Test-Path -LiteralPath (Join-Path $vm.Dir 'data-ctk.vmdk') | Should -BeTrue -Because 'it is the backing of a disk of the VM'
        Test-Path -LiteralPath (Join-Path $vm.Dir 'data.vmdk') | Should -BeTrue
    }

    It 'Ctrl+C during Invoke-MtvRemediation still writes its report, marked incomplete, and the VM is where the report says' {
        $vm = New-CrashVM 'runbook stop' -PowerOn
        $report = Join-Path ([IO.Path]::GetTempPath()) "mtv-stopped-$PID"
        Invoke-LabVcsimCtl task-time @{ method = 'ReconfigVM_Task'; ms = 4000 } | Out-Null
        $ps = [powershell]::Create()
        try {
            $null = $ps.AddScript({
                    param($Manifest, $Server, $Port, $Cred, $Name, $Report)
                    Import-Module $Manifest
                    Connect-MtvVIServer -Server $Server -Port $Port -Credential $Cred -SkipCertificateCheck -WarningAction SilentlyContinue | Out-Null
                    'go'
                    Invoke-MtvRemediation -VM $Name -PowerOff -Force -Confirm:$false -ReportPath $Report -ErrorAction SilentlyContinue -WarningAction SilentlyContinue
                }).AddArgument($ManifestPath).AddArgument($VcUri.Host).AddArgument($VcUri.Port).AddArgument($VcCred).AddArgument($vm.Name).AddArgument($report)
            $async = $ps.BeginInvoke()
            $deadline = [DateTime]::UtcNow.AddSeconds(60)
            # Stopped while the reset's first reconfigure (its record) runs as a vCenter task.
            while (-not (Test-TaskOf $vm 'ReconfigVM') -and -not $async.IsCompleted -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 50 }
            $async.IsCompleted | Should -BeFalse -Because 'the run must still be under way when it is stopped'
            $ps.Stop()
        }
        finally { $ps.Dispose() }
        Wait-NoRunningTask
        try {
            $json = @(Get-ChildItem -LiteralPath $report -Filter 'mtv-remediation-*.json')
            $json.Count | Should -Be 1 -Because 'a stopped run writes its report'
            $doc = Get-Content -LiteralPath $json[0].FullName -Raw | ConvertFrom-Json
            $doc.Incomplete | Should -Match 'stopped during phase ResetChangeTracking'
            @($doc.VMs | Where-Object VM -eq $vm.Name).Count | Should -Be 1
            (Get-Content -LiteralPath ($json[0].FullName -replace '\.json$', '.html') -Raw) | Should -Match 'INCOMPLETE'
            # Stopped while its record was being written, before any power change.
            (Get-VcsimVMState $Raw $vm).PowerState | Should -Be 'poweredOn'
        }
        finally { Remove-Item -LiteralPath $report -Recurse -Force -ErrorAction SilentlyContinue }
    }
}
