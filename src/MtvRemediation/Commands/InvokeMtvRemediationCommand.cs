using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Threading;
using MtvRemediation.Agents;
using MtvRemediation.Esxi;
using MtvRemediation.Infrastructure;
using MtvRemediation.Interop;
using MtvRemediation.Runbook;
using MtvRemediation.VSphere;
using MtvRemediation.Wave;

namespace MtvRemediation.Commands
{
    /// <summary>
    /// Invoke-MtvRemediation: the whole runbook for the VMs to migrate. Diagnose (hosts' log space
    /// and wrapper logs, VMs' CBT), plan, confirm the whole plan once, act (free /var, rotation job,
    /// CBT resets, agent restarts when asked), verify, and return one summary per host and per VM.
    /// The phases, their order, the confirmation points and the outcomes live in
    /// <see cref="RunbookEngine.Run"/>; this cmdlet binds parameters and is the engine's
    /// <see cref="IRunbookHost"/> (ShouldProcess, the shared parallel runner, the host fan-out's
    /// shells, the pipeline).
    /// </summary>
    [Cmdlet(VerbsLifecycle.Invoke, "MtvRemediation", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
    [OutputType(typeof(RemediationHostSummary), typeof(RemediationVMSummary))]
    public sealed class InvokeMtvRemediationCommand : VMCmdlet, IDynamicParameters
    {
        private readonly HostFanOut _hosts;

        public InvokeMtvRemediationCommand()
        {
            _hosts = new HostFanOut(this);
        }

        /// <summary>-Credential, -KeyFilePath, -ThrottleLimit (hosts and VMs worked on at once), as on every host cmdlet.</summary>
        public object GetDynamicParameters() => _hosts.Parameters;

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

        /// <summary>
        /// Before the wave: also apply the readiness fixes Test-MtvWaveReadiness names for the hosts
        /// (rotation job, hostd-tmp raise, Disk.MaxLUN, agent restart where hostd has not loaded the
        /// wrapper VIB), through the operations of the single cmdlets.
        /// </summary>
        [Parameter]
        public SwitchParameter Preflight { get; set; }

        /// <summary>-Preflight: the hostd-tmp memory limit to have before concurrent clones, in MB (as Test-MtvWaveReadiness).</summary>
        [Parameter]
        [ValidateRange(WaveReadinessOptions.MinHostdTmpMemoryMB, WaveReadinessOptions.MaxHostdTmpMemoryMB)]
        public int HostdTmpMemoryMB { get; set; } = WaveReadinessOptions.DefaultHostdTmpMemoryMB;

        /// <summary>-Preflight: how long the wave clones, in hours; the wrapper log's growth is projected over it (as Test-MtvWaveReadiness).</summary>
        [Parameter]
        [ValidateRange(WaveReadinessOptions.MinWaveHours, WaveReadinessOptions.MaxWaveHours)]
        public double WaveHours { get; set; } = WaveReadinessOptions.DefaultWaveHours;

        /// <summary>Directory for the HTML and JSON report and the log archives.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? ReportPath { get; set; }

        [Parameter]
        [ValidateRange(0, 86400)]
        public int ShutdownTimeoutSeconds { get; set; } = 300;

        /// <summary>The downtime limit: at most this many running VMs of one host are powered off at the same time for their CBT reset (the others wait their turn).</summary>
        [Parameter]
        [ValidateRange(1, 1000)]
        public int MaxPoweredOffPerHost { get; set; }

        /// <summary>The change ticket the run belongs to, named in the report's header (e.g. CHG0012345).</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? ChangeTicket { get; set; }

        private string? _reportDirectory;

        protected override void BeginProcessing()
        {
            if (ReportPath != null)
            {
                _reportDirectory = GetUnresolvedProviderPathFromPSPath(ReportPath);
                if (File.Exists(_reportDirectory))
                {
                    ThrowTerminatingError(new RemediationException(RunbookErrorIds.InvalidReportPath, ErrorCategory.InvalidArgument,
                        $"-ReportPath '{ReportPath}' is a file; give a directory. Each run writes mtv-remediation-<time>.html and .json and the log archives there.").ToErrorRecord(ReportPath));
                }
            }
            base.BeginProcessing();
        }

        protected override void EndProcessing()
        {
            var unmatched = new List<(VMInput Input, ErrorRecord Error)>();
            var targets = ResolveTargets(unmatched);
            if (targets.Count == 0 && unmatched.Count == 0) return;
            var stamp = DateTime.UtcNow;
            var options = new RunbookOptions
            {
                PowerOff = PowerOff,
                Force = Force,
                RegisterLogRotation = RegisterLogRotation,
                RestartAgents = RestartAgents,
                MaxPoweredOffPerHost = MaxPoweredOffPerHost,
                Preflight = Preflight,
                Wave = new WaveReadinessOptions { HostdTmpMemoryMB = HostdTmpMemoryMB, WaveHours = WaveHours },
                VCenters = targets.GroupBy(t => t.Connection.Server, StringComparer.OrdinalIgnoreCase).ToDictionary(g => g.Key, g => g.First().Connection.Client.Soap, StringComparer.OrdinalIgnoreCase),
                ArchiveDirectory = _reportDirectory,
                RunStamp = stamp,
                ShutdownTimeout = TimeSpan.FromSeconds(ShutdownTimeoutSeconds),
                StartedAt = stamp,
                ReportServers = targets.Select(t => t.Connection.Server).Distinct(StringComparer.OrdinalIgnoreCase).ToList(),
                ReportParameters = DescribeParameters(targets.Count, unmatched.Count),
                Operator = DescribeOperator(targets.Select(t => t.Connection)),
                ChangeTicket = ChangeTicket,
                UnmatchedInputs = unmatched.Select(u => new UnmatchedVmInput(u.Input.Display, u.Input.ServerHost ?? "",
                    u.Error.FullyQualifiedErrorId.Split(',')[0], u.Error.Exception.Message)).ToList(),
                // Read on the pipeline thread; used by the workers that restart agents.
                VCenterState = RestartAgents || Preflight ? VCenterHostConnectionStateSource.ForCurrentRunspace() : null,
            };

            var vms = new List<RunbookVmState>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            var cloningHosts = CloningHostNames(targets);
            foreach (var t in targets)
            {
                // The same VM twice (name and object) is remediated once.
                if (!seen.Add(t.Connection.Server + "|" + t.Vm.MoRef)) continue;
                var vm = new RunbookVmState(t.Connection.Client, t.Connection.Server, t.Vm, t.Input.Original);
                if (cloningHosts.TryGetValue(t, out var cloningHost)) vm.CloningHostName = cloningHost;
                if (string.IsNullOrEmpty(vm.EvidenceHostName))
                    vm.Fail(RunbookErrorIds.VMHostUnknown, ErrorCategory.ObjectNotFound,
                        $"vCenter reports no host for VM '{t.Vm.Name}'; its host's log space cannot be checked. Its CBT is still handled.",
                        "Check the VM's host in vCenter.");
                vms.Add(vm);
            }
            ThreadPoolTuning.EnsureMinThreads(_hosts.Parameters.ThrottleLimit);
            try
            {
                // -StartSshService: SSH on the VMs' hosts that have no session, for this run only.
                _hosts.EnsureSshOnDemand(vms.Select(v => v.EvidenceHostName).Where(h => !string.IsNullOrEmpty(h))
                    .Distinct(StringComparer.OrdinalIgnoreCase).Select(h => new HostTarget(h!, h)).ToList(), CancelToken);
                RunbookEngine.Run(new CmdletRunbookHost(this, IsWhatIf()), vms, options);
            }
            finally
            {
                _hosts.EndSshOnDemand();
            }
        }

        /// <summary>
        /// The host each VM's clone ran on, where its input names one other than the VM's own (our
        /// findings' VMHostId): that host holds the clone's evidence and the log that filled up, so
        /// the runbook reads and remediates it. A host vCenter does not know is warned about; the
        /// VM's own host is read then.
        /// </summary>
        private Dictionary<VmTarget, string> CloningHostNames(IReadOnlyList<VmTarget> targets)
        {
            var names = new Dictionary<VmTarget, string>();
            foreach (var perServer in targets.Where(t => t.Input.CloningHost is MoRef h && !h.Equals(t.Vm.Host)).GroupBy(t => t.Connection))
            {
                var known = perServer.Key.Client.GetHostNamesAsync(perServer.Select(t => t.Input.CloningHost!.Value).ToList(), CancelToken).GetAwaiter().GetResult();
                foreach (var t in perServer)
                {
                    if (known.TryGetValue(t.Input.CloningHost!.Value, out var name)) names[t] = name;
                    else WriteWarning($"The input names HostSystem-{t.Input.CloningHost!.Value.Value} as the host that cloned VM '{t.Vm.Name}', but {perServer.Key.Server} does not know it; the evidence of the VM's own host {t.Vm.HostName} is read instead.");
                }
            }
            return names;
        }

        /// <summary>The report's operator: the local account, and the vCenter user(s) the changes were made as.</summary>
        private static string DescribeOperator(IEnumerable<VIConnection> connections)
        {
            var users = connections.Select(c => c.User).Where(u => !string.IsNullOrEmpty(u)).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
            return Environment.UserName + " on " + Environment.MachineName + (users.Count > 0 ? " (vCenter user " + string.Join(", ", users) + ")" : "");
        }

        /// <summary>The run's parameters for the report: effective values, VMs as a count, a credential as its user name only.</summary>
        private List<string> DescribeParameters(int vmCount, int unmatchedCount)
        {
            var list = new List<string> { $"VM: {vmCount} VM(s)" + (unmatchedCount > 0 ? $", {unmatchedCount} input(s) that matched no VM" : "") };
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

        /// <summary>
        /// Whether ShouldProcess prompts in this command: -Confirm as given, else $ConfirmPreference
        /// at this command's impact (High) or below. Read only to keep an earlier "Yes to All" from
        /// answering the plan (ShouldProcess does not tell whether it asked).
        /// </summary>
        private bool PromptsForConfirmation()
        {
            if (MyInvocation.BoundParameters.TryGetValue("Confirm", out var c)) return c is SwitchParameter sp ? sp.IsPresent : LanguagePrimitives.IsTrue(c);
            // At impact High every level but None prompts (a preference set in a script may be a string).
            var value = GetVariableValue("ConfirmPreference");
            return value == null || !LanguagePrimitives.TryConvertTo(value, out ConfirmImpact preference) || preference != ConfirmImpact.None;
        }

        /// <summary>The engine's view of this cmdlet: ShouldProcess, the parallel runner, the fan-out's shells, the pipeline.</summary>
        private sealed class CmdletRunbookHost : IRunbookHost
        {
            private readonly InvokeMtvRemediationCommand _cmdlet;
            private readonly ShellSource _shells;
            private readonly string _name;

            public CmdletRunbookHost(InvokeMtvRemediationCommand cmdlet, bool whatIf)
            {
                _cmdlet = cmdlet;
                WhatIf = whatIf;
                _shells = cmdlet._hosts.CaptureShellSource();
                _name = cmdlet.MyInvocation.MyCommand.Name;
            }

            public bool WhatIf { get; }

            // -WhatIf writes the description (the table); a prompt shows the warning (the table and the question).
            public bool ConfirmPlan(string plan, string question)
            {
                var caption = $"{_name}: the whole plan";
                var query = plan + Environment.NewLine + Environment.NewLine + question;
                // After an SSH start was asked, a "Yes to All" given to it would let ShouldProcess
                // pass the plan unseen: then the plan is asked on its own, whenever prompts are on.
                if (!WhatIf && _cmdlet._hosts.Ssh.Asked && _cmdlet.PromptsForConfirmation()) return _cmdlet.ShouldContinue(query, caption);
                return _cmdlet.ShouldProcess(plan, query, caption, out _);
            }

            public IEsxiShell GetShell(string hostName, CancellationToken ct) =>
                _shells.Get(new HostTarget(hostName, hostName), ct);

            public void RunInParallel(RunbookPhase phase, string activity, IReadOnlyList<RunbookWork> work)
            {
                _cmdlet.RunParallel(work, _cmdlet._hosts.Parameters.ThrottleLimit, $"{_name}: {activity}", w => w.Label, (item, sink, ct) =>
                {
                    try
                    {
                        item.Work(new SinkOutput(sink), ct);
                    }
                    finally
                    {
                        foreach (var state in item.States)
                            foreach (var e in state.TakeNewErrors()) sink.WriteError(e.ToErrorRecord(state.ErrorTarget, _name));
                    }
                });
            }

            public void Emit(object result) => _cmdlet.WriteObject(result);

            /// <summary>A work item's live output, through the parallel runner's sink.</summary>
            private sealed class SinkOutput : IRunbookWorkOutput
            {
                private readonly IOutputSink _sink;
                public SinkOutput(IOutputSink sink) => _sink = sink;
                public void WriteVerbose(string text) => _sink.WriteVerbose(text);
                public void ReportStep(string step) => _sink.ReportStep(step);
                public void Emit(object result) => _sink.WriteObject(result);
            }

            public void WriteError(MtvException error, object? target) => _cmdlet.WriteError(error.ToErrorRecord(target, _name));
            public void WriteVerbose(string text) => _cmdlet.WriteVerbose(text);

            public void WriteStopNote(string text)
            {
                try { _cmdlet.Host?.UI?.WriteWarningLine(text); } catch (Exception) { /* no host UI */ }
            }
            public void WriteWarning(string text) => _cmdlet.WriteWarning(text);
        }
    }
}
