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
        (name, index, moref, address (127.0.0.N), port (22), nameResolves (the name resolves to the
        address), user, password, keyFile, keyFilePem, publicKeyFile,
        hostKeyFingerprint, hostKey, hostKeyFile, chrootPath, sshdLog, sshdPidFile).
        Read fresh on every call (rekey changes it). Throws if the lab is not running.
    .EXAMPLE
        $lab = Get-MtvLab; $lab.hosts[0].address
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
        Appends at least -Bytes of what the host's wrapper generation really logs (Set-LabWrapper):
        MTV 2.10's /var/log/vmkfstools-wrapper.log by default. Returns the log's new size in bytes.
    .DESCRIPTION
        2.10: path checks and 'about to run ...' per clone task, then per 5-second poll the
        'vshish stats CompletedProcess(...)' line and 'XCOPY used: False, clone write ops: 0'.
        -Secure writes MTV 2.9's SSH method log /var/log/secure-vmkfstools-wrapper.log (per poll the
        script's start lines and 'Status check for task <id>: {...}'); with -Failure its last task
        fails as the populator sees it: exitCode '255' and the vmkfstools stderr in the dict. No
        wrapper writes the failure into its file log: leave a failed task directory instead
        (New-LabWrapperTaskDir -Failure). On 2.11/2.12 hosts the lines go to syslog (no file; -1).
        Stops quietly when /var is full. Line sources: tests/lab/README.md, "Wrapper generations".
    .EXAMPLE
        Add-LabWrapperLog -HostName DC0_C0_H0 -Bytes 1MB
    .EXAMPLE
        Set-LabWrapper DC0_C0_H0 2.9; Add-LabWrapperLog DC0_C0_H0 64KB -Secure -Failure 7228
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory, Position = 0)][Alias('Host')][string] $HostName,
        [Parameter(Mandatory, Position = 1)][long] $Bytes,
        # MTV 2.9's SSH clone method log instead of the VIB's.
        [switch] $Secure,
        # With -Secure: the last task fails with this vmkfstools error.
        [ValidateSet('7228', '327689')][string] $Failure
    )
    if ($Failure -and -not $Secure) { throw 'No wrapper writes the clone failure into its file log: use New-LabWrapperTaskDir -Failure, or -Secure for the 2.9 SSH method.' }
    $a = @('wrapper-log', $HostName, "$Bytes")
    if ($Secure) { $a += '--secure' }
    if ($Failure) { $a += @('--fail', $Failure) }
    Invoke-LabScript $a -AllowFailure | Out-Null
    $log = if ($Secure) { '/var/log/secure-vmkfstools-wrapper.log' } else { '/var/log/vmkfstools-wrapper.log' }
    [long](Invoke-LabHost $HostName "if [ -f $log ]; then wc -c < $log; else echo -1; fi")
}

function New-LabWrapperLogBlock {
    <#
    .SYNOPSIS
        Just over 1 MiB of MTV 2.10 wrapper log (the lab generator's line shapes: one clone task's
        path checks and 'about to run', then its polls), as bytes, for writing large logs block by
        block (benchmarks, big-log tests). No failure line: no wrapper writes one into this log.
    .EXAMPLE
        $block = New-LabWrapperLogBlock; $stream.Write($block, 0, $block.Length)
    #>
    [CmdletBinding()]
    [OutputType([byte[]])]
    param()
    $sb = [Text.StringBuilder]::new(); $i = 0
    $naa = 'naa.624a9370d4d1a2b3c4d5e6f700011a2b'; $vmdk = '/vmfs/volumes/LocalDS_0/vm/disk1.vmdk'
    $id = '66666666-0000-4000-a000-000080000000'
    [void]$sb.Append("2026-11-25 00:00:00,000 - INFO - about to run trap 'echo -n `$? > /tmp/vmkfstools-wrapper-$id/exitcode' EXIT;/bin/vmkfstools -i $vmdk -d rdm:/vmfs/devices/disks/$naa $vmdk-rdmdisk-40000`n")
    while ($sb.Length -lt 1MB) {
        $ts = '2026-11-25 {0:00}:{1:00}:{2:00},{3:000}' -f [math]::Floor($i / 720 % 24), [math]::Floor($i / 12 % 60), ($i * 5 % 60), ($i % 1000)
        [void]$sb.Append("$ts - INFO - vshish stats CompletedProcess(args=['vsish', '-r', '-e', 'cat', '/storage/scsifw/devices/$naa/stats'], returncode=0, stdout='cloneWriteOps:0x0000000000000000\n', stderr='')`n")
        [void]$sb.Append("$ts - INFO - XCOPY used: False, clone write ops: 0`n")
        $i++
    }
    # The comma keeps the byte[] whole (PowerShell would unroll it into the pipeline).
    , [Text.Encoding]::UTF8.GetBytes($sb.ToString())
}

