using System;
using System.Diagnostics;
using System.Management.Automation;
using System.Text.RegularExpressions;
using System.Threading;
using MtvRemediation.Esxi;

namespace MtvRemediation.Remediation
{
    /// <summary>
    /// vCenter's view of a host (HostSystem.runtime.connectionState). The vCenter layer implements
    /// it over the runspace's connection; without a connection the restart waits on the local
    /// agent status only.
    /// </summary>
    public interface IHostConnectionStateSource
    {
        /// <summary>connected, disconnected or notResponding; null when vCenter does not know the host.</summary>
        string? GetConnectionState(string hostName, CancellationToken cancellationToken);
    }

    /// <summary>What we can tell about vSAN and LACP before restarting agents (FIELD-FACTS 5).</summary>
    public sealed class AgentRestartRisk
    {
        /// <summary>true/false, or null when the host could not say (no esxcli, command failed).</summary>
        public bool? VsanNetwork { get; set; }
        public bool? Lacp { get; set; }
        public bool Risky => VsanNetwork == true && Lacp == true;
        public bool Unknown => VsanNetwork == null || Lacp == null;
    }

    public static class AgentRestartEngine
    {
        public const string DefaultInitDir = "/etc/init.d";

        public static readonly Regex AgentName = new Regex("^[A-Za-z0-9_-]{1,64}$", RegexOptions.CultureInvariant);

        public static AgentRestartRisk ProbeRisk(IEsxiShell shell, CancellationToken ct)
        {
            var r = RemoteOps.Run(shell, RemoteCommand.FromScript("agent-risk.sh"), ct);
            var s = RemoteOps.Sections(r.Stdout);
            return new AgentRestartRisk
            {
                VsanNetwork = Interpret(s, "vsan", "VmkNic Name", "Interface"),
                Lacp = Interpret(s, "lacp", "LAG", "Lacp"),
            };
        }

        // rc 0 and empty output: the feature is not configured. rc 0 with the expected fields: it is.
        // Anything else (not found, errors): unknown, and we say so rather than guess.
        private static bool? Interpret(System.Collections.Generic.Dictionary<string, string> s, string key, params string[] markers)
        {
            if (!s.TryGetValue(key + ".rc", out var rc) || rc != "0") return null;
            var text = s.TryGetValue(key, out var t) ? t.Trim() : string.Empty;
            if (text.Length == 0) return false;
            foreach (var m in markers) if (text.IndexOf(m, StringComparison.OrdinalIgnoreCase) >= 0) return true;
            return null;
        }

