# Gate: an example of every exported cmdlet ran in this Pester run. The suites run examples through
# Invoke-HelpExample (HelpExample.ps1), which records each one that ran to its end; build.ps1 Test
# runs this file after every other suite and fails the run unless this test passed. A run of some
# suites only (one file, a tag filter) cannot answer the question: the test is skipped there.

BeforeAll {
    $manifest = if ($env:MTV_MODULE_PATH) { $env:MTV_MODULE_PATH } else { Join-Path $PSScriptRoot '../../out/MtvRemediation/0.1.0/MtvRemediation.psd1' }
    Import-Module $manifest -Force
}

Describe 'Every exported cmdlet has a help example run by a test' -Tag Gate {
    It 'an example of each ran in this Pester run' {
        if ($env:MTV_PESTER_FULL_RUN -ne '1') {
            Set-ItResult -Skipped -Because 'only the full Pester run of build.ps1 Test runs every suite; this run may not have'
            return
        }
        $env:MTV_HELP_EXAMPLE_LOG | Should -Not -BeNullOrEmpty -Because 'build.ps1 names the file the suites record their example runs in'
        # One line per example run: cmdlet, tab, title.
        $ran = if (Test-Path -LiteralPath $env:MTV_HELP_EXAMPLE_LOG) { @(Get-Content -LiteralPath $env:MTV_HELP_EXAMPLE_LOG | ForEach-Object { ($_ -split "`t")[0] }) } else { @() }
        $missing = @((Get-Command -Module MtvRemediation -CommandType Cmdlet).Name | Where-Object { $_ -notin $ran } | Sort-Object)
        $missing | Should -BeNullOrEmpty -Because 'each exported cmdlet needs a help example that a suite runs through Invoke-HelpExample'
    }
}
