using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using MtvRemediation.Cbt;
using MtvRemediation.Cluster;
using MtvRemediation.Diagnosis;
using MtvRemediation.Esxi;
using MtvRemediation.HostLog;
using MtvRemediation.Infrastructure;
using MtvRemediation.Interop;
using MtvRemediation.VSphere;
using MtvRemediation.Wave;

namespace MtvRemediation.Commands
{
    /// <summary>
    /// Test-MtvWaveReadiness: before a migration wave, every host-side cause of failed copy-offload
    /// clones the sources name, checked read-only for the wave's VMs and the hosts that clone them.
    /// VMs come from -VM or from an MTV Plan (-Plan, as <c>oc get plan -o json</c> prints it). One
    /// vCenter read resolves the VMs, their CBT inspections share the datastore listings, the hosts'
    /// Disk.MaxLUN is one read plus one per host, and each host is read once over SSH (the space
    /// probe and one command for the inventory and the readiness facts), on up to -ThrottleLimit
    /// hosts at once. The rules are <see cref="WaveReadiness"/>'s.
    /// </summary>
    // ShouldProcess only for -StartSshService (it starts a host service); the checks themselves change nothing.
    [Cmdlet(VerbsDiagnostic.Test, "MtvWaveReadiness", DefaultParameterSetName = VMSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(WaveReadinessCheck))]
    public sealed class TestMtvWaveReadinessCommand : VSphereCmdlet, IDynamicParameters
    {
        private const string VMSet = "VM";
        private const string PlanSet = "Plan";

        private readonly HostFanOut _hosts;
        private readonly List<string> _planLines = new List<string>();

        public TestMtvWaveReadinessCommand()
        {
            _hosts = new HostFanOut(this);
        }

        /// <summary>-Credential, -KeyFilePath, -ThrottleLimit, -StartSshService, as on every host cmdlet.</summary>
        public object GetDynamicParameters() => _hosts.Parameters;

        /// <summary>VM names (wildcards allowed), PowerCLI VM objects, or MtvRemediation results.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ParameterSetName = VMSet)]
        [ValidateNotNullOrEmpty]
        [Alias("Name")]
        [ArgumentCompleter(typeof(VMCompleter))]
        public object[] VM { get; set; } = Array.Empty<object>();

        /// <summary>An MTV Plan (or a List of Plans) as JSON, as <c>oc get plan &lt;name&gt; -o json</c> prints it; lines are joined.</summary>
        [Parameter(Mandatory = true, ParameterSetName = PlanSet, ValueFromPipeline = true)]
        [AllowEmptyString]
        public string[] Plan { get; set; } = Array.Empty<string>();

        /// <summary>Check the VMs as a warm migration (a Plan says it itself with spec.warm).</summary>
        [Parameter(ParameterSetName = VMSet)]
        public SwitchParameter Warm { get; set; }

        /// <summary>The hostd-tmp memory limit to have before concurrent clones, in MB (forklift's example: 1024).</summary>
        [Parameter]
        [ValidateRange(WaveReadinessOptions.MinHostdTmpMemoryMB, WaveReadinessOptions.MaxHostdTmpMemoryMB)]
        public int HostdTmpMemoryMB { get; set; } = WaveReadinessOptions.DefaultHostdTmpMemoryMB;

        /// <summary>How long the wave clones, in hours: the wrapper log's growth is projected over it. Default 12.</summary>
        [Parameter]
        [ValidateRange(WaveReadinessOptions.MinWaveHours, WaveReadinessOptions.MaxWaveHours)]
        public double WaveHours { get; set; } = WaveReadinessOptions.DefaultWaveHours;

        /// <summary>Directory for the change board's HTML and JSON summary (mtv-wave-readiness-&lt;time&gt;.html/.json).</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? ReportPath { get; set; }

        // Every row, for the report (workers add; read on the pipeline thread after they ended).
        private readonly System.Collections.Concurrent.ConcurrentQueue<WaveReadinessCheck> _rows = new System.Collections.Concurrent.ConcurrentQueue<WaveReadinessCheck>();
        private readonly List<string> _planNames = new List<string>();
        private string? _reportDirectory;

