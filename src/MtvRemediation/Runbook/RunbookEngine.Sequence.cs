using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Threading;
using System.Threading.Tasks;
using MtvRemediation.Cbt;
using MtvRemediation.Diagnosis;
using MtvRemediation.Esxi;
using MtvRemediation.HostLog;
using MtvRemediation.Infrastructure;
using MtvRemediation.VSphere;

namespace MtvRemediation.Runbook
{
    /// <summary>The phases of the runbook, in the order <see cref="RunbookEngine.Run"/> runs them.</summary>
    internal enum RunbookPhase
    {
        Diagnose,
        Confirm,
        FreeSpace,
        ResetChangeTracking,
        RestartAgents,
        Verify,
        Report,
    }

    /// <summary>What a unit of parallel work writes while it runs (worker thread): each reaches the user at once.</summary>
    internal interface IRunbookWorkOutput
    {
        void WriteVerbose(string text);

        /// <summary>What the item is doing now (shown beside its name in the progress status).</summary>
        void ReportStep(string step);

        /// <summary>A finished row (a VM's summary), written before the phase ends.</summary>
        void Emit(object result);
    }

    /// <summary>One unit of parallel work of a phase, and the states whose errors it may add.</summary>
    internal sealed class RunbookWork
    {
        public RunbookWork(string label, RunbookItemState state, Action<IRunbookWorkOutput, CancellationToken> work)
            : this(label, new[] { state }, work) { }

        public RunbookWork(string label, IReadOnlyList<RunbookItemState> states, Action<IRunbookWorkOutput, CancellationToken> work)
        {
            Label = label;
            States = states;
            Work = work;
        }

        public string Label { get; }
        public IReadOnlyList<RunbookItemState> States { get; }

        /// <summary>The work (worker thread): its live output, the cancellation token.</summary>
        public Action<IRunbookWorkOutput, CancellationToken> Work { get; }
    }

    /// <summary>
    /// What the runbook needs from whoever runs it (the cmdlet; a test double in xunit):
    /// confirmation, parallel execution, host shells and output. Everything else - the order,
    /// the phases, the confirmation points and the outcomes - is <see cref="RunbookEngine.Run"/>'s.
    /// </summary>
    internal interface IRunbookHost
    {
        /// <summary>Tells the user something after the pipeline was stopped (it takes no records any more): straight to the host.</summary>
        void WriteStopNote(string text);

        /// <summary>-WhatIf: diagnose and plan, change nothing.</summary>
        bool WhatIf { get; }

        /// <summary>
        /// Offers the whole plan (a table, <see cref="RunbookPlanTable"/>) for one confirmation
        /// (pipeline thread); under -WhatIf it shows the table. False: declined, or -WhatIf.
        /// </summary>
        bool ConfirmPlan(string plan, string question);

        /// <summary>
        /// Runs a phase's work items in parallel and returns when all are done; after each item,
        /// the new errors of its states are written with <see cref="RunbookItemState.ErrorTarget"/>.
        /// </summary>
        void RunInParallel(RunbookPhase phase, string activity, IReadOnlyList<RunbookWork> work);

        /// <summary>The shell for a host (worker thread); throws <see cref="MtvException"/> when there is none.</summary>
        IEsxiShell GetShell(string hostName, CancellationToken ct);

        void Emit(object result);
        void WriteError(MtvException error, object? target);
        void WriteVerbose(string text);
        void WriteWarning(string text);
    }

