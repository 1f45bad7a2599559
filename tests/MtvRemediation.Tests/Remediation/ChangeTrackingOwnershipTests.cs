using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using System.Threading;
using System.Threading.Tasks;
using MtvRemediation.Cbt;
using MtvRemediation.Commands;
using MtvRemediation.Infrastructure;
using MtvRemediation.Runbook;
using MtvRemediation.VSphere;
using Xunit;

namespace MtvRemediation.Tests.Remediation
{
    /// <summary>
    /// CBT has one owner for each rule: the health rule, the reset's failure, the shared state read
    /// and the reset operation. Each test fails when a second copy of its rule appears (a planner
    /// that decides on its own, a second id, a second batcher, a cmdlet or runbook that runs the
    /// engine itself).
    /// </summary>
    public class ChangeTrackingOwnershipTests
    {
        private static readonly DatastoreInfo Ds = new DatastoreInfo { MoRef = new MoRef("Datastore", "ds-1"), Name = "DS", Browser = new MoRef("HostDatastoreBrowser", "b-1"), Datacenter = new MoRef("Datacenter", "dc-1") };

        // name: (power, cbt, snapshots, own ctk present, orphan, ctkEnabled=false, unsearchable folder, physical RDM)
        public static IEnumerable<object[]> Inspections() => new[]
        {
            new object[] { "consistent, CBT on, off", "poweredOff", true, 0, true, false, false, false, false },
            new object[] { "CBT disabled, nothing left", "poweredOff", false, 0, false, false, false, false, false },
            new object[] { "CBT disabled, running", "poweredOn", false, 0, false, false, false, false, false },
            new object[] { "stale ctk while disabled", "poweredOff", false, 0, true, false, false, false, false },
            new object[] { "orphaned ctk", "poweredOff", true, 0, true, true, false, false, false },
            new object[] { "ctkEnabled=false", "poweredOff", true, 0, true, false, true, false, false },
            new object[] { "running without a ctk", "poweredOn", true, 0, false, false, false, false, false },
            new object[] { "off without a ctk yet", "poweredOff", true, 0, false, false, false, false, false },
            new object[] { "snapshots only", "poweredOff", true, 2, true, false, false, false, false },
            new object[] { "physical RDM without a ctk", "poweredOn", true, 0, false, false, false, false, true },
            new object[] { "folder not searchable", "poweredOff", true, 0, true, false, false, true, false },
            new object[] { "everything wrong", "poweredOn", true, 0, false, true, true, false, false },
        };

        private static CtkInspection Inspection(string power, bool cbt, int snapshots, bool ownCtk, bool orphan, bool ctkOff, bool unsearchable, bool rdm)
        {
            var vm = new VmInfo
            {
                MoRef = new MoRef("VirtualMachine", "vm-1"), Name = "app1", PowerState = power, ChangeTrackingEnabled = cbt,
                SnapshotCount = snapshots, ToolsRunningStatus = "guestToolsRunning", HostName = "esx1",
            };
            vm.Datastores[Ds.MoRef] = Ds;
            vm.Disks.Add(new VmDiskInfo { Key = 2000, Label = "Hard disk 1", FileName = "[DS] app1/app1.vmdk", Datastore = "DS", DatastoreMoRef = Ds.MoRef, ControllerKind = "scsi", BusNumber = 0, UnitNumber = 0, IsPhysicalRdm = rdm });
            if (ctkOff) vm.CtkExtraConfig["scsi0:0.ctkEnabled"] = "FALSE";
            var inspection = new CtkInspection(vm);
            if (ownCtk) inspection.OwnByDisk[2000] = DatastorePath.Combine("DS", "app1", "app1-ctk.vmdk");
            if (orphan) inspection.Orphaned.Add(DatastorePath.Combine("DS", "app1", "gone-ctk.vmdk"));
            if (unsearchable) inspection.Unsearchable.Add("[DS] app1");
            return inspection;
        }

