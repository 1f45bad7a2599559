using System;
using System.Linq;
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
        [ArgumentCompleter(typeof(WrapperLogPathCompleter))]
        public string? LogPath { get; set; }

        protected override string ProgressActivity => "Removing log rotation cron jobs";

        protected override string? CurrentLogPath => LogPath;

        private protected override bool ShouldProcessHost(HostTarget target)
        {
            var path = LogPathFor(target);
            if (IsWhatIf() && !AnnounceWhatIf(target, path)) return false;
            return ShouldProcess(target.Name, path == null
                ? "Remove every MtvRemediation log rotation job from root's crontab and reload crond"
                : $"Remove the MtvRemediation log rotation job for {path} from root's crontab and reload crond");
        }

        private bool IsWhatIf()
            => MyInvocation.BoundParameters.TryGetValue("WhatIf", out var w) ? LanguagePrimitives.IsTrue(w) : LanguagePrimitives.IsTrue(GetVariableValue("WhatIfPreference"));

        /// <summary>
        /// -WhatIf opens no connection, but a host with a live session is read (the crontab, nothing
        /// written), so the plan names only jobs that exist. False: nothing to announce for it.
        /// </summary>
        private bool AnnounceWhatIf(HostTarget target, string? path)
        {
            var session = target.Session ?? EsxiSessionStore.ForCurrentRunspace().Find(target.Name);
            if (session == null || !session.IsConnected) return true;
            try
            {
                var read = HostDiagnosisReader.Read(session.Shell, new HostDiagnosisRequest { Cron = RegisterLogRotationCronCommand.Paths }, CancelToken);
                var jobs = HostDiagnosis.Required(read.Cron, read.CronError).Entries
                    .Where(e => path == null || e.LogPath == path).ToList();
                if (jobs.Count == 0)
                {
                    WriteVerbose($"{target.Name}: no MtvRemediation rotation job{(path == null ? string.Empty : " for " + path)}; nothing would be removed.");
                    return false;
                }
                foreach (var e in jobs) ShouldProcess(target.Name, $"Remove the MtvRemediation log rotation job for {e.LogPath} from root's crontab and reload crond");
                return false;
            }
            catch (Exception ex) when (ex is RemediationException || ex is EsxiShellException || ex is TimeoutException)
            {
                WriteVerbose($"{target.Name}: could not read the crontab for the plan ({ex.Message}).");
                return true;
            }
        }

        private protected override void ProcessHostCore(HostTarget target, IEsxiShell shell, IOutputSink sink, CancellationToken ct)
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