        protected override void BeginProcessing()
        {
            if (ReportPath != null)
            {
                _reportDirectory = GetUnresolvedProviderPathFromPSPath(ReportPath);
                if (System.IO.File.Exists(_reportDirectory))
                    ThrowTerminatingError(new RemediationException(WaveErrorIds.InvalidReportPath, ErrorCategory.InvalidArgument,
                        $"-ReportPath '{ReportPath}' is a file; give a directory. Each run writes mtv-wave-readiness-<time>.html and .json there.").ToErrorRecord(ReportPath));
            }
            base.BeginProcessing();
        }

        protected override void ProcessRecord()
        {
            if (ParameterSetName == PlanSet) _planLines.AddRange(Plan);
            else foreach (var v in VM) AddVMInput(v);
        }

        protected override void EndProcessing()
        {
            var warmByInput = new Dictionary<VMInput, bool>();
            if (ParameterSetName == PlanSet) ReadPlans(warmByInput);
            var targets = ResolveTargets()
                .GroupBy(t => t.Connection.Server + "|" + t.Vm.MoRef).Select(g => g.First()).ToList();
            if (targets.Count == 0) return;

            var loads = new Dictionary<string, WaveHostLoad>(StringComparer.OrdinalIgnoreCase);
            foreach (var t in targets.Where(t => !string.IsNullOrEmpty(t.Vm.HostName)))
            {
                if (!loads.TryGetValue(t.Vm.HostName, out var load)) loads[t.Vm.HostName] = load = new WaveHostLoad(t.Vm.HostName);
                load.Vms++;
                load.Disks += t.Vm.Disks.Count;
            }

            var started = DateTime.UtcNow;
            // vCenter's part (the VMs' CBT state, the hosts' Disk.MaxLUN) runs beside the hosts' SSH
            // reads instead of before them: the wall time is the longer of the two, not their sum.
            var luns = System.Threading.Tasks.Task.Run(() => ReadLuns(targets, CancelToken));
            var vms = System.Threading.Tasks.Task.Run(() => CheckVmsAsync(targets, warmByInput, CancelToken));
            try
            {
                CheckHosts(loads, luns);
            }
            finally
            {
                // Written on the pipeline thread once the host fan-out is done (or stopped).
                try { System.Threading.Tasks.Task.WaitAll(luns, vms); }
                catch (AggregateException) when (CancelToken.IsCancellationRequested) { }
            }
            foreach (var e in luns.Result.Errors) WriteError(e);
            foreach (var (row, error) in vms.Result)
            {
                if (error != null) WriteError(error);
                if (row != null) { if (_reportDirectory != null) _rows.Enqueue(row); WriteObject(row); }
            }
            if (_reportDirectory != null) SaveReport(started, targets);
        }

        private void SaveReport(DateTime started, IReadOnlyList<VmTarget> targets)
        {
            var run = new WaveReadinessReport.Run { GeneratedAt = started };
            run.Servers.AddRange(targets.Select(t => t.Connection.Server).Distinct(StringComparer.OrdinalIgnoreCase));
            run.Plans.AddRange(_planNames);
            run.Rows.AddRange(_rows);
            try
            {
                var (html, json) = WaveReadinessReport.Save(run, _reportDirectory!);
                WriteVerbose($"Report: {html} and {json}.");
            }
            catch (Exception ex) when (ex is System.IO.IOException || ex is UnauthorizedAccessException)
            {
                WriteError(new RemediationException(WaveErrorIds.ReportFailed, ErrorCategory.WriteError,
                    $"The readiness report could not be written to '{_reportDirectory}': {ex.Message}", "Give a directory you can write to.", ex).ToErrorRecord(ReportPath));
            }
        }

        private void Emit(IOutputSink sink, WaveReadinessCheck row)
        {
            if (_reportDirectory != null) _rows.Enqueue(row);
            sink.WriteObject(row);
        }

