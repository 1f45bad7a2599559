BeforeDiscovery {
    $script:LabState = if ($env:MTVLAB_STATE) { $env:MTVLAB_STATE } else { Join-Path $PSScriptRoot '../../out/lab/lab.json' }
    $script:LabUp = Test-Path $LabState
}

# Find-MtvCloneFailure: piped lines, local files, summaries, errors. Lab parts are tagged Lab.
BeforeAll {
    $manifestPath = if ($env:MTV_MODULE_PATH) { $env:MTV_MODULE_PATH } else { Join-Path $PSScriptRoot '../../out/MtvRemediation/0.1.0/MtvRemediation.psd1' }
    Import-Module $manifestPath -Force

    # Realistic lines (FIELD-FACTS): 2.10 wrapper, klog populator, JSON populator.
    $script:Wrapper = @(
        '2026-11-25 09:59:58,004 - INFO - clone task 5d0e2f5a-7c1b-4e8e-9d55-3b1a6c1f0e21 started: source=/vmfs/volumes/vsanDatastore/db01/db01.vmdk target=naa.600a098038304437415d4b6a59684a52'
        '2026-11-25 10:00:03,117 - DEBUG - vsish -e get /storage/scsifw/devices/naa.600a098038304437415d4b6a59684a52/stats: {   successful cmds:4461   write ops:1216 }'
        '2026-11-25 10:00:03,118 - INFO - XCOPY used: False, clone write ops: 1216'
        '2026-11-25 10:03:12,456 - ERROR - clone task failed with exit code 255, stderr: Failed to clone disk: Input/output error (327689).'
        '2026-11-25 10:04:00,001 - ERROR - Failed to clone disk: Invalid change tracker error code (7228).'
        '2026-11-25 10:05:00,000 - ERROR - could not write /tmp/vmkfstools-wrapper-5d0e2f5a/out: [Errno 28] No space left on device'
        '2026-11-25 10:06:30,250 - ERROR - clone task failed with exit code 1, stderr: Failed to clone disk: The file specified is not a virtual disk (15).'
        '2026-11-25 10:07:00,000 - INFO - clone task 5d0e2f5a-7c1b-4e8e-9d55-3b1a6c1f0e21 finished with exit code 0'
    )
    $script:Klog = @(
        'I1125 10:00:00.000000       1 vmkfstools.go:123] xcopy used reported: 0'
        'I1125 10:00:00.000000       1 vmkfstools.go:123] xcopy used reported: 1'
        'E1125 10:03:12.456789       1 populator.go:88] clone task failed with exit code 255, stderr: Failed to clone disk: Input/output error (327689).'
    )
    $script:Json = @(
        '{"level":"info","ts":"2026-11-25T10:00:05.123Z","logger":"vsphere-xcopy-volume-populator","msg":"clone progress","xcopyUsed": false,"progress":12}'
        '{"level":"info","ts":"2026-11-25T10:00:06.123Z","msg":"clone progress","xcopyUsed":true}'
        'time="2026-11-25T10:00:07Z" level=info msg="clone progress" xcopyUsed=false'
    )
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

    It 'reads klog and structured (JSON, logfmt) populator lines' {
        $k = @($Klog | Find-MtvCloneFailure)
        $k.Signature | Should -Be @('XcopyNotUsed', 'DiskIoError')
        $k.LineNumber | Should -Be @(1, 3)
        $k[1].Timestamp.ToString('o') | Should -Match '^\d{4}-11-25T10:03:12\.4567890Z$'
        $j = @($Json | Find-MtvCloneFailure)
        $j.Signature | Should -Be @('XcopyNotUsed', 'XcopyNotUsed')
        $j.LineNumber | Should -Be @(1, 3)
        $j[0].Timestamp | Should -Be (Utc '2026-11-25 10:00:05.123')
    }

    It 'summarises the pipeline with counts per signature' {
        $s = $Wrapper + $Klog | Find-MtvCloneFailure -Summary
        $s.PSObject.TypeNames[0] | Should -Be 'MtvRemediation.CloneFailureSummary'
        $s.Source | Should -Be 'InputObject'
        $s.LinesScanned | Should -Be 11
        $s.DiskIoError | Should -Be 2
        $s.ChangeTrackerInvalid | Should -Be 1
        $s.XcopyNotUsed | Should -Be 2
        $s.TotalFindings | Should -Be 7
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
        ($Wrapper | Find-MtvCloneFailure -Summary | Out-String -Width 200) | Should -Match 'InputObject\s+5\s+1\s+1\s+1\s+1\s+0\s+1'
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
        $s[1].DiskIoError | Should -Be 1
        $s[1].LinesScanned | Should -Be 3
    }

    It 'takes wildcards with -Path and reports the file as Source' {
        $f = @(Find-MtvCloneFailure -Path (Join-Path $Work '*.gz'))
        $f.Source | Select-Object -Unique | Should -Be $Gz
        $f.LineNumber | Should -Be @(1, 3)
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
        $help = Get-Help Find-MtvCloneFailure -Full
        Push-Location $Work
        try {
            $byTitle = { param($t) @($help.Examples.Example | Where-Object Title -Match $t)[0].Code -replace '(?m)^PS> ', '' }
            $ex1 = & ([scriptblock]::Create((& $byTitle "Scan a populator pod's log as it is piped in")))
            @($ex1).Signature | Should -Be @('XcopyNotUsed', 'DiskIoError', 'ChangeTrackerInvalid')
            $ex2 = & ([scriptblock]::Create((& $byTitle 'Summarise saved pod logs')))
            $ex2.DiskIoError | Should -Be 1
        }
        finally { Pop-Location }
    }
}

