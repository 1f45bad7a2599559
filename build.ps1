#Requires -Version 7.2
<#
.SYNOPSIS
    Builds, tests, demos, benchmarks and packages MtvRemediation.

.DESCRIPTION
    Run through the pinned PowerShell tool: dotnet tool restore; dotnet pwsh ./build.ps1 <Task>

    Build    publish the module to out/MtvRemediation/<version>/ (dll, dependencies, psd1, formats, help)
    Test     Build, run the test layers (-Layer; all by default), starting the lab only for the
             layers that need it, stop the lab; prints 'N passed, N failed, N skipped' per layer and in total
               Unit    xunit tests that need neither the lab nor root
               Lab     xunit tests that need the lab or root (trait Layer=Lab); no lab fails them
               Pester  the Pester suite against the lab (-Tag filters it)
    Lab      -Start | -Stop | (status, the default)
    Demo     Build, start the lab, run the scripted remediation, stop the lab
    Bench    Build, start the lab, run tests/bench, stop the lab
    Package  Build, then write out/package/MtvRemediation.<version>.nupkg (local repository ready)
    Mutation dotnet-stryker over the code that decides what is quoted, truncated, deleted or
             power-cycled (tests/MtvRemediation.Tests/stryker-config.json; -Mutate narrows it to
             some files), with the Unit layer's xunit tests; prints the score per file and in total.
             Slow: not part of Test or CI

.EXAMPLE
    dotnet pwsh ./build.ps1 Test
.EXAMPLE
    dotnet pwsh ./build.ps1 Test -Layer Unit
