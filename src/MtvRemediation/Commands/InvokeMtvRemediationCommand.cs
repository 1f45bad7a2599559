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
    /// and wrapper logs, VMs' CBT), plan, confirm action by action, act (free /var, rotation job,
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
        [ValidateRange(64, 1048576)]
        public int HostdTmpMemoryMB { get; set; } = 1024;

        /// <summary>-Preflight: how long the wave clones, in hours; the wrapper log's growth is projected over it (as Test-MtvWaveReadiness).</summary>
        [Parameter]
        [ValidateRange(0.1, 720)]
        public double WaveHours { get; set; } = 12;

        /// <summary>Directory for the HTML and JSON report and the log archives.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? ReportPath { get; set; }

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
                Preflight = Preflight,
                Wave = new WaveReadinessOptions { HostdTmpMemoryMB = HostdTmpMemoryMB, WaveHours = WaveHours },
                VCenters = targets.GroupBy(t => t.Connection.Server, StringComparer.OrdinalIgnoreCase).ToDictionary(g => g.Key, g => g.First().Connection.Client.Soap, StringComparer.OrdinalIgnoreCase),
                ArchiveDirectory = _reportDirectory,
                RunStamp = stamp,
                ShutdownTimeout = TimeSpan.FromSeconds(ShutdownTimeoutSeconds),
                StartedAt = stamp,
                ReportServers = targets.Select(t => t.Connection.Server).Distinct(StringComparer.OrdinalIgnoreCase).ToList(),
                ReportParameters = DescribeParameters(targets.Count, unmatched.Count),
                UnmatchedInputs = unmatched.Select(u => new UnmatchedVmInput(u.Input.Display, u.Input.ServerHost ?? "",
                    u.Error.FullyQualifiedErrorId.Split(',')[0], u.Error.Exception.Message)).ToList(),
                // Read on the pipeline thread; used by the workers that restart agents.
                VCenterState = RestartAgents || Preflight ? VCenterHostConnectionStateSource.ForCurrentRunspace() : null,
            };

            var vms = new List<RunbookVmState>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var t in targets)
            {
                // The same VM twice (name and object) is remediated once.
                if (!seen.Add(t.Connection.Server + "|" + t.Vm.MoRef)) continue;
                var vm = new RunbookVmState(t.Connection.Client, t.Connection.Server, t.Vm, t.Input.Original);
                if (string.IsNullOrEmpty(t.Vm.HostName))
                    vm.Fail(RunbookErrorIds.VMHostUnknown, ErrorCategory.ObjectNotFound,
                        $"vCenter reports no host for VM '{t.Vm.Name}'; its host's log space cannot be checked. Its CBT is still handled.",
                        "Check the VM's host in vCenter.");
                vms.Add(vm);
            }
            ThreadPoolTuning.EnsureMinThreads(_hosts.Parameters.ThrottleLimit);
            try
            {
                // -StartSshService: SSH on the VMs' hosts that have no session, for this run only.
                _hosts.EnsureSshOnDemand(vms.Select(v => v.Vm.HostName).Where(h => !string.IsNullOrEmpty(h))
                    .Distinct(StringComparer.OrdinalIgnoreCase).Select(h => new HostTarget(h!, h)).ToList(), CancelToken);
                RunbookEngine.Run(new CmdletRunbookHost(this, IsWhatIf()), vms, options);
            }
            finally
            {
                _hosts.EndSshOnDemand();
            }
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

            public bool Confirm(string target, string action) => _cmdlet.ShouldProcess(target, action);

            public IEsxiShell GetShell(string hostName, CancellationToken ct) =>
                _shells.Get(new HostTarget(hostName, hostName), ct);

            public void RunInParallel(RunbookPhase phase, string activity, IReadOnlyList<RunbookWork> work)
            {
                _cmdlet.RunParallel(work, _cmdlet._hosts.Parameters.ThrottleLimit, $"{_name}: {activity}", w => w.Label, (item, sink, ct) =>
                {
                    try
                    {
                        item.Work(sink.WriteVerbose, ct);
                    }
                    finally
                    {
                        foreach (var state in item.States)
                            foreach (var e in state.TakeNewErrors()) sink.WriteError(e.ToErrorRecord(state.ErrorTarget, _name));
                    }
                });
            }

            public void Emit(object result) => _cmdlet.WriteObject(result);
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
