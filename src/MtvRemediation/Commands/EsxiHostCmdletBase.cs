using System;
using System.Collections.Generic;
using System.Management.Automation;
using System.Threading;
using MtvRemediation.Esxi;
using MtvRemediation.Infrastructure;
using MtvRemediation.Interop;

namespace MtvRemediation.Commands
{
    /// <summary>
    /// Base of the cmdlets that work on ESXi hosts over SSH: a thin adapter over the module's one
    /// host fan-out (<see cref="HostFanOut"/>, also used by Find-MtvCloneFailure and
    /// Invoke-MtvRemediation). It binds <c>-VMHost</c> from names, PowerCLI VMHost/VM objects, our
    /// result objects and EsxiShellSession objects, composes -Credential/-KeyFilePath/-ThrottleLimit
    /// (<see cref="HostConnectionParameters"/>), collects the hosts of the whole pipeline, then, in
    /// EndProcessing, hands <see cref="ProcessHost"/> a connected <see cref="IEsxiShell"/> for each.
    /// One SSH handshake per host per runspace.
    /// </summary>
    /// <example>
    /// A new host cmdlet: derive, implement ProcessHost, write only through the sink, throw an
    /// MtvException (e.g. RemediationException) for a per-host error.
    /// <code>
    /// [Cmdlet(VerbsDiagnostic.Test, "Thing")]
    /// public sealed class TestThingCommand : EsxiHostCmdletBase
    /// {
    ///     protected override void ProcessHost(HostTarget target, IEsxiShell shell, IOutputSink sink, CancellationToken ct)
    ///     {
    ///         var r = shell.RunChecked(RemoteCommand.Exec("vdf"), TimeSpan.FromSeconds(30), ct);
    ///         sink.WriteObject(r.Stdout);
    ///     }
    /// }
    /// </code>
    /// </example>
    public abstract class EsxiHostCmdletBase : MtvCmdlet, IDynamicParameters
    {
        /// <summary>Default number of hosts worked on at once (see <see cref="HostFanOut.DefaultThrottleLimit"/> for why).</summary>
        public const int DefaultThrottleLimit = HostFanOut.DefaultThrottleLimit;

        private readonly HostFanOut _hosts;

        protected EsxiHostCmdletBase()
        {
            _hosts = new HostFanOut(this);
        }

        /// <summary>Hosts: names, PowerCLI VMHost objects, objects with a VMHost or Name property, EsxiShellSession objects.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        [Alias("Session", "HostName", "Name")]
        [ArgumentCompleter(typeof(VMHostCompleter))]
        public object[] VMHost { get; set; } = Array.Empty<object>();

        /// <summary>-Credential, -KeyFilePath, -ThrottleLimit, -StartSshService: declared once, in <see cref="HostConnectionParameters"/>.</summary>
        public object GetDynamicParameters() => _hosts.Parameters;

        /// <summary>The bound -Credential (null: only existing sessions are used).</summary>
        protected PSCredential? Credential => _hosts.Parameters.Credential;

        /// <summary>The bound -KeyFilePath, as given.</summary>
        protected string? KeyFilePath => _hosts.Parameters.KeyFilePath;

        /// <summary>The bound -ThrottleLimit.</summary>
        protected int ThrottleLimit => _hosts.Parameters.ThrottleLimit;

        /// <summary>The hosts collected so far (in pipeline order, each name once).</summary>
        private protected IReadOnlyList<HostTarget> Targets => _hosts.Targets;

        /// <summary>Activity text of the progress bar.</summary>
        protected virtual string ProgressActivity => MyInvocation.MyCommand.Name;

        protected override void ProcessRecord()
        {
            foreach (var input in VMHost)
            {
                var target = _hosts.Add(input);
                if (target != null) OnTargetAdded(target);
            }
        }

        protected override void EndProcessing()
        {
            try
            {
                var hosts = new List<HostTarget>();
                foreach (var t in Targets)
                {
                    if (ShouldProcessHost(t)) hosts.Add(t);
                }
                RunOnHosts(hosts, ProgressActivity, ProcessHost, OnHostFailed);
            }
            finally
            {
                // -StartSshService: the sessions opened over SSH this command started close, and SSH
                // stops again (not Connect-EsxiShell: its sessions outlive it).
                _hosts.EndSshOnDemand();
            }
        }

