using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using MtvRemediation.Cbt;
using MtvRemediation.Esxi;
using MtvRemediation.HostLog;
using MtvRemediation.Infrastructure;
using MtvRemediation.VSphere;
using Xunit;

namespace MtvRemediation.Tests.VSphere
{
    /// <summary>
    /// Engine logic against an in-memory IVSphereClient (the seam the engine is built on). The same
    /// engine runs against vcsim in tests/Pester/VSphere.Tests.ps1.
    /// </summary>
    public class ChangeTrackingEngineTests
    {
        private sealed class FakeVSphere : IVSphereClient
        {
            public string Power = "poweredOff";
            public bool Cbt = true;
            public bool GuestIgnoresShutdown;
            public bool DeleteReportsSuccessButKeepsFile; // the unverified vSAN case
            public bool NoCtkOnPowerOn;
            public readonly List<string> Disks = new List<string>();
            public readonly HashSet<string> Files = new HashSet<string>(StringComparer.Ordinal);
            public readonly List<string> Calls = new List<string>();
            public readonly Dictionary<string, int> FailOnCall = new Dictionary<string, int>();
            private readonly Dictionary<string, int> _counts = new Dictionary<string, int>();

            public string Server => "vc";
            public string UserName { get; set; } = "alice@vsphere.local";
            public TimeSpan TaskTimeout => TimeSpan.FromSeconds(5);

            /// <summary>The VM's mtvremediation.cbtReset extraConfig value, as vCenter keeps it.</summary>
            public string? RecordValue;
            public readonly List<VmPowerEvent> Events = new List<VmPowerEvent>();

            public Task SetExtraConfigAsync(MoRef vm, ExtraConfigValue value, CancellationToken ct)
            {
                Record(value.Value.Length == 0 ? "RemoveRecord" : "WriteRecord");
                RecordValue = value.Value.Length == 0 ? null : value.Value;
                return Task.CompletedTask;
            }

            public Task<IReadOnlyList<VmPowerEvent>> GetPowerEventsAsync(MoRef vm, DateTime sinceUtc, CancellationToken ct) =>
                Task.FromResult<IReadOnlyList<VmPowerEvent>>(Events.Where(e => e.TimeUtc >= sinceUtc).ToList());

            /// <summary>Runs before each recorded call: another actor acting at that moment.</summary>
            public Action<string>? Before;

            private void Record(string call)
            {
                Before?.Invoke(call);
                Calls.Add(call);
                _counts[call] = _counts.TryGetValue(call, out var n) ? n + 1 : 1;
                if (FailOnCall.TryGetValue(call, out var nth) && nth == _counts[call])
                    throw new VimFaultException("MethodDisabled", "method is disabled", call);
            }

            public Task<IReadOnlyList<VmInfo>> GetVmsAsync(IReadOnlyCollection<MoRef> vms, CancellationToken ct) => throw new NotSupportedException();

            public int SingleReads;
            public int BatchReads;
            public List<MoRef> LastBatch = new List<MoRef>();
            public readonly HashSet<MoRef> Missing = new HashSet<MoRef>();

            public Task<(string PowerState, bool ChangeTrackingEnabled)> GetVmStateAsync(MoRef vm, CancellationToken ct)
            {
                Interlocked.Increment(ref SingleReads);
                if (Missing.Contains(vm)) throw new VimFaultException("ManagedObjectNotFound", "The object has already been deleted.", "RetrieveProperties");
                return Task.FromResult((Power, Cbt));
            }

            public async Task<IReadOnlyDictionary<MoRef, (string PowerState, bool ChangeTrackingEnabled)>> GetVmStatesAsync(IReadOnlyCollection<MoRef> vms, CancellationToken ct)
            {
                Interlocked.Increment(ref BatchReads);
                LastBatch = vms.ToList();
                await Task.Delay(20, ct); // a round trip, so concurrent callers overlap it
                return vms.Where(v => !Missing.Contains(v)).ToDictionary(v => v, v => (Power, Cbt));
            }

            public Task<IReadOnlyList<DatastoreFile>> SearchFolderAsync(DatastoreInfo datastore, string folder, string matchPattern, CancellationToken ct)
            {
                Record("Search");
                var prefix = $"[{datastore.Name}] {folder}/";
                IReadOnlyList<DatastoreFile> found = Files.Where(f => f.StartsWith(prefix, StringComparison.Ordinal) && f.IndexOf('/', prefix.Length) < 0)
                    .Select(f => new DatastoreFile(DatastorePath.Parse(f), 0)).ToList();
                return Task.FromResult(found);
            }

            public Task DeleteFileAsync(DatastorePath file, MoRef datacenter, CancellationToken ct)
            {
                Record("Delete");
                Assert.Equal(new MoRef("Datacenter", "dc-1"), datacenter);
                if (DeleteReportsSuccessButKeepsFile && Files.Contains(file.ToString())) { Calls[Calls.Count - 1] = "Delete " + file; return Task.CompletedTask; }
                if (!Files.Remove(file.ToString())) throw new VimFaultException("FileNotFound", "File not found", "DeleteDatastoreFile_Task");
                Calls[Calls.Count - 1] = "Delete " + file;
                return Task.CompletedTask;
            }