        private void ReadPlans(Dictionary<VMInput, bool> warmByInput)
        {
            var skipped = new List<string>();
            List<MtvPlanSpec> plans;
            try { plans = MtvClusterObjects.ReadPlans(string.Join("\n", _planLines), skipped); }
            catch (FormatException ex)
            {
                // Nothing is checked for a document that is not JSON: a half-read plan would leave VMs out.
                ThrowTerminatingError(new ErrorRecord(ex, WrapperErrorIds.ClusterObjectInvalidJson, ErrorCategory.InvalidData, null)
                {
                    ErrorDetails = new ErrorDetails($"-Plan is not the JSON of an MTV Plan: {ex.Message} Pass the output of oc get plan <name> -o json (not -o yaml, not oc describe)."),
                });
                return;
            }
            foreach (var s in skipped) WriteVerbose("-Plan: skipped " + s);
            if (plans.Count == 0)
                ThrowTerminatingError(new ErrorRecord(new ArgumentException("-Plan holds no object of kind Plan."), WrapperErrorIds.ClusterObjectNotFound, ErrorCategory.ObjectNotFound, null)
                {
                    ErrorDetails = new ErrorDetails("-Plan holds no MTV Plan (kind Plan). Pass the output of oc get plan <name> -n <namespace> -o json."),
                });
            foreach (var p in plans)
            {
                WriteVerbose($"{p}: {p.Vms.Count} VM(s), {(p.Warm ? "warm" : "cold")}, source provider {p.SourceProvider ?? "?"}.");
                _planNames.Add($"{p} ({(p.Warm ? "warm" : "cold")})");
                foreach (var (id, name) in p.Vms)
                {
                    var input = VMInput.FromPlan(id, name, $"{p} VM {name ?? id}");
                    warmByInput[input] = p.Warm;
                    AddVMInput(input);
                }
            }
        }

        // Every VM's CBT inspection at once: the shared reads coalesce the folder listings and state
        // reads of the VMs that ask together into one request per datastore and vCenter, so the more
        // ask at once, the fewer requests (a throttle of 16 made 200 VMs 13 rounds of listings).
        // Bounded only so that one call never holds thousands of waits. Rows and errors come back in
        // the VMs' order.
        private const int VmInspectionsAtOnce = 512;

        private async System.Threading.Tasks.Task<List<(WaveReadinessCheck? Row, ErrorRecord? Error)>> CheckVmsAsync(
            IReadOnlyList<VmTarget> targets, Dictionary<VMInput, bool> warmByInput, System.Threading.CancellationToken ct)
        {
            var cbt = new ChangeTrackingRun();
            using var gate = new System.Threading.SemaphoreSlim(VmInspectionsAtOnce);
            var perVm = targets.Select(async t =>
            {
                var options = Options(warmByInput.TryGetValue(t.Input, out var w) ? w : Warm.IsPresent);
                var rows = new List<(WaveReadinessCheck?, ErrorRecord?)>();
                await gate.WaitAsync(ct).ConfigureAwait(false);
                try
                {
                    var inspection = await cbt.InspectAsync(t.Connection.Client, t.Vm, ct).ConfigureAwait(false);
                    foreach (var f in WaveReadiness.VmChecks(inspection, options)) rows.Add((VmRow(f, t), null));
                }
                catch (Exception ex) when (ex is VimFaultException || ex is VimTransportException || ex is TimeoutException)
                {
                    rows.Add((null, ErrorFor(ex, t.Input.Original, t.Connection)));
                    foreach (var f in WaveReadiness.VmUnreadable(ex.Message, options)) rows.Add((VmRow(f, t), null));
                }
                finally { gate.Release(); }
                return rows;
            }).ToList();
            var all = await System.Threading.Tasks.Task.WhenAll(perVm).ConfigureAwait(false);
            return all.SelectMany(r => r).ToList();
        }

        // Disk.MaxLUN of every host of the wave, per vCenter (a handful of round trips); errors are written by the caller.
        private (Dictionary<string, (HostLunState? State, string Server)> Luns, List<ErrorRecord> Errors) ReadLuns(IReadOnlyList<VmTarget> targets, System.Threading.CancellationToken ct)
        {
            var result = new Dictionary<string, (HostLunState?, string)>(StringComparer.OrdinalIgnoreCase);
            var errors = new List<ErrorRecord>();
            foreach (var byConnection in targets.Where(t => !string.IsNullOrEmpty(t.Vm.HostName)).GroupBy(t => t.Connection))
            {
                var conn = byConnection.Key;
                var hosts = byConnection.GroupBy(t => t.Vm.Host).ToDictionary(g => g.Key, g => g.First().Vm.HostName);
                try
                {
                    foreach (var s in HostLunSettings.ReadAsync(conn.Client.Soap, hosts.Keys.ToList(), ct).GetAwaiter().GetResult())
                        result[hosts[s.Host]] = (s, conn.Server);
                }
                catch (Exception ex) when (ex is VimFaultException || ex is VimTransportException || ex is TimeoutException)
                {
                    errors.Add(VIErrors.FromException(ex, conn, conn.Server));
                    foreach (var h in hosts.Values) result[h] = (null, conn.Server);
                }
            }
            return (result, errors);
        }

