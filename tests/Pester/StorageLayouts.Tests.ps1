# Issue 14 point 1: the volume that really holds the log, on the storage layouts of
# docs/field-sources.md#3-esxi-shell-and-storage
# (lab.sh layout / Set-LabHostLayout): the lab default (a directory on the var ramdisk), ESXi 7/8
# with /var/log -> /scratch/log -> the OSDATA volume under /vmfs/volumes, and ESXi 7/8 degraded
# mode with /scratch on the tmp ramdisk, and scratch configured on a datastore (df names it by
# label, its real path has the UUID: the stat -f reading). The expected numbers are the kernel's statfs of the log's
# real directory inside the host's chroot, never the module's own reading.

BeforeDiscovery {
    $script:LabUp = Test-Path (Join-Path $PSScriptRoot '../../out/lab/lab.json')
    if ($env:MTVLAB_STATE) { $script:LabUp = Test-Path $env:MTVLAB_STATE }
}

BeforeAll {
    $manifestPath = if ($env:MTV_MODULE_PATH) { $env:MTV_MODULE_PATH } else { Join-Path $PSScriptRoot '../../out/MtvRemediation/0.1.0/MtvRemediation.psd1' }
    Import-Module $manifestPath -Force
    . (Join-Path $PSScriptRoot 'HostRemediation.Helpers.ps1')
    $script:Log = '/var/log/vmkfstools-wrapper.log'
}

