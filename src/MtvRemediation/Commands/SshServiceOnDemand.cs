using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Threading;
using System.Threading.Tasks;
using MtvRemediation.Esxi;
using MtvRemediation.Infrastructure;
using MtvRemediation.VSphere;

namespace MtvRemediation.Commands
{
    /// <summary>
    /// -StartSshService of the shared host parameters (<see cref="HostConnectionParameters"/>), for
    /// one command: on the pipeline thread, before the hosts are worked on, reads TSM-SSH through
    /// vCenter (HostServiceSystem) for the hosts that have no live session in the runspace, starts it
    /// where it is stopped (ShouldProcess per host) and remembers which it started. Hosts where SSH
    /// was already running are left as they were. How the service is given back depends on the
    /// command: Connect-EsxiShell ties it to the session it opens (Disconnect-EsxiShell stops it);
    /// every other host cmdlet closes the session it opened on such a host when it ends and stops
    /// SSH again (<see cref="StopStarted"/>), so the host is as it was before the command.
    /// </summary>
    internal sealed class SshServiceOnDemand
    {
        private readonly Cmdlet _cmdlet;
        private readonly HashSet<string> _checked = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        private readonly HashSet<string> _declined = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        private readonly List<string> _started = new List<string>();
        private readonly HashSet<string> _leftBehind = new HashSet<string>(StringComparer.OrdinalIgnoreCase);

        public SshServiceOnDemand(Cmdlet cmdlet) => _cmdlet = cmdlet;

        /// <summary>Hosts whose SSH start was declined (-WhatIf, -Confirm "no") or failed: not worked on.</summary>
        public bool Declined(string hostName) => _declined.Contains(hostName);

        /// <summary>Hosts whose SSH this command started (in order), not yet given back.</summary>
        public IReadOnlyList<string> Started => _started;

        /// <summary>This command asked ShouldProcess about an SSH service at least once (an answer may have been "Yes to All").</summary>
        public bool Asked { get; private set; }

        private bool ShouldProcess(string target, string action)
        {
            Asked = true;
            return _cmdlet.ShouldProcess(target, action);
        }

