using System;
using System.Management.Automation;
using System.Threading;
using MtvRemediation.Esxi;
using MtvRemediation.Infrastructure;
using MtvRemediation.Interop;
using MtvRemediation.Remediation;

namespace MtvRemediation.Commands
{
    /// <summary>Unregister-LogRotationCron: removes our rotation jobs; every other crontab byte stays.</summary>
    [Cmdlet(VerbsLifecycle.Unregister, "LogRotationCron", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(LogRotationCron))]
    public sealed class UnregisterLogRotationCronCommand : HostRemediationCmdletBase
    {
        /// <summary>Only the job for this log (default: all of ours). Binds from Get-LogRotationCron output.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        public string? LogPath { get; set; }

        protected override string ProgressActivity => "Removing log rotation cron jobs";

        protected override string? CurrentLogPath => LogPath;

        protected override bool ShouldProcessHost(HostTarget target)
        {
            var path = LogPathFor(target);
            return ShouldProcess(target.Name, path == null
                ? "Remove every MtvRemediation log rotation job from root's crontab and reload crond"
                : $"Remove the MtvRemediation log rotation job for {path} from root's crontab and reload crond");
        }

        protected override void ProcessHostCore(HostTarget target, IEsxiShell shell, IOutputSink sink, CancellationToken ct)
        {
            var path = LogPathFor(target);
            var change = LogRotationCronEngine.Unregister(shell, path, RegisterLogRotationCronCommand.Paths, ct, sink.WriteVerbose);
            if (!change.Changed)
            {
                sink.WriteVerbose($"{shell.HostName}: no MtvRemediation rotation job{(path == null ? string.Empty : " for " + path)}; crontab untouched.");
                return;
            }
            foreach (var e in change.RemovedEntries)
            {
                sink.WriteObject(RegisterLogRotationCronCommand.ToOutput(shell.HostName, e, registered: false, changed: true, change.CrondPid));
            }
        }
    }
}