function New-LabWrapperTaskDir {
    <#
    .SYNOPSIS
        Leaves MTV wrapper clone task directories /tmp/vmkfstools-wrapper-<uuid>/ on a lab host with
        the files its wrapper generation writes (pid, out, err, exitcode, rdmfile, targetLun), dated
        -AgeDays ago. Returns their paths.
    .DESCRIPTION
        Finished by default (exitcode 0). -Failure 7228|327689: exitcode 255 and vmkfstools' message
        in err, as the populator reports it; only on hosts whose wrapper leaves a failed task's
        directory (2.9/2.10), or with -Orphaned (a 0.3.x host whose populator died before its
        taskClean). -Running: pid is a live process, no exitcode yet.
        -Vmdk: the source disk named in rdmfile ('<vmdk>-rdmdisk-<pid>').
    .EXAMPLE
        New-LabWrapperTaskDir DC0_H0 -Count 5 -AgeDays 7
    .EXAMPLE
        New-LabWrapperTaskDir DC0_H0 1 -Failure 7228 -Vmdk /vmfs/volumes/LocalDS_0/DC0_H0_VM0/disk1.vmdk
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory, Position = 0)][Alias('Host')][string] $HostName,
        [Parameter(Mandatory, Position = 1)][ValidateRange(1, 10000)][int] $Count,
        [ValidateRange(0, 3650)][int] $AgeDays = 0,
        [ValidateSet('7228', '327689')][string] $Failure,
        [switch] $Running,
        [switch] $Orphaned,
        [string] $Vmdk
    )
    $a = @('task-dirs', $HostName, "$Count", '--age-days', "$AgeDays")
    if ($Failure) { $a += @('--failed', $Failure) }
    if ($Running) { $a += '--running' }
    if ($Orphaned) { $a += '--orphaned' }
    if ($Vmdk) { $a += @('--vmdk', $Vmdk) }
    Invoke-LabScript $a
}

function Set-LabWrapper {
    <#
    .SYNOPSIS
        Installs one MTV vmkfstools-wrapper generation's files on a lab host: 2.9 (VIB 0.1.1 and the
        SSH method's secure-vmkfstools-wrapper.py on LocalDS_0 with its restricted key line), 2.10
        (VIB 0.2.0, the default after Reset-LabHost), 2.11 (VIB 0.3.0, syslog), 2.12 (VIB 0.3.1,
        syslog), 2.12.1 (VIB 0.3.2 of 2.12.1-2.12.3, whose payload says 0.3.1), 2.12.4 (VIB 0.3.3 of
        2.12.4 and later) or none.
    .EXAMPLE
        Set-LabWrapper DC0_C0_H0 2.11
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory, Position = 0)][Alias('Host')][string] $HostName,
        [Parameter(Mandatory, Position = 1)][ValidateSet('2.9', '2.10', '2.11', '2.12', '2.12.1', '2.12.4', 'none')][string] $Generation,
        # The VIB was just installed and hostd not restarted: esxcli has no vmkfstools namespace yet.
        [switch] $WithoutHostdRestart
    )
    $arguments = @('wrapper', $HostName, $Generation)
    if ($WithoutHostdRestart) { $arguments += '--hostd-not-restarted' }
    Invoke-LabScript $arguments | Out-Null
}

