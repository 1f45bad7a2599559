using System;
using System.Management.Automation;
using System.Threading;
using MtvRemediation.Diagnosis;
using MtvRemediation.Esxi;
using MtvRemediation.HostLog;
using MtvRemediation.Infrastructure;
using MtvRemediation.Interop;
using MtvRemediation.Wrapper;

namespace MtvRemediation.Commands
{
    /// <summary>Register-LogRotationCron: a temporary root cron job that keeps the wrapper log under a size.</summary>
    [Cmdlet(VerbsLifecycle.Register, "LogRotationCron", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(LogRotationCron))]
    public sealed class RegisterLogRotationCronCommand : EsxiHostCmdletBase
    {
        private readonly PerInput<string> _logPath;

        public RegisterLogRotationCronCommand() => _logPath = CapturePerInput(() => ValidLogPath(LogPath));

        [Parameter]
        [ValidateRange(1, 59)]
        public int IntervalMinutes { get; set; } = 5;

        /// <summary>Not given: 20 MiB capped at a quarter of the volume that really holds the log (measured per host).</summary>
        [Parameter]
        [ValidateRange(1, 1024)]
        public int MaxSizeMB { get; set; } = LogRotationCronEngine.DefaultMaxSizeMB;

        private bool LimitFollowsVolume => !MyInvocation.BoundParameters.ContainsKey(nameof(MaxSizeMB));

        [Parameter(ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(WrapperLogPathCompleter))]
        public string LogPath { get; set; } = LogSpaceOptions.DefaultLogPath;

        protected override string ProgressActivity => "Registering log rotation cron jobs";

        internal static CronPaths Paths { get; } = new CronPaths();

        // The rotation job's own path rule (RotationEntry.ValidatePath), then the host path rule.
        private string ValidLogPath(string logPath)
        {
            try { RotationEntry.ValidatePath(logPath); }
            catch (ArgumentException ex) { ThrowInvalidArgument($"-LogPath '{logPath}': {ex.Message.Split('\n')[0]}", logPath); }
            return AbsoluteLogPath(logPath)!;
        }

        protected override void EndProcessing()
        {
            if (Targets.Count > 0)
                WriteWarning("The rotation job is temporary by design: it lives in the host's in-memory crontab and is lost when the host reboots. Register it again after a reboot during the migration wave. Afterwards, " +
                    ErrorRecords.NextCommandText(NextCommand.UnregisterLogRotation, null));
            base.EndProcessing();
        }

        private protected override bool ShouldProcessHost(HostTarget target)
        {
            var path = _logPath.For(target);
            return ShouldProcess(target.Name,
                $"Add a temporary cron job to root's crontab that truncates {path} in place when it is larger than " +
                (LimitFollowsVolume ? $"a quarter of the volume holding it (at most {MaxSizeMB} MB)" : $"{MaxSizeMB} MB") +
                $", every {IntervalMinutes} minute(s), and reload crond");
        }

        private protected override void ProcessHost(HostTarget target, IEsxiShell shell, IOutputSink sink, CancellationToken ct)
        {
            var path = _logPath.For(target);
            // One read, both pieces at once: does rotation apply to this wrapper, and the volume that
            // really holds the log (OSDATA, the tmp ramdisk of a degraded host, the var ramdisk before
            // 7.0), whose size caps the limit by the same rule as Invoke-MtvRemediation.
            var read = HostDiagnosisReader.Read(shell, new HostDiagnosisRequest
            {
                LogFactsFor = WrapperLogApplicability.DependsOnGeneration(path) ? path : null,
                Space = LimitFollowsVolume ? new LogSpaceOptions { LogPath = path } : null,
            }, ct);
            read.ThrowIfRefused(path, WrapperLogAction.RegisterRotation);
            var maxMB = MaxSizeMB;
            if (LimitFollowsVolume)
            {
                var space = HostDiagnosis.Required(read.Space, read.SpaceError);
                maxMB = LogRotationCronEngine.LimitMBFor(space.VolumeSizeBytes, MaxSizeMB);
                sink.WriteVerbose($"{shell.HostName}: {path} lives on {space.VolumePath} ({space.VolumeKind} {space.VolumeName}, {space.VolumeSizeBytes} bytes): rotation limit {maxMB} MB.");
            }
            var entry = new RotationEntry(RotationEntry.ScheduleForInterval(IntervalMinutes), path, maxMB * 1024L * 1024L);
            var change = LogRotationCronEngine.Register(shell, entry, Paths, ct, sink.WriteVerbose);
            var output = ToOutput(shell.HostName, entry, registered: true, change.Changed, change.CrondPid);
            if (change.Reloaded) output.Note = "crond had not read the crontab's last change (a run stopped between its rename and its reload): reloaded.";
            sink.WriteObject(output);
        }

        internal static LogRotationCron ToOutput(string host, RotationEntry e, bool registered, bool changed, int? pid) => new LogRotationCron
        {
            VMHost = host,
            LogPath = e.LogPath,
            Schedule = e.Schedule,
            Command = e.Command,
            MaxSizeBytes = e.MaxBytes,
            MaxSizeMB = (int)Math.Ceiling(e.MaxBytes / (1024.0 * 1024.0)),
            Registered = registered,
            Changed = changed,
            CrondPid = pid,
        };
    }
}
