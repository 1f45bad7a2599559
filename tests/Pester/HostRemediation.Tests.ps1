# Host remediation cmdlets against the lab: real sshd, BusyBox ash in ESXi-like chroots, real crond.
# Setup and independent checks look at the hosts' files directly (chroot); the cmdlets go through SSH.

BeforeAll {
    $manifestPath = if ($env:MTV_MODULE_PATH) { $env:MTV_MODULE_PATH } else { Join-Path $PSScriptRoot '../../out/MtvRemediation/0.1.0/MtvRemediation.psd1' }
    Import-Module $manifestPath -Force
    $script:ManifestPath = $manifestPath
    $script:Helpers = Join-Path $PSScriptRoot 'HostRemediation.Helpers.ps1'
    . $Helpers
    . (Join-Path $PSScriptRoot 'HelpExample.ps1')
    $script:Lab = Get-HostLab
    # Three hosts cover every behaviour (one to break, one to leave alone, one more for fan-out);
    # the lab may run many more for the fleet tests.
    $script:LabHosts = @($Lab.Hosts | Select-Object -First 3)
    $script:Log = '/var/log/vmkfstools-wrapper.log'
    $script:CrontabPath = '/var/spool/cron/crontabs/root'
    foreach ($vmh in $LabHosts) { Initialize-HostState $vmh }
    # Get-EsxiShell pipelines below must see exactly our hosts: start from no sessions in this runspace.
    Get-EsxiShell | Disconnect-EsxiShell -Confirm:$false
    Connect-HostLab $Lab -Hosts $LabHosts
}

AfterAll {
    if ($script:Lab) {
        foreach ($vmh in $script:LabHosts) { Initialize-HostState $vmh }
        Get-EsxiShell | Disconnect-EsxiShell -Confirm:$false
    }
}

Describe 'Test-VmkfstoolsLogSpace' -Tag Lab {
    BeforeEach { foreach ($vmh in $LabHosts) { Reset-HostState $vmh } }

    It 'reports the log and the volume with byte-exact numbers and names the source' {
        Write-HostFile $LabHosts[0] $Log (New-WrapperLogBytes 1000)
        $r = Test-VmkfstoolsLogSpace -VMHost $LabHosts[0].Name
        $r.PSObject.TypeNames[0] | Should -Be 'MtvRemediation.LogSpaceStatus'
        $r.LogExists | Should -BeTrue
        $r.LogSizeBytes | Should -Be (Get-HostFileSize $LabHosts[0] $Log)
        $r.VolumePath | Should -Be '/var'
        $r.VolumeName | Should -Be 'var'
        $r.VolumeKind | Should -Be 'ramdisk'
        $r.Source | Should -Be 'ramdisk list + vdf'
        $fs = Get-HostVarSpace $LabHosts[0]
        $r.VolumeSizeBytes | Should -Be $fs.Size
        [Math]::Abs($r.VolumeFreeBytes - $fs.Free) | Should -BeLessOrEqual 8192
        $r.Status | Should -Be 'Healthy'
        $r.WrapperInstalled | Should -BeTrue
        $r.TmpSource | Should -Not -BeNullOrEmpty
    }

    It 'says Critical when /var is 100% full, and Warning in between' {
        Set-HostVarFull $LabHosts[0]
        $r = Test-VmkfstoolsLogSpace -VMHost $LabHosts[0].Name
        $r.UsedPercent | Should -Be 100
        $r.VolumeFreeBytes | Should -Be 0
        $r.Status | Should -Be 'Critical'
        $r.Reasons | Should -Not -BeNullOrEmpty
        (Test-VmkfstoolsLogSpace -VMHost $LabHosts[0].Name -WarningPercent 100 -CriticalPercent 100).Status | Should -Be 'Critical'
        Set-LabVarFill -HostName $LabHosts[1].Name -Percent 80 | Out-Null
        (Test-VmkfstoolsLogSpace -VMHost $LabHosts[1].Name).Status | Should -Be 'Warning'
    }

    It 'counts /tmp task dirs, stale ones and the secure log' {
        Invoke-InHost $LabHosts[0] "mkdir -p /tmp/vmkfstools-wrapper-a1 /tmp/vmkfstools-wrapper-b2 && touch -d '2020-01-01 00:00' /tmp/vmkfstools-wrapper-a1 && echo x > /var/log/secure-vmkfstools-wrapper.log"
        $r = Test-VmkfstoolsLogSpace -VMHost $LabHosts[0].Name
        $r.TaskDirCount | Should -Be 2
        $r.StaleTaskDirCount | Should -Be 1
        $r.SecureLogExists | Should -BeTrue
        $r.SecureLogSizeBytes | Should -Be 2
        $r.TmpSizeBytes | Should -BeGreaterThan 0
    }

    It 'returns one boolean per host with -Quiet, and an unreachable host is an error for that host only' {
        Set-HostVarFull $LabHosts[0]
        $out = @(Test-VmkfstoolsLogSpace -VMHost $LabHosts[0].Name, 'no-such-host.invalid', $LabHosts[1].Name -Quiet -ErrorVariable errs -ErrorAction SilentlyContinue)
        $out.Count | Should -Be 3
        $out | ForEach-Object { $_ | Should -BeOfType [bool] }
        ($out | Where-Object { $_ }).Count | Should -Be 1      # only the healthy host
        $errs.Count | Should -Be 1
        $errs[0].TargetObject | Should -Be 'no-such-host.invalid'
        $errs[0].FullyQualifiedErrorId | Should -Match '^EsxiShell'
    }

    It 'refuses contradictory thresholds before touching any host' {
        { Test-VmkfstoolsLogSpace -VMHost $LabHosts[0].Name -WarningPercent 95 -CriticalPercent 90 -ErrorAction Stop } |
            Should -Throw -ErrorId 'HostRemediationInvalidArgument,MtvRemediation.Commands.TestVmkfstoolsLogSpaceCommand'
    }
}