    internal static partial class RunbookEngine
    {
        /// <summary>
        /// The whole runbook, in order: (1) diagnose everything read-only; offer the whole plan for
        /// one confirmation (under -WhatIf that shows the plan); (2) free /var and register the
        /// rotation job first, so clones and ESXi can write again; (3) reset CBT, each VM's row
        /// written as soon as it is reset and read again; (4) restart agents last, and only when
        /// asked, so no hostd restart interrupts a reset's tasks; (5) verify by reading the state
        /// again; then the hosts' rows and the other VMs' rows, and the report when asked.
        /// </summary>
        public static RunbookResult Run(IRunbookHost host, IReadOnlyList<RunbookVmState> vms, RunbookOptions options)
        {
            var whatIf = host.WhatIf;
            var hosts = GroupByHost(vms);
            var hostOf = new Dictionary<RunbookVmState, RunbookHostState>();
            foreach (var h in hosts) foreach (var v in h.VMs) hostOf[v] = h;
            var cbt = new ChangeTrackingRun(options.CbtReset, options.MaxPoweredOffPerHost);

            // 1. Diagnose (read-only; also under -WhatIf, which needs the sizes and files to show the plan).
            // The VMs of a vCenter are read together (one item: their folder listings and state reads
            // coalesce instead of queueing behind the throttle), beside the hosts' reads.
            host.RunInParallel(RunbookPhase.Diagnose, "Diagnosing hosts and VMs",
                vms.Where(v => v.Errors.Count == 0).GroupBy(v => v.Client)
                    .Select(g => new RunbookWork(g.First().Server, g.ToList<RunbookItemState>(), (output, ct) => DiagnoseVms(g.ToList(), cbt, ct)))
                    .Concat(hosts.Select(h => new RunbookWork(h.Name, h, (output, ct) => DiagnoseHost(h, host, options, ct))))
                    .Concat(PreflightReads(hosts, options))
                    .ToList());

            // Plan, and ask (pipeline thread): the whole plan for one confirmation.
            foreach (var h in hosts) PlanHost(h, options);
            foreach (var v in vms) PlanVm(v, hostOf.TryGetValue(v, out var hh) ? hh : null, options);
            WriteDiagnosis(host, hosts, vms);
            // A -KeepLastLines write-back left unfinished on this workstation: named before any change.
            foreach (var h in hosts) KeptTailRecord.WarnPending(host.WriteWarning, h.Name, options.LogSpace.LogPath);
            foreach (var h in hosts) foreach (var e in h.TakeNewErrors()) host.WriteError(e, h.ErrorTarget);
            foreach (var v in vms) foreach (var e in v.TakeNewErrors()) host.WriteError(e, v.ErrorTarget);
            ConfirmPlan(host, hosts, vms, options);
            var writeReport = options.ArchiveDirectory != null && !whatIf;

            var phase = RunbookPhase.FreeSpace;
            if (!whatIf)
            try
            {
                // 2. Hosts first: free /var so clones and ESXi can write, and register the rotation job.
                host.RunInParallel(RunbookPhase.FreeSpace, "Freeing /var and registering log rotation",
                    hosts.Where(h => (h.Shell != null && (h.ClearLog || h.RegisterCron)) || h.Preflight.HasWork)
                        .Select(h => new RunbookWork(h.Name, h, (output, ct) => RemediateHost(h, options, ct, output.WriteVerbose))).ToList());

                // 3. CBT resets (power operations included), as Reset-VMChangeTracking does them; the
                // downtime limit is the CBT operation's scheduling. Each VM is read again right after
                // its reset and its row written then, not at the end of the run.
                phase = RunbookPhase.ResetChangeTracking;
                var approved = vms.Where(v => v.ResetApproved).ToList();
                cbt.Approve(approved.Select(v => (v.Client, v.ResetPlan!)));
                host.RunInParallel(RunbookPhase.ResetChangeTracking, "Resetting CBT",
                    cbt.ScheduleOrder(approved, v => (v.Client, v.ResetPlan!))
                        .Select(v => new RunbookWork(v.Vm.Name, v, (output, ct) => ResetAndVerifyVm(v, cbt, ct, output))).ToList());

                // 4. Agents last, only when asked: a hostd restart would interrupt the resets' tasks.
                phase = RunbookPhase.RestartAgents;
                host.RunInParallel(RunbookPhase.RestartAgents, "Restarting management agents",
                    hosts.Where(h => h.Shell != null && h.RestartAgents)
                        .Select(h => new RunbookWork(h.Name, h, (output, ct) => RestartAgents(h, options, ct, output.WriteVerbose))).ToList());

                // 5. Verify: the state read again, not what we believe we did (the reset VMs were read after their reset).
                phase = RunbookPhase.Verify;
                host.RunInParallel(RunbookPhase.Verify, "Verifying",
                    hosts.Where(h => h.Shell != null)
                        .Select(h => new RunbookWork(h.Name, h, (output, ct) => VerifyHost(h, options, ct)))
                        .Concat(vms.Where(v => v.Before != null && v.Row == null).GroupBy(v => v.Client)
                            .Select(g => new RunbookWork(g.First().Server, g.ToList<RunbookItemState>(), (output, ct) => VerifyVmsOrFail(g.Key, g.ToList(), cbt, ct))))
                        .ToList());
            }
            catch (Exception ex) when (ex is PipelineStoppedException || ex is OperationCanceledException)
            {
                // Stopped (Ctrl+C, a stopped job): the report is still written, marked incomplete,
                // with each row as far as it got; the pipeline takes no more records, so nothing is emitted.
                if (writeReport)
                    WriteReport(host, Summarize(hosts, vms, options, whatIf), options, $"the run was stopped during phase {phase}; each row says how far it got (Actions) and where it is (FinalState)");
                throw;
            }

            var result = Summarize(hosts, vms, options, whatIf);
            // The report first, so every row written now can say where it is (the rows written
            // earlier are the same objects: they carry it too).
            if (writeReport) WriteReport(host, result, options);
            foreach (var s in result.Hosts) host.Emit(s);
            for (var i = 0; i < vms.Count; i++)
                if (vms[i].Row == null) host.Emit(result.VMs[i]);
            foreach (var s in result.VMs.Skip(vms.Count)) host.Emit(s);
            return result;
        }

