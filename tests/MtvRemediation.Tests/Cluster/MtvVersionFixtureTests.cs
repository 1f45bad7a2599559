using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using MtvRemediation.Cluster;
using MtvRemediation.Diagnosis;
using Xunit;

namespace MtvRemediation.Tests.Cluster
{
    /// <summary>
    /// One test per MTV generation whose populator pod log is a fixture (tests/fixtures/mtv, each
    /// built from that tag's format strings): the signatures, the cloning host and the task id come out.
    /// </summary>
    public class MtvVersionFixtureTests
    {
        private static string FixturePath(string relative)
        {
            var dir = AppContext.BaseDirectory;
            while (dir != null && !Directory.Exists(Path.Combine(dir, "tests", "fixtures", "mtv"))) dir = Path.GetDirectoryName(dir);
            Assert.NotNull(dir);
            return Path.Combine(dir!, "tests", "fixtures", "mtv", relative);
        }

        private static List<CloneFailureFinding> Scan(string relative, IEnumerable<string>? lines = null)
        {
            var findings = new List<CloneFailureFinding>();
            var options = new CloneFailureScanOptions { Now = new DateTime(2026, 12, 6, 0, 0, 0, DateTimeKind.Utc) };
            if (lines == null)
            {
                CloneFailureScanner.ScanFile(FixturePath(relative), options, findings.Add, CancellationToken.None);
                return findings;
            }
            var scan = new CloneFailureSourceScan(relative, null, null, options);
            CloneFailureScanner.ScanReader(new StringReader(string.Join("\n", lines)), scan, findings.Add, CancellationToken.None);
            return findings;
        }

        [Fact]
        public void Mtv_2_9_0_words_the_failure_its_own_way_and_names_host_and_task()
        {
            var f = Scan("2.9.0/populate-e3d91c47-8a2b-4f60-b5d1-0c7e2a9f4b18.log");
            // The failing poll (%+v of the task), "channel quit ..." and the Fatal line.
            Assert.Equal(new long[] { 4, 6, 7 }, f.Select(x => x.LineNumber));
            Assert.All(f, x => Assert.Equal(CloneFailureSignatures.ChangeTrackerInvalid, x.Signature));
            Assert.All(f, x => Assert.Equal(255, x.ExitCode));
            Assert.Contains("failed with exit code 255 with stderr: Failed to clone disk", f[2].Line);
            Assert.All(f, x => Assert.Equal("HostSystem-host-1207", x.VMHostId));
            Assert.All(f, x => Assert.Equal("9a3c51d0-2b7e-4f16-8c4d-70e2b1f5a6c9", x.TaskId));
        }

        [Fact]
        public void Mtv_2_10_names_the_host_and_the_task_directory_of_its_7228()
        {
            var last = Scan("2.10/populate-7c9e6679-7425-40de-944b-e07fc1f90ae7.log").Last();
            Assert.Equal(CloneFailureSignatures.ChangeTrackerInvalid, last.Signature);
            Assert.Equal("HostSystem-host-1011", last.VMHostId);
            Assert.Equal("4f1d2b6a-93c8-4e0b-8d7e-2a6f0c9b5e13", last.TaskId);
        }

        [Fact]
        public void Mtv_2_12_0_clones_from_vmfs_and_ties_the_7228_to_host_and_task()
        {
            var f = Scan("2.12/populate-3b1f0a92-6c4d-4e8a-9f27-51d6c0e8a4b3.log");
            Assert.Equal(new[] { "XcopyNotUsed", "XcopyNotUsed", "ChangeTrackerInvalid", "ChangeTrackerInvalid" }, f.Select(x => x.Signature));
            Assert.All(f, x => Assert.DoesNotContain("vsanDatastore", x.Line));
            var failure = f[2];
            Assert.Equal("HostSystem-host-2031", failure.VMHostId);
            Assert.Equal("c4e1a7d2-5b3f-4a09-8e6d-2f7b9a0c1d35", failure.TaskId);
            // The structured lines' source_vmdk names the disk, so the finding leads to its VM.
            Assert.All(f, x => Assert.Equal("[ontap-vmfs01] web02/web02.vmdk", x.Disk));
        }

