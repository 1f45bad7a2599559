#Requires -Version 7.2
<#
    Test helpers for the MtvRemediation lab (tests/lab/lab.sh): read the lab state, act on the
    simulated ESXi hosts without SSH (through their chroot), turn the lab's knobs, and talk to
    vcsim's /ctl fault-injection endpoints. Import in Pester:

        Import-Module (Join-Path $PSScriptRoot '../lab/Lab.psm1') -Force

    Every -HostName accepts the lab host's name (DC0_H0, DC0_C0_H0, ...) or its index (0, 1, ...).
#>
Set-StrictMode -Version Latest

$script:LabScript = Join-Path $PSScriptRoot 'lab.sh'
$script:RepoRoot = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path

function Get-LabStatePath {
    if ($env:MTVLAB_STATE) { return $env:MTVLAB_STATE }
    return Join-Path $script:RepoRoot 'out/lab/lab.json'
}

function Invoke-LabScript {
    # Runs lab.sh with the given arguments; returns its stdout lines, throws with its stderr on failure.
    param([Parameter(Mandatory)][string[]] $Arguments, [switch] $AllowFailure)
    $errFile = [System.IO.Path]::GetTempFileName()
    try {
        $out = & bash $script:LabScript @Arguments 2>$errFile
        $code = $LASTEXITCODE
        if ($code -ne 0 -and -not $AllowFailure) {
            $err = (Get-Content $errFile -Raw)
            throw "lab.sh $($Arguments -join ' ') failed with exit code ${code}: $err"
        }
        return $out
    }
    finally { Remove-Item $errFile -ErrorAction SilentlyContinue }
}

function Get-MtvLab {
    <#
    .SYNOPSIS
        The running lab's state (out/lab/lab.json, or $env:MTVLAB_STATE), parsed.
    .DESCRIPTION
        Properties: instance, vcsim (url, ctlUrl, user, password, hosts, vms, datastores),
        ssh (user, password, keyFile, keyFilePem, publicKeyFile, knownHostsFile), varMiB, hosts
        (name, index, moref, address, port, user, password, keyFile, keyFilePem, publicKeyFile,
        hostKeyFingerprint, hostKey, hostKeyFile, chrootPath, sshdLog, sshdPidFile).
        Read fresh on every call (rekey changes it). Throws if the lab is not running.
    .EXAMPLE
        $lab = Get-MtvLab; $lab.hosts[0].port
    #>
    [CmdletBinding()]
    param()
    $path = Get-LabStatePath
    if (-not (Test-Path $path)) { throw "The lab is not running ($path not found). Start it: bash tests/lab/lab.sh start" }
    return Get-Content $path -Raw | ConvertFrom-Json
}

function Get-LabHost {
    <#
    .SYNOPSIS
        One lab host entry (by name or index) or all of them.
    .EXAMPLE
        (Get-LabHost DC0_H0).hostKeyFingerprint
    #>
    [CmdletBinding()]
    param([Parameter(Position = 0)][Alias('Host')][string] $HostName)
    $hosts = @((Get-MtvLab).hosts)
    if (-not $HostName) { return $hosts }
    $h = $hosts | Where-Object { $_.name -eq $HostName -or "$($_.index)" -eq $HostName }
    if (-not $h) { throw "No lab host '$HostName'. Hosts: $($hosts.name -join ', ')" }
    return $h
}

