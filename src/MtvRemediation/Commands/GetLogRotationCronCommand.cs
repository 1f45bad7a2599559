using System;
using System.Management.Automation;
using System.Threading;
using MtvRemediation.Diagnosis;
using MtvRemediation.Esxi;
using MtvRemediation.Infrastructure;
using MtvRemediation.Interop;

namespace MtvRemediation.Commands
{
    /// <summary>Get-LogRotationCron: our rotation jobs in root's crontab (never anyone else's lines).</summary>
    [Cmdlet(VerbsCommon.Get, "LogRotationCron", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(LogRotationCron))]
    public sealed class GetLogRotationCronCommand : EsxiHostCmdletBase
    {
        /// <summary>Only the job for this log (default: all of ours).</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(WrapperLogPathCompleter))]
        public string? LogPath { get; set; }

        protected override string ProgressActivity => "Reading log rotation cron jobs";

        private protected override void ProcessHost(HostTarget target, IEsxiShell shell, IOutputSink sink, CancellationToken ct)
        {
            var read = HostDiagnosisReader.Read(shell, new HostDiagnosisRequest { Cron = RegisterLogRotationCronCommand.Paths }, ct);
            var found = HostDiagnosis.Required(read.Cron, read.CronError);
            foreach (var e in found.Entries)
            {
                if (LogPath != null && e.LogPath != LogPath) continue;
                sink.WriteObject(RegisterLogRotationCronCommand.ToOutput(shell.HostName, e, registered: true, changed: false, found.CrondPid));
            }
        }
    }
}