            public Task<(string PowerState, bool ChangeTrackingEnabled)?> SetChangeTrackingAsync(MoRef vm, bool enabled, IReadOnlyList<string> keys, ExtraConfigValue? also, CancellationToken ct)
            {
                Record(enabled ? "Enable" : "Disable");
                Assert.Equal(new[] { "scsi0:0.ctkEnabled", "scsi0:1.ctkEnabled" }, keys);
                Cbt = enabled;
                if (also != null) RecordValue = also.Value.Length == 0 ? null : also.Value;
                return Task.FromResult<(string, bool)?>((Power, Cbt));
            }

            public Task ShutdownGuestAsync(MoRef vm, CancellationToken ct)
            {
                Record("ShutdownGuest");
                if (!GuestIgnoresShutdown) Power = "poweredOff";
                return Task.CompletedTask;
            }

            public Task PowerOffAsync(MoRef vm, CancellationToken ct) { Record("PowerOff"); Power = "poweredOff"; return Task.CompletedTask; }

            // As ESXi does: a CBT-enabled disk gets its -ctk.vmdk when it is opened at power-on.
            public Task<(string PowerState, bool ChangeTrackingEnabled)?> PowerOnAsync(MoRef vm, CancellationToken ct)
            {
                Record(Cbt ? "PowerOn" : "PowerOn(CBT off)");
                // vCenter refuses to power on a running VM.
                if (Power == "poweredOn") throw new VimFaultException("InvalidPowerState", "The attempted operation cannot be performed in the current state (Powered on).", "PowerOnVM_Task");
                Power = "poweredOn";
                if (Cbt && !NoCtkOnPowerOn) foreach (var d in Disks) Files.Add(d.Substring(0, d.Length - ".vmdk".Length) + "-ctk.vmdk");
                return Task.FromResult<(string, bool)?>((Power, Cbt));
            }
        }

        private static readonly DatastoreInfo Ds = new DatastoreInfo { MoRef = new MoRef("Datastore", "ds-1"), Name = "ds 1", Browser = new MoRef("HostDatastoreBrowser", "b-1"), Datacenter = new MoRef("Datacenter", "dc-1") };

        private static VmInfo Vm(FakeVSphere fake, int snapshots = 0, bool tools = true)
        {
            var vm = new VmInfo
            {
                MoRef = new MoRef("VirtualMachine", "vm-1"), Name = "app [1]", PowerState = fake.Power, ChangeTrackingEnabled = fake.Cbt, ResetRecordValue = fake.RecordValue,
                SnapshotCount = snapshots, ToolsRunningStatus = tools ? "guestToolsRunning" : "guestToolsNotRunning", HostName = "esx1",
            };
            vm.Datastores[Ds.MoRef] = Ds;
            vm.Disks.Add(new VmDiskInfo { Key = 2000, FileName = "[ds 1] app [1]/app [1].vmdk", Datastore = "ds 1", DatastoreMoRef = Ds.MoRef, ControllerKind = "scsi", BusNumber = 0, UnitNumber = 0 });
            vm.Disks.Add(new VmDiskInfo { Key = 2001, FileName = "[ds 1] app [1]/app [1]_1.vmdk", Datastore = "ds 1", DatastoreMoRef = Ds.MoRef, ControllerKind = "scsi", BusNumber = 0, UnitNumber = 1 });
            return vm;
        }

        private static FakeVSphere WithFiles(string power = "poweredOff")
        {
            var f = new FakeVSphere { Power = power };
            f.Disks.Add("[ds 1] app [1]/app [1].vmdk");
            f.Disks.Add("[ds 1] app [1]/app [1]_1.vmdk");
            foreach (var n in new[] { "app [1].vmdk", "app [1]-ctk.vmdk", "app [1]_1.vmdk", "app [1]_1-ctk.vmdk", "other.vmdk", "other-ctk.vmdk", "gone-ctk.vmdk" })
                f.Files.Add("[ds 1] app [1]/" + n);
            return f;
        }

        /// <summary>An engine for one VM, with reads of its own.</summary>
        private static ChangeTrackingEngine Engine(FakeVSphere fake) => new ChangeTrackingEngine(new SharedVSphereReads(fake));

        private static async Task<(ChangeTrackingResetPlan Plan, CtkInspection Inspection)> PlanAsync(FakeVSphere fake, ChangeTrackingResetOptions options, int snapshots = 0, bool tools = true)
        {
            var engine = Engine(fake);
            var inspection = await engine.InspectAsync(Vm(fake, snapshots, tools), CancellationToken.None);
            return (ChangeTrackingEngine.Plan(inspection, options), inspection);
        }

