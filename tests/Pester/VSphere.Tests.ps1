# vCenter sessions, PowerCLI interop and the CBT reset, against the lab's vcsim.
# Every VM used here is created by the tests (raw SOAP, see PowerCliFixture.ps1) and destroyed
# afterwards, so the lab's own inventory is left as it was for the other test files.

BeforeDiscovery {
    Import-Module (Join-Path $PSScriptRoot '../lab/Lab.psm1') -Force
    $script:NoLab = try { $null -eq (Get-MtvLab) } catch { $true }
}

Describe 'vSphere cmdlets against vcsim' -Tag Lab -Skip:$NoLab {
    BeforeAll {
        $manifestPath = if ($env:MTV_MODULE_PATH) { $env:MTV_MODULE_PATH } else { Join-Path $PSScriptRoot '../../out/MtvRemediation/0.1.0/MtvRemediation.psd1' }
        Import-Module $manifestPath -Force
        Import-Module (Join-Path $PSScriptRoot '../lab/Lab.psm1') -Force
        . (Join-Path $PSScriptRoot 'PowerCliFixture.ps1')

        $lab = Get-MtvLab
        # ESXi creates a disk's -ctk.vmdk when a CBT-enabled disk opens (power-on): the lab does too.
        function Reset-Vcsim { Invoke-LabVcsimCtl reset | Out-Null; Invoke-LabVcsimCtl ctk-on-power-on @{ enabled = 1 } | Out-Null }
        Reset-Vcsim
        $raw = New-VcsimSoapSession $lab
        $placement = Get-VcsimPlacement $raw $lab
        $prefix = 'mtvcbt-{0}' -f (Get-Random -Maximum 99999)
        $vcUri = [uri]$lab.vcsim.url
        $cred = Get-LabVCenterCredential $lab
        $password = $cred.GetNetworkCredential().Password   # the secret that must never be echoed
        $conn = Connect-MtvVIServer -Server $vcUri.Host -Port $vcUri.Port -Credential $cred -SkipCertificateCheck -WarningAction SilentlyContinue
        $created = [System.Collections.Generic.List[object]]::new()

        function New-TestVM([string] $Suffix, [int] $Disks = 1, [switch] $PowerOn) {
            $vm = New-VcsimVM $raw $placement "$prefix $Suffix" -Disks $Disks -PowerOn:$PowerOn
            $created.Add($vm)
            $vm
        }
        function Add-File($Vm, [string] $Name) { New-Item -ItemType File -Path (Join-Path $Vm.Dir $Name) -Force | Out-Null }
        function Test-File($Vm, [string] $Name) { Test-Path -LiteralPath (Join-Path $Vm.Dir $Name) }
        # A ctk file that ESXi (the lab) created at power-on, not the stale one the test planted.
        function Test-FreshCtk($Vm, [string] $Name) { (Test-File $Vm $Name) -and ((Get-Content -LiteralPath (Join-Path $Vm.Dir $Name) -Raw) -match 'created at power-on') }
        function Get-Trips { (Get-MtvVIServer | Where-Object { -not $_.AdoptedFromPowerCli } | Select-Object -First 1).RoundTrips }
    }

    AfterAll {
        if ($lab) { Invoke-LabVcsimCtl reset | Out-Null }
        foreach ($vm in $created) { try { Remove-VcsimVM $raw $vm } catch { Write-Warning "cleanup of $($vm.Name): $_" } }
        Get-MtvVIServer | Disconnect-MtvVIServer -Confirm:$false
        if ($raw) { Remove-VcsimSoapSession $raw }
    }

    Context 'Connections' {
        It 'logs in and lists the connection without exposing a secret' {
            $conn | Should -BeOfType ([MtvRemediation.VIConnection])
            $conn.IsConnected | Should -BeTrue
            $conn.ProductLine | Should -Be 'vpx'
            $conn.ApiVersion | Should -Not -BeNullOrEmpty
            $conn.AdoptedFromPowerCli | Should -BeFalse
            @(Get-MtvVIServer) | Should -Contain $conn
            $conn.PSObject.Properties.Name | Should -Not -Contain 'SessionSecret'
            ($conn | Format-List * | Out-String) | Should -Not -Match 'vmware_soap_session'
        }

        It 'logs out its own sessions on Disconnect and when the runspace closes' {
            $count = Get-VcsimSessionCount $raw
            $second = Connect-MtvVIServer -Server $vcUri.Host -Port $vcUri.Port -Credential $cred -SkipCertificateCheck -WarningAction SilentlyContinue
            # Same server and port: the new login replaced (and logged out) the first one.
            Get-VcsimSessionCount $raw | Should -Be $count
            @(Get-MtvVIServer | Where-Object { -not $_.AdoptedFromPowerCli }) | Should -Be @($second)
            $conn.IsConnected | Should -BeFalse

            $rs = [runspacefactory]::CreateRunspace(); $rs.Open()
            $ps = [powershell]::Create($rs)
            $null = $ps.AddScript({ param($m, $h, $p, $c) Import-Module $m; Connect-MtvVIServer -Server $h -Port $p -Credential $c -SkipCertificateCheck -WarningAction SilentlyContinue | Out-Null }).
                AddArgument(((Get-Module MtvRemediation).Path -replace 'dll$', 'psd1')).AddArgument($vcUri.Host).AddArgument($vcUri.Port).AddArgument($cred)
            $ps.Invoke() | Out-Null
            Get-VcsimSessionCount $raw | Should -Be ($count + 1)
            $ps.Dispose(); $rs.Dispose()
            Get-VcsimSessionCount $raw | Should -Be $count
        }

        It 'validates the server certificate unless -SkipCertificateCheck is given' {
            $r = Connect-MtvVIServer -Server $vcUri.Host -Port $vcUri.Port -Credential $cred -ErrorVariable err -ErrorAction SilentlyContinue
            $r | Should -BeNullOrEmpty
            $err[0].FullyQualifiedErrorId | Should -BeLike 'VITransportError*'
            $err[0].Exception.Message | Should -Match 'not trusted'
        }

        It 'refuses an http:// or malformed -Server with VIServerInputInvalid before any connection, and takes an https URL' {
            $before = @(Get-MtvVIServer).Count
            foreach ($bad in "http://$($vcUri.Host):$($vcUri.Port)/sdk", "https://$($vcUri.Host):$($vcUri.Port)/ui", 'vc 01.example.com') {
                $r = Connect-MtvVIServer -Server $bad -Credential $cred -SkipCertificateCheck -ErrorVariable err -ErrorAction SilentlyContinue -WarningAction SilentlyContinue
                $r | Should -BeNullOrEmpty
                $err.Count | Should -Be 1
                $err[0].FullyQualifiedErrorId | Should -BeLike 'VIServerInputInvalid,*'
                $err[0].Exception | Should -Not -BeOfType [System.UriFormatException]
            }
            "$($err[0])" | Should -Match 'host name or address'
            @(Get-MtvVIServer).Count | Should -Be $before
            # An https URL names the server and its port, as a browser address would.
            $c = Connect-MtvVIServer -Server "https://$($vcUri.Host):$($vcUri.Port)/sdk" -Credential $cred -SkipCertificateCheck -WarningAction SilentlyContinue
            $c.Port | Should -Be $vcUri.Port
            $c.IsConnected | Should -BeTrue
        }

        It 'reports an unreachable server with a transport error id' {
            $l = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0); $l.Start(); $port = $l.LocalEndpoint.Port; $l.Stop()
            Connect-MtvVIServer -Server 127.0.0.1 -Port $port -Credential $cred -SkipCertificateCheck -ErrorVariable err -ErrorAction SilentlyContinue -WarningAction SilentlyContinue
            $err[0].FullyQualifiedErrorId | Should -BeLike 'VITransportError*'
            $err[0].Exception.Message | Should -Not -Match ([regex]::Escape($password))
        }
    }

    Context 'Get-VMChangeTracking' {
        BeforeAll {
            $web = New-TestVM 'web [01] db' -Disks 2
            Add-File $web 'disk1-ctk.vmdk'
            Add-File $web 'disk2-ctk.vmdk'
            Add-File $web 'old-ctk.vmdk'          # orphan: old.vmdk does not exist
            Add-File $web 'other.vmdk'            # a descriptor that is not this VM's disk
            Add-File $web 'other-ctk.vmdk'        # ... and its ctk: foreign, never touched
        }

        It 'finds the VM''s own, orphaned and foreign ctk files (names with spaces and brackets)' {
            $s = Get-VMChangeTracking -VM $web.Name
            $s | Should -BeOfType ([MtvRemediation.ChangeTrackingStatus])
            $s.VM | Should -Be $web.Name
            $s.VMId | Should -Be "VirtualMachine-$($web.MoRef)"
            $s.VMHost | Should -Be $placement.HostName
            $s.PowerState | Should -Be 'PoweredOff'
            $ds = $placement.Datastore.name
            @($s.Disks.File) | Should -Be @("[$ds] $($web.Name)/disk1.vmdk", "[$ds] $($web.Name)/disk2.vmdk")
            @($s.Disks.Datastore | Select-Object -Unique) | Should -Be @($ds)
            @($s.CtkFiles) | Should -Be @("[$ds] $($web.Name)/disk1-ctk.vmdk", "[$ds] $($web.Name)/disk2-ctk.vmdk")
            @($s.OrphanedCtkFiles) | Should -Be @("[$ds] $($web.Name)/old-ctk.vmdk")
            @($s.ForeignCtkFiles) | Should -Be @("[$ds] $($web.Name)/other-ctk.vmdk")
            $s.Healthy | Should -BeFalse
            $s.Reason | Should -Match 'CBT is disabled'
        }

        It 'calls a VM whose CBT is only disabled healthy: a fact (Enabled), not a problem' {
            $plain = New-TestVM 'cbt off only' -PowerOn
            $s = Get-VMChangeTracking -VM $plain.Name
            $s.Enabled | Should -BeFalse
            @($s.CtkFiles) | Should -BeNullOrEmpty
            $s.Healthy | Should -BeTrue -Because 'cold migrations need no CBT'
            $s.Reason | Should -BeNullOrEmpty
        }

        It 'matches exact names with brackets literally and wildcard patterns like PowerCLI' {
            (Get-VMChangeTracking -VM "$prefix web*").VM | Should -Contain $web.Name
            (Get-VMChangeTracking -VM $web.Name.ToUpperInvariant()).VM | Should -Be $web.Name
        }

        It 'writes VMNotFound with the input as target for an unknown name' {
            $out = Get-VMChangeTracking -VM "$prefix does-not-exist", $web.Name -ErrorVariable err -ErrorAction SilentlyContinue
            @($out).Count | Should -Be 1
            $err[0].FullyQualifiedErrorId | Should -BeLike 'VMNotFound*'
            $err[0].TargetObject | Should -Be "$prefix does-not-exist"
            $err[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        }
    }

    Context 'Reset-VMChangeTracking' {
        It 'removes exactly the VM''s own ctk files and ends with CBT enabled (powered-off VM)' {
            $vm = New-TestVM 'off [a]' -Disks 2
            'disk1-ctk.vmdk', 'disk2-ctk.vmdk', 'old-ctk.vmdk', 'other.vmdk', 'other-ctk.vmdk' | ForEach-Object { Add-File $vm $_ }
            $r = Reset-VMChangeTracking -VM $vm.Name -Confirm:$false

            $r | Should -BeOfType ([MtvRemediation.ChangeTrackingResetResult])
            $r.Succeeded | Should -BeTrue
            $r.PowerStateBefore | Should -Be 'PoweredOff'
            $r.PowerStateAfter | Should -Be 'PoweredOff'
            $r.EnabledBefore | Should -BeFalse
            $r.EnabledAfter | Should -BeTrue
            @($r.DeletedFiles).Count | Should -Be 2
            Test-File $vm 'disk1-ctk.vmdk' | Should -BeFalse
            Test-File $vm 'disk2-ctk.vmdk' | Should -BeFalse
            Test-File $vm 'old-ctk.vmdk' | Should -BeTrue
            Test-File $vm 'other-ctk.vmdk' | Should -BeTrue
            Test-File $vm 'disk1.vmdk' | Should -BeTrue
            # The server's own view, read without the module:
            $state = Get-VcsimVMState $raw $vm
            $state.Cbt | Should -BeTrue
            $state.ExtraConfig['scsi0:0.ctkEnabled'] | Should -Be 'true'
            $state.ExtraConfig['scsi0:1.ctkEnabled'] | Should -Be 'true'
            # KB 2139574's order: disable, delete, power on and off with CBT off, enable; the VM is left off.
            $order = 'Disabled CBT', 'Deleted ', 'Powered on with CBT disabled', 'Powered off again', 'Enabled CBT', 'No -ctk.vmdk yet'
            $at = foreach ($o in $order) { [array]::FindIndex([string[]]$r.Steps, [Predicate[string]] { param($x) $x.StartsWith($o) }) }
            $at | Should -Not -Contain -1
            ($at | Sort-Object) -join ',' | Should -Be ($at -join ',')
            @($r.PowerTransitions | ForEach-Object { "$_" }) | Should -Be @('PoweredOff -> PoweredOn (PowerOnVM_Task)', 'PoweredOn -> PoweredOff (PowerOffVM_Task)')
        }

        It 'deletes orphaned ctk files only with -IncludeOrphanedCtk, and foreign ones never' {
            $vm = New-TestVM 'orphans'
            'disk1-ctk.vmdk', 'old-ctk.vmdk', 'other.vmdk', 'other-ctk.vmdk' | ForEach-Object { Add-File $vm $_ }
            $r = Reset-VMChangeTracking -VM $vm.Name -IncludeOrphanedCtk -Confirm:$false
            $r.Succeeded | Should -BeTrue
            Test-File $vm 'disk1-ctk.vmdk' | Should -BeFalse
            Test-File $vm 'old-ctk.vmdk' | Should -BeFalse
            Test-File $vm 'other-ctk.vmdk' | Should -BeTrue
        }

        It 'refuses a powered-on VM without -PowerOff and changes nothing' {
            $vm = New-TestVM 'on refuse' -PowerOn
            Add-File $vm 'disk1-ctk.vmdk'
            $r = Reset-VMChangeTracking -VM $vm.Name -Confirm:$false -ErrorVariable err -ErrorAction SilentlyContinue
            $r | Should -BeNullOrEmpty
            $err[0].FullyQualifiedErrorId | Should -BeLike 'VMPoweredOn*'
            $err[0].Exception.Message | Should -Match '-PowerOff'
            $err[0].TargetObject | Should -Be $vm.Name
            Test-File $vm 'disk1-ctk.vmdk' | Should -BeTrue
            (Get-VcsimVMState $raw $vm).PowerState | Should -Be 'poweredOn'
            (Get-VcsimVMState $raw $vm).Cbt | Should -BeFalse
        }

        It 'refuses a hard power-off without -Force when VMware Tools is not running' {
            $vm = New-TestVM 'on notools' -PowerOn
            Add-File $vm 'disk1-ctk.vmdk'
            Reset-VMChangeTracking -VM $vm.Name -PowerOff -Confirm:$false -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
            $err[0].FullyQualifiedErrorId | Should -BeLike 'VMToolsNotRunning*'
            Test-File $vm 'disk1-ctk.vmdk' | Should -BeTrue
            (Get-VcsimVMState $raw $vm).PowerState | Should -Be 'poweredOn'
        }

        It 'powers off with -PowerOff -Force and restores the original power state' {
            $vm = New-TestVM 'on [reset]' -PowerOn
            Add-File $vm 'disk1-ctk.vmdk'
            $r = Reset-VMChangeTracking -VM $vm.Name -PowerOff -Force -Confirm:$false
            $r.Succeeded | Should -BeTrue
            $r.PowerStateBefore | Should -Be 'PoweredOn'
            $r.PowerStateAfter | Should -Be 'PoweredOn'
            $r.EnabledAfter | Should -BeTrue
            $r.Steps[0] | Should -Match '^Disabled CBT .* while the VM runs \(applied at its next power-on\)$'
            $r.Steps[1] | Should -Match 'Powered off hard'
            $r.Steps | Should -Contain 'Powered on (original power state restored; ESXi creates new -ctk.vmdk files as the disks open)'
            $r.Steps[-1] | Should -Match '^Checked: each of the 1 disk'
            @($r.PowerTransitions).Count | Should -Be 4
            @($r.CtkFilesAfter) | Should -Be @("[$($placement.Datastore.name)] $($vm.Name)/disk1-ctk.vmdk")
            Test-FreshCtk $vm 'disk1-ctk.vmdk' | Should -BeTrue -Because 'the stale file was deleted and ESXi made a new one'
            (Get-VcsimVMState $raw $vm).PowerState | Should -Be 'poweredOn'
        }

        It 'shows vCenter the KB order: its task list has the disable (with the record), power-off, delete, power-on, power-off, enable, power-on, the record removed' {
            $vm = New-TestVM 'kb order' -PowerOn
            Add-File $vm 'disk1-ctk.vmdk'
            # Asynchronous tasks as on vCenter (short here; the realistic times are in the next test).
            foreach ($m in 'PowerOffVM_Task', 'PowerOnVM_Task', 'ReconfigVM_Task', 'DeleteDatastoreFile_Task') { Invoke-LabVcsimCtl task-time @{ method = $m; ms = 200 } | Out-Null }
            try {
                $since = [DateTime]::UtcNow
                $r = Reset-VMChangeTracking -VM $vm.Name -PowerOff -Force -Confirm:$false
            }
            finally { Reset-Vcsim }
            $r.Succeeded | Should -BeTrue
            $tasks = @(Get-LabVcsimTask -Since $since | Where-Object { $_.entityName -eq $vm.Name -or $_.name -eq 'DeleteDatastoreFile_Task' })
            # The disable runs before the power-off (vSphere applies it at the next power-on) and carries
            # the record; only the record's removal after the final power-on is a reconfigure of its own.
            @($tasks | Where-Object name -ne 'SearchDatastore_Task' | ForEach-Object name) | Should -Be @(
                'ReconfigVM_Task', 'PowerOffVM_Task', 'DeleteDatastoreFile_Task', 'PowerOnVM_Task', 'PowerOffVM_Task', 'ReconfigVM_Task', 'PowerOnVM_Task', 'ReconfigVM_Task')
            $tasks | Where-Object name -ne 'SearchDatastore_Task' | ForEach-Object { $_.state | Should -Be 'success'; $_.seconds | Should -BeGreaterOrEqual 0.2 }
            # The first reconfigure disables CBT, the second enables it: the power cycle ran with CBT off.
            (Get-VcsimVMState $raw $vm).Cbt | Should -BeTrue
            (Get-VcsimVMState $raw $vm).ExtraConfig.ContainsKey('mtvremediation.cbtReset') | Should -BeFalse
        }

        It 'waits through vCenter-like task times (power-off 2 s, reconfigure 1 s, delete 0.5 s, power-on 3 s) without polling' {
            $vm = New-TestVM 'realistic' -PowerOn
            Add-File $vm 'disk1-ctk.vmdk'
            $times = @{ PowerOffVM_Task = 2000; ReconfigVM_Task = 1000; DeleteDatastoreFile_Task = 500; PowerOnVM_Task = 3000 }
            foreach ($m in $times.Keys) { Invoke-LabVcsimCtl task-time @{ method = $m; ms = $times[$m] } | Out-Null }
            try {
                $before = (Get-MtvVIServer | Where-Object { -not $_.AdoptedFromPowerCli } | Select-Object -First 1).GetRoundTripsByMethod()
                $sw = [Diagnostics.Stopwatch]::StartNew()
                $r = Reset-VMChangeTracking -VM $vm.Name -PowerOff -Force -Confirm:$false
                $sw.Stop()
                $after = (Get-MtvVIServer | Where-Object { -not $_.AdoptedFromPowerCli } | Select-Object -First 1).GetRoundTripsByMethod()
            }
            finally { Reset-Vcsim }
            $r.Succeeded | Should -BeTrue
            # The chain: off 2 + reconfigure 1 + delete 0.5 + on 3 + off 2 + reconfigure 1 + on 3 = 12.5 s.
            $sw.Elapsed.TotalSeconds | Should -BeGreaterOrEqual 12.5
            $sw.Elapsed.TotalSeconds | Should -BeLessOrEqual 16
            $polls = $after['RetrievePropertiesEx'] - $before['RetrievePropertiesEx']
            $polls | Should -BeLessOrEqual 6 -Because 'tasks are waited for with WaitForUpdatesEx, not polled (reads: VM, hosts/datastores, datacenters, precheck, final state)'
            ($after['WaitForUpdatesEx'] - $before['WaitForUpdatesEx']) | Should -BeLessOrEqual 30
        }

        It 'refuses a VM with snapshots (consolidate first) and changes nothing' {
            $vm = New-TestVM 'snap'
            Add-File $vm 'disk1-ctk.vmdk'
            New-VcsimSnapshot $raw $vm
            Reset-VMChangeTracking -VM $vm.Name -Confirm:$false -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
            $err[0].FullyQualifiedErrorId | Should -BeLike 'VMHasSnapshots*'
            $err[0].Exception.Message | Should -Match 'onsolidate'
            Test-File $vm 'disk1-ctk.vmdk' | Should -BeTrue
            (Get-VcsimVMState $raw $vm).Cbt | Should -BeFalse
            (Get-VMChangeTracking -VM $vm.Name).SnapshotCount | Should -Be 1
        }

        It '-WhatIf lists the files and power operations and changes nothing' {
            $vm = New-TestVM 'whatif [x]' -PowerOn
            Add-File $vm 'disk1-ctk.vmdk'
            Add-File $vm 'old-ctk.vmdk'
            $log = Join-Path ([System.IO.Path]::GetTempPath()) "mtv-whatif-$PID.txt"
            Start-Transcript -Path $log -Force | Out-Null
            try { Reset-VMChangeTracking -VM $vm.Name -PowerOff -Force -WhatIf } finally { Stop-Transcript | Out-Null }
            $text = Get-Content $log -Raw
            Remove-Item $log
            $ds = $placement.Datastore.name
            $text | Should -Match ([regex]::Escape("delete [$ds] $($vm.Name)/disk1-ctk.vmdk"))
            $text | Should -Not -Match 'old-ctk'
            $text | Should -Match 'power off hard'
            $text | Should -Match 'power on'
            Test-File $vm 'disk1-ctk.vmdk' | Should -BeTrue
            (Get-VcsimVMState $raw $vm).PowerState | Should -Be 'poweredOn'
            (Get-VcsimVMState $raw $vm).Cbt | Should -BeFalse
        }
    }

    Context 'Fault injection and re-runs' {
        It 'a VM that cannot be powered off: the disable done before the power-off is put back, the record removed, the VM runs on untouched' {
            $vm = New-TestVM 'fault [poweroff]' -PowerOn
            Set-VcsimVMCbt $raw $vm $true
            Add-File $vm 'disk1-ctk.vmdk'
            Invoke-LabVcsimCtl disable-method @{ vm = $vm.Name; method = 'PowerOffVM_Task' } | Out-Null
            try {
                $r = Reset-VMChangeTracking -VM $vm.Name -PowerOff -Force -Confirm:$false -ErrorVariable err -ErrorAction SilentlyContinue
            }
            finally { Invoke-LabVcsimCtl enable-method @{ vm = $vm.Name; method = 'PowerOffVM_Task' } | Out-Null }
            $r.Succeeded | Should -BeFalse
            $r.FailedStep | Should -Be 'PowerOff'
            $r.Error | Should -Match 'MethodDisabled'
            $r.Steps | Should -Contain 'Enabled CBT again: the VM was not powered off, so the disable never took effect; nothing was reset'
            $r.EnabledAfter | Should -BeTrue
            $r.RecordLeft | Should -BeFalse
            $r.PowerStateAfter | Should -Be 'PoweredOn'
            @($r.PowerTransitions).Count | Should -Be 0
            $state = Get-VcsimVMState $raw $vm
            $state.Cbt | Should -BeTrue
            $state.PowerState | Should -Be 'poweredOn'
            $state.ExtraConfig.ContainsKey('mtvremediation.cbtReset') | Should -BeFalse
            Test-File $vm 'disk1-ctk.vmdk' | Should -BeTrue
            $err[0].FullyQualifiedErrorId | Should -BeLike 'ChangeTrackingResetFailed*'
        }

        It 'a ReconfigVM_Task fault stops the reset before its first change (the record cannot be written): the VM untouched, and a re-run completes' {
            $vm = New-TestVM 'fault [reconfig]' -PowerOn
            Add-File $vm 'disk1-ctk.vmdk'
            Invoke-LabVcsimCtl disable-method @{ vm = $vm.Name; method = 'ReconfigVM_Task' } | Out-Null
            try {
                $r = Reset-VMChangeTracking -VM $vm.Name -PowerOff -Force -Confirm:$false -ErrorVariable err -ErrorAction SilentlyContinue
            }
            finally { Invoke-LabVcsimCtl enable-method @{ vm = $vm.Name; method = 'ReconfigVM_Task' } | Out-Null }
            $r.Succeeded | Should -BeFalse
            # The record goes first: without it a dead client could not be finished, so nothing else is done.
            $r.FailedStep | Should -Be 'DisableChangeTracking'
            $r.Error | Should -Match 'MethodDisabled'
            $r.EnabledAfter | Should -Be (Get-VcsimVMState $raw $vm).Cbt
            $r.PowerStateAfter | Should -Be 'PoweredOn'
            @($r.PowerTransitions).Count | Should -Be 0
            @($r.DeletedFiles).Count | Should -Be 0
            $err[0].FullyQualifiedErrorId | Should -BeLike 'ChangeTrackingResetFailed*'
            $err[0].TargetObject | Should -Be $vm.Name
            Test-File $vm 'disk1-ctk.vmdk' | Should -BeTrue

            $again = Reset-VMChangeTracking -VM $vm.Name -PowerOff -Force -Confirm:$false
            $again.Succeeded | Should -BeTrue
            $again.EnabledAfter | Should -BeTrue
            $again.PowerStateAfter | Should -Be 'PoweredOn'
            Test-FreshCtk $vm 'disk1-ctk.vmdk' | Should -BeTrue
        }

        It 'a failure after the deletions reports the deleted files and CBT off; a re-run finishes the job' {
            $vm = New-TestVM 'fault [enable]' -PowerOn
            Add-File $vm 'disk1-ctk.vmdk'
            # Slow the delete down, and disable ReconfigVM_Task while it runs: the re-enable then fails.
            Invoke-LabVcsimCtl delay @{ method = 'DeleteDatastoreFile_Task'; ms = 2500 } | Out-Null
            $ps = [powershell]::Create()
            $modulePath = (Get-Module MtvRemediation).Path -replace 'dll$', 'psd1'
            try {
                $null = $ps.AddScript({
                        param($ModulePath, $Server, $Port, $Cred, $Name)
                        Import-Module $ModulePath
                        Connect-MtvVIServer -Server $Server -Port $Port -Credential $Cred -SkipCertificateCheck -WarningAction SilentlyContinue | Out-Null
                        Reset-VMChangeTracking -VM $Name -PowerOff -Force -Confirm:$false -ErrorAction SilentlyContinue
                        Get-MtvVIServer | Disconnect-MtvVIServer -Confirm:$false
                    }).AddArgument($modulePath).AddArgument($vcUri.Host).AddArgument($vcUri.Port).AddArgument($cred).AddArgument($vm.Name)
                $async = $ps.BeginInvoke()
                $deadline = [DateTime]::UtcNow.AddSeconds(20)
                while (-not (Get-VcsimVMState $raw $vm).ExtraConfig.ContainsKey('scsi0:0.ctkEnabled') -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 50 }
                Invoke-LabVcsimCtl disable-method @{ vm = $vm.Name; method = 'ReconfigVM_Task' } | Out-Null
                $r = $ps.EndInvoke($async) | Select-Object -Last 1
            }
            finally {
                $ps.Dispose()
                Reset-Vcsim
            }
            $r.Succeeded | Should -BeFalse
            $r.FailedStep | Should -Be 'EnableChangeTracking'
            @($r.DeletedFiles) | Should -Be @("[$($placement.Datastore.name)] $($vm.Name)/disk1-ctk.vmdk")
            $r.EnabledAfter | Should -BeFalse
            $r.PowerStateAfter | Should -Be 'PoweredOn'
            Test-File $vm 'disk1-ctk.vmdk' | Should -BeFalse

            $again = Reset-VMChangeTracking -VM $vm.Name -PowerOff -Force -Confirm:$false
            $again.Succeeded | Should -BeTrue
            $again.EnabledAfter | Should -BeTrue
            $again.PowerStateAfter | Should -Be 'PoweredOn'
            @($again.DeletedFiles).Count | Should -Be 0
        }

        It 'an HTTP 500 without a SOAP body becomes a typed transport error' {
            $vm = New-TestVM 'http500'
            Invoke-LabVcsimCtl fail-next @{ status = 500 } | Out-Null
            Get-VMChangeTracking -VM $vm.Name -ErrorVariable err -ErrorAction SilentlyContinue | Out-Null
            $err[0].FullyQualifiedErrorId | Should -BeLike 'VITransportError*'
            $err[0].Exception.Message | Should -Match '500'
            (Get-VMChangeTracking -VM $vm.Name).VM | Should -Be $vm.Name
        }
    }

    Context 'PowerCLI interop' {
        BeforeAll {
            $pcVm = New-TestVM 'pcli [vm]'
            Add-File $pcVm 'disk1-ctk.vmdk'
            $pcVm2 = New-TestVM 'pcli two'
        }

        It 'adopts a PowerCLI VIServer through its session cookie, and Disconnect does not log it out' {
            $session = New-VcsimSoapSession $lab
            try {
                $vi = New-PowerCliVIServer $session
                $adopted = Connect-MtvVIServer -VIServer $vi -SkipCertificateCheck -WarningAction SilentlyContinue
                $adopted.AdoptedFromPowerCli | Should -BeTrue
                $adopted.User | Should -Be $lab.vcsim.user
                $adopted.Server | Should -Be $vcUri.Host
                ($adopted | Format-List * | Out-String) | Should -Not -Match ([regex]::Escape($session.Secret))

                (Get-VMChangeTracking -VM $pcVm.Name -Server $vi).VM | Should -Be $pcVm.Name
                $adopted.RoundTrips | Should -BeGreaterThan 2

                Disconnect-MtvVIServer -Server $adopted -Confirm:$false
                Get-VcsimCurrentSessionUser $session | Should -Be $lab.vcsim.user
            }
            finally { Remove-VcsimSoapSession $session }
        }

        It 'reports VISessionExpired for a PowerCLI session that was logged out' {
            $session = New-VcsimSoapSession $lab
            $vi = New-PowerCliVIServer $session
            Remove-VcsimSoapSession $session
            Connect-MtvVIServer -VIServer $vi -SkipCertificateCheck -ErrorVariable err -ErrorAction SilentlyContinue -WarningAction SilentlyContinue | Should -BeNullOrEmpty
            $err[0].FullyQualifiedErrorId | Should -BeLike 'VISessionExpired*'
        }

        It 'detects a session that expires after adoption' {
            $session = New-VcsimSoapSession $lab
            $adopted = Connect-MtvVIServer -VIServer (New-PowerCliVIServer $session) -SkipCertificateCheck -WarningAction SilentlyContinue
            Remove-VcsimSoapSession $session
            Get-VMChangeTracking -VM $pcVm.Name -Server $adopted -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
            $err[0].FullyQualifiedErrorId | Should -BeLike 'VISessionExpired*'
            "$($err[0])" | Should -Match 'Connect-MtvVIServer'
            $adopted.IsConnected | Should -BeFalse
            Disconnect-MtvVIServer -Server $adopted -Confirm:$false
        }

        It 'binds Get-VM-shaped objects (live and deserialized) by reference, without a name look-up' {
            $user = 'administrator@vsphere.local'   # SSO user: two '@' in the Uid
            $objects = @(
                New-PowerCliVM $pcVm $lab.vcsim.url -User $user
                ConvertTo-Deserialized (New-PowerCliVM $pcVm2 $lab.vcsim.url -User $user)
            )
            $objects[1].PSObject.TypeNames[0] | Should -BeLike 'Deserialized.VMware.VimAutomation.ViCore.Impl.V1.VM.UniversalVirtualMachineImpl'
            $before = Get-Trips
            $s = $objects | Get-VMChangeTracking
            $trips = (Get-Trips) - $before
            # Written as each VM is read (completion order): compare as sets.
            @($s.VM | Sort-Object) | Should -Be @($pcVm.Name, $pcVm2.Name | Sort-Object)
            @(($s | Where-Object VM -EQ $pcVm.Name).CtkFiles).Count | Should -Be 1
            # 2 batched reads (VMs, then hosts+datastores) + at most 2 per VM for the datastore
            # search (its start, its WaitForUpdatesEx; the two folders are usually listed by one
            # SearchDatastoreSubFolders_Task) + the task waiter's CreatePropertyCollector and CreateFilter.
            $trips | Should -BeLessOrEqual (2 + 2 * 2 + 2)
        }

        It 'refuses a PowerCLI VM whose Uid names a server that is not connected' {
            $foreign = New-PowerCliVM $pcVm 'https://vc99.example.invalid:443/sdk'
            Get-VMChangeTracking -VM $foreign -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
            $err[0].FullyQualifiedErrorId | Should -BeLike 'VIServerNotConnected*'
        }

        It 'pipes its own results into Reset-VMChangeTracking (VMHost carried along)' {
            $s = Get-VMChangeTracking -VM $pcVm.Name
            $s.VMHost | Should -Be $placement.HostName
            $r = $s | Reset-VMChangeTracking -Confirm:$false
            $r.Succeeded | Should -BeTrue
            $r.VMHost | Should -Be $placement.HostName
            Test-File $pcVm 'disk1-ctk.vmdk' | Should -BeFalse
        }

        It 'adopts $global:DefaultVIServer automatically, validating the certificate' {
            # A child PowerShell: trust of the vcsim test certificate is given through SSL_CERT_FILE,
            # which .NET reads at start-up. Without it, automatic adoption must refuse the certificate.
            $tcp = [System.Net.Sockets.TcpClient]::new($vcUri.Host, $vcUri.Port)
            $ssl = [System.Net.Security.SslStream]::new($tcp.GetStream(), $false, { $true })
            $ssl.AuthenticateAsClient($vcUri.Host)
            $pem = Join-Path ([System.IO.Path]::GetTempPath()) "mtv-vcsim-$PID.pem"
            $der = [System.Security.Cryptography.X509Certificates.X509Certificate2]::new($ssl.RemoteCertificate).Export('Cert')
            Set-Content -Path $pem -Value ("-----BEGIN CERTIFICATE-----`n{0}`n-----END CERTIFICATE-----" -f [Convert]::ToBase64String($der, 'InsertLineBreaks'))
            $ssl.Dispose(); $tcp.Dispose()

            $session = New-VcsimSoapSession $lab
            $script = {
                param($ModulePath, $Fixture, $State, $VmName)
                . $Fixture
                $ProgressPreference = 'SilentlyContinue'
                $lab = Get-Content $State -Raw | ConvertFrom-Json
                Import-Module $ModulePath
                $global:DefaultVIServer = New-PowerCliVIServer ([pscustomobject]@{ Url = $lab.vcsim.url; Secret = $env:MTV_TEST_SECRET; User = $lab.vcsim.user; ServiceContent = [pscustomobject]@{ about = [pscustomobject]@{ instanceUuid = '' } } })
                $global:DefaultVIServers = @($global:DefaultVIServer)
                $s = Get-VMChangeTracking -VM $VmName -ErrorVariable err -ErrorAction SilentlyContinue
                $c = Get-MtvVIServer
                [pscustomobject]@{ VM = $s.VM; Adopted = $c.AdoptedFromPowerCli; Auto = $c.AutoAdopted; Errors = @($err | ForEach-Object { $_.FullyQualifiedErrorId + ': ' + $_.Exception.Message }) } | ConvertTo-Json -Compress
            }
            $exe = (Get-Process -Id $PID).Path
            # Started the way the pinned tool runs ('dotnet pwsh.dll'); keep $pre an array for splatting.
            [string[]] $pre = if ([System.IO.Path]::GetFileNameWithoutExtension($exe) -eq 'dotnet') { Join-Path $PSHOME 'pwsh.dll' } else { @() }
            $modulePath = (Get-Module MtvRemediation).Path -replace 'dll$', 'psd1'
            $stateFile = if ($env:MTVLAB_STATE) { $env:MTVLAB_STATE } else { (Resolve-Path (Join-Path $PSScriptRoot '../../out/lab/lab.json')).Path }
            $fixture = Join-Path $PSScriptRoot 'PowerCliFixture.ps1'
            $encoded = [Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes("& { $script } '$modulePath' '$fixture' '$stateFile' '$($pcVm2.Name)'"))
            try {
                $env:MTV_TEST_SECRET = $session.Secret
                $untrusted = & $exe @pre -NoProfile -NonInteractive -EncodedCommand $encoded 2>$null | ConvertFrom-Json
                $env:SSL_CERT_FILE = $pem
                $trusted = & $exe @pre -NoProfile -NonInteractive -EncodedCommand $encoded 2>$null | ConvertFrom-Json
            }
            finally {
                Remove-Item Env:\SSL_CERT_FILE, Env:\MTV_TEST_SECRET -ErrorAction SilentlyContinue
                Remove-Item $pem -ErrorAction SilentlyContinue
                Remove-VcsimSoapSession $session
            }
            $untrusted.VM | Should -BeNullOrEmpty
            ($untrusted.Errors -join "`n") | Should -Match 'VIServerAdoptionFailed'
            ($untrusted.Errors -join "`n") | Should -Match 'SkipCertificateCheck'
            $trusted.VM | Should -Be $pcVm2.Name
            $trusted.Adopted | Should -BeTrue
            $trusted.Auto | Should -BeTrue
            $trusted.Errors | Should -BeNullOrEmpty
        }

        It 'reuses the PowerCLI session as PowerCLI''s InvalidCertificateAction says, and says so' {
            # PowerCLI itself cannot be installed: Get-PowerCLIConfiguration is its documented shape
            # (one row per scope with Scope and InvalidCertificateAction). Each case in a runspace of
            # its own (its own adoptions); the vcsim certificate is not trusted in this process.
            $session = New-VcsimSoapSession $lab
            try {
                $results = foreach ($action in 'Warn', 'Ignore', 'Fail') {
                    $rs = [runspacefactory]::CreateRunspace(); $rs.Open()
                    $ps = [powershell]::Create(); $ps.Runspace = $rs
                    try {
                        $null = $ps.AddScript({
                                param($ModulePath, $Fixture, $Lab, $Secret, $VmName, $Action)
                                . $Fixture
                                Import-Module $ModulePath
                                function global:Get-PowerCLIConfiguration {
                                    foreach ($scope in 'Session', 'User', 'AllUsers') {
                                        [pscustomobject]@{ PSTypeName = 'VMware.VimAutomation.ViCore.Types.V1.PowerCLIConfiguration'; Scope = $scope; InvalidCertificateAction = $(if ($scope -eq 'User') { $Action } else { 'Unset' }) }
                                    }
                                }
                                $global:DefaultVIServer = New-PowerCliVIServer ([pscustomobject]@{ Url = $Lab.vcsim.url; Secret = $Secret; User = $Lab.vcsim.user; ServiceContent = [pscustomobject]@{ about = [pscustomobject]@{ instanceUuid = '' } } })
                                $global:DefaultVIServers = @($global:DefaultVIServer)
                                $s = Get-VMChangeTracking -VM $VmName -ErrorVariable err -ErrorAction SilentlyContinue -WarningVariable w -WarningAction SilentlyContinue -Verbose 4>&1 | Where-Object { $_ -isnot [System.Management.Automation.VerboseRecord] -or $_.Message -match 'InvalidCertificateAction' }
                                [pscustomobject]@{
                                    Action = $Action; VM = @($s | Where-Object VM).VM; Said = (@($w) + @($s | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | ForEach-Object Message)) -join "`n"
                                    Skipped = (Get-MtvVIServer).CertificateCheckSkipped; Errors = @($err | ForEach-Object { $_.FullyQualifiedErrorId + ': ' + $_.Exception.Message }) -join "`n"
                                }
                            }).AddArgument(((Get-Module MtvRemediation).Path -replace 'dll$', 'psd1')).AddArgument((Join-Path $PSScriptRoot 'PowerCliFixture.ps1')).AddArgument($lab).AddArgument($session.Secret).AddArgument($pcVm2.Name).AddArgument($action)
                        $ps.Invoke()
                    }
                    finally { $ps.Dispose(); $rs.Dispose() }
                }
            }
            finally { Remove-VcsimSoapSession $session }
            $warn, $ignore, $fail = $results
            $warn.VM | Should -Be $pcVm2.Name
            $warn.Skipped | Should -BeTrue
            $warn.Said | Should -Match "InvalidCertificateAction is 'Warn' \(User scope"
            $ignore.VM | Should -Be $pcVm2.Name
            $ignore.Said | Should -Match "InvalidCertificateAction is 'Ignore'" -Because 'a verbose line says so'
            $fail.VM | Should -BeNullOrEmpty
            $fail.Errors | Should -Match 'VIServerAdoptionFailed'
            $fail.Errors | Should -Match "InvalidCertificateAction is 'Fail' \(User scope\), so the certificate was validated"
        }
    }

    Context 'Many VMs' {
        It 'reads and resets 100 VMs in one call with batched reads' {
            $bulk = foreach ($i in 1..100) { New-TestVM ('bulk {0:000}' -f $i) }
            foreach ($vm in $bulk) { Add-File $vm 'disk1-ctk.vmdk' }

            $before = Get-Trips
            $status = Get-VMChangeTracking -VM "$prefix bulk *" -ThrottleLimit 8
            $readTrips = (Get-Trips) - $before
            @($status).Count | Should -Be 100
            @($status | Where-Object { @($_.CtkFiles).Count -eq 1 }).Count | Should -Be 100
            # Name look-up (3) + VM batch (1) + hosts/datastores batch (1) + one search task (2) per VM.
            $readTrips | Should -BeLessOrEqual (5 + 2 * 100)

            $before = Get-Trips
            $results = Reset-VMChangeTracking -VM "$prefix bulk *" -ThrottleLimit 8 -Confirm:$false
            $resetTrips = (Get-Trips) - $before
            @($results | Where-Object Succeeded).Count | Should -Be 100
            @($bulk | Where-Object { Test-File $_ 'disk1-ctk.vmdk' }).Count | Should -Be 0
            Write-Host ("      100 VMs: Get-VMChangeTracking {0} SOAP round trips ({1:N2}/VM), Reset-VMChangeTracking {2} ({3:N2}/VM)" -f $readTrips, ($readTrips / 100), $resetTrips, ($resetTrips / 100))
            # search 2 + state check 1 + disable 2 + delete 2 + enable 2 + final read 1 per VM, plus the batched reads.
            $resetTrips | Should -BeLessOrEqual (5 + 10 * 100)
        }
    }
}
