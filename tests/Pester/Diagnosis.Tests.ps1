BeforeDiscovery {
    $script:LabState = if ($env:MTVLAB_STATE) { $env:MTVLAB_STATE } else { Join-Path $PSScriptRoot '../../out/lab/lab.json' }
    $script:LabUp = Test-Path $LabState
}

# Find-MtvCloneFailure: piped lines, local files, summaries, errors. Lab parts are tagged Lab.
BeforeAll {
    $manifestPath = if ($env:MTV_MODULE_PATH) { $env:MTV_MODULE_PATH } else { Join-Path $PSScriptRoot '../../out/MtvRemediation/0.1.0/MtvRemediation.psd1' }
    Import-Module $manifestPath -Force
    . (Join-Path $PSScriptRoot 'HelpExample.ps1')

    # Real line shapes (kubev2v/forklift; tests/fixtures/mtv/README.md): MTV 2.10's wrapper log
    # (about to run, vsish, XCOPY: never a failure), MTV 2.9's secure log (the status dict holds
    # exitCode and vmkfstools' stderr; a clone without room for its task directory logs the OSError).
    $script:Wrapper = @(
        "2026-11-25 09:59:58,004 - INFO - about to run trap 'echo -n `$? > /tmp/vmkfstools-wrapper-5d0e2f5a-7c1b-4e8e-9d55-3b1a6c1f0e21/exitcode' EXIT;/bin/vmkfstools -i /vmfs/volumes/vsanDatastore/db01/db01.vmdk -d rdm:/vmfs/devices/disks/naa.600a098038304437415d4b6a59684a52 /vmfs/volumes/vsanDatastore/db01/db01.vmdk-rdmdisk-40213"
        "2026-11-25 10:00:03,117 - INFO - vshish stats CompletedProcess(args=['vsish', '-r', '-e', 'cat', '/storage/scsifw/devices/naa.600a098038304437415d4b6a59684a52/stats'], returncode=0, stdout='cloneWriteOps:0x0000000000000000\n', stderr='')"
        '2026-11-25 10:00:03,118 - INFO - XCOPY used: False, clone write ops: 0'
        "2026-11-25 10:03:12,456 - INFO - Status check for task 5d0e2f5a-7c1b-4e8e-9d55-3b1a6c1f0e21: {'taskId': '5d0e2f5a-7c1b-4e8e-9d55-3b1a6c1f0e21', 'pid': 40213, 'exitCode': '255', 'lastLine': 'Clone: 37% done.', 'stdErr': 'Failed to clone disk: Input/output error (327689).\n', 'operation': 'status'}"
        "2026-11-25 10:04:00,001 - INFO - Status check for task 9a3c51d0-2b7e-4f16-8c4d-70e2b1f5a6c9: {'taskId': '9a3c51d0-2b7e-4f16-8c4d-70e2b1f5a6c9', 'pid': 40377, 'exitCode': '255', 'lastLine': 'Clone: 12% done.', 'stdErr': 'Failed to clone disk: Invalid change tracker error code (7228).\n', 'operation': 'status'}"
        "2026-11-25 10:05:00,000 - ERROR - Clone operation failed: [Errno 28] No space left on device: '/tmp/vmkfstools-wrapper-0b4d8e61-3f2a-4c9b-a7e5-16d0c2f9b8a3'"
        "2026-11-25 10:06:30,250 - INFO - Status check for task 0b4d8e61-3f2a-4c9b-a7e5-16d0c2f9b8a3: {'taskId': '0b4d8e61-3f2a-4c9b-a7e5-16d0c2f9b8a3', 'pid': 40512, 'exitCode': '1', 'lastLine': 'Clone: 0% done.', 'stdErr': '', 'operation': 'status'}"
        "2026-11-25 10:07:00,000 - INFO - Status check for task 5d0e2f5a-7c1b-4e8e-9d55-3b1a6c1f0e21: {'taskId': '5d0e2f5a-7c1b-4e8e-9d55-3b1a6c1f0e21', 'pid': 40213, 'exitCode': '0', 'lastLine': 'Clone: 100% done.', 'stdErr': '', 'operation': 'status'}"
    )
    $script:Fixtures = Join-Path $PSScriptRoot '../fixtures/mtv'
    # The populator pods' own logs: MTV 2.10 (printf klog) and 2.12 (structured klog).
    $script:Klog = @(Get-Content (Join-Path $Fixtures '2.10/populate-7c9e6679-7425-40de-944b-e07fc1f90ae7.log'))
    $script:Klog212 = @(Get-Content (Join-Path $Fixtures '2.12/populate-3b1f0a92-6c4d-4e8a-9f27-51d6c0e8a4b3.log'))
    function script:Utc([string] $Text) { [datetime]::SpecifyKind([datetime]::ParseExact($Text, 'yyyy-MM-dd HH:mm:ss.fff', $null), 'Utc') }
    $script:Work = Join-Path ([IO.Path]::GetTempPath()) "mtv-diag-$([guid]::NewGuid().ToString('N'))"
    New-Item -ItemType Directory $Work | Out-Null
}

AfterAll {
    Remove-Item $Work -Recurse -Force -ErrorAction SilentlyContinue
}

