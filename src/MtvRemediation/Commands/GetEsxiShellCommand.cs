using System;
using System.Linq;
using System.Management.Automation;
using MtvRemediation.Esxi;
using MtvRemediation.Infrastructure;
using MtvRemediation.Interop;

namespace MtvRemediation.Commands
{
    /// <summary>Lists the ESXi shell sessions of the current runspace.</summary>
    [Cmdlet(VerbsCommon.Get, "EsxiShell", DefaultParameterSetName = ByHost)]
    [OutputType(typeof(EsxiShellSession))]
    public sealed class GetEsxiShellCommand : MtvCmdlet
    {
        private const string ByHost = "VMHost";
        private const string ById = "Id";

        /// <summary>Host names; wildcards allowed.</summary>
        [Parameter(Position = 0, ParameterSetName = ByHost, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        [SupportsWildcards]
        [Alias("Name")]
        [ArgumentCompleter(typeof(VMHostCompleter))]
        public string[]? VMHost { get; set; }

        [Parameter(Mandatory = true, ParameterSetName = ById, ValueFromPipelineByPropertyName = true)]
        public int[]? Id { get; set; }

        protected override void ProcessRecord()
        {
            var all = EsxiSessionStore.ForCurrentRunspace().GetAll();
            if (ParameterSetName == ById)
            {
                foreach (var id in Id!)
                {
                    var s = all.FirstOrDefault(x => x.Id == id);
                    if (s != null) WriteObject(s);
                    else WriteError(NotFound($"There is no ESXi shell session with id {id}. Without -Id, the command lists the sessions of this runspace.", id));
                }
                return;
            }
            if (VMHost == null)
            {
                WriteObject(all, enumerateCollection: true);
                return;
            }
            foreach (var name in VMHost)
            {
                var pattern = new WildcardPattern(name, WildcardOptions.IgnoreCase);
                var matches = all.Where(s => pattern.IsMatch(s.VMHost)).ToArray();
                WriteObject(matches, enumerateCollection: true);
                if (matches.Length == 0 && !WildcardPattern.ContainsWildcardCharacters(name))
                    WriteError(NotFound($"There is no ESXi shell session for '{name}'.", name, NextCommand.ConnectShell));
            }
        }

        private static ErrorRecord NotFound(string message, object target, NextCommand next = NextCommand.None)
            => new EsxiShellException(EsxiShellErrorIds.SessionNotFound, ErrorCategory.ObjectNotFound, message) { Next = next, NextTarget = target.ToString() }.ToErrorRecord(target);
    }
}