Describe 'Find-MtvCloneFailure on a large local log' {
    BeforeAll {
        # 256 MiB of 2.10 wrapper polling (vsish stats + "XCOPY used: False" every 5 s) with a
        # failure line per MiB, written in 1 MiB blocks so the test spends its time scanning.
        $script:Big = Join-Path $Work 'big-vmkfstools-wrapper.log'
        $sb = [Text.StringBuilder]::new()
        $i = 0
        while ($sb.Length -lt 1MB) {
            $ts = '2026-11-25 {0:00}:{1:00}:{2:00},{3:000}' -f [math]::Floor($i / 720 % 24), [math]::Floor($i / 12 % 60), ($i * 5 % 60), ($i % 1000)
            [void]$sb.Append("$ts - DEBUG - vsish -e get /storage/scsifw/devices/naa.600a098038304437415d4b6a59684a52/stats: {   successful cmds:$(4461 + $i)   write ops:$i }`n")
            [void]$sb.Append("$ts - INFO - XCOPY used: False, clone write ops: $i`n")
            $i++
        }
        [void]$sb.Append("2026-11-25 23:59:59,000 - ERROR - clone task failed with exit code 255, stderr: Failed to clone disk: Input/output error (327689).`n")
        $block = [Text.Encoding]::UTF8.GetBytes($sb.ToString())
        $script:XcopyPerBlock = $i
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
        $xcopy[-1].LineNumber | Should -Be (($XcopyPerBlock * 2 + 1) * $Blocks - 1)
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
        $s.Count | Should -Be $LabHosts.Count
        foreach ($h in $LabHosts) {
            $mine = $s | Where-Object VMHost -EQ $h.name
            $mine.Path | Should -Be '/var/log/vmkfstools-wrapper.log'
            $mine.Source | Should -Be "$($h.name):/var/log/vmkfstools-wrapper.log"
            # The generator's polls, read from the host's file system, not through our code.
            $truth = @(Select-String -LiteralPath (Join-Path $h.chrootPath 'var/log/vmkfstools-wrapper.log') -SimpleMatch 'XCOPY used: False').Count
            $truth | Should -BeGreaterThan 0
            $mine.XcopyNotUsed | Should -Be $truth
            $mine.LinesScanned | Should -BeNullOrEmpty -Because 'only matching lines leave the host'
        }
    }

    It 'finds the 7228 and 327689 failures the lab''s wrapper log generator writes, with the remediation' {
        & bash $LabScript wrapper-log $H.name 8192 --fail 7228 | Out-Null
        & bash $LabScript wrapper-log $H.name 4096 --fail 327689 | Out-Null
        $lines = Get-Content -LiteralPath (HostFile '/var/log/vmkfstools-wrapper.log')
        $f = @(Find-MtvCloneFailure -VMHost $H.name -ErrorAction Stop | Where-Object Signature -NE XcopyNotUsed)
        $f.Signature | Should -Be @('ChangeTrackerInvalid', 'DiskIoError')
        $f[0].Remediation | Should -Be 'Reset-VMChangeTracking'
        $f[1].ExitCode | Should -Be 255
        $f[1].Remediation | Should -Match 'Clear-VmkfstoolsWrapperLog'
        foreach ($x in $f) {
            $lines[$x.LineNumber - 1] | Should -Be $x.Line
            $x.Timestamp | Should -BeGreaterThan ([datetime]::UtcNow.AddMinutes(-10))
        }
        # -Since after the failures: nothing but what is newer.
        @(Find-MtvCloneFailure -VMHost $H.name -Since ([datetime]::UtcNow.AddMinutes(5)) -ErrorAction Stop).Count | Should -Be 0
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
        $block = New-LabWrapperLogBlock -Failure 327689
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

        @($findings | Where-Object Signature -EQ DiskIoError).Count | Should -Be $blocks
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

    It 'runs example 3 as written: one summary per lab host' {
        Get-EsxiShell | Disconnect-EsxiShell -Confirm:$false -ErrorAction SilentlyContinue
        $example = (Get-Help Find-MtvCloneFailure -Full).Examples.Example | Where-Object Title -Match 'lab hosts'
        $example | Should -Not -BeNullOrEmpty
        Push-Location (Join-Path $PSScriptRoot '../..')
        try { $out = @(& ([scriptblock]::Create(($example.Code -replace '(?m)^PS> ', '')))) }
        finally { Pop-Location }
        $hosts = @((Get-Content $LabState -Raw | ConvertFrom-Json).hosts.name)
        @($out.VMHost | Sort-Object) | Should -Be @($hosts | Sort-Object)
        $out | ForEach-Object { $_.PSObject.TypeNames[0] | Should -Be 'MtvRemediation.CloneFailureSummary' }
    }
}