Describe 'Find-MtvCloneFailure on piped lines' {
    It 'finds each signature in wrapper lines, with line numbers, UTC timestamps and remediation' {
        $f = @($Wrapper | Find-MtvCloneFailure)
        $f.Signature | Should -Be @('XcopyNotUsed', 'DiskIoError', 'ChangeTrackerInvalid', 'NoSpaceLeft', 'CloneExitCode')
        $f.LineNumber | Should -Be @(3, 4, 5, 6, 7)
        $f[0].PSObject.TypeNames[0] | Should -Be 'MtvRemediation.CloneFailureFinding'
        $f[1].ExitCode | Should -Be 255
        $f[1].Timestamp | Should -Be (Utc '2026-11-25 10:03:12.456')
        $f[1].Timestamp.Kind | Should -Be 'Utc'
        $f[1].Remediation | Should -Match 'Clear-VmkfstoolsWrapperLog'
        $f[2].Remediation | Should -Be 'Reset-VMChangeTracking'
        $f[4].ExitCode | Should -Be 1
        $f | ForEach-Object { $_.Source | Should -Be 'InputObject'; $_.Cause | Should -Not -BeNullOrEmpty }
    }

    It 'reads the populator pod logs of MTV 2.10 (klog) and 2.12 (structured klog)' {
        $k = @($Klog | Find-MtvCloneFailure)
        $k.Signature | Should -Be @('XcopyNotUsed', 'XcopyNotUsed', 'XcopyNotUsed', 'XcopyNotUsed', 'ChangeTrackerInvalid', 'ChangeTrackerInvalid')
        $k.LineNumber | Should -Be @(5, 8, 11, 14, 15, 16)
        $k[4].ExitCode | Should -Be 255
        $k[4].Timestamp.ToString('o') | Should -Match '^\d{4}-12-01T22:11:22\.5128760Z$'
        $j = @($Klog212 | Find-MtvCloneFailure)
        $j.Signature | Should -Be @('XcopyNotUsed', 'XcopyNotUsed', 'ChangeTrackerInvalid', 'ChangeTrackerInvalid')
        $j.LineNumber | Should -Be @(7, 9, 10, 13)
        $j[2].Line | Should -Match '"copy-offload failed" err="clone task failed with exit code 255'
        $j[2].Remediation | Should -Be 'Reset-VMChangeTracking'
    }

    It 'tells a vSAN VM on MTV 2.12.5 that copy offload cannot take it, and names the host and task of a 2.9.0 failure' {
        $v = @(Get-Content (Join-Path $Fixtures '2.12.5/populate-9e41b7c3-0d5a-4f88-b2e6-7a1c3d5f9e02.log') | Find-MtvCloneFailure)
        $v.Signature | Should -Be @('SourceNotVmfs', 'SourceNotVmfs')
        $v[0].Remediation | Should -Match '^None on the host: migrate this VM without copy offload'
        $v[0].VMHostId | Should -Be 'HostSystem-host-2031'
        $v[0].TaskId | Should -BeNullOrEmpty
        (Get-Content (Join-Path $Fixtures '2.12.5/populate-9e41b7c3-0d5a-4f88-b2e6-7a1c3d5f9e02.log') | Find-MtvCloneFailure -Summary).SourceNotVmfs | Should -Be 2
        $old = @(Find-MtvCloneFailure -Path (Join-Path $Fixtures '2.9.0/populate-e3d91c47-8a2b-4f60-b5d1-0c7e2a9f4b18.log'))
        $old.Signature | Should -Be @('ChangeTrackerInvalid', 'ChangeTrackerInvalid', 'ChangeTrackerInvalid')
        $old[-1].Line | Should -Match 'failed with exit code 255 with stderr:'
        $old[-1].VMHostId | Should -Be 'HostSystem-host-1207'
        $old[-1].TaskId | Should -Be '9a3c51d0-2b7e-4f16-8c4d-70e2b1f5a6c9'
        $e = @(ConvertFrom-MtvClusterObject -Path (Join-Path $Fixtures '2.12.5/events.json'))
        $e.Signature | Should -Be 'PopulatorFailed'
        $e.PopulatorPod | Should -Be 'populate-9e41b7c3-0d5a-4f88-b2e6-7a1c3d5f9e02'
    }

    It 'summarises the pipeline with counts per signature' {
        $s = $Wrapper + $Klog | Find-MtvCloneFailure -Summary
        $s.PSObject.TypeNames[0] | Should -Be 'MtvRemediation.CloneFailureSummary'
        $s.Source | Should -Be 'InputObject'
        $s.LinesScanned | Should -Be 24
        $s.DiskIoError | Should -Be 1
        $s.ChangeTrackerInvalid | Should -Be 3
        $s.XcopyNotUsed | Should -Be 5
        $s.TotalFindings | Should -Be 11
        $s.Remediation[0] | Should -Be 'Reset-VMChangeTracking'
    }

    It 'answers an empty pipeline with a zero summary' {
        $s = @() | Find-MtvCloneFailure -Summary
        $s.TotalFindings | Should -Be 0
        $s.LinesScanned | Should -Be 0
    }

    It 'counts frequent xcopy lines past -RepeatLimit instead of repeating them' {
        $lines = 0..99 | ForEach-Object { '2026-11-25 10:{0:00}:{1:00},000 - INFO - XCOPY used: False, clone write ops: {2}' -f [math]::Floor($_ * 5 / 60), ($_ * 5 % 60), $_ }
        $f = @($lines | Find-MtvCloneFailure -RepeatLimit 3)
        $f.Count | Should -Be 4
        $f[3].Occurrences | Should -Be 97
        $f[3].LineNumber | Should -Be 100
        ($f | Measure-Object Occurrences -Sum).Sum | Should -Be 100
        @($lines | Find-MtvCloneFailure -RepeatLimit 0).Count | Should -Be 100
    }

    It 'filters by -Since and keeps lines without a timestamp' {
        $lines = $Wrapper + 'Failed to clone disk: Invalid change tracker error code (7228).'
        $f = @($lines | Find-MtvCloneFailure -Since (Utc '2026-11-25 10:04:00.000'))
        $f.Signature | Should -Be @('ChangeTrackerInvalid', 'NoSpaceLeft', 'CloneExitCode', 'ChangeTrackerInvalid')
        $f[-1].Timestamp | Should -BeNullOrEmpty
    }

    It 'splits a multi-line string into lines' {
        $f = @(Find-MtvCloneFailure -InputObject (($Wrapper -join "`r`n") + "`r`n"))
        $f.LineNumber | Should -Be @(3, 4, 5, 6, 7)
        $f[0].Line | Should -Not -Match "`r"
    }

    It 'formats findings and summaries as tables without errors' {
        ($Wrapper | Find-MtvCloneFailure | Out-String -Width 200) | Should -Match 'DiskIoError\s+1 Test-VmkfstoolsLogSpace'
        ($Wrapper | Find-MtvCloneFailure -Summary | Out-String -Width 200) | Should -Match 'InputObject\s+5\s+0\s+1\s+1\s+1\s+1\s+0\s+1'
    }
}

Describe 'Find-MtvCloneFailure on files' {
    BeforeAll {
        $script:Plain = Join-Path $Work 'populator [db01].log'
        Set-Content -LiteralPath $Plain -Value $Wrapper
        $script:Gz = Join-Path $Work 'vmkfstools-wrapper.log.1.gz'
        $fs = [IO.File]::Create($Gz)
        $gzs = [IO.Compression.GZipStream]::new($fs, [IO.Compression.CompressionLevel]::Fastest)
        $w = [IO.StreamWriter]::new($gzs)
        $Klog | ForEach-Object { $w.WriteLine($_) }
        $w.Dispose()
    }

    It 'scans files from Get-ChildItem (PSPath), including names with brackets and .gz archives' {
        $s = @(Get-ChildItem -LiteralPath $Work | Sort-Object Name | Find-MtvCloneFailure -Summary)
        $s.Count | Should -Be 2
        $s.Path | Should -Be @($Plain, $Gz)
        $s[0].TotalFindings | Should -Be 5
        $s[1].ChangeTrackerInvalid | Should -Be 2
        $s[1].LinesScanned | Should -Be 16
    }

    It 'takes wildcards with -Path and reports the file as Source' {
        $f = @(Find-MtvCloneFailure -Path (Join-Path $Work '*.gz'))
        $f.Source | Select-Object -Unique | Should -Be $Gz
        $f.LineNumber | Should -Be @(5, 8, 11, 14, 15, 16)
    }

    It 'binds lines from Get-Content as lines, not as files' {
        $s = Get-Content -LiteralPath $Plain | Find-MtvCloneFailure -Summary
        $s.Source | Should -Be 'InputObject'
        $s.TotalFindings | Should -Be 5
    }

    It 'gives actionable errors with stable ids' {
        Find-MtvCloneFailure -Path (Join-Path $Work 'missing*.log') -ErrorVariable e -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        Find-MtvCloneFailure -Path (Join-Path $Work 'missing.log') -ErrorVariable e -ErrorAction SilentlyContinue
        $e[0].FullyQualifiedErrorId | Should -BeLike 'CloneFailurePathNotFound,*'
        Find-MtvCloneFailure -LiteralPath $Work -ErrorVariable e -ErrorAction SilentlyContinue
        $e[0].FullyQualifiedErrorId | Should -BeLike 'CloneFailurePathIsDirectory,*'
        $e[0].ToString() | Should -Match 'Get-ChildItem'
        # A rotated archive cut off mid-copy: findings before the cut arrive, then an error (not a quiet "clean").
        $bad = Join-Path $Work 'cut.gz'
        $whole = [IO.File]::ReadAllBytes($Gz)
        [IO.File]::WriteAllBytes($bad, $whole[0..($whole.Length - 9)])
        Find-MtvCloneFailure -LiteralPath $bad -ErrorVariable e -ErrorAction SilentlyContinue
        $e[0].FullyQualifiedErrorId | Should -BeLike 'CloneFailureFileUnreadable,*'
        $e[0].ToString() | Should -Match 'truncated'
        Remove-Item $bad
        { Find-MtvCloneFailure -ErrorAction Stop } | Should -Throw -ErrorId 'CloneFailureNoSource,*'
    }

    It 'runs the help examples that need no host' {
        Push-Location $Work
        try {
            $ex1 = Invoke-HelpExample (Get-HelpExample -Cmdlet Find-MtvCloneFailure -Title "Scan a populator pod's log as it is piped in")
            @($ex1).Signature | Should -Be @('XcopyNotUsed', 'ChangeTrackerInvalid', 'ChangeTrackerInvalid')
            $ex2 = Invoke-HelpExample (Get-HelpExample -Cmdlet Find-MtvCloneFailure -Title 'Summarise saved pod logs')
            $ex2.DiskIoError | Should -Be 1
        }
        finally { Pop-Location }
    }
}

