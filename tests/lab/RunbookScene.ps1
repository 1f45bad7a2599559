<#
.SYNOPSIS
    Sets up the MTV clone-failure scene on the lab for the runbook demo and tests. Dot-source it.

.DESCRIPTION
    Changes lab state directly, independent of the module under test: commands inside a lab
    host's BusyBox chroot (as lab.sh itself does), files in vcsim's datastore directories, and
    raw vim25 SOAP calls (tests/Pester/PowerCliFixture.ps1) for power and CBT. Needs root, like
    the lab. Functions:
      Get-RunbookLab             lab.json as an object (env MTVLAB_STATE or out/lab/lab.json)
      Get-RunbookSceneTarget     the VM and its SSH-reachable host used for the scene
      Invoke-LabHostShell        runs a script in a lab host's chroot; returns its output
      Set-RunbookScene           /var full of wrapper log ending in a 7228 line, a stale ctk file, CBT on, VM on
      Get-LabHostVarState        /var usage and wrapper log size read inside the chroot
      Connect-RunbookLab         Connect-MtvVIServer + Connect-EsxiShell (pinned host keys) to every lab host
#>

. (Join-Path $PSScriptRoot '../Pester/PowerCliFixture.ps1')

function Get-RunbookLab {
    $path = if ($env:MTVLAB_STATE) { $env:MTVLAB_STATE } else { Join-Path $PSScriptRoot '../../out/lab/lab.json' }
    if (-not (Test-Path -LiteralPath $path)) { return $null }
    Get-Content -LiteralPath $path -Raw | ConvertFrom-Json
}

# The first VM (in lab.json order) whose host has an SSH endpoint, and that host.
function Get-RunbookSceneTarget($Lab) {
    foreach ($vm in $Lab.vcsim.vms) {
        $h = $Lab.hosts | Where-Object name -EQ $vm.host | Select-Object -First 1
        if ($h) {
            return [pscustomobject]@{
                Vm      = [pscustomobject]@{ Name = $vm.name; MoRef = $vm.moref; Dir = $vm.localDir; Disks = @($vm.disks) }
                Host    = $h
            }
        }
    }
    throw 'No lab VM lives on a host with an SSH endpoint.'
}

function Invoke-LabHostShell($LabHost, [string] $Script) {
    $out = & env -i PATH=/bin:/sbin:/usr/bin HOME=/ USER=root LOGNAME=root SHELL=/bin/sh TERM=dumb chroot $LabHost.chrootPath /bin/sh -c $Script 2>&1
    [pscustomobject]@{ ExitCode = $LASTEXITCODE; Output = ($out -join "`n") }
}

function Get-LabHostVarState($LabHost) {
    $r = Invoke-LabHostShell $LabHost 'set -- $(stat -f -c "%S %b %a" /var); echo $1 $2 $3; if [ -f /var/log/vmkfstools-wrapper.log ]; then wc -c < /var/log/vmkfstools-wrapper.log; else echo -1; fi; grep -c "(7228)" /var/log/vmkfstools-wrapper.log 2>/dev/null || true'
    $lines = $r.Output -split "`n"
    $f = $lines[0] -split ' '
    $bsize = [long]$f[0]; $blocks = [long]$f[1]; $avail = [long]$f[2]
    [pscustomobject]@{
        UsedPercent = [math]::Round(100.0 * ($blocks - $avail) / $blocks, 1)
        FreeBytes   = $avail * $bsize
        LogBytes    = [long]$lines[1]
        Lines7228   = [int]($lines[2] + '')
    }
}

<#
    The scene: the VM's host has /var filled (to the last page) with MTV 2.10 wrapper log records,
    the last of which is the 7228 failure; the VM is powered on with CBT enabled and a stale
    disk1-ctk.vmdk beside its disk. Returns the target (VM and host).
#>
function Set-RunbookScene($Lab) {
    $t = Get-RunbookSceneTarget $Lab
    # Fill /var to within 8 KiB with poll records ending in the 7228 line (the wrapper's last word).
    $fill = Invoke-LabHostShell $t.Host @'
: > /var/log/vmkfstools-wrapper.log
set -- $(stat -f -c '%S %a' /var); free=$(( $1 * $2 ))
/opt/redhat/vmkfstools-wrapper/lab-log-gen $(( free - 8192 )) 7228
'@
    if ($fill.ExitCode -ne 0) { throw "Filling /var on $($t.Host.name) failed: $($fill.Output)" }
    $session = New-LabSoapSession -Lab $Lab
    try {
        $vm = [pscustomobject]@{ MoRef = $t.Vm.MoRef }
        Set-LabVMPower $session $vm 'On'
        Set-LabVMCbt $session $vm $true
    }
    finally { Remove-LabSoapSession $session }
    foreach ($d in $t.Vm.Disks) {
        $file = ($d -replace '^\[[^\]]*\]\s*', '') -replace '\.vmdk$', '-ctk.vmdk'
        $local = Join-Path (Split-Path $t.Vm.Dir -Parent) $file
        Set-Content -LiteralPath $local -Value 'stale change tracking file (lab scene)'
    }
    $t
}

function Connect-RunbookLab($Lab) {
    $vcUri = [uri]$Lab.vcsim.url
    $vcCred = [pscredential]::new($Lab.vcsim.user, (ConvertTo-SecureString ([string]$Lab.vcsim.password) -AsPlainText -Force))
    $null = Connect-MtvVIServer -Server $vcUri.Host -Port $vcUri.Port -Credential $vcCred -SkipCertificateCheck -WarningAction SilentlyContinue
    $knownHosts = Join-Path (Split-Path (Get-RunbookLabStatePath) -Parent) 'known_hosts'
    foreach ($h in $Lab.hosts) {
        $cred = [pscredential]::new($h.user, (ConvertTo-SecureString ([string]$h.password) -AsPlainText -Force))
        $null = Connect-EsxiShell -VMHost $h.name -Address $h.address -Port $h.port -Credential $cred `
            -HostKeyFingerprint $h.hostKeyFingerprint -KnownHostsPath $knownHosts
    }
}

function Get-RunbookLabStatePath {
    if ($env:MTVLAB_STATE) { $env:MTVLAB_STATE } else { Join-Path $PSScriptRoot '../../out/lab/lab.json' }
}
