using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using MtvRemediation.Cbt;
using MtvRemediation.Diagnosis;
using MtvRemediation.Infrastructure;
using MtvRemediation.VSphere;
using MtvRemediation.Wrapper;

namespace MtvRemediation.Wave
{
    /// <summary>Pass, Warn, Fail, or Unknown when the check's source could not be read (never a Pass).</summary>
    internal enum WaveStatus { Pass, Warn, Fail, Unknown }

    /// <summary>
    /// One check's verdict. The fix is a command of this module (<see cref="Next"/>, named by the
    /// cmdlet layer) and/or a command run elsewhere (<see cref="FixText"/>: on the host, in vCenter).
    /// </summary>
    internal sealed class WaveFinding
    {
        public WaveFinding(string check, WaveStatus status, string evidence, string source)
        {
            Check = check; Status = status; Evidence = evidence; Source = source;
        }

        public string Check { get; }
        public WaveStatus Status { get; }
        public string Evidence { get; }
        public string Source { get; }
        public NextCommand Next { get; set; }

        /// <summary>The value <see cref="Next"/> sets, when it takes one.</summary>
        public string? NextArgument { get; set; }

        /// <summary>A second command of this module, after <see cref="Next"/>, and the value it sets.</summary>
        public NextCommand ThenNext { get; set; }
        public string? ThenArgument { get; set; }
        public string? FixText { get; set; }
    }

    /// <summary>What a wave asks of one host: the VMs it clones and their disks (one clone, and one new LUN, per disk).</summary>
    internal sealed class WaveHostLoad
    {
        public WaveHostLoad(string host) { Host = host; }
        public string Host { get; }
        public int Vms { get; set; }
        public int Disks { get; set; }
    }

    internal sealed class WaveReadinessOptions
    {
        /// <summary>A warm plan: MTV needs CBT on each VM (VMMissingChangedBlockTracking).</summary>
        public bool Warm { get; set; }

        /// <summary>
        /// The hostd-tmp memory limit to have before a wave, in MB. No per-clone figure is
        /// published; forklift's tweak-esxi-mem.sh (v2.12.5) gives 1024 as its example, against
        /// the "e.g. 500MB" its README names as the strict default.
        /// </summary>
        public int HostdTmpMemoryMB { get; set; } = DefaultHostdTmpMemoryMB;

        /// <summary>How long the wave clones, in hours: the wrapper log's growth is projected over it.</summary>
        public double WaveHours { get; set; } = DefaultWaveHours;

        // The defaults and bounds of both, shared by the cmdlets that take them (Test-MtvWaveReadiness, Invoke-MtvRemediation -Preflight).
        public const int DefaultHostdTmpMemoryMB = 1024, MinHostdTmpMemoryMB = 64, MaxHostdTmpMemoryMB = 1048576;
        public const double DefaultWaveHours = 12, MinWaveHours = 0.1, MaxWaveHours = 720;

        /// <summary>The lowest Disk.MaxLUN to recommend: 2048 or more; ESXi's maximum is 16384 (docs/field-sources.md#10-before-the-wave-other-host-side-causes).</summary>
        public int RecommendedMaxLun { get; set; } = 2048;
    }

    /// <summary>
    /// The readiness rules of a wave, on values already read: per VM from the CBT inspection, per
    /// host from one <see cref="HostDiagnosis"/> (space probe, wrapper inventory, readiness facts)
    /// and vCenter's Disk.MaxLUN. Sources of each cause: forklift's
    /// cmd/vsphere-copy-offload-populator/README.md "Troubleshooting" and
    /// vmkfstools-wrapper/tweak-esxi-mem.sh at v2.12.5, Broadcom KBs 436218 and 342823.
    /// </summary>
    internal static class WaveReadiness
    {
        public const string CbtConsistency = "CbtConsistency";
        public const string Snapshots = "Snapshots";
        public const string WarmNeedsCbt = "WarmNeedsCbt";
        public const string SourceDatastore = "SourceDatastore";
        public const string WrapperLogSpace = "WrapperLogSpace";
        public const string HostdRestartAfterVib = "HostdRestartAfterVib";
        public const string HostdTmpMemory = "HostdTmpMemory";
        public const string SshCloneMethod = "SshCloneMethod";
        public const string DiskMaxLun = "DiskMaxLun";

        /// <summary>The checks read over SSH, in output order (what a host without a session reports as Unknown).</summary>
        public static readonly string[] HostShellChecks = { WrapperLogSpace, HostdRestartAfterVib, HostdTmpMemory, SshCloneMethod };