        [Fact]
        public async Task Inspection_separates_own_orphaned_and_foreign_ctk_files()
        {
            var fake = WithFiles();
            var (_, inspection) = await PlanAsync(fake, new ChangeTrackingResetOptions());
            Assert.Equal(new[] { "[ds 1] app [1]/app [1]-ctk.vmdk", "[ds 1] app [1]/app [1]_1-ctk.vmdk" }, inspection.OwnByDisk.Values.Select(p => p.ToString()).OrderBy(s => s, StringComparer.Ordinal));
            Assert.Equal(new[] { "[ds 1] app [1]/gone-ctk.vmdk" }, inspection.Orphaned.Select(p => p.ToString()));
            Assert.Equal(new[] { "[ds 1] app [1]/other-ctk.vmdk" }, inspection.Foreign.Select(p => p.ToString()));
            Assert.Equal(1, fake.Calls.Count(c => c == "Search")); // one search per folder, not per disk
        }

        [Fact]
        public async Task A_disk_named_like_a_ctk_file_is_a_disk_and_never_deleted()
        {
            // data.vmdk and a second disk data-ctk.vmdk: the name of data.vmdk's ctk file is a disk.
            var fake = new FakeVSphere();
            fake.Disks.Add("[ds 1] app [1]/data.vmdk");
            fake.Disks.Add("[ds 1] app [1]/data-ctk.vmdk");
            foreach (var n in new[] { "data.vmdk", "data-ctk.vmdk", "data-ctk-ctk.vmdk" }) fake.Files.Add("[ds 1] app [1]/" + n);
            var vm = Vm(fake);
            vm.Disks.Clear();
            vm.Disks.Add(new VmDiskInfo { Key = 2000, FileName = "[ds 1] app [1]/data.vmdk", Datastore = "ds 1", DatastoreMoRef = Ds.MoRef, ControllerKind = "scsi", BusNumber = 0, UnitNumber = 0 });
            vm.Disks.Add(new VmDiskInfo { Key = 2001, FileName = "[ds 1] app [1]/data-ctk.vmdk", Datastore = "ds 1", DatastoreMoRef = Ds.MoRef, ControllerKind = "scsi", BusNumber = 0, UnitNumber = 1 });
            var engine = Engine(fake);
            var inspection = await engine.InspectAsync(vm, CancellationToken.None);
            var plan = ChangeTrackingEngine.Plan(inspection, new ChangeTrackingResetOptions { IncludeOrphanedCtk = true });
            Assert.DoesNotContain("[ds 1] app [1]/data-ctk.vmdk", plan.FilesToDelete.Select(p => p.ToString()));
            Assert.Equal(new[] { "[ds 1] app [1]/data-ctk-ctk.vmdk" }, plan.FilesToDelete.Select(p => p.ToString()));
            var result = await engine.ResetAsync(plan, "vc", CancellationToken.None);
            Assert.Contains("[ds 1] app [1]/data-ctk.vmdk", fake.Files);
            Assert.DoesNotContain("Delete [ds 1] app [1]/data-ctk.vmdk", fake.Calls);
        }

        [Fact]
        public async Task Reset_of_an_off_VM_deletes_only_its_own_ctk_files_in_KB_order()
        {
            var fake = WithFiles();
            var (plan, _) = await PlanAsync(fake, new ChangeTrackingResetOptions());
            var result = await Engine(fake).ResetAsync(plan, "vc", CancellationToken.None);

            Assert.True(result.Succeeded, result.Error);
            // KB 2139574: the disks are opened once with CBT off before CBT is enabled; the VM is left off.
            Assert.Equal(new[] { "Search", "Disable", "Delete [ds 1] app [1]/app [1]-ctk.vmdk", "Delete [ds 1] app [1]/app [1]_1-ctk.vmdk", "PowerOn(CBT off)", "PowerOff", "Enable", "Search" }, fake.Calls);
            Assert.Contains("[ds 1] app [1]/other-ctk.vmdk", fake.Files);
            Assert.Contains("[ds 1] app [1]/gone-ctk.vmdk", fake.Files);
            Assert.Equal("PoweredOff", result.PowerStateAfter);
            Assert.True(result.EnabledAfter);
            Assert.Equal(2, result.DeletedFiles.Length);
            Assert.Equal(new[] { "PoweredOff -> PoweredOn (PowerOnVM_Task)", "PoweredOn -> PoweredOff (PowerOffVM_Task)" }, result.PowerTransitions.Select(t => t.ToString()));
            Assert.Contains(result.Steps, s => s.StartsWith("No -ctk.vmdk yet", StringComparison.Ordinal));
        }

        [Fact]
        public async Task SkipPowerCycle_leaves_the_cycle_out_and_the_plan_names_the_risk()
        {
            var fake = WithFiles();
            var (plan, _) = await PlanAsync(fake, new ChangeTrackingResetOptions { SkipPowerCycle = true });
            Assert.Contains(plan.DescribeOperations(), o => o.Contains("-SkipPowerCycle") && o.Contains("changeTrackPath"));
            var result = await Engine(fake).ResetAsync(plan, "vc", CancellationToken.None);
            Assert.True(result.Succeeded, result.Error);
            Assert.DoesNotContain(fake.Calls, c => c.StartsWith("Power", StringComparison.Ordinal));
            Assert.Empty(result.PowerTransitions);
        }

