using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using MtvRemediation.Cbt;
using MtvRemediation.Commands;
using MtvRemediation.Diagnosis;
using MtvRemediation.Esxi;
using MtvRemediation.HostLog;
using MtvRemediation.Runbook;
using MtvRemediation.VSphere;
using MtvRemediation.Wrapper;
using Xunit;

namespace MtvRemediation.Tests.Remediation
{
    /// <summary>
    /// The runbook's decisions on plain state (no host, no vCenter): what gets planned, how 7228
    /// lines are attributed to VMs, how results are summarised and reported. The whole runbook
    /// runs against the lab in tests/Pester/Runbook.Tests.ps1.
    /// </summary>
    public class RunbookEngineTests
    {
        private sealed class NoVSphere : IVSphereClient
        {
            public string Server => "vc";
            public string UserName => "";
            public Task SetExtraConfigAsync(MoRef vm, ExtraConfigValue value, CancellationToken ct) => throw new NotSupportedException();
            public Task<IReadOnlyList<VmPowerEvent>> GetPowerEventsAsync(MoRef vm, DateTime sinceUtc, CancellationToken ct) => Task.FromResult<IReadOnlyList<VmPowerEvent>>(Array.Empty<VmPowerEvent>());
            public TimeSpan TaskTimeout => TimeSpan.FromSeconds(1);
            public Task<IReadOnlyList<VmInfo>> GetVmsAsync(IReadOnlyCollection<MoRef> vms, CancellationToken ct) => throw new NotSupportedException();
            public Task<(string PowerState, bool ChangeTrackingEnabled)> GetVmStateAsync(MoRef vm, CancellationToken ct) => throw new NotSupportedException();
            public Task<IReadOnlyDictionary<MoRef, (string PowerState, bool ChangeTrackingEnabled)>> GetVmStatesAsync(IReadOnlyCollection<MoRef> vms, CancellationToken ct) => throw new NotSupportedException();
            public Task<IReadOnlyList<DatastoreFile>> SearchFolderAsync(DatastoreInfo datastore, string folder, string matchPattern, CancellationToken ct) => throw new NotSupportedException();
            public Task DeleteFileAsync(DatastorePath file, MoRef datacenter, CancellationToken ct) => throw new NotSupportedException();
            public Task<(string PowerState, bool ChangeTrackingEnabled)?> SetChangeTrackingAsync(MoRef vm, bool enabled, IReadOnlyList<string> ctkEnabledKeys, ExtraConfigValue? also, CancellationToken ct) => throw new NotSupportedException();
            public Task ShutdownGuestAsync(MoRef vm, CancellationToken ct) => throw new NotSupportedException();
            public Task PowerOffAsync(MoRef vm, CancellationToken ct) => throw new NotSupportedException();
            public Task<(string PowerState, bool ChangeTrackingEnabled)?> PowerOnAsync(MoRef vm, CancellationToken ct) => throw new NotSupportedException();
        }

        private static readonly DatastoreInfo Ds = new DatastoreInfo { MoRef = new MoRef("Datastore", "ds-1"), Name = "DS", Browser = new MoRef("HostDatastoreBrowser", "b-1") };

        /// <summary>A diagnosed VM: powered off, CBT on, its own ctk file present (healthy unless told otherwise).</summary>
        private static RunbookVmState Vm(string name, string host, bool cbt = true, int snapshots = 0)
        {
            var info = new VmInfo
            {
                MoRef = new MoRef("VirtualMachine", "vm-" + name), Name = name, PowerState = "poweredOff",
                ChangeTrackingEnabled = cbt, SnapshotCount = snapshots, HostName = host,
            };
            info.Disks.Add(new VmDiskInfo { Key = 2000, Label = "Hard disk 1", FileName = $"[DS] {name}/{name}.vmdk", Datastore = "DS", DatastoreMoRef = Ds.MoRef, ControllerKind = "scsi", BusNumber = 0, UnitNumber = 0 });
            info.Datastores[Ds.MoRef] = Ds;
            var inspection = new CtkInspection(info);
            inspection.OwnByDisk[2000] = DatastorePath.Combine("DS", name, name + "-ctk.vmdk");
            return new RunbookVmState(new NoVSphere(), "vc", info, name)
            {
                Inspection = inspection,
                Before = ChangeTrackingEngine.BuildStatus(inspection, "vc"),
            };
        }

