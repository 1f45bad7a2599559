using System;
using System.Management.Automation;

namespace MtvRemediation.Infrastructure
{
    /// <summary>
    /// Import and Remove-Module hooks. Session stores register cleanups here so that removing the
    /// module closes every SSH session and logs out of vCenter sessions we opened ourselves.
    /// </summary>
    public sealed class ModuleLifetime : IModuleAssemblyInitializer, IModuleAssemblyCleanup
    {
        private static readonly object Gate = new object();
        private static event Action? Removing;

        public void OnImport() { }

        public void OnRemove(PSModuleInfo psModuleInfo)
        {
            Action? handlers;
            lock (Gate) { handlers = Removing; Removing = null; }
            if (handlers == null) return;
            foreach (Action h in handlers.GetInvocationList())
            {
                try { h(); } catch { /* cleanup is best effort: one failing store must not block the others */ }
            }
        }

        /// <summary>Run <paramref name="cleanup"/> when the module is removed.</summary>
        public static void RegisterCleanup(Action cleanup)
        {
            lock (Gate) { Removing += cleanup; }
        }
    }
}
