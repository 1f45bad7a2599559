using System;
using System.Management.Automation;
using System.Threading;
using MtvRemediation.Esxi;
using MtvRemediation.Infrastructure;
using MtvRemediation.Interop;
using MtvRemediation.Remediation;

namespace MtvRemediation.Commands
{
    /// <summary>
    /// Shared by the host remediation cmdlets: turns an engine's <see cref="RemediationException"/>
    /// into a per-host error record (stable id, category, next step, the input as TargetObject),
    /// so one failing host never stops the others.
    /// </summary>
    public abstract class HostRemediationCmdletBase : EsxiHostCmdletBase
    {
        private readonly System.Collections.Generic.Dictionary<HostTarget, string?> _logPaths = new System.Collections.Generic.Dictionary<HostTarget, string?>();

        /// <summary>
        /// The -LogPath bound for this pipeline input (parameters bound by property name change per
        /// input record; the base collects hosts and works on them later, so remember it per host).
        /// </summary>
        protected virtual string? CurrentLogPath => null;

        protected override void OnTargetAdded(HostTarget target)
        {
            _logPaths[target] = CurrentLogPath;
            base.OnTargetAdded(target);
        }

        /// <summary>The log path that came with <paramref name="target"/>'s input record.</summary>
        protected string? LogPathFor(HostTarget target) => _logPaths.TryGetValue(target, out var p) ? p : CurrentLogPath;

        protected sealed override void ProcessHost(HostTarget target, IEsxiShell shell, IOutputSink sink, CancellationToken cancellationToken)
        {
            try
            {
                ProcessHostCore(target, shell, sink, cancellationToken);
            }
            catch (RemediationException ex)
            {
                sink.WriteError(ex.ToErrorRecord(target.InputObject));
                OnHostFailed(target, sink);
            }
            catch (EsxiShellException ex)
            {
                sink.WriteError(ex.ToErrorRecord(target.InputObject));
                OnHostFailed(target, sink);
            }
        }

        protected abstract void ProcessHostCore(HostTarget target, IEsxiShell shell, IOutputSink sink, CancellationToken cancellationToken);

        /// <summary>After a host's error was written (e.g. -Quiet writes $false).</summary>
        protected virtual void OnHostFailed(HostTarget target, IOutputSink sink) { }

        /// <summary>Stops the command before any host is touched when parameters contradict each other.</summary>
        protected void ThrowInvalidArgument(string message, object? target)
        {
            ThrowTerminatingError(new ErrorRecord(new ArgumentException(message), HostRemediationErrorIds.InvalidArgument, ErrorCategory.InvalidArgument, target));
        }
    }
}
