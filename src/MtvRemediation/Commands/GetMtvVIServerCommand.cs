using System.Linq;
using System.Management.Automation;
using MtvRemediation.Infrastructure;
using MtvRemediation.Interop;
using MtvRemediation.VSphere;

namespace MtvRemediation.Commands
{
    /// <summary>Lists this session's vCenter connections (own logins and adopted PowerCLI sessions).</summary>
    [Cmdlet(VerbsCommon.Get, "MtvVIServer")]
    [OutputType(typeof(VIConnection))]
    public sealed class GetMtvVIServerCommand : MtvCmdlet
    {
        /// <summary>Server names to show (wildcards allowed). Default: all.</summary>
        [Parameter(Position = 0)]
        [SupportsWildcards]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(VIServerCompleter))]
        public string[]? Server { get; set; }

        protected override void EndProcessing()
        {
            var all = VIConnectionStore.Current.GetAll();
            if (Server == null)
            {
                WriteObject(all, enumerateCollection: true);
                return;
            }
            foreach (var name in Server)
            {
                var pattern = new WildcardPattern(name, WildcardOptions.IgnoreCase);
                var matches = all.Where(c => pattern.IsMatch(c.Server) || string.Equals(c.Server, name, System.StringComparison.OrdinalIgnoreCase)).ToArray();
                if (matches.Length == 0 && !WildcardPattern.ContainsWildcardCharacters(name))
                    WriteError(VIErrors.Record(null, VIErrorIds.ServerNotConnected, ErrorCategory.ObjectNotFound, name, $"There is no connection to '{name}' in this session.", NextCommand.ConnectVCenter, name));
                WriteObject(matches, enumerateCollection: true);
            }
        }
    }
}
