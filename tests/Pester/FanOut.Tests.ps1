# The one host fan-out (HostFanOut + ParallelRunner) against the lab: stop means stop, results and
# progress are live. Hosts are slowed with the lab's knob (tests/lab/README.md: `slow <ms> [host]`
# makes the stub commands, vdf among them, sleep per call, like a distant host).

BeforeAll {
    $manifestPath = if ($env:MTV_MODULE_PATH) { $env:MTV_MODULE_PATH } else { Join-Path $PSScriptRoot '../../out/MtvRemediation/0.1.0/MtvRemediation.psd1' }
    Import-Module $manifestPath -Force
    $script:ManifestPath = (Resolve-Path $manifestPath).Path
    . (Join-Path $PSScriptRoot 'HostRemediation.Helpers.ps1')
    . (Join-Path $PSScriptRoot 'StreamRecorder.ps1')
    $script:Lab = Get-HostLab
    $script:LabHosts = @($Lab.Hosts | Select-Object -First 3)
    $script:Log = '/var/log/vmkfstools-wrapper.log'
    # These tests change only the wrapper log (and the slowness knob): keep each host's log to put it back.
    $script:SavedLogs = @{}
    foreach ($vmh in $LabHosts) { $SavedLogs[$vmh.Name] = Get-HostFileBytes $vmh $Log }
    Get-EsxiShell | Disconnect-EsxiShell -Confirm:$false
    Connect-HostLab $Lab -Hosts $LabHosts


    # A wrapper log of known size on every host, so "not touched" can be checked byte for byte.
    function Set-KnownLogs {
        foreach ($h in $LabHosts) { Write-HostFile $h $Log (New-WrapperLogBytes -Lines 2000) }
        $sizes = @{}
        foreach ($h in $LabHosts) { $sizes[$h.Name] = Get-HostFileSize $h $Log }
        return $sizes
    }
}

AfterAll {
    if ($script:Lab) {
        Set-LabSlowness 0 | Out-Null
        foreach ($vmh in $script:LabHosts) { Write-HostFile $vmh $Log $SavedLogs[$vmh.Name] }
        Get-EsxiShell | Disconnect-EsxiShell -Confirm:$false
    }
}

Describe 'Stop means stop' -Tag Lab {
    AfterEach { Set-LabSlowness 0 | Out-Null }

    It '-ErrorAction Stop on the first host''s error: Clear-VmkfstoolsWrapperLog truncates no log after it, and names the hosts not touched' {
        $sizes = Set-KnownLogs
        $names = @('no-such-host.example') + @($LabHosts.Name)
        $w = $null
        $thrown = $null
        try { Clear-VmkfstoolsWrapperLog -VMHost $names -ThrottleLimit 1 -Confirm:$false -ErrorAction Stop -WarningVariable w -WarningAction SilentlyContinue }
        catch { $thrown = $_ }
        $thrown | Should -Not -BeNullOrEmpty
        $thrown.FullyQualifiedErrorId | Should -Be 'EsxiShellNotConnected,MtvRemediation.Commands.ClearVmkfstoolsWrapperLogCommand'
        $thrown.TargetObject | Should -Be 'no-such-host.example'
        foreach ($h in $LabHosts) { Get-HostFileSize $h $Log | Should -Be $sizes[$h.Name] -Because "$($h.Name) comes after the stop" }
        "$w" | Should -Match ([regex]::Escape("Not touched ($($LabHosts.Count)): $($LabHosts.Name -join ', ')."))
    }

    It 'Select-Object -First 1: the first host''s log is truncated, the hosts after it are not' {
        $sizes = Set-KnownLogs
        $r = @(Clear-VmkfstoolsWrapperLog -VMHost $LabHosts.Name -ThrottleLimit 1 -Confirm:$false | Select-Object -First 1)
        $r.Count | Should -Be 1
        $r[0].VMHost | Should -Be $LabHosts[0].Name
        Get-HostFileSize $LabHosts[0] $Log | Should -Be 0
        foreach ($h in $LabHosts | Select-Object -Skip 1) { Get-HostFileSize $h $Log | Should -Be $sizes[$h.Name] -Because "$($h.Name) comes after Select-Object -First 1" }
    }

    It 'Select-Object -First 1 with all hosts running at once: the slow hosts are cancelled at once, before they truncate' {
        $sizes = Set-KnownLogs
        foreach ($h in $LabHosts | Select-Object -Skip 1) { Set-LabSlowness 5000 -HostName $h.Name | Out-Null }
        $sw = [Diagnostics.Stopwatch]::StartNew()
        $r = @(Clear-VmkfstoolsWrapperLog -VMHost $LabHosts.Name -Confirm:$false -WarningAction SilentlyContinue | Select-Object -First 1)
        $sw.Stop()
        $r.Count | Should -Be 1
        $r[0].VMHost | Should -Be $LabHosts[0].Name
        # The slow hosts' space check sleeps 5 s per stub call before any truncation: a stop that waited for them would take that long.
        $sw.Elapsed.TotalSeconds | Should -BeLessThan 4
        # Cancelled means their remote work ended too (the channel's hang-up guard): no space check
        # is left running that could go on to truncate later. Checked before the sizes, so a
        # truncation that would follow an uncancelled check cannot be missed.
        $slow = @($LabHosts | Select-Object -Skip 1)
        $deadline = [DateTime]::UtcNow.AddSeconds(10)
        while (@(Get-RemoteWork $slow '@@logkind').Count -gt 0 -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 100 }
        @(Get-RemoteWork $slow '@@logkind') | Should -BeNullOrEmpty -Because 'the cancelled hosts'' space checks must end with the pipeline'
        ([DateTime]::UtcNow - $deadline).TotalSeconds | Should -BeLessThan -5 -Because 'they end within seconds of the stop, long before a 5 s stub call chain would'
        foreach ($h in $slow) { Get-HostFileSize $h $Log | Should -Be $sizes[$h.Name] -Because "$($h.Name) was still checking space when the pipeline stopped" }
        # The cancelled sessions are still usable.
        Set-LabSlowness 0 | Out-Null
        (Test-VmkfstoolsLogSpace -VMHost $LabHosts.Name).Count | Should -Be $LabHosts.Count
    }
}