        /// <summary>
        /// Starts SSH where it is stopped on the hosts of <paramref name="hosts"/> that need a new
        /// session (all of them with <paramref name="force"/>), each host once per command.
        /// <paramref name="giveBack"/> is the action text: how the service is stopped again.
        /// </summary>
        public void StartWhereStopped(IEnumerable<HostTarget> hosts, bool force, string giveBack, CancellationToken ct)
        {
            var store = EsxiSessionStore.ForCurrentRunspace();
            var candidates = hosts.Where(t => _checked.Add(t.Name)).ToList();
            // A session whose connection dropped needs SSH too: it reconnects to the same endpoint.
            var needed = force ? candidates : WithoutAnsweringSession(candidates, store, ct);
            if (needed.Count == 0) return;
            var connections = VIConnectionStore.Current.GetAll().Where(c => c.IsConnected).ToList();
            if (connections.Count == 0)
            {
                var ex = new EsxiShellException(SshServiceErrorIds.NoVCenter, ErrorCategory.ConnectionError,
                    "-StartSshService starts SSH through vCenter, and there is no vCenter connection. Nothing was started or connected. Log in to vCenter first, or adopt a PowerCLI session.")
                { Next = NextCommand.ConnectVCenter };
                _cmdlet.ThrowTerminatingError(ex.ToErrorRecord(null));
            }
            var controller = SshServiceController.ForCurrentRunspace();
            IReadOnlyDictionary<string, SshServiceState> states;
            try
            {
                states = controller.Read(connections, needed.Select(t => t.Name).ToList(), ct);
            }
            catch (Exception ex) when (ex is VimFaultException || ex is VimTransportException)
            {
                var e = new EsxiShellException(SshServiceErrorIds.StartFailed, ErrorCategory.ConnectionError,
                    $"Reading the SSH service state from vCenter failed: {ex.Message} No SSH service was started; hosts with SSH running are still worked on.", null, ex);
                _cmdlet.WriteError(e.ToErrorRecord(null));
                return;
            }
            foreach (var t in needed)
            {
                if (!states.TryGetValue(t.Name, out var state))
                {
                    var e = new EsxiShellException(SshServiceErrorIds.HostNotFound, ErrorCategory.ObjectNotFound,
                        $"'{t.Name}' is not a host of {string.Join(", ", connections.Select(c => c.Server))} (or has no SSH service there): its SSH service was not checked. Use the host's name as vCenter shows it.");
                    _cmdlet.WriteError(e.ToErrorRecord(t.InputObject));
                    continue;
                }
                if (state.Running)
                {
                    TakeOverIfLeftBehind(t, state, giveBack, ct);
                    continue;
                }
                if (!ShouldProcess(t.Name, $"Start the SSH service (TSM-SSH) through vCenter {state.Connection.Server}; {giveBack}"))
                {
                    _declined.Add(t.Name);
                    continue;
                }
                try
                {
                    var recordProblem = controller.Start(t.Name, state, ct);
                    if (state.PolicyOn)
                    {
                        _cmdlet.WriteVerbose($"{t.Name}: started SSH (TSM-SSH) through {state.Connection.Server}; its policy is 'on', so it stays running.");
                        continue;
                    }
                    _started.Add(t.Name);
                    _cmdlet.WriteVerbose($"{t.Name}: started SSH (TSM-SSH) through {state.Connection.Server}.");
                    if (recordProblem != null)
                        _cmdlet.WriteWarning($"{t.Name}: the record that this command started SSH could not be kept on {state.Connection.Server} ({recordProblem}). If this command dies before it stops SSH, nothing tells a later run to stop it.");
                }
                catch (Exception ex) when (ex is VimFaultException || ex is VimTransportException)
                {
                    var e = new EsxiShellException(SshServiceErrorIds.StartFailed, ErrorCategory.InvalidOperation,
                        $"Starting SSH (TSM-SSH) on '{t.Name}' through {state.Connection.Server} failed: {ex.Message}",
                        "Start SSH in vCenter (host > Configure > Services > SSH), then run the command again.", ex);
                    _cmdlet.WriteError(e.ToErrorRecord(t.InputObject));
                    _declined.Add(t.Name);
                }
            }
        }

        // SSH already runs. Left as it is, unless its record says a run of this module started it and
        // ended without stopping it: then this command takes it over as if it had started it (stops
        // it when its own work is done, or ties it to its session), never where the policy says SSH
        // runs: there only the record is cleared.
        private void TakeOverIfLeftBehind(HostTarget t, SshServiceState state, string giveBack, CancellationToken ct)
        {
            var found = state.Record;
            if (found == null || !found.IsOfEndedRun(DateTime.UtcNow, SshServiceController.IsLiveRun))
            {
                _cmdlet.WriteVerbose($"{t.Name}: SSH (TSM-SSH) is already running (policy '{state.Policy}'){(found != null ? $" for a run of this module still working ({found.Who})" : "")}; it is left as it is.");
                return;
            }
            var leftBehind = $"SSH (TSM-SSH) runs because a run of this module ({found.Who}) started it and ended without stopping it";
            if (state.PolicyOn)
            {
                if (!ShouldProcess(t.Name, $"Clear the record on {state.Connection.Server} that {leftBehind}; its policy is 'on', so it stays running")) return;
                SshServiceController.ClearRecord(state, ct);
                _cmdlet.WriteWarning($"{t.Name}: {leftBehind}. Its policy is 'on', so it stays running; the record is cleared.");
                return;
            }
            if (!ShouldProcess(t.Name, $"Stop the SSH service (TSM-SSH) that an ended run of this module left running ({found.Who}); {giveBack}")) return;
            SshServiceController.ForCurrentRunspace().Adopt(t.Name, state);
            _started.Add(t.Name);
            _leftBehind.Add(t.Name);
            _cmdlet.WriteWarning($"{t.Name}: {leftBehind}. This command takes it over: {giveBack}");
        }

