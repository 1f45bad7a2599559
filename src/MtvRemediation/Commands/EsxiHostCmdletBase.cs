using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Threading;
using MtvRemediation.Esxi;
using MtvRemediation.HostLog;
using MtvRemediation.Infrastructure;
using MtvRemediation.Interop;

namespace MtvRemediation.Commands
{
    /// <summary>
    /// The one base of the cmdlets that work on ESXi hosts over SSH: a thin adapter over the
    /// module's host fan-out (<see cref="HostFanOut"/>, also composed by Connect-EsxiShell,
    /// Find-MtvCloneFailure and Invoke-MtvRemediation). It binds <c>-VMHost</c> (names, PowerCLI
    /// VMHost/VM objects, our result objects, EsxiShellSession objects) and the shared
    /// -Credential/-KeyFilePath/-ThrottleLimit/-StartSshService (<see cref="HostConnectionParameters"/>),
    /// collects the hosts of the whole pipeline, asks <see cref="ShouldProcessHost"/> for each before
    /// any connection, then hands <see cref="ProcessHost"/> a connected <see cref="IEsxiShell"/> per
    /// host on up to -ThrottleLimit worker threads.
    /// </summary>
    /// <example>
    /// A host cmdlet (inside this assembly: the hook takes internal types), as Get-VmkfstoolsWrapper is:
    /// <code>
    /// [Cmdlet(VerbsCommon.Get, "VmkfstoolsWrapper")]
    /// public sealed class GetVmkfstoolsWrapperCommand : EsxiHostCmdletBase
    /// {
    ///     private protected override void ProcessHost(HostTarget target, IEsxiShell shell, IOutputSink sink, CancellationToken ct)
    ///     {
    ///         var read = HostDiagnosisReader.Read(shell, new HostDiagnosisRequest { Inventory = true }, ct);
    ///         sink.WriteObject(HostDiagnosis.Required(read.Wrapper, read.WrapperError));
    ///     }
    /// }
    /// </code>
    /// </example>
    public abstract class EsxiHostCmdletBase : MtvCmdlet, IDynamicParameters
    {
        private readonly HostFanOut _hosts;
        private readonly List<Func<Action<HostTarget>>> _perInput = new List<Func<Action<HostTarget>>>();

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

        /// <summary>The hosts collected so far (in pipeline order, each name once).</summary>
        private protected IReadOnlyList<HostTarget> Targets => _hosts.Targets;

        /// <summary>Activity text of the progress bar.</summary>
        protected virtual string ProgressActivity => MyInvocation.MyCommand.Name;

        /// <summary>
        /// A parameter bound by property name (e.g. -LogPath from piped objects) changes with each
        /// input record, but hosts are worked on after the whole pipeline: call this in the
        /// constructor with the parameter's getter, and read the value each host came with from the
        /// result. The getter runs on the pipeline thread for every input record, before its hosts
        /// are added, so it may also refuse the value (<see cref="ThrowInvalidArgument"/>).
        /// </summary>
        private protected PerInput<T> CapturePerInput<T>(Func<T> read)
        {
            var values = new PerInput<T>();
            _perInput.Add(() =>
            {
                var value = read();
                return target => values.Set(target, value);
            });
            return values;
        }

        protected override void ProcessRecord()
        {
            var keep = _perInput.Select(capture => capture()).ToList();
            foreach (var input in VMHost)
            {
                var target = _hosts.Add(input);
                if (target == null) continue;
                foreach (var k in keep) k(target);
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
                RunOnHosts(hosts, ProgressActivity, ProcessHost);
                AfterHosts();
            }
            finally
            {
                // -StartSshService: the sessions opened over SSH this command started close, and SSH stops again.
                _hosts.EndSshOnDemand();
            }
        }