#>
[CmdletBinding()]
param(
    [Parameter(Position = 0)]
    [ValidateSet('Build', 'Test', 'Lab', 'Demo', 'Bench', 'Package', 'Mutation')]
    [string[]] $Task = @('Build'),

    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release',

    # Lab task: start or stop the lab (neither: print its status).
    [switch] $Start,
    [switch] $Stop,

    # Number of simulated ESXi hosts for Lab -Start, Test, Demo and Bench.
    [int] $LabHosts = 0,

    # Test task: run only these test layers (Unit needs no lab; Lab and Pester start it).
    [ValidateSet('Unit', 'Lab', 'Pester')]
    [string[]] $Layer = @('Unit', 'Lab', 'Pester'),

    # Test task: Pester tag filter, e.g. -Tag Smoke.
    [string[]] $Tag,

    # Test task: leave the lab running afterwards (faster reruns while developing).
    [switch] $KeepLab,

    # Mutation task: mutate only these files (globs such as '**/Esxi/ShellQuote.cs') instead of the config's list.
    [string[]] $Mutate
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$RepoRoot = $PSScriptRoot
$Manifest = Import-PowerShellDataFile (Join-Path $RepoRoot 'MtvRemediation.psd1')
$Version = $Manifest.ModuleVersion
$OutRoot = Join-Path $RepoRoot 'out'
$ModuleOut = Join-Path $OutRoot "MtvRemediation/$Version"
$LabScript = Join-Path $RepoRoot 'tests/lab/lab.sh'

# The pinned PowerShell runs as 'dotnet pwsh.dll': child processes must be started the same way.
$PwshExe = (Get-Process -Id $PID).Path
$PwshArgs = @()
if ([System.IO.Path]::GetFileNameWithoutExtension($PwshExe) -eq 'dotnet') { $PwshArgs = @((Join-Path $PSHOME 'pwsh.dll')) }

function Write-Step([string] $Text) { Write-Host "==> $Text" -ForegroundColor Cyan }

function Invoke-Native {
    param([string] $File, [string[]] $Arguments)
    & $File @Arguments
    if ($LASTEXITCODE -ne 0) { throw "$File $($Arguments -join ' ') failed with exit code $LASTEXITCODE" }
}

function Get-LabHostCount {
    if ($LabHosts -gt 0) { return $LabHosts }
    if ($env:MTVLAB_HOSTS) { return [int]$env:MTVLAB_HOSTS }
    return 0   # lab default
}

function Invoke-Build {
    Write-Step "Build $Version ($Configuration)"
    if (Test-Path $ModuleOut) { Remove-Item $ModuleOut -Recurse -Force }
    Invoke-Native dotnet @('publish', (Join-Path $RepoRoot 'src/MtvRemediation/MtvRemediation.csproj'),
        '-c', $Configuration, '-o', $ModuleOut, '--nologo', '-v', 'quiet')
    Get-ChildItem $ModuleOut -Filter '*.deps.json' | Remove-Item
    # Dependencies go where PowerShell does not probe; ModuleLifetime loads them in an isolated context.
    $deps = New-Item -ItemType Directory -Force (Join-Path $ModuleOut 'dependencies')
    Get-ChildItem $ModuleOut -File | Where-Object { $_.Extension -in '.dll', '.pdb' -and $_.BaseName -ne 'MtvRemediation' } |
        Move-Item -Destination $deps
    Copy-Item (Join-Path $RepoRoot 'MtvRemediation.psd1') $ModuleOut
    Copy-Item (Join-Path $RepoRoot 'CHANGELOG.md'), (Join-Path $RepoRoot 'LICENSE') $ModuleOut
    $formats = Join-Path $RepoRoot 'src/MtvRemediation/Formats'
    if (Test-Path $formats) {
        New-Item -ItemType Directory -Force (Join-Path $ModuleOut 'Formats') | Out-Null
        Copy-Item (Join-Path $formats '*.Format.ps1xml') (Join-Path $ModuleOut 'Formats')
    }
    $helpOut = Join-Path $ModuleOut 'en-US'
    New-Item -ItemType Directory -Force $helpOut | Out-Null
    Copy-Item (Join-Path $RepoRoot 'en-US/*') $helpOut -ErrorAction SilentlyContinue
    $helpBuilder = Join-Path $RepoRoot 'tools/Build-Help.ps1'
    if (Test-Path $helpBuilder) {
        & $helpBuilder -DocsPath (Join-Path $RepoRoot 'docs/en-US') -ModulePath (Join-Path $ModuleOut 'MtvRemediation.psd1') -OutFile (Join-Path $helpOut 'MtvRemediation.dll-Help.xml')
    }
    Write-Host "Module ready: $ModuleOut"
}

function Invoke-Lab([string] $Action) {
    $labArgs = @($Action)
    $n = Get-LabHostCount
    if ($Action -eq 'start' -and $n -gt 0) { $labArgs += @('--hosts', "$n") }
    Invoke-Native bash (@($LabScript) + $labArgs)
}

function Restore-TestTools {
    Invoke-Native dotnet @('restore', (Join-Path $RepoRoot 'tests/tools/tools.csproj'), '--nologo', '-v', 'quiet')
    $nugetRoot = if ($env:NUGET_PACKAGES) { $env:NUGET_PACKAGES } else { Join-Path ([Environment]::GetFolderPath('UserProfile')) '.nuget/packages' }
    return Join-Path $nugetRoot 'pester/6.2.0/tools/Pester.psd1'
}

$TestProject = Join-Path $RepoRoot 'tests/MtvRemediation.Tests/MtvRemediation.Tests.csproj'

# The xunit test filter of each xunit layer: lab tests carry the trait Layer=Lab (LabTestAttribute).
$XunitFilter = @{ Unit = 'Layer!=Lab'; Lab = 'Layer=Lab' }

function Invoke-XunitTests([string] $LayerName) {
    Write-Step "xunit, $LayerName layer"
    $results = Join-Path $OutRoot 'test-results'
    New-Item -ItemType Directory -Force $results | Out-Null
    $trx = Join-Path $results "$($LayerName.ToLowerInvariant()).trx"
    if (Test-Path $trx) { Remove-Item $trx }
    $discovered = Get-XunitTestCount $XunitFilter[$LayerName]
    & dotnet test $TestProject --no-build --nologo -v quiet --filter $XunitFilter[$LayerName] `
        --logger "trx;LogFileName=$trx" --logger 'console;verbosity=normal' | Out-Host
    $exitCode = $LASTEXITCODE
    if (-not (Test-Path $trx)) {
        Write-Host "${LayerName}: dotnet test wrote no result file (exit code $exitCode)" -ForegroundColor Red
        return [pscustomobject]@{ Passed = 0; Failed = 1; Skipped = 0 }
    }
    return Read-XunitResults $trx $exitCode $discovered $LayerName
}

# The number of test cases discovered for a filter, counted apart from the run: a run whose
# test host crashes writes a .trx whose total is only what ran before the crash.
function Get-XunitTestCount([string] $Filter) {
    $lines = & dotnet test $TestProject --no-build --nologo -v quiet --list-tests --filter $Filter
    if ($LASTEXITCODE -ne 0) { throw "dotnet test --list-tests failed with exit code $LASTEXITCODE" }
    $listing = $false
    $count = 0
    foreach ($line in $lines) {
        if ($line -match '^The following Tests are available:') { $listing = $true }
        elseif ($listing -and $line -match '^\s+\S') { $count++ }
    }
    return $count
}

# Counts from the .trx. The layer fails unless every discovered test ran or was skipped, the run
# completed and dotnet test exited 0: a crashed test host leaves tests unrun and may report no
# failed test at all.
function Read-XunitResults([string] $Trx, [int] $ExitCode, [int] $Discovered, [string] $LayerName) {
    [xml]$doc = Get-Content $Trx -Raw
    $summary = $doc.TestRun.ResultSummary
    $c = $summary.Counters
    # xunit skips show only as results with outcome NotExecuted (the notExecuted counter stays 0).
    $skipped = $doc.SelectNodes("//*[local-name()='UnitTestResult'][@outcome='NotExecuted']").Count
    $failed = [int]$c.failed + [int]$c.error + [int]$c.timeout
    # A theory whose data cannot be serialized is one discovered test with a result per row, so
    # more results than discovered tests are fine; fewer are not.
    $neverRan = $Discovered - [int]$c.executed - $skipped
    if ($Discovered -eq 0) {
        Write-Host "${LayerName}: no tests were discovered" -ForegroundColor Red
        $failed += 1
    }
    if ($neverRan -gt 0) {
        Write-Host ("{0}: {1} of {2} discovered tests never ran (run outcome {3}, dotnet test exit code {4})" -f `
            $LayerName, $neverRan, $Discovered, $summary.outcome, $ExitCode) -ForegroundColor Red
        $failed += $neverRan
    }
    if ($failed -eq 0 -and ($summary.outcome -ne 'Completed' -or $ExitCode -ne 0)) {
        Write-Host ("{0}: run outcome {1}, dotnet test exit code {2}, although no test failed" -f `
            $LayerName, $summary.outcome, $ExitCode) -ForegroundColor Red
        $failed = 1
    }
    return [pscustomobject]@{ Passed = [int]$c.passed; Failed = $failed; Skipped = $skipped }
}

function Invoke-PesterTests {
    Write-Step 'Pester'
    $pester = Restore-TestTools
    # Pester runs in a child pwsh so the module under test loads into a clean process.
    $script = @'
param($PesterPath, $TestsPath, $ResultFile, $Tag)
Import-Module $PesterPath -Force
$cfg = New-PesterConfiguration
# The help example gate runs last: it checks what the suites before it recorded.
$gate = Join-Path $TestsPath 'HelpExamples.Gate.Tests.ps1'
$suites = @(Get-ChildItem $TestsPath -Recurse -Filter *.Tests.ps1 | Where-Object Name -NE (Split-Path $gate -Leaf) | Sort-Object Name | ForEach-Object FullName)
$cfg.Run.Path = $suites + $gate
$cfg.Run.PassThru = $true
$cfg.Output.Verbosity = 'Detailed'
$cfg.TestResult.Enabled = $true
$cfg.TestResult.OutputPath = $ResultFile
if ($Tag) { $cfg.Filter.Tag = $Tag }
# Where Invoke-HelpExample records the examples this run ran (tests/Pester/HelpExample.ps1).
New-Item -ItemType Directory -Force (Split-Path $ResultFile) | Out-Null
$env:MTV_HELP_EXAMPLE_LOG = Join-Path (Split-Path $ResultFile) 'help-examples-run.txt'
Remove-Item -LiteralPath $env:MTV_HELP_EXAMPLE_LOG -ErrorAction SilentlyContinue
# Without a tag filter every suite runs: the gate must then run and pass.
$env:MTV_PESTER_FULL_RUN = if ($Tag) { '' } else { '1' }
$r = Invoke-Pester -Configuration $cfg
$failed = $r.FailedCount + $r.FailedBlocksCount + $r.FailedContainersCount
if ($env:MTV_PESTER_FULL_RUN -eq '1') {
    $gateTests = @($r.Tests | Where-Object { $_.ScriptBlock.File -and (Split-Path $_.ScriptBlock.File -Leaf) -eq (Split-Path $gate -Leaf) })
    if ($gateTests.Count -eq 0 -or @($gateTests | Where-Object Result -NE 'Passed').Count -gt 0) {
        Write-Host 'The help example gate did not pass in the full run (HelpExamples.Gate.Tests.ps1).' -ForegroundColor Red
        if (@($gateTests | Where-Object Result -EQ 'Failed').Count -eq 0) { $failed += 1 }
    }
}
"PESTER-COUNTS $($r.PassedCount) $failed $($r.SkippedCount)"
'@
    $scriptFile = Join-Path $OutRoot 'run-pester.ps1'
    Set-Content $scriptFile $script
    $resultFile = Join-Path $OutRoot 'test-results/pester.xml'
    $tagArg = if ($Tag) { $Tag -join ',' } else { '' }
    $counts = $null
    & $PwshExe @PwshArgs -NoProfile -NonInteractive -File $scriptFile $pester (Join-Path $RepoRoot 'tests/Pester') $resultFile $tagArg | ForEach-Object {
        if ($_ -is [string] -and $_ -match '^PESTER-COUNTS (\d+) (\d+) (\d+)$') { $counts = $Matches } else { $_ }
    } | Out-Host
    if (-not $counts) { return [pscustomobject]@{ Passed = 0; Failed = 1; Skipped = 0 } }
    return [pscustomobject]@{ Passed = [int]$counts[1]; Failed = [int]$counts[2]; Skipped = [int]$counts[3] }
}

function Invoke-Test {
    Invoke-Build
    $env:MTV_MODULE_PATH = Join-Path $ModuleOut 'MtvRemediation.psd1'
    $total = [pscustomobject]@{ Passed = 0; Failed = 0; Skipped = 0 }
    $labStarted = $false
    # The fleet tests connect 24 hosts at once; the lab starts them in seconds.
    if ((Get-LabHostCount) -eq 0) { $script:LabHosts = 24 }
    try {
        if ($Layer -contains 'Unit' -or $Layer -contains 'Lab') {
            Invoke-Native dotnet @('build', $TestProject, '--nologo', '-v', 'quiet')
        }
        foreach ($l in $Layer) {
            if ($l -ne 'Unit' -and -not $labStarted) {
                Invoke-Lab 'start'
                $labStarted = $true
                # This run started the lab: a lab test that cannot use it fails instead of skipping.
                $env:MTV_LAB_REQUIRED = '1'
            }
            $r = if ($l -eq 'Pester') { Invoke-PesterTests } else { Invoke-XunitTests $l }
            Write-Host ("{0}: {1} passed, {2} failed, {3} skipped" -f $l, $r.Passed, $r.Failed, $r.Skipped)
            $total.Passed += $r.Passed; $total.Failed += $r.Failed; $total.Skipped += $r.Skipped
        }
    }
    catch {
        Write-Host "Test run aborted: $_" -ForegroundColor Red
        $total.Failed += 1
    }
    finally {
        if ($labStarted -and -not $KeepLab) { Invoke-Lab 'stop' }
    }
    Write-Host ''
    Write-Host ("{0} passed, {1} failed, {2} skipped" -f $total.Passed, $total.Failed, $total.Skipped)
    if ($total.Failed -gt 0) { exit 1 }
}

function Invoke-Demo {
    Invoke-Build
    $env:MTV_MODULE_PATH = Join-Path $ModuleOut 'MtvRemediation.psd1'
    try {
        Invoke-Lab 'start'
        Invoke-Native $PwshExe ($PwshArgs + @('-NoProfile', '-NonInteractive', '-File', (Join-Path $RepoRoot 'tests/lab/demo.ps1')))
    }
    finally { Invoke-Lab 'stop' }
}

function Invoke-Bench {
    Invoke-Build
    $env:MTV_MODULE_PATH = Join-Path $ModuleOut 'MtvRemediation.psd1'
    try {
        # 72 hosts: the growth benchmark scans 8, 24 and 72 (the others take the first 24).
        $script:LabHosts = [Math]::Max((Get-LabHostCount), 72)
        Invoke-Lab 'start'
        Invoke-Native $PwshExe ($PwshArgs + @('-NoProfile', '-NonInteractive', '-File', (Join-Path $RepoRoot 'tests/bench/Invoke-Bench.ps1')))
    }
    finally { Invoke-Lab 'stop' }
}

function Invoke-Package {
    Invoke-Build
    $pkgDir = Join-Path $OutRoot 'package'
    New-Item -ItemType Directory -Force $pkgDir | Out-Null
    Get-ChildItem $pkgDir -Filter 'MtvRemediation.*.nupkg' | Remove-Item
    $repoName = 'MtvRemediationBuild'
    if (Get-PSResourceRepository -Name $repoName -ErrorAction SilentlyContinue) { Unregister-PSResourceRepository -Name $repoName }
    Register-PSResourceRepository -Name $repoName -Uri $pkgDir -Trusted
    try { Publish-PSResource -Path $ModuleOut -Repository $repoName }
    finally { Unregister-PSResourceRepository -Name $repoName }
    Get-ChildItem $pkgDir -Filter '*.nupkg' | ForEach-Object { Write-Host "Package: $($_.FullName)" }
}

function Invoke-Mutation {
    Write-Step 'Mutation testing (dotnet-stryker; Unit layer tests)'
    # Installed here, on demand, not in the tool manifest: the README's commands (and CI) restore
    # only what every run needs.
    $toolDir = Join-Path $OutRoot 'tools'
    $stryker = Join-Path $toolDir 'dotnet-stryker'
    if (-not (Test-Path $stryker)) { Invoke-Native dotnet @('tool', 'install', 'dotnet-stryker', '--version', '5.1.0', '--tool-path', $toolDir) }
    $outDir = Join-Path $OutRoot 'mutation'
    if (Test-Path $outDir) { Remove-Item -Recurse -Force $outDir }
    $arguments = @('--output', $outDir)
    foreach ($m in $Mutate) { $arguments += @('--mutate', $m) }
    # Stryker exits non-zero below the config's break threshold: print the scores first, then fail.
    Push-Location (Split-Path $TestProject)
    try { & $stryker @arguments; $exitCode = $LASTEXITCODE }
    finally { Pop-Location }
    $report = Join-Path $outDir 'reports/mutation-report.json'
    if (-not (Test-Path $report)) { throw "dotnet-stryker wrote no report (exit code $exitCode)" }
    Write-MutationScores (Get-Content -Raw $report | ConvertFrom-Json -AsHashtable)
    if ($exitCode -ne 0) { throw "dotnet-stryker failed with exit code $exitCode (score below the break threshold?)" }
}

# Score = killed (and timed out) / (those + survived + not covered); compile errors and ignored mutants do not count.
function Write-MutationScores($Report) {
    $rows = foreach ($file in $Report.files.Keys | Sort-Object) {
        $statuses = @($Report.files[$file].mutants | ForEach-Object { $_.status })
        $detected = @($statuses | Where-Object { $_ -in 'Killed', 'Timeout' }).Count
        $missed = @($statuses | Where-Object { $_ -in 'Survived', 'NoCoverage' }).Count
        if ($detected + $missed -eq 0) { continue }
        [pscustomobject]@{
            File = [System.IO.Path]::GetRelativePath($RepoRoot, $file); Killed = $detected; Survived = $missed
            Score = [Math]::Round(100.0 * $detected / ($detected + $missed), 1)
        }
    }
    $rows | Format-Table -AutoSize | Out-String | Write-Host
    $killed = ($rows | Measure-Object Killed -Sum).Sum
    $total = $killed + ($rows | Measure-Object Survived -Sum).Sum
    if ($total -gt 0) { Write-Host ("Mutation score: {0:N1}% ({1} of {2} mutants killed)" -f (100.0 * $killed / $total), $killed, $total) }
}

foreach ($t in $Task) {
    switch ($t) {
        'Build' { Invoke-Build }
        'Test' { Invoke-Test }
        'Lab' {
            if ($Start) { Invoke-Lab 'start' } elseif ($Stop) { Invoke-Lab 'stop' } else { Invoke-Lab 'status' }
        }
        'Demo' { Invoke-Demo }
        'Bench' { Invoke-Bench }
        'Package' { Invoke-Package }
        'Mutation' { Invoke-Mutation }
    }
}
