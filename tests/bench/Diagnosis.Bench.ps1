<#
.SYNOPSIS
    Clone-failure diagnosis: Find-MtvCloneFailure -VMHost on a 1 GiB wrapper log on a lab host's
    datastore (scanned on the host; only matches cross), and many hosts scanned in parallel.

.DESCRIPTION
    The 1 GiB log is MTV 2.10 wrapper output as the lab's generator writes it (a vsish stats
    record and an "XCOPY used: False" line per 5 s poll), and nothing else: the real 2.10 wrapper
    (vmkfstools_wrapper.py at v2.10.4) never writes vmkfstools' failure text into this log. It lives on the host's datastore mount (/vmfs/volumes/<ds>, disk-backed: it
    does not fit the 16 MiB /var ramdisk) and is removed afterwards.
    Figures, each against a baseline from this same run:
    - bytes received by the client against the log's size (target: under 1%);
    - peak growth of this process's resident memory during the scan (VmHWM, see BenchHelpers.ps1;
      target: under 50 MB);
    - wall time against `ssh host grep -c -F 'XCOPY used: False' <log>` (OpenSSH, new login, the
      one token this log repeats) (target: within 1.5x), median of 3 alternating runs of each after one warm-up run.
    - 24 hosts' 16 MiB logs (in /tmp), ThrottleLimit 32 against ThrottleLimit 1.
#>
[CmdletBinding()]
param([int] $LogMiB = 1024, [int] $Hosts = 24)

$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$root = Resolve-Path (Join-Path $PSScriptRoot '../..')
. (Join-Path $PSScriptRoot 'BenchHelpers.ps1')
$manifest = Get-BenchManifest $root
Import-Module $manifest -Force
Import-Module (Join-Path $root 'tests/lab/Lab.psm1') -Force
$state = Get-MtvLab
$keyUser = [pscredential]::new($state.ssh.user, [securestring]::new())
$labHosts = @($state.hosts | Select-Object -First $Hosts)
$h = $labHosts[0]
$ds = @($state.vcsim.datastores)[0]
$benchDir = 'mtv-bench-diag-{0}' -f [guid]::NewGuid().ToString('N').Substring(0, 8)
$bigLog = "/vmfs/volumes/$($ds.name)/$benchDir/vmkfstools-wrapper.log"
$bigLocalDir = Join-Path $ds.dir $benchDir
$remoteDir = '/tmp/mtv-bench-diag'
$remoteLog = "$remoteDir/vmkfstools-wrapper.log"

$BenchmarkName = 'Find-MtvCloneFailure'   # read by Result (BenchHelpers.ps1)

function Measure-Block([scriptblock] $Work) {
    $sw = [Diagnostics.Stopwatch]::StartNew()
    $out = & $Work
    [pscustomobject]@{ Seconds = $sw.Elapsed.TotalSeconds; Output = $out }
}