        // Each VM's row once: the one written when its reset was done, or made now.
        private static RunbookResult Summarize(List<RunbookHostState> hosts, IReadOnlyList<RunbookVmState> vms, RunbookOptions options, bool whatIf) =>
            new RunbookResult(
                hosts.Select(h => SummarizeHost(h, whatIf)).ToList(),
                vms.Select(v => v.Row ?? SummarizeVm(v, whatIf)).Concat(options.UnmatchedInputs.Select(SummarizeUnmatched)).ToList());

        // Phase 3 for one VM: its reset, its state read again, its row written at once.
        private static void ResetAndVerifyVm(RunbookVmState vm, ChangeTrackingRun cbt, CancellationToken ct, IRunbookWorkOutput output)
        {
            ResetVm(vm, cbt, ct, step =>
            {
                output.ReportStep(step);
                output.WriteVerbose($"{vm.Vm.Name}: {step}...");
            });
            VerifyVmsOrFail(vm.Client, new List<RunbookVmState> { vm }, cbt, ct);
            vm.Row = SummarizeVm(vm, whatIf: false);
            output.Emit(vm.Row);
        }

        /// <summary>
        /// The one confirmation of the run: the whole plan as a table, the power-offs counted. A
        /// yes approves every planned action, a no declines all of them; nothing is asked per
        /// action, so no "Yes to All" given to a lower-impact kind of action can carry over to a
        /// power cycle. Nothing planned: nothing asked (under -WhatIf the report is still named).
        /// </summary>
        private static void ConfirmPlan(IRunbookHost runner, List<RunbookHostState> hosts, IReadOnlyList<RunbookVmState> vms, RunbookOptions options)
        {
            var resets = vms.Where(v => v.ResetPlan != null && !v.Refused).ToList();
            var planned = resets.Count > 0 || hosts.Any(h => h.HasPlannedWork);
            if (!planned && !(runner.WhatIf && options.ArchiveDirectory != null)) return;
            foreach (var h in hosts.Where(h => h.RestartAgents))
            {
                // The same vSAN/LACP check as the agent restart on its own, read during the diagnosis.
                if (h.AgentRisk?.Risky == true)
                    runner.WriteWarning($"{h.Name} is a vSAN host with LACP: restarting its management agents can affect running vSAN tasks. Restart only in a maintenance window, one host at a time.");
                else if (h.AgentRisk == null || h.AgentRisk.Unknown)
                    runner.WriteWarning($"{h.Name}: could not tell whether it uses vSAN with LACP; restarting its agents then can affect running vSAN tasks.");
            }
            var approved = runner.ConfirmPlan(RunbookPlanTable.Render(hosts, vms, options), RunbookPlanTable.Question(vms));
            foreach (var v in resets)
            {
                v.ResetApproved = approved;
                if (!approved) v.AllConfirmed = false;
            }
            if (approved) return;
            foreach (var h in hosts.Where(h => h.HasPlannedWork))
            {
                h.ClearLog = h.RegisterCron = h.RestartAgents = false;
                h.Preflight.HostdTmpMaxKB = null;
                h.Preflight.MaxLun = null;
                h.AllConfirmed = false;
            }
        }

