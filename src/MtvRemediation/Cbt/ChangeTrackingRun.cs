using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Threading;
using System.Threading.Tasks;
using MtvRemediation.Infrastructure;
using MtvRemediation.VSphere;

namespace MtvRemediation.Cbt
{
    /// <summary>
    /// One call's CBT work over many VMs, on one or more vCenters: inspect, health, plan and reset,
    /// every read shared per vCenter (<see cref="SharedVSphereReads"/>). Get-VMChangeTracking,
    /// Reset-VMChangeTracking and the runbook all go through it; only the confirmation between
    /// <see cref="Plan"/> and <see cref="Reset"/> is theirs.
    /// <para>A reset in three phases: <see cref="Plan"/> every VM (read-only, in parallel), confirm
    /// (pipeline thread), <see cref="Approve"/> the confirmed ones, then <see cref="Reset"/> them in
    /// parallel. Thread-safe.</para>
    /// </summary>
    internal sealed class ChangeTrackingRun
    {
        private readonly ConcurrentDictionary<IVSphereClient, SharedVSphereReads> _reads = new ConcurrentDictionary<IVSphereClient, SharedVSphereReads>();
        private readonly ConcurrentDictionary<(IVSphereClient, string), SemaphoreSlim> _downtimeSlots = new ConcurrentDictionary<(IVSphereClient, string), SemaphoreSlim>();

        /// <param name="maxPoweredOffPerHost">At most this many resets that power a running VM off run at once on one host (0: no limit).</param>
        public ChangeTrackingRun(ChangeTrackingResetOptions? resetOptions = null, int maxPoweredOffPerHost = 0)
        {
            ResetOptions = resetOptions ?? new ChangeTrackingResetOptions();
            MaxPoweredOffPerHost = maxPoweredOffPerHost;
        }

        public ChangeTrackingResetOptions ResetOptions { get; }

        /// <summary>The downtime limit: running VMs of one host powered off at the same time (0: no limit).</summary>
        public int MaxPoweredOffPerHost { get; }

        /// <summary>The reset takes a running VM down (a guest shutdown or a hard power-off): what the downtime limit counts.</summary>
        public static bool PowersOff(ChangeTrackingResetPlan plan) => !plan.Refused && plan.PowerOff != PowerOffMethod.None;

        private SharedVSphereReads ReadsFor(IVSphereClient client) => _reads.GetOrAdd(client, c => new SharedVSphereReads(c));

        private ChangeTrackingEngine EngineFor(IVSphereClient client) => new ChangeTrackingEngine(ReadsFor(client));

        /// <summary>The VM's -ctk.vmdk files (read-only; worker thread).</summary>
        public CtkInspection Inspect(IVSphereClient client, VmInfo vm, CancellationToken ct) =>
            InspectAsync(client, vm, ct).GetAwaiter().GetResult();

        public Task<CtkInspection> InspectAsync(IVSphereClient client, VmInfo vm, CancellationToken ct) =>
            EngineFor(client).InspectAsync(vm, ct);

        /// <summary>Get-VMChangeTracking's answer for one VM: its state and the health verdict.</summary>
        public ChangeTrackingStatus Status(IVSphereClient client, VmInfo vm, string server, CancellationToken ct) =>
            ChangeTrackingEngine.BuildStatus(Inspect(client, vm, ct), server);

        /// <summary>Phase 1 of a reset (read-only): what it will do, or why the VM is refused.</summary>
        public ChangeTrackingResetPlan Plan(IVSphereClient client, VmInfo vm, CancellationToken ct) =>
            Plan(Inspect(client, vm, ct));

        public ChangeTrackingResetPlan Plan(CtkInspection inspection) => ChangeTrackingEngine.Plan(inspection, ResetOptions);

        /// <summary>After confirmation: the VMs whose resets follow, so their state checks share one read per vCenter.</summary>
        public void Approve(IEnumerable<(IVSphereClient Client, ChangeTrackingResetPlan Plan)> approved)
        {
            foreach (var g in approved.GroupBy(a => a.Client))
                ReadsFor(g.Key).ExpectStateChecks(g.Select(a => a.Plan.Vm.MoRef));
        }