try {
    $plain = New-LabWrapperLogBlock
    New-Item -ItemType Directory -Force $bigLocalDir | Out-Null
    $fs = [IO.File]::Create((Join-Path $bigLocalDir 'vmkfstools-wrapper.log'))
    try {
        for ($b = 0; $b -lt $LogMiB; $b++) {
            # Plain assignments: `$x = if (...) { $bytes }` would unroll the byte[] into a 1M-element
            # object[] that Write converts back on every call (2 minutes for 1 GiB instead of seconds).
            $block = $plain
            $fs.Write($block, 0, $block.Length)
        }
    }
    finally { $fs.Dispose() }
    $size = (Get-Item (Join-Path $bigLocalDir 'vmkfstools-wrapper.log')).Length

    $null = $labHosts | ForEach-Object { Connect-EsxiShell -VMHost $_.name -Address $_.address -Port $_.port -Credential $keyUser -KeyFilePath $state.ssh.keyFile -KnownHostsPath $state.ssh.knownHostsFile }

    $scan = { Find-MtvCloneFailure -VMHost $h.name -LogPath $bigLog -Summary -TimeoutSeconds 900 -Verbose 4>&1 }
    $grep = {
        $out = & ssh @(Get-LabSshArgs $state $h) "grep -c -F 'XCOPY used: False' '$bigLog'"
        if ($LASTEXITCODE -ne 0) { throw "ssh grep failed ($LASTEXITCODE)" }
        [long]($out | Select-Object -Last 1)
    }
    $null = & $scan; $null = & $grep   # page cache and JIT for both
    $ours = Measure-PeakMemory $scan
    # Wall time: median of 3 of each, alternating, so a burst of load on this shared machine
    # does not decide the ratio (the memory figure comes from the run above).
    $oursTimes = [Collections.Generic.List[double]]::new(); $grepTimes = [Collections.Generic.List[double]]::new()
    for ($r = 0; $r -lt 3; $r++) {
        $sw = [Diagnostics.Stopwatch]::StartNew(); $null = & $scan; $oursTimes.Add($sw.Elapsed.TotalSeconds)
        $sw = [Diagnostics.Stopwatch]::StartNew(); $count = & $grep; $grepTimes.Add($sw.Elapsed.TotalSeconds)
    }
    $oursSeconds = Get-Median $oursTimes
    $grepSeconds = Get-Median $grepTimes

    $summary = @($ours.Output | Where-Object { $_ -is [MtvRemediation.CloneFailureSummary] -and $_.Path -eq $bigLog })
    $received = [long](($ours.Output | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } |
            Select-String '(\d+) bytes of matches received').Matches[0].Groups[1].Value)
    # A real 2.10 wrapper log holds no failure line (the populator logs those): every poll's
    # "XCOPY used: False" is counted, and the count must equal grep's.
    if ($summary.Count -ne 1 -or $summary[0].XcopyNotUsed -ne $count -or $summary[0].ChangeTrackerInvalid -ne 0 -or $count -le 0) {
        throw "unexpected findings: $($summary | Out-String) grep -c: $count"
    }
    $mib = '{0:N0} MiB' -f ($size / 1MB)
    Result "$mib datastore log: bytes sent to the client" $received 'B' 'the log''s size' $size '< 1%' ($received -lt 0.01 * $size)
    Result "$mib datastore log: client peak memory growth" ($ours.PeakGrowthBytes / 1MB) 'MB' 'limit' 50 '< 50 MB' ($ours.PeakGrowthBytes -lt 50MB)
    Result "$mib datastore log: wall time (session open, median of 3)" $oursSeconds 's' "ssh host grep -c -F 'XCOPY used: False' log" $grepSeconds '<= 1.5x' ($oursSeconds -le 1.5 * $grepSeconds)
    Remove-Item $bigLocalDir -Recurse -Force

    # Many hosts, each with a 16 MiB log: in parallel vs one after another. The hosts share this
    # machine's cores with the client, so the gain is bounded by the core count.
    foreach ($lh in $labHosts) {
        $d = Join-Path $lh.chrootPath $remoteDir.TrimStart('/')
        New-Item -ItemType Directory -Force $d | Out-Null
        $fs = [IO.File]::Create((Join-Path $d 'vmkfstools-wrapper.log'))
        try { for ($b = 0; $b -lt 16; $b++) { $fs.Write($plain, 0, $plain.Length) } } finally { $fs.Dispose() }
    }
    $all = Get-EsxiShell
    $scanAll = { param($t) $all | Find-MtvCloneFailure -LogPath $remoteLog -Summary -ThrottleLimit $t }
    $null = Measure-Block { & $scanAll 32 }
    $seq = Measure-Block { & $scanAll 1 }
    $par = Measure-Block { & $scanAll 32 }
    if (@($par.Output).Count -ne @($seq.Output).Count) { throw "parallel scan returned $(@($par.Output).Count) summaries, sequential $(@($seq.Output).Count)" }
    $target = Get-ParallelTarget
    Result ("scan {0} hosts' 16 MiB logs, ThrottleLimit 32" -f $all.Count) $par.Seconds 's' 'ThrottleLimit 1' $seq.Seconds ('<= {0:N2}x ({1:N1}x faster)' -f (1 / $target), $target) (($seq.Seconds / $par.Seconds) -ge $target)
    $fanOut = Measure-FanOut { & $scanAll 32 } $state
    $chain = Measure-Chain @($all) { param($s) $s | Find-MtvCloneFailure -LogPath $remoteLog -Summary -ThrottleLimit 32 } $state
    FloorResult ("scan {0} hosts' 16 MiB logs, ThrottleLimit 32" -f $all.Count) $fanOut $chain
}
finally {
    Get-EsxiShell | Disconnect-EsxiShell -Confirm:$false -ErrorAction SilentlyContinue
    foreach ($lh in $labHosts) { Remove-Item (Join-Path $lh.chrootPath $remoteDir.TrimStart('/')) -Recurse -Force -ErrorAction SilentlyContinue }
    Remove-Item $bigLocalDir -Recurse -Force -ErrorAction SilentlyContinue
}
