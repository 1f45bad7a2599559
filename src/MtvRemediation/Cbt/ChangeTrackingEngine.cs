using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Management.Automation;
using System.Threading;
using System.Threading.Tasks;
using MtvRemediation.Esxi;
using MtvRemediation.HostLog;
using MtvRemediation.Infrastructure;
using MtvRemediation.VSphere;

namespace MtvRemediation.Cbt
{
    /// <summary>The -ctk.vmdk files around one VM's disks, found with SearchDatastore_Task (the truth; layoutEx can be stale).</summary>
    internal sealed class CtkInspection
    {
        public CtkInspection(VmInfo vm) { Vm = vm; }

        public VmInfo Vm { get; }

        /// <summary>Each disk's own ctk file when it exists (key: disk key).</summary>
        public Dictionary<int, DatastorePath> OwnByDisk { get; } = new Dictionary<int, DatastorePath>();

        /// <summary>ctk files in the disks' folders whose descriptor no longer exists.</summary>
        public List<DatastorePath> Orphaned { get; } = new List<DatastorePath>();

        /// <summary>ctk files in the disks' folders whose descriptor exists but is not one of this VM's disks.</summary>
        public List<DatastorePath> Foreign { get; } = new List<DatastorePath>();

        /// <summary>Disk locations that could not be searched (datastore not visible to this session, unparsable path).</summary>
        public List<string> Unsearchable { get; } = new List<string>();

        /// <summary>The record of a reset an earlier run began and did not finish, or null.</summary>
        public ChangeTrackingResetRecord? InterruptedReset { get; internal set; }

        /// <summary>The VM's power events since <see cref="InterruptedReset"/> began (read only when there is one).</summary>
        public IReadOnlyList<VmPowerEvent> PowerEventsSinceRecord { get; internal set; } = Array.Empty<VmPowerEvent>();

        /// <summary>The last power event since the record by someone other than the run that wrote it, or null.</summary>
        public VmPowerEvent? ForeignPowerEvent =>
            InterruptedReset == null ? null : PowerEventsSinceRecord.LastOrDefault(e => !string.Equals(e.UserName, InterruptedReset.VCenterUser, StringComparison.OrdinalIgnoreCase));
    }

    internal sealed class ChangeTrackingResetOptions
    {
        public bool PowerOff { get; set; }
        public bool Force { get; set; }
        public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(300);
        public bool IncludeOrphanedCtk { get; set; }

        /// <summary>
        /// Leave out KB 2139574's power-on and power-off with CBT disabled. Risk: the disks are never
        /// opened without CBT, so their descriptors may keep a changeTrackPath to the deleted
        /// -ctk.vmdk and the next backup or MTV warm migration can fail with 7228 again.
        /// </summary>
        public bool SkipPowerCycle { get; set; }

