using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using MtvRemediation.Infrastructure;
using MtvRemediation.Remediation;
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

        protected override void EndProcessing()
        {
            var targets = ResolveTargets();
            if (targets.Count == 0) return;
            var options = new ChangeTrackingResetOptions
            {
                PowerOff = PowerOff,
                Force = Force,
                ShutdownTimeout = TimeSpan.FromSeconds(ShutdownTimeoutSeconds),
                IncludeOrphanedCtk = IncludeOrphanedCtk,
                SkipPowerCycle = SkipPowerCycle,
            };

            // Folder listings and final state reads shared per vCenter (one listing per datastore
            // for the VMs that ask together; each answer is read after its request).
            var reads = targets.Select(t => t.Connection).Distinct().ToDictionary(c => c, c => new SharedVSphereReads(c.Client));

            // 1. Read-only: find the ctk files of every VM (also for -WhatIf, which lists them).
            var plans = new ChangeTrackingResetPlan?[targets.Count];
            var indexes = Enumerable.Range(0, targets.Count).ToList();
            RunParallel(indexes, ThrottleLimit, "Finding -ctk.vmdk files", i => targets[i].Vm.Name, (i, sink, ct) =>
            {
                var t = targets[i];
                try
                {
                    var inspection = new ChangeTrackingEngine(t.Connection.Client, reads: reads[t.Connection]).InspectAsync(t.Vm, ct).GetAwaiter().GetResult();
                    plans[i] = ChangeTrackingEngine.Plan(inspection, options);
                }
                catch (Exception ex) when (ex is VimFaultException || ex is VimTransportException || ex is TimeoutException)
                {
                    sink.WriteError(ErrorFor(ex, t.Input.Original, t.Connection));
                }
            });

            // 2. Pipeline thread: refusals and confirmation, VM by VM.
            var approved = new List<int>();
            foreach (var i in indexes)
            {
                var plan = plans[i];
                if (plan == null) continue;
                var t = targets[i];
                if (plan.Refused)
                {
                    WriteError(plan.Refusal!.ToErrorRecord(t.Input.Original, MyInvocation.MyCommand.Name));
                    continue;
                }
                var ops = string.Join("; ", plan.DescribeOperations());
                var description = $"Reset CBT on VM '{plan.Vm.Name}' ({t.Connection.Server}): {ops}.";
                var warning = $"Reset CBT on VM '{plan.Vm.Name}'? This will {ops}.";
                if (ShouldProcess(description, warning, MyInvocation.MyCommand.Name)) approved.Add(i);
            }

            // 3. Execute in parallel; each result is the server's truth at the end. The state check
            //    before acting is shared per vCenter (one read for the VMs starting within a second).
            var prechecks = approved.GroupBy(i => targets[i].Connection).ToDictionary(g => g.Key,
                g => new VmStateSnapshot(g.Key.Client, g.Select(i => plans[i]!.Vm.MoRef), VmStateSnapshot.DefaultMaxAge));
            RunParallel(approved, ThrottleLimit, "Resetting CBT", i => targets[i].Vm.Name, (i, sink, ct) =>
            {
                var t = targets[i];
                var result = new ChangeTrackingEngine(t.Connection.Client, prechecks[t.Connection], reads[t.Connection]).ResetAsync(plans[i]!, t.Connection.Server, ct).GetAwaiter().GetResult();
                foreach (var s in result.Steps) sink.WriteVerbose($"{result.VM}: {s}");
                sink.WriteObject(result);
                if (!result.Succeeded)
                {
                    var deleted = result.DeletedFiles.Length == 0 ? "none" : string.Join(", ", result.DeletedFiles);
                    var message = $"CBT reset of VM '{result.VM}' stopped at step {result.FailedStep}: {result.Error} " +
                                  $"State now: power {result.PowerStateAfter}, CBT {(result.EnabledAfter == null ? "unknown" : result.EnabledAfter == true ? "enabled" : "disabled")}, deleted files: {deleted}.";
                    var error = new RemediationException(ChangeTrackingErrorIds.ResetFailed, ErrorCategory.InvalidResult, message, "Fix the cause; a re-run completes the reset.") { RerunCompletes = true };
                    sink.WriteError(error.ToErrorRecord(t.Input.Original, MyInvocation.MyCommand.Name));
                }
            });
        }
    }
}