Describe 'Clear-VmkfstoolsWrapperLog' -Tag Lab {
    BeforeEach { foreach ($vmh in $LabHosts) { Reset-HostState $vmh } }

    It 'frees a 100% full /var by truncating in place (same inode)' {
        Set-HostVarFull $LabHosts[0]
        $inode = Invoke-InHost $LabHosts[0] "stat -c %i $Log"
        $r = Clear-VmkfstoolsWrapperLog -VMHost $LabHosts[0].Name -Confirm:$false
        $r.PSObject.TypeNames[0] | Should -Be 'MtvRemediation.LogClearResult'
        $r.BytesBefore | Should -BeGreaterThan 1MB
        $r.BytesAfter | Should -Be 0
        $r.FreedBytes | Should -Be $r.BytesBefore
        $r.UsedPercentBefore | Should -Be 100
        $r.UsedPercentAfter | Should -BeLessThan 10
        Invoke-InHost $LabHosts[0] "stat -c %i $Log" | Should -Be $inode
        Get-HostFileSize $LabHosts[0] $Log | Should -Be 0
        (Test-VmkfstoolsLogSpace -VMHost $LabHosts[0].Name).Status | Should -Be 'Healthy'
    }

    It 'composes: Get-EsxiShell | Test | Where Status -ne Healthy | Clear touches only the unhealthy host' {
        Set-HostVarFull $LabHosts[0]
        Write-HostFile $LabHosts[1] $Log (New-WrapperLogBytes 200)
        $before1 = Get-HostFileSize $LabHosts[1] $Log
        $r = @(Get-EsxiShell | Test-VmkfstoolsLogSpace | Where-Object Status -ne Healthy | Clear-VmkfstoolsWrapperLog -Confirm:$false)
        $r.Count | Should -Be 1
        $r[0].VMHost | Should -Be $LabHosts[0].Name
        Get-HostFileSize $LabHosts[0] $Log | Should -Be 0
        Get-HostFileSize $LabHosts[1] $Log | Should -Be $before1
    }

    It 'archives first: the .gz decompresses to the original log byte for byte' {
        $bytes = New-WrapperLogBytes 30000 -Binary
        Write-HostFile $LabHosts[0] $Log $bytes
        $dir = Join-Path $TestDrive 'archive'
        $r = Clear-VmkfstoolsWrapperLog -VMHost $LabHosts[0].Name -ArchivePath $dir -Confirm:$false
        $r.ArchiveFile | Should -Exist
        (Get-Item $r.ArchiveFile).Length | Should -BeLessThan $bytes.Length
        $back = Expand-GzipBytes $r.ArchiveFile
        $back.Length | Should -Be $bytes.Length
        [Convert]::ToHexString([Security.Cryptography.SHA256]::HashData($back)) | Should -Be ([Convert]::ToHexString([Security.Cryptography.SHA256]::HashData($bytes)))
        Get-HostFileSize $LabHosts[0] $Log | Should -Be 0
        @(Get-ChildItem $dir -Filter '*.partial').Count | Should -Be 0
    }

    It 'archives with -CompressOnHost (the host''s gzip) just as byte-exactly' {
        $bytes = New-WrapperLogBytes 30000 -Binary
        Write-HostFile $LabHosts[0] $Log $bytes
        $dir = Join-Path $TestDrive 'onhost'
        $r = Clear-VmkfstoolsWrapperLog -VMHost $LabHosts[0].Name -ArchivePath $dir -CompressOnHost -Confirm:$false
        $back = Expand-GzipBytes $r.ArchiveFile
        [Convert]::ToHexString([Security.Cryptography.SHA256]::HashData($back)) | Should -Be ([Convert]::ToHexString([Security.Cryptography.SHA256]::HashData($bytes)))
        Get-HostFileSize $LabHosts[0] $Log | Should -Be 0
    }

    It 'refuses -CompressOnHost without -ArchivePath and changes nothing' {
        $bytes = New-WrapperLogBytes 2000
        Write-HostFile $LabHosts[0] $Log $bytes
        { Clear-VmkfstoolsWrapperLog -VMHost $LabHosts[0].Name -CompressOnHost -Confirm:$false } |
            Should -Throw -ErrorId 'HostRemediationInvalidArgument,MtvRemediation.Commands.ClearVmkfstoolsWrapperLogCommand'
        Get-HostFileSize $LabHosts[0] $Log | Should -Be $bytes.Length
    }

    It 'archives and clears a 100% full /var (the archive streams to the client)' {
        Set-HostVarFull $LabHosts[0]
        $expected = Get-HostFileHash $LabHosts[0] $Log
        $r = Clear-VmkfstoolsWrapperLog -VMHost $LabHosts[0].Name -ArchivePath (Join-Path $TestDrive 'full') -Confirm:$false
        [Convert]::ToHexString([Security.Cryptography.SHA256]::HashData((Expand-GzipBytes $r.ArchiveFile))).ToLowerInvariant() | Should -Be $expected
        $r.UsedPercentAfter | Should -BeLessThan 10
    }

    It 'keeps exactly the last lines with -KeepLastLines' {
        $bytes = New-WrapperLogBytes 5000
        Write-HostFile $LabHosts[0] $Log $bytes
        $r = Clear-VmkfstoolsWrapperLog -VMHost $LabHosts[0].Name -KeepLastLines 700 -Confirm:$false
        $lines = [Text.Encoding]::UTF8.GetString($bytes).TrimEnd("`n").Split("`n")
        $expected = (($lines | Select-Object -Last 700) -join "`n") + "`n"
        Get-HostFileText $LabHosts[0] $Log | Should -BeExactly $expected
        $r.KeptBytes | Should -Be ([Text.Encoding]::UTF8.GetByteCount($expected))
    }

    It 'treats a missing log as nothing to do' {
        Invoke-InHost $LabHosts[0] "rm -f $Log"
        $r = Clear-VmkfstoolsWrapperLog -VMHost $LabHosts[0].Name -Confirm:$false -ErrorVariable errs
        $errs.Count | Should -Be 0
        $r.LogExists | Should -BeFalse
        $r.FreedBytes | Should -Be 0
        Invoke-InHost $LabHosts[0] "[ -e $Log ] && echo yes || echo no" | Should -Be 'no'
    }

    It 'changes nothing with -WhatIf' {
        Set-HostVarFull $LabHosts[0]
        $hash = Get-HostFileHash $LabHosts[0] $Log
        $dir = Join-Path $TestDrive 'whatif'
        Get-EsxiShell | Clear-VmkfstoolsWrapperLog -ArchivePath $dir -WhatIf
        Get-HostFileHash $LabHosts[0] $Log | Should -Be $hash
        $dir | Should -Not -Exist
    }
}

