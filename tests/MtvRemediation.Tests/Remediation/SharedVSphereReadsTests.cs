using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using MtvRemediation.Cbt;
using MtvRemediation.HostLog;
using MtvRemediation.VSphere;
using Xunit;

namespace MtvRemediation.Tests.Remediation
{
    public class SharedVSphereReadsTests
    {
        /// <summary>Each batch read answers "read#N" as the power state, so a test sees which read answered.</summary>
        private sealed class Fake : IVSphereClient
        {
            public int BatchReads;
            public int SingleReads;
            public int Searches;
            public readonly HashSet<MoRef> Missing = new HashSet<MoRef>();
            public TaskCompletionSource<bool>? Gate;
            public TaskCompletionSource<bool> BatchStarted = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);

            public string Server => "vc";

            public string UserName => "";

            public Task SetExtraConfigAsync(MoRef vm, ExtraConfigValue value, CancellationToken ct) => throw new NotSupportedException();

            public Task<IReadOnlyList<VmPowerEvent>> GetPowerEventsAsync(MoRef vm, DateTime sinceUtc, CancellationToken ct) => Task.FromResult<IReadOnlyList<VmPowerEvent>>(Array.Empty<VmPowerEvent>());
            public TimeSpan TaskTimeout => TimeSpan.FromSeconds(5);
            public Task<IReadOnlyList<VmInfo>> GetVmsAsync(IReadOnlyCollection<MoRef> vms, CancellationToken ct) => throw new NotSupportedException();

            public Task<(string PowerState, bool ChangeTrackingEnabled)> GetVmStateAsync(MoRef vm, CancellationToken ct)
            {
                Interlocked.Increment(ref SingleReads);
                if (Missing.Contains(vm)) throw new VimFaultException("ManagedObjectNotFound", "The object has already been deleted.", "RetrieveProperties");
                return Task.FromResult(("single", true));
            }

            public async Task<IReadOnlyDictionary<MoRef, (string PowerState, bool ChangeTrackingEnabled)>> GetVmStatesAsync(IReadOnlyCollection<MoRef> vms, CancellationToken ct)
            {
                var n = Interlocked.Increment(ref BatchReads);
                BatchStarted.TrySetResult(true);
                if (Gate != null) await Gate.Task.ConfigureAwait(false);
                await Task.Delay(10, ct).ConfigureAwait(false);
                return vms.Where(v => !Missing.Contains(v)).ToDictionary(v => v, v => ($"read#{n}", true));
            }

            public Task<IReadOnlyList<DatastoreFile>> SearchFolderAsync(DatastoreInfo datastore, string folder, string matchPattern, CancellationToken ct)
            {
                Interlocked.Increment(ref Searches);
                IReadOnlyList<DatastoreFile> files = new[] { new DatastoreFile(DatastorePath.Combine(datastore.Name, folder, "disk1-ctk.vmdk"), 1) };
                return Task.FromResult(files);
            }

            public Task DeleteFileAsync(DatastorePath file, MoRef datacenter, CancellationToken ct) => throw new NotSupportedException();
            public Task<(string PowerState, bool ChangeTrackingEnabled)?> SetChangeTrackingAsync(MoRef vm, bool enabled, IReadOnlyList<string> ctkEnabledKeys, ExtraConfigValue? also, CancellationToken ct) => throw new NotSupportedException();
            public Task ShutdownGuestAsync(MoRef vm, CancellationToken ct) => throw new NotSupportedException();
            public Task PowerOffAsync(MoRef vm, CancellationToken ct) => throw new NotSupportedException();
            public Task<(string PowerState, bool ChangeTrackingEnabled)?> PowerOnAsync(MoRef vm, CancellationToken ct) => throw new NotSupportedException();
        }

        private static MoRef Vm(int i) => new MoRef("VirtualMachine", "vm-" + i);

        [Fact]
        public async Task States_asked_together_are_read_in_one_batch()
        {
            var fake = new Fake();
            var reads = new SharedVSphereReads(fake);
            var answers = await Task.WhenAll(Enumerable.Range(1, 10).Select(i => reads.GetVmStateAsync(Vm(i), CancellationToken.None)));
            Assert.Equal(1, fake.BatchReads);
            Assert.Equal(0, fake.SingleReads);
            Assert.All(answers, a => Assert.Equal("read#1", a.PowerState));
        }

