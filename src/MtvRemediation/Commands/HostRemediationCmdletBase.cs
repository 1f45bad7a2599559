using System.Collections.Generic;
using System.Management.Automation;
using System.Threading;
using MtvRemediation.Esxi;
using MtvRemediation.Infrastructure;
using MtvRemediation.Interop;
using MtvRemediation.Remediation;

namespace MtvRemediation.Commands
{
    /// <summary>
    /// Shared by the host remediation cmdlets: the -LogPath that came with each host's input
    /// record, a hook after a host's error (e.g. -Quiet writes $false), and argument refusals
    /// before any host is touched. Errors themselves go through the fan-out's one translation.
    /// </summary>
    public abstract class HostRemediationCmdletBase : EsxiHostCmdletBase
    {
        private readonly Dictionary<HostTarget, string?> _logPaths = new Dictionary<HostTarget, string?>();

        /// <summary>
        /// The -LogPath bound for this pipeline input (parameters bound by property name change per
        /// input record; the base collects hosts and works on them later, so remember it per host).
        /// </summary>
        protected virtual string? CurrentLogPath => null;

        /// <summary>Refuses a relative -LogPath before any host is touched (the bound value changes per input record).</summary>
        protected override void ProcessRecord()
        {
            var logPath = CurrentLogPath;
            if (logPath != null && !logPath.StartsWith("/", System.StringComparison.Ordinal))
                ThrowInvalidArgument($"-LogPath '{logPath}' must be an absolute path on the ESXi host, like {LogSpaceOptions.DefaultLogPath}.", logPath);
            base.ProcessRecord();
        }

        private protected override void OnTargetAdded(HostTarget target)
        {
            _logPaths[target] = CurrentLogPath;
            base.OnTargetAdded(target);
        }

        /// <summary>The log path that came with <paramref name="target"/>'s input record.</summary>
        private protected string? LogPathFor(HostTarget target) => _logPaths.TryGetValue(target, out var p) ? p : CurrentLogPath;

        private protected sealed override void ProcessHost(HostTarget target, IEsxiShell shell, IOutputSink sink, CancellationToken cancellationToken)
            => ProcessHostCore(target, shell, sink, cancellationToken);

        private protected abstract void ProcessHostCore(HostTarget target, IEsxiShell shell, IOutputSink sink, CancellationToken cancellationToken);

        private protected sealed override void OnHostFailed(HostTarget target, MtvException error, IOutputSink sink)
        {
            base.OnHostFailed(target, error, sink);
            OnHostFailed(target, sink);
        }

        /// <summary>After a host's error was written (connect failures included).</summary>
        private protected virtual void OnHostFailed(HostTarget target, IOutputSink sink) { }

        /// <summary>Stops the command before any host is touched when parameters contradict each other.</summary>
        protected void ThrowInvalidArgument(string message, object? target)
        {
            ThrowTerminatingError(new RemediationException(HostRemediationErrorIds.InvalidArgument, ErrorCategory.InvalidArgument, message).ToErrorRecord(target));
        }
    }
}
