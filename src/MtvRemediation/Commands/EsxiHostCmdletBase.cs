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
    /// Base of every cmdlet that works on ESXi hosts over SSH. It binds <c>-VMHost</c> from names,
    /// PowerCLI VMHost/VM objects, our result objects and EsxiShellSession objects; collects the
    /// hosts of the whole pipeline; then, in EndProcessing, works on up to <see cref="ThrottleLimit"/>
    /// hosts at once, handing <see cref="ProcessHost"/> a connected <see cref="IEsxiShell"/> (the
    /// runspace's session for the host, re-opened if dropped, or opened on demand with
    /// <see cref="Credential"/>/<see cref="KeyFilePath"/>). One SSH handshake per host per runspace.
    /// </summary>
    /// <example>
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
    public abstract class EsxiHostCmdletBase : MtvCmdlet
    {
        /// <summary>Default number of hosts worked on at once: handshakes are latency-bound, not CPU-bound.</summary>
        public const int DefaultThrottleLimit = 32;

        private readonly List<HostTarget> _targets = new List<HostTarget>();
        private readonly HashSet<string> _seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);

        /// <summary>Hosts: names, PowerCLI VMHost objects, objects with a VMHost or Name property, EsxiShellSession objects.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        [Alias("Session", "HostName", "Name")]
        [ArgumentCompleter(typeof(VMHostCompleter))]
        public object[] VMHost { get; set; } = Array.Empty<object>();

        /// <summary>Opens a session on demand for hosts without one (user root and its password).</summary>
        [Parameter]
        [Credential]
        public PSCredential? Credential { get; set; }

        /// <summary>Private key file for hosts without a session (OpenSSH or PEM format).</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? KeyFilePath { get; set; }

        /// <summary>Maximum number of hosts worked on at once.</summary>
        [Parameter]
        [ValidateRange(1, 1024)]
        public int ThrottleLimit { get; set; } = DefaultThrottleLimit;

        /// <summary>The hosts collected so far (in pipeline order, each name once).</summary>
        protected IReadOnlyList<HostTarget> Targets => _targets;

        /// <summary>Activity text of the progress bar.</summary>
        protected virtual string ProgressActivity => MyInvocation.MyCommand.Name;

        protected override void ProcessRecord()
        {
            foreach (var input in VMHost)
            {
                if (!VMHostInput.TryGetTarget(input, out var target, out var problem))
                {
                    var ex = new EsxiShellException(EsxiShellErrorIds.HostUnresolved, ErrorCategory.InvalidArgument, problem!);
                    WriteError(ex.ToErrorRecord(input));
                    continue;
                }
                // The same host twice in one pipeline is worked on once.
                if (_seen.Add(target!.Name))
                {
                    _targets.Add(target);
                    OnTargetAdded(target);
                }
                else
                {
                    WriteVerbose($"{target.Name}: already in this pipeline, skipped.");
                }
            }
        }

        protected override void EndProcessing()
        {
            var hosts = new List<HostTarget>();
            foreach (var t in _targets)
            {
                if (ShouldProcessHost(t)) hosts.Add(t);
            }
            RunOnHosts(hosts, ProgressActivity, (target, shell, sink, ct) =>
            {
                try
                {
                    ProcessHost(target, shell, sink, ct);
                }
                catch (EsxiShellException ex)
                {
                    sink.WriteError(ex.ToErrorRecord(target.InputObject));
                }
                catch (TimeoutException ex) when (!ct.IsCancellationRequested)
                {
                    var e = new EsxiShellException(EsxiShellErrorIds.CommandTimeout, ErrorCategory.OperationTimeout,
                        ex.Message + " Raise the command's timeout if the host is slow, or check the host's load.", null, ex);
                    sink.WriteError(e.ToErrorRecord(target.InputObject));
                }
            });
        }

        /// <summary>
        /// The fan-out every phase of a host cmdlet uses: on up to <see cref="ThrottleLimit"/> hosts at
        /// once, get each host's shell (<see cref="AcquireShell"/>) and run <paramref name="work"/>
        /// with it on a worker thread. A host whose shell cannot be had goes to
        /// <paramref name="onConnectFailure"/> (default: its error record is written).
        /// </summary>
        protected void RunOnHosts(
            IReadOnlyList<HostTarget> hosts,
            string activity,
            Action<HostTarget, IEsxiShell, IOutputSink, CancellationToken> work,
            Action<HostTarget, EsxiShellException, IOutputSink>? onConnectFailure = null)
        {
            if (hosts.Count == 0) return;
            // Captured here, on the pipeline thread: workers must not touch Runspace.DefaultRunspace.
            var resolver = EsxiShellResolver.ForCurrentRunspace();
            var options = new Dictionary<HostTarget, ConnectOptions>();
            foreach (var t in hosts) options[t] = CreateConnectOptions(t);
            var credential = Credential;
            var keyFile = KeyFilePath == null ? null : GetUnresolvedProviderPathFromPSPath(KeyFilePath);
            onConnectFailure ??= (target, ex, sink) => sink.WriteError(ex.ToErrorRecord(target.InputObject));
            ThreadPoolTuning.EnsureMinThreads(Math.Min(ThrottleLimit, hosts.Count));
            RunParallel(hosts, ThrottleLimit, activity, t => t.Name, (target, sink, ct) =>
            {
                IEsxiShell shell;
                try
                {
                    shell = AcquireShell(resolver, target, credential, keyFile, options[target], ct);
                }
                catch (EsxiShellException ex)
                {
                    onConnectFailure(target, ex, sink);
                    return;
                }
                work(target, shell, sink, ct);
            });
        }

        /// <summary>
        /// Called on the pipeline thread for each host before any connection is made; return
        /// false to skip it. Cmdlets that change hosts call <c>ShouldProcess</c> here, so that
        /// -WhatIf connects to nothing.
        /// </summary>
        protected virtual bool ShouldProcessHost(HostTarget target) => true;

        /// <summary>Called on the pipeline thread, in ProcessRecord, when a new host joins the work list.</summary>
        protected virtual void OnTargetAdded(HostTarget target) { }

        /// <summary>Options for on-demand connects to one host (pipeline thread). Connect-EsxiShell adds its own.</summary>
        protected virtual ConnectOptions CreateConnectOptions(HostTarget target) => new ConnectOptions();

        /// <summary>Gets the shell for one host (worker thread). Default: <see cref="EsxiShellResolver.Resolve(HostTarget, PSCredential?, string?, ConnectOptions?, CancellationToken)"/>.</summary>
        protected virtual IEsxiShell AcquireShell(EsxiShellResolver resolver, HostTarget target, PSCredential? credential, string? keyFilePath, ConnectOptions options, CancellationToken cancellationToken)
            => resolver.Resolve(target, credential, keyFilePath, options, cancellationToken);

        /// <summary>
        /// The work for one host, on a worker thread. Write only through <paramref name="sink"/>;
        /// pass <paramref name="cancellationToken"/> to every remote call. Throw
        /// <see cref="EsxiShellException"/> (or let RunAsync's TimeoutException through) for a
        /// per-host error; the base writes it with the host as TargetObject.
        /// </summary>
        protected abstract void ProcessHost(HostTarget target, IEsxiShell shell, IOutputSink sink, CancellationToken cancellationToken);
    }
}
