# The one table of error ids (src/MtvRemediation/Infrastructure/ErrorIds.cs) is what users read in
# about_MtvRemediation, and what the code raises: no id in the code that the topic does not list,
# none in the topic that the code does not have.

BeforeDiscovery {
    $manifestPath = if ($env:MTV_MODULE_PATH) { $env:MTV_MODULE_PATH } else { Join-Path $PSScriptRoot '../../out/MtvRemediation/0.1.0/MtvRemediation.psd1' }
    Import-Module $manifestPath -Force
    $TableIds = @([MtvRemediation.Infrastructure.ErrorIds]::All() | Where-Object { $_ -ne 'VIFault.' })
}

BeforeAll {
    $manifestPath = if ($env:MTV_MODULE_PATH) { $env:MTV_MODULE_PATH } else { Join-Path $PSScriptRoot '../../out/MtvRemediation/0.1.0/MtvRemediation.psd1' }
    Import-Module $manifestPath -Force
    $moduleDir = Split-Path (Resolve-Path $manifestPath) -Parent
    $script:Topic = Get-Content -Raw (Join-Path $moduleDir 'en-US/about_MtvRemediation.help.txt')
    $script:Ids = @([MtvRemediation.Infrastructure.ErrorIds]::All())
    $start = $Topic.IndexOf("`nERROR IDS")
    $end = $Topic.IndexOf("`nEXAMPLES", $start)
    $script:Section = $Topic.Substring($start, $end - $start)
    $script:SourceRoot = Join-Path $PSScriptRoot '../../src/MtvRemediation'
}

Describe 'Error id table' {
    It 'has ids, each once' {
        $Ids.Count | Should -BeGreaterThan 50
        ($Ids | Sort-Object -Unique).Count | Should -Be $Ids.Count
    }

    It 'about_MtvRemediation lists <_>' -ForEach $TableIds {
        $Section | Should -Match "(?<![A-Za-z])$([regex]::Escape($_))(?![A-Za-z])"
    }

    It 'lists no id the code does not have' {
        $listed = [regex]::Matches(($Section -split "`n" | Where-Object { $_ -match '^ {8}\S' }) -join "`n", '[A-Za-z.<>]+') | ForEach-Object Value
        # The lines above are the indented id lists: if the topic's layout changed they would be
        # empty and this test would prove nothing, so every id of the code must have been read here.
        $plain = @($Ids | Where-Object { $_ -ne 'VIFault.' })
        @($listed | Where-Object { $plain -contains $_ } | Sort-Object -Unique).Count | Should -Be $plain.Count
        foreach ($id in $listed) {
            if ($id -eq 'VIFault.<fault>') { continue }
            $Ids | Should -Contain $id
        }
    }

    It 'the unreachable host has one id in the code, raised by the shell layer and kept by every cmdlet' {
        $src = Get-ChildItem $SourceRoot -Recurse -Filter *.cs | Get-Content -Raw
        ($src -join "`n") | Should -Not -Match '"(VMHostUnreachable|RunbookHostUnreachable)"'
    }
}
