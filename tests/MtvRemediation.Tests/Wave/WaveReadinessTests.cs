using System.Collections.Generic;
using System.Linq;
using MtvRemediation.Cluster;
using MtvRemediation.Diagnosis;
using MtvRemediation.VSphere;
using MtvRemediation.Wave;
using Xunit;

namespace MtvRemediation.Tests.Wave
{
    /// <summary>The readiness rules on values as read: the probe's sections, a Plan's spec, vCenter's LUN settings.</summary>
    public class WaveReadinessTests
    {
        private const string Inventory = "@@vib\n@@payload\n@@end\n";

        [Fact]
        public void The_probe_reads_the_namespace_and_the_hostd_tmp_max_in_the_forms_on_record()
        {
            var f = HostReadinessFacts.Parse(Inventory + "@@esxcli\nok\nvmkfstools                                         clone\n@@hostdtmp\ngroup 1234\nmin:0\nmax:524288\nminLimit:-1\n@@readiness-end\n");
            Assert.True(f.VmkfstoolsNamespace);
            Assert.Equal("1234", f.HostdTmpGroup);
            Assert.Equal(524288, f.HostdTmpMaxKB);
            // several pairs on one line, spaces around the colon, unlimited
            var g = HostReadinessFacts.Parse(Inventory + "@@esxcli\nok\n@@hostdtmp\ngroup 7\nmemAllocation { min : 0 max : -1 units: 1 }\n@@readiness-end\n");
            Assert.False(g.VmkfstoolsNamespace);
            Assert.Equal(-1, g.HostdTmpMaxKB);
        }

        [Fact]
        public void What_the_probe_cannot_read_stays_unknown_with_its_reason()
        {
            var f = HostReadinessFacts.Parse(Inventory + "@@esxcli\nfailed Error: Unknown command or namespace esxcli command list\n@@hostdtmp\nnovsish\n@@readiness-end\n");
            Assert.Null(f.VmkfstoolsNamespace);
            Assert.Contains("Unknown command", f.NamespaceProblem);
            Assert.Null(f.HostdTmpMaxKB);
            Assert.Contains("vsish", f.HostdTmpProblem);
            var cut = HostReadinessFacts.Parse(Inventory + "@@esxcli\nok\n");
            Assert.Null(cut.VmkfstoolsNamespace);
            Assert.Null(cut.HostdTmpMaxKB);
            var noMax = HostReadinessFacts.Parse(Inventory + "@@esxcli\nok\n@@hostdtmp\ngroup 9\nmin:0\n@@readiness-end\n");
            Assert.Null(noMax.HostdTmpMaxKB);
            Assert.Contains("max", noMax.HostdTmpProblem);
        }

        [Fact]
        public void A_plan_gives_its_vms_by_moref_and_whether_it_is_warm()
        {
            var skipped = new List<string>();
            var plans = MtvClusterObjects.ReadPlans(
                "{\"kind\":\"List\",\"items\":[{\"kind\":\"Plan\",\"metadata\":{\"name\":\"w1\",\"namespace\":\"mtv\"},\"spec\":{\"warm\":true,\"provider\":{\"source\":{\"name\":\"vc\"}},\"vms\":[{\"id\":\"vm-1\",\"name\":\"a\"},{\"name\":\"b\"}]}}," +
                "{\"kind\":\"Plan\",\"metadata\":{\"name\":\"w2\"},\"spec\":{\"type\":\"cold\",\"vms\":[{\"id\":\"vm-3\"}]}},{\"kind\":\"Migration\"}]}", skipped);
            Assert.Equal(2, plans.Count);
            Assert.True(plans[0].Warm);
            Assert.Equal("vc", plans[0].SourceProvider);
            Assert.Equal(new[] { ("vm-1", "a"), ((string?)null, "b") }, plans[0].Vms.Select(v => (v.Id, v.Name!)).ToArray()!);
            Assert.False(plans[1].Warm);
            Assert.Single(skipped);
            Assert.True(MtvClusterObjects.ReadPlans("{\"kind\":\"Plan\",\"spec\":{\"type\":\"warm\",\"vms\":[]}}", skipped)[0].Warm);
        }

