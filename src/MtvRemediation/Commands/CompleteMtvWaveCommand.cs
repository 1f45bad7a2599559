using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Threading;
using MtvRemediation.Esxi;
using MtvRemediation.HostLog;
using MtvRemediation.Infrastructure;
using MtvRemediation.VSphere;
using MtvRemediation.Wave;

namespace MtvRemediation.Commands
{
    /// <summary>
    /// Complete-MtvWave: after a migration wave, puts each host back where this module changed it
    /// for the wave, and only there: its log rotation jobs removed (as Unregister-LogRotationCron),
    /// the hostd-tmp limit put back where a raise is recorded on the host (as
    /// Restore-EsxiHostdTmpMemory), and, last, SSH stopped where -StartSshService of this module
    /// started it (the host's record on vCenter, or this session's own start). Each change is asked
    /// on its own; one row per host says what was put back and what was left, and why. The rules
    /// are <see cref="WaveCompletion"/>'s.
    /// </summary>
    [Cmdlet(VerbsLifecycle.Complete, "MtvWave", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(WaveCompletionResult))]
    public sealed class CompleteMtvWaveCommand : EsxiHostCmdletBase
    {
        // What the hosts with a live session carry, read before asking (a host missing here was not read).
        private readonly ConcurrentDictionary<HostTarget, HostPreparation> _read = new ConcurrentDictionary<HostTarget, HostPreparation>();
        private readonly Dictionary<HostTarget, HostWork> _work = new Dictionary<HostTarget, HostWork>();
        private IReadOnlyDictionary<string, SshServiceState> _ssh = new Dictionary<string, SshServiceState>();
        private string? _sshUnread;

        protected override string ProgressActivity => "Putting the hosts back after the wave";

        /// <summary>
        /// Before asking: the hosts with a live session are read over it (rotation jobs, hostd-tmp
        /// record; also under -WhatIf, which opens no connection), and every host's SSH service and
        /// record through vCenter, so each confirmation names exactly what would be put back.
        /// </summary>
        protected override void EndProcessing()
        {
            var store = EsxiSessionStore.ForCurrentRunspace();
            var live = Targets.Where(t => (t.Session ?? store.Find(t.Name)) is { IsConnected: true }).ToList();
            RunOnHosts(live, "Reading what the wave's preparation left",
                (target, shell, sink, ct) => _read[target] = WaveCompletion.Read(shell, RegisterLogRotationCronCommand.Paths, ct),
                (target, ex, sink) => sink.WriteVerbose($"{target.Name}: could not read it before asking ({ex.Message})."));
            ReadSsh();
            base.EndProcessing();
            if (IsWhatIf()) return; // the confirmations listed what would be put back; nothing was done
            foreach (var t in Targets)
                if (_work.TryGetValue(t, out var w)) WriteObject(w.ToResult(t.Name));
        }

        private void ReadSsh()
        {
            var connections = VIConnectionStore.Current.GetAll().Where(c => c.IsConnected).ToList();
            if (connections.Count == 0)
            {
                _sshUnread = "no vCenter connection, where the record of SSH started by -StartSshService is kept; connect to vCenter and run this again to stop it";
                return;
            }
            try
            {
                _ssh = SshServiceController.ForCurrentRunspace().Read(connections, Targets.Select(t => t.Name).ToList(), CancelToken);
            }
            catch (Exception ex) when (ex is VimFaultException || ex is VimTransportException)
            {
                _sshUnread = "reading it through vCenter failed: " + ex.Message;
            }
        }

        private SshFacts SshFactsOf(HostTarget target)
        {
            if (_sshUnread != null) return new SshFacts { Unread = _sshUnread };
            if (!_ssh.TryGetValue(target.Name, out var s)) return new SshFacts { Unread = "the host (or its SSH service) was not found in vCenter" };
            return new SshFacts
            {
                Running = s.Running,
                PolicyOn = s.PolicyOn,
                RecordedBy = s.Record?.Who,
                StartedHere = SshServiceController.ForCurrentRunspace().StartedFor(target.Name, null),
                RecordedRunEnded = s.Record != null && s.Record.IsOfEndedRun(DateTime.UtcNow, SshServiceController.IsLiveRun),
            };
        }