        // ---- per VM ---------------------------------------------------------------------------

        public static List<WaveFinding> VmChecks(CtkInspection inspection, WaveReadinessOptions options)
        {
            var vm = inspection.Vm;
            var list = new List<WaveFinding>();
            var health = ChangeTrackingHealth.Of(inspection);
            const string cbtSource = "vCenter: config.changeTrackingEnabled, extraConfig, snapshot; SearchDatastore of the disks' folders";
            var cbtState = $"CBT {(vm.ChangeTrackingEnabled ? "enabled" : "disabled")}, {vm.Disks.Count} disk(s), {inspection.OwnByDisk.Count} own -ctk.vmdk file(s)";
            if (health.Problems.Count > 0)
                list.Add(new WaveFinding(CbtConsistency, WaveStatus.Fail, $"{cbtState}: {health.Describe()}", cbtSource) { Next = ResetNext(vm) });
            else if (!health.Known)
                list.Add(new WaveFinding(CbtConsistency, WaveStatus.Unknown, $"{cbtState}: {health.Describe()}", cbtSource) { Next = NextCommand.ShowChangeTracking });
            else
                list.Add(new WaveFinding(CbtConsistency, WaveStatus.Pass, $"{cbtState}: consistent", cbtSource));

            // The KB's CBT reset refuses a VM with snapshots; a VM whose CBT needs the reset cannot get it then.
            if (vm.SnapshotCount > 0)
                list.Add(new WaveFinding(Snapshots, health.Problems.Count > 0 ? WaveStatus.Fail : WaveStatus.Warn,
                    $"{vm.SnapshotCount} snapshot(s)" + (health.Problems.Count > 0 ? "; the CBT reset this VM needs refuses a VM with snapshots" : "; a CBT reset, should one be needed, refuses a VM with snapshots"),
                    "vCenter: snapshot") { FixText = $"Delete or consolidate the snapshots in vCenter (PowerCLI: Get-VM {Quote(vm.Name)} | Get-Snapshot | Remove-Snapshot)" });
            else
                list.Add(new WaveFinding(Snapshots, WaveStatus.Pass, "no snapshots", "vCenter: snapshot"));

            if (options.Warm)
            {
                if (vm.ChangeTrackingEnabled)
                    list.Add(new WaveFinding(WarmNeedsCbt, WaveStatus.Pass, "CBT enabled, as a warm migration needs", "vCenter: config.changeTrackingEnabled"));
                else
                    list.Add(new WaveFinding(WarmNeedsCbt, WaveStatus.Fail,
                        "CBT disabled in a warm plan: MTV's plan validation raises VMMissingChangedBlockTracking and the VM does not migrate warm",
                        "vCenter: config.changeTrackingEnabled") { Next = ResetNext(vm) });
            }

            // The populator accepts only VMFS sources from MTV 2.11.1 on (client.go, "likely not VMFS"):
            // the file-system types that are surely not VMFS warn; others (VMFS, or a type this
            // rule does not know) pass with the type named.
            var stores = vm.Disks.Select(d => vm.Datastores.TryGetValue(d.DatastoreMoRef, out var ds) ? ds : null).ToList();
            const string dsSource = "vCenter: datastore summary.type and summary.url";
            if (vm.Disks.Count == 0)
                list.Add(new WaveFinding(SourceDatastore, WaveStatus.Pass, "no virtual disks", dsSource));
            else if (stores.Any(t => t == null))
                list.Add(new WaveFinding(SourceDatastore, WaveStatus.Unknown, "a disk's datastore was not read", dsSource));
            else
            {
                string Describe(DatastoreInfo t) => $"{t.Name} ({(t.IsVsan ? "vsan" : t.Type.Length == 0 ? "type not reported" : t.Type)})";
                var notVmfs = stores.Where(t => t!.IsVsan || NotVmfs.Contains(t.Type)).Select(t => Describe(t!)).Distinct().ToList();
                if (notVmfs.Count == 0)
                    list.Add(new WaveFinding(SourceDatastore, WaveStatus.Pass, "disks on " + string.Join(", ", stores.Select(t => Describe(t!)).Distinct()), dsSource));
                else
                    list.Add(new WaveFinding(SourceDatastore, WaveStatus.Warn,
                        "disks on " + string.Join(", ", notVmfs) + ": copy offload on MTV 2.11.1 and later accepts only VMFS sources ('could not determine underlying device for datastore ... (likely not VMFS)'); on vSAN with MTV 2.9-2.11.0 the KB's 7228 failure applies",
                        dsSource)
                    { FixText = "Migrate this VM without copy offload (a StorageMap entry without offload for its datastore), or move it to VMFS first (Storage vMotion)" });
            }
            return list;
        }

