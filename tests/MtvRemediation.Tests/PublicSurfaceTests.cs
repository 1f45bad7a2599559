using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Reflection;
using System.Text.RegularExpressions;
using MtvRemediation.Commands;
using Xunit;

namespace MtvRemediation.Tests
{
    /// <summary>
    /// Pins the module's public surface (issue 12 point 6): cmdlets, their bases, what they emit or
    /// bind, and a few named seams are public; engines, parsers, scanners, helpers and the SOAP
    /// plumbing are internal (the tests see them through InternalsVisibleTo). A type that becomes
    /// public, or an allowed one that stops being public or reachable, fails here: change the list
    /// below on purpose, with its reason.
    /// </summary>
    public class PublicSurfaceTests
    {
        private static readonly Assembly Module = typeof(GetEsxiShellCommand).Assembly;

        // Cmdlets are allowed by rule, not by name: every exported type with [Cmdlet] that derives
        // from PSCmdlet (PowerShell only loads public cmdlet classes). The manifest's
        // CmdletsToExport decides which of them users see (Manifest.Tests.ps1).

        /// <summary>Abstract cmdlet bases: C# requires a public cmdlet's base classes to be public.</summary>
        private static readonly string[] CmdletBases =
        {
            "MtvRemediation.Infrastructure.MtvCmdlet",
            "MtvRemediation.Commands.VSphereCmdlet",
            "MtvRemediation.Commands.VMCmdlet",
            "MtvRemediation.Commands.EsxiHostCmdletBase",
        };

        /// <summary>
        /// Output types: named by a cmdlet's [OutputType] (and the Format.ps1xml views), or the type of a
        /// public property of one (nested records, enums, the list wrapper), or the base of one.
        /// </summary>
        private static readonly string[] OutputTypes =
        {
            "MtvRemediation.AgentRestartResult",
            "MtvRemediation.ChangeTrackingDisk",
            "MtvRemediation.ChangeTrackingResetResult",
            "MtvRemediation.ChangeTrackingStatus",
            "MtvRemediation.DiskMaxLunChange",
            "MtvRemediation.CloneFailureFinding",
            "MtvRemediation.CloneFailureSummary",
            "MtvRemediation.EsxiShellSession",
            "MtvRemediation.HostdTmpMemoryChange",
            "MtvRemediation.LogClearResult",
            "MtvRemediation.LogRotationCron",
            "MtvRemediation.LogSpaceStatus",
            "MtvRemediation.MtvClusterFinding",
            "MtvRemediation.PendingOperation",
            "MtvRemediation.PowerTransition",
            "MtvRemediation.ReadableList`1",
            "MtvRemediation.RemediationHostSummary",
            "MtvRemediation.RemediationSummary",
            "MtvRemediation.RemediationVMSummary",
            "MtvRemediation.VIConnection",
            "MtvRemediation.VmkfstoolsWrapperInfo",
            "MtvRemediation.WaveCompletionResult",
            "MtvRemediation.WaveReadinessCheck",
            "MtvRemediation.WrapperTaskCleanupResult",
            "MtvRemediation.WrapperTaskDirectory",
        };

        /// <summary>Types PowerShell binds parameters on besides the cmdlets themselves.</summary>
        private static readonly string[] ParameterTypes =
        {
            // Returned by EsxiHostCmdletBase.GetDynamicParameters: -Credential, -KeyFilePath, -ThrottleLimit.
            "MtvRemediation.Commands.HostConnectionParameters",
        };

        /// <summary>Named seams that code outside the assembly (PowerShell, scripts, users) needs.</summary>
        private static readonly string[] Seams =
        {
            // IModuleAssemblyInitializer/Cleanup (PowerShell looks for them among exported types) and
            // DescribeLoadContext, the load-context diagnostic the README gives users.
            "MtvRemediation.Infrastructure.ModuleLifetime",
            // The error-id table: ids are the contract with scripts; ErrorIds.Tests.ps1 checks the
            // about topic against All().
            "MtvRemediation.Infrastructure.ErrorIds",
            // The one exception root every ErrorRecord carries, so scripts can catch it and read
            // ErrorId/Category/RecommendedAction; its derived kinds are internal.
            "MtvRemediation.Infrastructure.MtvException",
            // The format views show host text (file names, err, log lines) printable; objects keep it exact.
            "MtvRemediation.Infrastructure.HostText",
        };

        private static IEnumerable<string> Allowed => CmdletBases.Concat(OutputTypes).Concat(ParameterTypes).Concat(Seams);

        private static bool IsCmdlet(Type t) =>
            t.GetCustomAttribute<CmdletAttribute>() != null && typeof(PSCmdlet).IsAssignableFrom(t) && !t.IsAbstract;

        private static Type[] Cmdlets => Module.GetExportedTypes().Where(IsCmdlet).ToArray();