function Invoke-LabHost {
    <#
    .SYNOPSIS
        Runs a shell command inside a lab host's chroot (as its root, without SSH) and returns stdout.
    .DESCRIPTION
        For test setup and inspection: the command runs in BusyBox ash exactly as an SSH session
        would see the host. Throws if the command exits non-zero, unless -AllowFailure.
        With -PassThru returns an object with Output (string) and ExitCode.
    .EXAMPLE
        Invoke-LabHost -HostName DC0_H0 -Command 'wc -c < /var/log/vmkfstools-wrapper.log'
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory, Position = 0)][Alias('Host')][string] $HostName,
        [Parameter(Mandatory, Position = 1)][string] $Command,
        [switch] $AllowFailure,
        [switch] $PassThru
    )
    $h = Get-LabHost $HostName
    $errFile = [System.IO.Path]::GetTempFileName()
    try {
        $out = & env -i PATH=/bin:/sbin HOME=/ USER=root SHELL=/bin/sh chroot $h.chrootPath /bin/sh -c $Command 2>$errFile
        $code = $LASTEXITCODE
        $text = ($out | Out-String) -replace '\r?\n\z', ''
        if ($PassThru) { return [pscustomobject]@{ Output = $text; ExitCode = $code; Error = (Get-Content $errFile -Raw) } }
        if ($code -ne 0 -and -not $AllowFailure) {
            throw "Command on lab host $($h.name) failed with exit code ${code}: $Command`n$(Get-Content $errFile -Raw)"
        }
        return $text
    }
    finally { Remove-Item $errFile -ErrorAction SilentlyContinue }
}

function Get-LabVarUsage {
    <#
    .SYNOPSIS
        The true size and usage of a lab host's /var ramdisk (statfs inside the chroot), in KiB.
    .EXAMPLE
        (Get-LabVarUsage DC0_H0).UsePercent
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory, Position = 0)][Alias('Host')][string] $HostName)
    $f = (Invoke-LabHost $HostName "stat -f -c '%S %b %a' /var") -split '\s+'
    $bs = [long]$f[0]; $size = [long]$f[1] * $bs / 1024; $avail = [long]$f[2] * $bs / 1024; $used = $size - $avail
    [pscustomobject]@{
        HostName    = (Get-LabHost $HostName).name
        SizeKB      = [long]$size
        UsedKB      = [long]$used
        AvailableKB = [long]$avail
        UsePercent  = if ($size -gt 0) { [int][math]::Ceiling($used * 100 / $size) } else { 0 }
    }
}

function Set-LabVarFill {
    <#
    .SYNOPSIS
        Fills a lab host's /var ramdisk to a percentage (100 = really full: writes fail with ENOSPC).
    .DESCRIPTION
        -Via Log (default, realistic) appends MTV vmkfstools-wrapper log records to
        /var/log/vmkfstools-wrapper.log; -Via File writes zeros to /var/lab-filler. Never shrinks.
        Returns the resulting usage (Get-LabVarUsage).
    .EXAMPLE
        Set-LabVarFill -HostName DC0_H0 -Percent 100
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory, Position = 0)][Alias('Host')][string] $HostName,
        [Parameter(Mandatory, Position = 1)][ValidateRange(0, 100)][int] $Percent,
        [ValidateSet('Log', 'File')][string] $Via = 'Log'
    )
    Invoke-LabScript @('fill-var', $HostName, "$Percent", '--via', $Via.ToLowerInvariant()) | Out-Null
    Get-LabVarUsage $HostName
}

function Add-LabWrapperLog {
    <#
    .SYNOPSIS
        Appends realistic MTV 2.10 vmkfstools-wrapper log records (at least -Bytes) to a host's
        /var/log/vmkfstools-wrapper.log, optionally ending with a clone failure line.
    .DESCRIPTION
        Records: 'YYYY-MM-DD HH:MM:SS,mmm - INFO - vshish stats CompletedProcess(...)' with the vsish
        stats block, and 'XCOPY used: False, clone write ops: N'. -Failure 7228 appends
        'Failed to clone disk: Invalid change tracker error code (7228).'; -Failure 327689 appends
        'clone task failed with exit code 255, stderr: Failed to clone disk: Input/output error (327689).'
        Stops quietly when /var is full. Returns the log's new size in bytes.
    .EXAMPLE
        Add-LabWrapperLog -HostName DC0_C0_H0 -Bytes 1MB -Failure 327689
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory, Position = 0)][Alias('Host')][string] $HostName,
        [Parameter(Mandatory, Position = 1)][long] $Bytes,
        [ValidateSet('7228', '327689')][string] $Failure,
        # Write /var/log/secure-vmkfstools-wrapper.log (MTV 2.10's SSH clone method) instead.
        [switch] $Secure
    )
    $a = @('wrapper-log', $HostName, "$Bytes")
    if ($Failure) { $a += @('--fail', $Failure) }
    if ($Secure) { $a += '--secure' }
    Invoke-LabScript $a -AllowFailure | Out-Null
    $log = if ($Secure) { '/var/log/secure-vmkfstools-wrapper.log' } else { '/var/log/vmkfstools-wrapper.log' }
    [long](Invoke-LabHost $HostName "wc -c < $log")
}