        // HostFileSystemVolumeFileSystemType values that are not VMFS (vSphere API reference).
        private static readonly HashSet<string> NotVmfs = new HashSet<string>(new[] { "vsan", "NFS", "NFS41", "CIFS", "VVOL", "PMEM", "vsanD" }, StringComparer.OrdinalIgnoreCase);

        /// <summary>A VM whose state could not be read: each of its checks Unknown with the reason, never a Pass.</summary>
        public static List<WaveFinding> VmUnreadable(string reason, WaveReadinessOptions options)
        {
            var checks = options.Warm ? new[] { CbtConsistency, Snapshots, WarmNeedsCbt, SourceDatastore } : new[] { CbtConsistency, Snapshots, SourceDatastore };
            return checks.Select(c => new WaveFinding(c, WaveStatus.Unknown, reason, "vCenter") { Next = NextCommand.ShowChangeTracking }).ToList();
        }

        private static NextCommand ResetNext(VmInfo vm) =>
            vm.PowerState == "poweredOn" ? NextCommand.ResetChangeTrackingWithPowerOff : NextCommand.ResetChangeTracking;

        // ---- per host, over SSH -----------------------------------------------------------------

        public static List<WaveFinding> HostChecks(HostDiagnosis d, WaveHostLoad load, WaveReadinessOptions options)
        {
            var list = new List<WaveFinding> { LogSpace(d, load, options) };
            var w = d.Wrapper;
            if (w == null)
            {
                var why = d.WrapperError?.Message ?? "the wrapper inventory was not read";
                list.Add(new WaveFinding(HostdRestartAfterVib, WaveStatus.Unknown, why, InventorySource));
                list.Add(new WaveFinding(HostdTmpMemory, WaveStatus.Unknown, why, HostdTmpSource));
                list.Add(new WaveFinding(SshCloneMethod, WaveStatus.Unknown, why, InventorySource));
                return list;
            }
            list.Add(HostdRestart(w, d.Readiness));
            list.Add(HostdTmp(d.Readiness, load, options));
            list.Add(SshMethod(w));
            return list;
        }

        /// <summary>Every SSH check of a host that could not be read at all: Unknown, with the reason and what opens the host.</summary>
        public static List<WaveFinding> HostUnreadable(MtvException error) =>
            HostShellChecks.Select(c => new WaveFinding(c, WaveStatus.Unknown, error.Message, "SSH to the host") { Next = error.Next, FixText = error.RecommendedAction }).ToList();

        private const string InventorySource = "host: esxcli software vib list, /opt/redhat/vmkfstools-wrapper, esxcli esxcli command list";
        private const string HostdTmpSource = "host: vsish -e get /sched/groups/<hostd-tmp>/memAllocation";

        // The wrapper polls every disk it clones every 5 s (taskGet, forklift's populator).
        private const int PollsPerHour = 720;

