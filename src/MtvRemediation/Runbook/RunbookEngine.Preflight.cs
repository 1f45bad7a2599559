using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Management.Automation;
using System.Threading;
using MtvRemediation.Esxi;
using MtvRemediation.Infrastructure;
using MtvRemediation.VSphere;
using MtvRemediation.Wave;
using MtvRemediation.Wrapper;

namespace MtvRemediation.Runbook
{
    /// <summary>The wave readiness fixes one host gets from -Preflight, as planned and confirmed.</summary>
    internal sealed class HostPreflight
    {
        /// <summary>Disk.MaxLUN as vCenter reported it, and the SOAP session that reads and sets it.</summary>
        public HostLunState? Luns { get; set; }
        public VimSoapClient? LunSoap { get; set; }

        /// <summary>The hostd-tmp memory max to raise to, in KB (null: no raise).</summary>
        public long? HostdTmpMaxKB { get; set; }

        /// <summary>The Disk.MaxLUN change and its value (null: none).</summary>
        public DiskMaxLunChange? MaxLun { get; set; }
        public int MaxLunValue { get; set; }

        public bool HasWork => HostdTmpMaxKB != null || MaxLun != null;
    }

    internal static partial class RunbookEngine
    {
        /// <summary>
        /// -Preflight, read-only (phase 1, beside the hosts' reads): Disk.MaxLUN of the run's hosts,
        /// one read per vCenter. A vCenter that cannot be read fails its hosts' preflight, not the run.
        /// </summary>
        public static IEnumerable<RunbookWork> PreflightReads(IReadOnlyList<RunbookHostState> hosts, RunbookOptions options)
        {
            if (!options.Preflight) yield break;
            foreach (var byServer in hosts.Where(h => h.VMs.Count > 0).GroupBy(h => h.VMs[0].Server, StringComparer.OrdinalIgnoreCase))
            {
                var list = byServer.ToList();
                yield return new RunbookWork(byServer.Key + " Disk.MaxLUN", list.ToList<RunbookItemState>(), (verbose, ct) => ReadLuns(byServer.Key, list, options, ct));
            }
        }

        private static void ReadLuns(string server, List<RunbookHostState> hosts, RunbookOptions options, CancellationToken ct)
        {
            options.VCenters.TryGetValue(server, out var soap);
            try
            {
                if (soap == null) throw new VimTransportException($"no session to {server} was given to the run");
                var byRef = hosts.GroupBy(h => h.VMs[0].Vm.Host).ToDictionary(g => g.Key, g => g.ToList());
                foreach (var s in HostLunSettings.ReadAsync(soap, byRef.Keys.ToList(), ct).GetAwaiter().GetResult())
                    foreach (var h in byRef[s.Host]) { h.Preflight.Luns = s; h.Preflight.LunSoap = soap; }
            }
            catch (Exception ex) when (ex is VimFaultException || ex is VimTransportException || ex is TimeoutException)
            {
                foreach (var h in hosts)
                    h.Fail(WaveErrorIds.DiskMaxLunUnreadable, ErrorCategory.ReadError,
                        $"{h.Name}: Disk.MaxLUN could not be read through {server} ({ex.Message}); it is not changed.", null, ex);
            }
        }

