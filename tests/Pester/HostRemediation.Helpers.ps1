# Helpers for HostRemediation.Tests.ps1: arrange and inspect the lab hosts' files directly
# (through their chroot), independently of the module under test.

function Get-HostLab {
    if ($env:MTV_HOST_SCRATCH) { . $env:MTV_HOST_SCRATCH; return Get-ScratchLab }
    throw 'no lab'
}

function Connect-HostLab {
    param($Lab, $Hosts = $Lab.Hosts)
    foreach ($h in $Hosts) {
        Connect-EsxiShell -VMHost $h.Name -Address $h.Address -Port $h.Port -Credential $h.Credential -KnownHostsPath $Lab.KnownHostsPath -TrustNewHostKey | Out-Null
    }
}

# Runs a shell snippet inside the host's chroot (BusyBox ash), returns stdout trimmed.
function Invoke-InHost {
    param($VMHost, [string] $Script)
    $out = & chroot $VMHost.ChrootPath /bin/sh -c $Script
    if ($LASTEXITCODE -ne 0) { throw "chroot command failed ($LASTEXITCODE): $Script" }
    return ($out -join "`n").Trim()
}

function Get-HostPath { param($VMHost, [string] $Path) Join-Path $VMHost.ChrootPath $Path.TrimStart('/') }

function Write-HostFile { param($VMHost, [string] $Path, [byte[]] $Bytes) [IO.File]::WriteAllBytes((Get-HostPath $VMHost $Path), $Bytes) }
function Get-HostFileBytes { param($VMHost, [string] $Path) [IO.File]::ReadAllBytes((Get-HostPath $VMHost $Path)) }
function Get-HostFileText { param($VMHost, [string] $Path) [IO.File]::ReadAllText((Get-HostPath $VMHost $Path)) }
function Get-HostFileSize { param($VMHost, [string] $Path) (Get-Item -LiteralPath (Get-HostPath $VMHost $Path)).Length }
function Get-HostFileHash { param($VMHost, [string] $Path) (Get-FileHash -Algorithm SHA256 -LiteralPath (Get-HostPath $VMHost $Path)).Hash.ToLowerInvariant() }

# Size and free bytes of the host's /var as the kernel sees it (not through the module).
function Get-HostVarSpace {
    param($VMHost)
    $f = (& stat -f -c '%S %b %a' (Get-HostPath $VMHost '/var')) -split ' '
    [pscustomobject]@{ Size = [long]$f[0] * [long]$f[1]; Free = [long]$f[0] * [long]$f[2] }
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
    return ,$bytes
}

function Expand-GzipBytes {
    param([string] $File)
    $in = [IO.File]::OpenRead($File)
    try {
        $gz = [IO.Compression.GZipStream]::new($in, [IO.Compression.CompressionMode]::Decompress)
        $ms = [IO.MemoryStream]::new()
        $gz.CopyTo($ms)
        return ,$ms.ToArray()
    }
    finally { $in.Dispose() }
}

# Fills /var to 100% with wrapper-like lines in the log, as the real failure does: append until
# the tmpfs refuses even a single byte.
function Set-HostVarFull {
    param($VMHost)
    $line = [Text.Encoding]::ASCII.GetBytes("2026-11-25 22:00:00,000 - INFO - XCOPY used: False, clone write ops: 1`n")
    $chunk = [byte[]]::new(64KB)
    for ($i = 0; $i -lt $chunk.Length; $i++) { $chunk[$i] = $line[$i % $line.Length] }
    $fs = [IO.FileStream]::new((Get-HostPath $VMHost '/var/log/vmkfstools-wrapper.log'), [IO.FileMode]::Append, [IO.FileAccess]::Write, [IO.FileShare]::ReadWrite, 1)
    try {
        foreach ($size in 65536, 4096, 1) {
            while ($true) {
                try { $fs.Write($chunk, 0, $size); $fs.Flush() } catch [IO.IOException] { break }
            }
        }
    }
    finally { try { $fs.Dispose() } catch [IO.IOException] { } }
    if ((Get-HostVarSpace $VMHost).Free -ne 0) { throw "could not fill /var on $($VMHost.Name)" }
}

$script:OriginalCrontabs = @{}

# Puts a host back: original crontab bytes and mode, our lock gone, crond running, logs and task dirs removed.
function Reset-HostState {
    param($VMHost)
    $tab = Get-HostPath $VMHost '/var/spool/cron/crontabs/root'
    if (-not $script:OriginalCrontabs.ContainsKey($VMHost.Name)) {
        $script:OriginalCrontabs[$VMHost.Name] = @{ Bytes = [IO.File]::ReadAllBytes($tab); Mode = (& stat -c %a $tab) }
    }
    $o = $script:OriginalCrontabs[$VMHost.Name]
    Invoke-InHost $VMHost 'rm -rf /var/log/vmkfstools-wrapper.log /var/log/secure-vmkfstools-wrapper.log /tmp/vmkfstools-wrapper-* /var/spool/cron/.mtvremediation.lock /etc/init.d/stuck; rm -f /var/spool/cron/crontabs/*mtv-tmp*' | Out-Null
    $current = [IO.File]::ReadAllBytes($tab)
    if ([Convert]::ToHexString($current) -ne [Convert]::ToHexString($o.Bytes)) {
        & chmod u+w $tab
        [IO.File]::WriteAllBytes($tab, $o.Bytes)
    }
    & chmod $o.Mode $tab
    $alive = Invoke-InHost $VMHost 'p=$(cat /var/run/crond.pid 2>/dev/null) && kill -0 "$p" 2>/dev/null && echo yes || echo no'
    if ($alive -ne 'yes') { Invoke-InHost $VMHost 'SHELL=/bin/sh /usr/lib/vmware/busybox/bin/busybox crond </dev/null >/dev/null 2>&1' | Out-Null }
}
