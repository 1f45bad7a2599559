# Helpers for HostRemediation.Tests.ps1 on top of tests/lab/Lab.psm1: arrange and inspect the lab
# hosts' files directly (through their chroot), independently of the module under test.

Import-Module (Join-Path $PSScriptRoot '../lab/Lab.psm1') -Force

# The lab hosts in the shape the tests use (name, endpoint, login, chroot) and the lab's known_hosts.
function Get-HostLab {
    $lab = Get-MtvLab
    $hosts = foreach ($h in $lab.hosts) {
        [pscustomobject]@{
            Name       = $h.name
            Address    = $h.address
            Port       = [int]$h.port
            Credential = [pscredential]::new($h.user, (ConvertTo-SecureString $h.password -AsPlainText -Force))
            ChrootPath = $h.chrootPath
        }
    }
    $vc = [uri]$lab.vcsim.url
    [pscustomobject]@{
        Hosts            = @($hosts)
        KnownHostsPath   = $lab.ssh.knownHostsFile
        VCenterHost      = $vc.Host
        VCenterPort      = $vc.Port
        VCenterCredential = [pscredential]::new($lab.vcsim.user, (ConvertTo-SecureString $lab.vcsim.password -AsPlainText -Force))
        # How long the simulated hostd restart shows the host notResponding in vcsim (lab.sh default).
        AgentDownSeconds = $(if ($env:MTVLAB_HOSTD_DOWN_MS) { [int]$env:MTVLAB_HOSTD_DOWN_MS / 1000 } else { 3 })
    }
}

# One ESXi shell session per host, host keys checked against the lab's known_hosts (no trust-on-first-use).
function Connect-HostLab {
    param($Lab, $Hosts = $Lab.Hosts)
    foreach ($h in $Hosts) {
        Connect-EsxiShell -VMHost $h.Name -Address $h.Address -Port $h.Port -Credential $h.Credential -KnownHostsPath $Lab.KnownHostsPath | Out-Null
    }
}

function Invoke-InHost { param($VMHost, [string] $Script) Invoke-LabHost -HostName $VMHost.Name -Command $Script }

function Get-HostPath { param($VMHost, [string] $Path) Join-Path $VMHost.ChrootPath $Path.TrimStart('/') }

function Write-HostFile { param($VMHost, [string] $Path, [byte[]] $Bytes) [IO.File]::WriteAllBytes((Get-HostPath $VMHost $Path), $Bytes) }
function Get-HostFileBytes { param($VMHost, [string] $Path) , [IO.File]::ReadAllBytes((Get-HostPath $VMHost $Path)) }
function Get-HostFileText { param($VMHost, [string] $Path) [IO.File]::ReadAllText((Get-HostPath $VMHost $Path)) }
function Get-HostFileSize { param($VMHost, [string] $Path) (Get-Item -LiteralPath (Get-HostPath $VMHost $Path)).Length }
function Get-HostFileHash { param($VMHost, [string] $Path) (Get-FileHash -Algorithm SHA256 -LiteralPath (Get-HostPath $VMHost $Path)).Hash.ToLowerInvariant() }

# Size and free bytes of the host's /var as the kernel sees it (not through the module).
function Get-HostVarSpace {
    param($VMHost)
    $u = Get-LabVarUsage $VMHost.Name
    [pscustomobject]@{ Size = $u.SizeKB * 1024; Free = $u.AvailableKB * 1024 }
}

# Wrapper-like log lines (MTV 2.10 format); -Binary adds bytes no text tool would keep.
function New-WrapperLogBytes {
    param([int] $Lines, [switch] $Binary)
    $sb = [Text.StringBuilder]::new()
    for ($i = 0; $i -lt $Lines; $i++) {
        [void]$sb.Append("2026-11-25 22:$('{0:00}' -f ($i % 60)):00,$('{0:000}' -f ($i % 1000)) - INFO - XCOPY used: False, clone write ops: $i`n")
    }
    $bytes = [Text.Encoding]::UTF8.GetBytes($sb.ToString())
    if ($Binary) { $bytes += [byte[]](0, 255, 128, 13, 10, 0x27, 0x25) }
    return , $bytes
}

