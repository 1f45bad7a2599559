<#
.SYNOPSIS
    Clear-VmkfstoolsWrapperLog -ArchivePath on a 512 MiB wrapper log: archive throughput against
    `ssh host cat log | gzip > file` (OpenSSH, gzip here), and the client's peak memory growth.

.DESCRIPTION
    The log (MTV 2.10 wrapper records) lives on the host's datastore mount (/vmfs/volumes/<ds>,
    disk-backed: 512 MiB does not fit the 16 MiB /var ramdisk) and is removed afterwards. The
    baseline runs twice (the first run warms the page cache), then the cmdlet runs once: it reads
    the log compressed (gzip on the host), verifies the archive (local gunzip + hash against the
    host's sha256sum of the same bytes) and truncates the log in place. Throughput = log bytes /
    wall time of the whole call. Memory: VmHWM growth of this process (BenchHelpers.ps1).
#>
[CmdletBinding()]
param([int] $LogMiB = 512)

$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$root = Resolve-Path (Join-Path $PSScriptRoot '../..')
. (Join-Path $PSScriptRoot 'BenchHelpers.ps1')
$manifest = Get-BenchManifest $root
Import-Module $manifest -Force
Import-Module (Join-Path $root 'tests/lab/Lab.psm1') -Force
$lab = Get-MtvLab
$h = @($lab.hosts)[0]
$ds = @($lab.vcsim.datastores)[0]
$benchDir = 'mtv-bench-clear-{0}' -f [guid]::NewGuid().ToString('N').Substring(0, 8)
$log = "/vmfs/volumes/$($ds.name)/$benchDir/vmkfstools-wrapper.log"
$localDir = Join-Path $ds.dir $benchDir
$localLog = Join-Path $localDir 'vmkfstools-wrapper.log'
$work = Join-Path ([IO.Path]::GetTempPath()) "mtv-bench-clear-$([guid]::NewGuid().ToString('N'))"
$keyUser = [pscredential]::new($lab.ssh.user, [securestring]::new())

$BenchmarkName = 'Clear-VmkfstoolsWrapperLog'   # read by Result (BenchHelpers.ps1)

try {
    # 1 MiB of 2.10 wrapper records, repeated.
    $sb = [Text.StringBuilder]::new(); $i = 0
    while ($sb.Length -lt 1MB) {
        $ts = '2026-11-25 {0:00}:{1:00}:{2:00},{3:000}' -f [math]::Floor($i / 720 % 24), [math]::Floor($i / 12 % 60), ($i * 5 % 60), ($i % 1000)
        [void]$sb.Append("$ts - INFO - vshish stats CompletedProcess(args=['vsish', '-r', '-e', 'cat', '/storage/scsifw/devices/naa.624a9370d4d1a2b3c4d5e6f700011a2b/stats'], returncode=0, stdout='Device stats {\n   Number of commands:0x$('{0:x}' -f (4096 + $i * 64))\n   Clone write ops:0x$('{0:x}' -f $i)\n}\n', stderr='')`n")
        [void]$sb.Append("$ts - INFO - XCOPY used: False, clone write ops: $i`n")
        $i++
    }
    $block = [Text.Encoding]::UTF8.GetBytes($sb.ToString())
    New-Item -ItemType Directory -Force $localDir, $work | Out-Null
    $fs = [IO.File]::Create($localLog)
    try { for ($b = 0; $b -lt $LogMiB; $b++) { $fs.Write($block, 0, $block.Length) } } finally { $fs.Dispose() }
    $size = (Get-Item $localLog).Length

    # Baseline: OpenSSH streams the log, gzip (default level) compresses it here.
    $gzFile = Join-Path $work 'baseline.gz'
    $sshArgs = (Get-LabSshArgs $lab $h | ForEach-Object { "'" + ($_ -replace "'", "'\''") + "'" }) -join ' '
    $baseline = {
        & bash -c "ssh $sshArgs 'cat $log' | gzip > '$gzFile'"
        if ($LASTEXITCODE -ne 0) { throw "ssh cat | gzip failed ($LASTEXITCODE)" }
    }
    & $baseline
    $sw = [Diagnostics.Stopwatch]::StartNew(); & $baseline; $sw.Stop()
    $baseSeconds = $sw.Elapsed.TotalSeconds

    $null = Connect-EsxiShell -VMHost $h.name -Address $h.address -Port $h.port -Credential $keyUser -KeyFilePath $lab.ssh.keyFile -KnownHostsPath $lab.ssh.knownHostsFile
    $archiveDir = Join-Path $work 'archive'
    $ours = Measure-PeakMemory { Clear-VmkfstoolsWrapperLog -VMHost $h.name -LogPath $log -ArchivePath $archiveDir -Confirm:$false }
    $r = @($ours.Output)[0]
    if (-not $r -or -not $r.ArchiveFile -or $r.BytesBefore -ne $size -or (Get-Item $localLog).Length -ne 0) { throw "the clear did not archive and truncate the log: $($r | Out-String)" }

    $mib = $size / 1MB
    Result ("{0:N0} MiB log: archive + verify + truncate throughput" -f $mib) ($mib / $ours.Seconds) 'MiB/s' 'ssh host cat log | gzip > file' ($mib / $baseSeconds) '>= 0.5x' (($mib / $ours.Seconds) -ge 0.5 * ($mib / $baseSeconds))
    Result ("{0:N0} MiB log: client peak memory growth" -f $mib) ($ours.PeakGrowthBytes / 1MB) 'MB' 'limit (flat)' 50 '< 50 MB' ($ours.PeakGrowthBytes -lt 50MB)
}
finally {
    Disconnect-EsxiShell -All -Confirm:$false -ErrorAction SilentlyContinue
    Remove-Item $localDir, $work -Recurse -Force -ErrorAction SilentlyContinue
}