function Set-LabHostdDowntime {
    <#
    .SYNOPSIS
        How long, at least, the lab's vCenter shows a host notResponding after its hostd or vpxa
        restarted (after the lag of Set-LabHostdLag, and until the agent serves again; default 3000
        ms at lab start; Reset-LabHost restores it). Without -HostName: all hosts.
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

function Set-LabHostdLag {
    <#
    .SYNOPSIS
        How long the lab's vCenter keeps showing a host connected after its hostd or vpxa stopped
        (vCenter notices a missing heartbeat late: docs/field-sources.md#5-management-agents; default 2000 ms,
        $MTVLAB_HOSTD_LAG_MS; Reset-LabHost restores it). Without -HostName: all hosts.
    .EXAMPLE
        Set-LabHostdLag -Milliseconds 60000 -HostName DC0_H0   # vCenter does not notice a quick restart
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory, Position = 0)][ValidateRange(0, 600000)][int] $Milliseconds,
        [Parameter(Position = 1)][Alias('Host')][string] $HostName
    )
    $a = @('hostd-lag', "$Milliseconds")
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
        reset, state, ctk-on-power-on (enabled = 1|0), task-time (method = X_Task or *, ms, queueMs:
        asynchronous tasks), tasks (entity: the task list), hostd (host: the hostd restart model's
        transitions), vsan-keep-on-delete (file = base name[,name], clear = 1: that name's next delete on
        vsanDatastore reports success and leaves the file), delete-fault (file = base name[,name], clear = 1:
        that name's next DeleteDatastoreFile_Task fails with CannotDeleteFile and leaves the file),
        option (host, key = Disk.MaxLUN, value: a host's advanced option, as UpdateOptions sets it).
        See tests/lab/README.md.
    .EXAMPLE
        Invoke-LabVcsimCtl host-state @{ host = 'DC0_H0'; state = 'notResponding'; for = 2000 }
    .EXAMPLE
        Invoke-LabVcsimCtl disable-method @{ vm = 'DC0_H0_VM0'; method = 'ReconfigVM_Task' }
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory, Position = 0)]
        [ValidateSet('delay', 'disable-method', 'enable-method', 'fail-next', 'host-state', 'reset', 'state', 'ctk-on-power-on', 'task-time', 'tasks', 'hostd', 'vsan-keep-on-delete', 'delete-fault', 'option')]
        [string] $Endpoint,
        [Parameter(Position = 1)][hashtable] $Query = @{}
    )
    $base = (Get-MtvLab).vcsim.ctlUrl
    $q = ($Query.GetEnumerator() | ForEach-Object { '{0}={1}' -f [uri]::EscapeDataString("$($_.Key)"), [uri]::EscapeDataString("$($_.Value)") }) -join '&'
    $uri = "$base/ctl/$Endpoint" + $(if ($q) { "?$q" } else { '' })
    Invoke-RestMethod -Uri $uri -Method Post
}

function Get-LabVcsimTask {
    <#
    .SYNOPSIS
        The tasks vcsim ran (TaskManager.recentTask plus every asynchronous task), oldest first:
        key, name (PowerOnVM_Task...), entity, entityName, state, error, queueTime, startTime,
        completeTime (DateTime, UTC) and seconds (queued to complete).
    .EXAMPLE
        Get-LabVcsimTask, Set-LabHostdLag -Since $start | Where-Object entityName -eq 'DC0_H0_VM0'
    #>
    [CmdletBinding()]
    param([datetime] $Since = [datetime]::MinValue)
    $all = Invoke-RestMethod -Uri "$((Get-MtvLab).vcsim.ctlUrl)/ctl/tasks"
    foreach ($t in @($all)) {
        foreach ($p in 'queueTime', 'startTime', 'completeTime') {
            if (-not $t.PSObject.Properties[$p]) { continue }   # a task still queued or running has no end time yet
            $v = $t.$p
            if ($v -and $v -isnot [datetime]) { $t.$p = [datetime]::Parse($v, [Globalization.CultureInfo]::InvariantCulture, [Globalization.DateTimeStyles]::AdjustToUniversal) }
            elseif ($v) { $t.$p = $v.ToUniversalTime() }
        }
        if ($t.queueTime -ge $Since.ToUniversalTime()) { $t }
    }
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
    # 'Accepted <method> for' only: at VERBOSE sshd also logs 'Accepted key ... found at' per key tried.
    @(Select-String -Path $h.sshdLog -Pattern '^Accepted \S+ for ' -ErrorAction SilentlyContinue).Count
}