        /// <summary>
        /// A further phase on the same hosts (e.g. a read before confirming): runs
        /// <paramref name="work"/> on up to -ThrottleLimit hosts at once, each with its shell. A host
        /// whose shell cannot be had, or whose work throws an <see cref="MtvException"/> or times out,
        /// goes to <paramref name="onFailure"/> (default: <see cref="OnHostFailed"/>).
        /// </summary>
        private protected void RunOnHosts(
            IReadOnlyList<HostTarget> hosts,
            string activity,
            Action<HostTarget, IEsxiShell, IOutputSink, CancellationToken> work,
            Action<HostTarget, MtvException, IOutputSink>? onFailure = null)
        {
            _hosts.Run(hosts, activity, work, onFailure: onFailure ?? OnHostFailed);
        }

        /// <summary>
        /// Pipeline thread, once every host's work is done and before SSH started for this command
        /// (-StartSshService) is stopped again: for work that must follow the hosts' (Complete-MtvWave
        /// stops SSH last).
        /// </summary>
        private protected virtual void AfterHosts() { }

        /// <summary>True when -StartSshService of this command started SSH on the host (it stops it again when the command ends).</summary>
        private protected bool SshStartedForThisCommand(string hostName) =>
            _hosts.Ssh.Started.Contains(hostName, StringComparer.OrdinalIgnoreCase);

        /// <summary>
        /// Pipeline thread, for each host before any connection is made; false skips the host.
        /// Cmdlets that change hosts call <c>ShouldProcess(target.Name, action)</c> here, so that
        /// -WhatIf connects to nothing and -Confirm asks before anything is touched.
        /// </summary>
        private protected virtual bool ShouldProcessHost(HostTarget target) => true;

        /// <summary>
        /// A host's failure (worker thread; connect failures included): by default its error is
        /// written with the host's input as TargetObject. An override that adds output (e.g. -Quiet's
        /// $false) calls this base first.
        /// </summary>
        private protected virtual void OnHostFailed(HostTarget target, MtvException error, IOutputSink sink) =>
            sink.WriteError(error.ToErrorRecord(target.InputObject, MyInvocation.MyCommand.Name));

        /// <summary>Stops the command before any host is touched when an argument cannot work (HostRemediationInvalidArgument).</summary>
        private protected void ThrowInvalidArgument(string message, object? target)
        {
            ThrowTerminatingError(new RemediationException(HostRemediationErrorIds.InvalidArgument, ErrorCategory.InvalidArgument, message).ToErrorRecord(target));
        }

        /// <summary>A -LogPath as given, refused unless absolute (the host's path, not this machine's).</summary>
        private protected string? AbsoluteLogPath(string? logPath)
        {
            if (logPath != null && !logPath.StartsWith("/", StringComparison.Ordinal))
                ThrowInvalidArgument($"-LogPath '{logPath}' must be an absolute path on the ESXi host, like {LogSpaceOptions.DefaultLogPath}.", logPath);
            return logPath;
        }

        /// <summary>
        /// The work for one host, on a worker thread. Write only through <paramref name="sink"/>;
        /// pass <paramref name="cancellationToken"/> to every remote call. Throw an
        /// <see cref="MtvException"/> for a per-host error (a timeout of a remote call becomes
        /// EsxiShellCommandTimeout); it reaches <see cref="OnHostFailed"/>.
        /// </summary>
        private protected abstract void ProcessHost(HostTarget target, IEsxiShell shell, IOutputSink sink, CancellationToken cancellationToken);
    }

    /// <summary>A parameter's value per host, as bound with the input record that brought the host (<see cref="EsxiHostCmdletBase.CapturePerInput{T}"/>).</summary>
    internal sealed class PerInput<T>
    {
        private readonly Dictionary<HostTarget, T> _values = new Dictionary<HostTarget, T>();

        internal void Set(HostTarget target, T value) => _values[target] = value;

        /// <summary>The value <paramref name="target"/>'s input record came with (read-only once the pipeline ended, so workers may read it).</summary>
        public T For(HostTarget target) => _values[target];
    }
}
