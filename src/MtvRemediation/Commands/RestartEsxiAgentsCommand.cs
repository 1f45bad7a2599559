using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Threading;
using MtvRemediation.Agents;
using MtvRemediation.Diagnosis;
using MtvRemediation.Esxi;
using MtvRemediation.Infrastructure;
using MtvRemediation.Interop;
using MtvRemediation.VSphere;

namespace MtvRemediation.Commands
{
    /// <summary>Restart-EsxiAgents: restart hostd then vpxa and wait until they (and vCenter) are back.</summary>
    [Cmdlet(VerbsLifecycle.Restart, "EsxiAgents", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
    [OutputType(typeof(AgentRestartResult))]
    public sealed class RestartEsxiAgentsCommand : EsxiHostCmdletBase
    {
        private readonly ConcurrentDictionary<string, AgentRestartRisk> _risks = new ConcurrentDictionary<string, AgentRestartRisk>(StringComparer.OrdinalIgnoreCase);
        private IHostConnectionStateSource? _vcenter;

        /// <summary>Agents to restart, in order (default hostd, then vpxa).</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        [ValidatePattern("^[A-Za-z0-9_-]{1,64}$")]
        [ArgumentCompleter(typeof(EsxiAgentCompleter))]
        public string[] Agent { get; set; } = { "hostd", "vpxa" };

        /// <summary>How long to wait for each agent (and vCenter) to be back.</summary>
        [Parameter]
        [ValidateRange(5, 3600)]
        public int TimeoutSeconds { get; set; } = 180;

        /// <summary>
        /// How long vCenter goes without a heartbeat before it marks a host not responding (about
        /// 60 s on vCenter). When vCenter never shows the host down after the restart, its
        /// "connected" is trusted only after it held this long once the agent was back.
        /// </summary>
        [Parameter]
        [ValidateRange(0, 3600)]
        public int NotRespondingAfterSeconds { get; set; } = (int)AgentRestartEngine.DefaultNotRespondingAfter.TotalSeconds;

        /// <summary>Restart and return without waiting.</summary>
        [Parameter]
        public SwitchParameter NoWait { get; set; }

        protected override string ProgressActivity => "Restarting ESXi management agents";

        protected override void EndProcessing()
        {
            if (Targets.Count == 0) return;
            _vcenter = VCenterHostConnectionStateSource.ForCurrentRunspace();
            if (_vcenter == null) WriteVerbose("No vCenter connection: waiting on the agents' own status only.");

            // Before asking: look at vSAN/LACP on every host (read-only; runs under -WhatIf too).
            RunOnHosts(Targets, "Checking vSAN and LACP before restarting agents",
                (target, shell, sink, ct) =>
                {
                    var read = HostDiagnosisReader.Read(shell, new HostDiagnosisRequest { AgentRisk = true }, ct);
                    _risks[target.Name] = HostDiagnosis.Required(read.AgentRisk, read.AgentRiskError);
                },
                (target, ex, sink) => ReportProbeFailure(target, ex, sink));
            var unknown = new List<string>();
            foreach (var t in Targets)
            {
                if (!_risks.TryGetValue(t.Name, out var risk)) continue;
                if (risk.Risky)
                    WriteWarning($"{t.Name} is a vSAN host with LACP: restarting its management agents can affect running vSAN tasks. Restart only in a maintenance window, one host at a time.");
                else if (risk.Unknown) unknown.Add(t.Name);
            }
            if (unknown.Count > 0)
                WriteWarning($"Could not tell whether these hosts use vSAN with LACP (esxcli did not answer): {string.Join(", ", unknown)}. Check before confirming: agent restarts on vSAN hosts with LACP can affect running tasks.");
            base.EndProcessing();
        }

        // The restart itself reports a host it cannot reach; the pre-check only says why it knows nothing.
        private static void ReportProbeFailure(HostTarget target, Exception ex, IOutputSink sink) =>
            sink.WriteVerbose($"{target.Name}: vSAN/LACP check failed ({ex.Message}); the restart will report the connection error.");

        private protected override bool ShouldProcessHost(HostTarget target)
        {
            return ShouldProcess(target.Name, $"Restart the management agent(s) {string.Join(", then ", Agent)}" +
                (NoWait ? " without waiting" : $" and wait up to {TimeoutSeconds} s for each to be running" + (Agent.Contains("hostd") ? ", hostd to answer API requests" : string.Empty) +
                    (_vcenter != null ? " and vCenter to show the host connected after the restart" : string.Empty)) +
                "; vCenter shows the host as not responding meanwhile");
        }

        private protected override void ProcessHost(HostTarget target, IEsxiShell shell, IOutputSink sink, CancellationToken ct)
        {
            foreach (var agent in Agent)
            {
                try
                {
                    var result = AgentRestartEngine.Restart(shell, agent, TimeSpan.FromSeconds(TimeoutSeconds), NoWait, _vcenter, target.Name, ct, sink.WriteVerbose,
                        notRespondingAfter: TimeSpan.FromSeconds(NotRespondingAfterSeconds));
                    sink.WriteObject(result);
                }
                catch (RemediationException ex)
                {
                    // Report where this host is, and do not restart the next agent on a host whose last one is not back.
                    sink.WriteError(ex.ToErrorRecord(target.InputObject, MyInvocation.MyCommand.Name));
                    if (ex.Data["Result"] is AgentRestartResult partial) sink.WriteObject(partial);
                    var rest = Agent.SkipWhile(a => a != agent).Skip(1).ToArray();
                    if (rest.Length > 0) sink.WriteWarning($"{target.Name}: not restarting {string.Join(", ", rest)} because {agent} did not come back.");
                    return;
                }
            }
        }
    }
}