        [Fact]
        public void Mtv_2_10_printf_lines_name_no_disk()
        {
            Assert.All(Scan("2.10/populate-7c9e6679-7425-40de-944b-e07fc1f90ae7.log"), x => Assert.Null(x.Disk));
        }

        // 2.11.0 still clones a vSAN source: the KB's 7228, with no refusal before it.
        [Fact]
        public void Mtv_2_11_0_reports_the_7228_of_a_vsan_clone_with_host_and_task()
        {
            var f = Scan("2.11.0/populate-d5f38b26-7a41-4c09-9e6b-12c8f0a4d7e3.log");
            Assert.Equal(new[] { "XcopyNotUsed", "ChangeTrackerInvalid", "ChangeTrackerInvalid" }, f.Select(x => x.Signature));
            Assert.DoesNotContain(f, x => x.Signature == CloneFailureSignatures.SourceNotVmfs);
            Assert.All(f, x => Assert.Equal("HostSystem-host-1410", x.VMHostId));
            Assert.All(f, x => Assert.Equal("6b2e8f04-1c9d-4a73-b5e8-3f0a7d2c9e51", x.TaskId));
        }

        // 2.11.1-2.12.3 drop the adapter lookup's error: the empty adapter list is the sign.
        [Fact]
        public void Mtv_2_11_1_flags_a_vsan_source_by_its_empty_adapter_list()
        {
            var only = Assert.Single(Scan("2.11.1/populate-2c7a9d14-6e3b-4f85-a0d2-9b1e5c7f3a68.log"));
            Assert.Equal(6, only.LineNumber);
            Assert.Equal(CloneFailureSignatures.SourceNotVmfs, only.Signature);
            Assert.Equal("HostSystem-host-1523", only.VMHostId);
            Assert.Null(only.TaskId);
        }

        [Fact]
        public void Mtv_2_12_5_tells_a_vsan_vm_that_copy_offload_cannot_take_it()
        {
            var f = Scan("2.12.5/populate-9e41b7c3-0d5a-4f88-b2e6-7a1c3d5f9e02.log");
            Assert.Equal(new[] { CloneFailureSignatures.SourceNotVmfs, CloneFailureSignatures.SourceNotVmfs }, f.Select(x => x.Signature));
            Assert.All(f, x => Assert.Null(x.ExitCode));
            Assert.All(f, x => Assert.Null(x.TaskId)); // no clone task was ever started
            Assert.All(f, x => Assert.Equal("HostSystem-host-2031", x.VMHostId));
            Assert.Contains("Nothing on the ESXi host needs fixing", f[0].Cause);
            Assert.StartsWith("None on the host: migrate this VM without copy offload", f[0].Remediation);
        }

        // klog renders an error with a line break as err=< + tab-indented lines + " >": a vmkfstools
        // stderr that ends with a newline gives this shape (whether it does is not known).
        [Fact]
        public void A_multi_line_klog_error_is_classified_on_its_indented_line()
        {
            var lines = new[]
            {
                "I1202 05:41:03.482671       1 remote_esxcli.go:149] \"ESXi host\" logger=\"copy-offload.xcopy.setup\" host=\"HostSystem:host-2031\"",
                "E1202 05:41:24.571233       1 vsphere-copy-offload-populator.go:251] \"copy-offload failed\" err=<",
                "\tclone task failed with exit code 255, stderr: Failed to clone disk: Invalid change tracker error code (7228).",
                " > logger=\"copy-offload\" pvc=\"web02-disk-0-pvc\" source_vmdk=\"[ontap-vmfs01] web02/web02.vmdk\"",
            };
            var only = Assert.Single(Scan("multi-line", lines));
            Assert.Equal(3, only.LineNumber);
            Assert.Equal(CloneFailureSignatures.ChangeTrackerInvalid, only.Signature);
            Assert.Equal(255, only.ExitCode);
            Assert.Equal("HostSystem-host-2031", only.VMHostId);
        }

