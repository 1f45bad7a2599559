using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Threading;
using MtvRemediation.Diagnosis;
using MtvRemediation.Esxi;
using MtvRemediation.HostLog;
using MtvRemediation.Infrastructure;
using MtvRemediation.Interop;

namespace MtvRemediation.Commands
{
    /// <summary>Unregister-LogRotationCron: removes our rotation jobs; every other crontab byte stays.</summary>
    [Cmdlet(VerbsLifecycle.Unregister, "LogRotationCron", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(LogRotationCron))]
    public sealed class UnregisterLogRotationCronCommand : EsxiHostCmdletBase
    {
        private readonly PerInput<string?> _logPath;

        // The jobs of the hosts with a live session, read before asking (a host missing here was not read).
        private readonly ConcurrentDictionary<HostTarget, IReadOnlyList<string>> _jobs = new ConcurrentDictionary<HostTarget, IReadOnlyList<string>>();

        public UnregisterLogRotationCronCommand() => _logPath = CapturePerInput(() => AbsoluteLogPath(LogPath));

        /// <summary>Only the job for this log (default: all of ours). Binds from Get-LogRotationCron output.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(WrapperLogPathCompleter))]
        public string? LogPath { get; set; }

        protected override string ProgressActivity => "Removing log rotation cron jobs";

        /// <summary>
        /// Before asking: the hosts that already have a live session are read (the crontab, nothing
        /// written; also under -WhatIf, which opens no connection), so the confirmation names the
        /// jobs that exist and a host without one is not asked about.
        /// </summary>
        protected override void EndProcessing()
        {
            var store = EsxiSessionStore.ForCurrentRunspace();
            var live = Targets.Where(t => (t.Session ?? store.Find(t.Name)) is { IsConnected: true }).ToList();
            RunOnHosts(live, "Reading log rotation cron jobs",
                (target, shell, sink, ct) =>
                {
                    var read = HostDiagnosisReader.Read(shell, new HostDiagnosisRequest { Cron = RegisterLogRotationCronCommand.Paths }, ct);
                    _jobs[target] = HostDiagnosis.Required(read.Cron, read.CronError).Entries
                        .Select(e => e.LogPath).Where(p => _logPath.For(target) == null || p == _logPath.For(target)).ToList();
                },
                (target, ex, sink) => sink.WriteVerbose($"{target.Name}: could not read the crontab before asking ({ex.Message})."));
            base.EndProcessing();
        }

        private protected override bool ShouldProcessHost(HostTarget target)
        {
            var path = _logPath.For(target);
            if (!_jobs.TryGetValue(target, out var jobs))
                return ShouldProcess(target.Name, path == null
                    ? "Remove every MtvRemediation log rotation job from root's crontab and reload crond"
                    : $"Remove the MtvRemediation log rotation job for {path} from root's crontab and reload crond");
            if (jobs.Count == 0)
            {
                WriteVerbose($"{target.Name}: no MtvRemediation rotation job{(path == null ? string.Empty : " for " + path)}; nothing to remove.");
                return false;
            }
            return ShouldProcess(target.Name, $"Remove the MtvRemediation log rotation job{(jobs.Count > 1 ? "s" : string.Empty)} for {string.Join(", ", jobs)} from root's crontab and reload crond");
        }

        private protected override void ProcessHost(HostTarget target, IEsxiShell shell, IOutputSink sink, CancellationToken ct)
        {
            var path = _logPath.For(target);
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
