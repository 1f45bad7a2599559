using System;
using System.Linq;
using System.Management.Automation;
using MtvRemediation.Cbt;
using MtvRemediation.Interop;
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

            var approved = indexes.Where(i => plans[i] != null && ConfirmReset(targets[i], plans[i]!)).ToList();
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
                foreach (var s in result.Steps) sink.WriteVerbose($"{result.VM}: {s}");
                sink.WriteObject(result);
                if (error != null) sink.WriteError(error.ToErrorRecord(t.Input.Original, MyInvocation.MyCommand.Name));
            });
        }

        /// <summary>Pipeline thread: a refusal is written; otherwise the user is asked (-WhatIf lists the operations).</summary>
        private bool ConfirmReset(VmTarget target, ChangeTrackingResetPlan plan)
        {
            if (plan.Refused)
            {
                WriteError(plan.Refusal!.ToErrorRecord(target.Input.Original, MyInvocation.MyCommand.Name));
                return false;
            }
            var ops = string.Join("; ", plan.DescribeOperations());
            return ShouldProcess($"Reset CBT on VM '{plan.Vm.Name}' ({target.Connection.Server}): {ops}.",
                $"Reset CBT on VM '{plan.Vm.Name}'? This will {ops}.", MyInvocation.MyCommand.Name);
        }
    }
}
