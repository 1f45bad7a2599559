# Manifest integrity gate: what the manifest promises is what the module has, and it imports fast.
BeforeDiscovery {
    $script:ManifestPath = if ($env:MTV_MODULE_PATH) { $env:MTV_MODULE_PATH } else { Join-Path $PSScriptRoot '../../out/MtvRemediation/0.1.0/MtvRemediation.psd1' }
    $script:Manifest = Import-PowerShellDataFile $ManifestPath
    $script:Exported = @($Manifest.CmdletsToExport | ForEach-Object { @{ Name = $_ } })
}

BeforeAll {
    $ManifestPath = if ($env:MTV_MODULE_PATH) { $env:MTV_MODULE_PATH } else { Join-Path $PSScriptRoot '../../out/MtvRemediation/0.1.0/MtvRemediation.psd1' }
    $ModuleDir = Split-Path $ManifestPath
    $Manifest = Import-PowerShellDataFile $ManifestPath
    Import-Module $ManifestPath -Force
    $Module = Get-Module MtvRemediation
}

Describe 'Module manifest' -Tag Gate {
    It 'passes Test-ModuleManifest' {
        { Test-ModuleManifest $ManifestPath -ErrorAction Stop } | Should -Not -Throw
    }

    It 'the source manifest passes Test-ModuleManifest too (built checkout)' {
        # Formats and MtvRemediation.dll at the top of the repository link to the sources and the Release build.
        $source = Join-Path $PSScriptRoot '../../MtvRemediation.psd1'
        { Test-ModuleManifest $source -ErrorAction Stop } | Should -Not -Throw
    }

    It 'ships its license and the changelog its release notes point at' {
        Join-Path $ModuleDir 'LICENSE' | Should -Exist
        Join-Path $ModuleDir 'CHANGELOG.md' | Should -Exist
        $Manifest.PrivateData.PSData.ReleaseNotes | Should -Match 'CHANGELOG\.md'
        (Get-Content (Join-Path $ModuleDir 'LICENSE') -TotalCount 1) | Should -Be 'MIT License'
        $Manifest.PrivateData.PSData.LicenseUri | Should -Match 'MIT'
    }

    It 'declares both editions, PowerShell 5.1 and the binary root module' {
        $Manifest.CompatiblePSEditions | Should -Be @('Desktop', 'Core')
        $Manifest.PowerShellVersion | Should -Be '5.1'
        $Manifest.RootModule | Should -Be 'MtvRemediation.dll'
        $Manifest.GUID | Should -Not -BeNullOrEmpty
        $Manifest.Description | Should -Not -BeNullOrEmpty
        $Manifest.PrivateData.PSData.Tags | Should -Not -BeNullOrEmpty
        $Manifest.PrivateData.PSData.LicenseUri | Should -Not -BeNullOrEmpty
        $Manifest.PrivateData.PSData.ProjectUri | Should -Not -BeNullOrEmpty
    }

    It 'lists cmdlets explicitly, without wildcards' {
        foreach ($key in 'CmdletsToExport', 'FunctionsToExport', 'AliasesToExport', 'VariablesToExport') {
            @($Manifest[$key]) -join ',' | Should -Not -Match '\*' -Because "$key must be explicit"
        }
    }

    It 'has every listed file (root module, formats, help)' {
        Join-Path $ModuleDir $Manifest.RootModule | Should -Exist
        foreach ($f in @($Manifest.FormatsToProcess)) { Join-Path $ModuleDir $f | Should -Exist }
        Join-Path $ModuleDir 'en-US/MtvRemediation.dll-Help.xml' | Should -Exist
        Join-Path $ModuleDir 'en-US/about_MtvRemediation.help.txt' | Should -Exist
    }

    It 'exports exactly the cmdlets the assembly defines' {
        $defined = $Module.ImplementingAssembly.GetTypes() |
            Where-Object { -not $_.IsAbstract -and $_.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $false) } |
            ForEach-Object { $a = $_.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $false)[0]; "$($a.VerbName)-$($a.NounName)" }
        @($Manifest.CmdletsToExport | Sort-Object) | Should -Be @($defined | Sort-Object)
    }

    It 'exports <Name>' -ForEach $Exported {
        Get-Command -Module MtvRemediation -Name $Name -CommandType Cmdlet | Should -Not -BeNullOrEmpty
    }

    It 'uses approved verbs only' {
        $approved = (Get-Verb).Verb
        foreach ($c in (Get-Command -Module MtvRemediation)) { $c.Verb | Should -BeIn $approved -Because $c.Name }
    }

    It 'loads every format file without errors' {
        foreach ($f in @($Manifest.FormatsToProcess)) {
            { Update-FormatData -PrependPath (Join-Path $ModuleDir $f) -ErrorAction Stop } | Should -Not -Throw
        }
    }

    It 'imports in a fresh process in well under a second' {
        $exe = (Get-Process -Id $PID).Path
        $pre = @(); if ([IO.Path]::GetFileNameWithoutExtension($exe) -eq 'dotnet') { $pre = @((Join-Path $PSHOME 'pwsh.dll')) }
        $script = "`$sw=[Diagnostics.Stopwatch]::StartNew(); Import-Module '$ManifestPath'; `$sw.Elapsed.TotalMilliseconds"
        $ms = [double](& $exe @pre -NoProfile -NonInteractive -Command $script | Select-Object -Last 1)
        $ms | Should -BeLessThan 1000
    }
}
