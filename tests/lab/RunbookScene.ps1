<#
.SYNOPSIS
    Sets up the MTV clone-failure scene on the lab for the runbook demo and tests. Dot-source it.

.DESCRIPTION
    Changes lab state without the module under test: the lab helpers (Lab.psm1: chroot commands,
    lab.sh knobs), files in vcsim's datastore directories, and raw vim25 SOAP calls
    (tests/Pester/PowerCliFixture.ps1) for power and CBT. Needs root, like the lab.
      Get-RunbookSceneTarget   the VM and its SSH-reachable lab host used for the scene
      Set-RunbookScene         pristine host, then /var full of MTV 2.10 wrapper log and a failed
                               clone task directory with the 7228 stderr for the VM's disk, a
                               stale ctk file beside the VM's disk, CBT on, VM powered on; turns
                               on vcsim's ctk-on-power-on (ESXi's behaviour; /ctl/reset turns it off)
      Get-RunbookSceneState    /var usage, wrapper log size, task directories holding 7228, our cron line, VM power/CBT, ctk files
      Connect-RunbookLab       Connect-MtvVIServer + Connect-EsxiShell (pinned host keys) to every lab host
#>

Import-Module (Join-Path $PSScriptRoot 'Lab.psm1') -Force
. (Join-Path $PSScriptRoot '../Pester/PowerCliFixture.ps1')

# The first VM (in lab.json order) on a host with an SSH endpoint, and that host.
function Get-RunbookSceneTarget {
    foreach ($vm in Get-LabVM) {
        $h = Get-LabHost | Where-Object name -EQ $vm.host | Select-Object -First 1
        if ($h) { return [pscustomobject]@{ Vm = $vm; Host = $h } }
    }
    throw 'No lab VM lives on a host with an SSH endpoint.'
}

function Get-CtkPath($Vm) {
    # '[LocalDS_0] VM/disk1.vmdk' -> '<datastore dir>/VM/disk1-ctk.vmdk'
    foreach ($d in $Vm.disks) {
        $rel = ($d -replace '^\[[^\]]*\]\s*', '') -replace '\.vmdk$', '-ctk.vmdk'
        Join-Path (Split-Path $Vm.localDir -Parent) $rel
    }
}

<#
    The scene: the VM's host starts pristine, then /var is filled to within 8 KiB with MTV 2.10
    wrapper log records and the failed clone's task directory holds the 7228 stderr (where the
    2.10 wrapper leaves it); the VM is powered on with CBT enabled and a
    stale disk1-ctk.vmdk beside its disk. Returns the target (VM and host).
#>
function Set-RunbookScene {
    $t = Get-RunbookSceneTarget
    # Power-ons recreate ctk files, as on ESXi (plain vcsim never creates them).
    $null = Invoke-LabVcsimCtl 'ctk-on-power-on' @{ enabled = 1 }
    Reset-LabHost $t.Host.name
    $free = (Get-LabVarUsage $t.Host.name).AvailableKB * 1KB
    # MTV 2.10 as it really fails: the wrapper log (polls only, never the error) fills /var, and the
    # failed clone's task directory holds vmkfstools' 7228 stderr, naming the VM's disk in rdmfile.
    $null = Add-LabWrapperLog -HostName $t.Host.name -Bytes ($free - 8KB)
    $disk = '/vmfs/volumes/' + ($t.Vm.disks[0] -replace '^\[([^\]]*)\]\s*', '$1/')
    $null = New-LabWrapperTaskDir -HostName $t.Host.name -Count 1 -Failure 7228 -Vmdk $disk
    $session = New-VcsimSoapSession -Lab (Get-MtvLab)
    try {
        $vm = [pscustomobject]@{ MoRef = $t.Vm.moref }
        Set-VcsimVMPower $session $vm 'On'
        Set-VcsimVMCbt $session $vm $true
    }
    finally { Remove-VcsimSoapSession $session }
    foreach ($ctk in Get-CtkPath $t.Vm) { Set-Content -LiteralPath $ctk -Value 'stale change tracking file (lab scene)' }
    $t
}

# The scene's state read around the module: chroot for the host, SOAP and the datastore directory for the VM.
function Get-RunbookSceneState($Target) {
    $hn = $Target.Host.name
    $var = Get-LabVarUsage $hn
    $session = New-VcsimSoapSession -Lab (Get-MtvLab)
    try { $vmState = Get-VcsimVMState $session ([pscustomobject]@{ MoRef = $Target.Vm.moref }) }
    finally { Remove-VcsimSoapSession $session }
    [pscustomobject]@{
        VarUsePercent = $var.UsePercent
        VarAvailableKB = $var.AvailableKB
        LogBytes      = [long](Invoke-LabHost $hn 'if [ -f /var/log/vmkfstools-wrapper.log ]; then wc -c < /var/log/vmkfstools-wrapper.log; else echo -1; fi')
        Lines7228     = [int](Invoke-LabHost $hn 'for f in /tmp/vmkfstools-wrapper-*/err; do [ -f "$f" ] && grep -l "(7228)" "$f"; done | grep -c . || true')
        CronLines     = [int](Invoke-LabHost $hn 'grep -c "vmkfstools-wrapper.log" /var/spool/cron/crontabs/root || true')
        Crontab       = Invoke-LabHost $hn 'cat /var/spool/cron/crontabs/root'
        PowerState    = $vmState.PowerState
        Cbt           = $vmState.Cbt
        CtkFiles      = @(Get-CtkPath $Target.Vm | Where-Object { Test-Path -LiteralPath $_ } | ForEach-Object { Get-Content -LiteralPath $_ -Raw })
    }
}

function Connect-RunbookLab {
    $lab = Get-MtvLab
    $vcUri = [uri]$lab.vcsim.url
    $vcCred = [pscredential]::new($lab.vcsim.user, (ConvertTo-SecureString ([string]$lab.vcsim.password) -AsPlainText -Force))
    $null = Connect-MtvVIServer -Server $vcUri.Host -Port $vcUri.Port -Credential $vcCred -SkipCertificateCheck -WarningAction SilentlyContinue
    $state = if ($env:MTVLAB_STATE) { $env:MTVLAB_STATE } else { Join-Path $PSScriptRoot '../../out/lab/lab.json' }
    $knownHosts = Join-Path (Split-Path $state -Parent) 'known_hosts'
    foreach ($h in $lab.hosts) {
        $cred = [pscredential]::new($h.user, (ConvertTo-SecureString ([string]$h.password) -AsPlainText -Force))
        $null = Connect-EsxiShell -VMHost $h.name -Address $h.address -Port $h.port -Credential $cred `
            -HostKeyFingerprint $h.hostKeyFingerprint -KnownHostsPath $knownHosts
    }
}