Describe 'Find-MtvCloneFailure on a large local log' {
    BeforeAll {
        # 256 MiB of MTV 2.10 wrapper polling (the lab generator's block: vsish + "XCOPY used: False"
        # every 5 s) with one 2.9 secure-log failure dict per MiB (a file of both is a test
        # construct: each line is real), written in 1 MiB blocks so the test spends its time scanning.
        $script:Big = Join-Path $Work 'big-vmkfstools-wrapper.log'
        Import-Module (Join-Path $PSScriptRoot '../lab/Lab.psm1') -Force
        $text = [Text.Encoding]::UTF8.GetString((New-LabWrapperLogBlock)) + $Wrapper[3] + "`n"
        $block = [Text.Encoding]::UTF8.GetBytes($text)
        $script:XcopyPerBlock = ($text -split 'XCOPY used: False').Count - 1
        $script:LinesPerBlock = ($text -split "`n").Count - 1
        $script:Blocks = 256
        $fs = [IO.File]::Create($Big)
        try { for ($b = 0; $b -lt $Blocks; $b++) { $fs.Write($block, 0, $block.Length) } } finally { $fs.Dispose() }
    }

    AfterAll { Remove-Item $Big -ErrorAction SilentlyContinue }

    It 'streams a 256 MiB file with flat memory and exact counts' {
        $proc = Get-Process -Id $PID
        [GC]::Collect(); [GC]::WaitForPendingFinalizers()
        $ws0 = $proc.WorkingSet64
        $gc0 = [GC]::GetTotalMemory($true)
        $sw = [Diagnostics.Stopwatch]::StartNew()
        $findings = [Collections.Generic.List[object]]::new()
        Find-MtvCloneFailure -LiteralPath $Big | ForEach-Object { $findings.Add($_) }
        $sw.Stop()
        $proc.Refresh()
        $wsGrowth = $proc.WorkingSet64 - $ws0
        $gcGrowth = [GC]::GetTotalMemory($true) - $gc0
        Write-Host ("    256 MiB scanned in {0:N1} s; working set +{1:N1} MiB, managed heap +{2:N2} MiB, {3} findings" -f $sw.Elapsed.TotalSeconds, ($wsGrowth / 1MB), ($gcGrowth / 1MB), $findings.Count)

        $io = @($findings | Where-Object Signature -EQ DiskIoError)
        $io.Count | Should -Be $Blocks
        $xcopy = @($findings | Where-Object Signature -EQ XcopyNotUsed)
        $xcopy.Count | Should -Be 11
        ($xcopy | Measure-Object Occurrences -Sum).Sum | Should -Be ($XcopyPerBlock * $Blocks)
        $xcopy[-1].LineNumber | Should -Be ($LinesPerBlock * $Blocks - 1)
        # Flat: far below the file size (the findings themselves are a few KB).
        $wsGrowth | Should -BeLessThan 64MB
        $gcGrowth | Should -BeLessThan 8MB
    }
}

Describe 'Find-MtvCloneFailure on lab hosts' -Tag Lab -Skip:(-not $LabUp) {
    BeforeAll {
        $script:LabScript = Join-Path $PSScriptRoot '../lab/lab.sh'
        $state = Get-Content $LabState -Raw | ConvertFrom-Json
        $script:LabHosts = @($state.hosts)
        $cred = [pscredential]::new($state.ssh.user, (ConvertTo-SecureString $state.ssh.password -AsPlainText -Force))
        $script:KnownHosts = Join-Path $Work 'known_hosts'
        $script:Sessions = @($LabHosts | ForEach-Object {
                Connect-EsxiShell -VMHost $_.name -Address $_.address -Port $_.port -Credential $cred -TrustNewHostKey -KnownHostsPath $KnownHosts
            })
        # The host whose logs these tests change; reset to its pristine /var and /tmp afterwards.
        $script:H = $LabHosts[-1]
        function script:HostFile([string] $Path) { Join-Path $H.chrootPath $Path.TrimStart('/') }
    }

    AfterAll {
        $Sessions | Disconnect-EsxiShell -Confirm:$false -ErrorAction SilentlyContinue
        & bash $LabScript reset-host $H.name | Out-Null
    }

    It 'summarises every host''s wrapper log, counted on the host, equal to the file''s true content' {
        $s = @($Sessions | Find-MtvCloneFailure -Summary -ErrorAction Stop)
        foreach ($h in $LabHosts) {
            $mine = @($s | Where-Object { $_.VMHost -eq $h.name -and $_.Path -eq '/var/log/vmkfstools-wrapper.log' })
            $mine.Count | Should -Be 1
            $mine[0].Source | Should -Be "$($h.name):/var/log/vmkfstools-wrapper.log"
            # The generator's polls, read from the host's file system, not through our code.
            $truth = @(Select-String -LiteralPath (Join-Path $h.chrootPath 'var/log/vmkfstools-wrapper.log') -SimpleMatch 'XCOPY used: False').Count
            $truth | Should -BeGreaterThan 0
            $mine[0].XcopyNotUsed | Should -Be $truth
            $mine[0].LinesScanned | Should -BeNullOrEmpty -Because 'only matching lines leave the host'
            # Without -LogPath the task directories are a source of their own.
            @($s | Where-Object { $_.VMHost -eq $h.name -and $_.Path -eq '/tmp/vmkfstools-wrapper-*' }).Count | Should -Be 1
        }
    }

    It 'finds the 7228 where MTV 2.10 leaves it: the failed clone''s task directory, naming its disk' {
        & bash $LabScript wrapper-log $H.name 8192 | Out-Null
        $dir = @(& bash $LabScript task-dirs $H.name 1 --failed 7228 --vmdk /vmfs/volumes/LocalDS_0/lab-vm/disk1.vmdk)[0]
        & bash $LabScript task-dirs $H.name 1 --failed 327689 | Out-Null
        & bash $LabScript task-dirs $H.name 2 | Out-Null
        $f = @(Find-MtvCloneFailure -VMHost $H.name -ErrorAction Stop | Where-Object Signature -NE XcopyNotUsed)
        $f.Signature | Sort-Object | Should -Be @('ChangeTrackerInvalid', 'DiskIoError')
        $ctk = $f | Where-Object Signature -EQ ChangeTrackerInvalid
        $ctk.Source | Should -Be "$($H.name):$dir/err"
        $ctk.Line | Should -Be (Get-Content -LiteralPath (HostFile "$dir/err"))
        $ctk.ExitCode | Should -Be 255
        $ctk.Disk | Should -Be '/vmfs/volumes/LocalDS_0/lab-vm/disk1.vmdk'
        $ctk.Remediation | Should -Be 'Reset-VMChangeTracking'
        ($f | Where-Object Signature -EQ DiskIoError).Remediation | Should -Match 'Clear-VmkfstoolsWrapperLog'
        # -Since after the failures: nothing but what is newer.
        @(Find-MtvCloneFailure -VMHost $H.name -Since ([datetime]::UtcNow.AddMinutes(5)) -ErrorAction Stop).Count | Should -Be 0
    }

    It 'finds the 7228 in MTV 2.9''s secure log status dict, and the 0.3.x wrapper''s lines in syslog' {
        & bash $LabScript wrapper $H.name 2.9 | Out-Null
        & bash $LabScript wrapper-log $H.name 16384 --secure --fail 7228 | Out-Null
        $lines = Get-Content -LiteralPath (HostFile '/var/log/secure-vmkfstools-wrapper.log')
        $f = @(Find-MtvCloneFailure -VMHost $H.name -ErrorAction Stop | Where-Object { $_.Signature -eq 'ChangeTrackerInvalid' -and $_.Path -eq '/var/log/secure-vmkfstools-wrapper.log' })
        $f.Count | Should -Be 2 -Because 'the populator polls once more after it sees the exit code'
        foreach ($x in $f) {
            $x.Path | Should -Be '/var/log/secure-vmkfstools-wrapper.log'
            $lines[$x.LineNumber - 1] | Should -Be $x.Line
            $x.Line | Should -Match "Status check for task .*'exitCode': '255'"
            $x.ExitCode | Should -Be 255
        }
        & bash $LabScript wrapper $H.name 2.11 | Out-Null
        & bash $LabScript wrapper-log $H.name 2000 | Out-Null
        $sys = @(Find-MtvCloneFailure -VMHost $H.name -Summary -ErrorAction Stop | Where-Object Path -EQ '/var/log/syslog.log')
        $truth = @(Select-String -LiteralPath (HostFile '/var/log/syslog.log') -Pattern 'vmkfstools-wrapper\[\d+\]: XCOPY used: false$').Count
        $truth | Should -BeGreaterThan 0
        $sys[0].XcopyNotUsed | Should -Be $truth
        & bash $LabScript reset-host $H.name | Out-Null
    }

    It 'reads the 0.3.x wrapper''s syslog lines in ESXi <Esxi>''s form and honours -Since on them' -ForEach @(@{ Esxi = '8.0' }, @{ Esxi = '7.0' }) {
        # A lab host of that ESXi version (lab.sh: even indexes 8.0, odd 7.0).
        $h = @($LabHosts | Where-Object esxiVersion -EQ $Esxi)[-1]
        $h | Should -Not -BeNullOrEmpty -Because "the lab has an ESXi $Esxi host"
        $log = Join-Path $h.chrootPath 'var/log/syslog.log'
        try {
            & bash $LabScript wrapper $h.name 2.12.4 | Out-Null
            # Two hours old, then the wrapper's cleanup failure with its multi-line directory listing
            # (vmkfstools_wrapper.sh at v2.12.5: log_error "Directory contents: $(ls -la ...)") now.
            & bash $LabScript wrapper-log $h.name 6000 --ago 7200 | Out-Null
            $now = [DateTimeOffset]::UtcNow.ToUnixTimeSeconds()
            & bash $LabScript exec $h.name "printf '%s\t0\t11\tvmkfstools-wrapper\t30077\tDirectory contents: total 8\\n-rw-r--r--    1 root     root            64 Dec  5 17:36 err\n' $now | /usr/lib/vmware/lab/vmsyslog" | Out-Null
            $form = if ($Esxi -eq '8.0') { '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (In|Er)\(1[14]\)\+? vmkfstools-wrapper\[\d+\]: ' } else { '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ vmkfstools-wrapper\[\d+\]: ' }
            $lines = @(Get-Content -LiteralPath $log | Where-Object { $_ -match 'vmkfstools-wrapper\[' })
            $lines | ForEach-Object { $_ | Should -Match $form }
            if ($Esxi -eq '8.0') { @($lines | Where-Object { $_ -match '^\S+ Er\(11\)\+ ' }).Count | Should -Be 1 }
            # The truth, read from the file: each poll's time as its own header says.
            $polls = @($lines | Where-Object { $_ -match ': XCOPY used: false$' } | ForEach-Object { [datetime]::Parse($_.Split(' ')[0], [Globalization.CultureInfo]::InvariantCulture, 'AdjustToUniversal') })
            $polls.Count | Should -BeGreaterThan 10
            $middle = $polls[[int]($polls.Count / 2)]
            $sysOf = { param($since) @(Find-MtvCloneFailure -VMHost $h.name -Since $since -ErrorAction Stop | Where-Object Path -EQ '/var/log/syslog.log') }
            # -Since before the evidence: every poll; in its middle: the newer half; after it: none.
            ((& $sysOf ([datetime]::UtcNow.AddHours(-3))) | Measure-Object Occurrences -Sum).Sum | Should -Be $polls.Count
            ((& $sysOf $middle) | Measure-Object Occurrences -Sum).Sum | Should -Be @($polls | Where-Object { $_ -ge $middle }).Count
            $after = & $sysOf ([datetime]::UtcNow.AddHours(-1))
            $after.Count | Should -Be 0 -Because 'the multi-line message of now is no clone evidence, its listing line neither'
            (& $sysOf ([datetime]::UtcNow.AddHours(-3))).Signature | Sort-Object -Unique | Should -Be 'XcopyNotUsed'
        } finally {
            & bash $LabScript reset-host $h.name | Out-Null
        }
    }

    It 'treats a hostile -LogPath as an inert file name and warns when no log is there' {
        $marker = HostFile '/tmp/pwned-diag'
        $out = Find-MtvCloneFailure -VMHost $H.name -LogPath "/tmp/x'; touch /tmp/pwned-diag; '.log" -WarningVariable w -WarningAction SilentlyContinue -ErrorAction Stop
        $out | Should -BeNullOrEmpty
        $w[0] | Should -Match 'no log found'
        Test-Path $marker | Should -BeFalse
    }

    It 'scans a 192 MiB log on the host with flat local memory and a few KB on the wire' {
        $dir = HostFile '/tmp/mtv-diag-big'
        New-Item -ItemType Directory -Force $dir | Out-Null
        $log = Join-Path $dir 'vmkfstools-wrapper.log'
        # The generator's own line shapes (2.10 wrapper: vsish stats + XCOPY used per 5 s poll), in 1 MiB blocks.
        Import-Module (Join-Path $PSScriptRoot '../lab/Lab.psm1') -Force
        $block = New-LabWrapperLogBlock
        $i = ([Text.Encoding]::UTF8.GetString($block) -split 'XCOPY used: False').Count - 1   # polls per block
        $blocks = 192
        $fs = [IO.File]::Create($log)
        try { for ($b = 0; $b -lt $blocks; $b++) { $fs.Write($block, 0, $block.Length) } } finally { $fs.Dispose() }
        $size = (Get-Item $log).Length

        $proc = Get-Process -Id $PID
        [GC]::Collect(); [GC]::WaitForPendingFinalizers()
        $ws0 = $proc.WorkingSet64; $gc0 = [GC]::GetTotalMemory($true)
        $sw = [Diagnostics.Stopwatch]::StartNew()
        $verbose = [Collections.Generic.List[string]]::new()
        $findings = [Collections.Generic.List[object]]::new()
        Find-MtvCloneFailure -VMHost $H.name -LogPath /tmp/mtv-diag-big/vmkfstools-wrapper.log -TimeoutSeconds 300 -Verbose -ErrorAction Stop 4>&1 |
            ForEach-Object { if ($_ -is [System.Management.Automation.VerboseRecord]) { $verbose.Add($_.Message) } else { $findings.Add($_) } }
        $sw.Stop(); $proc.Refresh()
        $wsGrowth = $proc.WorkingSet64 - $ws0
        $gcGrowth = [GC]::GetTotalMemory($true) - $gc0
        $received = [long](($verbose | Select-String '(\d+) bytes of matches received').Matches[0].Groups[1].Value)
        Write-Host ("    {0:N0} MiB on {1}: {2:N1} s, {3:N0} bytes received, working set +{4:N1} MiB, managed heap +{5:N2} MiB" -f ($size / 1MB), $H.name, $sw.Elapsed.TotalSeconds, $received, ($wsGrowth / 1MB), ($gcGrowth / 1MB))

        @($findings | Where-Object Signature -NE XcopyNotUsed).Count | Should -Be 0 -Because 'a 2.10 wrapper log holds no failure line'
        $x = @($findings | Where-Object Signature -EQ XcopyNotUsed)
        $x.Count | Should -Be 11
        ($x | Measure-Object Occurrences -Sum).Sum | Should -Be ($i * $blocks)
        $received | Should -BeLessThan 64KB
        $received | Should -BeLessThan ($size / 1000)
        $wsGrowth | Should -BeLessThan 64MB
        $gcGrowth | Should -BeLessThan 8MB
        Remove-Item $dir -Recurse -Force
    }
}