        private static WaveFinding LogSpace(HostDiagnosis d, WaveHostLoad load, WaveReadinessOptions options)
        {
            const string source = "host: the wrapper log's real path and the free space of the volume that holds it; the log's per-poll lines";
            var s = d.Space;
            if (s == null) return new WaveFinding(WrapperLogSpace, WaveStatus.Unknown, d.SpaceError?.Message ?? "the space probe was not read", source) { Next = NextCommand.CheckLogSpace };
            var logsToFile = d.Wrapper?.LogsTo == "File";
            var status = s.Status == "Critical" ? WaveStatus.Fail : s.Status == "Warning" ? WaveStatus.Warn : WaveStatus.Pass;
            var evidence = $"{s.VolumePath} {s.UsedPercent.ToString("0.#", CultureInfo.InvariantCulture)}% used, {Bytes(s.VolumeFreeBytes)} free ({s.Source}); log {Bytes(s.LogSizeBytes)}";
            string? interval = null;
            if (d.Wrapper != null && !logsToFile)
                evidence += $"; the wrapper logs to {d.Wrapper.LogsTo.ToLowerInvariant()}, not to a file of its own";
            else if (d.Wrapper != null)
            {
                evidence += $"; the wrapper (MTV {d.Wrapper.MtvVersion ?? "?"}) writes to {d.Wrapper.LogPath} at every 5 s poll of each disk it clones, {load.Disks} disk(s) of this wave here";
                var facts = d.Readiness;
                if (load.Disks > 0 && facts?.WrapperLogPolls > 0 && facts.WrapperLogBytes > 0)
                {
                    // Measured on this host: the log's bytes per poll line (an upper bound: the log's other lines count too).
                    var perPoll = facts.WrapperLogBytes!.Value / (double)facts.WrapperLogPolls!.Value;
                    var perHour = perPoll * PollsPerHour * load.Disks;
                    var growth = perHour * options.WaveHours;
                    evidence += $"; measured {perPoll.ToString("0", CultureInfo.InvariantCulture)} bytes per poll ({facts.WrapperLogPolls} polls in {Bytes(facts.WrapperLogBytes.Value)}): about {Bytes((long)perHour)} per hour, {Bytes((long)growth)} in {options.WaveHours.ToString("0.#", CultureInfo.InvariantCulture)} h";
                    var projected = growth >= s.VolumeFreeBytes ? WaveStatus.Fail : growth >= s.VolumeFreeBytes / 2.0 ? WaveStatus.Warn : WaveStatus.Pass;
                    if (projected != WaveStatus.Pass)
                    {
                        evidence += growth >= s.VolumeFreeBytes ? ": the volume fills during the wave" : ": more than half of the free space";
                        // A rotation interval in which the log grows by at most a quarter of the free space.
                        var minutes = (int)Math.Max(1, Math.Min(5, Math.Floor(s.VolumeFreeBytes / 4.0 / (perHour / 60))));
                        interval = minutes.ToString(CultureInfo.InvariantCulture);
                    }
                    if (projected > status) status = projected;
                }
                else if (load.Disks > 0)
                    evidence += "; no per-poll line in the log yet, so the growth is not measured";
            }
            var f = new WaveFinding(WrapperLogSpace, status, evidence + (s.Reasons.Count > 0 ? "; " + s.Reasons : ""), source);
            if (s.Status != "Healthy")
            {
                f.Next = NextCommand.ClearWrapperLog;
                // The log keeps growing while the wave clones: a temporary rotation job keeps it bounded.
                if (logsToFile) { f.ThenNext = NextCommand.RegisterLogRotation; f.ThenArgument = interval; }
            }
            else if (status != WaveStatus.Pass) { f.Next = NextCommand.RegisterLogRotation; f.NextArgument = interval; }
            return f;
        }

        private static WaveFinding HostdRestart(VmkfstoolsWrapperInfo w, HostReadinessFacts? facts)
        {
            var installed = w.Payload.Language != WrapperLanguage.None || w.EsxcliPlugin;
            var what = $"wrapper payload {(w.Payload.Language == WrapperLanguage.None ? "absent" : "present")}, esxcli plugin descriptor {(w.EsxcliPlugin ? "present" : "absent")}, VIB {w.VibVersion ?? "not listed"}";
            if (!installed) return new WaveFinding(HostdRestartAfterVib, WaveStatus.Pass, what + ": nothing for hostd to load", InventorySource);
            if (facts?.VmkfstoolsNamespace == null)
                return new WaveFinding(HostdRestartAfterVib, WaveStatus.Unknown, $"{what}; the esxcli namespaces could not be read: {facts?.NamespaceProblem ?? "not read"}", InventorySource);
            if (facts.VmkfstoolsNamespace == true)
                return new WaveFinding(HostdRestartAfterVib, WaveStatus.Pass, what + "; esxcli lists the vmkfstools namespace", InventorySource);
            return new WaveFinding(HostdRestartAfterVib, WaveStatus.Fail,
                what + "; esxcli has no vmkfstools namespace: hostd has not loaded the plugin since the VIB was installed, and the populator fails with 'CLI Fault: The object or item referred to could not be found'",
                InventorySource) { Next = NextCommand.RestartAgents };
        }