        private static RunbookHostState Host(string name, string status, long logBytes, params RunbookVmState[] vms)
        {
            var h = new RunbookHostState(name) { Shell = new NullShell(name) };
            h.VMs.AddRange(vms);
            h.Before = new LogSpaceStatus { VMHost = name, LogPath = LogSpaceOptions.DefaultLogPath, LogExists = true, LogSizeBytes = logBytes, VolumePath = "/var", UsedPercent = status == "Healthy" ? 10 : 99, Status = status };
            // A 2.10 host (the Python wrapper writes its own log), as the host read reports it.
            h.LogFacts = new WrapperLogFacts(name, WrapperPayload.Parse("#!/bin/python\nSCRIPT_VERSION = \"0.0.5\"\n"), logBytes);
            return h;
        }

        private static CloneFailureFinding Finding(string host, string line, string signature = CloneFailureSignatures.ChangeTrackerInvalid, long lineNumber = 7) =>
            new CloneFailureFinding { Source = host + ":/var/log/vmkfstools-wrapper.log", VMHost = host, LineNumber = lineNumber, Signature = signature, Line = line };

        // A failed clone's task directory as TaskDirectoryEvidence reports it: err names no VM, rdmfile names the disk.
        private static CloneFailureFinding TaskFinding(string host, string disk) => new CloneFailureFinding
        {
            Source = host + ":/tmp/vmkfstools-wrapper-5d0e2f5a/err", VMHost = host, LineNumber = 1, Signature = CloneFailureSignatures.ChangeTrackerInvalid,
            Line = "Failed to clone disk: Invalid change tracker error code (7228).", ExitCode = 255, Disk = disk,
        };

        private sealed class NullShell : MtvRemediation.Esxi.IEsxiShell
        {
            public NullShell(string host) { HostName = host; }
            public string HostName { get; }
            public Task<MtvRemediation.Esxi.RemoteCommandResult> RunAsync(MtvRemediation.Esxi.RemoteCommand command, TimeSpan timeout, CancellationToken cancellationToken) => throw new NotSupportedException();
            public Task<MtvRemediation.Esxi.RemoteCommandResult> RunStreamingAsync(MtvRemediation.Esxi.RemoteCommand command, System.IO.Stream stdoutSink, TimeSpan timeout, CancellationToken cancellationToken) => throw new NotSupportedException();
        }

        [Theory]
        [InlineData("Healthy", false)]
        [InlineData("Warning", true)]
        [InlineData("Critical", true)]
        public void Log_is_cleared_at_warning_or_worse(string status, bool clear)
        {
            var h = Host("esx1", status, 5_000_000);
            RunbookEngine.PlanHost(h, new RunbookOptions());
            Assert.Equal(clear, h.ClearLog);
            Assert.Equal(clear ? 1 : 0, h.Plan.Count);
            if (clear) Assert.Contains("Truncate /var/log/vmkfstools-wrapper.log in place (4.8 MiB; /var 99% used, " + status + ")", h.Plan[0]);
        }

        [Fact]
        public void Rotation_job_is_planned_only_where_missing_and_agents_only_when_asked()
        {
            var options = new RunbookOptions { RegisterLogRotation = true };
            var missing = Host("esx1", "Healthy", 10);
            missing.CronRegisteredBefore = false;
            var present = Host("esx2", "Healthy", 10);
            present.CronRegisteredBefore = true;
            RunbookEngine.PlanHost(missing, options);
            RunbookEngine.PlanHost(present, options);
            Assert.True(missing.RegisterCron);
            Assert.False(present.RegisterCron);
            Assert.False(missing.RestartAgents);

            RunbookEngine.PlanHost(present, new RunbookOptions { RestartAgents = true });
            Assert.True(present.RestartAgents);
            Assert.Equal("Restart the management agent(s) hostd, then vpxa (vCenter shows the host not responding meanwhile)", Assert.Single(present.Plan));
        }

        [Fact]
        public void Unreachable_host_plans_nothing()
        {
            var h = Host("esx1", "Critical", 10);
            h.Shell = null;
            RunbookEngine.PlanHost(h, new RunbookOptions { RegisterLogRotation = true, RestartAgents = true });
            Assert.False(h.HasPlannedWork);
            Assert.Empty(h.Plan);
        }