function Expand-GzipBytes {
    param([string] $File)
    $in = [IO.File]::OpenRead($File)
    try {
        $gz = [IO.Compression.GZipStream]::new($in, [IO.Compression.CompressionMode]::Decompress)
        $ms = [IO.MemoryStream]::new()
        $gz.CopyTo($ms)
        return , $ms.ToArray()
    }
    finally { $in.Dispose() }
}

# /var at 100%: wrapper log records until writes fail with ENOSPC (the lab's own filler).
function Set-HostVarFull {
    param($VMHost)
    $u = Set-LabVarFill -HostName $VMHost.Name -Percent 100
    if ($u.AvailableKB -ne 0) { throw "could not fill /var on $($VMHost.Name)" }
}

$script:Pristine = @{}

# Full lab reset (pristine /var, crontab, crond, agents, vcsim state); remembers the pristine crontab.
function Initialize-HostState {
    param($VMHost)
    Reset-LabHost $VMHost.Name
    $tab = Get-HostPath $VMHost '/var/spool/cron/crontabs/root'
    $script:Pristine[$VMHost.Name] = @{ Crontab = [IO.File]::ReadAllBytes($tab); Mode = (& stat -c %a $tab) }
}

# Quick reset between tests (a full lab reset takes seconds per host): what these tests change,
# put back - logs, task dirs, our lock and temp files, the crontab bytes and mode, crond and agents running.
function Reset-HostState {
    param($VMHost)
    if (-not $script:Pristine.ContainsKey($VMHost.Name)) { Initialize-HostState $VMHost; return }
    $p = $script:Pristine[$VMHost.Name]
    Invoke-InHost $VMHost 'rm -rf /var/log/vmkfstools-wrapper.log /var/log/secure-vmkfstools-wrapper.log /var/lab-filler /tmp/vmkfstools-wrapper-* /var/spool/cron/.mtvremediation.lock /var/spool/cron/.mtvremediation.reload-pending /etc/init.d/stuck /var/spool/cron/crontabs/*mtv-tmp*' | Out-Null
    $tab = Get-HostPath $VMHost '/var/spool/cron/crontabs/root'
    # (a test may leave no crontab at all: Unregister removes one that Register created)
    if (-not [IO.File]::Exists($tab) -or [Convert]::ToHexString([IO.File]::ReadAllBytes($tab)) -ne [Convert]::ToHexString($p.Crontab)) { [IO.File]::WriteAllBytes($tab, $p.Crontab) }
    & chmod $p.Mode $tab
    Invoke-InHost $VMHost 'p=$(cat /var/run/crond.pid 2>/dev/null); kill -0 "$p" 2>/dev/null || /usr/lib/vmware/busybox/bin/busybox crond </dev/null >/dev/null 2>&1; /etc/init.d/hostd start >/dev/null; /etc/init.d/vpxa start >/dev/null; true' | Out-Null
}

# The module's remote commands still running inside these hosts' chroots (their command line
# holds the script text; a process's root shows which host it runs in).
function Get-RemoteWork([object[]] $Hosts, [string] $Marker) {
    $roots = @($Hosts | ForEach-Object { (Resolve-Path $_.ChrootPath).Path.TrimEnd('/') })
    foreach ($p in Get-ChildItem /proc -Directory -ErrorAction SilentlyContinue | Where-Object Name -Match '^\d+$') {
        $root = try { (Get-Item -LiteralPath "/proc/$($p.Name)/root" -Force -ErrorAction Stop).LinkTarget } catch { $null }
        if (-not $root -or $roots -notcontains $root.TrimEnd('/')) { continue }
        $cmd = try { [IO.File]::ReadAllText("/proc/$($p.Name)/cmdline") } catch { '' }
        if ($cmd.Contains($Marker)) { [pscustomobject]@{ Pid = [int]$p.Name; Root = $root } }
    }
}