        private static WaveFinding HostdTmp(HostReadinessFacts? facts, WaveHostLoad load, WaveReadinessOptions options)
        {
            if (facts?.HostdTmpMaxKB == null)
                return new WaveFinding(HostdTmpMemory, WaveStatus.Unknown, facts?.HostdTmpProblem ?? "not read", HostdTmpSource);
            var max = facts.HostdTmpMaxKB.Value;
            var wantKB = (long)options.HostdTmpMemoryMB * 1024;
            var group = facts.HostdTmpGroup;
            var load_ = $"{load.Disks} concurrent clone(s) of this wave (each a vmkfstools process in hostd-tmp)"
                        + (facts.HostdTmpRecordedMaxKB is long before ? $"; raised for the wave, the value before it ({before} KB) is kept on the host to put back after the wave" : "");
            if (max < 0) return new WaveFinding(HostdTmpMemory, WaveStatus.Pass, $"hostd-tmp (group {group}) memory max unlimited ({max}); {load_}", HostdTmpSource);
            var evidence = $"hostd-tmp (group {group}) memory max {max} KB ({max / 1024} MB); {load_}";
            if (max >= wantKB) return new WaveFinding(HostdTmpMemory, WaveStatus.Pass, evidence, HostdTmpSource);
            return new WaveFinding(HostdTmpMemory, load.Disks > 1 ? WaveStatus.Warn : WaveStatus.Pass,
                evidence + $"; below the {options.HostdTmpMemoryMB} MB to have before concurrent clones" + (load.Disks > 1 ? "" : " (one clone at a time here)"),
                HostdTmpSource)
            {
                // forklift's runtime raise (lost at reboot), which records the value to put back after the wave.
                Next = load.Disks > 1 ? NextCommand.SetHostdTmpMemory : NextCommand.None,
                NextArgument = options.HostdTmpMemoryMB.ToString(CultureInfo.InvariantCulture),
                FixText = load.Disks > 1 ? $"runtime only; the value before it (max={max} KB) is kept on the host to put back after the wave" : null,
            };
        }

        private static WaveFinding SshMethod(VmkfstoolsWrapperInfo w)
        {
            var scripts = w.SecureScripts.Length;
            var keys = w.RestrictedKeys.Length;
            var evidence = $"{scripts} secure-vmkfstools-wrapper script(s) on datastores, {keys} restricted key(s) in /etc/ssh/keys-root/authorized_keys";
            if (keys > 0 && scripts > 0) return new WaveFinding(SshCloneMethod, WaveStatus.Pass, evidence + "; SSH reachable (this read)", InventorySource);
            // A datastore is shared: its script is seen from hosts that have no key for it, which is normal until a plan uses the SSH method there.
            if (keys == 0) return new WaveFinding(SshCloneMethod, WaveStatus.Pass, evidence + ": the SSH clone method is not set up on this host (only plans that use it need it)", InventorySource);
            return new WaveFinding(SshCloneMethod, WaveStatus.Warn,
                evidence + ": a restricted key whose script is on no datastore of this host; the populator reports 'manual SSH key configuration required' or 'failed to connect via SSH'",
                InventorySource) { FixText = "Let MTV deploy the script and the key again (re-run the plan with the SSH method), or remove the stale key line" };
        }

        // ---- per host, through vCenter ----------------------------------------------------------

        public static WaveFinding MaxLun(HostLunState? state, WaveHostLoad load, WaveReadinessOptions options)
        {
            const string source = "vCenter: the host's OptionManager Disk.MaxLUN; config.storageDevice.scsiTopology";
            if (state?.MaxLun == null) return new WaveFinding(DiskMaxLun, WaveStatus.Unknown, state?.MaxLunProblem ?? "the host was not found in vCenter", source);
            var max = state.MaxLun.Value;
            var highest = state.HighestLun ?? -1;
            // One new LUN per disk cloned; arrays number them their own way (ONTAP from 0, Pure from 254 down), so an estimate.
            var needed = highest + load.Disks;
            var evidence = $"Disk.MaxLUN {max}; highest LUN number in use {(state.HighestLun?.ToString(CultureInfo.InvariantCulture) ?? "none")} ({state.LunCount} LUN path(s)); {load.Disks} new LUN(s) for this wave's disks: up to about {needed}";
            if (needed < max) return new WaveFinding(DiskMaxLun, WaveStatus.Pass, evidence, source);
            var set = Math.Min(16384, Math.Max(options.RecommendedMaxLun, needed + 1));
            return new WaveFinding(DiskMaxLun, WaveStatus.Fail, evidence + ": LUN numbers at or above Disk.MaxLUN stay invisible to the host (KB 342823)", source)
            {
                Next = NextCommand.SetDiskMaxLun,
                NextArgument = set.ToString(CultureInfo.InvariantCulture),
                FixText = $"or on the host: esxcli system settings advanced set -o /Disk/MaxLUN -i {set}; then rescan the storage adapters; a reboot is recommended",
            };
        }

        private static string Bytes(long b) =>
            b >= 1L << 30 ? (b / (double)(1L << 30)).ToString("0.#", CultureInfo.InvariantCulture) + " GiB"
            : b >= 1L << 20 ? (b / (double)(1L << 20)).ToString("0.#", CultureInfo.InvariantCulture) + " MiB"
            : (b / 1024.0).ToString("0.#", CultureInfo.InvariantCulture) + " KiB";

        private static string Quote(string value) => PowerShellQuote.Literal(value);
    }
}