        /// <summary>Interval between power-state polls while the guest shuts down.</summary>
        public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);
    }

    internal enum PowerOffMethod
    {
        None,
        ShutdownGuest,
        HardPowerOff,
    }

    /// <summary>What a reset of one VM will do (or why it is refused) - shown by -WhatIf, executed by ResetAsync.</summary>
    internal sealed class ChangeTrackingResetPlan
    {
        internal ChangeTrackingResetPlan(CtkInspection inspection, ChangeTrackingResetOptions options)
        {
            Inspection = inspection;
            Options = options;
        }

        public CtkInspection Inspection { get; }
        public VmInfo Vm => Inspection.Vm;
        public ChangeTrackingResetOptions Options { get; }

        /// <summary>Set when the VM must not be touched; nothing is changed. The cmdlet writes it (and names itself for a re-run).</summary>
        public RemediationException? Refusal { get; internal set; }
        public string? RefusalErrorId => Refusal?.ErrorId;
        public ErrorCategory RefusalCategory => Refusal?.Category ?? ErrorCategory.NotSpecified;
        public string? RefusalMessage => Refusal?.Message;
        public bool Refused => Refusal != null;

        public PowerOffMethod PowerOff { get; internal set; }

        /// <summary>The power state the reset ends in: the VM's own, or the one an interrupted run's record kept.</summary>
        public string OriginalPowerState { get; internal set; } = "";

        /// <summary>The VM is on only because an interrupted run powered it on for KB 2139574's cycle: it is powered off without -PowerOff.</summary>
        public bool UndoInterruptedPowerOn { get; internal set; }

        /// <summary>An interrupted run did everything but remove its record: only the record is removed (and the ctk files checked).</summary>
        public bool OnlyRemoveRecord { get; internal set; }

        /// <summary>What this run found of an earlier, interrupted one, in a sentence (null: nothing).</summary>
        public string? Resumes { get; internal set; }

        /// <summary>With -Force, a guest shutdown that times out falls back to a hard power-off.</summary>
        public bool HardPowerOffFallback { get; internal set; }
        public bool PowerOnAfter { get; internal set; }

        /// <summary>
        /// The VM runs when the reset begins: CBT is disabled before the power-off, and that
        /// reconfigure carries the record (no reconfigure of its own). vSphere applies a change of
        /// changeTrackingEnabled at the VM's next power-on, snapshot operation or vMotion, not at once
        /// (VirtualMachineConfigSpec.changeTrackingEnabled; docs/field-sources.md#6-changed-block-tracking),
        /// so the running VM is untouched until the power-off.
        /// </summary>
        public bool DisablesWhileRunning => PowerOff != PowerOffMethod.None || UndoInterruptedPowerOn;

        /// <summary>KB 2139574's power-on and power-off with CBT disabled (also for a VM that was off: it is left off).</summary>
        public bool PowerCycleWithCbtOff { get; internal set; }
        public List<DatastorePath> FilesToDelete { get; } = new List<DatastorePath>();
        public List<string> CtkEnabledKeys { get; } = new List<string>();

        /// <summary>One sentence per operation, in order, for ShouldProcess/-WhatIf.</summary>
        public IEnumerable<string> DescribeOperations()
        {
            if (Resumes != null) yield return "finish " + Resumes;
            if (OnlyRemoveRecord)
            {
                yield return $"remove the record {VmInfo.ResetRecordKey} (the interrupted reset is complete: CBT on, VM {ChangeTrackingEngine.PowerCliPowerState(OriginalPowerState)})";
                yield return "check the disks' -ctk.vmdk files";
                yield break;
            }
            var disable = "disable CBT (changeTrackingEnabled=false" + KeysText(false) + ")";
            if (DisablesWhileRunning) yield return disable + " while the VM still runs: it takes effect at the next power-on; if the VM cannot be powered off, CBT is put back";
            if (UndoInterruptedPowerOn) yield return "power off (PowerOffVM_Task): the interrupted run powered the VM on for KB 2139574's cycle";
            if (PowerOff == PowerOffMethod.ShutdownGuest)
                yield return $"shut down the guest OS (VMware Tools) and wait up to {Options.ShutdownTimeout.TotalSeconds:0} s" + (HardPowerOffFallback ? ", then power off hard if it is still running" : "");
            else if (PowerOff == PowerOffMethod.HardPowerOff)
                yield return "power off hard (VMware Tools is not running)";
            if (!DisablesWhileRunning) yield return disable;
            if (FilesToDelete.Count == 0) yield return "delete no -ctk.vmdk files (none found)";
            foreach (var f in FilesToDelete) yield return $"delete {f}";
            if (PowerCycleWithCbtOff)
            {
                yield return "power on with CBT disabled and power off again at once (PowerOffVM_Task), so the disks are opened without CBT (KB 2139574)" +
                    (PowerOff == PowerOffMethod.None && !PowerOnAfter ? $"; the VM is {ChangeTrackingEngine.PowerCliPowerState(Vm.PowerState)} now: it is powered on once and left off" : "");
            }
            else yield return "skip KB 2139574's power-on/power-off with CBT disabled (-SkipPowerCycle: the disks' descriptors may keep a stale changeTrackPath)";
            yield return "enable CBT (changeTrackingEnabled=true" + KeysText(true) + ")";
            if (PowerOnAfter) yield return "power on (the original power state)";
            yield return PowerOnAfter ? "check that every disk has its own -ctk.vmdk" : "check the disks' -ctk.vmdk files (ESXi creates them at the next power-on)";
            yield return $"keep a record in the VM's configuration ({VmInfo.ResetRecordKey}) from the first change to the last, so that any later run can finish an interrupted reset";
        }

        private string KeysText(bool value) => CtkEnabledKeys.Count == 0 ? "" : "; " + string.Join(", ", CtkEnabledKeys.Select(k => $"{k}={(value ? "true" : "false")}"));
    }

    /// <summary>
    /// CBT inspection and reset in KB 2139574's order: refuse with snapshots, power
    /// off safely, disable CBT, delete each disk's own -ctk.vmdk, power on and off once with CBT
    /// disabled, enable CBT, restore the power state, check one -ctk.vmdk per disk. Every step and
    /// every power transition is recorded; a failure stops the sequence, restores the power state,
    /// and leaves a state a re-run completes.
    /// Sources: docs/field-sources.md#6-changed-block-tracking.
    /// </summary>
    internal sealed class ChangeTrackingEngine
    {
        private readonly IVSphereClient _client;
        private readonly SharedVSphereReads _reads;

        /// <param name="reads">Folder listings and state reads shared with the other VMs of the call (<see cref="ChangeTrackingRun"/> holds one per vCenter).</param>
        public ChangeTrackingEngine(SharedVSphereReads reads)
        {
            _reads = reads ?? throw new ArgumentNullException(nameof(reads));
            _client = reads.Client;
        }

        /// <summary>Each step's name (FailedStep) in the words the live view shows while it runs.</summary>
        private static readonly Dictionary<string, string> StepWords = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["Precheck"] = "checking the power state",
            ["RemoveRecord"] = "removing the reset's record",
            ["UndoInterruptedPowerOn"] = "powering off (the interrupted run's power-on)",
            ["ShutdownGuest"] = "shutting the guest down",
            ["PowerOff"] = "powering off",
            ["DisableChangeTracking"] = "disabling CBT",
            ["DeleteCtkFiles"] = "deleting the -ctk.vmdk files",
            ["PowerOnWithCbtOff"] = "powering on with CBT off (KB cycle)",
            ["PowerOffAfterCycle"] = "powering off (KB cycle)",
            ["EnableChangeTracking"] = "enabling CBT",
            ["PowerOn"] = "powering on",
            ["VerifyCtkFiles"] = "checking the -ctk.vmdk files",
        };

        /// <summary>Benchmark seam (tests/bench/CbtRecord.Bench.ps1): false measures the reset without its durable record, the baseline of what the record costs.</summary>
        internal static bool KeepRecords { get; set; } = true;

        private Task<IReadOnlyList<DatastoreFile>> SearchAsync(DatastoreInfo ds, string folder, CancellationToken ct) => _reads.SearchFolderAsync(ds, folder, ct);

        public async Task<CtkInspection> InspectAsync(VmInfo vm, CancellationToken ct)
        {
            var result = new CtkInspection(vm);
            if (ChangeTrackingResetRecord.TryParse(vm.ResetRecordValue) is { } record)
            {
                // Whose power changes happened since: the interrupted run's own, or someone else's.
                result.InterruptedReset = record;
                result.PowerEventsSinceRecord = await _client.GetPowerEventsAsync(vm.MoRef, record.StartedUtc, ct).ConfigureAwait(false);
            }
            var ownCtk = new Dictionary<string, VmDiskInfo>(StringComparer.Ordinal);
            foreach (var d in vm.Disks)
            {
                if (!DatastorePath.TryParse(d.FileName, out var p) || !p!.FileName.EndsWith(".vmdk", StringComparison.OrdinalIgnoreCase)) continue;
                ownCtk[DatastorePath.Combine(p.Datastore, p.Folder, DatastorePath.CtkFileNameFor(p.FileName)).ToString()] = d;
            }
            var ownDescriptors = new HashSet<string>(vm.Disks.Select(d => d.FileName), StringComparer.Ordinal);

            // One search per distinct folder the disks live in, on every datastore they use.
            var parsed = new List<(VmDiskInfo Disk, DatastorePath Path)>();
            foreach (var d in vm.Disks)
            {
                if (DatastorePath.TryParse(d.FileName, out var p)) parsed.Add((d, p!));
                else result.Unsearchable.Add(d.FileName.Length == 0 ? d.Label : d.FileName);
            }
            foreach (var folder in parsed.GroupBy(x => (x.Path.Datastore, x.Path.Folder)))
            {
                var ds = FindDatastore(vm, folder.First().Disk, folder.Key.Datastore);
                if (ds == null || ds.Browser.IsEmpty)
                {
                    result.Unsearchable.Add(folder.First().Path.FolderPath);
                    continue;
                }
                var files = await SearchAsync(ds, folder.Key.Folder, ct).ConfigureAwait(false);
                var present = new HashSet<string>(files.Select(f => f.Path.FileName), StringComparer.Ordinal);
                foreach (var f in files)
                {
                    var descriptor = DatastorePath.DiskFileNameForCtk(f.Path.FileName);
                    if (descriptor == null) continue;
                    // A disk of this VM whose name only looks like a ctk file (data-ctk.vmdk beside
                    // data.vmdk) is a disk, never a ctk file: whether ESXi allows the name is unverified.
                    if (ownDescriptors.Contains(f.Path.ToString())) continue;
                    if (ownCtk.TryGetValue(f.Path.ToString(), out var disk)) result.OwnByDisk[disk.Key] = f.Path;
                    else if (present.Contains(descriptor) || ownDescriptors.Contains(DatastorePath.Combine(folder.Key.Datastore, folder.Key.Folder, descriptor).ToString()))
                        result.Foreign.Add(f.Path);
                    else result.Orphaned.Add(f.Path);
                }
            }
            return result;
        }

        private static DatastoreInfo? FindDatastore(VmInfo vm, VmDiskInfo disk, string name)
        {
            if (!disk.DatastoreMoRef.IsEmpty && vm.Datastores.TryGetValue(disk.DatastoreMoRef, out var ds)) return ds;
            return vm.Datastores.Values.FirstOrDefault(d => d.Name == name);
        }

        public static ChangeTrackingStatus BuildStatus(CtkInspection inspection, string server)
        {
            var vm = inspection.Vm;
            var disks = vm.Disks.Select(d =>
            {
                var ctk = DatastorePath.TryParse(d.FileName, out var p) && p!.FileName.EndsWith(".vmdk", StringComparison.OrdinalIgnoreCase)
                    ? DatastorePath.Combine(p.Datastore, p.Folder, DatastorePath.CtkFileNameFor(p.FileName)).ToString() : "";
                var key = d.CtkEnabledKey;
                return new ChangeTrackingDisk
                {
                    File = d.FileName,
                    Datastore = d.Datastore,
                    CtkFile = ctk,
                    CtkFilePresent = inspection.OwnByDisk.ContainsKey(d.Key),
                    CtkEnabledSetting = key != null && vm.CtkExtraConfig.TryGetValue(key, out var v) ? v : null,
                    IsPhysicalRdm = d.IsPhysicalRdm,
                };
            }).ToArray();

            var health = ChangeTrackingHealth.Of(inspection);
            return new ChangeTrackingStatus
            {
                VM = vm.Name,
                VMId = vm.MoRef.ToString(),
                VMHost = vm.HostName,
                Server = server,
                PowerState = PowerCliPowerState(vm.PowerState),
                ToolsRunning = vm.ToolsRunning,
                Enabled = vm.ChangeTrackingEnabled,
                SnapshotCount = vm.SnapshotCount,
                InterruptedReset = inspection.InterruptedReset?.Describe() ?? (vm.ResetRecordValue == null ? null : $"unreadable record {VmInfo.ResetRecordKey} = '{vm.ResetRecordValue}'"),
                Disks = disks,
                CtkFiles = inspection.OwnByDisk.Values.Select(p => p.ToString()).OrderBy(s => s, StringComparer.Ordinal).ToArray(),
                OrphanedCtkFiles = inspection.Orphaned.Select(p => p.ToString()).ToArray(),
                ForeignCtkFiles = inspection.Foreign.Select(p => p.ToString()).ToArray(),
                Healthy = health.Consistent,
                Reason = health.Reason,
            };
        }

        /// <summary>vim25 power state to PowerCLI's enum spelling.</summary>
        public static string PowerCliPowerState(string vimState)
        {
            switch (vimState)
            {
                case "poweredOn": return "PoweredOn";
                case "poweredOff": return "PoweredOff";
                case "suspended": return "Suspended";
                default: return vimState;
            }
        }

        /// <summary>Decides what a reset will do. Refusals change nothing and name the next step.</summary>
        public static ChangeTrackingResetPlan Plan(CtkInspection inspection, ChangeTrackingResetOptions options)
        {
            var plan = new ChangeTrackingResetPlan(inspection, options);
            var vm = inspection.Vm;
            // Refusals say what to fix; the re-run that follows is named by the cmdlet (RerunCompletes).
            void Refuse(string id, ErrorCategory cat, string msg) =>
                plan.Refusal = new RemediationException(id, cat, msg) { RerunCompletes = true };

            if (vm.IsTemplate)
            {
                Refuse(ChangeTrackingErrorIds.VMIsTemplate, ErrorCategory.InvalidOperation, $"'{vm.Name}' is a template; CBT is reset on VMs. Convert it to a VM (Set-Template -ToVM) first. Nothing was changed.");
                return plan;
            }
            if (inspection.Unsearchable.Count > 0)
            {
                Refuse(ChangeTrackingErrorIds.DatastoreNotSearchable, ErrorCategory.ResourceUnavailable,
                    $"Cannot search {string.Join(", ", inspection.Unsearchable)} for VM '{vm.Name}', so its -ctk.vmdk files cannot be found. Check that the datastore is accessible to this user (Browse Datastore privilege), then retry. Nothing was changed.");
                return plan;
            }
            if (vm.SnapshotCount > 0)
            {
                Refuse(ChangeTrackingErrorIds.VMHasSnapshots, ErrorCategory.InvalidOperation,
                    $"VM '{vm.Name}' has {vm.SnapshotCount} snapshot(s). Consolidate or remove its snapshots first (for example Get-Snapshot -VM '{vm.Name}' | Remove-Snapshot). Nothing was changed.");
                return plan;
            }
            if (vm.PowerState == "suspended")
            {
                Refuse(ChangeTrackingErrorIds.VMSuspended, ErrorCategory.InvalidOperation,
                    $"VM '{vm.Name}' is suspended. Resume it and shut it down (or use -PowerOff once it runs). Nothing was changed.");
                return plan;
            }
            plan.OriginalPowerState = vm.PowerState;
            if (inspection.InterruptedReset is { } record)
            {
                if (vm.PowerState == "poweredOn" && record.Phase == ResetPhase.PowerOn && vm.ChangeTrackingEnabled)
                {
                    // Everything but the last power-on and the record's removal was done; the VM runs
                    // (by that run's power-on or someone else's): only the record is left to remove.
                    plan.Resumes = record.Describe();
                    plan.OriginalPowerState = "poweredOn";
                    plan.OnlyRemoveRecord = true;
                    return plan;
                }
                if (inspection.ForeignPowerEvent is { } foreign)
                {
                    // Someone else changed the power state after the interrupted run: theirs is the VM's own now.
                    plan.Resumes = $"{record.Describe()}; {(foreign.UserName.Length == 0 ? "another user" : foreign.UserName)} powered the VM {(foreign.PowerState == "poweredOn" ? "on" : "off")} at {foreign.TimeUtc:yyyy-MM-dd HH:mm:ss}Z since, so its state now is kept as its own";
                }
                else
                {
                    plan.Resumes = record.Describe();
                    plan.OriginalPowerState = record.OriginalPowerState;
                    // On only through the interrupted run's own KB power-on of a VM that was off. A VM
                    // that was on and is on again is treated as running (a failed run may have restored
                    // it): powering it off needs -PowerOff, as always.
                    plan.UndoInterruptedPowerOn = vm.PowerState == "poweredOn" && record.Phase == ResetPhase.CbtOff && record.OriginalPowerState == "poweredOff";
                }
            }

            if (vm.PowerState == "poweredOn" && !plan.UndoInterruptedPowerOn)
            {
                if (!options.PowerOff)
                {
                    Refuse(ChangeTrackingErrorIds.VMPoweredOn, ErrorCategory.InvalidOperation,
                        $"VM '{vm.Name}' is powered on. CBT is reset with the VM off: add -PowerOff to shut it down (guest shutdown through VMware Tools) and power it on again afterwards. Nothing was changed.");
                    return plan;
                }
                if (vm.ToolsRunning)
                {
                    plan.PowerOff = PowerOffMethod.ShutdownGuest;
                    plan.HardPowerOffFallback = options.Force;
                }
                else if (options.Force) plan.PowerOff = PowerOffMethod.HardPowerOff;
                else
                {
                    Refuse(ChangeTrackingErrorIds.VMToolsNotRunning, ErrorCategory.InvalidOperation,
                        $"VM '{vm.Name}' is powered on but VMware Tools is not running, so a clean guest shutdown is not possible. Shut the guest down yourself, or add -Force to power it off hard. Nothing was changed.");
                    return plan;
                }
            }
            plan.PowerOnAfter = plan.OriginalPowerState == "poweredOn";

            plan.PowerCycleWithCbtOff = !options.SkipPowerCycle;
            plan.CtkEnabledKeys.AddRange(vm.Disks.Where(d => !d.IsPhysicalRdm && d.CtkEnabledKey != null).Select(d => d.CtkEnabledKey!).Distinct());
            plan.FilesToDelete.AddRange(vm.Disks.Where(d => inspection.OwnByDisk.ContainsKey(d.Key)).Select(d => inspection.OwnByDisk[d.Key]).Distinct());
            if (options.IncludeOrphanedCtk) plan.FilesToDelete.AddRange(inspection.Orphaned);
            // Never a file that backs a disk of the VM, whatever the inspection found.
            var backings = new HashSet<string>(vm.Disks.Select(d => d.FileName), StringComparer.Ordinal);
            plan.FilesToDelete.RemoveAll(f => backings.Contains(f.ToString()));
            return plan;
        }

        /// <summary>Executes a plan. Never throws for vSphere failures: the result says what happened.</summary>
        /// <param name="onStep">Told each step as it begins, in words ("powering off", ...): the live view of a long reset.</param>
        public async Task<ChangeTrackingResetResult> ResetAsync(ChangeTrackingResetPlan plan, string server, CancellationToken ct, Action<string>? onStep = null)
        {
            if (plan.Refused) throw new InvalidOperationException("A refused plan cannot be executed.");
            var vm = plan.Vm;
            var steps = new List<string>();
            var deleted = new List<string>();
            var transitions = new List<PowerTransition>();
            var result = new ChangeTrackingResetResult
            {
                VM = vm.Name,
                VMId = vm.MoRef.ToString(),
                VMHost = vm.HostName,
                Server = server,
                PowerStateBefore = PowerCliPowerState(plan.OriginalPowerState),
                EnabledBefore = vm.ChangeTrackingEnabled,
                Resumed = plan.Resumes,
            };
            if (plan.Resumes != null) steps.Add("Found " + plan.Resumes);
            var step = "";
            void SetStep(string name)
            {
                step = name;
                if (onStep != null && StepWords.TryGetValue(name, out var words)) onStep(words);
            }
            var startedUtc = DateTime.UtcNow;
            var power = vm.PowerState; // as this run left it, as far as our own successful tasks tell
            // The record on the VM from here on (an interrupted run's until this run rewrites it).
            var recordOnVm = plan.Inspection.InterruptedReset != null || vm.ResetRecordValue != null;
            // Rewritten in this run's name: its own power events are then the only ones after it.
            var record = new ChangeTrackingResetRecord(ResetPhase.PowerOff, plan.OriginalPowerState, _client.UserName, Environment.MachineName, startedUtc);
            var keepRecords = KeepRecords;
            var recordBefore = recordOnVm; // an interrupted run's record stays until its reset is finished
            var disabledWhileRunning = false;
            Task? pendingRemoval = null;
            string? removalNote = null; // written after the ctk check, which runs meanwhile and writes steps too
            ExtraConfigValue? Record(ResetPhase phase)
            {
                if (!keepRecords) return null;
                recordOnVm = true;
                return new ExtraConfigValue(VmInfo.ResetRecordKey, record.At(phase).Format());
            }
            // The record's removal: recordOnVm is cleared by the caller once the call has succeeded.
            ExtraConfigValue? RemoveRecord() => keepRecords ? new ExtraConfigValue(VmInfo.ResetRecordKey, "") : null;
            void Transition(string to, string method, string reason)
            {
                transitions.Add(new PowerTransition { From = PowerCliPowerState(power), To = PowerCliPowerState(to), Method = method, Reason = reason, Time = DateTime.UtcNow });
                power = to;
            }
            try
            {
                // The plan may be minutes old (confirmation prompts): act only on the state it was made for.
                SetStep("Precheck");
                var (powerNow, _) = await _reads.GetRecentVmStateAsync(vm.MoRef, ct).ConfigureAwait(false);
                if (powerNow != vm.PowerState)
                    throw new InvalidOperationException($"The VM's power state changed from {PowerCliPowerState(vm.PowerState)} to {PowerCliPowerState(powerNow)} since it was read; nothing was changed. Run the command again to act on the state as it is now.");

                if (plan.OnlyRemoveRecord)
                {
                    SetStep("RemoveRecord");
                    await _client.SetExtraConfigAsync(vm.MoRef, new ExtraConfigValue(VmInfo.ResetRecordKey, ""), ct).ConfigureAwait(false);
                    recordOnVm = false;
                    steps.Add($"Removed the record {VmInfo.ResetRecordKey}: the interrupted reset had done everything else");
                }
                else
                {
                    await RunSequenceAsync().ConfigureAwait(false);
                }

                // The KB checks one -ctk.vmdk per disk. ESXi creates them when a CBT-enabled disk is
                // opened, so the check follows the power-on; a VM left off may have none yet.
                SetStep("VerifyCtkFiles");
                try { await VerifyCtkFilesAsync(plan, power == "poweredOn", steps, result, ct).ConfigureAwait(false); }
                finally
                {
                    if (pendingRemoval != null) await pendingRemoval.ConfigureAwait(false);
                    if (removalNote != null) steps.Add(removalNote);
                }
                result.Succeeded = true;
            }
            catch (Exception ex) when (IsStepFailure(ex))
            {
                result.Succeeded = false;
                result.FailedStep = step;
                result.Error = ex is OperationCanceledException ? "Cancelled (Ctrl+C)." : ex.Message;
                steps.Add($"FAILED at {step}: {result.Error}");
                // Every point of failure leaves CBT unchanged, disabled, or re-enabled: all safe to
                // run with, so the VM goes back to its original power state and a re-run finishes the job.
                // The state is read first: a failed power task may still have changed it. Without a
                // transition of ours (e.g. the precheck found a new state) the VM is not touched.
                if (transitions.Count > 0 || step == "PowerOnWithCbtOff" || step == "ShutdownGuest" || step == "PowerOff" || step == "UndoInterruptedPowerOn")
                    await RestoreAfterFailureAsync(ex).ConfigureAwait(false);
            }

            // Report the server's truth, not what we believe we did.
            try
            {
                using var verify = new CancellationTokenSource(TimeSpan.FromSeconds(60));
                var (finalPower, cbt) = await _reads.GetVmStateAsync(vm.MoRef, verify.Token).ConfigureAwait(false);
                result.PowerStateAfter = PowerCliPowerState(finalPower);
                result.EnabledAfter = cbt;
            }
            catch (Exception ex) when (IsStepFailure(ex))
            {
                result.PowerStateAfter = "Unknown";
                steps.Add($"Could not read the final state: {ex.Message}");
            }
            if (result.Succeeded && result.EnabledAfter != true)
            {
                result.Succeeded = false;
                result.FailedStep = "Verify";
                result.Error = "The server reports CBT disabled after it was enabled.";
                steps.Add("FAILED at Verify: " + result.Error);
            }
            if (recordOnVm)
                steps.Add($"The record {VmInfo.ResetRecordKey} stays on the VM: the next CBT reset of this VM, from any workstation, finishes this one");
            result.RecordLeft = recordOnVm;
            result.DeletedFiles = deleted.ToArray();
            result.PowerTransitions = transitions.ToArray();
            result.Steps = steps.ToArray();
            return result;

            async Task RunSequenceAsync()
            {
                // The record rides on the disable, the first change. A running VM keeps the phase
                // PowerOff until the enable: a re-run that finds it running must power it off.
                if (plan.DisablesWhileRunning)
                {
                    await DisableAsync(Record(plan.UndoInterruptedPowerOn ? ResetPhase.CbtOff : ResetPhase.PowerOff), " while the VM runs (applied at its next power-on)").ConfigureAwait(false);
                    disabledWhileRunning = true;
                }
                if (plan.UndoInterruptedPowerOn)
                {
                    SetStep("UndoInterruptedPowerOn");
                    await _client.PowerOffAsync(vm.MoRef, ct).ConfigureAwait(false);
                    Transition("poweredOff", "PowerOffVM_Task", "the interrupted run's KB power-on undone");
                    steps.Add("Powered off (PowerOffVM_Task): the interrupted run had powered the VM on for KB 2139574's cycle");
                }
                if (plan.PowerOff != PowerOffMethod.None)
                {
                    var method = await PowerOffAsync(plan, steps, SetStep, ct).ConfigureAwait(false);
                    Transition("poweredOff", method, "CBT is reset with the VM off (KB 2139574)");
                }

                if (!plan.DisablesWhileRunning) await DisableAsync(Record(ResetPhase.CbtOff), "").ConfigureAwait(false);

                SetStep("DeleteCtkFiles");
                await DeleteCtkFilesAsync(plan, steps, deleted, ct).ConfigureAwait(false);

                if (plan.PowerCycleWithCbtOff)
                {
                    SetStep("PowerOnWithCbtOff");
                    await _client.PowerOnAsync(vm.MoRef, ct).ConfigureAwait(false);
                    Transition("poweredOn", "PowerOnVM_Task", "power-on with CBT disabled: the disks are opened without CBT (KB 2139574)");
                    steps.Add("Powered on with CBT disabled (the disks are opened without CBT)");
                    SetStep("PowerOffAfterCycle");
                    await _client.PowerOffAsync(vm.MoRef, ct).ConfigureAwait(false);
                    Transition("poweredOff", "PowerOffVM_Task", "power-off right after the CBT-disabled power-on (KB 2139574)");
                    steps.Add("Powered off again (PowerOffVM_Task)");
                }
                else steps.Add("Skipped the power-on/power-off with CBT disabled (-SkipPowerCycle)");

                SetStep("EnableChangeTracking");
                await _client.SetChangeTrackingAsync(vm.MoRef, true, plan.CtkEnabledKeys, plan.PowerOnAfter ? Record(ResetPhase.PowerOn) : RemoveRecord(), ct).ConfigureAwait(false);
                if (!plan.PowerOnAfter && keepRecords) recordOnVm = false;
                steps.Add("Enabled CBT (changeTrackingEnabled=true" + (plan.CtkEnabledKeys.Count > 0 ? "; " + string.Join(", ", plan.CtkEnabledKeys.Select(k => k + "=true")) : "") + ")");

                if (plan.PowerOnAfter)
                {
                    SetStep("PowerOn");
                    await _client.PowerOnAsync(vm.MoRef, ct).ConfigureAwait(false);
                    Transition("poweredOn", "PowerOnVM_Task", "original power state restored");
                    steps.Add("Powered on (original power state restored; ESXi creates new -ctk.vmdk files as the disks open)");
                    // The record's last reconfigure runs beside the ctk check (it needs nothing from it).
                    pendingRemoval = RemoveRecord() is { } remove ? RemoveLastRecordAsync(remove) : null;
                }
            }

            async Task DisableAsync(ExtraConfigValue? record, string when)
            {
                SetStep("DisableChangeTracking");
                await _client.SetChangeTrackingAsync(vm.MoRef, false, plan.CtkEnabledKeys, record, ct).ConfigureAwait(false);
                steps.Add("Disabled CBT (changeTrackingEnabled=false" + (plan.CtkEnabledKeys.Count > 0 ? "; " + string.Join(", ", plan.CtkEnabledKeys.Select(k => k + "=false")) : "") + ")" + when);
            }

            // A record left by a failed removal is harmless: the VM runs with CBT on, so the next
            // reset only removes it (OnlyRemoveRecord). The reset itself has succeeded.
            async Task RemoveLastRecordAsync(ExtraConfigValue remove)
            {
                try
                {
                    await _client.SetExtraConfigAsync(vm.MoRef, remove, ct).ConfigureAwait(false);
                    recordOnVm = false;
                }
                catch (Exception ex) when (IsStepFailure(ex))
                {
                    removalNote = $"Could not remove the record {VmInfo.ResetRecordKey} ({ex.Message}); the reset is complete, the next reset of this VM only removes it";
                }
            }

            // Puts back only what this run changed: a VM whose state is not the one this run left it
            // in was changed by someone else, and that change is never undone.
            async Task RestoreAfterFailureAsync(Exception failure)
            {
                try
                {
                    using var restore = new CancellationTokenSource(TimeSpan.FromMinutes(2));
                    var (now, _) = await _client.GetVmStateAsync(vm.MoRef, restore.Token).ConfigureAwait(false);
                    // A power task that failed otherwise (timeout, lost connection) may still have done
                    // its work: the state it aimed at is ours too. InvalidPowerState says the VM was
                    // already there before our task: someone else's doing.
                    var aimedAt = failure is VimFaultException { FaultName: "InvalidPowerState" } ? power
                        : step == "PowerOnWithCbtOff" || step == "PowerOn" ? "poweredOn"
                        : step == "ShutdownGuest" || step == "PowerOff" || step == "PowerOffAfterCycle" || step == "UndoInterruptedPowerOn" ? "poweredOff" : power;
                    if (now != power && now != aimedAt)
                    {
                        result.OtherActor = await DescribeOtherActorAsync(now, restore.Token).ConfigureAwait(false);
                        steps.Add($"The VM is {PowerCliPowerState(now)}, not {PowerCliPowerState(power)} as this run left it: {result.OtherActor}. Nothing was undone; CBT was left as it is");
                        return;
                    }
                    power = now;
                    if (disabledWhileRunning && transitions.Count == 0 && now == "poweredOn" && !recordBefore)
                    {
                        // The VM never stopped, so the disable never took effect: put CBT back as it was
                        // and remove this run's record; nothing of the reset is left to finish.
                        var removal = RemoveRecord();
                        if (vm.ChangeTrackingEnabled) await _client.SetChangeTrackingAsync(vm.MoRef, true, plan.CtkEnabledKeys, removal, restore.Token).ConfigureAwait(false);
                        else if (removal != null) await _client.SetExtraConfigAsync(vm.MoRef, removal, restore.Token).ConfigureAwait(false);
                        if (removal != null) recordOnVm = false;
                        steps.Add(vm.ChangeTrackingEnabled
                            ? "Enabled CBT again: the VM was not powered off, so the disable never took effect; nothing was reset"
                            : "Removed the record: the VM was not powered off; CBT stays disabled as it was; nothing was reset");
                        return;
                    }
                    if (now != plan.OriginalPowerState && plan.OriginalPowerState == "poweredOn" && now == "poweredOff")
                    {
                        await _client.PowerOnAsync(vm.MoRef, restore.Token).ConfigureAwait(false);
                        Transition("poweredOn", "PowerOnVM_Task", "original power state restored after the failure");
                        steps.Add("Powered on again after the failure (original power state restored)");
                    }
                    else if (now != plan.OriginalPowerState && plan.OriginalPowerState == "poweredOff" && now == "poweredOn")
                    {
                        // We powered it on only for the KB's cycle: off again, as it was.
                        await _client.PowerOffAsync(vm.MoRef, restore.Token).ConfigureAwait(false);
                        Transition("poweredOff", "PowerOffVM_Task", "original power state restored after the failure");
                        steps.Add("Powered off again after the failure (original power state restored)");
                    }
                }
                catch (Exception restoreEx) when (IsStepFailure(restoreEx))
                {
                    steps.Add($"Could not restore the original power state ({PowerCliPowerState(plan.OriginalPowerState)}): {restoreEx.Message}");
                }
            }

            // Who made the change, from vCenter's event history (an unknown actor when it has none).
            async Task<string> DescribeOtherActorAsync(string now, CancellationToken token)
            {
                var word = now == "poweredOn" ? "on" : now == "poweredOff" ? "off" : PowerCliPowerState(now);
                try
                {
                    var events = await _client.GetPowerEventsAsync(vm.MoRef, startedUtc.AddSeconds(-1), token).ConfigureAwait(false);
                    var theirs = events.LastOrDefault(e => e.PowerState == now && !string.Equals(e.UserName, _client.UserName, StringComparison.OrdinalIgnoreCase))
                        ?? events.LastOrDefault(e => e.PowerState == now);
                    if (theirs != null)
                        return $"{(theirs.UserName.Length == 0 ? "an unnamed user" : theirs.UserName)} powered it {word} at {theirs.TimeUtc:yyyy-MM-dd HH:mm:ss}Z (vCenter events)";
                }
                catch (Exception ex) when (IsStepFailure(ex)) { }
                return $"another actor powered it {word} (vCenter's events do not say who)";
            }
        }

        /// <summary>
        /// Deletes the planned files. On vSAN, whether a -ctk.vmdk is a plain file in the VM's
        /// namespace object or an object of its own, and so whether DeleteDatastoreFile_Task removes
        /// it completely, is unverified: there every delete is verified by listing
        /// the folder, and a file still listed fails the step (CBT stays disabled, nothing is enabled
        /// on top of a partial delete).
        /// Sources: docs/field-sources.md#6-changed-block-tracking.
        /// </summary>
        private async Task DeleteCtkFilesAsync(ChangeTrackingResetPlan plan, List<string> steps, List<string> deleted, CancellationToken ct)
        {
            var vm = plan.Vm;
            var toVerify = new List<(DatastorePath File, DatastoreInfo Ds)>();
            foreach (var file in plan.FilesToDelete)
            {
                var ds = vm.Datastores.Values.FirstOrDefault(d => d.Name == file.Datastore);
                var vsan = ds != null && ds.IsVsan;
                try
                {
                    await _client.DeleteFileAsync(file, ds?.Datacenter ?? default, ct).ConfigureAwait(false);
                    deleted.Add(file.ToString());
                    steps.Add($"Deleted {file}");
                }
                catch (VimFaultException ex) when (ex.FaultName == "FileNotFound")
                {
                    // Already gone (e.g. an earlier, interrupted run deleted it): the goal is met.
                    steps.Add($"Already absent: {file}");
                }
                if (vsan) toVerify.Add((file, ds!));
            }
            if (plan.FilesToDelete.Count == 0) steps.Add("No -ctk.vmdk files to delete");

            foreach (var folder in toVerify.GroupBy(v => (v.File.Datastore, v.File.Folder)))
            {
                var listed = await SearchAsync(folder.First().Ds, folder.Key.Folder, ct).ConfigureAwait(false);
                var names = new HashSet<string>(listed.Select(f => f.Path.FileName), StringComparer.Ordinal);
                var left = folder.Where(v => names.Contains(v.File.FileName)).Select(v => v.File.ToString()).ToList();
                if (left.Count > 0)
                {
                    foreach (var l in left) deleted.Remove(l);
                    throw new InvalidOperationException(
                        $"vSAN datastore {folder.Key.Datastore}: the delete of {string.Join(", ", left)} reported success or absence, but a listing of the folder still shows it (partial delete). " +
                        "CBT was left disabled. Delete the file with the vSphere Client's datastore browser or contact VMware support; a re-run then completes the reset.");
                }
                steps.Add($"Verified by listing [{folder.Key.Datastore}] {folder.Key.Folder} (vSAN): the deleted -ctk.vmdk files are gone");
            }
        }

        private async Task VerifyCtkFilesAsync(ChangeTrackingResetPlan plan, bool poweredOn, List<string> steps, ChangeTrackingResetResult result, CancellationToken ct)
        {
            var inspection = await InspectAsync(plan.Vm, ct).ConfigureAwait(false);
            var disks = plan.Vm.Disks.Where(d => !d.IsPhysicalRdm && DatastorePath.TryParse(d.FileName, out _)).ToList();
            var missing = disks.Where(d => !inspection.OwnByDisk.ContainsKey(d.Key)).Select(d => d.FileName).ToList();
            result.CtkFilesAfter = inspection.OwnByDisk.Values.Select(p => p.ToString()).OrderBy(x => x, StringComparer.Ordinal).ToArray();
            if (missing.Count == 0)
            {
                steps.Add($"Checked: each of the {disks.Count} disk(s) has its own -ctk.vmdk");
                return;
            }
            if (!poweredOn)
            {
                steps.Add($"No -ctk.vmdk yet for {string.Join(", ", missing)}: the VM is off, ESXi creates them when the disks are opened at the next power-on");
                return;
            }
            throw new InvalidOperationException(
                $"CBT is enabled and the VM is powered on, but {string.Join(", ", missing)} has no -ctk.vmdk. ESXi creates it when a CBT-enabled disk opens: check the VM's vmware.log; a re-run then completes the reset.");
        }

        /// <summary>Powers the VM off as planned; returns the method that did it. Throws (with the step set) when it is not off.</summary>
        private async Task<string> PowerOffAsync(ChangeTrackingResetPlan plan, List<string> steps, Action<string> setStep, CancellationToken ct)
        {
            var vm = plan.Vm;
            if (plan.PowerOff == PowerOffMethod.ShutdownGuest)
            {
                setStep("ShutdownGuest");
                var sw = Stopwatch.StartNew();
                Exception? shutdownError = null;
                try { await _client.ShutdownGuestAsync(vm.MoRef, ct).ConfigureAwait(false); }
                catch (VimFaultException ex) when (ex.FaultName == "InvalidPowerState")
                {
                    shutdownError = null; // already off: fine
                }
                catch (VimFaultException ex) { shutdownError = ex; }

                if (shutdownError == null)
                {
                    while (true)
                    {
                        var (power, _) = await _client.GetVmStateAsync(vm.MoRef, ct).ConfigureAwait(false);
                        if (power == "poweredOff")
                        {
                            steps.Add(string.Format(CultureInfo.InvariantCulture, "Shut down the guest OS (VMware Tools); powered off after {0:0.0} s", sw.Elapsed.TotalSeconds));
                            return "ShutdownGuest";
                        }
                        if (sw.Elapsed >= plan.Options.ShutdownTimeout) break;
                        var wait = plan.Options.PollInterval < plan.Options.ShutdownTimeout - sw.Elapsed ? plan.Options.PollInterval : plan.Options.ShutdownTimeout - sw.Elapsed;
                        await Task.Delay(wait, ct).ConfigureAwait(false);
                    }
                }
                if (!plan.HardPowerOffFallback)
                {
                    throw shutdownError != null
                        ? new VimFaultException(((VimFaultException)shutdownError).FaultName, shutdownError.Message + " Add -Force to power the VM off hard instead.", "ShutdownGuest")
                        : new TimeoutException($"The guest did not shut down within {plan.Options.ShutdownTimeout.TotalSeconds:0} s; the VM is still running and nothing else was changed. Raise -ShutdownTimeoutSeconds, or add -Force to power it off hard.");
                }
                steps.Add(shutdownError != null
                    ? $"Guest shutdown failed ({shutdownError.Message}); powering off hard (-Force)"
                    : $"Guest did not shut down within {plan.Options.ShutdownTimeout.TotalSeconds:0} s; powering off hard (-Force)");
            }

            setStep("PowerOff");
            try
            {
                await _client.PowerOffAsync(vm.MoRef, ct).ConfigureAwait(false);
            }
            catch (VimFaultException ex) when (ex.FaultName == "InvalidPowerState")
            {
                // Raced with the guest finishing its own shutdown: confirm it is off.
                var (state, _) = await _client.GetVmStateAsync(vm.MoRef, ct).ConfigureAwait(false);
                if (state != "poweredOff") throw new InvalidOperationException($"The VM is still {PowerCliPowerState(state)} after PowerOffVM_Task.");
            }
            steps.Add("Powered off hard (PowerOffVM_Task)");
            return "PowerOffVM_Task";
        }

        private static bool IsStepFailure(Exception ex) =>
            ex is VimFaultException || ex is VimTransportException || ex is TimeoutException || ex is OperationCanceledException || ex is InvalidOperationException;
    }
}
