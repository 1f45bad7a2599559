using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Threading;
using MtvRemediation.Esxi;
using MtvRemediation.Infrastructure;
using MtvRemediation.Interop;
using MtvRemediation.Remediation;
using MtvRemediation.VSphere;

namespace MtvRemediation.Commands
{
    /// <summary>
    /// Invoke-MtvRemediation: the whole runbook for the VMs to migrate. Diagnose (hosts' log space
    /// and wrapper logs, VMs' CBT), plan, confirm action by action, act (free /var, rotation job,
    /// CBT resets, agent restarts when asked), verify, and return one summary per host and per VM.
    /// The phases and their order live in <see cref="RunbookEngine"/>.
    /// </summary>
    [Cmdlet(VerbsLifecycle.Invoke, "MtvRemediation", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
    [OutputType(typeof(RemediationHostSummary), typeof(RemediationVMSummary))]
    public sealed class InvokeMtvRemediationCommand : VMCmdlet
    {
        /// <summary>Opens ESXi shell sessions on demand for hosts without one.</summary>
        [Parameter]
        [Credential]
        public PSCredential? Credential { get; set; }

        /// <summary>Private key file for hosts without a session.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? KeyFilePath { get; set; }

        /// <summary>Allow shutting powered-on VMs down for their CBT reset; they are powered on again afterwards.</summary>
        [Parameter]
        public SwitchParameter PowerOff { get; set; }

        /// <summary>Allow a hard power-off when VMware Tools is not running or the guest shutdown times out.</summary>
        [Parameter]
        public SwitchParameter Force { get; set; }

        /// <summary>Register the temporary log rotation cron job on the hosts.</summary>
        [Parameter]
        public SwitchParameter RegisterLogRotation { get; set; }

        /// <summary>Restart hostd and vpxa on the hosts, after everything else.</summary>
        [Parameter]
        public SwitchParameter RestartAgents { get; set; }

        /// <summary>Directory for the HTML and JSON report and the log archives.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? ReportPath { get; set; }

        /// <summary>Hosts (and VMs) worked on at once.</summary>
        [Parameter]
        [ValidateRange(1, 256)]
        public int ThrottleLimit { get; set; } = 8;

        [Parameter]
        [ValidateRange(0, 86400)]
        public int ShutdownTimeoutSeconds { get; set; } = 300;

        private string? _reportDirectory;

        protected override void BeginProcessing()
        {
            if (ReportPath != null)
            {
                _reportDirectory = GetUnresolvedProviderPathFromPSPath(ReportPath);
                if (File.Exists(_reportDirectory))
                {
                    ThrowTerminatingError(new ErrorRecord(new ArgumentException($"-ReportPath '{ReportPath}' is a file."), "RunbookInvalidReportPath", ErrorCategory.InvalidArgument, ReportPath)
                    {
                        ErrorDetails = new ErrorDetails($"-ReportPath '{ReportPath}' is a file; give a directory. Each run writes mtv-remediation-<time>.html and .json and the log archives there."),
                    });
                }
            }
            base.BeginProcessing();
        }

        protected override void EndProcessing()
        {
            var targets = ResolveTargets();
            if (targets.Count == 0) return;
            var whatIf = IsWhatIf();
            var stamp = DateTime.UtcNow;
            var options = new RunbookOptions
            {
                PowerOff = PowerOff,
                Force = Force,
                RegisterLogRotation = RegisterLogRotation,
                RestartAgents = RestartAgents,
                ArchiveDirectory = _reportDirectory,
                RunStamp = stamp,
                ShutdownTimeout = TimeSpan.FromSeconds(ShutdownTimeoutSeconds),
                // Read on the pipeline thread; used by the workers that restart agents.
                VCenterState = RestartAgents ? HostConnectionStateSources.Current() : null,
            };

            var vms = new List<RunbookVmState>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var t in targets)
            {
                // The same VM twice (name and object) is remediated once.
                if (!seen.Add(t.Connection.Server + "|" + t.Vm.MoRef)) continue;
                var vm = new RunbookVmState(t.Connection.Client, t.Connection.Server, t.Vm, t.Input.Original);
                if (string.IsNullOrEmpty(t.Vm.HostName))
                    vm.Fail(new RunbookError(RunbookErrorIds.VMHostUnknown, ErrorCategory.ObjectNotFound,
                        $"vCenter reports no host for VM '{t.Vm.Name}'; its host's log space cannot be checked. Its CBT is still handled.",
                        "Check the VM's host in vCenter."));
                vms.Add(vm);
            }
            var hosts = RunbookEngine.GroupByHost(vms);
            var hostOf = new Dictionary<RunbookVmState, RunbookHostState>();
            foreach (var h in hosts) foreach (var v in h.VMs) hostOf[v] = h;

            // 1. Diagnose (read-only; also under -WhatIf, which needs the sizes and files to show the plan).
            var resolver = EsxiShellResolver.ForCurrentRunspace();
            var keyFile = KeyFilePath == null ? null : GetUnresolvedProviderPathFromPSPath(KeyFilePath);
            var credential = Credential;
            ThreadPoolTuning.EnsureMinThreads(Math.Min(ThrottleLimit, hosts.Count + vms.Count));
            var diagnose = hosts.Select(h => new WorkItem(h.Name, h, (sink, ct) => DiagnoseHost(h, resolver, credential, keyFile, options, ct)))
                .Concat(vms.Select(v => new WorkItem(v.Vm.Name, v, (sink, ct) => DiagnoseVm(v, ct))))
                .ToList();
            Run(diagnose, "Diagnosing hosts and VMs");

            // 2. Plan, and ask (pipeline thread). Each action is its own ShouldProcess: -WhatIf prints the full plan.
            foreach (var h in hosts) RunbookEngine.PlanHost(h, options);
            foreach (var v in vms) RunbookEngine.PlanVm(v, hostOf.TryGetValue(v, out var hh) ? hh : null, options);
            WriteDiagnosis(hosts, vms);
            foreach (var v in vms) WriteNewErrors(v, v.Input);
            ConfirmHostActions(hosts, options);
            foreach (var v in vms)
            {
                if (v.ResetPlan == null || v.Refused) continue;
                v.ResetApproved = ShouldProcess($"VM '{v.Vm.Name}' on {v.Vm.HostName} ({v.Server})",
                    RunbookEngine.DescribeReset(v) + " (because " + v.ResetReason + ")");
                if (!v.ResetApproved) v.AllConfirmed = false;
            }
            // The report was asked for with -ReportPath: no second confirmation; -WhatIf only names it.
            if (whatIf && _reportDirectory != null) ShouldProcess(_reportDirectory, "Write the remediation report (HTML and JSON) and the log archives");

            if (!whatIf)
            {
                // 3. Hosts first: free /var so clones and ESXi can write, and register the rotation job.
                var hostWork = hosts.Where(h => h.Shell != null && (h.ClearLog || h.RegisterCron))
                    .Select(h => new WorkItem(h.Name, h, (sink, ct) => RunbookEngine.RemediateHost(h, options, ct, sink.WriteVerbose))).ToList();
                Run(hostWork, "Freeing /var and registering log rotation");

                // 4. CBT resets (power operations included).
                //    One shared state check per vCenter, as in Reset-VMChangeTracking.
                var approvedVms = vms.Where(v => v.ResetApproved).ToList();
                var prechecks = approvedVms.GroupBy(v => v.Client).ToDictionary(g => g.Key,
                    g => new VmStateSnapshot(g.Key, g.Select(v => v.Vm.MoRef), VmStateSnapshot.DefaultMaxAge));
                var resets = approvedVms
                    .Select(v => new WorkItem(v.Vm.Name, v, (sink, ct) => RunbookEngine.ResetVm(v, ct, prechecks[v.Client]))).ToList();
                Run(resets, "Resetting CBT");

                // 5. Agents last, only when asked: a hostd restart would interrupt the resets' tasks.
                var restarts = hosts.Where(h => h.Shell != null && h.RestartAgents)
                    .Select(h => new WorkItem(h.Name, h, (sink, ct) => RunbookEngine.RestartAgents(h, options, ct, sink.WriteVerbose))).ToList();
                Run(restarts, "Restarting management agents");

                // 6. Verify: the state read again, not what we believe we did.
                var verify = hosts.Where(h => h.Shell != null)
                    .Select(h => new WorkItem(h.Name, h, (sink, ct) => RunbookEngine.VerifyHost(h, options, ct)))
                    .Concat(vms.Where(v => v.Before != null).GroupBy(v => v.Client)
                        .Select(g => new WorkItem(g.First().Server, g.ToList<RunbookItemState>(), (sink, ct) => VerifyVms(g.Key, g.ToList(), ct))))
                    .ToList();
                Run(verify, "Verifying");
            }

            var hostSummaries = hosts.Select(h => RunbookEngine.SummarizeHost(h, whatIf)).ToList();
            var vmSummaries = vms.Select(v => RunbookEngine.SummarizeVm(v, whatIf)).ToList();
            // The report first, so every row can say where it is.
            if (_reportDirectory != null && !whatIf)
                WriteReport(hostSummaries, vmSummaries, stamp, targets.Select(t => t.Connection.Server).Distinct(StringComparer.OrdinalIgnoreCase).ToList());
            foreach (var s in hostSummaries) WriteObject(s);
            foreach (var s in vmSummaries) WriteObject(s);
        }

        /// <summary>The run's parameters for the report: effective values, VMs as a count, a credential as its user name only.</summary>
        private List<string> DescribeParameters(int vmCount)
        {
            var list = new List<string> { $"VM: {vmCount} VM(s)" };
            foreach (var p in MyInvocation.MyCommand.Parameters.Values.OrderBy(p => p.Name, StringComparer.Ordinal))
            {
                if (p.Name == nameof(VM) || Cmdlet.CommonParameters.Contains(p.Name) || Cmdlet.OptionalCommonParameters.Contains(p.Name)) continue;
                var value = GetType().GetProperty(p.Name)?.GetValue(this);
                string text;
                if (value is PSCredential c) text = "user " + c.UserName;
                else if (value is SwitchParameter sw) text = sw.IsPresent ? "True" : "False";
                else if (value is object[] items) text = string.Join(", ", items.Select(i => PSObjectProperties.Unwrap(i)?.ToString()));
                else if (value == null) continue;
                else text = Convert.ToString(value, CultureInfo.InvariantCulture) ?? "";
                list.Add($"{p.Name}: {text}");
            }
            return list;
        }

        private bool IsWhatIf()
        {
            if (MyInvocation.BoundParameters.TryGetValue("WhatIf", out var w)) return w is SwitchParameter sp ? sp.IsPresent : LanguagePrimitives.IsTrue(w);
            return LanguagePrimitives.IsTrue(GetVariableValue("WhatIfPreference"));
        }

        private void ConfirmHostActions(List<RunbookHostState> hosts, RunbookOptions options)
        {
            foreach (var h in hosts)
            {
                if (h.ClearLog && !ShouldProcess(h.Name, RunbookEngine.DescribeClear(h, options))) { h.ClearLog = false; h.AllConfirmed = false; }
                if (h.RegisterCron && !ShouldProcess(h.Name, RunbookEngine.DescribeCron(h, options))) { h.RegisterCron = false; h.AllConfirmed = false; }
                if (h.RestartAgents)
                {
                    // The same vSAN/LACP check as Restart-EsxiAgents, read during the diagnosis.
                    if (h.AgentRisk?.Risky == true)
                        WriteWarning($"{h.Name} is a vSAN host with LACP: restarting its management agents can affect running vSAN tasks. Restart only in a maintenance window, one host at a time.");
                    else if (h.AgentRisk == null || h.AgentRisk.Unknown)
                        WriteWarning($"{h.Name}: could not tell whether it uses vSAN with LACP; restarting its agents then can affect running vSAN tasks.");
                    if (!ShouldProcess(h.Name, RunbookEngine.DescribeAgents(options))) { h.RestartAgents = false; h.AllConfirmed = false; }
                }
            }
        }

        /// <summary>The diagnosis, as verbose lines (the summaries carry it too).</summary>
        private void WriteDiagnosis(List<RunbookHostState> hosts, List<RunbookVmState> vms)
        {
            foreach (var h in hosts)
            {
                var b = h.Before;
                if (b != null)
                    WriteVerbose($"{h.Name}: {b.VolumePath} {b.UsedPercent.ToString("0.#", CultureInfo.InvariantCulture)}% used ({b.Status}), wrapper log {RunbookEngine.FormatBytes(b.LogSizeBytes)}; {h.Findings.Count(f => f.Signature != CloneFailureSignatures.XcopyNotUsed)} clone-failure line(s).");
                foreach (var p in h.Plan) WriteVerbose($"{h.Name}: plan: {p}");
            }
            foreach (var v in vms)
            {
                if (v.Before != null) WriteVerbose($"{v.Vm.Name}: {v.Before.PowerState}, CBT {(v.Before.Enabled ? "enabled" : "disabled")}, {(v.Before.Healthy ? "healthy" : "unhealthy: " + v.Before.Reason)}.");
                foreach (var p in v.Plan) WriteVerbose($"{v.Vm.Name}: plan: {p}");
            }
        }

        private void DiagnoseHost(RunbookHostState host, EsxiShellResolver resolver, PSCredential? credential, string? keyFile, RunbookOptions options, CancellationToken ct)
        {
            IEsxiShell shell;
            try
            {
                shell = resolver.Resolve(VMHostInput.GetTarget(host.Name), credential, keyFile, new ConnectOptions(), ct);
            }
            catch (EsxiShellException ex)
            {
                host.Fail(new RunbookError(RunbookErrorIds.HostUnreachable, ex.Category,
                    $"{ex.Message} Host '{host.Name}' is skipped (its VMs' CBT is still handled).", null, ex));
                return;
            }
            try
            {
                RunbookEngine.DiagnoseHost(host, shell, options, ct);
            }
            catch (Exception ex) when (ex is EsxiShellException || ex is TimeoutException)
            {
                host.Fail(new RunbookError(RunbookErrorIds.HostDiagnosisFailed, ErrorCategory.ReadError,
                    $"Diagnosing '{host.Name}' failed: {ex.Message} The host is skipped.", "Check the host with Test-VmkfstoolsLogSpace, then run again.", ex));
                host.Shell = null;
            }
        }

        private static void DiagnoseVm(RunbookVmState vm, CancellationToken ct)
        {
            try
            {
                RunbookEngine.DiagnoseVm(vm, ct);
            }
            catch (Exception ex) when (ex is VimFaultException || ex is VimTransportException || ex is TimeoutException)
            {
                vm.Fail(new RunbookError(RunbookErrorIds.VMDiagnosisFailed, ErrorCategory.ReadError,
                    $"Reading the CBT state of VM '{vm.Vm.Name}' failed: {ex.Message} The VM is skipped.", "Check with Get-VMChangeTracking, then run again.", ex));
            }
        }

        private static void VerifyVms(IVSphereClient client, List<RunbookVmState> vms, CancellationToken ct)
        {
            try
            {
                RunbookEngine.VerifyVms(client, vms, ct);
            }
            catch (Exception ex) when (ex is VimFaultException || ex is VimTransportException || ex is TimeoutException)
            {
                foreach (var v in vms.Where(v => v.After == null))
                    v.Fail(new RunbookError(RunbookErrorIds.VerifyFailed, ErrorCategory.ReadError,
                        $"Re-reading the CBT state of VM '{v.Vm.Name}' failed: {ex.Message}", "Check with Get-VMChangeTracking.", ex));
            }
        }

        private void WriteReport(List<RemediationHostSummary> hosts, List<RemediationVMSummary> vms, DateTime stamp, List<string> servers)
        {
            var name = "mtv-remediation-" + LogClearEngine.FileStamp(stamp);
            var html = Path.Combine(_reportDirectory!, name + ".html");
            var json = Path.Combine(_reportDirectory!, name + ".json");
            try
            {
                Directory.CreateDirectory(_reportDirectory!);
                RemediationReportWriter.Save(RunbookEngine.BuildReport(hosts, vms, stamp, servers, DescribeParameters(vms.Count)), html, json);
                foreach (var s in hosts.Cast<RemediationSummary>().Concat(vms)) { s.ReportFile = html; s.JsonReportFile = json; }
                WriteVerbose($"Report written: {html} and {json}");
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
            {
                WriteError(new ErrorRecord(ex, RunbookErrorIds.ReportFailed, ErrorCategory.WriteError, _reportDirectory)
                {
                    ErrorDetails = new ErrorDetails($"Writing the report to '{_reportDirectory}' failed: {ex.Message} The remediation itself is done; the summaries above are its record."),
                });
            }
        }

        /// <summary>Runs the items of one phase in parallel, then writes the errors they met (target: the VM's input, or the host name).</summary>
        private void Run(List<WorkItem> items, string activity)
        {
            if (items.Count == 0) return;
            RunParallel(items, ThrottleLimit, activity, i => i.Label, (item, sink, ct) =>
            {
                try
                {
                    item.Work(sink, ct);
                }
                finally
                {
                    foreach (var state in item.States) WriteErrorsTo(sink, state, TargetOf(state));
                }
            });
        }

        private static object? TargetOf(RunbookItemState state) => state is RunbookVmState v ? v.Input : ((RunbookHostState)state).Name;

        private void WriteNewErrors(RunbookItemState state, object? target)
        {
            foreach (var e in state.TakeNewErrors()) WriteError(ToRecord(e, target));
        }

        private static void WriteErrorsTo(IOutputSink sink, RunbookItemState state, object? target)
        {
            foreach (var e in state.TakeNewErrors()) sink.WriteError(ToRecord(e, target));
        }

        private static ErrorRecord ToRecord(RunbookError e, object? target)
        {
            var record = new ErrorRecord(e.Exception ?? new InvalidOperationException(e.Message), e.ErrorId, e.Category, target);
            record.ErrorDetails = new ErrorDetails(e.Message) { RecommendedAction = e.RecommendedAction ?? string.Empty };
            return record;
        }

        private sealed class WorkItem
        {
            public WorkItem(string label, RunbookItemState state, Action<IOutputSink, CancellationToken> work)
                : this(label, new[] { state }, work) { }

            public WorkItem(string label, IReadOnlyList<RunbookItemState> states, Action<IOutputSink, CancellationToken> work)
            {
                Label = label;
                States = states;
                Work = work;
            }

            public string Label { get; }
            public IReadOnlyList<RunbookItemState> States { get; }
            public Action<IOutputSink, CancellationToken> Work { get; }
        }
    }
}