        [Theory]
        [MemberData(nameof(Inspections))]
        public void Get_VMChangeTracking_and_the_runbook_plan_ask_the_same_health_rule(string name, string power, bool cbt, int snapshots, bool ownCtk, bool orphan, bool ctkOff, bool unsearchable, bool rdm)
        {
            var inspection = Inspection(power, cbt, snapshots, ownCtk, orphan, ctkOff, unsearchable, rdm);
            var health = ChangeTrackingHealth.Of(inspection);
            var status = ChangeTrackingEngine.BuildStatus(inspection, "vc");
            Assert.Equal(health.Consistent, status.Healthy);
            Assert.Equal(health.Reason, status.Reason);

            // The runbook, with no 7228 evidence: it resets exactly what Get-VMChangeTracking calls not healthy, for the same words.
            var vm = new RunbookVmState(new NoVSphere(), "vc", inspection.Vm, name) { Inspection = inspection, Before = status };
            RunbookEngine.PlanVm(vm, null, new RunbookOptions { PowerOff = true });
            Assert.Equal(!status.Healthy, vm.ResetPlan != null);
            if (health.Known) Assert.Equal(status.Reason, vm.ResetReason);
            else Assert.Equal(ChangeTrackingErrorIds.DatastoreNotSearchable, Assert.Single(vm.TakeNewErrors()).ErrorId);

            // A result word never contradicts its own row.
            var row = RunbookEngine.SummarizeVm(vm, whatIf: true);
            Assert.EndsWith("configuration " + health.Describe(), row.FinalState);
            if (row.Result == "Healthy") Assert.EndsWith("configuration consistent", row.FinalState);
            Assert.DoesNotContain("unhealthy", row.FinalState);
        }

        [Fact]
        public void Cbt_that_is_only_disabled_is_a_fact_not_a_problem()
        {
            var health = ChangeTrackingHealth.Of(Inspection("poweredOn", false, 0, false, false, false, false, false));
            Assert.True(health.Consistent);
            Assert.Empty(health.Problems);
        }

        [Fact]
        public void A_failed_reset_has_one_error_id()
        {
            Assert.Equal(new[] { ChangeTrackingErrorIds.ResetFailed }, ErrorIds.All().Where(id => id.IndexOf("ResetFailed", StringComparison.Ordinal) >= 0).ToArray());
        }

        [Fact]
        public void The_runbook_reports_a_failed_reset_with_the_operations_error()
        {
            var client = new FailingDisable();
            var inspection = Inspection("poweredOff", true, 0, true, false, false, false, false);
            var run = new ChangeTrackingRun(new RunbookOptions().CbtReset);
            var vm = new RunbookVmState(client, "vc", inspection.Vm, "app1") { Inspection = inspection, ResetPlan = run.Plan(inspection) };

            RunbookEngine.ResetVm(vm, run, CancellationToken.None);

            var error = Assert.Single(vm.TakeNewErrors());
            var expected = ChangeTrackingRun.ResetFailure(vm.ResetResult!)!;
            Assert.Equal(ChangeTrackingErrorIds.ResetFailed, error.ErrorId);
            Assert.Equal(expected.Message, error.Message);
            Assert.Equal(expected.RecommendedAction, error.RecommendedAction);
            Assert.StartsWith("CBT reset of VM 'app1' stopped at step DisableChangeTracking:", error.Message);
        }

        [Fact]
        public void Vm_states_are_batched_in_one_place()
        {
            var batchRead = typeof(IVSphereClient).GetMethod(nameof(IVSphereClient.GetVmStatesAsync))!;
            var concrete = typeof(VSphereClient).GetMethod(nameof(VSphereClient.GetVmStatesAsync))!;
            Assert.Equal(new[] { typeof(SharedVSphereReads) }, Callers(batchRead).Concat(Callers(concrete)).Distinct().ToArray());
        }

        [Fact]
        public void The_cmdlets_and_the_runbook_reach_CBT_through_one_operation()
        {
            var engine = typeof(ChangeTrackingEngine);
            // Calls inside a type (its own constructors, its own steps) do not count.
            foreach (var m in new MethodBase[] { engine.GetMethod(nameof(ChangeTrackingEngine.ResetAsync))!, engine.GetMethod(nameof(ChangeTrackingEngine.InspectAsync))!, engine.GetConstructors().Single() })
                Assert.Equal(new[] { typeof(ChangeTrackingRun) }, Callers(m).Where(t => t != engine).ToArray());
            Assert.Equal(new[] { typeof(ChangeTrackingRun) },
                typeof(SharedVSphereReads).GetConstructors().SelectMany(Callers).Where(t => t != typeof(SharedVSphereReads)).Distinct().ToArray());

            var run = typeof(ChangeTrackingRun);
            Assert.Equal(new[] { typeof(ResetVMChangeTrackingCommand), typeof(RunbookEngine) }, Callers(run.GetMethod(nameof(ChangeTrackingRun.Reset))!).OrderBy(t => t.Name).ToArray());
            Assert.Equal(new[] { typeof(GetVMChangeTrackingCommand) }, Callers(run.GetMethod(nameof(ChangeTrackingRun.Status))!));
        }