        [Theory]
        [InlineData(1024, 0, 8, "Pass")]
        [InlineData(1024, 1020, 4, "Fail")]
        [InlineData(1024, 1000, 23, "Pass")]
        [InlineData(1024, 1000, 24, "Fail")]
        public void Disk_MaxLUN_fails_when_the_wave_s_new_luns_reach_it(long maxLun, int highest, int disks, string expected)
        {
            var state = new HostLunState(new MoRef("HostSystem", "host-1")) { MaxLun = maxLun, HighestLun = highest, LunCount = 3 };
            var f = WaveReadiness.MaxLun(state, new WaveHostLoad("esx01") { Disks = disks }, new WaveReadinessOptions());
            Assert.Equal(expected, f.Status.ToString());
            if (expected == "Fail") { Assert.Equal("2048", f.NextArgument); Assert.Contains("/Disk/MaxLUN -i 2048", f.FixText); }
        }

        [Fact]
        public void Disk_MaxLUN_that_could_not_be_read_is_unknown_never_pass()
        {
            var state = new HostLunState(new MoRef("HostSystem", "host-1")) { MaxLunProblem = "QueryOptions(Disk.MaxLUN) failed: InvalidName" };
            var f = WaveReadiness.MaxLun(state, new WaveHostLoad("esx01") { Disks = 1 }, new WaveReadinessOptions());
            Assert.Equal(WaveStatus.Unknown, f.Status);
            Assert.Contains("InvalidName", f.Evidence);
            Assert.Equal(WaveStatus.Unknown, WaveReadiness.MaxLun(null, new WaveHostLoad("esx01"), new WaveReadinessOptions()).Status);
        }

        [Fact]
        public void The_hostd_tmp_script_s_answer_gives_the_values_before_after_and_recorded()
        {
            var st = HostdTmpMemory.Parse("esx01", "@@group\n7\n@@before\nmin:0\nmax:1048576\nminLimit:-1\n@@record\ngroup 7\nmin:0\nmax:512000\nminLimit:-1\n@@after\nmin:0\nmax:2097152\n@@end\n");
            Assert.Equal("7", st.Group);
            Assert.Equal(1048576, st.MaxKBBefore);
            Assert.Equal(2097152, st.MaxKBAfter);
            Assert.Equal(512000, st.RecordedMaxKB);
            Assert.Equal("7", st.RecordedGroup);
            var none = HostdTmpMemory.Parse("esx01", "@@group\n7\n@@before\nmax:512000\n@@record\n");
            Assert.False(none.HasRecord);
            Assert.Equal(512000, none.MaxKBAfter);
            Assert.Equal("HostdTmpUnreadable", Assert.ThrowsAny<MtvRemediation.Infrastructure.MtvException>(() => HostdTmpMemory.Parse("esx01", "@@nogroup\n")).ErrorId);
            Assert.Equal("HostdTmpChangeFailed", Assert.ThrowsAny<MtvRemediation.Infrastructure.MtvException>(() => HostdTmpMemory.Parse("esx01", "@@group\n7\n@@before\nmax:1\n@@failed\nvsish -e set x max=2\n")).ErrorId);
        }

        [Fact]
        public void A_vm_that_could_not_be_read_has_every_check_unknown()
        {
            var rows = WaveReadiness.VmUnreadable("VITransportError: connection reset", new WaveReadinessOptions { Warm = true });
            Assert.Equal(new[] { WaveReadiness.CbtConsistency, WaveReadiness.Snapshots, WaveReadiness.WarmNeedsCbt, WaveReadiness.SourceDatastore }, rows.Select(r => r.Check));
            Assert.All(rows, r => { Assert.Equal(WaveStatus.Unknown, r.Status); Assert.Contains("connection reset", r.Evidence); });
        }
    }
}