        private protected override bool ShouldProcessHost(HostTarget target)
        {
            var w = _work[target] = new HostWork();
            _read.TryGetValue(target, out var read);
            if (read != null && read.RotationJobs.Count == 0) w.Left.Add(WaveCompletion.NoRotationJob);
            else w.Rotation = Ask(target, w, WaveCompletion.RotationAction(read?.RotationJobs), "Rotation: not confirmed; the job stays");
            if (read?.HostdTmpProblem != null) w.Left.Add("hostd-tmp: not read: " + read.HostdTmpProblem);
            else if (read != null && !read.HostdTmpRecord) w.Left.Add(WaveCompletion.NoHostdTmpRecord);
            else w.HostdTmp = Ask(target, w, WaveCompletion.HostdTmpAction(read?.HostdTmpRecordedMaxKB), "hostd-tmp: not confirmed; the raised limit stays");
            w.Ssh = WaveCompletion.DecideSsh(SshFactsOf(target));
            if (w.Ssh.Action != SshGiveBackAction.Leave)
                w.SshConfirmed = Ask(target, w, w.Ssh.Text, "SSH (TSM-SSH): not confirmed; left as it is");
            return w.Rotation || w.HostdTmp;
        }

        // One confirmation per change; a declined one is left, with that reason.
        private bool Ask(HostTarget target, HostWork w, string action, string declined)
        {
            var yes = ShouldProcess(target.Name, action);
            if (!yes) w.Left.Add(declined);
            return yes;
        }

        private protected override void ProcessHost(HostTarget target, IEsxiShell shell, IOutputSink sink, CancellationToken ct)
        {
            var w = _work[target];
            if (w.Rotation)
            {
                try
                {
                    var change = LogRotationCronEngine.Unregister(shell, null, RegisterLogRotationCronCommand.Paths, ct, sink.WriteVerbose);
                    if (change.Changed)
                    {
                        w.RotationRemoved.AddRange(change.RemovedEntries.Select(e => e.LogPath));
                        w.Restored.Add($"Rotation: removed the job{(change.Removed > 1 ? "s" : "")} for {string.Join(", ", w.RotationRemoved)} and reloaded crond");
                    }
                    else w.Left.Add(WaveCompletion.NoRotationJob);
                }
                catch (MtvException ex) when (!ct.IsCancellationRequested)
                {
                    PartFailed(target, w, sink, ex, "Rotation: not removed: ");
                }
                w.Rotation = false;
            }
            if (w.HostdTmp)
            {
                try
                {
                    var change = HostdTmpMemory.RestoreRecorded(shell, target.Name, ct, out var restored);
                    if (restored)
                    {
                        w.HostdTmpMaxKB = change.MaxKB;
                        w.Restored.Add($"hostd-tmp: memory max put back to {change.MaxKB} KB (was {change.PreviousMaxKB} KB); the record was removed");
                    }
                    else w.Left.Add(WaveCompletion.NoHostdTmpRecord);
                }
                catch (MtvException ex) when (!ct.IsCancellationRequested)
                {
                    PartFailed(target, w, sink, ex, "hostd-tmp: not restored: ");
                }
                w.HostdTmp = false;
            }
        }

        private void PartFailed(HostTarget target, HostWork w, IOutputSink sink, MtvException ex, string what)
        {
            sink.WriteError(ex.ToErrorRecord(target.InputObject, MyInvocation.MyCommand.Name));
            w.Left.Add(what + ex.Message);
            w.Failed = true;
        }

        // A host that could not be had: the parts not done yet are left, with the reason.
        private protected override void OnHostFailed(HostTarget target, MtvException error, IOutputSink sink)
        {
            base.OnHostFailed(target, error, sink);
            if (!_work.TryGetValue(target, out var w)) return;
            if (w.Rotation) w.Left.Add("Rotation: not checked: " + error.Message);
            if (w.HostdTmp) w.Left.Add("hostd-tmp: not checked: " + error.Message);
            w.Rotation = w.HostdTmp = false;
            w.Failed = true;
        }