function New-LabWrapperLogBlock {
    <#
    .SYNOPSIS
        Just over 1 MiB of MTV 2.10 wrapper records in the lab generator's line shapes, as bytes, for
        writing large logs block by block (benchmarks, big-log tests).
    .DESCRIPTION
        One poll per 5 s: the 'vshish stats CompletedProcess(...)' record and 'XCOPY used: False,
        clone write ops: N', from 2026-11-25 00:00:00. -Failure appends one clone failure line at
        23:59:59,500: 7228 (invalid change tracker) or 327689 (exit code 255, Input/output error).
    .EXAMPLE
        $block = New-LabWrapperLogBlock -Failure 327689; $stream.Write($block, 0, $block.Length)
    #>
    [CmdletBinding()]
    [OutputType([byte[]])]
    param([ValidateSet('7228', '327689')][string] $Failure)
    $sb = [Text.StringBuilder]::new(); $i = 0
    while ($sb.Length -lt 1MB) {
        $ts = '2026-11-25 {0:00}:{1:00}:{2:00},{3:000}' -f [math]::Floor($i / 720 % 24), [math]::Floor($i / 12 % 60), ($i * 5 % 60), ($i % 1000)
        [void]$sb.Append("$ts - INFO - vshish stats CompletedProcess(args=['vsish', '-r', '-e', 'cat', '/storage/scsifw/devices/naa.624a9370d4d1a2b3c4d5e6f700011a2b/stats'], returncode=0, stdout='Device stats {\n   Number of commands:0x$('{0:x}' -f (4096 + $i * 64))\n   Clone write ops:0x$('{0:x}' -f $i)\n}\n', stderr='')`n")
        [void]$sb.Append("$ts - INFO - XCOPY used: False, clone write ops: $i`n")
        $i++
    }
    switch ($Failure) {
        '327689' { [void]$sb.Append("2026-11-25 23:59:59,500 - ERROR - clone task failed with exit code 255, stderr: Failed to clone disk: Input/output error (327689).`n") }
        '7228' { [void]$sb.Append("2026-11-25 23:59:59,500 - ERROR - Failed to clone disk: Invalid change tracker error code (7228).`n") }
    }
    # The comma keeps the byte[] whole (PowerShell would unroll it into the pipeline).
    , [Text.Encoding]::UTF8.GetBytes($sb.ToString())
}

function New-LabWrapperTaskDir {
    <#
    .SYNOPSIS
        Leaves finished MTV wrapper task directories /tmp/vmkfstools-wrapper-<uuid>/ on a lab host
        (pid, out, err, exitcode, targetLun, rdmfile), dated -AgeDays ago. Returns their paths.
    .EXAMPLE
        New-LabWrapperTaskDir DC0_H0 -Count 5 -AgeDays 7
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory, Position = 0)][Alias('Host')][string] $HostName,
        [Parameter(Mandatory, Position = 1)][ValidateRange(1, 10000)][int] $Count,
        [ValidateRange(0, 3650)][int] $AgeDays = 0
    )
    Invoke-LabScript @('task-dirs', $HostName, "$Count", '--age-days', "$AgeDays")
}

