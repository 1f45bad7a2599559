using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using MtvRemediation.Diagnosis;
using MtvRemediation.Esxi;
using MtvRemediation.HostLog;
using MtvRemediation.Infrastructure;

namespace MtvRemediation.Wave
{
    /// <summary>What the wave's preparation left on one host, as read over SSH (nothing written).</summary>
    internal sealed class HostPreparation
    {
        /// <summary>The log paths of this module's rotation jobs in root's crontab.</summary>
        public IReadOnlyList<string> RotationJobs { get; set; } = Array.Empty<string>();

        /// <summary>The hostd-tmp max to put back (Set-EsxiHostdTmpMemory's record), or null without a record.</summary>
        public long? HostdTmpRecordedMaxKB { get; set; }
        public bool HostdTmpRecord { get; set; }

        /// <summary>Why the hostd-tmp group or its record could not be read (then nothing is restored).</summary>
        public string? HostdTmpProblem { get; set; }
    }

    /// <summary>What is done with a host's SSH service after the wave.</summary>
    internal enum SshGiveBackAction { Leave, ClearRecord, Stop }

    /// <summary>The SSH service of one host as the after-the-wave decision needs it (read through vCenter).</summary>
    internal sealed class SshFacts
    {
        /// <summary>Why it could not be read (no vCenter connection, host not found); null when read.</summary>
        public string? Unread { get; set; }
        public bool Running { get; set; }
        public bool PolicyOn { get; set; }

        /// <summary>The host carries the record that a run of this module started SSH (who, or null).</summary>
        public string? RecordedBy { get; set; }

        /// <summary>This runspace started it (Connect-EsxiShell -StartSshService) and has not stopped it.</summary>
        public bool StartedHere { get; set; }

        /// <summary>The run named by the record has ended (its process or runspace is gone).</summary>
        public bool RecordedRunEnded { get; set; }
    }

    internal sealed class SshGiveBack
    {
        public SshGiveBack(SshGiveBackAction action, string text)
        {
            Action = action;
            Text = text;
        }

        public SshGiveBackAction Action { get; }

        /// <summary>Leave: why it is left. ClearRecord/Stop: what is done (the confirmation's action).</summary>
        public string Text { get; }
    }

    /// <summary>
    /// After the wave: the rules of what is put back on a host, and the steps, each through the
    /// operation that made the change (the rotation job: <see cref="LogRotationCronEngine.Unregister"/>;
    /// the hostd-tmp limit: <see cref="HostdTmpMemory.RestoreRecorded"/>; SSH: the record of
    /// -StartSshService). Only what a record says this module did is undone: no record, no change.
    /// </summary>
    internal static class WaveCompletion
    {
        /// <summary>The rotation jobs and the hostd-tmp record, read in two commands (nothing is written).</summary>
        public static HostPreparation Read(IEsxiShell shell, CronPaths paths, CancellationToken ct)
        {
            var read = HostDiagnosisReader.Read(shell, new HostDiagnosisRequest { Cron = paths }, ct);
            var prep = new HostPreparation { RotationJobs = HostDiagnosis.Required(read.Cron, read.CronError).Entries.Select(e => e.LogPath).ToList() };
            try
            {
                var tmp = HostdTmpMemory.Read(shell, ct);
                prep.HostdTmpRecord = tmp.HasRecord;
                prep.HostdTmpRecordedMaxKB = tmp.RecordedMaxKB;
            }
            catch (RemediationException ex)
            {
                prep.HostdTmpProblem = ex.Message;
            }
            return prep;
        }

        /// <summary>
        /// SSH is stopped only where this module started it: this runspace did (and has not stopped
        /// it), or the host's record names a run that has ended. Never where the policy is 'on' (the
        /// record, if any, is cleared), never where no record says the module started it (it ran
        /// before, or someone else started it), never under a run that may still be working.
        /// </summary>
        public static SshGiveBack DecideSsh(SshFacts f)
        {
            if (f.Unread != null) return Leave("SSH (TSM-SSH): not checked: " + f.Unread);
            var recorded = f.RecordedBy != null;
            if (!recorded && !f.StartedHere)
                return Leave(f.Running
                    ? "SSH (TSM-SSH) runs, and no record says this module started it (it ran before the wave, or was started by someone else): left running"
                    : "SSH (TSM-SSH) is stopped: nothing to stop");
            if (f.PolicyOn)
                return recorded
                    ? new SshGiveBack(SshGiveBackAction.ClearRecord, "Clear the record that this module started SSH (TSM-SSH); its policy is 'on', so it stays running")
                    : Leave("SSH (TSM-SSH): its policy is 'on': left running");
            if (!f.Running)
                return recorded
                    ? new SshGiveBack(SshGiveBackAction.ClearRecord, "Clear the record that this module started SSH (TSM-SSH); it is stopped already (a reboot, or stopped by hand)")
                    : Leave("SSH (TSM-SSH) is stopped: nothing to stop");
            if (f.StartedHere)
                return new SshGiveBack(SshGiveBackAction.Stop, "Close this session's SSH connection to the host, stop SSH (TSM-SSH), which -StartSshService of this session started, and clear its record");
            if (f.RecordedRunEnded)
                return new SshGiveBack(SshGiveBackAction.Stop, $"Stop SSH (TSM-SSH), which -StartSshService of an ended run started ({f.RecordedBy}), closing this session's connection to the host first, and clear its record");
            return Leave($"SSH (TSM-SSH) was started by a run of this module that may still be working ({f.RecordedBy}): that run stops it when it ends; left running");
        }

        private static SshGiveBack Leave(string why) => new SshGiveBack(SshGiveBackAction.Leave, why);

        /// <summary>The confirmation's action for the rotation jobs (all of ours when they were not read).</summary>
        public static string RotationAction(IReadOnlyList<string>? jobs) => jobs == null
            ? "Remove every MtvRemediation log rotation job from root's crontab and reload crond"
            : $"Remove the MtvRemediation log rotation job{(jobs.Count > 1 ? "s" : "")} for {string.Join(", ", jobs)} from root's crontab and reload crond";

        /// <summary>The confirmation's action for the hostd-tmp limit (the recorded value when it was read).</summary>
        public static string HostdTmpAction(long? recordedMaxKB) => recordedMaxKB == null
            ? $"Put the hostd-tmp resource group's memory max back to the value recorded in {HostdTmpMemory.RecordPath}, if a raise of this module is recorded there, and remove the record"
            : $"Put the hostd-tmp resource group's memory max back to {recordedMaxKB} KB, the value recorded in {HostdTmpMemory.RecordPath} before the wave, and remove the record";

        public const string NoRotationJob = "Rotation: no log rotation job of this module in root's crontab";
        public const string NoHostdTmpRecord = "hostd-tmp: no record of a raise by this module (none made, or the host rebooted since, which restored the default)";
    }
}
