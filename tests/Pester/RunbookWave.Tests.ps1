# Invoke-MtvRemediation over a wave (issue 25 items 4 and 5): the downtime limit and the rows
# written as each VM is done. The VMs are created by the tests on one SSH-reachable lab host,
# each with a reason for a CBT reset (a -ctk.vmdk beside its disk while CBT is off), and
# destroyed afterwards. Their power operations are slowed with the lab's asynchronous task times
# (tests/lab/README.md, task-time); when each VM was off is read from vcsim's own task list
# (Get-LabVcsimTask), not from the module's output.

BeforeDiscovery {
    Import-Module (Join-Path $PSScriptRoot '../lab/Lab.psm1') -Force
    $script:NoLab = try { $null -eq (Get-MtvLab) } catch { $true }
}

Describe 'Invoke-MtvRemediation over a wave' -Tag Lab, Streaming -Skip:$NoLab {
    BeforeAll {
        $manifestPath = if ($env:MTV_MODULE_PATH) { $env:MTV_MODULE_PATH } else { Join-Path $PSScriptRoot '../../out/MtvRemediation/0.1.0/MtvRemediation.psd1' }
        Import-Module $manifestPath -Force
        $sceneScript = Join-Path $PSScriptRoot '../lab/RunbookScene.ps1'
        . $sceneScript
        . (Join-Path $PSScriptRoot 'StreamRecorder.ps1')

        $lab = Get-MtvLab
        Invoke-LabVcsimCtl reset | Out-Null
        $raw = New-VcsimSoapSession $lab
        # The last SSH-reachable host: not the runbook scene's (the first), pristine.
        $hostName = @((Get-LabHost).name)[-1]
        Reset-LabHost $hostName
        $placement = Get-VcsimPlacement $raw $lab -HostName $hostName
        $prefix = 'mtvwave-{0}' -f (Get-Random -Maximum 99999)
        $created = [System.Collections.Generic.List[object]]::new()

        # A VM on the host whose CBT needs a reset: CBT off with a -ctk.vmdk beside its disk.
        function New-WaveVM([string] $Name, [switch] $PowerOn) {
            $vm = New-VcsimVM $raw $placement "$prefix $Name" -PowerOn:$PowerOn
            $created.Add($vm)
            Set-Content -LiteralPath (Join-Path $vm.Dir 'disk1-ctk.vmdk') -Value 'stale change tracking file (wave test)'
            $vm
        }

        # Each VM's downtime as vCenter ran it: from its first power-off to its last power-on (task completion times).
        function Get-Downtime($Vms, [datetime] $Since) {
            $tasks = @(Get-LabVcsimTask -Since $Since | Where-Object { $_.state -eq 'success' -and $_.name -in 'PowerOffVM_Task', 'PowerOnVM_Task' })
            foreach ($vm in $Vms) {
                $mine = @($tasks | Where-Object entityName -EQ $vm.Name | Sort-Object completeTime)
                [pscustomobject]@{
                    VM  = $vm.Name
                    Off = @($mine | Where-Object name -EQ 'PowerOffVM_Task')[0].completeTime
                    On  = @($mine | Where-Object name -EQ 'PowerOnVM_Task')[-1].completeTime
                }
            }
        }

        # The most VMs that were off at the same moment.
        function Get-MostAtOnce($Downtime) {
            $most = 0
            foreach ($d in $Downtime) {
                $most = [Math]::Max($most, @($Downtime | Where-Object { $_.Off -le $d.Off -and $_.On -gt $d.Off }).Count)
            }
            $most
        }
    }

    AfterAll {
        if ($lab) { Invoke-LabVcsimCtl reset | Out-Null }
        foreach ($vm in $created) { try { Remove-VcsimVM $raw $vm } catch { Write-Warning "cleanup of $($vm.Name): $_" } }
        if ($raw) { Remove-VcsimSoapSession $raw }
        Get-EsxiShell | Disconnect-EsxiShell
        Get-MtvVIServer | Disconnect-MtvVIServer
    }

    It '-MaxPoweredOffPerHost 1: no two VMs of the host are off at the same time (without it, they are)' {
        $vms = @(1..3 | ForEach-Object { New-WaveVM "limit-$_" -PowerOn })
        $names = @($vms.Name)
        Connect-RunbookLab
        foreach ($m in 'PowerOffVM_Task', 'PowerOnVM_Task') { Invoke-LabVcsimCtl task-time @{ method = $m; ms = 700 } | Out-Null }
        Invoke-LabVcsimCtl ctk-on-power-on @{ enabled = 1 } | Out-Null   # ESXi creates the ctk files at power-on
        try {
            # Without the limit, as a control: the throttle lets all three go down together.
            $start = [datetime]::UtcNow
            $out = @(Invoke-MtvRemediation -VM $names -PowerOff -Force -ThrottleLimit 3 -Confirm:$false)
            @($out | Where-Object Kind -EQ 'VM' | ForEach-Object Result) | Should -Be @('Remediated', 'Remediated', 'Remediated')
            $free = @(Get-Downtime $vms $start)
            Get-MostAtOnce $free | Should -BeGreaterThan 1 -Because 'the measure must see VMs that are off together'

            # The same VMs again (CBT off beside the new ctk files: a reset again), now with the limit.
            foreach ($vm in $vms) { Set-VcsimVMCbt $raw $vm $false }
            $start = [datetime]::UtcNow
            $out = @(Invoke-MtvRemediation -VM $names -PowerOff -Force -ThrottleLimit 3 -MaxPoweredOffPerHost 1 -Confirm:$false)
        }
        finally { Invoke-LabVcsimCtl reset | Out-Null }
        @($out | Where-Object Kind -EQ 'VM' | ForEach-Object Result) | Should -Be @('Remediated', 'Remediated', 'Remediated')
        $limited = @(Get-Downtime $vms $start)
        @($limited | Where-Object { $_.Off -and $_.On }).Count | Should -Be 3 -Because 'each VM was powered off and on again'
        Get-MostAtOnce $limited | Should -Be 1
        foreach ($vm in $vms) { (Get-VcsimVMState $raw $vm).PowerState | Should -Be 'poweredOn' }
    }

    It 'Reset-VMChangeTracking -MaxPoweredOffPerHost 1: the standalone reset keeps the same limit (the same scheduling, ChangeTrackingRun)' {
        $vms = @(1..3 | ForEach-Object { New-WaveVM "reset-limit-$_" -PowerOn })
        Connect-RunbookLab
        foreach ($m in 'PowerOffVM_Task', 'PowerOnVM_Task') { Invoke-LabVcsimCtl task-time @{ method = $m; ms = 700 } | Out-Null }
        Invoke-LabVcsimCtl ctk-on-power-on @{ enabled = 1 } | Out-Null
        try {
            $start = [datetime]::UtcNow
            $out = @($vms.Name | Reset-VMChangeTracking -PowerOff -Force -ThrottleLimit 3 -MaxPoweredOffPerHost 1 -Confirm:$false)
        }
        finally { Invoke-LabVcsimCtl reset | Out-Null }
        @($out | Where-Object Succeeded).Count | Should -Be 3
        $limited = @(Get-Downtime $vms $start)
        @($limited | Where-Object { $_.Off -and $_.On }).Count | Should -Be 3 -Because 'each VM was powered off and on again'
        Get-MostAtOnce $limited | Should -Be 1
        foreach ($vm in $vms) { (Get-VcsimVMState $raw $vm).PowerState | Should -Be 'poweredOn' }
    }

    It 'writes each VM''s row as soon as it is done, with its verbose lines live: the fast VM''s row while the slow one still powers off and on' {
        $slow = New-WaveVM 'rows-slow' -PowerOn
        $fast = New-WaveVM 'rows-fast'
        foreach ($m in 'PowerOffVM_Task', 'PowerOnVM_Task') { Invoke-LabVcsimCtl task-time @{ method = $m; ms = 2000 } | Out-Null }
        Invoke-LabVcsimCtl ctk-on-power-on @{ enabled = 1 } | Out-Null
        try {
            $ps = [powershell]::Create()
            $null = $ps.AddScript({
                    param($ModulePath, $SceneScript, $Names)
                    Import-Module $ModulePath
                    . $SceneScript
                    Connect-RunbookLab
                    Invoke-MtvRemediation -VM $Names -PowerOff -Force -ThrottleLimit 2 -Confirm:$false -Verbose
                }).AddArgument($manifestPath).AddArgument($sceneScript).AddArgument(@($slow.Name, $fast.Name))
            $events = Watch-PowerShellStreams $ps -NameProperty Name -WithVerbose
        }
        finally { Invoke-LabVcsimCtl reset | Out-Null }
        # Fast (off): power-on and power-off with CBT off (4 s). Slow (on): also its power-off before and power-on after (8 s).
        $rows = @($events | Where-Object Kind -EQ 'Output')
        @($rows.Name) | Should -Be @($fast.Name, $slow.Name, $hostName) -Because 'each VM''s row comes when it is done; the host''s at the end'
        @($rows | Select-Object -First 2 | ForEach-Object { $_.Object.Result }) | Should -Be @('Remediated', 'Remediated')
        ($rows[1].T - $rows[0].T) | Should -BeGreaterThan 2.5 -Because 'the fast VM''s row was written while the slow VM was still running'
        # The slow VM's steps reach -Verbose as they begin, after the fast VM's row and before its own.
        $slowSteps = @($events | Where-Object { $_.Kind -eq 'Verbose' -and $_.Status -like "$($slow.Name): *..." })
        @($slowSteps | Where-Object { $_.Status -eq "$($slow.Name): powering on..." -and $_.T -gt $rows[0].T -and $_.T -lt $rows[1].T }).Count | Should -BeGreaterThan 0
        # And beside its name in the progress status while it runs.
        $bar = @($events | Where-Object { $_.Activity -eq 'Invoke-MtvRemediation: Resetting CBT' -and $_.Current -match [regex]::Escape("$($slow.Name) (powering on") })
        $bar.Count | Should -BeGreaterThan 0
    }
}
