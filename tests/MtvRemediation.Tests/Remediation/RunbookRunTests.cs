using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using MtvRemediation.Esxi;
using MtvRemediation.HostLog;
using MtvRemediation.Infrastructure;
using MtvRemediation.Runbook;
using MtvRemediation.Tests.Esxi;
using MtvRemediation.VSphere;
using Xunit;

namespace MtvRemediation.Tests.Remediation
{
    /// <summary>
    /// The whole runbook (<see cref="RunbookEngine.Run"/>) driven from xunit: the host side runs in
    /// a real BusyBox ash on a scratch tree (the log, the crontab and crond's pid file are temp
    /// paths, as in <see cref="EngineTests"/>), the vSphere side is an in-memory client, and the
    /// cmdlet's part (confirm, run in parallel, emit) is a recording <see cref="IRunbookHost"/>.
    /// The same engine runs through the cmdlet against the lab in tests/Pester/Runbook.Tests.ps1.
    /// </summary>
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public sealed class RunbookRunTests : IDisposable
    {
        private const string HostName = "esx-test";
        private readonly string _root = Directory.CreateTempSubdirectory("mtv-runbook-").FullName;

        public void Dispose()
        {
            try
            {
                var pidFile = Path.Combine(_root, "crond.pid");
                if (File.Exists(pidFile) && int.TryParse(File.ReadAllText(pidFile).Trim(), out var pid))
                    try { System.Diagnostics.Process.GetProcessById(pid).Kill(); } catch (ArgumentException) { }
            }
            finally { Directory.Delete(_root, true); }
        }

        /// <summary>What the cmdlet does for the engine, recorded: confirmations, phases, output, errors.</summary>
        private sealed class RecordingHost : IRunbookHost
        {
            public readonly List<string> StopNotes = new List<string>();
            public void WriteStopNote(string text) { lock (StopNotes) StopNotes.Add(text); }

            public RecordingHost(bool whatIf) { WhatIf = whatIf; }
            public bool WhatIf { get; }
            public Func<string, bool> Answer { get; set; } = plan => true;
            public List<string> Log { get; } = new List<string>();
            public List<object> Output { get; } = new List<object>();
            public List<(MtvException Error, object? Target)> Errors { get; } = new List<(MtvException, object?)>();

            public bool ConfirmPlan(string plan, string question)
            {
                Log.Add("confirm " + plan + "\n" + question);
                return !WhatIf && Answer(plan);
            }

            public void RunInParallel(RunbookPhase phase, string activity, IReadOnlyList<RunbookWork> work)
            {
                Log.Add($"phase {phase} ({work.Count})");
                Parallel.ForEach(work, w => w.Work(new WorkOutput(this), CancellationToken.None));
                foreach (var w in work)
                    foreach (var s in w.States)
                        foreach (var e in s.TakeNewErrors()) Errors.Add((e, s.ErrorTarget));
            }

            public IEsxiShell GetShell(string hostName, CancellationToken ct) =>
                hostName == HostName ? new BusyboxShell(hostName)
                : throw new EsxiShellException(EsxiShellErrorIds.NotConnected, System.Management.Automation.ErrorCategory.ConnectionError, $"There is no ESXi shell session for '{hostName}'.");

            public void Emit(object result) { lock (Output) Output.Add(result); }

            /// <summary>A work item's output: rows go to the same list as the run's.</summary>
            private sealed class WorkOutput : IRunbookWorkOutput
            {
                private readonly RecordingHost _host;
                public WorkOutput(RecordingHost host) => _host = host;
                public void WriteVerbose(string text) { }
                public void ReportStep(string step) { }
                public void Emit(object result) => _host.Emit(result);
            }

            public void WriteError(MtvException error, object? target) => Errors.Add((error, target));
            public void WriteVerbose(string text) { }
            public void WriteWarning(string text) => Log.Add("warning " + text);
        }

        /// <summary>One VM in memory: power, CBT, the files of its folder; enabling CBT and powering on creates the ctk file, as ESXi does.</summary>
        private sealed class FakeVSphere : IVSphereClient
        {
            public string Power = "poweredOff";
            public bool Cbt;
            public readonly HashSet<string> Files = new HashSet<string>(StringComparer.Ordinal);
            public readonly List<string> Calls = new List<string>();
            public string Server => "vc";
            public string UserName => "alice@vsphere.local";
            public TimeSpan TaskTimeout => TimeSpan.FromSeconds(5);
            public string? RecordValue;

            public Task SetExtraConfigAsync(MoRef vm, ExtraConfigValue value, CancellationToken ct)
            {
                RecordValue = value.Value.Length == 0 ? null : value.Value;
                return Task.CompletedTask;
            }

            public Task<IReadOnlyList<VmPowerEvent>> GetPowerEventsAsync(MoRef vm, DateTime sinceUtc, CancellationToken ct) => Task.FromResult<IReadOnlyList<VmPowerEvent>>(Array.Empty<VmPowerEvent>());

            public VmInfo Snapshot()
            {
                var vm = new VmInfo
                {
                    MoRef = new MoRef("VirtualMachine", "vm-1"), Name = "app1", PowerState = Power, ChangeTrackingEnabled = Cbt,
                    ToolsRunningStatus = "guestToolsRunning", HostName = HostName, ResetRecordValue = RecordValue,
                };
                vm.Datastores[Ds.MoRef] = Ds;
                vm.Disks.Add(new VmDiskInfo { Key = 2000, FileName = "[ds1] app1/app1.vmdk", Datastore = "ds1", DatastoreMoRef = Ds.MoRef, ControllerKind = "scsi", BusNumber = 0, UnitNumber = 0 });
                return vm;
            }

            private void Call(string name) { lock (Calls) Calls.Add(name); }

            public Task<IReadOnlyList<VmInfo>> GetVmsAsync(IReadOnlyCollection<MoRef> vms, CancellationToken ct) { Call("GetVms"); return Task.FromResult<IReadOnlyList<VmInfo>>(new[] { Snapshot() }); }
            public Task<(string PowerState, bool ChangeTrackingEnabled)> GetVmStateAsync(MoRef vm, CancellationToken ct) => Task.FromResult((Power, Cbt));
            public Task<IReadOnlyDictionary<MoRef, (string PowerState, bool ChangeTrackingEnabled)>> GetVmStatesAsync(IReadOnlyCollection<MoRef> vms, CancellationToken ct) =>
                Task.FromResult<IReadOnlyDictionary<MoRef, (string, bool)>>(vms.ToDictionary(v => v, v => (Power, Cbt)));

            public Task<IReadOnlyList<DatastoreFile>> SearchFolderAsync(DatastoreInfo datastore, string folder, string matchPattern, CancellationToken ct)
            {
                var prefix = $"[{datastore.Name}] {folder}/";
                IReadOnlyList<DatastoreFile> found = Files.Where(f => f.StartsWith(prefix, StringComparison.Ordinal) && f.EndsWith("-ctk.vmdk", StringComparison.Ordinal))
                    .Select(f => new DatastoreFile(DatastorePath.Parse(f), 0)).ToList();
                return Task.FromResult(found);
            }

            public Task DeleteFileAsync(DatastorePath file, MoRef datacenter, CancellationToken ct)
            {
                Call("Delete " + file);
                if (!Files.Remove(file.ToString())) throw new VimFaultException("FileNotFound", "File not found", "DeleteDatastoreFile_Task");
                return Task.CompletedTask;
            }

            public Task<(string PowerState, bool ChangeTrackingEnabled)?> SetChangeTrackingAsync(MoRef vm, bool enabled, IReadOnlyList<string> keys, ExtraConfigValue? also, CancellationToken ct)
            {
                Call(enabled ? "Enable" : "Disable");
                Cbt = enabled;
                if (also != null) RecordValue = also.Value.Length == 0 ? null : also.Value;
                return Task.FromResult<(string, bool)?>((Power, Cbt));
            }

            public Task ShutdownGuestAsync(MoRef vm, CancellationToken ct) { Call("ShutdownGuest"); Power = "poweredOff"; return Task.CompletedTask; }
            public Task PowerOffAsync(MoRef vm, CancellationToken ct) { Call("PowerOff"); Power = "poweredOff"; return Task.CompletedTask; }

            public Task<(string PowerState, bool ChangeTrackingEnabled)?> PowerOnAsync(MoRef vm, CancellationToken ct)
            {
                Call("PowerOn");
                Power = "poweredOn";
                if (Cbt) Files.Add(CtkFile);
                return Task.FromResult<(string, bool)?>((Power, Cbt));
            }
        }

        private const string CtkFile = "[ds1] app1/app1-ctk.vmdk";
        private static readonly DatastoreInfo Ds = new DatastoreInfo { MoRef = new MoRef("Datastore", "ds-1"), Name = "ds1", Browser = new MoRef("HostDatastoreBrowser", "b-1"), Datacenter = new MoRef("Datacenter", "dc-1") };

        private (RunbookOptions Options, string Log, string Crontab) Scene()
        {
            // The 2.9/2.10 wrapper's per-poll line; the log is what /var is full of
            // (docs/field-sources.md#2-the-vmkfstools-wrapper).
            var log = Path.Combine(_root, "vmkfstools-wrapper.log");
            var sb = new StringBuilder();
            for (var i = 0; i < 2000; i++) sb.Append(CloneFailureLogSamples.WrapperXcopyFalse).Append('\n');
            File.WriteAllText(log, sb.ToString());
            var tabDir = Path.Combine(_root, "crontabs");
            Directory.CreateDirectory(tabDir);
            var tab = Path.Combine(tabDir, "root");
            File.WriteAllText(tab, CrontabTests.VmwareDefault);
            // Stand-in for "busybox crond": a background sleeper that writes its pid like crond does.
            var fake = Path.Combine(_root, "fakebusybox");
            var pidFile = Path.Combine(_root, "crond.pid");
            File.WriteAllText(fake, "#!/bin/sh\n(sleep 300 </dev/null >/dev/null 2>&1 & echo $! > " + ShellQuote.Quote(pidFile) + ")\n");
            File.SetUnixFileMode(fake, (UnixFileMode)Convert.ToInt32("755", 8));
            var options = new RunbookOptions
            {
                PowerOff = true,
                RegisterLogRotation = true,
                // A scratch file system is not full: rate any use as Warning so the clear is planned.
                LogSpace = new LogSpaceOptions { LogPath = log, SecureLogPath = Path.Combine(_root, "secure.log"), WarningPercent = 1, CriticalPercent = 100 },
                CronPaths = new CronPaths { CrontabPath = tab, PidFile = pidFile, Busybox = fake, LockDir = Path.Combine(_root, ".lock") },
            };
            return (options, log, tab);
        }

        private static RunbookVmState VmState(FakeVSphere fake, object input) => new RunbookVmState(fake, "vc", fake.Snapshot(), input);

        [Fact]
        public void Whole_runbook_frees_the_log_registers_the_job_resets_cbt_and_verifies_in_order()
        {
            var (options, log, tab) = Scene();
            // Powered on, CBT disabled, a stale ctk file left: unhealthy, so the reset is planned.
            var fake = new FakeVSphere { Power = "poweredOn", Cbt = false };
            fake.Files.Add(CtkFile);
            var host = new RecordingHost(whatIf: false);

            var result = RunbookEngine.Run(host, new[] { VmState(fake, "app1-input") }, options);

            // Phases in the runbook's order; the reset VM is read again within its reset, the host at the end.
            Assert.Equal(new[] { "phase Diagnose (2)", "phase FreeSpace (1)", "phase ResetChangeTracking (1)", "phase RestartAgents (0)", "phase Verify (1)" },
                host.Log.Where(l => l.StartsWith("phase", StringComparison.Ordinal)).ToArray());
            // The whole plan in one confirmation, between diagnosis and action: a row per host and VM, the power-offs counted.
            var confirm = Assert.Single(host.Log, l => l.StartsWith("confirm", StringComparison.Ordinal));
            Assert.Contains("Plan for 1 host and 1 VM: 1 CBT reset, 1 VM powered off; 1 log cleared; 1 rotation job registered.", confirm);
            Assert.Matches(@"\nesx-test +log cleared \([^)]*\), rotation registered\n", confirm);
            Assert.Matches(@"\n  app1 +CBT reset with power-off \(guest shutdown\), then on again\n", confirm);
            Assert.EndsWith("Carry out this plan? 1 running VM will be powered off.", confirm);
            Assert.True(host.Log.IndexOf(confirm) < host.Log.IndexOf("phase FreeSpace (1)"));

            Assert.Empty(host.Errors);
            // The host's truth, read independently: log truncated in place, our job in the crontab, VMware's lines kept.
            Assert.Equal(0, new FileInfo(log).Length);
            var crontab = File.ReadAllText(tab);
            Assert.StartsWith(CrontabTests.VmwareDefault, crontab);
            Assert.Contains(log, crontab);
            // The VM's: CBT on, back in its original power state, its ctk file made anew by the power-on.
            Assert.True(fake.Cbt);
            Assert.Equal("poweredOn", fake.Power);
            Assert.Contains("Delete " + CtkFile, fake.Calls);
            Assert.True(fake.Calls.IndexOf("Disable") < fake.Calls.IndexOf("Delete " + CtkFile));
            Assert.True(fake.Calls.IndexOf("Delete " + CtkFile) < fake.Calls.IndexOf("Enable"));

            var h = Assert.Single(result.Hosts);
            var v = Assert.Single(result.VMs);
            Assert.Equal(nameof(RemediationOutcome.Remediated), h.Result);
            Assert.Equal(nameof(RemediationOutcome.Remediated), v.Result);
            Assert.Equal(true, h.RotationCronRegistered);
            Assert.Equal(0, h.LogSizeBytesAfter);
            Assert.Equal(true, v.CbtHealthyAfter);
            // The VM's row as soon as it was done, the host's at the end.
            Assert.Equal(new object[] { v, h }, host.Output.ToArray());
        }

        [Fact]
        public void WhatIf_plans_everything_and_changes_nothing()
        {
            var (options, log, tab) = Scene();
            var size = new FileInfo(log).Length;
            var crontab = File.ReadAllBytes(tab);
            var fake = new FakeVSphere { Power = "poweredOn", Cbt = false };
            fake.Files.Add(CtkFile);
            var host = new RecordingHost(whatIf: true);

            var result = RunbookEngine.Run(host, new[] { VmState(fake, "app1") }, options);

            Assert.Equal(new[] { "phase Diagnose (2)" }, host.Log.Where(l => l.StartsWith("phase", StringComparison.Ordinal)).ToArray());
            Assert.Single(host.Log, l => l.StartsWith("confirm", StringComparison.Ordinal));
            Assert.Equal(size, new FileInfo(log).Length);
            Assert.Equal(crontab, File.ReadAllBytes(tab));
            Assert.DoesNotContain(fake.Calls, c => c != "GetVms");
            Assert.Equal(nameof(RemediationOutcome.Planned), result.Hosts[0].Result);
            Assert.Equal(nameof(RemediationOutcome.Planned), result.VMs[0].Result);
        }

        [Fact]
        public void A_declined_plan_changes_nothing_and_every_row_says_Declined()
        {
            var (options, log, tab) = Scene();
            var size = new FileInfo(log).Length;
            var fake = new FakeVSphere { Power = "poweredOff", Cbt = false };
            fake.Files.Add(CtkFile);
            var crontab = File.ReadAllBytes(tab);
            var host = new RecordingHost(whatIf: false) { Answer = plan => false };

            var result = RunbookEngine.Run(host, new[] { VmState(fake, "app1") }, options);

            // One no declines the whole plan: nothing is done, every planned row says Declined.
            Assert.Equal(size, new FileInfo(log).Length);
            Assert.Equal(crontab, File.ReadAllBytes(tab));
            Assert.Contains(fake.Files, f => f == CtkFile);
            Assert.Equal(new[] { "phase FreeSpace (0)", "phase ResetChangeTracking (0)" }, host.Log.Where(l => l.StartsWith("phase F", StringComparison.Ordinal) || l.StartsWith("phase R", StringComparison.Ordinal)).Take(2).ToArray());
            Assert.Equal(nameof(RemediationOutcome.Declined), result.Hosts[0].Result);
            Assert.Equal(nameof(RemediationOutcome.Declined), result.VMs[0].Result);
        }

        [Fact]
        public void A_host_without_a_shell_keeps_the_shell_layers_error_id_and_its_vm_is_still_reset()
        {
            var fake = new FakeVSphere { Power = "poweredOff", Cbt = false };
            fake.Files.Add(CtkFile);
            var state = new RunbookVmState(fake, "vc", fake.Snapshot(), "app1");
            state.Vm.HostName = "esx-gone";
            var host = new RecordingHost(whatIf: false);

            var result = RunbookEngine.Run(host, new[] { state }, new RunbookOptions());

            var (error, target) = Assert.Single(host.Errors);
            Assert.Equal(EsxiShellErrorIds.NotConnected, error.ErrorId);
            Assert.Equal("esx-gone", target);
            Assert.Contains("is skipped (its VMs' CBT is still handled)", error.Message);
            Assert.Equal(nameof(RemediationOutcome.Failed), result.Hosts[0].Result);
            Assert.Equal(nameof(RemediationOutcome.Remediated), result.VMs[0].Result);
            Assert.True(fake.Cbt);
        }
    }
}