function Set-LabHostdDowntime {
    <#
    .SYNOPSIS
        How long '/etc/init.d/hostd restart' on lab hosts shows the host notResponding in vcsim
        (default 3000 ms at lab start; Reset-LabHost restores it). Without -HostName: all hosts.
    .EXAMPLE
        Set-LabHostdDowntime -Milliseconds 500
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory, Position = 0)][ValidateRange(0, 600000)][int] $Milliseconds,
        [Parameter(Position = 1)][Alias('Host')][string] $HostName
    )
    $a = @('hostd-downtime', "$Milliseconds")
    if ($HostName) { $a += $HostName }
    Invoke-LabScript $a | Out-Null
}

function Reset-LabHost {
    <#
    .SYNOPSIS
        Restores lab hosts to their pristine state between tests.
    .DESCRIPTION
        Pristine /var (small wrapper log, VMware's default root crontab, empty), empty /tmp, hostd,
        vpxa and crond restarted, no slowness, sshd running, host connected in vcsim. Live SSH
        sessions are kept. Without -HostName: every host. The host key is not changed back after
        Update-LabHostKey.
    .EXAMPLE
        BeforeEach { Reset-LabHost DC0_H0 }
    #>
    [CmdletBinding()]
    param([Parameter(Position = 0)][Alias('Host')][string[]] $HostName)
    if (-not $HostName) { $HostName = @((Get-MtvLab).hosts.name) }
    foreach ($h in $HostName) { Invoke-LabScript @('reset-host', $h) | Out-Null }
}

function Invoke-LabVcsimCtl {
    <#
    .SYNOPSIS
        Calls one of vcsim's /ctl fault-injection endpoints and returns the resulting ctl state.
    .DESCRIPTION
        Endpoints: delay (method, ms), disable-method / enable-method (vm, method),
        fail-next (status), host-state (host, state = connected|notResponding|disconnected, for = ms),
        reset, state, ctk-on-power-on (enabled = 1|0). See tests/lab/README.md.
    .EXAMPLE
        Invoke-LabVcsimCtl host-state @{ host = 'DC0_H0'; state = 'notResponding'; for = 2000 }
    .EXAMPLE
        Invoke-LabVcsimCtl disable-method @{ vm = 'DC0_H0_VM0'; method = 'ReconfigVM_Task' }
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory, Position = 0)]
        [ValidateSet('delay', 'disable-method', 'enable-method', 'fail-next', 'host-state', 'reset', 'state', 'ctk-on-power-on')]
        [string] $Endpoint,
        [Parameter(Position = 1)][hashtable] $Query = @{}
    )
    $base = (Get-MtvLab).vcsim.ctlUrl
    $q = ($Query.GetEnumerator() | ForEach-Object { '{0}={1}' -f [uri]::EscapeDataString("$($_.Key)"), [uri]::EscapeDataString("$($_.Value)") }) -join '&'
    $uri = "$base/ctl/$Endpoint" + $(if ($q) { "?$q" } else { '' })
    Invoke-RestMethod -Uri $uri -Method Post
}

function Get-LabSshdLoginCount {
    <#
    .SYNOPSIS
        How many SSH logins a lab host's sshd accepted so far (counted in its -E log).
    .DESCRIPTION
        Take a count before and after an action to prove how many SSH connections it opened.
    .EXAMPLE
        $before = Get-LabSshdLoginCount DC0_H0; <action>; (Get-LabSshdLoginCount DC0_H0) - $before
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory, Position = 0)][Alias('Host')][string] $HostName)
    $h = Get-LabHost $HostName
    @(Select-String -Path $h.sshdLog -Pattern '^Accepted ' -ErrorAction SilentlyContinue).Count
}