Describe 'Register-, Get-, Unregister-LogRotationCron' -Tag Lab {
    BeforeEach { foreach ($vmh in $LabHosts) { Reset-HostState $vmh } }

    It 'adds one tagged line, keeps every foreign byte and the mode, and reloads crond' {
        $origBytes = Get-HostFileBytes $LabHosts[0] $CrontabPath
        $origMode = Invoke-InHost $LabHosts[0] "stat -c %a $CrontabPath"
        $pid0 = Invoke-InHost $LabHosts[0] 'cat /var/run/crond.pid'
        $r = Register-LogRotationCron -VMHost $LabHosts[0].Name -IntervalMinutes 5 -MaxSizeMB 10 -Confirm:$false -WarningVariable warn
        $warn | Should -Match 'lost when the host reboots'
        $r.PSObject.TypeNames[0] | Should -Be 'MtvRemediation.LogRotationCron'
        $r.Registered | Should -BeTrue
        $r.Changed | Should -BeTrue
        $r.Schedule | Should -Be '*/5 * * * *'
        $r.MaxSizeMB | Should -Be 10
        $r.CrondPid | Should -Not -Be ([int]$pid0)
        [int](Invoke-InHost $LabHosts[0] 'cat /var/run/crond.pid') | Should -Be $r.CrondPid
        Invoke-InHost $LabHosts[0] "kill -0 $($r.CrondPid) && echo alive" | Should -Be 'alive'
        $now = Get-HostFileBytes $LabHosts[0] $CrontabPath
        # The original bytes are an exact prefix; what follows is exactly one line of ours.
        [Convert]::ToHexString($now[0..($origBytes.Length - 1)]) | Should -Be ([Convert]::ToHexString($origBytes))
        $added = [Text.Encoding]::UTF8.GetString($now, $origBytes.Length, $now.Length - $origBytes.Length)
        $added.TrimEnd("`n").Split("`n").Count | Should -Be 1
        $added | Should -Match '# MtvRemediation:log-rotation'
        Invoke-InHost $LabHosts[0] "stat -c %a $CrontabPath" | Should -Be $origMode

        Unregister-LogRotationCron -VMHost $LabHosts[0].Name -Confirm:$false | Out-Null
        [Convert]::ToHexString((Get-HostFileBytes $LabHosts[0] $CrontabPath)) | Should -Be ([Convert]::ToHexString($origBytes))
        Invoke-InHost $LabHosts[0] "stat -c %a $CrontabPath" | Should -Be $origMode
    }

    It 'keeps odd foreign lines (CRLF, comments, env, no final newline) byte-identical' {
        $odd = [byte[]](Get-HostFileBytes $LabHosts[0] $CrontabPath) + [Text.Encoding]::UTF8.GetBytes("SHELL=/bin/sh`r`n# a comment with 'quotes' and `$(x)`r`n0 3 * * * /bin/true  # trailing`t")
        Write-HostFile $LabHosts[0] $CrontabPath $odd
        Register-LogRotationCron -VMHost $LabHosts[0].Name -Confirm:$false 3>$null | Out-Null
        Unregister-LogRotationCron -VMHost $LabHosts[0].Name -Confirm:$false | Out-Null
        $after = Get-HostFileBytes $LabHosts[0] $CrontabPath
        # Every foreign byte is back, the missing final newline included (issue 11).
        [Convert]::ToHexString($after) | Should -Be ([Convert]::ToHexString($odd))
    }

    It 'reloads crond when the crontab is up to date but crond started before its last change (a run killed before its reload)' {
        $a = Register-LogRotationCron -VMHost $LabHosts[0].Name -Confirm:$false 3>$null
        # What a run killed between its rename and its reload leaves: our line in the crontab, written
        # after the running crond read it.
        Start-Sleep -Milliseconds 1100
        $null = Invoke-InHost $LabHosts[0] 'touch /var/spool/cron/crontabs/root'
        $b = Register-LogRotationCron -VMHost $LabHosts[0].Name -Confirm:$false 3>$null
        $b.Changed | Should -BeFalse
        $b.CrondPid | Should -Not -Be $a.CrondPid -Because 'crond had not read the crontab: it is reloaded'
        Invoke-InHost $LabHosts[0] "kill -0 $($b.CrondPid) && echo alive" | Should -Be 'alive'
        # Now crond has read it: the next run changes nothing.
        (Register-LogRotationCron -VMHost $LabHosts[0].Name -Confirm:$false 3>$null).CrondPid | Should -Be $b.CrondPid
    }

    It 'is idempotent and new parameters replace our entry' {
        $a = Register-LogRotationCron -VMHost $LabHosts[0].Name -Confirm:$false 3>$null
        $b = Register-LogRotationCron -VMHost $LabHosts[0].Name -Confirm:$false 3>$null
        $b.Changed | Should -BeFalse
        $b.CrondPid | Should -Be $a.CrondPid
        Register-LogRotationCron -VMHost $LabHosts[0].Name -IntervalMinutes 2 -MaxSizeMB 3 -Confirm:$false 3>$null | Out-Null
        $got = @(Get-LogRotationCron -VMHost $LabHosts[0].Name)
        $got.Count | Should -Be 1
        $got[0].Schedule | Should -Be '*/2 * * * *'
        $got[0].MaxSizeBytes | Should -Be 3MB
        (Invoke-InHost $LabHosts[0] "grep -c 'MtvRemediation:log-rotation' $CrontabPath") | Should -Be '1'
    }

    It 'leaves exactly one entry after two registrations in parallel from two runspaces' {
        $jobs = foreach ($n in 1, 2) {
            Start-ThreadJob -ArgumentList $n -ScriptBlock {
                param($n)
                Import-Module $using:ManifestPath
                $target = ($using:LabHosts)[0]
                . $using:Helpers
                Connect-HostLab $using:Lab -Hosts $target
                Register-LogRotationCron -VMHost $target.Name -IntervalMinutes $n -MaxSizeMB $n -Confirm:$false 3>$null
            }
        }
        $results = @($jobs | Receive-Job -Wait -AutoRemoveJob)
        $results.Count | Should -Be 2
        $results | ForEach-Object { $_.Changed | Should -BeTrue }
        (Invoke-InHost $LabHosts[0] "grep -c 'MtvRemediation:log-rotation' $CrontabPath") | Should -Be '1'
        @(Get-LogRotationCron -VMHost $LabHosts[0].Name).Count | Should -Be 1
        (Invoke-InHost $LabHosts[0] 'ls /var/spool/cron/crontabs | grep -c mtv-tmp || true') | Should -Be '0'
    }

    It 'composes Get | Unregister and removes only ours' {
        Get-EsxiShell | Register-LogRotationCron -Confirm:$false 3>$null | Out-Null
        Register-LogRotationCron -VMHost $LabHosts[0].Name -LogPath '/var/log/secure-vmkfstools-wrapper.log' -Confirm:$false 3>$null | Out-Null
        @(Get-EsxiShell | Get-LogRotationCron).Count | Should -Be ($LabHosts.Count + 1)
        $removed = @(Get-LogRotationCron -VMHost $LabHosts[0].Name -LogPath '/var/log/secure-vmkfstools-wrapper.log' | Unregister-LogRotationCron -Confirm:$false)
        $removed.Count | Should -Be 1
        $removed[0].Registered | Should -BeFalse
        @(Get-LogRotationCron -VMHost $LabHosts[0].Name).LogPath | Should -Be $Log
        Get-EsxiShell | Get-LogRotationCron | Unregister-LogRotationCron -Confirm:$false | Out-Null
        @(Get-EsxiShell | Get-LogRotationCron).Count | Should -Be 0
        foreach ($vmh in $LabHosts) { (Invoke-InHost $vmh "grep -c 'MtvRemediation' $CrontabPath || true") | Should -Be '0' }
    }

    It 'changes nothing with -WhatIf' {
        $orig = Get-HostFileHash $LabHosts[0] $CrontabPath
        $pid0 = Invoke-InHost $LabHosts[0] 'cat /var/run/crond.pid'
        Get-EsxiShell | Register-LogRotationCron -WhatIf 3>$null
        Get-EsxiShell | Unregister-LogRotationCron -WhatIf
        Get-HostFileHash $LabHosts[0] $CrontabPath | Should -Be $orig
        Invoke-InHost $LabHosts[0] 'cat /var/run/crond.pid' | Should -Be $pid0
    }

    It 'on a 100% full /var fails with CrontabWriteFailed, changes nothing, and works once the log is cleared' {
        Set-HostVarFull $LabHosts[0]
        $orig = Get-HostFileHash $LabHosts[0] $CrontabPath
        $r = Register-LogRotationCron -VMHost $LabHosts[0].Name -Confirm:$false -ErrorVariable errs -ErrorAction SilentlyContinue 3>$null
        $r | Should -BeNullOrEmpty
        $errs.Count | Should -Be 1
        $errs[0].FullyQualifiedErrorId | Should -BeLike 'CrontabWriteFailed,*'
        $errs[0].Exception.Message | Should -Match 'not changed'
        Get-HostFileHash $LabHosts[0] $CrontabPath | Should -Be $orig
        Invoke-InHost $LabHosts[0] 'ls -a /var/spool/cron /var/spool/cron/crontabs | grep -c mtv || true' | Should -Be '0'
        Get-EsxiShell -VMHost $LabHosts[0].Name | Test-VmkfstoolsLogSpace | Clear-VmkfstoolsWrapperLog -Confirm:$false | Out-Null
        (Register-LogRotationCron -VMHost $LabHosts[0].Name -Confirm:$false 3>$null).Registered | Should -BeTrue
    }

    It 'really fires: crond truncates the log once it passes MaxSizeMB' {
        Register-LogRotationCron -VMHost $LabHosts[0].Name -IntervalMinutes 1 -MaxSizeMB 1 -Confirm:$false 3>$null | Out-Null
        Write-HostFile $LabHosts[0] $Log (New-WrapperLogBytes 30000)     # about 2.5 MB
        $inode = Invoke-InHost $LabHosts[0] "stat -c %i $Log"
        Get-HostFileSize $LabHosts[0] $Log | Should -BeGreaterThan 1MB
        $deadline = [DateTime]::UtcNow.AddSeconds(75)
        while ((Get-HostFileSize $LabHosts[0] $Log) -gt 1MB -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 500 }
        Get-HostFileSize $LabHosts[0] $Log | Should -BeLessOrEqual 1MB
        Invoke-InHost $LabHosts[0] "stat -c %i $Log" | Should -Be $inode    # truncated in place, not replaced
    }
}