        /// <summary>
        /// The order to hand approved resets to the workers: under a downtime limit, the hosts take
        /// turns (one VM of each, then the next of each), so the workers waiting for a host's slot
        /// do not hold back the VMs of other hosts. Without a limit the order is kept.
        /// </summary>
        public IReadOnlyList<T> ScheduleOrder<T>(IReadOnlyList<T> items, Func<T, (IVSphereClient Client, ChangeTrackingResetPlan Plan)> resetOf)
        {
            if (MaxPoweredOffPerHost <= 0) return items;
            return items.Select((item, index) => (item, index, key: SlotKey(resetOf(item).Client, resetOf(item).Plan)))
                .GroupBy(x => x.key)
                .SelectMany(g => g.Select((x, turn) => (x.item, x.index, turn)))
                .OrderBy(x => x.turn).ThenBy(x => x.index)
                .Select(x => x.item).ToList();
        }

        /// <summary>
        /// Phase 3 (worker thread): executes an approved plan. The result is the server's truth at
        /// the end; a reset that did not complete also returns its error (<see cref="ResetFailure"/>).
        /// Under the downtime limit a reset that powers a running VM off first waits for a slot of
        /// its host, held until the reset is over (the VM is on again or left as the reset ends).
        /// </summary>
        public (ChangeTrackingResetResult Result, RemediationException? Error) Reset(IVSphereClient client, ChangeTrackingResetPlan plan, string server, CancellationToken ct, Action<string>? onStep = null)
        {
            var slot = MaxPoweredOffPerHost > 0 && PowersOff(plan)
                ? _downtimeSlots.GetOrAdd(SlotKey(client, plan), _ => new SemaphoreSlim(MaxPoweredOffPerHost, MaxPoweredOffPerHost))
                : null;
            if (slot != null && !slot.Wait(0, ct))
            {
                onStep?.Invoke($"waiting: {MaxPoweredOffPerHost} VM(s) of {plan.Vm.HostName} are powered off (-MaxPoweredOffPerHost)");
                slot.Wait(ct);
            }
            try
            {
                var result = EngineFor(client).ResetAsync(plan, server, ct, onStep).GetAwaiter().GetResult();
                return (result, ResetFailure(result));
            }
            finally
            {
                slot?.Release();
            }
        }

        // One host of one vCenter; a VM without a known host counts as a host of its own.
        private static (IVSphereClient, string) SlotKey(IVSphereClient client, ChangeTrackingResetPlan plan) =>
            (client, string.IsNullOrEmpty(plan.Vm.HostName) ? "vm:" + plan.Vm.MoRef : plan.Vm.HostName.ToLowerInvariant());

        /// <summary>The one error of a reset that did not complete: where it stopped and where the VM is now.</summary>
        public static RemediationException? ResetFailure(ChangeTrackingResetResult result)
        {
            if (result.Succeeded) return null;
            var deleted = result.DeletedFiles.Length == 0 ? "none" : string.Join(", ", result.DeletedFiles);
            var cbt = result.EnabledAfter == null ? "unknown" : result.EnabledAfter == true ? "enabled" : "disabled";
            return new RemediationException(ChangeTrackingErrorIds.ResetFailed, ErrorCategory.InvalidResult,
                $"CBT reset of VM '{result.VM}' stopped at step {result.FailedStep}: {result.Error} State now: power {result.PowerStateAfter}, CBT {cbt}, deleted files: {deleted}." +
                (result.OtherActor != null ? $" Another actor: {result.OtherActor}; nothing of theirs was undone." : "") +
                (result.RecordLeft ? $" The reset's record stays on the VM ({VmInfo.ResetRecordKey})." : ""),
                "Fix the cause; a re-run completes the reset.") { RerunCompletes = true };
        }
    }
}