Describe 'Live results and progress' -Tag Lab {
    AfterEach { Set-LabSlowness 0 | Out-Null }

    It 'with one slow host among three, each result is written as its host finishes, and the bar counts what is done and names the pending host' {
        $slow = $LabHosts[1]
        Set-LabSlowness 3000 -HostName $slow.Name | Out-Null
        # A runspace of its own, so the test can read its output and progress while it runs.
        $ps = [powershell]::Create()
        $null = $ps.AddScript({
                param($ModulePath, $Hosts, $KnownHosts)
                Import-Module $ModulePath
                $Hosts | ForEach-Object { [pscustomobject]@{ VMHost = $_.Name; Address = $_.Address; Port = $_.Port } } |
                    Connect-EsxiShell -Credential $Hosts[0].Credential -KnownHostsPath $KnownHosts | Out-Null
                Get-EsxiShell | Test-VmkfstoolsLogSpace
            }).AddArgument($ManifestPath).AddArgument($LabHosts).AddArgument($Lab.KnownHostsPath)
        $events = Watch-PowerShellStreams $ps -NameProperty VMHost -NameAs Host

        $outputs = @($events | Where-Object Kind -EQ 'Output')
        $outputs.Count | Should -Be 3
        $outputs[-1].Host | Should -Be $slow.Name -Because 'the slow host finishes last'
        $fast = @($outputs | Select-Object -First 2)
        # Written as they finish: the fast hosts' rows are out while the slow one still sleeps.
        ($outputs[-1].T - ($fast | Measure-Object T -Maximum).Maximum) | Should -BeGreaterThan 2

        $check = @($events | Where-Object { $_.Kind -eq 'Processing' -and $_.Activity -eq 'Checking vmkfstools-wrapper log space' })
        $check[0].Status | Should -Be '0 of 3 done' -Because 'the bar shows before any host finishes'
        $check[0].T | Should -BeLessThan $fast[0].T
        $two = @($check | Where-Object Status -EQ '2 of 3 done')
        $two.Count | Should -BeGreaterThan 0
        $two[0].Current | Should -Match ([regex]::Escape("Waiting for $($slow.Name)"))
        $two[0].T | Should -BeLessThan $outputs[-1].T
        # Refreshed while nothing arrives, so the console shows the real count during the wait.
        @($two | Where-Object T -LT ($outputs[-1].T - 0.5)).Count | Should -BeGreaterThan 1
        $check[-1].Status | Should -Be '3 of 3 done'

        $connect = @($events | Where-Object { $_.Kind -eq 'Processing' -and $_.Activity -eq 'Connecting to ESXi shells' })
        $connect.Status | Should -Contain '0 of 3 done'
        $connect.Status | Should -Contain '3 of 3 done'
    }
}
