# Help examples of the session and vSphere cmdlets run as written against the lab (HelpExample.ps1).
# The host cmdlets, the diagnosis cmdlets and Invoke-MtvRemediation run theirs in their own suites
# (HostRemediation, Diagnosis, Runbook); HelpExamples.Gate.Tests.ps1 checks that every exported
# cmdlet's example ran.

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
    . (Join-Path $PSScriptRoot 'HelpExample.ps1')
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
}

Describe 'Help example of <Cmdlet> runs against the lab' -Tag Lab, Gate -ForEach $Cases {
    It "runs '<Title>' as written" {
        $example = Get-HelpExample -Cmdlet $Cmdlet -Title $Title
        $before = if ($Before) { & $Before }
        Push-Location $RepoRoot
        try {
            $ErrorActionPreference = 'Stop'
            $out = @(Invoke-HelpExample $example)
        }
        finally { Pop-Location }
        & $Check $out $before
    }
}