        [Fact]
        public async Task An_off_VM_whose_cycle_power_off_fails_is_powered_off_again_and_says_so()
        {
            var fake = WithFiles();
            fake.FailOnCall["PowerOff"] = 1;
            var (plan, _) = await PlanAsync(fake, new ChangeTrackingResetOptions());
            var result = await Engine(fake).ResetAsync(plan, "vc", CancellationToken.None);
            Assert.False(result.Succeeded);
            Assert.Equal("PowerOffAfterCycle", result.FailedStep);
            Assert.Equal("PoweredOff", result.PowerStateAfter);
            Assert.False(result.EnabledAfter);
            Assert.Equal(new[] { "PoweredOff -> PoweredOn (PowerOnVM_Task)", "PoweredOn -> PoweredOff (PowerOffVM_Task)" }, result.PowerTransitions.Select(t => t.ToString()));
            Assert.Contains("after the failure", result.PowerTransitions.Last().Reason);
        }

        [Fact]
        public async Task A_vsan_delete_that_leaves_the_file_is_caught_by_listing_and_CBT_stays_off()
        {
            var fake = WithFiles();
            fake.DeleteReportsSuccessButKeepsFile = true;
            var vm = Vm(fake);
            var vsan = new DatastoreInfo { MoRef = Ds.MoRef, Name = Ds.Name, Browser = Ds.Browser, Datacenter = Ds.Datacenter, Type = "vsan", Url = "ds:///vmfs/volumes/vsan:52e1a5c0d4f3b2a1-9f8e7d6c5b4a3f2e/" };
            vm.Datastores[Ds.MoRef] = vsan;
            var engine = Engine(fake);
            var plan = ChangeTrackingEngine.Plan(await engine.InspectAsync(vm, CancellationToken.None), new ChangeTrackingResetOptions());
            var result = await engine.ResetAsync(plan, "vc", CancellationToken.None);
            Assert.False(result.Succeeded);
            Assert.Equal("DeleteCtkFiles", result.FailedStep);
            Assert.Contains("partial delete", result.Error);
            Assert.Empty(result.DeletedFiles); // nothing is reported deleted that is still there
            Assert.DoesNotContain("Enable", fake.Calls);
            Assert.DoesNotContain(fake.Calls, c => c.StartsWith("PowerOn", StringComparison.Ordinal));
            Assert.False(result.EnabledAfter);
        }

        [Fact]
        public async Task A_running_VM_without_a_ctk_per_disk_after_the_reset_fails_the_check()
        {
            var fake = WithFiles("poweredOn");
            fake.NoCtkOnPowerOn = true;
            var (plan, _) = await PlanAsync(fake, new ChangeTrackingResetOptions { PowerOff = true });
            var result = await Engine(fake).ResetAsync(plan, "vc", CancellationToken.None);
            Assert.False(result.Succeeded);
            Assert.Equal("VerifyCtkFiles", result.FailedStep);
            Assert.Contains("has no -ctk.vmdk", result.Error);
            Assert.Equal("PoweredOn", result.PowerStateAfter);
            Assert.True(result.EnabledAfter);
        }

        [Fact]
        public async Task IncludeOrphanedCtk_adds_orphans_but_never_foreign_files()
        {
            var fake = WithFiles();
            var (plan, _) = await PlanAsync(fake, new ChangeTrackingResetOptions { IncludeOrphanedCtk = true });
            Assert.Equal(3, plan.FilesToDelete.Count);
            await Engine(fake).ResetAsync(plan, "vc", CancellationToken.None);
            Assert.DoesNotContain("[ds 1] app [1]/gone-ctk.vmdk", fake.Files);
            Assert.Contains("[ds 1] app [1]/other-ctk.vmdk", fake.Files);
        }

        [Theory]
        [InlineData("poweredOn", 0, false, true, false, "VMPoweredOn")]
        [InlineData("poweredOff", 1, false, true, false, "VMHasSnapshots")]
        [InlineData("poweredOn", 0, true, false, false, "VMToolsNotRunning")]
        [InlineData("suspended", 0, true, true, true, "VMSuspended")]
        public async Task Refusals_change_nothing(string power, int snapshots, bool powerOff, bool tools, bool force, string errorId)
        {
            var fake = WithFiles(power);
            var (plan, _) = await PlanAsync(fake, new ChangeTrackingResetOptions { PowerOff = powerOff, Force = force }, snapshots, tools);
            Assert.True(plan.Refused);
            Assert.Equal(errorId, plan.RefusalErrorId);
            Assert.Contains("Nothing was changed", plan.RefusalMessage);
            Assert.Equal(new[] { "Search" }, fake.Calls);
        }