Describe 'Test- and Clear-VmkfstoolsWrapperLog on the ESXi storage layouts' -Tag Lab -Skip:(-not $LabUp) {
    BeforeAll {
        $script:Lab = Get-HostLab
        $script:H = $Lab.Hosts[[Math]::Min(1, $Lab.Hosts.Count - 1)]
        Initialize-HostState $H
        Connect-HostLab $Lab -Hosts $H
        # Inside the chroot only: the layouts' links are absolute paths of the host.
        function Get-InHostSize([string] $Path) { [long](Invoke-InHost $H "stat -c %s $Path") }
        function Get-InHostStatFs([string] $Dir) {
            $f = (Invoke-InHost $H "stat -f -c '%S %b %a' $Dir") -split ' '
            [pscustomobject]@{ Size = [long]$f[0] * [long]$f[1]; Free = [long]$f[0] * [long]$f[2] }
        }
    }

    AfterAll {
        if ($script:H) { Initialize-HostState $H; Get-EsxiShell | Disconnect-EsxiShell }
    }

    It '<Layout>: reports the volume holding the real path (name, kind, size, free, source) and clears it with true figures' -ForEach @(
        @{ Layout = 'Ramdisk'; RealDir = '^/var/log$'; Mount = '^/var$'; Name = '^var$'; Kind = 'ramdisk'; Source = 'ramdisk list + vdf' }
        @{ Layout = 'OsData'; RealDir = '^/vmfs/volumes/[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{12}/log$'; Mount = '^/vmfs/volumes/[0-9a-f-]{35}$'; Name = '^[0-9a-f-]{35}$'; Kind = 'VFFS'; Source = 'df' }
        @{ Layout = 'Degraded'; RealDir = '^/tmp/scratch/log$'; Mount = '^/tmp$'; Name = '^tmp$'; Kind = 'ramdisk'; Source = 'ramdisk list + vdf' }
        # Scratch on a datastore: df names the volume by its label, the real path has its UUID.
        @{ Layout = 'Datastore'; RealDir = '^/vmfs/volumes/[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{12}/\.locker-[^/]+/log$'; Mount = '^/vmfs/volumes/[0-9a-f-]{35}$'; Name = '^[0-9a-f-]{35}$'; Kind = 'VMFS-family'; Source = 'stat -f' }
    ) {
        Set-LabHostLayout $H.Name $Layout | Should -Be $Layout.ToLowerInvariant()
        try {
            Add-LabWrapperLog $H.Name 4MB | Out-Null
            $real = Invoke-InHost $H 'readlink -f /var/log'
            $real | Should -Match $RealDir
            $r = Test-VmkfstoolsLogSpace -VMHost $H.Name -ErrorAction Stop
            $r.LogRealPath | Should -Be "$real/vmkfstools-wrapper.log"
            $r.VolumePath | Should -Match $Mount
            $r.VolumeName | Should -Match $Name
            $r.VolumeKind | Should -Be $Kind
            $r.Source | Should -Be $Source
            $r.LogSizeBytes | Should -Be (Get-InHostSize $Log)
            $fs = Get-InHostStatFs $real
            $r.VolumeSizeBytes | Should -Be $fs.Size
            [Math]::Abs($r.VolumeFreeBytes - $fs.Free) | Should -BeLessOrEqual 8192
            # Never the 32 MB root ramdisk, whatever the layout.
            $r.VolumeSizeBytes | Should -Not -Be (Get-InHostStatFs '/').Size

            $c = Clear-VmkfstoolsWrapperLog -VMHost $H.Name -Confirm:$false -ErrorAction Stop
            $c.BytesBefore | Should -Be $r.LogSizeBytes
            $c.BytesAfter | Should -Be 0
            Get-InHostSize $Log | Should -Be 0
            $c.UsedPercentBefore | Should -Be $r.UsedPercent
            $after = Get-InHostStatFs $real
            $c.UsedPercentAfter | Should -BeLessThan $c.UsedPercentBefore
            [Math]::Abs($c.UsedPercentAfter - [Math]::Round(($after.Size - $after.Free) * 100.0 / $after.Size, 1)) | Should -BeLessOrEqual 0.1
        }
        finally { Set-LabHostLayout $H.Name Ramdisk | Out-Null }
    }

    # Issue 14 point 1: the rotation limit follows the volume that really holds the log. The lab's
    # volumes differ in size (var ramdisk 16 MiB, OSDATA 64 MiB, tmp ramdisk 256 MiB by default), so
    # the limit (20 MiB at most, a quarter of the volume) differs per layout: 4, 16 and 20 MiB.
    It '<Layout>: the rotation limit in the registered cron line follows the size of the volume holding the log' -ForEach @(
        @{ Layout = 'Ramdisk' }
        @{ Layout = 'OsData' }
        @{ Layout = 'Degraded' }
    ) {
        function Get-LimitMB([long] $VolumeBytes) { [Math]::Min(20, [Math]::Max(1, [Math]::Floor($VolumeBytes / 4 / 1MB))) }
        function Get-CronMax {
            $line = Invoke-InHost $H "grep 'MtvRemediation:log-rotation' /var/spool/cron/crontabs/root"
            @($line).Count | Should -Be 1
            # -match, not Should -Match: only the operator sets $Matches.
            $line -match ' max=(\d+) ' | Should -BeTrue -Because "the cron line carries its limit: $line"
            [long]$Matches[1]
        }
        Set-LabHostLayout $H.Name $Layout | Out-Null
        $vc = $null
        try {
            $real = Invoke-InHost $H 'readlink -f /var/log'
            $expected = Get-LimitMB (Get-InHostStatFs $real).Size
            # The layouts put the log on other volumes than the var ramdisk: a limit read from /var
            # (or from the root ramdisk) would differ, so the test can tell them apart.
            if ($Layout -ne 'Ramdisk') {
                $expected | Should -Not -Be (Get-LimitMB (Get-InHostStatFs '/var').Size)
                $expected | Should -Not -Be (Get-LimitMB (Get-InHostStatFs '/').Size)
            }

            $r = Register-LogRotationCron -VMHost $H.Name -Confirm:$false -ErrorAction Stop 3>$null
            $r.MaxSizeMB | Should -Be $expected
            Get-CronMax | Should -Be ($expected * 1MB)
            # An explicit -MaxSizeMB is taken as given.
            (Register-LogRotationCron -VMHost $H.Name -MaxSizeMB 7 -Confirm:$false -ErrorAction Stop 3>$null).MaxSizeMB | Should -Be 7
            Get-CronMax | Should -Be (7MB)
            Unregister-LogRotationCron -VMHost $H.Name -Confirm:$false -ErrorAction Stop | Out-Null

            # The runbook on a VM of this host (CBT merely off: no reset planned, only the job).
            $lab = Get-MtvLab
            $vcUri = [uri]$lab.vcsim.url
            $vc = Connect-MtvVIServer -Server $vcUri.Host -Port $vcUri.Port -SkipCertificateCheck -WarningAction SilentlyContinue `
                -Credential ([pscredential]::new($lab.vcsim.user, (ConvertTo-SecureString ([string]$lab.vcsim.password) -AsPlainText -Force)))
            $vm = @(Get-LabVM -HostName $H.Name)[0]
            $out = Invoke-MtvRemediation -VM $vm.name -RegisterLogRotation -Confirm:$false -ErrorAction Stop -WarningAction SilentlyContinue
            $summary = @($out | Where-Object { $_ -is [MtvRemediation.RemediationHostSummary] })[0]
            $summary.VMHost | Should -Be $H.Name
            ($summary.Actions -join "`n") | Should -Match "max $expected MB"
            Get-CronMax | Should -Be ($expected * 1MB)
        }
        finally {
            Unregister-LogRotationCron -VMHost $H.Name -Confirm:$false -ErrorAction SilentlyContinue | Out-Null
            if ($vc) { $vc | Disconnect-MtvVIServer -Confirm:$false -ErrorAction SilentlyContinue }
            Set-LabHostLayout $H.Name Ramdisk | Out-Null
        }
    }

    It 'the rotation job truncates a log whose directory is a link into the OSDATA volume' {
        Set-LabHostLayout $H.Name OsData | Out-Null
        try {
            Add-LabWrapperLog $H.Name 3MB | Out-Null
            Register-LogRotationCron -VMHost $H.Name -IntervalMinutes 1 -MaxSizeMB 1 -Confirm:$false -ErrorAction Stop 3>$null | Out-Null
            $line = Invoke-InHost $H "grep 'MtvRemediation:log-rotation' /var/spool/cron/crontabs/root"
            Invoke-LabHost $H.Name (($line -split '\s+', 6)[5]) -AllowFailure | Out-Null
            Get-InHostSize $Log | Should -Be 0
            Unregister-LogRotationCron -VMHost $H.Name -Confirm:$false | Out-Null
        }
        finally { Set-LabHostLayout $H.Name Ramdisk | Out-Null }
    }

    It 'a log on no volume but the root ramdisk is an error, not the root ramdisk''s numbers' {
        Invoke-InHost $H 'mkdir -p /lab-rootfs && echo x > /lab-rootfs/w.log' | Out-Null
        try {
            Test-VmkfstoolsLogSpace -VMHost $H.Name -LogPath /lab-rootfs/w.log -ErrorVariable e -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
            $e[0].FullyQualifiedErrorId | Should -BeLike 'LogSpaceCheckFailed,*'
            $e[0].Exception.Message | Should -Match 'root ramdisk is never taken'
        }
        finally { Invoke-InHost $H 'rm -rf /lab-rootfs' | Out-Null }
    }
}