        [Fact]
        public async Task A_request_made_while_a_read_is_on_the_wire_is_answered_by_a_later_read()
        {
            var fake = new Fake { Gate = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously) };
            var reads = new SharedVSphereReads(fake);
            var first = reads.GetVmStateAsync(Vm(1), CancellationToken.None);
            await fake.BatchStarted.Task;                  // read #1 is on the wire
            var second = reads.GetVmStateAsync(Vm(2), CancellationToken.None);
            var same = reads.GetVmStateAsync(Vm(1), CancellationToken.None);   // the same VM again, asked later
            fake.Gate.SetResult(true);
            Assert.Equal("read#1", (await first).PowerState);
            Assert.Equal("read#2", (await second).PowerState);
            Assert.Equal("read#2", (await same).PowerState);
            Assert.Equal(2, fake.BatchReads);
        }

        [Fact]
        public async Task A_state_read_also_answers_the_announced_checks_that_follow_it()
        {
            var fake = new Fake();
            var reads = new SharedVSphereReads(fake);
            reads.ExpectStateChecks(new[] { Vm(2), Vm(3) });
            // One reset's final read (read after the request) carries the next resets' state checks.
            Assert.Equal("read#1", (await reads.GetVmStateAsync(Vm(1), CancellationToken.None)).PowerState);
            var checks = await Task.WhenAll(reads.GetRecentVmStateAsync(Vm(2), CancellationToken.None), reads.GetRecentVmStateAsync(Vm(3), CancellationToken.None));
            Assert.All(checks, c => Assert.Equal("read#1", c.PowerState));
            Assert.Equal(1, fake.BatchReads);
            Assert.Equal(1, reads.StateReads);
            // A final read never takes an earlier answer.
            Assert.Equal("read#2", (await reads.GetVmStateAsync(Vm(2), CancellationToken.None)).PowerState);
        }

        [Fact]
        public async Task A_VM_the_batch_does_not_return_is_read_alone_and_its_error_surfaces()
        {
            var fake = new Fake();
            fake.Missing.Add(Vm(2));
            var reads = new SharedVSphereReads(fake);
            var ok = reads.GetVmStateAsync(Vm(1), CancellationToken.None);
            var gone = reads.GetVmStateAsync(Vm(2), CancellationToken.None);
            Assert.Equal("read#1", (await ok).PowerState);
            var ex = await Assert.ThrowsAsync<VimFaultException>(() => gone);
            Assert.Equal("ManagedObjectNotFound", ex.FaultName);
            Assert.Equal(1, fake.SingleReads);
        }

        [Fact]
        public async Task Folders_on_vsan_or_without_a_subfolder_search_are_listed_one_by_one()
        {
            var fake = new Fake();
            var reads = new SharedVSphereReads(fake);
            var vsan = new DatastoreInfo { MoRef = new MoRef("Datastore", "ds-9"), Name = "vsanDatastore", Type = "vsan", Url = "ds:///vmfs/volumes/vsan:52e1a5c0d4f3b2a1-9f8e7d6c5b4a3f2e/" };
            var lists = await Task.WhenAll(
                reads.SearchFolderAsync(vsan, "59427457-6c5a-a917-7997-0200103eedbc", CancellationToken.None),
                reads.SearchFolderAsync(vsan, "5a1b2c3d-6c5a-a917-7997-0200103eedbc", CancellationToken.None));
            Assert.Equal(2, fake.Searches);
            Assert.Equal("[vsanDatastore] 59427457-6c5a-a917-7997-0200103eedbc/disk1-ctk.vmdk", lists[0].Single().Path.ToString());
            Assert.Equal("[vsanDatastore] 5a1b2c3d-6c5a-a917-7997-0200103eedbc/disk1-ctk.vmdk", lists[1].Single().Path.ToString());
        }

        [Fact]
        public async Task A_cancelled_caller_stops_waiting()
        {
            var fake = new Fake { Gate = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously) };
            var reads = new SharedVSphereReads(fake);
            using var cts = new CancellationTokenSource();
            var t = reads.GetVmStateAsync(Vm(1), cts.Token);
            await fake.BatchStarted.Task;
            cts.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => t);
            fake.Gate.SetResult(true);
        }

        [Theory]
        [InlineData(new[] { "vm1", "vm2" }, "")]
        [InlineData(new[] { "a/vm1", "a/vm2" }, "a")]
        [InlineData(new[] { "a/b/vm1", "a/c/vm2", "a/b/vm3" }, "a")]
        [InlineData(new[] { "a/vm1", "ab/vm2" }, "")]
        public void The_subfolder_search_starts_at_the_deepest_common_folder(string[] folders, string root)
        {
            Assert.Equal(root, SharedVSphereReads.CommonRoot(folders));
        }
    }
}
