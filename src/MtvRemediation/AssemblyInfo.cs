// Module-wide assembly attributes.
using System.Runtime.CompilerServices;

[assembly: System.CLSCompliant(false)]

// The public surface is the cmdlets, their bases, what they emit and the few seams named in
// tests/MtvRemediation.Tests/PublicSurfaceTests.cs; engines, parsers and helpers are internal.
// Two test assemblies see them:
// - the xunit suite (tests/MtvRemediation.Tests), which drives the engines with plain inputs;
[assembly: InternalsVisibleTo("MtvRemediation.Tests")]
// - the Pester suite's test-only host cmdlet (tests/Pester/EsxiShellTestCmdlet.cs), compiled under
//   this fixed name by Import-MtvTestAssembly (tests/tools/InternalTypes.ps1), which derives from
//   EsxiHostCmdletBase and uses the shell seam (IEsxiShell, RemoteCommand) as product cmdlets do.
[assembly: InternalsVisibleTo("MtvRemediation.PesterTests")]
