# ESXi shell benchmarks: parallel vs sequential connects, session reuse vs a login per command,
# and the client CPU cost of the key exchange we prefer vs the post-quantum sntrup761 hybrid.
# Every ratio compares two figures measured in this same run on the running lab.
[CmdletBinding()]
param([int] $Hosts = 24, [int] $Commands = 20)

$ErrorActionPreference = 'Stop'
$root = Resolve-Path (Join-Path $PSScriptRoot '../..')
. (Join-Path $PSScriptRoot 'BenchHelpers.ps1')
# Engines are internal: this bench drives one directly through the module's assembly.
. (Join-Path $PSScriptRoot '../tools/InternalTypes.ps1')
$manifest = Get-BenchManifest $root
Import-Module $manifest -Force
Import-Module (Join-Path $root 'tests/lab/Lab.psm1') -Force
$state = Get-MtvLab
$cred = [pscredential]::new($state.ssh.user, (ConvertTo-SecureString $state.ssh.password -AsPlainText -Force))
$labHosts = @($state.hosts | Select-Object -First $Hosts | ForEach-Object { [pscustomobject]@{ Name = $_.name; Address = $_.address; Port = [int]$_.port } })
$kh = Join-Path ([IO.Path]::GetTempPath()) ("mtv-bench-kh-" + [guid]::NewGuid().ToString('N'))

$BenchmarkName = 'EsxiShell'   # read by Result (BenchHelpers.ps1)

function Measure-Connect([int] $Throttle) {
    Disconnect-EsxiShell -All -Confirm:$false
    $sw = [Diagnostics.Stopwatch]::StartNew()
    $s = @($labHosts | Connect-EsxiShell -Credential $cred -KnownHostsPath $kh -TrustNewHostKey -ThrottleLimit $Throttle)
    $sw.Stop()
    if ($s.Count -ne $labHosts.Count) { throw "only $($s.Count) of $($labHosts.Count) hosts connected" }
    Disconnect-EsxiShell -All -Confirm:$false
    $sw.Elapsed.TotalSeconds
}

try {
    # Warm up JIT and record host keys so both runs below do the same work.
    $null = Measure-Connect 32

    $sequential = Measure-Connect 1
    $parallel = Measure-Connect 32
    # On loopback every handshake is pure CPU on the same few cores (client and sshd alike), so the
    # gain is bounded by the core count; against real hosts network latency dominates and it grows.
    $target = Get-ParallelTarget
    Result "connect $($labHosts.Count) hosts, ThrottleLimit 32" $parallel 's' 'ThrottleLimit 1 (one after another)' $sequential ('<= {0:N2}x ({1:N1}x faster)' -f (1 / $target), $target) (($sequential / $parallel) -ge $target)
    $connectAll = { $s = @($labHosts | Connect-EsxiShell -Credential $cred -KnownHostsPath $kh -ThrottleLimit 32); if ($s.Count -ne $labHosts.Count) { throw "only $($s.Count) of $($labHosts.Count) hosts connected" } }
    $disconnect = { Disconnect-EsxiShell -All -Confirm:$false }
    $connectOne = { param($t) $s = @($t | Connect-EsxiShell -Credential $cred -KnownHostsPath $kh -ThrottleLimit 32); if ($s.Count -ne 1) { throw "$($t.Name) did not connect" } }
    $fanOut = Measure-FanOut $connectAll $state -Setup $disconnect
    FloorResult "connect $($labHosts.Count) hosts, ThrottleLimit 32" $fanOut (Measure-Chain $labHosts $connectOne $state -Setup $disconnect)
    Disconnect-EsxiShell -All -Confirm:$false

    # Session reuse: N short commands on one host through one session vs a fresh login for each.
    $h = $labHosts[0]
    $s = Connect-EsxiShell -VMHost $h.Name -Address $h.Address -Port $h.Port -Credential $cred -KnownHostsPath $kh
    $resolver = Get-MtvInternalType 'MtvRemediation.Esxi.EsxiShellResolver'
    $shell = $resolver::ForCurrentRunspace().Resolve($h.Name, $null, $null, $null, [Threading.CancellationToken]::None)
    $cmd = (Get-MtvInternalType 'MtvRemediation.Esxi.RemoteCommand')::Exec('true')
    $none = [Threading.CancellationToken]::None
    $sw = [Diagnostics.Stopwatch]::StartNew()
    for ($i = 0; $i -lt $Commands; $i++) { $null = $shell.RunAsync($cmd, [timespan]::FromSeconds(30), $none).GetAwaiter().GetResult() }
    $reuse = $sw.Elapsed.TotalMilliseconds / $Commands
    $sw.Restart()
    for ($i = 0; $i -lt $Commands; $i++) {
        $fresh = Connect-EsxiShell -VMHost $h.Name -Address $h.Address -Port $h.Port -Credential $cred -KnownHostsPath $kh -Force
        $sh = $resolver::ForCurrentRunspace().Resolve($h.Name, $null, $null, $null, $none)
        $null = $sh.RunAsync($cmd, [timespan]::FromSeconds(30), $none).GetAwaiter().GetResult()
    }
    $relogin = $sw.Elapsed.TotalMilliseconds / $Commands
    Disconnect-EsxiShell -All -Confirm:$false
    Result 'short command, reused session' $reuse 'ms' 'new login per command' $relogin '<= 0.33x (3x faster)' (($relogin / $reuse) -ge 3)

    # Key exchange CPU: our default order (curve25519 against this OpenSSH) vs sntrup761 forced.
    $proc = [Diagnostics.Process]::GetCurrentProcess()
    $cpu = {
        param($kex)
        $env:MTV_SSH_KEX = $kex
        try {
            $proc.Refresh(); $t0 = $proc.TotalProcessorTime
            $null = Measure-Connect 4
            $proc.Refresh(); ($proc.TotalProcessorTime - $t0).TotalMilliseconds / $labHosts.Count
        }
        finally { $env:MTV_SSH_KEX = $null }
    }
    $null = & $cpu 'sntrup761x25519-sha512'   # warm up that code path too
    $classic = & $cpu ''
    $pq = & $cpu 'sntrup761x25519-sha512'
    Result 'client CPU per handshake, default kex order' $classic 'ms' 'sntrup761x25519 forced' $pq '< 1x (cheaper)' ($classic -lt $pq)
}
finally {
    Disconnect-EsxiShell -All -Confirm:$false
    Remove-Item $kh -Force -ErrorAction SilentlyContinue
}
