# Clone-failure diagnosis benchmarks: a large wrapper log scanned on the host (Find-MtvCloneFailure
# -VMHost) against the obvious alternative, downloading the log over the same SSH session and
# scanning it locally; and scanning many hosts in parallel against one after another. Every ratio
# compares two figures measured in this same run on the running lab.
[CmdletBinding()]
param([int] $LogMiB = 192, [int] $Hosts = 24)

$ErrorActionPreference = 'Stop'
$root = Resolve-Path (Join-Path $PSScriptRoot '../..')
$manifest = if ($env:MTV_MODULE_PATH) { $env:MTV_MODULE_PATH } else { Join-Path $root 'out/MtvRemediation/0.1.0/MtvRemediation.psd1' }
Import-Module $manifest -Force
$statePath = if ($env:MTVLAB_STATE) { $env:MTVLAB_STATE } else { Join-Path $root 'out/lab/lab.json' }
$state = Get-Content $statePath -Raw | ConvertFrom-Json
$cred = [pscredential]::new($state.ssh.user, (ConvertTo-SecureString $state.ssh.password -AsPlainText -Force))
$labHosts = @($state.hosts | Select-Object -First $Hosts)
$kh = Join-Path ([IO.Path]::GetTempPath()) ("mtv-bench-diag-kh-" + [guid]::NewGuid().ToString('N'))
$local = Join-Path ([IO.Path]::GetTempPath()) ("mtv-bench-diag-" + [guid]::NewGuid().ToString('N') + '.log')
$h = $labHosts[0]
$remoteDir = '/tmp/mtv-bench-diag'
$remoteLog = "$remoteDir/vmkfstools-wrapper.log"
$hostDir = Join-Path $h.chrootPath $remoteDir.TrimStart('/')

function Result($Measure, $Value, $Unit, $Baseline, $BaselineValue, $Target, [bool] $Met) {
    [pscustomobject]@{
        Benchmark = 'Diagnosis'; Measure = $Measure; Value = [double]$Value; Unit = $Unit
        Baseline = $Baseline; BaselineValue = [double]$BaselineValue
        Ratio = if ($Value) { [double]$BaselineValue / [double]$Value } else { $null }
        Target = $Target; Met = $Met
    }
}

function Measure-Block([scriptblock] $Work) {
    $proc = [Diagnostics.Process]::GetCurrentProcess(); $proc.Refresh()
    $cpu0 = $proc.TotalProcessorTime
    $sw = [Diagnostics.Stopwatch]::StartNew()
    $out = & $Work
    $sw.Stop(); $proc.Refresh()
    [pscustomobject]@{ Seconds = $sw.Elapsed.TotalSeconds; CpuSeconds = ($proc.TotalProcessorTime - $cpu0).TotalSeconds; Output = $out }
}