Describe 'Find-MtvCloneFailure help example against the lab' -Tag Lab -Skip:(-not $LabUp) {
    AfterAll {
        Get-EsxiShell | Disconnect-EsxiShell -Confirm:$false -ErrorAction SilentlyContinue
        Remove-Item (Join-Path $PSScriptRoot '../../out/lab/diag_known_hosts') -ErrorAction SilentlyContinue
    }

    It 'runs example 3 as written: summaries of every lab host''s logs and task directories' {
        Get-EsxiShell | Disconnect-EsxiShell -Confirm:$false -ErrorAction SilentlyContinue
        $example = Get-HelpExample -Cmdlet Find-MtvCloneFailure -Title 'lab hosts'
        Push-Location (Join-Path $PSScriptRoot '../..')
        try { $out = @(Invoke-HelpExample $example) }
        finally { Pop-Location }
        $hosts = @((Get-Content $LabState -Raw | ConvertFrom-Json).hosts.name)
        @($out.VMHost | Sort-Object -Unique) | Should -Be @($hosts | Sort-Object)
        @($out | Where-Object Path -EQ '/tmp/vmkfstools-wrapper-*').Count | Should -Be $hosts.Count
        $out | ForEach-Object { $_.PSObject.TypeNames[0] | Should -Be 'MtvRemediation.CloneFailureSummary' }
    }
}