Describe 'Restart-EsxiAgents' -Tag Lab {
    # Without a vCenter connection the wait is on the agents' status; tests that want vCenter connect themselves.
    BeforeAll { Get-MtvVIServer | Disconnect-MtvVIServer -Confirm:$false }
    BeforeEach { foreach ($vmh in $LabHosts) { Reset-HostState $vmh } }

    It 'restarts hostd then vpxa and, with a vCenter connection, waits through the simulated disconnect' {
        $pid0 = Invoke-InHost $LabHosts[0] 'cat /var/run/vmware/hostd.pid'
        $vc = Connect-MtvVIServer -Server $Lab.VCenterHost -Port $Lab.VCenterPort -Credential $Lab.VCenterCredential -SkipCertificateCheck -WarningAction SilentlyContinue
        try {
            $all = @(Restart-EsxiAgents -VMHost $LabHosts[0].Name -Confirm:$false -WarningVariable warn -Verbose 4>&1)
        }
        finally { $vc | Disconnect-MtvVIServer -Confirm:$false }
        $r = @($all | Where-Object { $_ -isnot [Management.Automation.VerboseRecord] })
        $verbose = @($all | Where-Object { $_ -is [Management.Automation.VerboseRecord] }).Message -join "`n"
        $r.Count | Should -Be 2
        $r[0].PSObject.TypeNames[0] | Should -Be 'MtvRemediation.AgentRestartResult'
        $r.Agent | Should -Be @('hostd', 'vpxa')
        $r | ForEach-Object { $_.Succeeded | Should -BeTrue; $_.Running | Should -BeTrue }
        $r[0].Output | Should -Match 'hostd started'
        Invoke-InHost $LabHosts[0] 'cat /var/run/vmware/hostd.pid' | Should -Not -Be $pid0
        Invoke-InHost $LabHosts[0] '/etc/init.d/hostd status' | Should -Be 'hostd is running.'
        # vcsim showed the host notResponding after the restart; the command saw it and waited until connected.
        $verbose | Should -Match 'vCenter reports notResponding; waiting'
        $r[0].ConnectionState | Should -Be 'connected'
        $r[0].Duration.TotalSeconds | Should -BeGreaterOrEqual ($Lab.AgentDownSeconds - 0.5)
        # The first "connected" is vCenter's stale view from before the restart; the wait went past it.
        $r[0].VCenterStates[0] | Should -Match '^connected [-+]0\.\d s$'   # read just before the restart
        ($r[0].VCenterStates -join "`n") | Should -Match '(?m)^notResponding \+'
        $r[0].VCenterEvidence | Should -Match 'showed the host notResponding .* and connected again'
        $r[0].Serving | Should -Match '^hostd answered vim-cmd hostsvc/hostsummary'
        $r[1].VCenterEvidence | Should -Match 'showed the host notResponding'
        $r[1].Serving | Should -BeNullOrEmpty
        # The lab has no esxcli vsan/lacp namespaces: the command says it could not tell, before asking.
        $warn -join ' ' | Should -Match 'vSAN with LACP'
    }

    It 'trusts a "connected" that never dropped only after -NotRespondingAfterSeconds, and says so' {
        # vCenter notices the restart only after 60 s (as a real one may): no down-and-up to see.
        Set-LabHostdLag -Milliseconds 60000 -HostName $LabHosts[0].Name
        $vc = Connect-MtvVIServer -Server $Lab.VCenterHost -Port $Lab.VCenterPort -Credential $Lab.VCenterCredential -SkipCertificateCheck -WarningAction SilentlyContinue
        try {
            $r = @(Restart-EsxiAgents -VMHost $LabHosts[0].Name -Agent hostd -NotRespondingAfterSeconds 4 -Confirm:$false 3>$null)
            $stale = @(Restart-EsxiAgents -VMHost $LabHosts[0].Name -Agent hostd -NotRespondingAfterSeconds 60 -TimeoutSeconds 8 -Confirm:$false -ErrorVariable err -ErrorAction SilentlyContinue 3>$null)
        }
        finally { $vc | Disconnect-MtvVIServer -Confirm:$false }
        $r[0].Succeeded | Should -BeTrue
        $r[0].Duration.TotalSeconds | Should -BeGreaterOrEqual 4
        $r[0].VCenterEvidence | Should -Match 'kept the host connected for \d+ s after hostd was back'
        @($r[0].VCenterStates) | Should -HaveCount 1
        # A wait shorter than vCenter's heartbeat timeout cannot prove anything: it times out and says why.
        $err[0].FullyQualifiedErrorId | Should -BeLike 'AgentRestartTimeout,*'
        $err[0].Exception.Message | Should -Match 'not yet for 60 s'
        $stale[0].Succeeded | Should -BeFalse
        $stale[0].Running | Should -BeTrue
        $stale[0].ConnectionState | Should -Be 'connected'
    }

    It 'gives AgentRestartTimeout for an agent that does not come back, and stops there' {
        Invoke-InHost $LabHosts[0] "printf '#!/bin/sh\ncase `"`$1`" in restart) echo stuck stopped.;; status) echo stuck is not running.; exit 3;; esac\n' > /etc/init.d/stuck && chmod 755 /etc/init.d/stuck"
        $r = @(Restart-EsxiAgents -VMHost $LabHosts[0].Name -Agent stuck, vpxa -TimeoutSeconds 5 -Confirm:$false -ErrorVariable errs -ErrorAction SilentlyContinue -WarningVariable warn 3>$null)
        $errs.Count | Should -Be 1
        $errs[0].FullyQualifiedErrorId | Should -BeLike 'AgentRestartTimeout,*'
        $r.Count | Should -Be 1
        $r[0].Succeeded | Should -BeFalse
        $r[0].Running | Should -BeFalse
        ($warn -join ' ') | Should -Match 'not restarting vpxa'
    }

    It 'without vCenter waits on the agents own status' {
        $r = @(Restart-EsxiAgents -VMHost $LabHosts[1].Name -Agent vpxa -Confirm:$false 3>$null)
        $r.Count | Should -Be 1
        $r[0].Succeeded | Should -BeTrue
        $r[0].Running | Should -BeTrue
        $r[0].ConnectionState | Should -BeNullOrEmpty
    }

    It 'changes nothing with -WhatIf' {
        $before = foreach ($vmh in $LabHosts) { Invoke-InHost $vmh 'cat /var/run/vmware/hostd.pid /var/run/vmware/vpxa.pid' }
        Get-EsxiShell | Restart-EsxiAgents -WhatIf 3>$null
        $after = foreach ($vmh in $LabHosts) { Invoke-InHost $vmh 'cat /var/run/vmware/hostd.pid /var/run/vmware/vpxa.pid' }
        $after | Should -Be $before
    }
}

