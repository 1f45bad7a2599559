# Help examples as the suites run them. Dot-source this file; get an example with Get-HelpExample
# and run it with Invoke-HelpExample. The code comes from the shipped help (Get-Help), not from the
# markdown, so what users read is what is run.
#
# Every example that runs to its end is recorded (cmdlet and title, one tab-separated line) in the
# file named by MTV_HELP_EXAMPLE_LOG, which build.ps1 sets for its Pester run (in the test results
# directory). HelpExamples.Gate.Tests.ps1, run last, fails when an exported cmdlet has no recorded
# example. Outside build.ps1 nothing is recorded.

# One example of a cmdlet's shipped help: the first whose title contains $Title. -WithoutFormat
# drops a trailing '| Format-*' so the caller checks the objects, not their rendering.
function Get-HelpExample {
    param(
        [Parameter(Mandatory)] [string] $Cmdlet,
        [Parameter(Mandatory)] [string] $Title,
        [switch] $WithoutFormat
    )
    $ex = @((Get-Help $Cmdlet -Full).Examples.Example | Where-Object { $_.Title -like "*$Title*" })
    if ($ex.Count -eq 0) { throw "No example titled '$Title' in the help of $Cmdlet." }
    # Strip the prompts: each 'PS> ' line is one statement.
    $code = (($ex[0].Code -split "`n") | ForEach-Object { $_ -replace '^\s*PS>\s?', '' }) -join "`n"
    if ($WithoutFormat) { $code = $code -replace '\|\s*Format-\w+.*$', '' }
    # The title as the help shows it, without the '---- Example N: ... ----' frame.
    $shortTitle = ($ex[0].Title -replace '^[-\s]*', '' -replace '[-\s]*$', '')
    return [pscustomobject]@{ Cmdlet = $Cmdlet; Title = $shortTitle; Code = $code.Trim() }
}

# Runs an example from Get-HelpExample in the caller's current location and preferences; its
# output and streams pass through. Recorded only when it ran to its end without a terminating error.
function Invoke-HelpExample {
    param([Parameter(Mandatory)] [pscustomobject] $Example)
    # Dot-sourced: the example's statements share one scope, like a user typing them one by one.
    . ([scriptblock]::Create($Example.Code))
    if ($env:MTV_HELP_EXAMPLE_LOG) {
        Add-Content -LiteralPath $env:MTV_HELP_EXAMPLE_LOG -Value "$($Example.Cmdlet)`t$($Example.Title)"
    }
}