Describe 'Wrapper generations, task directories and MTV cluster objects' {
    It 'refuses cluster JSON too large to hold (MtvClusterObjectTooLarge) without reading it into memory' {
        $big = Join-Path $Work 'huge-migration.json'
        $fs = [IO.File]::Create($big); $fs.SetLength(100MB); $fs.Dispose()   # sparse: no disk used
        $before = [GC]::GetTotalMemory($true)
        $out = @(ConvertFrom-MtvClusterObject -Path $big -ErrorVariable e -ErrorAction SilentlyContinue)
        ([GC]::GetTotalMemory($false) - $before) | Should -BeLessThan 50MB
        $out.Count | Should -Be 0
        $e.Count | Should -Be 1
        $e[0].FullyQualifiedErrorId | Should -BeLike 'MtvClusterObjectTooLarge,*'
        "$($e[0])" | Should -Match 'one object at a time'
        # Piped text: refused as it arrives, once, and nothing of it converted.
        $line = 'x' * 1MB
        $piped = @(1..40 | ForEach-Object { $line } | ConvertFrom-MtvClusterObject -ErrorVariable e2 -ErrorAction SilentlyContinue)
        $piped.Count | Should -Be 0
        $e2.Count | Should -Be 1
        $e2[0].FullyQualifiedErrorId | Should -BeLike 'MtvClusterObjectTooLarge,*'
        Remove-Item $big
    }

    It 'runs ConvertFrom-MtvClusterObject''s examples 2 and 3 as written (fixtures of MTV 2.10 and 2.12)' {
        Push-Location (Join-Path $PSScriptRoot '../..')
        try {
            # As written, without the trailing Format-Table (its objects are what is checked).
            $ex2 = @(Invoke-HelpExample (Get-HelpExample -Cmdlet ConvertFrom-MtvClusterObject -Title 'Read saved objects of two MTV versions' -WithoutFormat))
            $ex3 = @(Invoke-HelpExample (Get-HelpExample -Cmdlet ConvertFrom-MtvClusterObject -Title 'Every disk MTV copies with the populator' -WithoutFormat))
        }
        finally { Pop-Location }
        $ex2.MoRef | Should -Be @('vm-1013', 'vm-2044')
        $ex2.Kind | Should -Be @('Migration', 'Plan')
        $ex2.Signature | Should -Be @('PopulatorPodFailed', 'PopulatorPodFailed')
        $ex2[0].VMId | Should -Be 'VirtualMachine-vm-1013'
        $ex3.Count | Should -Be 1
        $ex3[0].Result | Should -Be 'failure'
        $ex3[0].XcopyUsed | Should -Be '0'
    }

    It 'refuses text that is not JSON with a stable id and writes nothing for it' {
        $out = 'kind: Migration' | ConvertFrom-MtvClusterObject -ErrorVariable e -ErrorAction SilentlyContinue
        $out | Should -BeNullOrEmpty
        $e[0].FullyQualifiedErrorId | Should -BeLike 'MtvClusterObjectInvalidJson,*'
        $e[0].ToString() | Should -Match 'oc get <kind> <name> -o json'
    }
}

