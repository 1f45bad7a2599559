# Test and bench access to the module's internal types (dot-source it after Import-Module
# MtvRemediation). Engines, parsers and helpers are internal (issue 12 point 6); PowerShell resolves
# no type literal for them, so scripts that drive an engine directly (benches, a few Pester cases)
# look the type up in the loaded module's assembly and call its static members through the Type
# object ($t::Method()); PowerShell offers no ::new() on a non-public type, so instances come from
# [Activator]::CreateInstance($t, @(arguments)).

# The internal type $FullName of the imported MtvRemediation module (throws when it does not exist,
# so a renamed type fails the script instead of yielding $null).
function Get-MtvInternalType([Parameter(Mandatory)][string] $FullName) {
    $module = Get-Module MtvRemediation | Select-Object -First 1
    if (-not $module) { throw 'Import MtvRemediation before looking up its internal types.' }
    $module.ImplementingAssembly.GetType($FullName, $true)
}

<#
    Compiles C# test sources against the imported module into an assembly named
    MtvRemediation.PesterTests (the name the module's InternalsVisibleTo grants) and loads it from
    memory (nothing is left in the temp directory); once per process (a second call returns the
    loaded assembly).
    Add-Type cannot do this: it gives every assembly it compiles a random name (also with
    -OutputAssembly), so no InternalsVisibleTo can name it. The compiler is the Roslyn that
    PowerShell 7 ships for Add-Type; the references are a few framework assemblies, PowerShell's own
    and the module's.
#>
function Import-MtvTestAssembly([Parameter(Mandatory)][string[]] $Path) {
    $name = 'MtvRemediation.PesterTests'
    $loaded = [AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -eq $name } | Select-Object -First 1
    if ($loaded) { return $loaded }
    $module = Get-Module MtvRemediation | Select-Object -First 1
    if (-not $module) { throw 'Import MtvRemediation before compiling the test assembly.' }
    if (-not ('Microsoft.CodeAnalysis.CSharp.CSharpCompilation' -as [type])) {
        Add-Type -Path (Join-Path $PSHOME 'Microsoft.CodeAnalysis.CSharp.dll')
    }
    $parse = [Microsoft.CodeAnalysis.CSharp.CSharpParseOptions]::new([Microsoft.CodeAnalysis.CSharp.LanguageVersion]::Latest)
    $trees = foreach ($p in $Path) {
        [Microsoft.CodeAnalysis.CSharp.CSharpSyntaxTree]::ParseText([IO.File]::ReadAllText($p), $parse, $p, [Text.Encoding]::UTF8, [Threading.CancellationToken]::None)
    }
    # The framework assemblies the test sources use, from the runtime's trusted platform assemblies
    # (all ~170 of them would double the compile time).
    $framework = 'System.Private.CoreLib', 'netstandard', 'System.Runtime', 'System.Collections', 'System.Threading', 'System.Threading.Thread', 'System.Linq'
    $refPaths = @(([string][AppContext]::GetData('TRUSTED_PLATFORM_ASSEMBLIES')).Split([IO.Path]::PathSeparator) |
            Where-Object { $_ -and [IO.Path]::GetFileNameWithoutExtension($_) -in $framework })
    $refPaths += [psobject].Assembly.Location, $module.ImplementingAssembly.Location
    $refs = foreach ($r in ($refPaths | Sort-Object -Unique)) { [Microsoft.CodeAnalysis.MetadataReference]::CreateFromFile($r) }
    $options = [Microsoft.CodeAnalysis.CSharp.CSharpCompilationOptions]::new([Microsoft.CodeAnalysis.OutputKind]::DynamicallyLinkedLibrary).
        WithNullableContextOptions([Microsoft.CodeAnalysis.NullableContextOptions]::Enable)
    $compilation = [Microsoft.CodeAnalysis.CSharp.CSharpCompilation]::Create($name, [Microsoft.CodeAnalysis.SyntaxTree[]]@($trees), [Microsoft.CodeAnalysis.MetadataReference[]]@($refs), $options)
    $stream = [IO.MemoryStream]::new()
    $result = $compilation.Emit($stream)
    if (-not $result.Success) {
        $errors = $result.Diagnostics | Where-Object { $_.Severity -eq [Microsoft.CodeAnalysis.DiagnosticSeverity]::Error } | ForEach-Object { $_.ToString() }
        throw "The test assembly does not compile:`n$($errors -join "`n")"
    }
    [Reflection.Assembly]::Load($stream.ToArray())
}