        /// <summary>
        /// Restarts one agent with its init script and waits until its status says running and,
        /// with <paramref name="vcenter"/>, until vCenter reports the host connected. Throws
        /// <see cref="RemediationException"/> (AgentRestartTimeout) with the partial result on timeout.
        /// </summary>
        public static AgentRestartResult Restart(IEsxiShell shell, string agent, TimeSpan timeout, bool noWait,
            IHostConnectionStateSource? vcenter, string? vcenterHostName, CancellationToken ct, Action<string>? verbose = null, string initDir = DefaultInitDir)
        {
            if (!AgentName.IsMatch(agent)) throw new ArgumentException($"'{agent}' is not an agent name (like hostd or vpxa).", nameof(agent));
            var script = initDir.TrimEnd('/') + "/" + agent;
            var watch = Stopwatch.StartNew();
            var result = new AgentRestartResult { VMHost = shell.HostName, Agent = agent };

            var exists = RemoteOps.Run(shell, RemoteCommand.Format("[ -x {0} ]", script), ct);
            if (!exists.Succeeded)
            {
                throw new RemediationException(HostRemediationErrorIds.AgentRestartFailed, ErrorCategory.ObjectNotFound,
                    $"'{shell.HostName}' has no {script}; nothing was restarted.", "Use -Agent hostd, vpxa or another service with an init script in /etc/init.d.");
            }
            var run = RemoteOps.Run(shell, RemoteCommand.Format("{0} restart 2>&1", script), ct, timeout);
            result.Output = run.Stdout.TrimEnd();
            verbose?.Invoke($"{shell.HostName}: {script} restart -> exit {run.ExitStatus}");
            if (!run.Succeeded)
            {
                result.Running = IsRunning(shell, script, agent, ct) == true;
                result.Duration = watch.Elapsed;
                throw new RemediationException(HostRemediationErrorIds.AgentRestartFailed, ErrorCategory.InvalidResult,
                    $"{script} restart on '{shell.HostName}' exited {run.ExitStatus}: {LogSpaceProbe.FirstLine(run.Stdout + run.Stderr)}",
                    "Check the agent log on the host (/var/log/hostd.log, /var/log/vpxa.log) and restart it from the DCUI if needed.")
                { Data = { ["Result"] = result } };
            }

            if (noWait)
            {
                result.Running = IsRunning(shell, script, agent, ct) == true;
                result.Succeeded = true;
                result.Duration = watch.Elapsed;
                return result;
            }

            var deadline = DateTime.UtcNow + timeout;
            while (true)
            {
                if (IsRunning(shell, script, agent, ct) == true) { result.Running = true; break; }
                if (DateTime.UtcNow > deadline) return TimedOut(shell, result, watch, $"{agent} did not report running", timeout);
                Sleep(TimeSpan.FromMilliseconds(500), ct);
            }

            if (vcenter != null)
            {
                var name = vcenterHostName ?? shell.HostName;
                        while (true)
                {
                    var state = vcenter.GetConnectionState(name, ct);
                    result.ConnectionState = state;
                    if (state == null) { verbose?.Invoke($"{shell.HostName}: vCenter does not know host '{name}'; not waiting on it."); break; }
                    if (string.Equals(state, "connected", StringComparison.OrdinalIgnoreCase)) break;
                    verbose?.Invoke($"{shell.HostName}: vCenter reports {state}; waiting.");
                    if (DateTime.UtcNow > deadline) return TimedOut(shell, result, watch, $"vCenter still reports the host {state}", timeout);
                    Sleep(TimeSpan.FromSeconds(1), ct);
                }
            }
            result.Succeeded = true;
            result.Duration = watch.Elapsed;
            return result;
        }

        public static bool? IsRunning(IEsxiShell shell, string script, string agent, CancellationToken ct)
        {
            var r = RemoteOps.Run(shell, RemoteCommand.Format("{0} status 2>&1", script), ct);
            return AgentStatusParser.ParseStatus(agent, r.Stdout);
        }

        private static AgentRestartResult TimedOut(IEsxiShell shell, AgentRestartResult result, Stopwatch watch, string what, TimeSpan timeout)
        {
            result.Duration = watch.Elapsed;
            throw new RemediationException(HostRemediationErrorIds.AgentRestartTimeout, ErrorCategory.OperationTimeout,
                $"{what} on '{shell.HostName}' within {timeout.TotalSeconds:0} s.",
                "Check the host in vCenter and its agent logs; raise -TimeoutSeconds for slow hosts, or restart the agent from the DCUI.")
            { Data = { ["Result"] = result } };
        }

        private static void Sleep(TimeSpan delay, CancellationToken ct)
        {
            if (ct.WaitHandle.WaitOne(delay)) ct.ThrowIfCancellationRequested();
        }
    }
}

namespace MtvRemediation.Remediation
{
    /// <summary>
    /// Where Restart-EsxiAgents gets vCenter's view: by default the runspace's vCenter connections
    /// (null when there is none). Replaceable for tests. Called on the pipeline thread; the
    /// returned source is used from worker threads.
    /// </summary>
    public static class HostConnectionStateSources
    {
        public static Func<IHostConnectionStateSource?>? ForCurrentRunspace { get; set; } = VCenterHostConnectionStateSource.ForCurrentRunspace;

        public static IHostConnectionStateSource? Current() => ForCurrentRunspace?.Invoke();
    }
}