        [Fact]
        public void Healthy_vm_without_7228_is_left_alone()
        {
            var vm = Vm("app1", "esx1");
            var h = Host("esx1", "Healthy", 10, vm);
            h.Findings.Add(Finding("esx1", "XCOPY used: False", CloneFailureSignatures.XcopyNotUsed));
            RunbookEngine.PlanVm(vm, h, new RunbookOptions());
            Assert.Null(vm.ResetReason);
            Assert.Empty(vm.Plan);
            Assert.Equal("Healthy", RunbookEngine.SummarizeVm(vm, whatIf: false).Result);
        }

        [Fact]
        public void Unattributed_7228_counts_for_every_vm_of_the_run_on_that_host()
        {
            var a = Vm("app1", "esx1");
            var b = Vm("app2", "esx1");
            var h = Host("esx1", "Critical", 10, a, b);
            // MTV 2.9's secure log: the status dict names the task, not the VM.
            h.Findings.Add(Finding("esx1", CloneFailureLogSamples.WrapperCtk));
            RunbookEngine.PlanVm(a, h, new RunbookOptions());
            RunbookEngine.PlanVm(b, h, new RunbookOptions());
            Assert.Contains("(7228)", a.ResetReason);
            Assert.Contains("(7228)", b.ResetReason);
            Assert.StartsWith("Reset CBT: disable CBT (changeTrackingEnabled=false; scsi0:0.ctkEnabled=false); delete [DS] app1/app1-ctk.vmdk; power on with CBT disabled and power off again", a.Plan.Single());
        }

        [Fact]
        public void A_task_directory_7228_counts_for_the_vm_of_its_disk_only()
        {
            var a = Vm("app1", "esx1");
            var b = Vm("app2", "esx1");
            var h = Host("esx1", "Critical", 10, a, b);
            h.Findings.Add(TaskFinding("esx1", "/vmfs/volumes/DS/app2/app2.vmdk"));
            RunbookEngine.PlanVm(a, h, new RunbookOptions());
            RunbookEngine.PlanVm(b, h, new RunbookOptions());
            Assert.Null(a.ResetReason);
            Assert.Contains("(7228)", b.ResetReason);
            Assert.Contains("/tmp/vmkfstools-wrapper-", b.ResetReason);
        }

        [Fact]
        public void A_task_directory_7228_of_a_vm_outside_the_run_resets_nothing()
        {
            var a = Vm("app1", "esx1");
            var h = Host("esx1", "Critical", 10, a);
            h.Findings.Add(TaskFinding("esx1", "/vmfs/volumes/DS/other/other.vmdk"));
            RunbookEngine.PlanVm(a, h, new RunbookOptions());
            Assert.Null(a.ResetReason);
            Assert.Empty(a.Plan);
        }

        [Fact]
        public void Stale_ctk_files_are_reset_even_without_findings()
        {
            var vm = Vm("app1", "esx1", cbt: false);   // CBT off with a ctk file present: stale
            RunbookEngine.PlanVm(vm, null, new RunbookOptions());
            Assert.StartsWith("stale -ctk.vmdk files exist while CBT is disabled", vm.ResetReason);
            Assert.Single(vm.Plan);
        }

        [Fact]
        public void Cbt_that_is_only_disabled_is_not_power_cycled()
        {
            var vm = Vm("app1", "esx1", cbt: false);
            vm.Inspection!.OwnByDisk.Clear();
            vm.Before = ChangeTrackingEngine.BuildStatus(vm.Inspection, "vc");
            // A fact, not a failure: cold migrations need no CBT.
            Assert.True(vm.Before.Healthy);
            Assert.Null(vm.Before.Reason);
            RunbookEngine.PlanVm(vm, Host("esx1", "Healthy", 10, vm), new RunbookOptions());
            Assert.Null(vm.ResetReason);
            Assert.Empty(vm.Plan);
            var row = RunbookEngine.SummarizeVm(vm, whatIf: true);
            Assert.Equal("Healthy", row.Result);
            Assert.Equal("unchanged (-WhatIf): PoweredOff, CBT disabled, 0 ctk file(s), configuration consistent", row.FinalState);
        }

        [Fact]
        public void A_7228_in_the_cluster_record_the_vm_came_with_plans_a_reset()
        {
            var plain = Vm("app1", "esx1");
            var vm = new RunbookVmState(plain.Client, "vc", plain.Vm, new MtvClusterFinding
            {
                Kind = "Migration", Name = "app1", MoRef = "vm-app1", Signature = CloneFailureSignatures.ChangeTrackerInvalid,
                Source = "Migration ns/m1 status.vms[0].error.reasons[0]",
            })
            { Inspection = plain.Inspection, Before = plain.Before };
            RunbookEngine.PlanVm(vm, Host("esx1", "Healthy", 10, vm), new RunbookOptions());
            Assert.Contains("Migration ns/m1 status.vms[0].error.reasons[0]", vm.ResetReason);
            Assert.Single(vm.Plan);
        }