        [Fact]
        public async Task PowerOff_shuts_the_guest_down_and_restores_power()
        {
            var fake = WithFiles("poweredOn");
            var (plan, _) = await PlanAsync(fake, new ChangeTrackingResetOptions { PowerOff = true });
            Assert.Equal(PowerOffMethod.ShutdownGuest, plan.PowerOff);
            var result = await Engine(fake).ResetAsync(plan, "vc", CancellationToken.None);
            Assert.True(result.Succeeded, result.Error);
            // The record rides on the first change (the disable, before the power-off: it applies at the
            // next power-on) and is removed after the last (the power-on).
            Assert.Equal(new[] { "Search", "Disable", "ShutdownGuest", "Delete [ds 1] app [1]/app [1]-ctk.vmdk", "Delete [ds 1] app [1]/app [1]_1-ctk.vmdk", "PowerOn(CBT off)", "PowerOff", "Enable", "PowerOn", "RemoveRecord", "Search" }, fake.Calls);
            Assert.Null(fake.RecordValue);
            Assert.Equal("PoweredOn", result.PowerStateBefore);
            Assert.Equal("PoweredOn", result.PowerStateAfter);
            Assert.Equal(new[] { "PoweredOn -> PoweredOff (ShutdownGuest)", "PoweredOff -> PoweredOn (PowerOnVM_Task)", "PoweredOn -> PoweredOff (PowerOffVM_Task)", "PoweredOff -> PoweredOn (PowerOnVM_Task)" },
                result.PowerTransitions.Select(t => t.ToString()));
            Assert.Equal(new[] { "[ds 1] app [1]/app [1]-ctk.vmdk", "[ds 1] app [1]/app [1]_1-ctk.vmdk" }, result.CtkFilesAfter);
        }

        [Fact]
        public async Task Shutdown_timeout_without_Force_puts_CBT_back_and_removes_the_record()
        {
            var fake = WithFiles("poweredOn");
            fake.GuestIgnoresShutdown = true;
            var (plan, _) = await PlanAsync(fake, new ChangeTrackingResetOptions { PowerOff = true, ShutdownTimeout = TimeSpan.FromMilliseconds(200), PollInterval = TimeSpan.FromMilliseconds(50) });
            var result = await Engine(fake).ResetAsync(plan, "vc", CancellationToken.None);
            Assert.False(result.Succeeded);
            Assert.Equal("ShutdownGuest", result.FailedStep);
            Assert.Contains("-Force", result.Error);
            // The disable went first but never took effect (the VM never stopped): CBT is on again, no record, no file touched.
            Assert.Equal(new[] { "Search", "Disable", "ShutdownGuest", "Enable" }, fake.Calls.Where(c => c != "State").ToArray());
            Assert.True(fake.Cbt);
            Assert.Null(fake.RecordValue);
            Assert.False(result.RecordLeft);
            Assert.True(result.EnabledAfter);
            Assert.Contains(result.Steps, s => s.StartsWith("Enabled CBT again", StringComparison.Ordinal));
            Assert.Equal("PoweredOn", result.PowerStateAfter);
        }

        [Fact]
        public async Task Shutdown_timeout_with_Force_powers_off_hard()
        {
            var fake = WithFiles("poweredOn");
            fake.GuestIgnoresShutdown = true;
            var (plan, _) = await PlanAsync(fake, new ChangeTrackingResetOptions { PowerOff = true, Force = true, ShutdownTimeout = TimeSpan.FromMilliseconds(100), PollInterval = TimeSpan.FromMilliseconds(50) });
            var result = await Engine(fake).ResetAsync(plan, "vc", CancellationToken.None);
            Assert.True(result.Succeeded, result.Error);
            Assert.Equal(new[] { "Search", "Disable", "ShutdownGuest", "PowerOff", "Delete [ds 1] app [1]/app [1]-ctk.vmdk" }, fake.Calls.Take(5));
        }

        [Fact]
        public async Task Failure_midway_reports_state_restores_power_and_a_rerun_completes()
        {
            var fake = WithFiles("poweredOn");
            fake.FailOnCall["Enable"] = 1;
            var options = new ChangeTrackingResetOptions { PowerOff = true };
            var (plan, _) = await PlanAsync(fake, options);
            var first = await Engine(fake).ResetAsync(plan, "vc", CancellationToken.None);

            Assert.False(first.Succeeded);
            Assert.Equal("EnableChangeTracking", first.FailedStep);
            Assert.Equal(2, first.DeletedFiles.Length);
            Assert.False(first.EnabledAfter);
            Assert.Equal("PoweredOn", first.PowerStateAfter);
            Assert.Contains(first.Steps, s => s.StartsWith("FAILED at EnableChangeTracking", StringComparison.Ordinal));

            var (plan2, _) = await PlanAsync(fake, options);
            Assert.Empty(plan2.FilesToDelete);
            var second = await Engine(fake).ResetAsync(plan2, "vc", CancellationToken.None);
            Assert.True(second.Succeeded, second.Error);
            Assert.True(second.EnabledAfter);
            Assert.Equal("PoweredOn", second.PowerStateAfter);
        }

