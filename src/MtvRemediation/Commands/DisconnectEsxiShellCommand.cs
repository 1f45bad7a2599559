using System;
using System.Linq;
using System.Management.Automation;
using MtvRemediation.Esxi;
using MtvRemediation.Infrastructure;
using MtvRemediation.Interop;
using MtvRemediation.VSphere;

namespace MtvRemediation.Commands
{
    /// <summary>Closes ESXi shell sessions of the current runspace.</summary>
    [Cmdlet(VerbsCommunications.Disconnect, "EsxiShell", DefaultParameterSetName = BySession, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
    [OutputType(typeof(void))]
    public sealed class DisconnectEsxiShellCommand : MtvCmdlet
    {
        private const string BySession = "Session";
        private const string ByHost = "VMHost";
        private const string ById = "Id";
        private const string All_ = "All";

        [Parameter(Mandatory = true, Position = 0, ParameterSetName = BySession, ValueFromPipeline = true)]
        [ValidateNotNullOrEmpty]
        public EsxiShellSession[]? Session { get; set; }

        /// <summary>Host names; wildcards allowed.</summary>
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = ByHost, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        [SupportsWildcards]
        [ArgumentCompleter(typeof(VMHostCompleter))]
        public string[]? VMHost { get; set; }

        [Parameter(Mandatory = true, ParameterSetName = ById)]
        public int[]? Id { get; set; }

        [Parameter(Mandatory = true, ParameterSetName = All_)]
        public SwitchParameter All { get; set; }

        protected override void ProcessRecord()
        {
            var store = EsxiSessionStore.ForCurrentRunspace();
            switch (ParameterSetName)
            {
                case BySession:
                    foreach (var s in Session!) Close(store, s);
                    break;
                case ById:
                    foreach (var id in Id!)
                    {
                        var s = store.Find(id);
                        if (s == null) WriteError(NotFound($"There is no ESXi shell session with id {id}.", id));
                        else Close(store, s);
                    }
                    break;
                case ByHost:
                    var all = store.GetAll();
                    foreach (var name in VMHost!)
                    {
                        var pattern = new WildcardPattern(name, WildcardOptions.IgnoreCase);
                        var matches = all.Where(s => pattern.IsMatch(s.VMHost)).ToArray();
                        if (matches.Length == 0 && !WildcardPattern.ContainsWildcardCharacters(name))
                            WriteError(NotFound($"There is no ESXi shell session for '{name}'.", name));
                        foreach (var s in matches) Close(store, s);
                    }
                    break;
                default:
                    foreach (var s in store.GetAll()) Close(store, s);
                    break;
            }
        }

        private void Close(EsxiSessionStore store, EsxiShellSession session)
        {
            var ssh = SshServiceController.ForCurrentRunspace();
            var stopSsh = session.SshServiceStarted && ssh.StartedFor(session.VMHost, session.Id);
            var action = stopSsh ? "Close the SSH connection, then stop the SSH service (TSM-SSH) that -StartSshService started" : "Close the SSH connection";
            if (!ShouldProcess($"{session.VMHost} (session {session.Id})", action)) return;
            if (!store.Remove(session) && !session.IsClosed)
                WriteVerbose($"Session {session.Id} for {session.VMHost} was not in this runspace's list; closed it anyway.");
            WriteVerbose($"Closed session {session.Id} for {session.VMHost}.");
            if (!stopSsh) return;
            try
            {
                if (ssh.StopIfStarted(session.VMHost, session.Id, CancelToken))
                    WriteVerbose($"{session.VMHost}: stopped SSH (TSM-SSH) again, as it was before -StartSshService started it.");
            }
            catch (Exception ex) when (ex is VimFaultException || ex is VimTransportException || ex is OperationCanceledException)
            {
                WriteError(new EsxiShellException(SshServiceErrorIds.StopFailed, ErrorCategory.InvalidOperation,
                    $"Session {session.Id} is closed, but stopping the SSH service on '{session.VMHost}' failed: {ex.Message} SSH is still running there.",
                    "Stop SSH in vCenter (host > Configure > Services > SSH).", ex).ToErrorRecord(session));
            }
        }

        private static ErrorRecord NotFound(string message, object target)
            => new EsxiShellException(EsxiShellErrorIds.SessionNotFound, ErrorCategory.ObjectNotFound, message).ToErrorRecord(target);
    }
}