Describe 'Help examples run as-is against the lab' -Tag Lab {
    BeforeAll { foreach ($vmh in $LabHosts) { Reset-HostState $vmh } }

    # In this order the examples leave the hosts as they found them (register, list, unregister).
    # Example 1 of each is production-style (esx01.example.com); the first one without such names runs here.
    It 'The first lab example of <Cmdlet>, ''<Title>'', runs without error' -ForEach @(
        @{ Cmdlet = 'Test-VmkfstoolsLogSpace'; Title = 'Check every connected host' }
        @{ Cmdlet = 'Register-LogRotationCron'; Title = 'Keep the log under 20 MB on every connected host' }
        @{ Cmdlet = 'Get-LogRotationCron'; Title = 'Which hosts have the job' }
        @{ Cmdlet = 'Unregister-LogRotationCron'; Title = 'End of the migration wave' }
        @{ Cmdlet = 'Clear-VmkfstoolsWrapperLog'; Title = 'Clear the log on every connected host' }
        @{ Cmdlet = 'Restart-EsxiAgents'; Title = 'Restart hostd and vpxa on every connected host' }) {
        $example = Get-HelpExample -Cmdlet $Cmdlet -Title $Title
        $example.Code | Should -Not -Match 'example\.com' -Because 'the lab has no production host names'
        $example.Code | Should -Match ([regex]::Escape($Cmdlet))
        # The example's errors, split from its output (-ErrorVariable is not a parameter of a script block).
        $errs = [System.Collections.Generic.List[object]]::new()
        $out = @(Invoke-HelpExample $example 2>&1 3>$null | ForEach-Object { if ($_ -is [System.Management.Automation.ErrorRecord]) { $errs.Add($_) } else { $_ } })
        $errs | Should -BeNullOrEmpty
        $out.Count | Should -BeGreaterThan 0
        $out | ForEach-Object { $_.PSObject.TypeNames[0] | Should -BeLike 'MtvRemediation.*' }
    }
}
