<#
.SYNOPSIS
    Import-Module MtvRemediation against importing an empty binary module, each in a fresh
    PowerShell process, measured in this same run.

.DESCRIPTION
    The empty module is one compiled cmdlet class (Add-Type -OutputAssembly) behind a manifest like
    ours (RootModule dll, explicit CmdletsToExport). Each sample is a new `pwsh -NoProfile` process
    that times only the Import-Module call with a Stopwatch (process start-up is excluded); runs
    alternate between the two modules so machine load hits both alike. Median of the runs.
#>
[CmdletBinding()]
param([int] $Runs = 7)

$ErrorActionPreference = 'Stop'
$root = Resolve-Path (Join-Path $PSScriptRoot '../..')
. (Join-Path $PSScriptRoot 'BenchHelpers.ps1')
$manifest = Get-BenchManifest $root
$pwsh = (Get-Process -Id $PID).Path
$pwshArgs = @()
if ([IO.Path]::GetFileNameWithoutExtension($pwsh) -eq 'dotnet') { $pwshArgs = @((Join-Path $PSHOME 'pwsh.dll')) }

$emptyDir = Join-Path ([IO.Path]::GetTempPath()) ("mtv-bench-empty-" + [guid]::NewGuid().ToString('N'))
New-Item -ItemType Directory $emptyDir | Out-Null


function Measure-Import([string] $Path) {
    $code = "`$sw = [Diagnostics.Stopwatch]::StartNew(); Import-Module '$($Path -replace "'", "''")' -ErrorAction Stop; `$sw.Stop(); [Console]::Out.WriteLine(`$sw.Elapsed.TotalMilliseconds.ToString([cultureinfo]::InvariantCulture))"
    $out = & $pwsh @pwshArgs -NoProfile -NonInteractive -Command $code
    if ($LASTEXITCODE -ne 0) { throw "import of $Path failed: $out" }
    [double]::Parse(($out | Select-Object -Last 1), [cultureinfo]::InvariantCulture)
}

try {
    Add-Type -OutputAssembly (Join-Path $emptyDir 'EmptyBinary.dll') -OutputType Library -TypeDefinition @'
using System.Management.Automation;
namespace EmptyBinary
{
    [Cmdlet(VerbsDiagnostic.Test, "EmptyBinary")]
    public sealed class TestEmptyBinaryCommand : PSCmdlet
    {
        protected override void ProcessRecord() => WriteObject(true);
    }
}
'@
    New-ModuleManifest -Path (Join-Path $emptyDir 'EmptyBinary.psd1') -RootModule 'EmptyBinary.dll' -ModuleVersion '1.0.0' -CmdletsToExport 'Test-EmptyBinary' -FunctionsToExport @() -AliasesToExport @() -VariablesToExport @()
    $empty = Join-Path $emptyDir 'EmptyBinary.psd1'

    $null = Measure-Import $manifest; $null = Measure-Import $empty   # warm the disk cache
    $ours = [Collections.Generic.List[double]]::new(); $base = [Collections.Generic.List[double]]::new()
    for ($i = 0; $i -lt $Runs; $i++) { $ours.Add((Measure-Import $manifest)); $base.Add((Measure-Import $empty)) }
    $o = Get-Median $ours; $b = Get-Median $base
    [pscustomobject]@{
        Benchmark = 'Import-Module'; Measure = "Import-Module MtvRemediation (fresh process, median of $Runs)"; Value = [double]$o; Unit = 'ms'
        Baseline = 'empty binary module, same way'; BaselineValue = [double]$b; Ratio = $o / $b
        Target = '<= 2x'; Met = $o -le 2 * $b
    }
}
finally {
    Remove-Item $emptyDir -Recurse -Force -ErrorAction SilentlyContinue
}
