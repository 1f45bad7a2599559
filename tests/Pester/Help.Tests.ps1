# Help completeness gate: every exported cmdlet has real help (not the auto-generated stub).
BeforeDiscovery {
    $manifestPath = if ($env:MTV_MODULE_PATH) { $env:MTV_MODULE_PATH } else { Join-Path $PSScriptRoot '../../out/MtvRemediation/0.1.0/MtvRemediation.psd1' }
    $script:Cmdlets = @((Import-PowerShellDataFile $manifestPath).CmdletsToExport | ForEach-Object { @{ Name = $_ } })
}

BeforeAll {
    $manifestPath = if ($env:MTV_MODULE_PATH) { $env:MTV_MODULE_PATH } else { Join-Path $PSScriptRoot '../../out/MtvRemediation/0.1.0/MtvRemediation.psd1' }
    Import-Module $manifestPath -Force
    $Common = [System.Management.Automation.PSCmdlet]::CommonParameters + [System.Management.Automation.PSCmdlet]::OptionalCommonParameters
}

Describe 'Help for <Name>' -Tag Gate -ForEach $Cmdlets {
    BeforeAll {
        $help = Get-Help $Name -Full
        $command = Get-Command $Name
    }

    It 'has a synopsis of its own' {
        $help.Synopsis | Should -Not -BeNullOrEmpty
        # Without MAML, PowerShell fills the synopsis with the syntax line.
        $help.Synopsis | Should -Not -Match ([regex]::Escape("$Name ["))
    }

    It 'has a description' {
        ($help.Description.Text -join '') | Should -Not -BeNullOrEmpty
    }

    It 'has at least one example with code and an explanation' {
        @($help.Examples.Example).Count | Should -BeGreaterThan 0
        foreach ($ex in @($help.Examples.Example)) {
            $ex.Code | Should -Not -BeNullOrEmpty
            ($ex.Remarks.Text -join '') | Should -Not -BeNullOrEmpty
        }
    }

    It 'describes every parameter' {
        $names = $command.Parameters.Keys | Where-Object { $_ -notin $Common }
        foreach ($p in $names) {
            $ph = $help.Parameters.Parameter | Where-Object Name -EQ $p
            $ph | Should -Not -BeNullOrEmpty -Because "-$p must appear in help"
            ($ph.Description.Text -join '') | Should -Not -BeNullOrEmpty -Because "-$p needs a description"
        }
    }

    It 'names its output type' {
        @($help.ReturnValues.ReturnValue).Count | Should -BeGreaterThan 0
    }
}

Describe 'About topic' -Tag Gate {
    It 'exists' {
        Get-Help about_MtvRemediation | Should -Not -BeNullOrEmpty
    }
}