        /// <summary>-StartSshService's record for this command (Connect-EsxiShell reads and binds it).</summary>
        internal SshServiceOnDemand SshOnDemand => _hosts.Ssh;

        /// <summary>The bound -StartSshService.</summary>
        private protected bool StartSshService => _hosts.Parameters.StartSshService;

        /// <summary>Connect-EsxiShell: a started SSH service outlives the command (Disconnect-EsxiShell stops it).</summary>
        private protected void KeepStartedSshWithSessions() => _hosts.SshForCommandOnly = false;

        /// <summary>-StartSshService for Connect-EsxiShell (pipeline thread): starts SSH where needed before connecting.</summary>
        private protected void StartSshForSessions(IEnumerable<HostTarget> hosts, bool force) =>
            _hosts.EnsureSshOnDemand(hosts, CancelToken, force, ErrorRecords.NextCommandText(NextCommand.DisconnectShell, null)!);

        /// <summary>
        /// The fan-out every phase of a host cmdlet uses: on up to -ThrottleLimit hosts at once, get
        /// each host's shell (<see cref="AcquireShell"/>) and run <paramref name="work"/> with it on
        /// a worker thread. A host whose shell cannot be had, or whose work throws an
        /// <see cref="MtvException"/> or a timeout, goes to <paramref name="onFailure"/> (default:
        /// its error record is written).
        /// </summary>
        private protected void RunOnHosts(
            IReadOnlyList<HostTarget> hosts,
            string activity,
            Action<HostTarget, IEsxiShell, IOutputSink, CancellationToken> work,
            Action<HostTarget, MtvException, IOutputSink>? onFailure = null)
        {
            _hosts.Run(hosts, activity, work, CreateConnectOptions,
                (source, target, options, ct) => AcquireShell(source.Resolver, target, source.Credential, source.KeyFilePath, options, ct),
                onFailure);
        }

        /// <summary>
        /// Called on the pipeline thread for each host before any connection is made; return
        /// false to skip it. Cmdlets that change hosts call <c>ShouldProcess</c> here, so that
        /// -WhatIf connects to nothing.
        /// </summary>
        private protected virtual bool ShouldProcessHost(HostTarget target) => true;

        /// <summary>Called on the pipeline thread, in ProcessRecord, when a new host joins the work list.</summary>
        private protected virtual void OnTargetAdded(HostTarget target) { }

        /// <summary>Options for on-demand connects to one host (pipeline thread). Connect-EsxiShell adds its own.</summary>
        private protected virtual ConnectOptions CreateConnectOptions(HostTarget target) => new ConnectOptions();

        /// <summary>Gets the shell for one host (worker thread). Default: <see cref="EsxiShellResolver.Resolve(HostTarget, PSCredential?, string?, ConnectOptions?, CancellationToken)"/>.</summary>
        private protected virtual IEsxiShell AcquireShell(EsxiShellResolver resolver, HostTarget target, PSCredential? credential, string? keyFilePath, ConnectOptions options, CancellationToken cancellationToken)
            => resolver.Resolve(target, credential, keyFilePath, options, cancellationToken);

        /// <summary>A host's failure (worker thread): by default its error is written, the host's input as TargetObject.</summary>
        private protected virtual void OnHostFailed(HostTarget target, MtvException error, IOutputSink sink) =>
            sink.WriteError(error.ToErrorRecord(target.InputObject, MyInvocation.MyCommand.Name));

        /// <summary>
        /// The work for one host, on a worker thread. Write only through <paramref name="sink"/>;
        /// pass <paramref name="cancellationToken"/> to every remote call. Throw an
        /// <see cref="MtvException"/> (or let RunAsync's TimeoutException through) for a per-host
        /// error; it reaches <see cref="OnHostFailed(HostTarget, MtvException, IOutputSink)"/>.
        /// </summary>
        private protected abstract void ProcessHost(HostTarget target, IEsxiShell shell, IOutputSink sink, CancellationToken cancellationToken);
    }
}