        [Fact]
        public async Task File_already_gone_counts_as_done()
        {
            var fake = WithFiles();
            var (plan, _) = await PlanAsync(fake, new ChangeTrackingResetOptions());
            fake.Files.Remove("[ds 1] app [1]/app [1]-ctk.vmdk");
            var result = await Engine(fake).ResetAsync(plan, "vc", CancellationToken.None);
            Assert.True(result.Succeeded, result.Error);
            Assert.Single(result.DeletedFiles);
            Assert.Contains(result.Steps, s => s.StartsWith("Already absent", StringComparison.Ordinal));
        }

        [Fact]
        public async Task A_disk_on_an_unknown_datastore_refuses_the_reset()
        {
            var fake = WithFiles();
            var vm = Vm(fake);
            vm.Disks.Add(new VmDiskInfo { Key = 2002, FileName = "[hidden] app [1]/disk3.vmdk", Datastore = "hidden", ControllerKind = "scsi", BusNumber = 0, UnitNumber = 2 });
            var inspection = await Engine(fake).InspectAsync(vm, CancellationToken.None);
            var plan = ChangeTrackingEngine.Plan(inspection, new ChangeTrackingResetOptions());
            Assert.Equal("DatastoreNotSearchable", plan.RefusalErrorId);
            Assert.Contains("[hidden] app [1]", plan.RefusalMessage);
            Assert.False(ChangeTrackingEngine.BuildStatus(inspection, "vc").Healthy);
        }

        [Fact]
        public async Task A_power_state_change_after_planning_stops_before_any_change()
        {
            var fake = WithFiles();
            var (plan, _) = await PlanAsync(fake, new ChangeTrackingResetOptions());
            fake.Power = "poweredOn"; // someone powered it on while the user was confirming
            var result = await Engine(fake).ResetAsync(plan, "vc", CancellationToken.None);
            Assert.False(result.Succeeded);
            Assert.Equal("Precheck", result.FailedStep);
            Assert.Equal(new[] { "Search" }, fake.Calls);
            Assert.Equal("PoweredOn", result.PowerStateAfter);
        }

        [Fact]
        public async Task A_power_state_change_seen_by_the_shared_state_check_stops_before_any_change()
        {
            var fake = WithFiles();
            var (plan, _) = await PlanAsync(fake, new ChangeTrackingResetOptions());
            fake.Power = "poweredOn";
            var reads = new SharedVSphereReads(fake);
            reads.ExpectStateChecks(new[] { plan.Vm.MoRef });
            var result = await new ChangeTrackingEngine(reads).ResetAsync(plan, "vc", CancellationToken.None);
            Assert.False(result.Succeeded);
            Assert.Equal("Precheck", result.FailedStep);
            Assert.Equal(new[] { "Search" }, fake.Calls);
            Assert.Equal(2, fake.BatchReads); // the shared state check, and the final state read
            Assert.Equal(0, fake.SingleReads);
        }

        private static List<MoRef> VmRefs(int n) => Enumerable.Range(1, n).Select(i => new MoRef("VirtualMachine", "vm-" + i)).ToList();

        [Fact]
        public async Task State_checks_of_many_VMs_share_one_read()
        {
            var fake = new FakeVSphere { Power = "poweredOn" };
            var vms = VmRefs(50);
            var reads = new SharedVSphereReads(fake, SharedVSphereReads.DefaultLinger, TimeSpan.FromMinutes(1));
            reads.ExpectStateChecks(vms);
            var states = await Task.WhenAll(vms.Select(v => Task.Run(() => reads.GetRecentVmStateAsync(v, CancellationToken.None))));
            Assert.All(states, s => Assert.Equal("poweredOn", s.PowerState));
            Assert.Equal(1, fake.BatchReads);
            Assert.Equal(0, fake.SingleReads);
            Assert.Equal(50, fake.LastBatch.Count);
            Assert.Equal(1, reads.StateReads);
        }

        [Fact]
        public async Task A_state_check_older_than_its_max_age_is_read_again_with_the_VMs_still_waiting()
        {
            var fake = new FakeVSphere { Power = "poweredOff" };
            var vms = VmRefs(3);
            var reads = new SharedVSphereReads(fake, SharedVSphereReads.DefaultLinger, TimeSpan.FromMilliseconds(50));
            reads.ExpectStateChecks(vms);
            Assert.Equal("poweredOff", (await reads.GetRecentVmStateAsync(vms[0], CancellationToken.None)).PowerState);
            fake.Power = "poweredOn"; // someone powers the others on meanwhile
            await Task.Delay(150);
            Assert.Equal("poweredOn", (await reads.GetRecentVmStateAsync(vms[1], CancellationToken.None)).PowerState);
            Assert.Equal(2, fake.BatchReads);
            Assert.Equal(new[] { vms[1], vms[2] }, fake.LastBatch); // the VM already started is not read again
        }