        /// <summary>The outermost types of the module whose IL calls <paramref name="target"/> (lambdas and async state machines count for their declaring type).</summary>
        private static Type[] Callers(MethodBase target)
        {
            var found = new HashSet<Type>();
            var assembly = typeof(ChangeTrackingEngine).Assembly;
            const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
            foreach (var type in assembly.GetTypes())
            {
                foreach (var method in type.GetMethods(all).Cast<MethodBase>().Concat(type.GetConstructors(all)))
                {
                    var il = method.GetMethodBody()?.GetILAsByteArray();
                    if (il == null || !Calls(method, il, target)) continue;
                    var outer = type;
                    while (outer.DeclaringType != null) outer = outer.DeclaringType;
                    found.Add(outer);
                }
            }
            return found.ToArray();
        }

        // call, callvirt, newobj, ldftn and ldvirtftn followed by a method token that resolves to the target.
        private static bool Calls(MethodBase method, byte[] il, MethodBase target)
        {
            var typeArgs = method.DeclaringType!.IsGenericType ? method.DeclaringType.GetGenericArguments() : null;
            var methodArgs = method.IsGenericMethod ? method.GetGenericArguments() : null;
            for (var i = 0; i + 4 < il.Length; i++)
            {
                var op = il[i];
                var isCall = op == 0x28 || op == 0x6F || op == 0x73 || (i > 0 && il[i - 1] == 0xFE && (op == 0x06 || op == 0x07));
                if (!isCall) continue;
                var token = BitConverter.ToInt32(il, i + 1);
                var table = token >> 24;
                if (table != 0x06 && table != 0x0A && table != 0x2B) continue;
                try
                {
                    var resolved = method.Module.ResolveMethod(token, typeArgs, methodArgs);
                    if (resolved != null && resolved.Module == target.Module && resolved.MetadataToken == target.MetadataToken) return true;
                }
                catch (ArgumentException) { }
                catch (BadImageFormatException) { }
            }
            return false;
        }

        private class NoVSphere : IVSphereClient
        {
            public string Server => "vc";
            public string UserName => "";
            public Task SetExtraConfigAsync(MoRef vm, ExtraConfigValue value, CancellationToken ct) => throw new NotSupportedException();
            public Task<IReadOnlyList<VmPowerEvent>> GetPowerEventsAsync(MoRef vm, DateTime sinceUtc, CancellationToken ct) => Task.FromResult<IReadOnlyList<VmPowerEvent>>(Array.Empty<VmPowerEvent>());
            public TimeSpan TaskTimeout => TimeSpan.FromSeconds(1);
            public Task<IReadOnlyList<VmInfo>> GetVmsAsync(IReadOnlyCollection<MoRef> vms, CancellationToken ct) => throw new NotSupportedException();
            public Task<(string PowerState, bool ChangeTrackingEnabled)> GetVmStateAsync(MoRef vm, CancellationToken ct) => Task.FromResult(("poweredOff", true));
            public Task<IReadOnlyDictionary<MoRef, (string PowerState, bool ChangeTrackingEnabled)>> GetVmStatesAsync(IReadOnlyCollection<MoRef> vms, CancellationToken ct) =>
                Task.FromResult<IReadOnlyDictionary<MoRef, (string, bool)>>(vms.ToDictionary(v => v, v => ("poweredOff", true)));
            public Task<IReadOnlyList<DatastoreFile>> SearchFolderAsync(DatastoreInfo datastore, string folder, string matchPattern, CancellationToken ct) => throw new NotSupportedException();
            public Task DeleteFileAsync(DatastorePath file, MoRef datacenter, CancellationToken ct) => throw new NotSupportedException();
            public virtual Task<(string PowerState, bool ChangeTrackingEnabled)?> SetChangeTrackingAsync(MoRef vm, bool enabled, IReadOnlyList<string> ctkEnabledKeys, ExtraConfigValue? also, CancellationToken ct) => throw new NotSupportedException();
            public Task ShutdownGuestAsync(MoRef vm, CancellationToken ct) => throw new NotSupportedException();
            public Task PowerOffAsync(MoRef vm, CancellationToken ct) => throw new NotSupportedException();
            public Task<(string PowerState, bool ChangeTrackingEnabled)?> PowerOnAsync(MoRef vm, CancellationToken ct) => throw new NotSupportedException();
        }

        private sealed class FailingDisable : NoVSphere
        {
            public override Task<(string PowerState, bool ChangeTrackingEnabled)?> SetChangeTrackingAsync(MoRef vm, bool enabled, IReadOnlyList<string> ctkEnabledKeys, ExtraConfigValue? also, CancellationToken ct) =>
                throw new VimFaultException("MethodDisabled", "method is disabled", "ReconfigVM_Task");
        }
    }
}