        // How long a session's connection may take to answer before it counts as dropped: a no-op
        // costs a few ms on a LAN and well under a second over a slow VPN.
        private static readonly TimeSpan AnswerTimeout = TimeSpan.FromSeconds(5);

        // The hosts whose session is missing, closed, or does not answer a no-op now. IsConnected
        // alone trusts the socket: a peer that vanished without closing it (a dropped VPN, a host
        // reset) looks connected. All sessions are probed at once (SshEsxiShell.AnswersAsync).
        private List<HostTarget> WithoutAnsweringSession(List<HostTarget> hosts, EsxiSessionStore store, CancellationToken ct)
        {
            var sessions = hosts.Select(t => t.Session ?? store.Find(t.Name)).ToList();
            var probes = sessions.Select(s => s is { IsConnected: true } ? s.Shell.AnswersAsync(AnswerTimeout, ct) : null).ToList();
            Task.WhenAll(probes.Where(p => p != null).Select(p => p!)).GetAwaiter().GetResult();
            var needing = new List<HostTarget>();
            for (var i = 0; i < hosts.Count; i++)
            {
                if (probes[i]?.Result == true) continue;
                if (probes[i] != null)
                    _cmdlet.WriteVerbose($"{hosts[i].Name}: session {sessions[i]!.Id} reported connected but did not answer a no-op within {AnswerTimeout.TotalSeconds:0} s (its connection dropped): reconnecting it needs SSH.");
                needing.Add(hosts[i]);
            }
            return needing;
        }

        /// <summary>
        /// The end of a command that started SSH for its own work: closes the session it opened on
        /// each such host (the runspace had none, or one whose connection had dropped: that is why SSH
        /// was needed), then stops SSH again.
        /// </summary>
        public void StopStarted()
        {
            if (_started.Count == 0) return;
            var store = EsxiSessionStore.ForCurrentRunspace();
            var controller = SshServiceController.ForCurrentRunspace();
            foreach (var host in _started)
            {
                var session = store.Find(host);
                if (session != null)
                {
                    store.Remove(session);
                    _cmdlet.WriteVerbose($"{host}: closed session {session.Id}, opened by this command over the SSH service it started.");
                }
                StopAgain(controller, host, _leftBehind.Contains(host)
                        ? "stopped SSH (TSM-SSH), which an ended run of this module had left running, and cleared its record."
                        : "stopped SSH (TSM-SSH) again, as it was before the command.",
                    $"Stopping the SSH service this command started on '{host}' failed");
            }
            _started.Clear();
        }

        /// <summary>Connect-EsxiShell: ties each started service to the session now open for its host (Disconnect-EsxiShell stops it); where none came up, stops it again.</summary>
        public void BindToSessions()
        {
            var store = EsxiSessionStore.ForCurrentRunspace();
            var controller = SshServiceController.ForCurrentRunspace();
            var unbound = new List<string>();
            foreach (var host in _started)
            {
                var session = store.Find(host);
                if (session != null && !session.IsClosed)
                {
                    controller.BindSession(host, session.Id);
                    session.SshServiceStarted = true;
                }
                else unbound.Add(host);
            }
            _started.Clear();
            foreach (var host in unbound)
            {
                StopAgain(controller, host, "no session was opened; stopped SSH (TSM-SSH) again.",
                    $"No session to '{host}' was opened, and stopping the SSH service started for it failed");
            }
        }

        // Stops SSH where this command started it; a failed stop is an error that says SSH still runs.
        private void StopAgain(SshServiceController controller, string host, string stoppedText, string failedText)
        {
            try
            {
                if (controller.StopIfStarted(host, null, CancellationToken.None))
                    _cmdlet.WriteVerbose($"{host}: {stoppedText}");
            }
            catch (Exception ex) when (ex is VimFaultException || ex is VimTransportException)
            {
                var e = new EsxiShellException(SshServiceErrorIds.StopFailed, ErrorCategory.InvalidOperation,
                    $"{failedText}: {ex.Message} SSH is still running on '{host}'.",
                    "Stop SSH in vCenter (host > Configure > Services > SSH).", ex);
                _cmdlet.WriteError(e.ToErrorRecord(host));
            }
        }
    }
}
