<#
.SYNOPSIS
    Clear-VmkfstoolsWrapperLog -ArchivePath on a 512 MiB wrapper log: archive throughput against
    `ssh host cat log | gzip > file` (OpenSSH, gzip here), and the client's peak memory growth.

.DESCRIPTION
    The log (MTV 2.10 wrapper records) lives on the host's datastore mount (/vmfs/volumes/<ds>,
    disk-backed: 512 MiB does not fit the 16 MiB /var ramdisk) and is removed afterwards. The
    baseline runs once to warm the page cache; then the baseline and the cmdlet run three times
    each, alternating (the log is written again before each clear), and the medians are compared.
    The cmdlet streams the log, compresses it here, verifies the archive (local gunzip + hash
    against the host's sha256sum of the same bytes) and truncates the log in place. Throughput =
    log bytes / wall time of the whole call. Memory: the largest VmHWM growth of this process during
    the three clears (BenchHelpers.ps1). -CompressOnHost (BusyBox gzip on the host) runs once, for the table.
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
    $block = New-LabWrapperLogBlock   # 1 MiB of 2.10 wrapper records, repeated
    New-Item -ItemType Directory -Force $localDir, $work | Out-Null
    function Write-Log {
        $fs = [IO.File]::Create($localLog)
        try { for ($b = 0; $b -lt $LogMiB; $b++) { $fs.Write($block, 0, $block.Length) } } finally { $fs.Dispose() }
    }
    Write-Log
    $size = (Get-Item $localLog).Length

    # Baseline: OpenSSH streams the log, gzip (default level) compresses it here.
    $gzFile = Join-Path $work 'baseline.gz'
    $sshArgs = (Get-LabSshArgs $lab $h | ForEach-Object { "'" + ($_ -replace "'", "'\''") + "'" }) -join ' '
    $baseline = {
        & bash -c "ssh $sshArgs 'cat $log' | gzip > '$gzFile'"
        if ($LASTEXITCODE -ne 0) { throw "ssh cat | gzip failed ($LASTEXITCODE)" }
    }
    & $baseline
    $null = Connect-EsxiShell -VMHost $h.name -Address $h.address -Port $h.port -Credential $keyUser -KeyFilePath $lab.ssh.keyFile -KnownHostsPath $lab.ssh.knownHostsFile
    $archiveDir = Join-Path $work 'archive'
    function Invoke-Clear([switch] $OnHost) {
        if ((Get-Item $localLog).Length -ne $size) { Write-Log }
        $run = Measure-PeakMemory { Clear-VmkfstoolsWrapperLog -VMHost $h.name -LogPath $log -ArchivePath $archiveDir -CompressOnHost:$OnHost -Confirm:$false }
        $r = @($run.Output)[0]
        if (-not $r -or -not $r.ArchiveFile -or $r.BytesBefore -ne $size -or (Get-Item $localLog).Length -ne 0) { throw "the clear did not archive and truncate the log: $($r | Out-String)" }
        Remove-Item $r.ArchiveFile
        $run
    }

    $baseTimes = [Collections.Generic.List[double]]::new(); $ourTimes = [Collections.Generic.List[double]]::new(); $ours = $null
    for ($k = 0; $k -lt 3; $k++) {
        if ((Get-Item $localLog).Length -ne $size) { Write-Log }   # the previous clear emptied it
        $sw = [Diagnostics.Stopwatch]::StartNew(); & $baseline; $baseTimes.Add($sw.Elapsed.TotalSeconds)
        $run = Invoke-Clear
        if (-not $ours -or $run.PeakGrowthBytes -gt $ours.PeakGrowthBytes) { $ours = $run }   # the worst of the three
        $ourTimes.Add($run.Seconds)
    }
    $onHost = Invoke-Clear -OnHost
    $baseSeconds = Get-Median $baseTimes
    $ourSeconds = Get-Median $ourTimes

    $mib = $size / 1MB
    Result ("{0:N0} MiB log: archive + verify + truncate throughput (median of 3)" -f $mib) ($mib / $ourSeconds) 'MiB/s' 'ssh host cat log | gzip > file' ($mib / $baseSeconds) '>= 0.5x' (($mib / $ourSeconds) -ge 0.5 * ($mib / $baseSeconds))
    Result ("{0:N0} MiB log: the same with -CompressOnHost (BusyBox gzip)" -f $mib) ($mib / $onHost.Seconds) 'MiB/s' 'ssh host cat log | gzip > file' ($mib / $baseSeconds) 'reported only' $true
    Result ("{0:N0} MiB log: client peak memory growth (worst of 3)" -f $mib) ($ours.PeakGrowthBytes / 1MB) 'MB' 'limit (flat)' 50 '< 50 MB' ($ours.PeakGrowthBytes -lt 50MB)
}
finally {
    Disconnect-EsxiShell -All -Confirm:$false -ErrorAction SilentlyContinue
    Remove-Item $localDir, $work -Recurse -Force -ErrorAction SilentlyContinue
}
