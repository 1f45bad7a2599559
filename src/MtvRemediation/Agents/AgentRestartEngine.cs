using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Management.Automation;
using System.Text.RegularExpressions;
using System.Threading;
using MtvRemediation.Esxi;
using MtvRemediation.HostLog;
using MtvRemediation.Infrastructure;
using MtvRemediation.VSphere;

namespace MtvRemediation.Agents
{
    /// <summary>
    /// What we can tell about vSAN and LACP before restarting agents
    /// (docs/field-sources.md#5-management-agents).
    /// </summary>
    internal sealed class AgentRestartRisk
    {
        /// <summary>true/false, or null when the host could not say (no esxcli, command failed).</summary>
        public bool? VsanNetwork { get; set; }
        public bool? Lacp { get; set; }
        public bool Risky => VsanNetwork == true && Lacp == true;
        public bool Unknown => VsanNetwork == null || Lacp == null;
    }

    internal static class AgentRestartEngine
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
            string text;
            try { text = HostField.DecodeSection(s.TryGetValue(key, out var t) ? t : null).Trim(); }
            catch (FormatException) { return null; }
            if (text.Length == 0) return false;
            foreach (var m in markers) if (text.IndexOf(m, StringComparison.OrdinalIgnoreCase) >= 0) return true;
            return null;
        }

        /// <summary>
        /// vCenter marks a host notResponding only after about 60 s without a vpxa heartbeat (sent
        /// every 10 s; Broadcom KBs 323612, 435077). When vCenter never shows the host down after a
        /// restart, "connected" proves a live connection only once it has held this long after the
        /// agent was back: a dead connection would have turned notResponding by then.
        /// </summary>
        public static readonly TimeSpan DefaultNotRespondingAfter = TimeSpan.FromSeconds(70);

        /// <summary>
        /// Restarts one agent with its init script and waits until the host and vCenter prove it is
        /// back: the init script says running; for hostd, hostd answers an API request on the host
        /// (vim-cmd); with <paramref name="vcenter"/>, vCenter shows the host connected after the
        /// restart - either it went notResponding and came back, or it stayed connected for
        /// <paramref name="notRespondingAfter"/> after the agent was back. Throws
        /// <see cref="RemediationException"/> (AgentRestartTimeout) with the partial result on timeout.
        /// </summary>
        public static AgentRestartResult Restart(IEsxiShell shell, string agent, TimeSpan timeout, bool noWait,
            IHostConnectionStateSource? vcenter, string? vcenterHostName, CancellationToken ct, Action<string>? verbose = null, string initDir = DefaultInitDir,
            TimeSpan? notRespondingAfter = null)
        {
            if (!AgentName.IsMatch(agent)) throw new ArgumentException($"'{agent}' is not an agent name (like hostd or vpxa).", nameof(agent));
            var script = initDir.TrimEnd('/') + "/" + agent;
            var watch = Stopwatch.StartNew();
            var result = new AgentRestartResult { VMHost = shell.HostName, Agent = agent };

            var exists = RemoteOps.Run(shell, RemoteCommand.FromScript("agent-init.sh", "exists", script), ct);
            if (!exists.Succeeded)
            {
                throw new RemediationException(HostRemediationErrorIds.AgentRestartFailed, ErrorCategory.ObjectNotFound,
                    $"'{shell.HostName}' has no {script}; nothing was restarted.", "Use -Agent hostd, vpxa or another service with an init script in /etc/init.d.");
            }

            // Follow vCenter's view from before the restart: its "connected" right after is the stale one.
            var name = vcenterHostName ?? shell.HostName;
            using var vc = noWait ? null : vcenter?.Watch(name, ct);
            if (vcenter != null && !noWait && vc == null) verbose?.Invoke($"{shell.HostName}: vCenter does not know host '{name}'; not waiting on it.");

            var restartedAt = DateTime.UtcNow;
            var run = RemoteOps.Run(shell, RemoteCommand.FromScript("agent-init.sh", "restart", script).KeepRunningIfDisconnected(), ct, timeout);
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

            var backAt = DateTime.UtcNow;
            if (agent == "hostd")
            {
                while (true)
                {
                    var serving = HostdServing(shell, ct);
                    if (serving == null)
                    {
                        result.Serving = "unknown: the host has no vim-cmd, so only the init script's status was checked";
                        break;
                    }
                    if (serving == true)
                    {
                        backAt = DateTime.UtcNow;
                        result.Serving = string.Format(CultureInfo.InvariantCulture, "hostd answered vim-cmd hostsvc/hostsummary {0:0.0} s after the restart", (backAt - restartedAt).TotalSeconds);
                        break;
                    }
                    if (DateTime.UtcNow > deadline) return TimedOut(shell, result, watch, "hostd runs but does not answer API requests (vim-cmd)", timeout);
                    Sleep(TimeSpan.FromMilliseconds(500), ct);
                }
                verbose?.Invoke($"{shell.HostName}: {result.Serving}");
            }

            if (vc != null)
            {
                var window = notRespondingAfter ?? DefaultNotRespondingAfter;
                while (true)
                {
                    var samples = vc.Samples;
                    result.VCenterStates = Describe(samples, restartedAt);
                    var last = samples.Count > 0 ? samples[samples.Count - 1] : default;
                    result.ConnectionState = samples.Count > 0 ? last.State : null;
                    var down = samples.FirstOrDefault(x => x.At >= restartedAt && !IsConnected(x.State));
                    var connected = samples.Count > 0 && IsConnected(last.State);
                    if (connected && down.State != null && last.At > down.At)
                    {
                        result.VCenterEvidence = string.Format(CultureInfo.InvariantCulture,
                            "vCenter showed the host {0} {1:0.0} s after the restart and connected again after {2:0.0} s", down.State, (down.At - restartedAt).TotalSeconds, (last.At - restartedAt).TotalSeconds);
                        break;
                    }
                    var heldFor = DateTime.UtcNow - (backAt > last.At ? backAt : last.At);
                    if (connected && heldFor >= window)
                    {
                        result.VCenterEvidence = string.Format(CultureInfo.InvariantCulture,
                            "vCenter kept the host connected for {0:0} s after {1} was back, longer than it waits for a heartbeat before it marks a host not responding", heldFor.TotalSeconds, agent);
                        break;
                    }
                    if (DateTime.UtcNow > deadline)
                        return TimedOut(shell, result, watch, connected
                            ? $"vCenter reports the host connected, but not yet for {window.TotalSeconds:0} s after the restart (it may not have noticed the restart yet)"
                            : $"vCenter still reports the host {last.State}", timeout);
                    verbose?.Invoke($"{shell.HostName}: vCenter reports {last.State ?? "nothing yet"}; waiting.");
                    var untilProof = connected ? window - heldFor : TimeSpan.FromSeconds(5);
                    var left = deadline - DateTime.UtcNow;
                    var slice = untilProof < left ? untilProof : left;
                    if (slice < TimeSpan.FromMilliseconds(50)) slice = TimeSpan.FromMilliseconds(50);
                    vc.WaitForChange(slice, ct);
                }
                verbose?.Invoke($"{shell.HostName}: {result.VCenterEvidence}");
            }
            result.Succeeded = true;
            result.Duration = watch.Elapsed;
            return result;
        }

        private static bool IsConnected(string? state) => string.Equals(state, "connected", StringComparison.OrdinalIgnoreCase);

        private static string[] Describe(IReadOnlyList<HostStateSample> samples, DateTime restartedAt) =>
            samples.Select(x =>
            {
                var t = Math.Round((x.At - restartedAt).TotalSeconds, 1);
                return x.State + " " + (t < 0 ? "-" : "+") + Math.Abs(t).ToString("0.0", CultureInfo.InvariantCulture) + " s";
            }).ToArray();

        public static bool? IsRunning(IEsxiShell shell, string script, string agent, CancellationToken ct)
        {
            var r = RemoteOps.Run(shell, RemoteCommand.FromScript("agent-init.sh", "status", script), ct);
            return AgentStatusParser.ParseStatus(agent, r.Stdout);
        }

        /// <summary>true when hostd answers vim-cmd, false when it does not (yet), null when the host has no vim-cmd.</summary>
        public static bool? HostdServing(IEsxiShell shell, CancellationToken ct)
        {
            var r = RemoteOps.Run(shell, RemoteCommand.FromScript("hostd-serving.sh"), ct);
            var probe = RemoteOps.Sections(r.Stdout).TryGetValue("probe", out var p) ? p.Trim() : "";
            if (probe == "missing") return null;
            return probe == "serving";
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
