# Test-MtvWaveReadiness against the lab: hosts and VMs that each exhibit one cause of failed
# copy-offload clones yield exactly that finding (every other check passes), and a host without a
# session yields Unknown, never Pass. The causes are arranged with the lab's own stand-ins
# (tests/lab/README.md): the wrapper VIB installed without a hostd restart (no esxcli vmkfstools
# namespace), the hostd-tmp limit in the lab's vsish, Disk.MaxLUN in vcsim's host OptionManager,
# /var filled by wrapper log records, a stale -ctk.vmdk beside a disk of a VM with CBT off.

BeforeDiscovery {
    Import-Module (Join-Path $PSScriptRoot '../lab/Lab.psm1') -Force
    $script:NoLab = try { $null -eq (Get-MtvLab) } catch { $true }
}

Describe 'Test-MtvWaveReadiness' -Tag Lab, Wave -Skip:$NoLab {
    BeforeAll {
        $manifestPath = if ($env:MTV_MODULE_PATH) { $env:MTV_MODULE_PATH } else { Join-Path $PSScriptRoot '../../out/MtvRemediation/0.1.0/MtvRemediation.psd1' }
        Import-Module $manifestPath -Force
        . (Join-Path $PSScriptRoot 'HostRemediation.Helpers.ps1')
        . (Join-Path $PSScriptRoot 'HelpExample.ps1')

        $lab = Get-HostLab
        $names = @($lab.Hosts.Name)
        # One cause per host; the last host gets no session.
        $script:Clean = 'DC0_C0_H0'
        $script:NoVibReload = 'DC0_C0_H1'
        $script:TmpLimit = 'DC0_C0_H2'
        $script:LowMaxLun = 'DC0_C0_H3'
        $script:NoSession = 'DC0_C0_H4'
        $script:FullVar = 'DC0_H0'
        foreach ($h in $Clean, $NoVibReload, $TmpLimit, $LowMaxLun, $NoSession, $FullVar) { if ($h -notin $names) { throw "lab host $h missing: start the lab with -LabHosts 6" } }

        Invoke-LabVcsimCtl reset | Out-Null
        # As ESXi does: a CBT-enabled disk that opens gets its -ctk.vmdk (a finished CBT reset's check).
        Invoke-LabVcsimCtl ctk-on-power-on @{ enabled = 1 } | Out-Null
        Reset-LabHost $names
        # The lab's hostd-tmp limit is 500 MB, forklift's "e.g. 500MB": every host but one gets 1 GiB.
        foreach ($h in $names | Where-Object { $_ -ne $TmpLimit }) { Invoke-LabHost $h 'echo 1048576 > /etc/vmware/lab-hostd-tmp' | Out-Null }
        Set-LabWrapper $NoVibReload 2.10 -WithoutHostdRestart
        Invoke-LabVcsimCtl option @{ host = $LowMaxLun; key = 'Disk.MaxLUN'; value = 2 } | Out-Null
        Set-LabVarFill $FullVar 95 | Out-Null
        . (Join-Path $PSScriptRoot 'PowerCliFixture.ps1')
        $script:Raw = New-VcsimSoapSession (Get-MtvLab)
        # The wave's VMs as the lab starts them (an earlier run's reset leaves CBT on and ctk files).
        function Reset-WaveVms {
            foreach ($vm in $WaveVms) {
                Set-VcsimVMCbt $Raw $vm $false
                Get-ChildItem -LiteralPath $vm.localDir -Filter '*-ctk.vmdk' | Remove-Item -Force
                Set-VcsimVMPower $Raw $vm On
            }
        }
        $script:WaveVms = @(Get-LabVM | Where-Object { $_.host -in $names -and $_.datastore -eq 'LocalDS_0' })
        Reset-WaveVms
        # A stale change-tracking file beside a disk of a VM whose CBT is off (the 7228 cause).
        $script:StaleVm = @(Get-LabVM -HostName $Clean | Where-Object datastore -EQ 'LocalDS_0')[0]
        $script:StaleCtk = Join-Path $StaleVm.localDir 'disk1-ctk.vmdk'
        Set-Content -LiteralPath $StaleCtk -Value 'stale change tracking file'

        Connect-MtvVIServer -Server $lab.VCenterHost -Port $lab.VCenterPort -Credential $lab.VCenterCredential -SkipCertificateCheck -WarningAction SilentlyContinue | Out-Null
        Connect-HostLab $lab @($lab.Hosts | Where-Object Name -NE $NoSession)

        # One hour of cloning: the lab's 16 MiB /var takes it (the projection has a test of its own).
        $script:Result = @(Test-MtvWaveReadiness -VM $WaveVms.name -WaveHours 1)
        function Get-NotPassed($Rows) { @($Rows | Where-Object Status -NE 'Pass' | ForEach-Object { '{0} {1} {2}' -f $_.Target, $_.Check, $_.Status } | Sort-Object) }
    }

    AfterAll {
        if ($Raw) { Reset-WaveVms; Remove-VcsimSoapSession $Raw }
        Get-EsxiShell | Disconnect-EsxiShell -Confirm:$false
        Get-MtvVIServer | Disconnect-MtvVIServer -Confirm:$false
        Invoke-LabVcsimCtl reset | Out-Null
        Reset-LabHost @((Get-MtvLab).hosts.name)
    }

    It 'answers every check once per VM and once per host, in exactly the expected findings' {
        $hosts = @($WaveVms.host | Sort-Object -Unique)
        @($Result | Where-Object TargetType -EQ 'VM').Count | Should -Be ($WaveVms.Count * 3)
        @($Result | Where-Object TargetType -EQ 'VMHost').Count | Should -Be ($hosts.Count * 5)
        $expected = @(
            "$($StaleVm.name) CbtConsistency Fail"
            "$NoVibReload HostdRestartAfterVib Fail"
            "$TmpLimit HostdTmpMemory Warn"
            "$LowMaxLun DiskMaxLun Fail"
            "$FullVar WrapperLogSpace Fail"
            foreach ($c in 'WrapperLogSpace', 'HostdRestartAfterVib', 'HostdTmpMemory', 'SshCloneMethod') { "$NoSession $c Unknown" }
        ) | Sort-Object
        Get-NotPassed $Result | Should -Be $expected
    }

    It 'names the evidence and the fix of each finding' {
        $r = $Result | Where-Object { $_.Target -eq $NoVibReload -and $_.Check -eq 'HostdRestartAfterVib' }
        $r.Evidence | Should -Match 'no vmkfstools namespace'
        $r.Fix | Should -Be "Restart-EsxiAgents -VMHost '$NoVibReload'"
        $r = $Result | Where-Object { $_.Target -eq $TmpLimit -and $_.Check -eq 'HostdTmpMemory' }
        $r.Evidence | Should -Match 'max 512000 KB'
        $r.Fix | Should -Be "Set-EsxiHostdTmpMemory -VMHost '$TmpLimit' -MaxMB 1024; runtime only; the value before it (max=512000 KB) is kept on the host to put back after the wave"
        $r = $Result | Where-Object { $_.Target -eq $LowMaxLun -and $_.Check -eq 'DiskMaxLun' }
        $r.Evidence | Should -Match '^Disk\.MaxLUN 2; highest LUN number in use 0'
        $r.Fix | Should -Match "^Set-EsxiDiskMaxLun -VMHost '$LowMaxLun' -Value 2048; or on the host: esxcli system settings advanced set -o /Disk/MaxLUN -i 2048"
        $r = $Result | Where-Object { $_.Target -eq $FullVar -and $_.Check -eq 'WrapperLogSpace' }
        $r.Fix | Should -Match "^Clear-VmkfstoolsWrapperLog -VMHost '$FullVar'; Register-LogRotationCron -VMHost '$FullVar'( -IntervalMinutes [1-5])?$"
        $r = $Result | Where-Object { $_.Target -eq $StaleVm.name -and $_.Check -eq 'CbtConsistency' }
        $r.Evidence | Should -Match 'stale -ctk\.vmdk files exist while CBT is disabled'
        $r.Fix | Should -Match "^Reset-VMChangeTracking -VM '$($StaleVm.name)' -Server '.+' -PowerOff$"
        $r.VMId | Should -Be "VirtualMachine-$($StaleVm.moref)"
    }

    It 'reports a host without a session as Unknown with the reason, never Pass, and still reads vCenter for it' {
        $rows = @($Result | Where-Object Target -EQ $NoSession)
        @($rows | Where-Object Check -NE 'DiskMaxLun' | ForEach-Object Status | Sort-Object -Unique) | Should -Be 'Unknown'
        ($rows | Where-Object Check -EQ 'HostdTmpMemory').Evidence | Should -Match 'no ESXi shell session'
        ($rows | Where-Object Check -EQ 'DiskMaxLun').Status | Should -Be 'Pass'
    }

    It 'reads a warm Plan as oc prints it: its VMs by moRef, and CBT off is a failure there' {
        # Both VMs on the host whose Disk.MaxLUN is 2: LUN 0 in use plus two new ones reach it.
        $a, $b = @($WaveVms | Where-Object host -EQ $LowMaxLun | Select-Object -First 2)
        $b | Should -Not -BeNullOrEmpty
        $json = (Get-Content -Raw (Join-Path $PSScriptRoot '../fixtures/mtv/wave/plan.json')).
            Replace('{{moref:VM_A}}', $a.moref).Replace('{{name:VM_A}}', $a.name).Replace('{{moref:VM_B}}', $b.moref)
        $rows = @(Test-MtvWaveReadiness -Plan ($json -split "`n") -WaveHours 1)
        @($rows | Where-Object TargetType -EQ 'VM' | ForEach-Object Target | Sort-Object -Unique) | Should -Be @(@($a.name, $b.name) | Sort-Object)
        $warm = @($rows | Where-Object Check -EQ 'WarmNeedsCbt')
        $warm.Count | Should -Be 2
        @($warm.Status | Sort-Object -Unique) | Should -Be 'Fail'
        $warm[0].Evidence | Should -Match 'VMMissingChangedBlockTracking'
        Get-NotPassed ($rows | Where-Object TargetType -EQ 'VMHost') | Should -Be @("$LowMaxLun DiskMaxLun Fail")
        # The same plan cold: no CBT demand.
        $cold = @(Test-MtvWaveReadiness -Plan $json.Replace('"warm": true', '"warm": false'))
        @($cold | Where-Object Check -EQ 'WarmNeedsCbt').Count | Should -Be 0
    }

    It 'refuses a -Plan that is not JSON, and one without a Plan' {
        { Test-MtvWaveReadiness -Plan 'apiVersion: v1' -ErrorAction Stop } | Should -Throw -ErrorId 'MtvClusterObjectInvalidJson,MtvRemediation.Commands.TestMtvWaveReadinessCommand'
        { Test-MtvWaveReadiness -Plan '{"kind":"Migration"}' -ErrorAction Stop } | Should -Throw -ErrorId 'MtvClusterObjectNotFound,MtvRemediation.Commands.TestMtvWaveReadinessCommand'
    }

    It 'runs its help example as written' {
        $out = @(Invoke-HelpExample (Get-HelpExample -Cmdlet Test-MtvWaveReadiness -Title 'Readiness of lab VMs'))
        # vcsim places the resource pool's VMs on cluster hosts that depend on the lab's size: read where they are.
        $rp = @(Get-LabVM | Where-Object name -Like 'DC0_C0_RP0_VM*')
        $rp.Count | Should -BeGreaterThan 0
        $targets = @($out.Target | Sort-Object -Unique)
        foreach ($v in $rp) {
            $targets | Should -Contain $v.name
            $targets | Should -Contain $v.host -Because 'the VMs'' hosts are checked with them'
            @($out | Where-Object { $_.Target -eq $v.name -and $_.Check -eq 'CbtConsistency' }).Count | Should -Be 1
        }
    }

    It 'projects the wrapper log''s growth from its own per-poll lines over the wave''s hours' {
        $vms = @(Get-LabVM -HostName $Clean | Where-Object datastore -EQ 'LocalDS_0')
        $short = Test-MtvWaveReadiness -VM $vms.name -WaveHours 1 | Where-Object Check -EQ 'WrapperLogSpace'
        $short.Status | Should -Be 'Pass'
        $short.Evidence | Should -Match 'measured \d+ bytes per poll \(\d+ polls in '
        $long = Test-MtvWaveReadiness -VM $vms.name -WaveHours 200 | Where-Object Check -EQ 'WrapperLogSpace'
        $long.Status | Should -Be 'Fail'
        $long.Evidence | Should -Match 'the volume fills during the wave'
        $long.Fix | Should -Match "^Register-LogRotationCron -VMHost '$Clean' -IntervalMinutes [1-5]$"
    }

    It 'writes the change board''s HTML and JSON summary with -ReportPath' {
        $dir = Join-Path ([IO.Path]::GetTempPath()) ('wave-report-' + [guid]::NewGuid().ToString('N'))
        try {
            $vm = @(Get-LabVM -HostName $NoVibReload | Where-Object datastore -EQ 'LocalDS_0')[0]
            $rows = @(Test-MtvWaveReadiness -VM $vm.name -WaveHours 1 -ReportPath $dir)
            $html = @(Get-ChildItem $dir -Filter 'mtv-wave-readiness-*.html')
            $json = @(Get-ChildItem $dir -Filter 'mtv-wave-readiness-*.json')
            $html.Count | Should -Be 1
            $json.Count | Should -Be 1
            $doc = Get-Content -Raw $json[0].FullName | ConvertFrom-Json
            $doc.checks.Count | Should -Be $rows.Count
            $doc.counts.Fail | Should -Be @($rows | Where-Object Status -EQ 'Fail').Count
            ($doc.checks | Where-Object check -EQ 'HostdRestartAfterVib').fix | Should -Be "Restart-EsxiAgents -VMHost '$NoVibReload'"
            $page = Get-Content -Raw $html[0].FullName
            $page | Should -Match '<h2>Not ready</h2>'
            $page | Should -Match "Restart-EsxiAgents -VMHost &#39;$NoVibReload&#39;"
            $page | Should -Not -Match '<script'
        }
        finally { Remove-Item -LiteralPath $dir -Recurse -Force -ErrorAction SilentlyContinue }
    }

    It 'reads a host over its existing session: no new SSH login' {
        $before = Get-LabSshdLoginCount $Clean
        $vm = $WaveVms | Where-Object host -EQ $Clean | Select-Object -First 1
        Test-MtvWaveReadiness -VM $vm.name | Out-Null
        (Get-LabSshdLoginCount $Clean) - $before | Should -Be 0
    }

    Context 'applying the fixes' {
        It 'previews a Disk.MaxLUN change with -WhatIf and changes nothing' {
            Set-EsxiDiskMaxLun -VMHost $LowMaxLun -Value 2048 -WhatIf | Should -BeNullOrEmpty
            $r = Test-MtvWaveReadiness -VM (Get-LabVM -HostName $LowMaxLun).name | Where-Object Check -EQ 'DiskMaxLun'
            $r.Status | Should -Be 'Fail'
            $r.Evidence | Should -Match '^Disk\.MaxLUN 2;'
        }

        It 'raises Disk.MaxLUN from the failed rows (help example) and reads it back' {
            $out = @(Invoke-HelpExample (Get-HelpExample -Cmdlet Set-EsxiDiskMaxLun -Title 'Fix the hosts the readiness check failed'))
            $out.Count | Should -Be 1
            $out[0].VMHost | Should -Be $LowMaxLun
            $out[0].PreviousValue | Should -Be 2
            $out[0].Value | Should -Be 2048
            $out[0].HighestLunInUse | Should -Be 0
            $out[0].Changed | Should -BeTrue
            # Again: already set, nothing changed.
            (Set-EsxiDiskMaxLun -VMHost $LowMaxLun -Value 2048).Changed | Should -BeFalse
        }

        It 'leaves only the host without a session not ready once every fix is applied' {
            $failed = @($Result | Where-Object { $_.Status -in 'Fail', 'Warn' })
            $failed | Where-Object Check -EQ 'HostdRestartAfterVib' | Restart-EsxiAgents -Confirm:$false | Out-Null
            $failed | Where-Object Check -EQ 'WrapperLogSpace' | Clear-VmkfstoolsWrapperLog -Confirm:$false | Out-Null
            $failed | Where-Object Check -EQ 'CbtConsistency' | Reset-VMChangeTracking -PowerOff -Force -Confirm:$false | Out-Null
            # The help example raises the warned host's limit.
            $raised = @(Invoke-HelpExample (Get-HelpExample -Cmdlet Set-EsxiHostdTmpMemory -Title 'Raise it where the readiness check warned'))
            $raised.Count | Should -Be 1
            $raised[0].PreviousMaxKB | Should -Be 512000
            $raised[0].MaxKB | Should -Be 1048576
            $raised[0].RecordedMaxKB | Should -Be 512000
            $again = @(Test-MtvWaveReadiness -VM $WaveVms.name -WaveHours 1)
            ($again | Where-Object { $_.Target -eq $TmpLimit -and $_.Check -eq 'HostdTmpMemory' }).Evidence | Should -Match 'raised for the wave, the value before it \(512000 KB\) is kept on the host'
            Get-NotPassed $again | Should -Be @(foreach ($c in 'HostdRestartAfterVib', 'HostdTmpMemory', 'SshCloneMethod', 'WrapperLogSpace') { "$NoSession $c Unknown" })
        }

        It 'keeps the value before the first raise on the host; a second raise does not replace it; -WhatIf changes nothing' {
            Invoke-LabHost $TmpLimit 'cat /var/run/mtvremediation-hostd-tmp' | Should -Match '(?m)^group 7\s+min:0\s+max:512000'
            $again = Set-EsxiHostdTmpMemory -VMHost $TmpLimit -MaxMB 2048 -Confirm:$false
            $again.PreviousMaxKB | Should -Be 1048576
            $again.RecordedMaxKB | Should -Be 512000
            Set-EsxiHostdTmpMemory -VMHost $TmpLimit -MaxMB 4096 -WhatIf | Should -BeNullOrEmpty
            Invoke-LabHost $TmpLimit 'vsish -e get /sched/groups/7/memAllocation' | Should -Match 'max:2097152'
            # Never lowered.
            (Set-EsxiHostdTmpMemory -VMHost $TmpLimit -MaxMB 1024 -Confirm:$false).Changed | Should -BeFalse
        }

        It 'puts the recorded value back after the wave and removes the record' {
            $r = Invoke-HelpExample (Get-HelpExample -Cmdlet Restore-EsxiHostdTmpMemory -Title 'Restore a lab host')
            $r.PreviousMaxKB | Should -Be 2097152
            $r.MaxKB | Should -Be 512000
            $r.Changed | Should -BeTrue
            Invoke-LabHost $TmpLimit 'test -e /var/run/mtvremediation-hostd-tmp && echo present || echo gone' | Should -Be 'gone'
            # Nothing left to restore.
            (Restore-EsxiHostdTmpMemory -VMHost $TmpLimit -Confirm:$false).Changed | Should -BeFalse
        }
    }

    # The same fixes through the runbook: the causes arranged again as the first run found them,
    # then Invoke-MtvRemediation -Preflight plans and makes exactly the fixes the readiness names.
    Context 'applying the fixes through the runbook (Invoke-MtvRemediation -Preflight)' {
        BeforeAll {
            Invoke-LabVcsimCtl option @{ host = $LowMaxLun; key = 'Disk.MaxLUN'; value = 2 } | Out-Null
            Set-LabWrapper $NoVibReload 2.10 -WithoutHostdRestart
            Set-LabVarFill $FullVar 95 | Out-Null
            Reset-WaveVms
            Set-Content -LiteralPath $StaleCtk -Value 'stale change tracking file'
            Get-NotPassed (Test-MtvWaveReadiness -VM $WaveVms.name -WaveHours 1) | Should -Be (Get-NotPassed $Result) -Because 'the causes are as the first run found them'
            function Get-HostRow($Rows, $Name) { $Rows | Where-Object { $_ -is [MtvRemediation.RemediationHostSummary] -and $_.VMHost -eq $Name } }
        }

        It '-WhatIf plans exactly the fixes the readiness check names, and changes nothing' {
            $out = @(Invoke-MtvRemediation -VM $WaveVms.name -Preflight -WaveHours 1 -PowerOff -Force -WhatIf -ErrorAction SilentlyContinue 6>$null)
            @((Get-HostRow $out $TmpLimit).Plan).Count | Should -Be 1 -Because 'the readiness warned here, and only about that'
            (Get-HostRow $out $TmpLimit).Plan[0] | Should -Match "^Raise the hostd-tmp resource group's memory max to 1024 MB at runtime \(vsish; lost at reboot\) for \d+ concurrent clone\(s\), keeping the value before it in /var/run/mtvremediation-hostd-tmp on the host to put back after the wave$"
            @((Get-HostRow $out $LowMaxLun).Plan).Count | Should -Be 1
            (Get-HostRow $out $LowMaxLun).Plan[0] | Should -Match '^Set Disk\.MaxLUN from 2 to 2048 through vCenter \S+ \(rescan the storage adapters or reboot the host afterwards\)$'
            @((Get-HostRow $out $NoVibReload).Plan).Count | Should -Be 1
            (Get-HostRow $out $NoVibReload).Plan[0] | Should -Match "^Restart the management agent\(s\) hostd, then vpxa .*, so that hostd loads the wrapper VIB's esxcli plugin"
            @((Get-HostRow $out $FullVar).Plan).Count | Should -Be 2
            (Get-HostRow $out $FullVar).Plan[0] | Should -Match '^Truncate /var/log/vmkfstools-wrapper\.log in place'
            (Get-HostRow $out $FullVar).Plan[1] | Should -Match '^Add a temporary cron job to root''s crontab'
            (Get-HostRow $out $Clean).Plan | Should -BeNullOrEmpty
            Invoke-LabHost $TmpLimit 'vsish -e get /sched/groups/7/memAllocation' | Should -Match 'max:512000'
            (Test-MtvWaveReadiness -VM (Get-LabVM -HostName $LowMaxLun).name | Where-Object Check -EQ 'DiskMaxLun').Status | Should -Be 'Fail'
        }

        It 'applies them through the runbook, each through its cmdlet''s operation; readiness then shows every host ready' {
            $out = @(Invoke-MtvRemediation -VM $WaveVms.name -Preflight -WaveHours 1 -PowerOff -Force -Confirm:$false -ErrorVariable errs -ErrorAction SilentlyContinue)
            @($errs | ForEach-Object { "$($_.TargetObject)" } | Sort-Object -Unique) | Should -Be @($NoSession) -Because 'only the host without a session could not be worked on'
            @((Get-HostRow $out $TmpLimit).Actions) | Should -Be 'Raised the hostd-tmp memory max (group 7) from 512000 KB to 1048576 KB at runtime; 512000 KB is kept on the host to put back after the wave'
            @((Get-HostRow $out $LowMaxLun).Actions).Count | Should -Be 1
            (Get-HostRow $out $LowMaxLun).Actions[0] | Should -Match '^Set Disk\.MaxLUN from 2 to 2048 through vCenter '
            @((Get-HostRow $out $NoVibReload).Actions -match '^Restarted (hostd|vpxa) ').Count | Should -Be 2
            @((Get-HostRow $out $FullVar).Actions | Where-Object { $_ -match '^Registered the temporary rotation cron job' }).Count | Should -Be 1
            foreach ($h in $TmpLimit, $LowMaxLun, $NoVibReload, $FullVar) { (Get-HostRow $out $h).Result | Should -Be 'Remediated' -Because "$h got its fixes" }
            (Get-HostRow $out $Clean).Result | Should -Be 'Healthy'
            ($out | Where-Object { $_ -is [MtvRemediation.RemediationVMSummary] -and $_.VM -eq $StaleVm.name }).Result | Should -Be 'Remediated'
            Invoke-LabHost $TmpLimit 'cat /var/run/mtvremediation-hostd-tmp' | Should -Match '(?m)^max:512000' -Because 'the raise kept the value before it, as Set-EsxiHostdTmpMemory does'
            @(Get-LogRotationCron -VMHost $FullVar).Count | Should -Be 1
            $again = @(Test-MtvWaveReadiness -VM $WaveVms.name -WaveHours 1)
            Get-NotPassed $again | Should -Be @(foreach ($c in 'HostdRestartAfterVib', 'HostdTmpMemory', 'SshCloneMethod', 'WrapperLogSpace') { "$NoSession $c Unknown" })
        }
    }

    # After the wave: what the preparation changed is put back, and only that. Arranged as a wave
    # leaves hosts: the rotation job and the hostd-tmp raise (made by -Preflight above; made sure of
    # here, so that this context stands on its own), SSH that this session started on a host where
    # it was stopped, and a host whose SSH ran before and stays.
    Context 'after the wave (Complete-MtvWave)' {
        BeforeAll {
            $script:SshHost = $lab.Hosts | Where-Object Name -EQ $NoSession
            # The record SSH on demand keeps on vCenter (custom attribute of the host), written raw:
            # the module is not the tool to arrange its own input. Another suite's killed client may
            # have left one; the hosts start without.
            $script:Cfm = $Raw.ServiceContent.customFieldsManager.'#text'
            function Set-SshRecord([string] $HostName, [string] $Value) {
                $defs = @((Get-VcsimProperty $Raw 'CustomFieldsManager' $Cfm 'field')['field'].ChildNodes)
                $key = @($defs | Where-Object { $_.name -eq 'mtvremediation.sshServiceStarted' })[0].key
                if (-not $key) { if ($Value) { throw 'the record''s field does not exist yet' }; return }
                Invoke-VcsimSoap -Url $Raw.Url -Cookie $Raw.Cookie -Body "<SetField xmlns=`"urn:vim25`"><_this type=`"CustomFieldsManager`">$Cfm</_this><entity type=`"HostSystem`">$((Get-LabHost $HostName).moref)</entity><key>$key</key><value>$(ConvertTo-XmlText $Value)</value></SetField>" | Out-Null
            }
            foreach ($h in $lab.Hosts.Name) { Set-SshRecord $h '' }
            Register-LogRotationCron -VMHost $FullVar -Confirm:$false | Out-Null
            Set-EsxiHostdTmpMemory -VMHost $TmpLimit -MaxMB 1024 -Confirm:$false | Out-Null
            Stop-LabSshd $NoSession
            Connect-EsxiShell -VMHost $NoSession -Address $SshHost.Address -Port $SshHost.Port -Credential $SshHost.Credential -KnownHostsPath $lab.KnownHostsPath -StartSshService -Confirm:$false | Out-Null
            $script:WaveHosts = @($FullVar, $TmpLimit, $NoSession, $Clean)
            function Get-WhatIfText([scriptblock] $Command) {
                $log = Join-Path ([IO.Path]::GetTempPath()) "complete-wave-whatif-$PID.txt"
                Start-Transcript -Path $log -Force | Out-Null
                try { $out = @(& $Command) } finally { Stop-Transcript | Out-Null }
                $out | Should -BeNullOrEmpty -Because '-WhatIf returns no rows: nothing was done'
                try { (Get-Content $log -Raw) -replace '\s+', ' ' } finally { Remove-Item $log -ErrorAction SilentlyContinue }
            }
            function Get-HostdTmpMax($h) { [long]((Invoke-LabHost $h 'vsish -e get /sched/groups/7/memAllocation') -join "`n" -replace '(?s).*max:(-?\d+).*', '$1') }
        }
        AfterAll { Start-LabSshd $NoSession }

        It 'lists the raised hostd-tmp limit as pending work for after the wave; resuming it under -WhatIf changes nothing, resuming it restores it' {
            $p = @(Get-MtvPendingOperation | Where-Object Kind -EQ 'HostdTmpRaised')
            $p.Count | Should -Be 1
            $p[0].VMHost | Should -Be $TmpLimit
            $p[0].RecordLocation | Should -Be "/var/run/mtvremediation-hostd-tmp on $TmpLimit"
            $p[0].Detail | Should -Match 'raised for the wave to 1048576 KB; 512000 KB, the value before it, is to be put back'
            $p[0].ResumeCommand | Should -Be "Restore-EsxiHostdTmpMemory -VMHost '$TmpLimit'"
            $p | Resume-MtvPendingOperation -WhatIf | Should -BeNullOrEmpty
            Get-HostdTmpMax $TmpLimit | Should -Be 1048576
            # Resumed, it is put back through Restore-EsxiHostdTmpMemory; raised again for what follows.
            $r = @($p | Resume-MtvPendingOperation -Confirm:$false)
            $r.Count | Should -Be 1
            $r[0] | Should -BeOfType ([MtvRemediation.HostdTmpMemoryChange])
            $r[0].MaxKB | Should -Be 512000
            Get-MtvPendingOperation | Where-Object Kind -EQ 'HostdTmpRaised' | Should -BeNullOrEmpty
            Set-EsxiHostdTmpMemory -VMHost $TmpLimit -MaxMB 1024 -Confirm:$false | Out-Null
        }

        It '-WhatIf names each change per host, exactly what would be put back, and changes nothing' {
            $text = Get-WhatIfText { Complete-MtvWave -VMHost $WaveHosts -WhatIf }
            $ops = @([regex]::Matches($text, 'What if: Performing the operation "([^"]*)" on target "([^"]*)"') | ForEach-Object { '{0}: {1}' -f $_.Groups[2].Value, $_.Groups[1].Value })
            $ops.Count | Should -Be 3
            $ops[0] | Should -Match "^${FullVar}: Remove the MtvRemediation log rotation job for /\S+ from root's crontab and reload crond$"
            $ops[1] | Should -Be "${TmpLimit}: Put the hostd-tmp resource group's memory max back to 512000 KB, the value recorded in /var/run/mtvremediation-hostd-tmp before the wave, and remove the record"
            $ops[2] | Should -Match "^${NoSession}: Close this session's SSH connection to the host, stop SSH \(TSM-SSH\), which -StartSshService of this session started"
            @(Get-LogRotationCron -VMHost $FullVar).Count | Should -Be 1
            Get-HostdTmpMax $TmpLimit | Should -Be 1048576
            Get-LabSshService $NoSession | Should -Be 'running'
            (Get-EsxiShell -VMHost $NoSession).IsConnected | Should -BeTrue
        }

        It 'puts back what was changed (help example), stops SSH only where this module started it, and says what was left' {
            $rows = @(Invoke-HelpExample (Get-HelpExample -Cmdlet Complete-MtvWave -Title 'End of a lab wave'))
            $rows += @(Complete-MtvWave -VMHost $NoSession, $Clean -Confirm:$false)
            @($rows.VMHost) | Should -Be @($FullVar, $TmpLimit, $NoSession, $Clean)
            $r = $rows[0]
            $r.Changed | Should -BeTrue
            @($r.RotationJobsRemoved).Count | Should -Be 1
            "$($r.Restored)" | Should -Match '^Rotation: removed the job for /\S+ and reloaded crond$'
            Get-LogRotationCron -VMHost $FullVar | Should -BeNullOrEmpty
            $r = $rows[1]
            $r.HostdTmpMaxKB | Should -Be 512000
            "$($r.Restored)" | Should -Be 'hostd-tmp: memory max put back to 512000 KB (was 1048576 KB); the record was removed'
            Get-HostdTmpMax $TmpLimit | Should -Be 512000
            Invoke-LabHost $TmpLimit 'test -e /var/run/mtvremediation-hostd-tmp && echo present || echo gone' | Should -Be 'gone'
            $r = $rows[2]
            $r.SshStopped | Should -BeTrue
            Get-LabSshService $NoSession | Should -Be 'stopped'
            Get-EsxiShell -VMHost $NoSession -ErrorAction SilentlyContinue | Should -BeNullOrEmpty -Because 'its session went with the SSH this session had started'
            $r = $rows[3]
            $r.Changed | Should -BeFalse
            $r.SshStopped | Should -BeFalse
            @($r.Left) | Should -Contain 'SSH (TSM-SSH) runs, and no record says this module started it (it ran before the wave, or was started by someone else): left running'
            Get-LabSshService $Clean | Should -Be 'running'
        }

        It 'changes nothing when run again: nothing is left to put back' {
            $hosts = @($FullVar, $TmpLimit, $Clean)
            Get-WhatIfText { Complete-MtvWave -VMHost $hosts -WhatIf } | Should -Not -Match 'What if:'
            $rows = @(Complete-MtvWave -VMHost $hosts -Confirm:$false)
            $rows.Count | Should -Be 3
            @($rows.Changed | Sort-Object -Unique) | Should -Be $false
            @($rows | Where-Object VMHost -EQ $FullVar).Left | Should -Contain "Rotation: no log rotation job of this module in root's crontab"
            @($rows | Where-Object VMHost -EQ $TmpLimit).Left | Should -Contain 'hostd-tmp: no record of a raise by this module (none made, or the host rebooted since, which restored the default)'
            Get-HostdTmpMax $TmpLimit | Should -Be 512000
            Get-MtvPendingOperation | Where-Object Kind -EQ 'HostdTmpRaised' | Should -BeNullOrEmpty
        }

        It 'stops SSH that a run which has ended started (the host''s record on vCenter), closing this session''s connection first' {
            # The record a killed run leaves: a process on this workstation that has ended.
            $gone = Start-Process true -PassThru; $gone.WaitForExit()
            Set-SshRecord $LowMaxLun ('startedAt={0:yyyy-MM-ddTHH:mm:ssZ} user=lab workstation={1} pid={2} run=ended' -f [DateTime]::UtcNow.AddMinutes(-1), [Environment]::MachineName, $gone.Id)
            try {
                Get-LabSshService $LowMaxLun | Should -Be 'running'
                $text = Get-WhatIfText { Complete-MtvWave -VMHost $LowMaxLun -WhatIf }
                $text | Should -Match ('What if: Performing the operation "Stop SSH \(TSM-SSH\), which -StartSshService of an ended run started \(lab on \S+ \(process ' + $gone.Id + '\) at [^)]+\), closing this session''s connection to the host first, and clear its record" on target "' + $LowMaxLun + '"')
                $r = Complete-MtvWave -VMHost $LowMaxLun -Confirm:$false
                $r.SshStopped | Should -BeTrue
                @($r.Restored) | Should -Be 'SSH (TSM-SSH): stopped, as -StartSshService of this module had started it; the record was cleared'
                Get-LabSshService $LowMaxLun | Should -Be 'stopped'
                Get-EsxiShell -VMHost $LowMaxLun -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
                Get-MtvPendingOperation | Where-Object { $_.Kind -eq 'SshServiceStarted' -and $_.Target -eq $LowMaxLun } | Should -BeNullOrEmpty -Because 'the record is cleared'
            }
            finally { Start-LabSshd $LowMaxLun }
        }
    }
}