        [Fact]
        public void Refusal_is_an_error_with_the_engines_id_and_no_plan()
        {
            var vm = Vm("app1", "esx1", cbt: false, snapshots: 2);
            RunbookEngine.PlanVm(vm, null, new RunbookOptions());
            Assert.True(vm.Refused);
            Assert.Empty(vm.Plan);
            var error = Assert.Single(vm.TakeNewErrors());
            Assert.Equal("VMHasSnapshots", error.ErrorId);
            // The engine names no cmdlet; the cmdlet that writes the record names itself for the re-run.
            Assert.DoesNotContain("Reset-VMChangeTracking", error.Message);
            Assert.True(error.RerunCompletes);
            Assert.EndsWith("Then run Invoke-MtvRemediation again.", error.ToErrorRecord("app1", "Invoke-MtvRemediation").ErrorDetails.Message);
            Assert.Equal("Refused", RunbookEngine.SummarizeVm(vm, whatIf: false).Result);
        }

        [Fact]
        public void Results_say_planned_declined_remediated_partial_failed()
        {
            var h = Host("esx1", "Critical", 10);
            RunbookEngine.PlanHost(h, new RunbookOptions());
            Assert.Equal("Planned", RunbookEngine.SummarizeHost(h, whatIf: true).Result);
            Assert.StartsWith("unchanged (-WhatIf): /var 99% used (Critical)", RunbookEngine.SummarizeHost(h, whatIf: true).FinalState);

            h.AllConfirmed = false;
            Assert.Equal("Declined", RunbookEngine.SummarizeHost(h, whatIf: false).Result);

            h.AllConfirmed = true;
            h.AddAction("Truncated the log");
            Assert.Equal("Remediated", RunbookEngine.SummarizeHost(h, whatIf: false).Result);

            h.Fail("CrontabLocked", System.Management.Automation.ErrorCategory.ResourceBusy, "locked");
            Assert.Equal("Partial", RunbookEngine.SummarizeHost(h, whatIf: false).Result);

            var dead = Host("esx2", "Critical", 10);
            dead.Shell = null;
            dead.Before = null;
            var s = RunbookEngine.SummarizeHost(dead, whatIf: false);
            Assert.Equal("Failed", s.Result);
            Assert.Equal("not reached", s.FinalState);
        }

        [Fact]
        public void Report_keeps_failures_and_only_the_last_informational_line_per_source()
        {
            var h = Host("esx1", "Critical", 10);
            h.Findings.Add(Finding("esx1", "XCOPY used: False", CloneFailureSignatures.XcopyNotUsed, 1));
            h.Findings.Add(Finding("esx1", "XCOPY used: False", CloneFailureSignatures.XcopyNotUsed, 3));
            h.Findings.Add(Finding("esx1", "Invalid change tracker error code (7228)", lineNumber: 9));
            RunbookEngine.PlanHost(h, new RunbookOptions());
            var summary = RunbookEngine.SummarizeHost(h, whatIf: false);
            Assert.Equal(new[] { "ChangeTrackerInvalid: 1" }, summary.FindingCounts);

            var report = RunbookEngine.BuildReport(new[] { summary }, Array.Empty<MtvRemediation.RemediationVMSummary>(), new DateTime(2026, 11, 25, 0, 0, 0, DateTimeKind.Utc));
            Assert.Same(summary, Assert.Single(report.Hosts)); // the report holds the rows themselves
            var json = new System.IO.StringWriter();
            RemediationReportWriter.WriteJson(report, json);
            var entry = System.Text.Json.JsonDocument.Parse(json.ToString()).RootElement.GetProperty("Hosts")[0];
            Assert.Equal(new long[] { 3, 9 }, entry.GetProperty("Findings").EnumerateArray().Select(f => f.GetProperty("LineNumber").GetInt64()).ToArray());
            Assert.Equal(summary.Result, entry.GetProperty("Outcome").GetString()); // one word for one outcome
            Assert.Equal("Planned", summary.Result); // planned, not done
            Assert.StartsWith("Planned: Truncate", entry.GetProperty("Actions")[0].GetString());
            Assert.Equal(99, entry.GetProperty("LogSpaceBefore").GetProperty("VarUsedPercent").GetDouble());
        }
    }
}