        private void CheckHosts(Dictionary<string, WaveHostLoad> loads, System.Threading.Tasks.Task<(Dictionary<string, (HostLunState? State, string Server)> Luns, List<ErrorRecord> Errors)> lunsRead)
        {
            // A host's rows wait for vCenter's LUN read (started before the fan-out, usually done by then).
            Dictionary<string, (HostLunState? State, string Server)> Luns() => lunsRead.GetAwaiter().GetResult().Luns;
            var options = Options(false);
            var request = new HostDiagnosisRequest { Space = new LogSpaceOptions(), Readiness = true };
            var hosts = loads.Keys.Select(h => new HostTarget(h, h)).ToList();
            try
            {
                _hosts.Run(hosts, "Checking the wave's hosts", (target, shell, sink, ct) =>
                {
                    var load = loads[target.Name];
                    var read = HostDiagnosisReader.Read(shell, request, ct);
                    var luns = Luns();
                    foreach (var f in WaveReadiness.HostChecks(read, load, options)) Emit(sink, HostRow(f, target.Name, luns));
                    Emit(sink, HostRow(WaveReadiness.MaxLun(LunOf(luns, target.Name), load, options), target.Name, luns));
                },
                onFailure: (target, error, sink) =>
                {
                    // No shell: the host's SSH checks are Unknown with the reason, never a Pass; vCenter's still count.
                    var luns = Luns();
                    foreach (var f in WaveReadiness.HostUnreadable(error)) Emit(sink, HostRow(f, target.Name, luns));
                    Emit(sink, HostRow(WaveReadiness.MaxLun(LunOf(luns, target.Name), loads[target.Name], options), target.Name, luns));
                });
            }
            finally
            {
                _hosts.EndSshOnDemand();
            }
        }

        private WaveReadinessOptions Options(bool warm) => new WaveReadinessOptions { Warm = warm, HostdTmpMemoryMB = HostdTmpMemoryMB, WaveHours = WaveHours };

        private static HostLunState? LunOf(Dictionary<string, (HostLunState? State, string Server)> luns, string host) =>
            luns.TryGetValue(host, out var l) ? l.State : null;

        private static WaveReadinessCheck VmRow(WaveFinding f, VmTarget t) => new WaveReadinessCheck
        {
            Check = f.Check, TargetType = "VM", Target = t.Vm.Name, Status = f.Status.ToString(), Evidence = f.Evidence, Source = f.Source,
            Fix = Fix(f.Next == NextCommand.None ? null : ErrorRecords.VMCommandLine(f.Next, t.Vm.Name, t.Connection.Server), null, f.FixText),
            VMHost = t.Vm.HostName, VM = t.Vm.Name, VMId = "VirtualMachine-" + t.Vm.MoRef.Value, Server = t.Connection.Server,
        };

        private static WaveReadinessCheck HostRow(WaveFinding f, string host, Dictionary<string, (HostLunState? State, string Server)> luns) => new WaveReadinessCheck
        {
            Check = f.Check, TargetType = "VMHost", Target = host, Status = f.Status.ToString(), Evidence = f.Evidence, Source = f.Source,
            Fix = Fix(ErrorRecords.HostCommandLine(f.Next, host, f.NextArgument), ErrorRecords.HostCommandLine(f.ThenNext, host, f.ThenArgument), f.FixText),
            VMHost = host, Server = luns.TryGetValue(host, out var l) ? l.Server : "",
        };

        private static string Fix(string? command, string? then, string? text) =>
            string.Join("; ", new[] { command, then, text }.Where(s => !string.IsNullOrEmpty(s)));
    }
}