try {
    # A 2.10 wrapper log as the lab's generator writes it (vsish stats + "XCOPY used: False" per
    # 5 s poll) with one 327689 failure per MiB, in the host's /tmp ramdisk.
    New-Item -ItemType Directory -Force $hostDir | Out-Null
    $sb = [Text.StringBuilder]::new(); $i = 0
    while ($sb.Length -lt 1MB) {
        $ts = '2026-11-25 {0:00}:{1:00}:{2:00},{3:000}' -f [math]::Floor($i / 720 % 24), [math]::Floor($i / 12 % 60), ($i * 5 % 60), ($i % 1000)
        [void]$sb.Append("$ts - INFO - vshish stats CompletedProcess(args=['vsish', '-r', '-e', 'cat', '/storage/scsifw/devices/naa.624a9370d4d1a2b3c4d5e6f700011a2b/stats'], returncode=0, stdout='Device stats {\n   Number of commands:0x$('{0:x}' -f (4096 + $i * 64))\n   Clone write ops:0x$('{0:x}' -f $i)\n}\n', stderr='')`n")
        [void]$sb.Append("$ts - INFO - XCOPY used: False, clone write ops: $i`n")
        $i++
    }
    [void]$sb.Append("2026-11-25 23:59:59,500 - ERROR - clone task failed with exit code 255, stderr: Failed to clone disk: Input/output error (327689).`n")
    $block = [Text.Encoding]::UTF8.GetBytes($sb.ToString())
    $fs = [IO.File]::Create((Join-Path $hostDir 'vmkfstools-wrapper.log'))
    try { for ($b = 0; $b -lt $LogMiB; $b++) { $fs.Write($block, 0, $block.Length) } } finally { $fs.Dispose() }
    $size = (Get-Item (Join-Path $hostDir 'vmkfstools-wrapper.log')).Length

    $null = $labHosts | ForEach-Object { Connect-EsxiShell -VMHost $_.name -Address $_.address -Port $_.port -Credential $cred -KnownHostsPath $kh -TrustNewHostKey }
    $none = [Threading.CancellationToken]::None
    $shell = [MtvRemediation.Esxi.EsxiShellResolver]::ForCurrentRunspace().Resolve($h.name, $null, $null, $null, $none)

    # On the host: only matching lines (and repeat counts) come back. Each side runs twice and the
    # second run is measured, so neither pays for JIT or first-use costs.
    $scanOnHost = { Find-MtvCloneFailure -VMHost $h.name -LogPath $remoteLog -Summary -TimeoutSeconds 600 -Verbose 4>&1 }
    $null = Measure-Block $scanOnHost
    $onHost = Measure-Block $scanOnHost
    $received = [long](($onHost.Output | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } |
            Select-String '(\d+) bytes of matches received').Matches[0].Groups[1].Value)
    $summaryA = $onHost.Output | Where-Object { $_ -is [MtvRemediation.CloneFailureSummary] }

    # Baseline: download the whole log over the same session, then scan it locally.
    $downloadAndScan = {
        $out = [IO.File]::Create($local)
        try { $r = $shell.RunStreamingAsync([MtvRemediation.Esxi.RemoteCommand]::Exec('cat', $remoteLog), $out, [timespan]::FromMinutes(10), $none).GetAwaiter().GetResult() }
        finally { $out.Dispose() }
        if ($r.ExitStatus -ne 0) { throw "cat failed: $($r.Stderr)" }
        Find-MtvCloneFailure -LiteralPath $local -Summary
    }
    $null = Measure-Block $downloadAndScan
    $download = Measure-Block $downloadAndScan
    $summaryB = $download.Output
    if ($summaryA.TotalFindings -ne $summaryB.TotalFindings -or $summaryA.DiskIoError -ne $LogMiB) {
        throw "the two scans disagree: $($summaryA.TotalFindings) vs $($summaryB.TotalFindings) findings"
    }
    $downloaded = (Get-Item $local).Length

    Result ("{0} MiB host log: bytes over SSH" -f $LogMiB) $received 'B' 'download (cat) then scan locally' $downloaded '>= 1000x fewer' (($downloaded / [Math]::Max(1, $received)) -ge 1000)
    Result ("{0} MiB host log: client CPU" -f $LogMiB) $onHost.CpuSeconds 's' 'download (cat) then scan locally' $download.CpuSeconds '>= 3x less' (($download.CpuSeconds / [Math]::Max(0.001, $onHost.CpuSeconds)) -ge 3)
    # Loopback makes the download nearly free; over a WAN link to a datacenter it is not
    # (192 MiB at 100 Mbit/s is ~16 s), so wall time is reported, with no target.
    Result ("{0} MiB host log: wall time (loopback)" -f $LogMiB) $onHost.Seconds 's' 'download (cat) then scan locally' $download.Seconds 'reported only' $true

    # Many hosts, each with a 16 MiB log: in parallel vs one after another. The hosts share this
    # machine's cores with the client, so the gain is bounded by the core count.
    foreach ($lh in $labHosts) {
        $d = Join-Path $lh.chrootPath $remoteDir.TrimStart('/')
        New-Item -ItemType Directory -Force $d | Out-Null
        $fs = [IO.File]::Create((Join-Path $d 'vmkfstools-wrapper.log'))
        try { for ($b = 0; $b -lt 16; $b++) { $fs.Write($block, 0, $block.Length) } } finally { $fs.Dispose() }
    }
    $all = Get-EsxiShell
    $scanAll = { param($t) $all | Find-MtvCloneFailure -LogPath $remoteLog -Summary -ThrottleLimit $t }
    $null = Measure-Block { & $scanAll 32 }
    $seq = Measure-Block { & $scanAll 1 }
    $par = Measure-Block { & $scanAll 32 }
    if (@($par.Output).Count -ne @($seq.Output).Count) { throw "parallel scan returned $(@($par.Output).Count) summaries, sequential $(@($seq.Output).Count)" }
    $target = [Math]::Min(3, [Math]::Max(1.5, [Environment]::ProcessorCount * 0.75))
    Result ("scan {0} hosts' 16 MiB logs, ThrottleLimit 32" -f $all.Count) $par.Seconds 's' 'ThrottleLimit 1' $seq.Seconds ('>= {0:N1}x faster' -f $target) (($seq.Seconds / $par.Seconds) -ge $target)
}
finally {
    Get-EsxiShell | Disconnect-EsxiShell -Confirm:$false -ErrorAction SilentlyContinue
    foreach ($lh in $labHosts) { Remove-Item (Join-Path $lh.chrootPath $remoteDir.TrimStart('/')) -Recurse -Force -ErrorAction SilentlyContinue }
    Remove-Item $local, $kh -Force -ErrorAction SilentlyContinue
}