        /// <summary>The diagnosis, as verbose lines (the summaries carry it too).</summary>
        private static void WriteDiagnosis(IRunbookHost runner, List<RunbookHostState> hosts, IReadOnlyList<RunbookVmState> vms)
        {
            foreach (var h in hosts)
            {
                var b = h.Before;
                if (b != null)
                    runner.WriteVerbose($"{h.Name}: {b.VolumePath} {b.UsedPercent.ToString("0.#", CultureInfo.InvariantCulture)}% used ({b.Status}), wrapper log {FormatBytes(b.LogSizeBytes)}; {h.Findings.Count(f => f.Signature != CloneFailureSignatures.XcopyNotUsed)} clone-failure line(s).");
                foreach (var p in h.Plan) runner.WriteVerbose($"{h.Name}: plan: {p}");
            }
            foreach (var v in vms)
            {
                if (v.Before != null && v.Inspection != null) runner.WriteVerbose($"{v.Vm.Name}: {v.Before.PowerState}, CBT {(v.Before.Enabled ? "enabled" : "disabled")}, configuration {ChangeTrackingHealth.Of(v.Inspection).Describe()}.");
                foreach (var p in v.Plan) runner.WriteVerbose($"{v.Vm.Name}: plan: {p}");
            }
        }

        /// <summary>Phase 1 for a host: its shell (a host without one is skipped, its VMs still handled), then the read-only diagnosis.</summary>
        private static void DiagnoseHost(RunbookHostState host, IRunbookHost runner, RunbookOptions options, CancellationToken ct)
        {
            IEsxiShell shell;
            try
            {
                shell = runner.GetShell(host.Name, ct);
            }
            catch (EsxiShellException ex)
            {
                // The shell layer's id stays (one id per failure kind); the message adds what the run does about it.
                host.Fail(new EsxiShellException(ex.ErrorId, ex.Category,
                    $"{ex.Message} Host '{host.Name}' is skipped (its VMs' CBT is still handled).", ex.RecommendedAction, ex));
                return;
            }
            try
            {
                DiagnoseHost(host, shell, options, ct);
            }
            catch (Exception ex) when (ex is EsxiShellException || ex is TimeoutException)
            {
                host.Fail(RunbookErrorIds.HostDiagnosisFailed, ErrorCategory.ReadError,
                    $"Diagnosing '{host.Name}' failed: {ex.Message} The host is skipped.", "Check the host's SSH access and log space.", ex, rerunCompletes: true);
                host.Shell = null;
            }
        }

        // The VMs of one vCenter at once; each VM's failure stays its own.
        private static void DiagnoseVms(IReadOnlyList<RunbookVmState> vms, ChangeTrackingRun cbt, CancellationToken ct) =>
            Task.WhenAll(vms.Select(v => DiagnoseVmOrFailAsync(v, cbt, ct))).GetAwaiter().GetResult();

        private static async Task DiagnoseVmOrFailAsync(RunbookVmState vm, ChangeTrackingRun cbt, CancellationToken ct)
        {
            try
            {
                await DiagnoseVmAsync(vm, cbt, ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is MtvException || ex is TimeoutException)
            {
                vm.Fail(RunbookErrorIds.VMDiagnosisFailed, ErrorCategory.ReadError,
                    $"Reading the CBT state of VM '{vm.Vm.Name}' failed: {ex.Message} The VM is skipped.", "Check the VM's CBT state and its datastores.", ex, rerunCompletes: true);
            }
        }

        private static void VerifyVmsOrFail(IVSphereClient client, List<RunbookVmState> vms, ChangeTrackingRun cbt, CancellationToken ct)
        {
            try
            {
                VerifyVms(client, vms, cbt, ct);
            }
            catch (Exception ex) when (ex is MtvException || ex is TimeoutException)
            {
                foreach (var v in vms.Where(v => v.After == null))
                    v.Fail(RunbookErrorIds.VerifyFailed, ErrorCategory.ReadError,
                        $"Re-reading the CBT state of VM '{v.Vm.Name}' failed: {ex.Message}", "Check the VM's CBT state by hand.", ex);
            }
        }

        private static void WriteReport(IRunbookHost runner, RunbookResult result, RunbookOptions options, string? incomplete = null)
        {
            var directory = options.ArchiveDirectory!;
            // One time stamp scheme for the report and the archives of the same run.
            var name = "mtv-remediation-" + LogClearEngine.FileStamp(options.RunStamp ?? options.StartedAt);
            var html = Path.Combine(directory, name + ".html");
            var json = Path.Combine(directory, name + ".json");
            try
            {
                Directory.CreateDirectory(directory);
                var report = BuildReport(result.Hosts, result.VMs, options.StartedAt, options.ReportServers, options.ReportParameters, options.Operator, options.ChangeTicket);
                report.Incomplete = incomplete;
                RemediationReportWriter.Save(report, html, json);
                foreach (var s in result.Hosts.Cast<RemediationSummary>().Concat(result.VMs)) { s.ReportFile = html; s.JsonReportFile = json; }
                if (incomplete != null) runner.WriteStopNote($"The stopped run's report (incomplete) is written: {html} and {json}");
                else runner.WriteVerbose($"Report written: {html} and {json}");
            }
            catch (Exception ex) when (incomplete != null && (ex is IOException || ex is UnauthorizedAccessException))
            {
                runner.WriteStopNote($"Writing the stopped run's report to '{directory}' failed: {ex.Message}");
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
            {
                runner.WriteError(new RemediationException(RunbookErrorIds.ReportFailed, ErrorCategory.WriteError,
                    $"Writing the report to '{directory}' failed: {ex.Message} The remediation itself is done; the summaries are its record.", null, ex), directory);
            }
        }

        /// <summary>The outcome of one host or VM from what was planned, done, failed and confirmed.</summary>
        public static RemediationOutcome Outcome(bool unreadable, int planned, int done, int errors, bool confirmed, bool whatIf)
        {
            if (unreadable) return RemediationOutcome.Failed;
            if (whatIf) return planned > 0 ? RemediationOutcome.Planned : errors > 0 ? RemediationOutcome.Failed : RemediationOutcome.Healthy;
            if (errors > 0) return done > 0 ? RemediationOutcome.Partial : RemediationOutcome.Failed;
            if (planned == 0) return RemediationOutcome.Healthy;
            // Planned and approved but not done (the run was stopped first): still only a plan.
            if (done == 0) return confirmed ? RemediationOutcome.Planned : RemediationOutcome.Declined;
            return confirmed ? RemediationOutcome.Remediated : RemediationOutcome.Partial;
        }
    }

    /// <summary>What <see cref="RunbookEngine.Run"/> returns (and emitted): one summary per host and per VM.</summary>
    internal sealed class RunbookResult
    {
        public RunbookResult(IReadOnlyList<RemediationHostSummary> hosts, IReadOnlyList<RemediationVMSummary> vms)
        {
            Hosts = hosts;
            VMs = vms;
        }

        public IReadOnlyList<RemediationHostSummary> Hosts { get; }
        public IReadOnlyList<RemediationVMSummary> VMs { get; }
    }
}
