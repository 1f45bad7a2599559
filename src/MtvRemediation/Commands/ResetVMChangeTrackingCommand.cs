using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Threading;
using MtvRemediation.Cbt;
using MtvRemediation.Esxi;
using MtvRemediation.Infrastructure;
using MtvRemediation.Interop;
using MtvRemediation.Runbook;
using MtvRemediation.VSphere;

namespace MtvRemediation.Commands
{
    /// <summary>
    /// Resets Changed Block Tracking in VMware KB 2139574's order: refuse VMs with snapshots, power
    /// off safely (only with -PowerOff), disable CBT, delete each disk's own -ctk.vmdk, power on and
    /// off once with CBT disabled, re-enable CBT, restore the power state, check one -ctk.vmdk per
    /// disk. Reports every step, every power transition and the final state read from the server.
    /// </summary>
    [Cmdlet(VerbsCommon.Reset, "VMChangeTracking", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
    [OutputType(typeof(ChangeTrackingResetResult))]
    public sealed class ResetVMChangeTrackingCommand : VMCmdlet
    {
        /// <summary>Allow powered-on VMs: shut the guest down through VMware Tools and power on again afterwards.</summary>
        [Parameter]
        public SwitchParameter PowerOff { get; set; }

        /// <summary>Allow a hard power-off when VMware Tools is not running or the guest shutdown times out.</summary>
        [Parameter]
        public SwitchParameter Force { get; set; }

        [Parameter]
        [ValidateRange(0, 86400)]
        public int ShutdownTimeoutSeconds { get; set; } = 300;

        /// <summary>Also delete -ctk.vmdk files in the disks' folders whose disk descriptor no longer exists.</summary>
        [Parameter]
        public SwitchParameter IncludeOrphanedCtk { get; set; }

        /// <summary>Leave out the KB's power-on/power-off with CBT disabled (the help names the risk).</summary>
        [Parameter]
        public SwitchParameter SkipPowerCycle { get; set; }

        [Parameter]
        [ValidateRange(1, 64)]
        public int ThrottleLimit { get; set; } = 4;

        /// <summary>The downtime limit: at most this many running VMs of one host are powered off at the same time (the others wait their turn), as in Invoke-MtvRemediation.</summary>
        [Parameter]
        [ValidateRange(1, 1000)]
        public int MaxPoweredOffPerHost { get; set; }

        /// <summary>
        /// The 7228 findings (Find-MtvCloneFailure) the reset answers: after a successful reset the
        /// failed clone task directories they name for the VM are removed, as Invoke-MtvRemediation does.
        /// </summary>
        [Parameter]
        public CloneFailureFinding[] Finding { get; set; } = Array.Empty<CloneFailureFinding>();

        protected override void EndProcessing()
        {
            var targets = ResolveTargets();
            if (targets.Count == 0) return;
            var cbt = new ChangeTrackingRun(new ChangeTrackingResetOptions
            {
                PowerOff = PowerOff,
                Force = Force,
                ShutdownTimeout = TimeSpan.FromSeconds(ShutdownTimeoutSeconds),
                IncludeOrphanedCtk = IncludeOrphanedCtk,
                SkipPowerCycle = SkipPowerCycle,
            }, MaxPoweredOffPerHost);

            // Read-only: every VM's plan (also for -WhatIf, which lists its files).
            var plans = new ChangeTrackingResetPlan?[targets.Count];
            var indexes = Enumerable.Range(0, targets.Count).ToList();
            RunParallel(indexes, ThrottleLimit, "Finding -ctk.vmdk files", i => targets[i].Vm.Name, (i, sink, ct) =>
            {
                var t = targets[i];
                try
                {
                    plans[i] = cbt.Plan(t.Connection.Client, t.Vm, ct);
                }
                catch (Exception ex) when (ex is VimFaultException || ex is VimTransportException || ex is TimeoutException)
                {
                    sink.WriteError(ErrorFor(ex, t.Input.Original, t.Connection));
                }
            });

            // The findings it answers: given with -Finding, or piped in as the VMs themselves.
            var findings = Finding.Concat(targets.Select(t => (t.Input.Original is PSObject ps ? ps.BaseObject : t.Input.Original) as CloneFailureFinding))
                .Where(f => f != null).Select(f => f!).Distinct().ToList();
            var answers = indexes.Select(i => AnsweredBy(findings, targets[i].Vm)).ToArray();
            foreach (var f in findings.Where(f => CbtResetPlanner.AnsweredTaskDirectory(f) != null && !targets.Any(t => CbtResetPlanner.Mentions(f, t.Vm))))
                WriteWarning($"-Finding {f.Source} names none of the VMs given (its disk: {f.Disk}): its task directory is left on {f.VMHost}.");
            var approved = indexes.Where(i => plans[i] != null && ConfirmReset(targets[i], plans[i]!, answers[i])).ToList();
            var shells = answers.Any(a => a.Count > 0) ? EsxiShellResolver.ForCurrentRunspace() : null;
            cbt.Approve(approved.Select(i => ((IVSphereClient)targets[i].Connection.Client, plans[i]!)));

            // Each result is the server's truth at the end. Under the downtime limit the hosts take turns.
            var order = cbt.ScheduleOrder(approved, i => ((IVSphereClient)targets[i].Connection.Client, plans[i]!));
            RunParallel(order, ThrottleLimit, "Resetting CBT", i => targets[i].Vm.Name, (i, sink, ct) =>
            {
                var t = targets[i];
                // Each step live: beside the VM's name in the progress status, and as a verbose line as it begins.
                var (result, error) = cbt.Reset(t.Connection.Client, plans[i]!, t.Connection.Server, ct, step =>
                {
                    sink.ReportStep(step);
                    sink.WriteVerbose($"{t.Vm.Name}: {step}...");
                });
                var answerError = error == null ? RecordAnswered(result, answers[i], shells!, ct) : null;
                foreach (var s in result.Steps) sink.WriteVerbose($"{result.VM}: {s}");
                sink.WriteObject(result);
                if (error != null) sink.WriteError(error.ToErrorRecord(t.Input.Original, MyInvocation.MyCommand.Name));
                if (answerError != null) sink.WriteError(answerError.ToErrorRecord(t.Input.Original, MyInvocation.MyCommand.Name));
            });
        }

        // The task directories of -Finding that name this VM, by host: the runbook's rule.
        private static Dictionary<string, List<string>> AnsweredBy(IEnumerable<CloneFailureFinding> findings, VmInfo vm) =>
            findings.Where(f => f.VMHost != null && CbtResetPlanner.AnsweredTaskDirectory(f) != null && CbtResetPlanner.Mentions(f, vm))
                .GroupBy(f => f.VMHost!, StringComparer.OrdinalIgnoreCase)
                .ToDictionary(g => g.Key, g => g.Select(f => CbtResetPlanner.AnsweredTaskDirectory(f)!).Distinct(StringComparer.Ordinal).ToList(), StringComparer.OrdinalIgnoreCase);

        // After a successful reset: the answered task directories removed (the runbook's operation), their lines added to the steps.
        private static MtvException? RecordAnswered(ChangeTrackingResetResult result, Dictionary<string, List<string>> answered, EsxiShellResolver shells, CancellationToken ct)
        {
            var steps = result.Steps.ToList();
            try
            {
                foreach (var host in answered)
                    steps.AddRange(RunbookEngine.RemoveAnsweredTaskDirectories(shells.Resolve(host.Key, null, null, null, ct), host.Value, ct));
                return null;
            }
            catch (MtvException ex)
            {
                return ex;
            }
            finally
            {
                result.Steps = steps.ToArray();
            }
        }

        /// <summary>Pipeline thread: a refusal is written; otherwise the user is asked (-WhatIf lists the operations).</summary>
        private bool ConfirmReset(VmTarget target, ChangeTrackingResetPlan plan, Dictionary<string, List<string>> answered)
        {
            if (plan.Refused)
            {
                WriteError(plan.Refusal!.ToErrorRecord(target.Input.Original, MyInvocation.MyCommand.Name));
                return false;
            }
            var ops = string.Join("; ", plan.DescribeOperations().Concat(answered.Select(h =>
                $"then remove the failed clone task director{(h.Value.Count == 1 ? "y" : "ies")} {string.Join(", ", h.Value)} on {h.Key} (their 7228 is answered)")));
            return ShouldProcess($"Reset CBT on VM '{plan.Vm.Name}' ({target.Connection.Server}): {ops}.",
                $"Reset CBT on VM '{plan.Vm.Name}'? This will {ops}.", MyInvocation.MyCommand.Name);
        }
    }
}