        [Fact]
        public void A_populator_failed_event_names_the_pod_whose_log_says_why()
        {
            var skipped = new List<string>();
            var only = Assert.Single(MtvClusterObjects.Read(File.ReadAllText(FixturePath("2.12.5/events.json")), skipped));
            Assert.Empty(skipped);
            Assert.Equal("Event", only.Kind);
            Assert.Equal(MtvClusterObjects.PopulatorFailed, only.Signature);
            Assert.Equal("vm-targets", only.Namespace);
            Assert.Equal("populate-9e41b7c3-0d5a-4f88-b2e6-7a1c3d5f9e02", only.PopulatorPod);
            Assert.Equal("9e41b7c3-0d5a-4f88-b2e6-7a1c3d5f9e02", only.Pvc);
            Assert.Contains("web03-disk-0-pvc", only.Cause);
            Assert.StartsWith("oc logs -n vm-targets populate-9e41b7c3-0d5a-4f88-b2e6-7a1c3d5f9e02 | Find-MtvCloneFailure", only.Remediation);
        }

        [Fact]
        public void Events_of_other_reasons_are_skipped_by_reason()
        {
            var skipped = new List<string>();
            var json = "{\"apiVersion\": \"v1\", \"kind\": \"Event\", \"metadata\": {\"name\": \"e1\", \"namespace\": \"ns\"}, \"reason\": \"Other\", \"type\": \"Normal\"}";
            Assert.Empty(MtvClusterObjects.Read(json, skipped));
            Assert.Equal(new[] { "Event ns/e1 (reason Other)" }, skipped);
        }

        // MTV 5.0 (main): a StorageMap's dedicated migration host clones the disk, not the VM's host.
        [Fact]
        public void Mtv_5_0_names_the_migration_host_that_cloned()
        {
            var only = Assert.Single(MtvClusterObjects.Read(File.ReadAllText(FixturePath("5.0/populators.json")), new List<string>()));
            Assert.Equal(MtvClusterObjects.PopulatorFailed, only.Signature);
            Assert.Equal("HostSystem-host-2047", only.VMHostId);
            Assert.Contains("migration host HostSystem-host-2047", only.Cause);
            var older = Assert.Single(MtvClusterObjects.Read(File.ReadAllText(FixturePath("2.12/populators.json")), new List<string>()));
            Assert.Null(older.VMHostId);
        }

        // v2.12.5's builder copies the CR's xcopyUsed into the disk's DiskTransfer task (the task is
        // named after the disk file); the 2.12 plan (v2.12.0) gets such a task here.
        [Fact]
        public void A_disk_transfer_task_annotation_gives_the_disk_and_its_xcopy_use()
        {
            var json = File.ReadAllText(FixturePath("2.12/plan.json")).Replace(
                "\"annotations\": { \"unit\": \"MB\" },",
                "\"annotations\": { \"unit\": \"MB\" }, \"tasks\": [ { \"name\": \"[ontap-vmfs01] web02/web02.vmdk\", \"phase\": \"Running\", \"progress\": { \"completed\": 2048, \"total\": 30720 }, \"annotations\": { \"unit\": \"MB\", \"xcopyUsed\": \"0\" } } ],");
            var f = MtvClusterObjects.Read(json, new List<string>());
            Assert.Equal(new[] { MtvClusterObjects.PopulatorPodFailed, MtvClusterObjects.CopyOffloadDisk }, f.Select(x => x.Signature));
            var disk = f[1];
            Assert.Equal("[ontap-vmfs01] web02/web02.vmdk", disk.Disk);
            Assert.Equal("0", disk.XcopyUsed);
            Assert.Equal("vm-2044", disk.MoRef);
            Assert.EndsWith("tasks[0]([ontap-vmfs01] web02/web02.vmdk).annotations.xcopyUsed", disk.Source);
        }

        // 2.9.x words the event differently; the pod is read from it all the same.
        [Fact]
        public void A_2_9_populator_failed_event_is_read_too()
        {
            var json = File.ReadAllText(FixturePath("2.12.5/events.json")).Replace(
                "VSphere xcopy populator failed (no retry): Please check", "Populator failed after few (3) attempts: Please check");
            var only = Assert.Single(MtvClusterObjects.Read(json, new List<string>()));
            Assert.Equal("populate-9e41b7c3-0d5a-4f88-b2e6-7a1c3d5f9e02", only.PopulatorPod);
        }
    }
}
