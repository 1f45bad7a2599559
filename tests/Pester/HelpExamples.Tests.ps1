# Help examples gate: an example of every cmdlet runs as written against the lab.
# The code comes from the shipped help (Get-Help), not from the markdown, so what users read is
# what is run. Host cmdlets, Find-MtvCloneFailure and Invoke-MtvRemediation run theirs in their own
# suites (HostRemediation, Diagnosis, Runbook); this file covers the session and vSphere cmdlets
# and checks that every exported cmdlet is covered somewhere.

BeforeDiscovery {
    # Cmdlet -> example title (a lab example), in the order a user would run them.
    $script:Cases = @(
        @{ Cmdlet = 'Connect-EsxiShell'; Title = 'Connect all hosts of the test lab'; Check = { param($out) $out.Count | Should -BeGreaterThan 0; $out.IsConnected | Should -Not -Contain $false } }
        @{ Cmdlet = 'Get-EsxiShell'; Title = 'List all sessions'; Check = { param($out) $out.Count | Should -BeGreaterThan 0 } }
        @{ Cmdlet = 'Connect-MtvVIServer'; Title = "Log in to the lab's vCenter simulator"; Check = { param($out) $out[-1].IsConnected | Should -BeTrue } }
        @{ Cmdlet = 'Get-MtvVIServer'; Title = 'Show the connections'; Check = { param($out) $out.Count | Should -BeGreaterThan 0 } }
        @{ Cmdlet = 'Get-VMChangeTracking'; Title = 'CBT state of the lab VMs'; Check = { param($out) $out.Count | Should -BeGreaterThan 0; $out.VM | Should -BeLike 'DC0_H0_VM*' } }
        # -WhatIf changes nothing: power, CBT, the disks' ctk keys and the boot time (a real reset
        # restores the power state, but powers the VM off and on: bootTime moves) read from vCenter.
        @{ Cmdlet = 'Reset-VMChangeTracking'; Title = 'Preview a reset in the lab'; Before = { Get-LabVMFootprint 'DC0_H0_VM0' }
           Check = { param($out, $before) (Get-LabVMFootprint 'DC0_H0_VM0') | Should -Be $before -Because '-WhatIf changes nothing' } }
        @{ Cmdlet = 'Disconnect-MtvVIServer'; Title = 'Close every connection of the session'; Check = { param($out) @(Get-MtvVIServer).Count | Should -Be 0 } }
        @{ Cmdlet = 'Disconnect-EsxiShell'; Title = 'Close all sessions'; Check = { param($out) @(Get-EsxiShell).Count | Should -Be 0 } }
    )
}

BeforeAll {
    $manifest = if ($env:MTV_MODULE_PATH) { $env:MTV_MODULE_PATH } else { Join-Path $PSScriptRoot '../../out/MtvRemediation/0.1.0/MtvRemediation.psd1' }
    Import-Module $manifest -Force
    $RepoRoot = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path

    . (Join-Path $PSScriptRoot 'PowerCliFixture.ps1')
    Import-Module (Join-Path $PSScriptRoot '../lab/Lab.psm1') -Force

    # What vCenter holds of a VM that a reset would change, as one comparable line.
    function Get-LabVMFootprint([string] $Name) {
        $lab = Get-MtvLab
        $vm = $lab.vcsim.vms | Where-Object name -EQ $Name | Select-Object -First 1
        $session = New-VcsimSoapSession -Lab $lab
        try {
            $p = Get-VcsimProperty $session 'VirtualMachine' $vm.moref 'runtime.powerState', 'runtime.bootTime', 'config.changeTrackingEnabled', 'config.extraConfig'
            $ctk = @($p['config.extraConfig'].OptionValue | Where-Object { $_ -and $_.key -like '*ctkEnabled' } | ForEach-Object { "$($_.key)=$($_.value.'#text')" }) -join ','
            "power=$($p['runtime.powerState'].'#text') boot=$($p['runtime.bootTime'].'#text') cbt=$($p['config.changeTrackingEnabled'].'#text') ctk=$ctk"
        }
        finally { Remove-VcsimSoapSession $session }
    }

    function Get-ExampleCode([string] $Cmdlet, [string] $Title) {
        $ex = @((Get-Help $Cmdlet -Full).Examples.Example) | Where-Object { $_.Title -like "*$Title*" } | Select-Object -First 1
        if (-not $ex) { throw "No example titled '$Title' in the help of $Cmdlet." }
        # Strip the prompts: each 'PS> ' line is one statement.
        return (($ex.Code -split "`n") | ForEach-Object { $_ -replace '^\s*PS>\s?', '' }) -join "`n"
    }
}

Describe 'Help example of <Cmdlet> runs against the lab' -Tag Lab, Gate -ForEach $Cases {
    It "runs '<Title>' as written" {
        $code = Get-ExampleCode $Cmdlet $Title
        $before = if ($Before) { & $Before }
        Push-Location $RepoRoot
        try {
            $ErrorActionPreference = 'Stop'
            # Dot-sourced: examples share one scope, like a user typing them one after another.
            $out = @(. ([scriptblock]::Create($code)))
        }
        finally { Pop-Location }
        & $Check $out $before
    }
}

Describe 'Every exported cmdlet has a help example run by a test' -Tag Gate {
    It 'is covered here or in its own suite' {
        $here = 'Connect-EsxiShell', 'Get-EsxiShell', 'Disconnect-EsxiShell', 'Connect-MtvVIServer', 'Get-MtvVIServer',
            'Disconnect-MtvVIServer', 'Get-VMChangeTracking', 'Reset-VMChangeTracking'
        $elsewhere = @{
            'Test-VmkfstoolsLogSpace' = 'HostRemediation'; 'Clear-VmkfstoolsWrapperLog' = 'HostRemediation'
            'Register-LogRotationCron' = 'HostRemediation'; 'Get-LogRotationCron' = 'HostRemediation'
            'Unregister-LogRotationCron' = 'HostRemediation'; 'Restart-EsxiAgents' = 'HostRemediation'
            'Find-MtvCloneFailure' = 'Diagnosis'; 'Invoke-MtvRemediation' = 'Runbook'
            'ConvertFrom-MtvClusterObject' = 'Diagnosis'; 'Get-VmkfstoolsWrapper' = 'Diagnosis'
            'Remove-VmkfstoolsWrapperTaskDirectory' = 'Diagnosis'
        }
        foreach ($c in (Get-Command -Module MtvRemediation -CommandType Cmdlet).Name) {
            ($c -in $here -or $elsewhere.ContainsKey($c)) | Should -BeTrue -Because "$c needs an example that runs against the lab"
            if ($elsewhere.ContainsKey($c)) {
                $suite = Join-Path $PSScriptRoot "$($elsewhere[$c]).Tests.ps1"
                (Get-Content $suite -Raw) | Should -Match ([regex]::Escape($c)) -Because "$($elsewhere[$c]).Tests.ps1 runs $c's example"
            }
        }
    }
}
