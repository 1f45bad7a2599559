using System;
using System.Collections.Generic;
using System.IO;
using System.Management.Automation;
using System.Reflection;

namespace MtvRemediation.Infrastructure
{
    /// <summary>
    /// Import and Remove-Module hooks.
    /// <para>
    /// Dependency isolation: SSH.NET, BouncyCastle and the other dependencies ship in the module's
    /// <c>dependencies</c> folder, where PowerShell's default probing does not look. When our code
    /// asks for one of them, <see cref="ResolveDependency"/> loads it - on PowerShell 7 into a private
    /// AssemblyLoadContext, so another module's SSH.NET or BouncyCastle (Posh-SSH, PowerCLI) loaded
    /// before or after us does not clash; on Windows PowerShell 5.1 (one AppDomain, no load contexts)
    /// with Assembly.LoadFrom, where a different version already loaded by another module can still
    /// win - see the README.
    /// </para>
    /// <para>Session stores register cleanups here so Remove-Module closes what we opened.</para>
    /// </summary>
    /// <remarks>
    /// Public: PowerShell runs IModuleAssemblyInitializer/IModuleAssemblyCleanup only on the
    /// assembly's exported types, and <see cref="DescribeLoadContext"/> is the diagnostic the README
    /// gives users (and Isolation.Tests.ps1 reads).
    /// </remarks>
    public sealed class ModuleLifetime : IModuleAssemblyInitializer, IModuleAssemblyCleanup
    {
        private static readonly object Gate = new object();
        private static event Action? Removing;

        private static readonly Assembly Self = typeof(ModuleLifetime).Assembly;
        private static readonly string DependencyFolder =
            Path.Combine(Path.GetDirectoryName(Self.Location) ?? ".", "dependencies");
        private static readonly Dictionary<string, string> DependencyPaths = ScanDependencies();
        private static readonly LoadContextProxy? Isolated = LoadContextProxy.Create("MtvRemediation");

        public void OnImport()
        {
            AppDomain.CurrentDomain.AssemblyResolve += ResolveDependency;
        }

        public void OnRemove(PSModuleInfo psModuleInfo)
        {
            Action? handlers;
            lock (Gate) { handlers = Removing; Removing = null; }
            if (handlers != null)
            {
                foreach (Action h in handlers.GetInvocationList())
                {
                    try { h(); } catch { /* cleanup is best effort: one failing store must not block the others */ }
                }
            }
            AppDomain.CurrentDomain.AssemblyResolve -= ResolveDependency;
        }

        /// <summary>Run <paramref name="cleanup"/> when the module is removed.</summary>
        internal static void RegisterCleanup(Action cleanup)
        {
            lock (Gate) { Removing += cleanup; }
        }

        /// <summary>Where a dependency was loaded from, for diagnostics and the isolation test.</summary>
        public static string DescribeLoadContext(Type type)
        {
            var alc = typeof(object).Assembly.GetType("System.Runtime.Loader.AssemblyLoadContext");
            var getter = alc?.GetMethod("GetLoadContext", new[] { typeof(Assembly) });
            var ctx = getter?.Invoke(null, new object[] { type.Assembly });
            return ctx?.ToString() ?? "AppDomain";
        }

        private static Dictionary<string, string> ScanDependencies()
        {
            var map = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            if (!Directory.Exists(DependencyFolder)) return map;
            foreach (var file in Directory.GetFiles(DependencyFolder, "*.dll"))
            {
                try { map[AssemblyName.GetAssemblyName(file).Name ?? ""] = file; }
                catch (BadImageFormatException) { /* not a managed assembly */ }
            }
            return map;
        }

        private static Assembly? ResolveDependency(object? sender, ResolveEventArgs args)
        {
            var wanted = new AssemblyName(args.Name);
            if (wanted.Name is null || !DependencyPaths.TryGetValue(wanted.Name, out var path)) return null;

            // Only answer requests from our own code or our own dependencies: other modules asking for
            // an assembly with the same name must get their own copy, not ours.
            var requester = args.RequestingAssembly;
            if (requester != null && requester != Self && !IsOurDependency(requester)) return null;

            return Isolated != null ? Isolated.LoadFromAssemblyPath(path) : Assembly.LoadFrom(path);
        }

        private static bool IsOurDependency(Assembly assembly)
        {
            string location;
            try { location = assembly.Location; } catch (NotSupportedException) { return false; }
            return !string.IsNullOrEmpty(location)
                   && string.Equals(Path.GetDirectoryName(location), DependencyFolder, StringComparison.OrdinalIgnoreCase);
        }

        /// <summary>AssemblyLoadContext through reflection: the type does not exist on .NET Framework or in netstandard2.0.</summary>
        private sealed class LoadContextProxy
        {
            private readonly object _context;
            private readonly MethodInfo _loadFromPath;

            private LoadContextProxy(Type alcType, string name)
            {
                var ctor = alcType.GetConstructor(new[] { typeof(string), typeof(bool) })
                           ?? throw new MissingMethodException("AssemblyLoadContext(string, bool)");
                _loadFromPath = alcType.GetMethod("LoadFromAssemblyPath", new[] { typeof(string) })
                                ?? throw new MissingMethodException("AssemblyLoadContext.LoadFromAssemblyPath");
                _context = ctor.Invoke(new object[] { name, false });
            }

            public Assembly LoadFromAssemblyPath(string path) => (Assembly)_loadFromPath.Invoke(_context, new object[] { path });

            public static LoadContextProxy? Create(string name)
            {
                var alcType = typeof(object).Assembly.GetType("System.Runtime.Loader.AssemblyLoadContext");
                return alcType == null ? null : new LoadContextProxy(alcType, name);
            }
        }
    }
}