        // SSH last, on the pipeline thread: the work above needed it.
        private protected override void AfterHosts()
        {
            if (IsWhatIf()) return;
            var controller = SshServiceController.ForCurrentRunspace();
            var store = EsxiSessionStore.ForCurrentRunspace();
            foreach (var t in Targets)
            {
                if (!_work.TryGetValue(t, out var w) || w.Ssh == null) continue;
                if (SshStartedForThisCommand(t.Name))
                {
                    // -StartSshService of this command: stopped again as it ends, and whatever an ended run left is taken over then.
                    if (w.Ssh.Action == SshGiveBackAction.Stop) { w.SshStopped = true; w.Restored.Add("SSH (TSM-SSH): stopped as this command ends (-StartSshService took over what an ended run started)"); }
                    else w.Left.Add("SSH (TSM-SSH) was stopped before this command; -StartSshService started it for this command only and stops it as the command ends");
                    continue;
                }
                if (w.Ssh.Action == SshGiveBackAction.Leave) { w.Left.Add(w.Ssh.Text); continue; }
                if (!w.SshConfirmed) continue;
                if (w.Ssh.Action == SshGiveBackAction.Stop && w.Failed)
                {
                    w.Left.Add("SSH (TSM-SSH): left running, as the rotation jobs and the hostd-tmp limit were not all put back over it; run this again");
                    continue;
                }
                var state = _ssh[t.Name];
                try
                {
                    if (w.Ssh.Action == SshGiveBackAction.ClearRecord)
                    {
                        SshServiceController.ClearRecord(state, CancelToken);
                        w.Restored.Add("SSH (TSM-SSH): " + w.Ssh.Text.Substring(0, 1).ToLowerInvariant() + w.Ssh.Text.Substring(1));
                        continue;
                    }
                    if (store.Find(t.Name) is { } session)
                    {
                        store.Remove(session);
                        WriteVerbose($"{t.Name}: closed session {session.Id} before stopping SSH.");
                    }
                    if (controller.StartedFor(t.Name, null)) controller.StopIfStarted(t.Name, null, CancelToken);
                    else if (SshServiceController.FinishEndedRun(state, CancelToken) == null)
                    {
                        w.Left.Add($"SSH (TSM-SSH) was started by a run of this module that may still be working ({state.Record?.Who}): that run stops it when it ends; left running");
                        continue;
                    }
                    w.SshStopped = true;
                    w.Restored.Add("SSH (TSM-SSH): stopped, as -StartSshService of this module had started it; the record was cleared");
                }
                catch (Exception ex) when (ex is VimFaultException || ex is VimTransportException)
                {
                    WriteError(new EsxiShellException(SshServiceErrorIds.StopFailed, ErrorCategory.InvalidOperation,
                        $"Stopping SSH (TSM-SSH) on '{t.Name}' failed: {ex.Message} SSH is still running there.",
                        "Stop SSH in vCenter (host > Configure > Services > SSH), or run this again.", ex).ToErrorRecord(t.InputObject));
                    w.Left.Add("SSH (TSM-SSH): stopping it failed: " + ex.Message);
                }
            }
        }

        /// <summary>One host's confirmations and outcome (pipeline thread, then its one worker).</summary>
        private sealed class HostWork
        {
            public bool Rotation;
            public bool HostdTmp;
            public SshGiveBack? Ssh;
            public bool SshConfirmed;
            public bool Failed;
            public bool SshStopped;
            public long? HostdTmpMaxKB;
            public readonly List<string> RotationRemoved = new List<string>();
            public readonly List<string> Restored = new List<string>();
            public readonly List<string> Left = new List<string>();

            public WaveCompletionResult ToResult(string host) => new WaveCompletionResult
            {
                VMHost = host,
                RotationJobsRemoved = RotationRemoved,
                HostdTmpMaxKB = HostdTmpMaxKB,
                SshStopped = SshStopped,
                Changed = Restored.Count > 0,
                Restored = Restored,
                Left = Left,
            };
        }
    }
}