        /// <summary>
        /// -Preflight: the readiness fixes of the host, decided by the readiness rules themselves
        /// (<see cref="WaveReadiness"/>, on this run's own diagnosis and the VMs given) and added to
        /// its plan: the rotation job where the wrapper log's growth asks for it (sized as the rule
        /// says), the hostd-tmp raise, Disk.MaxLUN, and the agent restart where hostd has not loaded
        /// the wrapper VIB since it was installed. The log clear is the runbook's own rule.
        /// </summary>
        public static void PlanPreflight(RunbookHostState host, RunbookOptions options)
        {
            var load = new WaveHostLoad(host.Name) { Vms = host.VMs.Count, Disks = host.VMs.Sum(v => v.Vm.Disks.Count) };
            var p = host.Preflight;
            p.HostdTmpMaxKB = null;
            p.MaxLun = null;
            if (host.Shell != null && host.Diagnosis != null)
            {
                foreach (var f in WaveReadiness.HostChecks(host.Diagnosis, load, options.Wave))
                {
                    if (f.Check == WaveReadiness.WrapperLogSpace && (f.Next == NextCommand.RegisterLogRotation || f.ThenNext == NextCommand.RegisterLogRotation)
                        && !host.RegisterCron && host.CronRegisteredBefore == false && Applies(host, options.LogSpace.LogPath, WrapperLogAction.RegisterRotation))
                    {
                        var interval = f.Next == NextCommand.RegisterLogRotation ? f.NextArgument : f.ThenArgument;
                        host.CronIntervalMinutes = interval == null ? (int?)null : int.Parse(interval, CultureInfo.InvariantCulture);
                        host.RegisterCron = true;
                        host.Plan.Add(DescribeCron(host, options) + " (the wave's log growth: " + f.Evidence + ")");
                    }
                    else if (f.Next == NextCommand.SetHostdTmpMemory)
                    {
                        p.HostdTmpMaxKB = long.Parse(f.NextArgument!, CultureInfo.InvariantCulture) * 1024;
                        host.Plan.Add(DescribeHostdTmp(host));
                    }
                    else if (f.Check == WaveReadiness.HostdRestartAfterVib && f.Next == NextCommand.RestartAgents && !host.RestartAgents)
                    {
                        host.RestartAgents = true;
                        host.Plan.Add(DescribeAgents(options) + ", so that hostd loads the wrapper VIB's esxcli plugin (" + f.Evidence + ")");
                    }
                }
            }
            if (p.Luns == null) return;
            var lun = WaveReadiness.MaxLun(p.Luns, load, options.Wave);
            if (lun.Next != NextCommand.SetDiskMaxLun) return;
            var value = int.Parse(lun.NextArgument!, CultureInfo.InvariantCulture);
            try
            {
                var change = DiskMaxLun.Check(host.Name, host.VMs[0].Server, p.Luns, value);
                if (change.Note != null) return; // already set
                p.MaxLun = change;
                p.MaxLunValue = value;
                host.Plan.Add(DiskMaxLun.Describe(change, value));
            }
            catch (RemediationException ex)
            {
                host.Fail(ex);
            }
        }

        public static string DescribeHostdTmp(RunbookHostState host) =>
            $"Raise the hostd-tmp resource group's memory max to {host.Preflight.HostdTmpMaxKB / 1024} MB at runtime (vsish; lost at reboot) for {host.VMs.Sum(v => v.Vm.Disks.Count)} concurrent clone(s), keeping the value before it in {HostdTmpMemory.RecordPath} on the host to put back after the wave";

        /// <summary>Phase 2, -Preflight: the hostd-tmp raise and Disk.MaxLUN, through the operations of Set-EsxiHostdTmpMemory and Set-EsxiDiskMaxLun.</summary>
        private static void PrepareForWave(RunbookHostState host, CancellationToken ct)
        {
            var p = host.Preflight;
            if (p.HostdTmpMaxKB is long kb && host.Shell != null)
            {
                try
                {
                    var c = HostdTmpMemory.RaiseTo(host.Shell, host.Name, kb, ct);
                    host.AddAction(c.Changed
                        ? $"Raised the hostd-tmp memory max (group {c.Group}) from {c.PreviousMaxKB} KB to {c.MaxKB} KB at runtime; {c.RecordedMaxKB} KB is kept on the host to put back after the wave"
                        : $"hostd-tmp memory max: {c.Note}");
                }
                catch (RemediationException ex)
                {
                    host.Fail(ex);
                }
            }
            if (p.MaxLun != null && p.Luns != null && p.LunSoap != null)
            {
                try
                {
                    DiskMaxLun.ApplyAsync(p.LunSoap, p.Luns, p.MaxLun, p.MaxLunValue, ct).GetAwaiter().GetResult();
                    host.AddAction($"Set Disk.MaxLUN from {p.MaxLun.PreviousValue} to {p.MaxLun.Value} through vCenter {p.MaxLun.Server}; {p.MaxLun.Note}");
                }
                catch (Exception ex) when (ex is VimFaultException || ex is VimTransportException || ex is TimeoutException)
                {
                    host.Fail(WaveErrorIds.DiskMaxLunChangeFailed, ErrorCategory.WriteError,
                        $"{host.Name}: setting Disk.MaxLUN through {p.MaxLun.Server} failed: {ex.Message}", "Read Disk.MaxLUN in vCenter (host > Configure > Advanced System Settings) and set it there.", ex);
                }
            }
        }
    }
}