        [Fact]
        public void Only_cmdlets_and_the_listed_types_are_public()
        {
            var unexpected = Module.GetExportedTypes()
                .Where(t => !IsCmdlet(t))
                .Select(t => t.FullName!)
                .Except(Allowed)
                .OrderBy(n => n, StringComparer.Ordinal)
                .ToArray();
            Assert.True(unexpected.Length == 0,
                "Public but neither a cmdlet nor a listed cmdlet base, output, parameter type or seam (make them internal, " +
                "or list them in PublicSurfaceTests with the reason): " + string.Join(", ", unexpected));
        }

        [Fact]
        public void Every_listed_type_exists_and_is_public()
        {
            var exported = new HashSet<string>(Module.GetExportedTypes().Select(t => t.FullName!));
            var stale = Allowed.Where(n => !exported.Contains(n)).ToArray();
            Assert.True(stale.Length == 0, "Listed as public surface but not exported (remove from the list): " + string.Join(", ", stale));
        }

        [Fact]
        public void Most_of_the_assembly_is_internal()
        {
            // What the two tests above leave open: the lists themselves growing with the assembly.
            Assert.True(Module.GetTypes().Length > 3 * Module.GetExportedTypes().Length,
                "most of the assembly is internal: " + Module.GetExportedTypes().Length + " of " + Module.GetTypes().Length + " types are public");
        }

        [Fact]
        public void Every_listed_output_type_is_reachable_from_a_cmdlet()
        {
            // Output roots: [OutputType] of every cmdlet; then public property types (element types
            // of arrays and generics, nullable enums) and base classes, transitively.
            var reachable = new HashSet<Type>();
            var queue = new Queue<Type>(Cmdlets
                .SelectMany(c => c.GetCustomAttributes<OutputTypeAttribute>())
                .SelectMany(a => a.Type)
                .Select(p => p.Type)
                .Where(t => t != null && t.Assembly == Module)!);
            while (queue.Count > 0)
            {
                var t = queue.Dequeue();
                if (t.IsGenericParameter) continue;
                if (t.IsGenericType && !t.IsGenericTypeDefinition) t = t.GetGenericTypeDefinition();
                if (t.Assembly != Module || !reachable.Add(t)) continue;
                if (t.BaseType != null) queue.Enqueue(t.BaseType);
                foreach (var p in t.GetProperties(BindingFlags.Public | BindingFlags.Instance))
                {
                    foreach (var u in Unwrap(p.PropertyType)) queue.Enqueue(u);
                }
            }
            var names = new HashSet<string>(reachable.Select(t => t.FullName!));
            var unreachable = OutputTypes.Where(n => !names.Contains(n)).ToArray();
            Assert.True(unreachable.Length == 0, "Listed as output types but no cmdlet emits them (make them internal): " + string.Join(", ", unreachable));
            var unlisted = reachable.Where(t => t.IsPublic && !IsCmdlet(t)).Select(t => t.FullName!).Except(OutputTypes).Except(Seams).ToArray();
            Assert.True(unlisted.Length == 0, "Emitted but not listed: " + string.Join(", ", unlisted));
        }

        [Fact]
        public void Every_type_a_format_view_names_is_a_public_output_type()
        {
            var dir = AppContext.BaseDirectory;
            while (dir != null && !Directory.Exists(Path.Combine(dir, "src", "MtvRemediation", "Formats"))) dir = Path.GetDirectoryName(dir);
            Assert.NotNull(dir);
            var named = Directory.GetFiles(Path.Combine(dir!, "src", "MtvRemediation", "Formats"), "*.Format.ps1xml")
                .SelectMany(f => Regex.Matches(File.ReadAllText(f), "<TypeName>([^<]+)</TypeName>").Select(m => m.Groups[1].Value))
                .Distinct()
                .ToArray();
            Assert.NotEmpty(named);
            Assert.All(named, n => Assert.Contains(n, OutputTypes));
        }

        [Fact]
        public void Cmdlet_parameters_bind_only_public_types()
        {
            var hidden = Cmdlets.Concat(ParameterTypes.Select(n => Module.GetType(n, true)!))
                .SelectMany(c => c.GetProperties(BindingFlags.Public | BindingFlags.Instance)
                    .Where(p => p.GetCustomAttributes<ParameterAttribute>().Any())
                    .SelectMany(p => Unwrap(p.PropertyType).Where(t => t.Assembly == Module && !t.IsPublic)
                        .Select(t => c.Name + "." + p.Name + ": " + t.FullName)))
                .ToArray();
            Assert.True(hidden.Length == 0, string.Join(", ", hidden));
        }

        private static IEnumerable<Type> Unwrap(Type t)
        {
            if (t.IsArray) return Unwrap(t.GetElementType()!);
            if (t.IsGenericType) return new[] { t.GetGenericTypeDefinition() }.Concat(t.GetGenericArguments().SelectMany(Unwrap));
            return new[] { t };
        }
    }
}