function Update-LabHostKey {
    <#
    .SYNOPSIS
        Gives a lab host a new SSH host key (sshd restarted on the same address); returns the new
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
        Starts a lab host's sshd again on its address (no-op when running).
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

function Suspend-LabSshSession {
    <#
    .SYNOPSIS
        Every live SSH connection to a lab host stays open but stops answering (its sshd process is
        stopped), as a host behind a dropped VPN looks; returns how many. Disconnect-LabSshSession
        ends them.
    .EXAMPLE
        Suspend-LabSshSession DC0_H0; try { ... } finally { Disconnect-LabSshSession DC0_H0 }
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory, Position = 0)][Alias('Host')][string] $HostName)
    [int](Invoke-LabScript @('hang-sessions', $HostName) | Select-Object -Last 1)
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

function Set-LabSshdLogLevel {
    <#
    .SYNOPSIS
        The hosts' sshd log level: Verbose adds a "Starting session: command ... id N" line to the
        sshd -E log per remote command (N: the connection's session slot). Applies to connections
        opened afterwards; Info is the lab's default. Without -HostName: all hosts.
    .EXAMPLE
        Set-LabSshdLogLevel Verbose; <connect, act>; Set-LabSshdLogLevel Info
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory, Position = 0)][ValidateSet('Info', 'Verbose')][string] $Level,
        [Parameter(Position = 1)][Alias('Host')][string] $HostName
    )
    $a = @('sshd-log', $Level.ToUpperInvariant())
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

function Set-LabHostLayout {
    <#
    .SYNOPSIS
        Puts a lab host's /var/log on one of the storage layouts of
        docs/field-sources.md#3-esxi-shell-and-storage: Ramdisk (the lab
        default: a directory on the var ramdisk), OsData (ESXi 7/8: /var/log -> /scratch/log ->
        /vmfs/volumes/<uuid>, an OSDATA volume df lists as VFFS) or Degraded (ESXi 7/8 without
        persistent storage: /scratch -> /tmp/scratch on the tmp ramdisk) or Datastore (scratch
        configured on the host's datastore1: /scratch -> /vmfs/volumes/datastore1/.locker-<host>,
        datastore1 -> <uuid>, a VMFS-6 volume df lists by its label). The log files move along.
        Reset-LabHost restores Ramdisk. With an OsData, Degraded or Datastore host, reach its files through
        Invoke-LabHost only: the links are absolute inside the chroot. Returns the layout.
    .EXAMPLE
        Set-LabHostLayout DC0_C0_H0 OsData
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory, Position = 0)][Alias('Host')][string] $HostName,
        [Parameter(Mandatory, Position = 1)][ValidateSet('Ramdisk', 'OsData', 'Degraded', 'Datastore')][string] $Layout
    )
    Invoke-LabScript @('layout', $HostName, $Layout.ToLowerInvariant()) | Out-Null
    (Invoke-LabScript @('layout', $HostName) | Select-Object -Last 1)
}

Export-ModuleMember -Function Get-MtvLab, Get-LabSshService, Get-LabHost, Invoke-LabHost, Get-LabVarUsage, Set-LabVarFill,
    Add-LabWrapperLog, Reset-LabHost, Invoke-LabVcsimCtl, Get-LabSshdLoginCount, Update-LabHostKey,
    Stop-LabSshd, Start-LabSshd, Disconnect-LabSshSession, Suspend-LabSshSession, Set-LabSlowness, Set-LabSshdLogLevel, Get-LabVM,
    New-LabWrapperTaskDir, Set-LabHostdDowntime, New-LabWrapperLogBlock, Set-LabHostLayout,
    Get-LabVcsimTask, Set-LabHostdLag, Set-LabWrapper