        [Fact]
        public async Task A_VM_missing_from_the_batch_is_read_on_its_own_for_the_precise_error()
        {
            var fake = new FakeVSphere();
            var vms = VmRefs(3);
            fake.Missing.Add(vms[1]);
            var reads = new SharedVSphereReads(fake, SharedVSphereReads.DefaultLinger, TimeSpan.FromMinutes(1));
            reads.ExpectStateChecks(vms);
            await reads.GetRecentVmStateAsync(vms[0], CancellationToken.None);
            var ex = await Assert.ThrowsAsync<VimFaultException>(() => reads.GetRecentVmStateAsync(vms[1], CancellationToken.None));
            Assert.Equal("ManagedObjectNotFound", ex.FaultName);
            Assert.Equal(1, fake.BatchReads);
            Assert.Equal(1, fake.SingleReads);
        }

        [Fact]
        public async Task WhatIf_text_lists_every_file_and_power_operation()
        {
            var fake = WithFiles("poweredOn");
            var (plan, _) = await PlanAsync(fake, new ChangeTrackingResetOptions { PowerOff = true, Force = true });
            var ops = plan.DescribeOperations().ToList();
            // A running VM's CBT is disabled first (applied at its next power-on), then it is shut down.
            Assert.StartsWith("disable CBT (changeTrackingEnabled=false; scsi0:0.ctkEnabled=false", ops[0]);
            Assert.Contains("while the VM still runs", ops[0]);
            Assert.StartsWith("shut down the guest OS", ops[1]);
            Assert.Contains("power off hard", ops[1]);
            Assert.Single(ops, o => o.StartsWith("disable CBT", StringComparison.Ordinal));
            Assert.Contains("delete [ds 1] app [1]/app [1]-ctk.vmdk", ops);
            Assert.Contains("delete [ds 1] app [1]/app [1]_1-ctk.vmdk", ops);
            Assert.Contains(ops, o => o.StartsWith("power on with CBT disabled and power off again", StringComparison.Ordinal));
            Assert.Equal("power on (the original power state)", ops[ops.Count - 3]);
            Assert.Equal("check that every disk has its own -ctk.vmdk", ops[ops.Count - 2]);
            Assert.StartsWith("keep a record in the VM's configuration (mtvremediation.cbtReset)", ops.Last());
            Assert.DoesNotContain(ops, o => o.Contains("other-ctk"));
        }

        [Fact]
        public async Task WhatIf_text_of_an_off_VM_says_it_is_powered_on_once_and_left_off()
        {
            var fake = WithFiles();
            var (plan, _) = await PlanAsync(fake, new ChangeTrackingResetOptions());
            var cycle = plan.DescribeOperations().Single(o => o.StartsWith("power on with CBT disabled", StringComparison.Ordinal));
            Assert.EndsWith("the VM is PoweredOff now: it is powered on once and left off", cycle);
        }

        // Issue 22: a run that dies leaves a record on the VM that the next run finishes.
        private static string RecordOf(ResetPhase phase, string from, string user = "alice@vsphere.local") =>
            new ChangeTrackingResetRecord(phase, from, user, "WS01", DateTime.UtcNow.AddMinutes(-5)).Format();

        [Fact]
        public async Task Rerun_after_a_kill_following_the_power_off_restores_the_original_power_on()
        {
            // Killed right after the power-off: the VM is off, CBT untouched, the record says it was on.
            var fake = WithFiles("poweredOff");
            fake.RecordValue = RecordOf(ResetPhase.PowerOff, "poweredOn");
            var (plan, _) = await PlanAsync(fake, new ChangeTrackingResetOptions());
            Assert.False(plan.Refused, plan.RefusalMessage);
            Assert.True(plan.PowerOnAfter);
            Assert.Contains(plan.DescribeOperations(), o => o.StartsWith("finish a CBT reset started", StringComparison.Ordinal));
            var result = await Engine(fake).ResetAsync(plan, "vc", CancellationToken.None);
            Assert.True(result.Succeeded, result.Error);
            Assert.Equal("PoweredOn", result.PowerStateBefore);
            Assert.Equal("PoweredOn", result.PowerStateAfter);
            Assert.Contains("alice@vsphere.local", result.Resumed);
            Assert.Null(fake.RecordValue);
            Assert.False(result.RecordLeft);
        }

        [Fact]
        public async Task Rerun_after_a_kill_during_the_KB_cycle_of_a_VM_that_was_off_leaves_it_off()
        {
            // Killed after the KB power-on: running with CBT off. The power-on was the run's own (its user's event).
            var fake = WithFiles("poweredOn");
            fake.Cbt = false;
            fake.RecordValue = RecordOf(ResetPhase.CbtOff, "poweredOff");
            fake.Events.Add(new VmPowerEvent(DateTime.UtcNow.AddMinutes(-4), "poweredOn", "alice@vsphere.local"));
            var (plan, _) = await PlanAsync(fake, new ChangeTrackingResetOptions());
            Assert.False(plan.Refused, plan.RefusalMessage);
            Assert.True(plan.UndoInterruptedPowerOn);
            var result = await Engine(fake).ResetAsync(plan, "vc", CancellationToken.None);
            Assert.True(result.Succeeded, result.Error);
            Assert.Equal("PoweredOff", result.PowerStateBefore);
            Assert.Equal("PoweredOff", result.PowerStateAfter);
            Assert.DoesNotContain(result.Steps, s => s.Contains("original power state restored"));
            Assert.Equal(new[] { "Disable", "PowerOff", "Delete [ds 1] app [1]/app [1]-ctk.vmdk" }, fake.Calls.SkipWhile(c => c == "Search").Take(3));
            Assert.Null(fake.RecordValue);
        }

