# Host remediation benchmarks: the fleet space check in parallel vs one host after another, and
# one remote round trip per host (all sources in one script) vs one command per source.
# Every ratio compares two figures measured in this same run on the running lab.
[CmdletBinding()]
param([int] $Hosts = 24, [int] $Repeat = 5)

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

$BenchmarkName = 'HostRemediation'   # read by Result (BenchHelpers.ps1)

function Measure-Best([scriptblock] $Block) {
    $best = [double]::MaxValue
    for ($i = 0; $i -lt $Repeat; $i++) {
        $sw = [Diagnostics.Stopwatch]::StartNew(); & $Block | Out-Null; $sw.Stop()
        $best = [Math]::Min($best, $sw.Elapsed.TotalMilliseconds)
    }
    $best
}

try {
    $null = $labHosts | Connect-EsxiShell -Credential $cred -KnownHostsPath $state.ssh.knownHostsFile
    $null = Get-EsxiShell | Test-VmkfstoolsLogSpace   # warm up

    $parallel = Measure-Best { Get-EsxiShell | Test-VmkfstoolsLogSpace -ThrottleLimit 32 }
    $sequential = Measure-Best { Get-EsxiShell | Test-VmkfstoolsLogSpace -ThrottleLimit 1 }
    $target = Get-ParallelTarget
    Result "space check of $($labHosts.Count) hosts, ThrottleLimit 32" $parallel 'ms' 'ThrottleLimit 1' $sequential ('<= {0:N2}x ({1:N1}x faster)' -f (1 / $target), $target) (($sequential / $parallel) -ge $target)
    $fanOut = Measure-FanOut { Get-EsxiShell | Test-VmkfstoolsLogSpace -ThrottleLimit 32 } $state -Runs $Repeat
    $chain = Measure-Chain @(Get-EsxiShell) { param($s) $s | Test-VmkfstoolsLogSpace -ThrottleLimit 32 } $state
    FloorResult "space check of $($labHosts.Count) hosts, ThrottleLimit 32" $fanOut $chain

    # One host: the probe's single script vs the same information asked one command at a time.
    $none = [Threading.CancellationToken]::None
    $shell = (Get-MtvInternalType 'MtvRemediation.Esxi.EsxiShellResolver')::ForCurrentRunspace().Resolve($labHosts[0].Name, $null, $null, $null, $none)
    $options = [Activator]::CreateInstance((Get-MtvInternalType 'MtvRemediation.HostLog.LogSpaceOptions'))
    $probe = Get-MtvInternalType 'MtvRemediation.HostLog.LogSpaceProbe'
    $one = Measure-Best { $probe::Measure($shell, $options, $none) }
    $separate = @(
        'wc -c < /var/log/vmkfstools-wrapper.log', 'wc -c < /var/log/secure-vmkfstools-wrapper.log', 'readlink -f /var/log', 'vdf',
        "stat -f -c '%S %b %f %a' /var/log", "stat -f -c '%S %b %f %a' /tmp", 'df -k /var/log', 'df -k /tmp', 'vdf -h',
        'ls -d /tmp/vmkfstools-wrapper-*', "find /tmp -maxdepth 1 -type d -name 'vmkfstools-wrapper-*' -mtime +5", 'ls -d /opt/redhat/vmkfstools-wrapper'
    ) | ForEach-Object { (Get-MtvInternalType 'MtvRemediation.Esxi.RemoteCommand')::Script($_) }
    $many = Measure-Best { foreach ($c in $separate) { $null = $shell.RunAsync($c, [timespan]::FromSeconds(30), $none).GetAwaiter().GetResult() } }
    # On loopback a round trip costs a few ms, so the script's own work weighs more; over a WAN every
    # saved round trip is one RTT and the ratio grows with latency.
    Result 'space check of one host, one script' $one 'ms' "$($separate.Count) commands, one per source" $many '<= 0.5x (2x faster)' (($many / $one) -ge 2)
}
finally {
    Get-EsxiShell | Disconnect-EsxiShell -Confirm:$false
}
