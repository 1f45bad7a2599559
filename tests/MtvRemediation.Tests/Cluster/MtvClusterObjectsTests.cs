using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using MtvRemediation.Cluster;
using Xunit;

namespace MtvRemediation.Tests.Cluster
{
    /// <summary>MTV objects as oc prints them (tests/fixtures/mtv, built from forklift's Go types at v2.10.4 and v2.12.0).</summary>
    public class MtvClusterObjectsTests
    {
        private static string Fixture(string relative)
        {
            var dir = AppContext.BaseDirectory;
            while (dir != null && !Directory.Exists(Path.Combine(dir, "tests", "fixtures", "mtv"))) dir = Path.GetDirectoryName(dir);
            Assert.NotNull(dir);
            return File.ReadAllText(Path.Combine(dir!, "tests", "fixtures", "mtv", relative));
        }

        private static List<MtvClusterFinding> Read(string text)
        {
            var skipped = new List<string>();
            var findings = MtvClusterObjects.Read(text, skipped);
            Assert.Empty(skipped);
            return findings;
        }

        [Fact]
        public void A_2_10_migration_names_the_failed_vm_its_moref_and_the_populator_pod()
        {
            var f = Read(Fixture("2.10/migration.json"));
            // The step's reason and the VM's copy of it (ReflectPipeline) are one finding; the completed VM has none.
            var only = Assert.Single(f);
            Assert.Equal("Migration", only.Kind);
            Assert.Equal("openshift-mtv", only.Namespace);
            Assert.Equal("wave3-db-kxq2p", only.ObjectName);
            Assert.Equal("db01", only.Name);
            Assert.Equal("vm-1013", only.MoRef);
            Assert.Equal("VirtualMachine-vm-1013", only.VMId);
            Assert.Equal(MtvClusterObjects.PopulatorPodFailed, only.Signature);
            Assert.Equal("7c9e6679-7425-40de-944b-e07fc1f90ae7", only.Pvc);
            Assert.Equal("populate-7c9e6679-7425-40de-944b-e07fc1f90ae7", only.PopulatorPod);
            Assert.Equal("DiskTransfer Running", only.Phase);
            Assert.Equal("Migration openshift-mtv/wave3-db-kxq2p status.vms[0].pipeline[1](DiskTransfer).error.reasons[0]", only.Source);
            Assert.Contains("oc logs -n openshift-mtv populate-7c9e6679-7425-40de-944b-e07fc1f90ae7 | Find-MtvCloneFailure", only.Remediation);
        }

        [Fact]
        public void A_2_12_plan_reads_status_migration_vms()
        {
            var only = Assert.Single(Read(Fixture("2.12/plan.json")));
            Assert.Equal("Plan", only.Kind);
            Assert.Equal("web02", only.Name);
            Assert.Equal("vm-2044", only.MoRef);
            Assert.Equal("populate-3b1f0a92-6c4d-4e8a-9f27-51d6c0e8a4b3", only.PopulatorPod);
            Assert.StartsWith("Plan openshift-mtv/wave4-web status.migration.vms[0].pipeline[1](DiskTransfer)", only.Source);
        }

        [Fact]
        public void Populator_lists_give_disks_and_2_12_status_fields()
        {
            var old = Read(Fixture("2.10/populators.json"));
            Assert.Equal(new[] { "vm-1013", "vm-1017" }, old.Select(x => x.MoRef));
            Assert.Equal("[vsanDatastore] db01/db01.vmdk", old[0].Disk);
            Assert.Equal("37", old[0].Progress);
            Assert.All(old, x => Assert.Equal(MtvClusterObjects.CopyOffloadDisk, x.Signature));
            Assert.All(old, x => Assert.Null(x.XcopyUsed));

            var now = Assert.Single(Read(Fixture("2.12/populators.json")));
            Assert.Equal(MtvClusterObjects.PopulatorFailed, now.Signature);
            Assert.Equal("0", now.XcopyUsed);
            Assert.Equal("unknown", now.VibVersion); // a host whose VIB has no version command (before 0.3.3)
            Assert.Equal("failure", now.Result);
            Assert.Equal("[ontap-vmfs01] web02/web02.vmdk", now.Disk);
        }

        [Fact]
        public void A_reason_with_the_7228_text_is_classified_as_such()
        {
            var json = Fixture("2.10/migration.json").Replace(
                "populator pod failed for PVC 7c9e6679-7425-40de-944b-e07fc1f90ae7. Please check the pod logs",
                "clone task failed with exit code 255, stderr: Failed to clone disk: Invalid change tracker error code (7228).");
            var only = Assert.Single(Read(json));
            Assert.Equal("ChangeTrackerInvalid", only.Signature);
            Assert.Equal("Reset-VMChangeTracking", only.Remediation);
        }

        [Fact]
        public void Concatenated_documents_and_unknown_kinds_are_handled()
        {
            var skipped = new List<string>();
            var f = MtvClusterObjects.Read(Fixture("2.10/migration.json") + "\n" + Fixture("2.12/plan.json") + "\n{\"kind\": \"Pod\", \"metadata\": {\"name\": \"p\"}}", skipped);
            Assert.Equal(new[] { "vm-1013", "vm-2044" }, f.Select(x => x.MoRef));
            Assert.Equal(new[] { "Pod p (kind Pod)" }, skipped);
        }

        [Theory]
        [InlineData("{\"kind\": \"Migration\", ")]
        [InlineData("kind: Migration")]
        [InlineData("{\"a\": tru}")]
        [InlineData("[1, 2")]
        public void Invalid_json_is_refused_with_its_position(string text)
        {
            var ex = Assert.Throws<FormatException>(() => MtvClusterObjects.Read(text, new List<string>()));
            Assert.StartsWith("Not valid JSON at line 1", ex.Message);
        }

        [Fact]
        public void Json_strings_decode_escapes()
        {
            var v = Assert.Single(MiniJson.ParseAll("{\"s\": \"a\\n\\\"b\\\" \\u00e9 \\/\"}")) as Dictionary<string, object?>;
            Assert.Equal("a\n\"b\" \u00e9 /", v!["s"]);
        }
    }
}
