# Issue 15.1 for the VM cmdlets: Get-VMChangeTracking and Reset-VMChangeTracking write each VM's
# result as it finishes (not all at the end), and the progress bar counts what is really done.
# One VM is slowed with the lab's asynchronous task times (tests/lab/README.md, task-time):
# - Get: the slow VM has a disk in a second folder, so it needs a second listing after the first
#   (SearchDatastore_Task and SearchDatastoreSubFolders_Task take 2.5 s each);
# - Reset: the slow VM is powered on (power-off and power-on on top of the KB chain, 2 s each).
# The VMs are created by the tests and destroyed afterwards.

BeforeDiscovery {
    Import-Module (Join-Path $PSScriptRoot '../lab/Lab.psm1') -Force
    $script:NoLab = try { $null -eq (Get-MtvLab) } catch { $true }
}

Describe 'VM cmdlets write results as each VM finishes' -Tag Lab, Streaming -Skip:$NoLab {
    BeforeAll {
        $manifestPath = if ($env:MTV_MODULE_PATH) { $env:MTV_MODULE_PATH } else { Join-Path $PSScriptRoot '../../out/MtvRemediation/0.1.0/MtvRemediation.psd1' }
        Import-Module (Join-Path $PSScriptRoot '../lab/Lab.psm1') -Force
        . (Join-Path $PSScriptRoot 'PowerCliFixture.ps1')
        . (Join-Path $PSScriptRoot 'StreamRecorder.ps1')

        $lab = Get-MtvLab
        Invoke-LabVcsimCtl reset | Out-Null
        $raw = New-VcsimSoapSession $lab
        $placement = Get-VcsimPlacement $raw $lab
        $prefix = 'mtvstream-{0}' -f (Get-Random -Maximum 99999)
        $vcUri = [uri]$lab.vcsim.url
        $cred = Get-LabVCenterCredential $lab
        $created = [System.Collections.Generic.List[object]]::new()

        # Runs a command line against the lab's vCenter in a runspace of its own, and records when
        # each output object and each progress record arrived (seconds from the start).
        function Watch-Command([scriptblock] $Command) {
            $ps = [powershell]::Create()
            $null = $ps.AddScript({
                    param($ModulePath, $HostName, $Port, $Cred, $Command)
                    Import-Module $ModulePath
                    Connect-MtvVIServer -Server $HostName -Port $Port -Credential $Cred -SkipCertificateCheck -WarningAction SilentlyContinue | Out-Null
                    & ([scriptblock]::Create($Command))
                }).AddArgument($manifestPath).AddArgument($vcUri.Host).AddArgument($vcUri.Port).AddArgument($cred).AddArgument($Command.ToString())
            Watch-PowerShellStreams $ps -NameProperty VM
        }

        # The output of a run with a slow and a fast VM, input order slow then fast: the fast VM's
        # result is out while the slow one still runs, and the bar said so meanwhile.
        function Assert-Streamed($Events, [string] $Activity, [string] $Slow, [string] $Fast, [double] $Gap) {
            $outputs = @($Events | Where-Object Kind -EQ 'Output')
            @($outputs.VM) | Should -Be @($Fast, $Slow) -Because 'results come as each VM finishes, not in input order at the end'
            ($outputs[1].T - $outputs[0].T) | Should -BeGreaterThan $Gap -Because 'the fast VM''s result was written while the slow VM was still running'
            $bar = @($Events | Where-Object { $_.Kind -eq 'Processing' -and $_.Activity -eq $Activity })
            $bar[0].Status | Should -Be '0 of 2 done'
            $bar[0].T | Should -BeLessThan $outputs[0].T
            $one = @($bar | Where-Object Status -EQ '1 of 2 done')
            $one.Count | Should -BeGreaterThan 0
            $one[0].T | Should -BeGreaterOrEqual $outputs[0].T -Because 'a VM counts as done once its result is written'
            $one[0].T | Should -BeLessThan $outputs[1].T
            $one[0].Current | Should -Match ([regex]::Escape("Waiting for $Slow"))
            @($bar | Where-Object { $_.Status -eq '2 of 2 done' -and $_.T -lt $outputs[1].T }) | Should -BeNullOrEmpty
        }
    }

    AfterAll {
        if ($lab) { Invoke-LabVcsimCtl reset | Out-Null }
        foreach ($vm in $created) { try { Remove-VcsimVM $raw $vm } catch { Write-Warning "cleanup of $($vm.Name): $_" } }
        if ($raw) { Remove-VcsimSoapSession $raw }
    }

    It 'Get-VMChangeTracking: the fast VM''s status is written about one listing (2.5 s) before the slow VM''s' {
        $slow = New-VcsimVM $raw $placement "$prefix get-slow" -Disks 2 -LastDiskFolder "$prefix get-slow-data"
        $created.Add($slow)
        $fast = New-VcsimVM $raw $placement "$prefix get-fast"
        $created.Add($fast)
        foreach ($m in 'SearchDatastore_Task', 'SearchDatastoreSubFolders_Task') { Invoke-LabVcsimCtl task-time @{ method = $m; ms = 2500 } | Out-Null }
        try {
            $events = Watch-Command ([scriptblock]::Create("Get-VMChangeTracking -VM '$($slow.Name)', '$($fast.Name)' -ThrottleLimit 2"))
        }
        finally { Invoke-LabVcsimCtl reset | Out-Null; Remove-Item -LiteralPath (Join-Path $placement.Datastore.dir "$prefix get-slow-data") -Recurse -Force -ErrorAction SilentlyContinue }
        Assert-Streamed $events 'Reading CBT state' $slow.Name $fast.Name 1.5
        @(($events | Where-Object VM -EQ $slow.Name).Object.Disks).Count | Should -Be 2
    }

    It 'Reset-VMChangeTracking: the powered-off VM''s result is written while the powered-on VM still powers off and on' {
        $slow = New-VcsimVM $raw $placement "$prefix reset-slow" -PowerOn
        $created.Add($slow)
        $fast = New-VcsimVM $raw $placement "$prefix reset-fast"
        $created.Add($fast)
        foreach ($m in 'PowerOffVM_Task', 'PowerOnVM_Task') { Invoke-LabVcsimCtl task-time @{ method = $m; ms = 2000 } | Out-Null }
        Invoke-LabVcsimCtl ctk-on-power-on @{ enabled = 1 } | Out-Null   # ESXi creates the ctk files at power-on
        try {
            $events = Watch-Command ([scriptblock]::Create("Reset-VMChangeTracking -VM '$($slow.Name)', '$($fast.Name)' -PowerOff -Force -ThrottleLimit 2 -Confirm:`$false"))
        }
        finally { Invoke-LabVcsimCtl reset | Out-Null }
        # Fast: power-on and power-off with CBT off (4 s). Slow: also its power-off before and power-on after (8 s).
        Assert-Streamed $events 'Resetting CBT' $slow.Name $fast.Name 2.5
        @($events | Where-Object Kind -EQ 'Output' | ForEach-Object { $_.Object.Succeeded }) | Should -Be @($true, $true)
        # The bar says what the slow VM is doing while it runs (issue 25 item 5), step by step.
        $steps = @($events | Where-Object { $_.Activity -eq 'Resetting CBT' -and $_.Current -match ([regex]::Escape("$($slow.Name) (") + '([a-z -]+)') } |
            ForEach-Object { [regex]::Match($_.Current, [regex]::Escape("$($slow.Name) (") + '([^)]+)\)').Groups[1].Value } | Select-Object -Unique)
        $steps | Should -Contain 'powering off' -Because 'its 2 s power-off is shown while it runs'
        $steps | Should -Contain 'powering on' -Because 'its 2 s power-on is shown while it runs'

    }
}