function Update-LabHostKey {
    <#
    .SYNOPSIS
        Gives a lab host a new SSH host key (sshd restarted on the same port); returns the new
        'SHA256:...' fingerprint. For changed-host-key tests. lab.json and known_hosts follow.
    .EXAMPLE
        $new = Update-LabHostKey DC0_H0
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory, Position = 0)][Alias('Host')][string] $HostName)
    (Invoke-LabScript @('rekey', $HostName) | Select-Object -Last 1).Trim()
}

function Stop-LabSshd {
    <#
    .SYNOPSIS
        Stops a lab host's sshd listener (the SSH service goes down; live sessions stay).
    .EXAMPLE
        Stop-LabSshd DC0_H0; try { ... } finally { Start-LabSshd DC0_H0 }
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory, Position = 0)][Alias('Host')][string] $HostName)
    Invoke-LabScript @('stop-host', $HostName) | Out-Null
}

function Start-LabSshd {
    <#
    .SYNOPSIS
        Starts a lab host's sshd again on its port (no-op when running).
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory, Position = 0)][Alias('Host')][string] $HostName)
    Invoke-LabScript @('start-host', $HostName) | Out-Null
}

function Get-LabSshService {
    <#
    .SYNOPSIS
        'running' or 'stopped': the lab host's sshd, which vcsim's HostServiceSystem reports and
        controls as the host's TSM-SSH service (StartService/StopService/RefreshServices).
    .EXAMPLE
        Get-LabSshService DC0_H0
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory, Position = 0)][Alias('Host')][string] $HostName)
    (Invoke-LabScript @('ssh-service', $HostName, 'status') | Select-Object -Last 1).Trim()
}

function Disconnect-LabSshSession {
    <#
    .SYNOPSIS
        Drops every live SSH connection to a lab host (the listener stays up); returns how many.
    .EXAMPLE
        Disconnect-LabSshSession DC0_H0   # a cached session must now reconnect
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory, Position = 0)][Alias('Host')][string] $HostName)
    [int](Invoke-LabScript @('kill-sessions', $HostName) | Select-Object -Last 1)
}

function Set-LabSlowness {
    <#
    .SYNOPSIS
        Makes the hosts' stub commands (vdf, esxcli/localcli, /etc/init.d/hostd|vpxa) take this many
        milliseconds per call, like distant hosts. 0 restores full speed. Without -HostName: all hosts.
    .EXAMPLE
        Set-LabSlowness -Milliseconds 300
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory, Position = 0)][ValidateRange(0, 600000)][int] $Milliseconds,
        [Parameter(Position = 1)][Alias('Host')][string] $HostName
    )
    $a = @('slow', "$Milliseconds")
    if ($HostName) { $a += $HostName }
    Invoke-LabScript $a | Out-Null
}

function Get-LabVM {
    <#
    .SYNOPSIS
        VMs of the vcsim inventory as recorded at lab start (name, moref, host, hostMoref,
        powerState at start, vmxPath, datastore, disks, localDir = the VM folder on disk).
    .EXAMPLE
        Get-LabVM -HostName DC0_H0
    #>
    [CmdletBinding()]
    param([Parameter(Position = 0)][string] $Name, [Alias('Host')][string] $HostName)
    $vms = @((Get-MtvLab).vcsim.vms)
    if ($Name) { $vms = @($vms | Where-Object name -EQ $Name) }
    if ($HostName) { $n = (Get-LabHost $HostName).name; $vms = @($vms | Where-Object host -EQ $n) }
    $vms
}

Export-ModuleMember -Function Get-MtvLab, Get-LabSshService, Get-LabHost, Invoke-LabHost, Get-LabVarUsage, Set-LabVarFill,
    Add-LabWrapperLog, Reset-LabHost, Invoke-LabVcsimCtl, Get-LabSshdLoginCount, Update-LabHostKey,
    Stop-LabSshd, Start-LabSshd, Disconnect-LabSshSession, Set-LabSlowness, Get-LabVM,
    New-LabWrapperTaskDir, Set-LabHostdDowntime, New-LabWrapperLogBlock