        [Fact]
        public async Task A_VM_someone_else_powered_on_after_the_interrupted_run_is_theirs_and_needs_PowerOff()
        {
            var fake = WithFiles("poweredOn");
            fake.Cbt = false;
            fake.RecordValue = RecordOf(ResetPhase.CbtOff, "poweredOff");
            fake.Events.Add(new VmPowerEvent(DateTime.UtcNow.AddMinutes(-4), "poweredOn", "alice@vsphere.local"));
            fake.Events.Add(new VmPowerEvent(DateTime.UtcNow.AddMinutes(-3), "poweredOff", "alice@vsphere.local"));
            fake.Events.Add(new VmPowerEvent(DateTime.UtcNow.AddMinutes(-2), "poweredOn", "bob@vsphere.local"));
            var (plan, _) = await PlanAsync(fake, new ChangeTrackingResetOptions());
            Assert.True(plan.Refused);
            Assert.Equal(ChangeTrackingErrorIds.VMPoweredOn, plan.RefusalErrorId);
            Assert.Contains("bob@vsphere.local powered the VM on", plan.Resumes);
            Assert.Equal("poweredOn", plan.OriginalPowerState);
        }

        [Fact]
        public async Task A_power_on_by_someone_else_during_the_reset_is_never_undone()
        {
            var fake = WithFiles("poweredOff");
            fake.Before = call =>
            {
                if (!call.StartsWith("Delete", StringComparison.Ordinal) || fake.Power == "poweredOn") return;
                fake.Power = "poweredOn"; // a second admin powers the VM on while the ctk files are deleted
                fake.Events.Add(new VmPowerEvent(DateTime.UtcNow, "poweredOn", "bob@vsphere.local"));
            };
            var (plan, _) = await PlanAsync(fake, new ChangeTrackingResetOptions());
            var result = await Engine(fake).ResetAsync(plan, "vc", CancellationToken.None);
            Assert.False(result.Succeeded);
            Assert.Equal("PowerOnWithCbtOff", result.FailedStep);
            Assert.Contains("bob@vsphere.local powered it on", result.OtherActor);
            Assert.Equal("PoweredOn", result.PowerStateAfter);
            Assert.False(result.EnabledAfter);
            Assert.DoesNotContain("PowerOff", fake.Calls);
            Assert.DoesNotContain("Enable", fake.Calls);
            Assert.True(result.RecordLeft);
            Assert.Equal(ResetPhase.CbtOff, ChangeTrackingResetRecord.TryParse(fake.RecordValue)!.Phase);
        }

        [Fact]
        public async Task A_finished_reset_whose_record_was_left_only_removes_the_record()
        {
            var fake = WithFiles("poweredOn");
            fake.RecordValue = RecordOf(ResetPhase.PowerOn, "poweredOn");
            var (plan, _) = await PlanAsync(fake, new ChangeTrackingResetOptions());
            Assert.True(plan.OnlyRemoveRecord);
            var result = await Engine(fake).ResetAsync(plan, "vc", CancellationToken.None);
            Assert.True(result.Succeeded, result.Error);
            Assert.Equal(new[] { "Search", "RemoveRecord", "Search" }, fake.Calls);
            Assert.Null(fake.RecordValue);
        }

        [Theory]
        [InlineData("v1;phase=CbtOff;from=poweredOn;user=a%3Bb;host=WS;at=2026-12-06T16:00:00Z", true)]
        [InlineData("v2;phase=CbtOff;from=poweredOn;user=a;host=WS;at=2026-12-06T16:00:00Z", false)]
        [InlineData("v1;phase=Nonsense;from=poweredOn;user=a;host=WS;at=2026-12-06T16:00:00Z", false)]
        [InlineData("v1;phase=CbtOff;from=suspended;user=a;host=WS;at=2026-12-06T16:00:00Z", false)]
        [InlineData("v1;phase=CbtOff;from=poweredOn;user=a;host=WS", false)]
        [InlineData("", false)]
        public void A_record_is_read_only_when_every_field_is_valid(string value, bool valid)
        {
            var r = ChangeTrackingResetRecord.TryParse(value);
            Assert.Equal(valid, r != null);
            if (r != null)
            {
                Assert.Equal("a;b", r.VCenterUser);
                Assert.Equal(value, r.Format());
            }
        }
    }
}
