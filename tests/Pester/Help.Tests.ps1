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

Describe 'Help of the optional common parameters' -Tag Gate {
    It 'describes -WhatIf and -Confirm where a cmdlet has them' {
        foreach ($c in Get-Command -Module MtvRemediation -CommandType Cmdlet | Where-Object { $_.Parameters.ContainsKey('WhatIf') }) {
            foreach ($n in 'WhatIf', 'Confirm') {
                $ph = (Get-Help $c.Name -Parameter $n)
                ($ph.Description.Text -join '') | Should -Not -BeNullOrEmpty -Because "$($c.Name) -$n"
            }
        }
    }
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

    It 'SYNTAX lists every parameter of every parameter set, [-WhatIf] [-Confirm] included' {
        $items = @($help.Syntax.SyntaxItem)
        $items.Count | Should -Be @($command.ParameterSets).Count
        $text = ($help.Syntax | Out-String -Width 4000)
        foreach ($set in $command.ParameterSets) {
            $names = @($set.Parameters.Name | Where-Object { $_ -notin [System.Management.Automation.PSCmdlet]::CommonParameters })
            $match = $items | Where-Object { $listed = @($_.Parameter.Name); @($names | Where-Object { $_ -notin $listed }).Count -eq 0 -and $listed.Count -eq $names.Count }
            $match | Should -Not -BeNullOrEmpty -Because "parameter set '$($set.Name)' of $Name needs a syntax line with $($names -join ', ')"
        }
        if ($command.Parameters.ContainsKey('WhatIf')) {
            $text | Should -Match '\[-WhatIf\]'
            $text | Should -Match '\[-Confirm\]'
        }
        else { $text | Should -Not -Match '-WhatIf' }
    }

    It 'fills in every default value the cmdlet has' {
        # A fresh instance holds each property's initial value: that is the default a user gets.
        $instance = [Activator]::CreateInstance($command.ImplementingType)
        foreach ($p in $command.Parameters.Values | Where-Object { $_.Name -notin $Common }) {
            $v = $instance.($p.Name)
            $shown = @($help.Parameters.Parameter | Where-Object Name -EQ $p.Name)[0].DefaultValue
            if ($v -is [switch]) { $shown | Should -Be 'False' -Because "-$($p.Name) is a switch"; continue }
            $none = $null -eq $v -or ($v -is [string] -and $v -eq '') -or ($v -is [array] -and $v.Count -eq 0) -or $v -is [pscredential] -or $v -is [securestring]
            if ($none) { $shown | Should -Be 'None' -Because "-$($p.Name) has no default"; continue }
            $expected = if ($v -is [array]) { $v -join ', ' } else { [string]$v }
            $shown | Should -Be $expected -Because "-$($p.Name) defaults to $expected"
        }
    }

    It 'links to its online help' {
        $links = @($help.relatedLinks.navigationLink)
        $links[0].uri | Should -Match '^https://.+/docs/en-US/' -Because 'Get-Help -Online opens the first link'
        $links[0].uri | Should -BeLike "*/$Name.md"
        (Get-Command $Name).HelpUri | Should -Be $links[0].uri
    }

    It 'shows a production-style example first, the lab examples after' {
        $first = @($help.Examples.Example)[0].Code
        $first | Should -Match 'example\.com|\besx\d+\b' -Because 'the first example uses names like vcenter.example.com or esx01'
        $first | Should -Not -Match 'Get-MtvLab|Lab\.psm1|lab\.json|\$lab\b|\bDC0_|127\.0\.0\.1' -Because 'lab examples come after'
    }
}

Describe 'About topic' -Tag Gate {
    It 'exists' {
        Get-Help about_MtvRemediation | Should -Not -BeNullOrEmpty
    }
}