Describe 'Wrapper generations on lab hosts' -Tag Lab -Skip:(-not $LabUp) {
    BeforeAll {
        $script:LabScript = Join-Path $PSScriptRoot '../lab/lab.sh'
        Import-Module (Join-Path $PSScriptRoot '../lab/Lab.psm1') -Force
        . (Join-Path $PSScriptRoot '../lab/RunbookScene.ps1')
        $script:Lab = Get-MtvLab
        Connect-RunbookLab
        $script:Gen = @{ '2.9' = $Lab.hosts[0].name; '2.10' = $Lab.hosts[1].name; '2.11' = $Lab.hosts[2].name }
        foreach ($g in $Gen.Keys) { Reset-LabHost $Gen[$g]; Set-LabWrapper $Gen[$g] $g }
        # A fresh 0.3.x host: no log file (Reset-LabHost seeds a 2.10 one, which an upgrade would keep).
        $null = Invoke-LabHost $Gen['2.11'] 'rm -f /var/log/vmkfstools-wrapper.log'
        function script:Chroot([string] $HostName, [string] $Path) { Join-Path (Get-LabHost $HostName).chrootPath $Path.TrimStart('/') }
    }

    AfterAll {
        foreach ($h in $Gen.Values) { Reset-LabHost $h }
        $null = Invoke-LabVcsimCtl 'ctk-on-power-on' @{ enabled = 0 }
        Get-EsxiShell | Disconnect-EsxiShell
        Get-MtvVIServer | Disconnect-MtvVIServer
    }

    It 'tells the generations apart and runs Get-VmkfstoolsWrapper''s lab example as written' {
        $null = New-LabWrapperTaskDir $Gen['2.10'] 1 -Failure 7228 -Vmdk /vmfs/volumes/LocalDS_0/g/disk1.vmdk
        $null = New-LabWrapperTaskDir $Gen['2.10'] 1 -Running
        $failed = @(Invoke-HelpExample (Get-HelpExample -Cmdlet Get-VmkfstoolsWrapper -Title 'The failed clones of the lab hosts' -WithoutFormat))
        $failed.Count | Should -Be 1
        $failed[0].VMHost | Should -Be $Gen['2.10']
        $failed[0].ExitCode | Should -Be 255
        $failed[0].Stderr | Should -Be 'Failed to clone disk: Invalid change tracker error code (7228).'
        $failed[0].SourceDisk | Should -Be '/vmfs/volumes/LocalDS_0/g/disk1.vmdk'

        $w = @{}; Get-EsxiShell | Get-VmkfstoolsWrapper | ForEach-Object { $w[$_.VMHost] = $_ }
        $w[$Gen['2.9']].VibVersion | Should -Be '0.1.1'
        $w[$Gen['2.9']].MtvVersion | Should -Be '2.9'
        $w[$Gen['2.9']].CloneMethods | Should -Be @('Vib', 'Ssh')
        $w[$Gen['2.9']].RestrictedKeys[0] | Should -Match 'command="python /vmfs/volumes/LocalDS_0/secure-vmkfstools-wrapper.py"'
        # The datastore is a UUID directory and its label's link, as on ESXi: the script once, by label.
        Invoke-LabHost $Gen['2.9'] 'readlink /vmfs/volumes/LocalDS_0' | Should -Match '^[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{12}$'
        $w[$Gen['2.9']].SecureScripts | Should -Be @('/vmfs/volumes/LocalDS_0/secure-vmkfstools-wrapper.py SCRIPT_VERSION = "0.0.1"')
        $w[$Gen['2.10']].ScriptVersion | Should -Be '0.0.5'
        $w[$Gen['2.10']].LogsTo | Should -Be 'File'
        $w[$Gen['2.10']].TaskDirectoryCount | Should -Be 2
        $w[$Gen['2.10']].RunningTasks | Should -Be 1
        $w[$Gen['2.11']].Language | Should -Be 'Shell'
        $w[$Gen['2.11']].LogsTo | Should -Be 'Syslog'
        $w[$Gen['2.11']].MtvVersion | Should -Be '2.11'
        $w[$Gen['2.11']].LogFiles.Count | Should -Be 0
    }

    It 'reads a 2.10+ restricted key''s command whole, escaped quotes and all' {
        # RestrictedSSHCommandTemplate (pkg/lib/util/sshutils.go:23@v2.10.4) in the key line
        # pkg/controller/provider/validation.go:757@v2.10.4 builds: command="%s",no-port-forwarding,...
        $template = 'sh -c ''DS=$(echo \"$SSH_ORIGINAL_COMMAND\" | sed -n \"s/^DS=\\([^;]*\\);.*/\\1/p\"); CMD=$(echo \"$SSH_ORIGINAL_COMMAND\" | sed -n \"s/^DS=[^;]*;CMD=\\(.*\\)/\\1/p\"); if [ -z \"$DS\" ]; then echo \"SSH_OK\"; else SSH_ORIGINAL_COMMAND=\"$CMD\" exec python /vmfs/volumes/$DS/secure-vmkfstools-wrapper.py; fi'''
        $keys = Chroot $Gen['2.10'] '/etc/ssh/keys-root/authorized_keys'
        $before = @(Get-Content -LiteralPath $keys)
        try {
            Add-Content -LiteralPath $keys -Value "command=`"$template`",no-port-forwarding,no-agent-forwarding,no-X11-forwarding ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHc0b2ZmbG9hZGtleWZvcnRoZWxhYm9ubHkxMjM0NTY3 offload"
            $w = Get-EsxiShell | Where-Object VMHost -EQ $Gen['2.10'] | Get-VmkfstoolsWrapper -ErrorAction Stop
            $w.RestrictedKeys | Should -Be @("line $($before.Count + 1): command=`"$template`"")
        } finally {
            Set-Content -LiteralPath $keys -Value $before
        }
    }

    It 'makes the 0.3.x clone''s mkdir fail with exit status 1, never 28, on a full file system' {
        # vmkfstools_wrapper.sh@v2.12.5 clone(): `mkdir -p "${task_dir}"; local mkdir_exit=$?`, and
        # "free space is low" only for exit status 28. BusyBox mkdir exits 1 on ENOSPC (here a
        # tmpfs out of inodes), so that branch is unreachable (docs/field-sources.md section 2).
        $h = $Gen['2.11']
        $null = Invoke-LabHost $h 'mkdir -p /tmp/lab-full && mount -t tmpfs -o size=1m,nr_inodes=2 lab-full /tmp/lab-full'
        try {
            $r = Invoke-LabHost $h 'i=0; while mkdir /tmp/lab-full/d$i 2>/dev/null; do i=$((i + 1)); done; mkdir -p /tmp/lab-full/vmkfstools-wrapper-5d0e2f5a-7c1b-4e8e-9d55-3b1a6c1f0e21; echo "exit $?"' -AllowFailure -PassThru
            $r.Output.Trim() | Should -Be 'exit 1'
            $r.Error | Should -Match 'No space left on device'
        } finally {
            $null = Invoke-LabHost $h 'umount /tmp/lab-full; rmdir /tmp/lab-full' -AllowFailure
        }
    }

    It 'puts each generation''s inventory on Test-VmkfstoolsLogSpace''s result, flat for CSV (example 5 as written)' {
        # A fourth host with MTV 2.12.0's wrapper (VIB 0.3.1), and a failed clone's task directory
        # on the 2.11 host, left because its populator died before the taskClean that removes it.
        # (Set-LabWrapper replaces the generation's artefacts; the host is reset afterwards.)
        $g212 = $Lab.hosts[3].name
        Set-LabWrapper $g212 '2.12'
        try {
            $null = New-LabWrapperTaskDir $Gen['2.11'] 1 -Failure 327689 -Orphaned
            $hosts = @($Gen['2.9'], $Gen['2.10'], $Gen['2.11'], $g212)
            $s = @{}; Test-VmkfstoolsLogSpace -VMHost $hosts -ErrorAction Stop -WarningVariable warn | ForEach-Object { $s[$_.VMHost] = $_ }
            $warn | Should -BeNullOrEmpty
            $s.Count | Should -Be 4
            $s[$Gen['2.9']].WrapperMtvVersion | Should -Be '2.9'
            $s[$Gen['2.9']].WrapperVersion | Should -Be '0.1.1'
            $s[$Gen['2.9']].WrapperLogsTo | Should -Be 'File'
            $s[$Gen['2.9']].WrapperCloneMethods.ToString() | Should -Be 'Vib; Ssh'
            $s[$Gen['2.10']].WrapperMtvVersion | Should -Be '2.10'
            $s[$Gen['2.10']].WrapperLogPath | Should -Be '/var/log/vmkfstools-wrapper.log'
            $s[$Gen['2.11']].WrapperMtvVersion | Should -Be '2.11'
            $s[$Gen['2.11']].WrapperLogsTo | Should -Be 'Syslog'
            $s[$Gen['2.11']].WrapperFailedTaskCount | Should -Be 1
            $s[$g212].WrapperMtvVersion | Should -Be '2.12.0'
            $s[$g212].WrapperVersion | Should -Be '0.3.1'
            $s[$g212].WrapperLogsTo | Should -Be 'Syslog'
            # The same inventory as Get-VmkfstoolsWrapper, read beside the space check.
            foreach ($w in Get-VmkfstoolsWrapper -VMHost $hosts -ErrorAction Stop) {
                $r = $s[$w.VMHost]
                $r.Wrapper.VMHost | Should -Be $w.VMHost
                $r.Wrapper.MtvVersion | Should -Be $w.MtvVersion
                $r.WrapperTaskDirectoryCount | Should -Be $w.TaskDirectoryCount
                $r.WrapperTaskDirectoryBytes | Should -Be $w.TaskDirectoryBytes
                $r.WrapperRunningTaskCount | Should -Be $w.RunningTasks
                $r.WrapperFailedTaskCount | Should -Be $w.FailedTasks.Count
                @($r.Wrapper.FailedTasks.Stderr) | Should -Be @($w.FailedTasks.Stderr)
            }
            $s[$Gen['2.11']].Wrapper.FailedTasks[0].Stderr | Should -Be 'Failed to clone disk: Input/output error (327689).'
            # The probe's own task count and the inventory's agree.
            $s[$Gen['2.11']].TaskDirCount | Should -Be $s[$Gen['2.11']].WrapperTaskDirectoryCount

            # Example 5 as written, in a scratch folder (it writes wave3-hosts.csv there).
            $example = Get-HelpExample -Cmdlet Test-VmkfstoolsLogSpace -Title 'to a CSV file'
            $dir = Join-Path $Work 'csv'; New-Item -ItemType Directory -Force $dir | Out-Null
            Push-Location $dir
            try { $null = Invoke-HelpExample $example } finally { Pop-Location }
            $rows = @{}; Import-Csv (Join-Path $dir 'wave3-hosts.csv') | ForEach-Object { $rows[$_.VMHost] = $_ }
            $rows[$Gen['2.9']].WrapperMtvVersion | Should -Be '2.9'
            $rows[$Gen['2.9']].WrapperCloneMethods | Should -Be 'Vib; Ssh'
            $rows[$Gen['2.10']].WrapperLogsTo | Should -Be 'File'
            $rows[$Gen['2.11']].WrapperLogsTo | Should -Be 'Syslog'
            $rows[$Gen['2.11']].WrapperFailedTaskCount | Should -Be '1'
            $rows[$g212].WrapperMtvVersion | Should -Be '2.12.0'

            # The table shows the generation and where it logs.
            ($s[$Gen['2.11']] | Format-Table | Out-String -Width 250) | Should -Match '2\.11 syslog'
        }
        finally { Reset-LabHost $g212 }
    }

    It 'names the MTV releases of VIB 0.3.2 (payload 0.3.1) and 0.3.3; a 0.3.x host keeps no failed task by itself' {
        $h = $Lab.hosts[3].name
        try {
            Set-LabWrapper $h '2.12.1'
            $w = Get-VmkfstoolsWrapper -VMHost $h -ErrorAction Stop
            $w.VibVersion | Should -Be '0.3.2'
            $w.ScriptVersion | Should -Be '0.3.1'
            $w.MtvVersion | Should -Be '2.12.1-2.12.3'
            $w.LogsTo | Should -Be 'Syslog'
            # Against the cluster's MTV 2.12.5 (VIB 0.3.3): example 3 as written lists the host, with a warning.
            $old = @(Invoke-HelpExample (Get-HelpExample -Cmdlet Get-VmkfstoolsWrapper -Title 'older than the cluster' -WithoutFormat) 3>$null)
            $mine = $old | Where-Object VMHost -EQ $h
            $mine.ClusterVibVersion | Should -Be '0.3.3'
            $mine.VibOutdated | Should -BeTrue
            $null = Get-VmkfstoolsWrapper -VMHost $h -MtvVersion 2.12.5 -ErrorAction Stop -WarningVariable warned 3>$null
            "$warned" | Should -BeLike "$($h): vmkfstools-wrapper VIB 0.3.2 is older than 0.3.3, the one MTV 2.12.5 ships.*"
            Set-LabWrapper $h '2.12.4'
            $w = Get-VmkfstoolsWrapper -VMHost $h -ErrorAction Stop
            $w.VibVersion | Should -Be '0.3.3'
            $w.ScriptVersion | Should -Be '0.3.3'
            $w.MtvVersion | Should -Be '2.12.4 or later'
            (Get-VmkfstoolsWrapper -VMHost $h -MtvVersion 2.12.5 -ErrorAction Stop -WarningVariable none).VibOutdated | Should -BeFalse
            $none | Should -BeNullOrEmpty
            # The lab plants nothing a version does not write: 0.3.x's taskClean removes a failed task.
            { New-LabWrapperTaskDir $h 1 -Failure 7228 } | Should -Throw '*removes a failed task*'
            (Get-VmkfstoolsWrapper -VMHost $h -ErrorAction Stop).TaskDirectoryCount | Should -Be 0
        }
        finally { Reset-LabHost $h }
    }

    It 'checks the space alone with -SkipWrapperInventory (same figures, no Wrapper* properties)' {
        $h = $Gen['2.10']
        $with = Test-VmkfstoolsLogSpace -VMHost $h -ErrorAction Stop
        $without = Test-VmkfstoolsLogSpace -VMHost $h -SkipWrapperInventory -ErrorAction Stop
        $with.WrapperMtvVersion | Should -Be '2.10'
        $without.WrapperMtvVersion | Should -BeNullOrEmpty
        $without.WrapperLogsTo | Should -BeNullOrEmpty
        $without.Wrapper | Should -BeNullOrEmpty
        $without.LogSizeBytes | Should -Be $with.LogSizeBytes
        $without.VolumePath | Should -Be $with.VolumePath
        $without.Status | Should -Be $with.Status
    }

    It 'refuses Clear and Register on a syslog-only wrapper (WrapperLogNotApplicable), changing nothing' {
        $h = $Gen['2.11']
        $crontab = Get-Content -LiteralPath (Chroot $h '/var/spool/cron/crontabs/root') -Raw
        $c = Clear-VmkfstoolsWrapperLog -VMHost $h -Confirm:$false -ErrorVariable e1 -ErrorAction SilentlyContinue
        $r = Register-LogRotationCron -VMHost $h -Confirm:$false -ErrorVariable e2 -ErrorAction SilentlyContinue -WarningAction SilentlyContinue
        $c | Should -BeNullOrEmpty
        $r | Should -BeNullOrEmpty
        $e1.Count | Should -Be 1
        $e1[0].FullyQualifiedErrorId | Should -BeLike 'WrapperLogNotApplicable,*'
        $e1[0].CategoryInfo.Category | Should -Be 'InvalidOperation'
        $e1[0].TargetObject | Should -Be $h
        $e1[0].Exception.Message | Should -Match '^Clearing /var/log/vmkfstools-wrapper\.log does not apply: .* runs the shell wrapper 0\.3\.0 .*logs through syslog .*no such file\. Nothing was changed\.$'
        $e2.Count | Should -Be 1
        $e2[0].FullyQualifiedErrorId | Should -BeLike 'WrapperLogNotApplicable,*'
        $e2[0].Exception.Message | Should -Match '^A rotation job for /var/log/vmkfstools-wrapper\.log does not apply: '
        Get-Content -LiteralPath (Chroot $h '/var/spool/cron/crontabs/root') -Raw | Should -BeExactly $crontab
        Test-Path (Chroot $h '/var/log/vmkfstools-wrapper.log') | Should -BeFalse
        # On a 2.10 host the same commands act as always.
        Clear-VmkfstoolsWrapperLog -VMHost $Gen['2.10'] -Confirm:$false -ErrorAction Stop | Should -Not -BeNullOrEmpty
    }

    It 'refuses the rotation job in the runbook as Register-LogRotationCron does: same id, same text, crontab unchanged' {
        $h = $Gen['2.11']
        $vm = @(Get-LabVM | Where-Object host -EQ $h)[0]
        $crontab = Get-Content -LiteralPath (Chroot $h '/var/spool/cron/crontabs/root') -Raw
        $null = Register-LogRotationCron -VMHost $h -Confirm:$false -ErrorVariable cmdlet -ErrorAction SilentlyContinue -WarningAction SilentlyContinue
        $out = @(Invoke-MtvRemediation -VM $vm.name -RegisterLogRotation -Confirm:$false -ErrorVariable runbook -ErrorAction SilentlyContinue 6>$null)
        $refusals = @($runbook | Where-Object { $_.FullyQualifiedErrorId -like 'WrapperLogNotApplicable,*' })
        $refusals.Count | Should -Be 1
        $refusals[0].Exception.Message | Should -BeExactly $cmdlet[0].Exception.Message
        $refusals[0].TargetObject | Should -Be $h
        $row = $out | Where-Object { $_.Kind -eq 'Host' -and $_.VMHost -eq $h }
        $row.Result | Should -Be 'Refused'
        $row.Actions.Count | Should -Be 0
        $row.RotationCronRegistered | Should -Not -BeTrue
        Get-Content -LiteralPath (Chroot $h '/var/spool/cron/crontabs/root') -Raw | Should -BeExactly $crontab
    }

    It 'removes old task directories, never a running one, keeping exit codes and stderr (Remove example 2)' {
        $h = $Gen['2.9']
        $failed = @(New-LabWrapperTaskDir $h 1 -AgeDays 9 -Failure 327689)[0]
        $done = @(New-LabWrapperTaskDir $h 1 -AgeDays 9)[0]
        $running = @(New-LabWrapperTaskDir $h 1 -AgeDays 9 -Running)[0]
        $young = @(New-LabWrapperTaskDir $h 1 -AgeDays 1 -Failure 7228)[0]
        Remove-VmkfstoolsWrapperTaskDirectory -VMHost $h -WhatIf
        foreach ($d in $failed, $done, $running, $young) { Test-Path (Chroot $h $d) | Should -BeTrue -Because '-WhatIf changes nothing' }

        $archive = Join-Path ([IO.Path]::GetTempPath()) "mtv-tasks-$PID"
        $r = Remove-VmkfstoolsWrapperTaskDirectory -VMHost $h -OlderThanDays 5 -ArchivePath $archive -Confirm:$false -ErrorAction Stop
        $r.Removed.Path | Sort-Object | Should -Be @($failed, $done | Sort-Object)
        ($r.Removed | Where-Object Path -EQ $failed).ExitCode | Should -Be 255
        ($r.Removed | Where-Object Path -EQ $failed).Stderr | Should -Be 'Failed to clone disk: Input/output error (327689).'
        $r.Kept | Should -Contain "$($running): running (pid $((Get-Content (Chroot $h "$running/pid")).Trim()))"
        $r.Kept | Should -Contain "$($young): newer than the age limit"
        Test-Path (Chroot $h $failed) | Should -BeFalse
        Test-Path (Chroot $h $running) | Should -BeTrue
        Test-Path (Chroot $h $young) | Should -BeTrue
        (Get-Content $r.ArchiveFile -Raw | ConvertFrom-Json | Where-Object path -EQ $failed).stderr | Should -Be 'Failed to clone disk: Input/output error (327689).'
        # The failed tasks' stderr names datastores and VMs: the archive is its owner's only.
        [IO.File]::GetUnixFileMode($r.ArchiveFile) | Should -Be ([IO.UnixFileMode]'UserRead, UserWrite')
        Remove-Item $archive -Recurse -Force

        $out = @(Invoke-HelpExample (Get-HelpExample -Cmdlet Remove-VmkfstoolsWrapperTaskDirectory -Title "Remove the lab hosts' old task directories" -WithoutFormat))
        ($out | Where-Object VMHost -EQ $h).Kept | Should -Contain "$($young): newer than the age limit"
        Test-Path (Chroot $h $running) | Should -BeTrue
    }

    It 'a task directory name with a newline and @@ hides no later evidence (it is not a task id: counted, never read)' {
        $h = $Gen['2.10']
        $null = Invoke-LabHost $h 'mkdir "$(printf "/tmp/vmkfstools-wrapper-0\n@@x")"; mkdir "$(printf "/tmp/vmkfstools-wrapper-1\t2")"'
        $failed = @(New-LabWrapperTaskDir $h 1 -Failure 7228)[0]
        try {
            $w = Get-VmkfstoolsWrapper -VMHost $h -ErrorAction Stop
            $w.UnrecognizedTaskDirectoryCount | Should -Be 2
            @($w.FailedTasks | Where-Object Path -EQ $failed).Count | Should -Be 1
            $w.TaskDirectories.Path | Should -Not -Match '@@|\t'
            $f = @(Find-MtvCloneFailure -VMHost $h -ErrorAction Stop | Where-Object { $_.Source -like "*$failed/err" })
            $f.Signature | Should -Contain 'ChangeTrackerInvalid'
            (Test-VmkfstoolsLogSpace -VMHost $h -SkipWrapperInventory -ErrorAction Stop).TaskDirCount | Should -Be @($w.TaskDirectories).Count
        }
        finally { $null = Invoke-LabHost $h 'rm -rf /tmp/vmkfstools-wrapper-0*@@x /tmp/vmkfstools-wrapper-1*2'; $null = Invoke-LabHost $h "rm -rf $failed" }
    }

    It 'names and contents with any byte reach the objects exact and the console printable (nothing after them lost)' {
        $h = $Gen['2.10']
        $dirs = @(New-LabWrapperTaskDir $h 2 -Failure 7228)
        # err with a terminal title sequence and a byte that is not UTF-8; an SSH-method script whose
        # name holds a newline, a section marker and a screen clear.
        $null = Invoke-LabHost $h ("printf 'x\033]0;owned\007\n\377Failed to clone disk: Invalid change tracker error code (7228).\n' > $($dirs[0])/err; " +
            'for d in /vmfs/volumes/*/; do printf "SCRIPT_VERSION = ''0.0.1''\n" > "${d}secure-vmkfstools-wrapper$(printf ''x\n@@end\033[2J'')"; done')
        try {
            $w = Get-VmkfstoolsWrapper -VMHost $h -ErrorAction Stop
            $t = @($w.TaskDirectories | Where-Object Path -EQ $dirs[0])[0]
            $t.Stderr | Should -BeExactly ("x`e]0;owned`a`n" + [char]0xDCFF + "Failed to clone disk: Invalid change tracker error code (7228).")
            @($w.FailedTasks | Where-Object Path -In $dirs).Count | Should -Be 2
            @($w.SecureScripts | Where-Object { $_.EndsWith("/secure-vmkfstools-wrapperx`n@@end`e[2J SCRIPT_VERSION = '0.0.1'") }).Count | Should -BeGreaterThan 0
            $text = ($w | Out-String) + ($t | Out-String)
            $text | Should -Not -Match "`e"
            $text | Should -Match ([regex]::Escape('x\x1B]0;owned\x07'))
            $text | Should -Match ([regex]::Escape('\xFFFailed to clone disk'))
            $text | Should -Match ([regex]::Escape('secure-vmkfstools-wrapperx'))

            $f = @(Find-MtvCloneFailure -VMHost $h -ErrorAction Stop | Where-Object { $_.Source -like "*$($dirs[0])/err" })
            $f.Signature | Should -Contain 'ChangeTrackerInvalid'
            @(Find-MtvCloneFailure -VMHost $h -ErrorAction Stop | Where-Object { $_.Source -like "*$($dirs[1])/err" }).Signature | Should -Contain 'ChangeTrackerInvalid'
            ($f | Format-List | Out-String) | Should -Not -Match "`e"
        }
        finally {
            $null = Invoke-LabHost $h "rm -rf $($dirs -join ' '); rm -f /vmfs/volumes/*/secure-vmkfstools-wrapperx*"
        }
    }

    It 'reads no task-directory file through a link, nor from a FIFO (the inventory does not hang)' {
        $h = $Gen['2.10']
        $dir = @(New-LabWrapperTaskDir $h 1 -Failure 7228)[0]
        $secret = '/etc/mtv-lab-root-only'
        $null = Invoke-LabHost $h "echo 'root only: never copied' > $secret; chmod 600 $secret; rm -f $dir/err $dir/pid; ln -s $secret $dir/err; mkfifo $dir/pid"
        try {
            $sw = [Diagnostics.Stopwatch]::StartNew()
            $w = Get-VmkfstoolsWrapper -VMHost $h -ErrorAction Stop
            $sw.Stop()
            # A read of the FIFO would block until the command's 60 s timeout.
            $sw.Elapsed.TotalSeconds | Should -BeLessThan 20
            $t = @($w.TaskDirectories | Where-Object Path -EQ $dir)
            $t.Count | Should -Be 1
            $t[0].Stderr | Should -Not -Match 'root only'
            $t[0].Pid | Should -BeNullOrEmpty
            $t[0].ExitCode | Should -Be 255
        }
        finally { $null = Invoke-LabHost $h "rm -rf $dir $secret" }
    }

    It 'takes a VM name from a cluster object literally: "*" without an id plans no VM of the vCenter' {
        # The 2.10 fixture's failed VM with its id removed and the name "*": a pattern would match every lab VM.
        $m = Get-Content (Join-Path $PSScriptRoot '../fixtures/mtv/2.10/migration.json') -Raw | ConvertFrom-Json
        $vm = $m.status.vms[0]
        $vm.PSObject.Properties.Remove('id')
        $vm.name = '*'
        $targets = @($m | ConvertTo-Json -Depth 20 | ConvertFrom-MtvClusterObject)
        $targets.Count | Should -BeGreaterThan 0
        $targets[0].Name | Should -Be '*'
        $targets[0].VMId | Should -BeNullOrEmpty
        $out = @($targets | Invoke-MtvRemediation -PowerOff -Force -WhatIf -ErrorVariable errs -ErrorAction SilentlyContinue 6>$null)
        # The one VM row is the input itself, not found (a row of its own so a scheduled run sees it); no VM is planned.
        $vmRows = @($out | Where-Object { $_.PSObject.Properties['Kind'] -and $_.Kind -eq 'VM' })
        $vmRows.Count | Should -Be 1
        $vmRows[0].Name | Should -Be '*'
        $vmRows[0].Result | Should -Be 'Failed'
        @($vmRows[0].Plan).Count | Should -Be 0
        @($errs | Where-Object { $_.FullyQualifiedErrorId -like 'VMNotFound,*' }).Count | Should -BeGreaterThan 0
    }

    It 'Find-MtvCloneFailure | Reset-VMChangeTracking: a 7228 finding that names a disk resolves to the VM that has it' {
        $vm = @(Get-LabVM | Where-Object host -EQ $Gen['2.10'])[0]
        $disk = '/vmfs/volumes/' + ($vm.disks[0] -replace '^\[([^\]]*)\]\s*', '$1/')
        $planted = @(New-LabWrapperTaskDir $Gen['2.10'] 1 -Failure 7228 -Vmdk $disk)
        try {
            $findings = @(Find-MtvCloneFailure -VMHost $Gen['2.10'] | Where-Object { $_.Signature -eq 'ChangeTrackerInvalid' -and $_.Disk -eq $disk })
            $findings.Count | Should -Be 1
            # Read-only through the same resolution the reset uses: the finding names the disk, the VM comes back.
            $st = @($findings | Get-VMChangeTracking -ErrorAction Stop)
            $st.Count | Should -Be 1
            $st[0].VM | Should -Be $vm.name
            $st[0].VMId | Should -Be "VirtualMachine-$($vm.moref)"
            # A disk no VM has is a clear error, not a silent skip.
            $ghost = [MtvRemediation.CloneFailureFinding]@{ Signature = 'ChangeTrackerInvalid'; Source = 'x'; Disk = '/vmfs/volumes/LocalDS_0/nobody/nobody.vmdk' }
            $ghost | Get-VMChangeTracking -ErrorVariable e -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
            $e[0].FullyQualifiedErrorId | Should -BeLike 'VMNotFound*'
            $e[0].Exception.Message | Should -Match 'No VM with the disk /vmfs/volumes/LocalDS_0/nobody/nobody.vmdk'
        }
        finally { foreach ($d in $planted) { $null = Invoke-LabHost $Gen['2.10'] "rm -rf '$d'" } }
    }

    It 'plans from a 2.10 Migration and a 2.12 Plan: the failed VM, and a CBT reset only on its host''s 7228 evidence' {
        $fixtures = Join-Path $PSScriptRoot '../fixtures/mtv'
        $vms = @(Get-LabVM | Where-Object host -EQ $Gen['2.10'])
        $vm = $vms[0]; $other = $vms[1]
        # The fixtures' VM, pointed at a lab VM: only the id and name are the lab's.
        $m = (Get-Content (Join-Path $fixtures '2.10/migration.json') -Raw) -replace 'vm-1013', $vm.moref -replace '"db01"', "`"$($vm.name)`"" -replace 'vm-1017', $other.moref -replace '"app01"', "`"$($other.name)`""
        $p = (Get-Content (Join-Path $fixtures '2.12/plan.json') -Raw) -replace 'vm-2044', $other.moref -replace '"web02"', "`"$($other.name)`""
        $disk = '/vmfs/volumes/' + ($vm.disks[0] -replace '^\[([^\]]*)\]\s*', '$1/')
        $null = New-LabWrapperTaskDir $Gen['2.10'] 1 -Failure 7228 -Vmdk $disk

        $targets = @($m, $p | ConvertFrom-MtvClusterObject)
        $targets.MoRef | Should -Be @($vm.moref, $other.moref)
        $out = @($targets | Invoke-MtvRemediation -PowerOff -Force -WhatIf 6>$null)
        $summaries = @($out | Where-Object { $_.PSObject.Properties['VM'] })
        $mine = $summaries | Where-Object VM -EQ $vm.name
        $mine.Result | Should -Be 'Planned'
        $mine.Diagnosis | Should -Match "7228.*$([regex]::Escape($Gen['2.10'])):/tmp/vmkfstools-wrapper-"
        ($mine.Plan -join ' ') | Should -Match 'then remove the failed clone task directory'
        # The other VM's populator pod failed too, but nothing on its host names a 7228 for it: no power cycle.
        ($summaries | Where-Object VM -EQ $other.name).Result | Should -Be 'Healthy'
    }
}
