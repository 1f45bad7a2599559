using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using MtvRemediation.Infrastructure;
using MtvRemediation.Interop;
using MtvRemediation.VSphere;

namespace MtvRemediation.Commands
{
    /// <summary>
    /// Closes connections: logs out sessions we opened; forgets adopted PowerCLI sessions without
    /// logging them out (PowerCLI still uses them).
    /// </summary>
    [Cmdlet(VerbsCommunications.Disconnect, "MtvVIServer", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(void))]
    public sealed class DisconnectMtvVIServerCommand : MtvCmdlet
    {
        /// <summary>VIConnection objects or server names (wildcards allowed). Default: every connection of this session.</summary>
        [Parameter(Position = 0, ValueFromPipeline = true)]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(VIServerCompleter))]
        public object[]? Server { get; set; }

        private readonly List<VIConnection> _targets = new List<VIConnection>();

        protected override void ProcessRecord()
        {
            var store = VIConnectionStore.Current;
            if (Server == null)
            {
                _targets.AddRange(store.GetAll());
                return;
            }
            foreach (var item in Server)
            {
                var value = PSObjectProperties.Unwrap(item);
                if (value is VIConnection c)
                {
                    _targets.Add(c);
                    continue;
                }
                var name = value?.ToString() ?? "";
                var pattern = new WildcardPattern(name, WildcardOptions.IgnoreCase);
                var matches = store.GetAll().Where(x => string.Equals(x.Server, name, System.StringComparison.OrdinalIgnoreCase) || pattern.IsMatch(x.Server)).ToList();
                if (matches.Count == 0)
                    WriteError(VIErrors.Record(null, VIErrorIds.ServerNotConnected, ErrorCategory.ObjectNotFound, item, $"There is no connection to '{name}' in this session.", NextCommand.ShowVCenter));
                _targets.AddRange(matches);
            }
        }

        protected override void EndProcessing()
        {
            var store = VIConnectionStore.Current;
            foreach (var c in _targets.Distinct())
            {
                var action = c.AdoptedFromPowerCli ? "Forget the adopted PowerCLI session (PowerCLI stays connected)" : "Log out";
                if (!ShouldProcess(c.ToString(), action)) continue;
                store.Remove(c);
                if (c.AdoptedFromPowerCli) c.IsConnected = false;
                else VIConnectionStore.CloseQuietly(c);
                WriteVerbose($"{action}: {c}.");
            }
        }
    }
}
