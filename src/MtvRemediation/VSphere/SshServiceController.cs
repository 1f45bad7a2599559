using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Threading;
using System.Xml.Linq;
using MtvRemediation.Infrastructure;
using static MtvRemediation.VSphere.VimXml;

namespace MtvRemediation.VSphere
{
    /// <summary>A host's SSH service (TSM-SSH) as vCenter's HostServiceSystem reports it.</summary>
    internal sealed class SshServiceState
    {
        public SshServiceState(VIConnection connection, string hostName, MoRef host, MoRef serviceSystem, bool running, string? policy,
            int? recordKey = null, SshServiceRecord? record = null)
        {
            Connection = connection;
            HostName = hostName;
            Host = host;
            ServiceSystem = serviceSystem;
            Running = running;
            Policy = policy;
            RecordKey = recordKey;
            Record = record;
        }

        public VIConnection Connection { get; }

        /// <summary>The host's name in vCenter's inventory.</summary>
        public string HostName { get; }
        public MoRef Host { get; }
        public MoRef ServiceSystem { get; }
        public bool Running { get; }
        public string? Policy { get; }

        /// <summary>The policy says SSH runs with the host ("on"): this module never stops it.</summary>
        public bool PolicyOn => string.Equals(Policy, "on", StringComparison.OrdinalIgnoreCase);

        /// <summary>The key of the record's custom field on this vCenter (null: never created there).</summary>
        public int? RecordKey { get; }

        /// <summary>The record a run of this module left on the host (<see cref="SshServiceRecord"/>), if any.</summary>
        public SshServiceRecord? Record { get; }
    }

    /// <summary>
    /// SSH on demand: SSH (service key TSM-SSH) is off by default on ESXi and admins turn it on
    /// from vCenter. This starts it through HostSystem.configManager.serviceSystem
    /// (HostServiceSystem.StartService, vSphere API reference) for the hosts a session needs, and
    /// remembers, per runspace, which hosts it started, so that closing the session that needed it
    /// stops it again. Hosts where SSH was already running are never recorded, so never stopped,
    /// unless a durable record (<see cref="SshServiceRecord"/>) shows that a run of this module
    /// started it and has ended. The service's startup policy is not changed: a host reboot leaves
    /// SSH as the policy says, and where the policy is "on" SSH is never stopped.
    /// Every call here is a vCenter round trip with the cmdlet's cancellation token; the
    /// confirmation (ShouldProcess) is the cmdlet's.
    /// </summary>
    internal sealed class SshServiceController
    {
        public const string ServiceKey = "TSM-SSH";

        // The runs (controllers) of this process whose runspace is open: a record of this process
        // naming another run is of an ended one.
        private static readonly ConcurrentDictionary<string, bool> LiveRuns = new ConcurrentDictionary<string, bool>(StringComparer.Ordinal);

        // One per runspace, gone with it (SSH stays as it is then: stopping it needs the vCenter
        // session, which is closing too).
        private static readonly PerRunspace<SshServiceController> ByRunspace = new PerRunspace<SshServiceController>(_ => new SshServiceController(), c => LiveRuns.TryRemove(c.Run, out _));

        private SshServiceController()
        {
            Run = Guid.NewGuid().ToString("N").Substring(0, 12);
            LiveRuns[Run] = true;
        }

        /// <summary>This runspace's id in the records it writes.</summary>
        public string Run { get; }

        /// <summary>True when <paramref name="run"/> is a run of this process whose runspace is still open.</summary>
        public static bool IsLiveRun(string run) => LiveRuns.ContainsKey(run);

        /// <summary>
        /// The records of SSH started by runs of this module and not stopped yet, on every host of
        /// <paramref name="connections"/>, as <see cref="PendingOperation"/> objects (Kind
        /// SshServiceStarted): for Get-MtvPendingOperation. Reads only.
        /// </summary>
        public static IReadOnlyList<PendingOperation> ReadPending(IReadOnlyList<VIConnection> connections, CancellationToken ct)
            => SshServiceRecords.ReadPending(connections, IsLiveRun, ct);

        // host name (as given to the shell cmdlets) -> what we started and the session that needed it
        private readonly ConcurrentDictionary<string, Started> _started = new ConcurrentDictionary<string, Started>(StringComparer.OrdinalIgnoreCase);

        /// <summary>The controller of the calling runspace (pipeline thread).</summary>
        public static SshServiceController ForCurrentRunspace() => ByRunspace.Current;

        /// <summary>
        /// Reads TSM-SSH of each host in one container-view read per connection (with the hosts'
        /// records) and one read of the record's field key, plus one RefreshServices and one property
        /// read per host found (RefreshServices first, so a service changed on the host itself, at the
        /// DCUI or by ESXi, is seen). Hosts not found in any connection are absent from the result.
        /// </summary>
        public IReadOnlyDictionary<string, SshServiceState> Read(IReadOnlyList<VIConnection> connections, IReadOnlyCollection<string> hostNames, CancellationToken ct)
        {
            var result = new Dictionary<string, SshServiceState>(StringComparer.OrdinalIgnoreCase);
            foreach (var c in connections)
            {
                var missing = hostNames.Where(h => !result.ContainsKey(h)).ToList();
                if (missing.Count == 0) break;
                var hosts = c.Client.Soap.RetrieveAllAsync("HostSystem", new[] { "name", "configManager.serviceSystem", SshServiceRecords.ValueProperty }, ct).GetAwaiter().GetResult();
                var recordKey = RecordKey(c, create: false, ct);
                foreach (var wanted in missing)
                {
                    var match = hosts.FirstOrDefault(h => h.Get("name")?.Value is string n && VCenterHostConnectionStateSource.SameHost(n, wanted));
                    var ssRef = match?.Get("configManager.serviceSystem");
                    if (match == null || ssRef == null) continue;
                    var serviceSystem = ParseRef(ssRef);
                    c.Client.Soap.InvokeAsync(E("RefreshServices", Ref("_this", serviceSystem)), ct).GetAwaiter().GetResult();
                    var info = c.Client.Soap.RetrievePropertiesAsync(VimSoapClient.PropertySpecFor("HostServiceSystem", "serviceInfo"),
                        new[] { VimSoapClient.ObjectSpec(serviceSystem) }, ct).GetAwaiter().GetResult().FirstOrDefault()?.Get("serviceInfo");
                    var ssh = info?.Children("service").FirstOrDefault(s => s.ChildValue("key") == ServiceKey);
                    if (ssh == null) continue; // a host without the service (not ESXi?): treated as not found
                    result[wanted] = new SshServiceState(c, match.Get("name")!.Value, match.Obj, serviceSystem, ssh.ChildBool("running") == true, ssh.ChildValue("policy"),
                        recordKey, SshServiceRecords.Find(match.Get(SshServiceRecords.ValueProperty), recordKey));
                }
            }
            return result;
        }

        /// <summary>
        /// Writes the durable record, starts TSM-SSH and remembers that this runspace started it (so
        /// closing the session stops it). Returns why the record could not be written (SSH is started
        /// anyway: it is what was asked), or null. Where the policy is "on" SSH is only started: it
        /// is never this module's to stop, so neither recorded nor remembered.
        /// </summary>
        public string? Start(string hostName, SshServiceState state, CancellationToken ct)
        {
            if (state.PolicyOn)
            {
                Invoke(state, "StartService", ct);
                return null;
            }
            string? problem = null;
            try
            {
                var key = RecordKey(state.Connection, create: true, ct) ?? throw new VimTransportException($"{state.Connection.Server} did not return the field's key.");
                SshServiceRecords.Set(state.Connection, state.Host, key, SshServiceRecord.ForThisProcess(state.Connection.User, Run).Format(), ct);
                state = new SshServiceState(state.Connection, state.HostName, state.Host, state.ServiceSystem, state.Running, state.Policy, key);
            }
            catch (Exception ex) when (ex is VimFaultException || ex is VimTransportException)
            {
                problem = ex.Message;
            }
            try
            {
                Invoke(state, "StartService", ct);
            }
            catch
            {
                ClearRecord(state, CancellationToken.None);
                throw;
            }
            _started[hostName] = new Started(state);
            return problem;
        }

        /// <summary>
        /// Finishes what an ended run's SSH on demand left (Resume-MtvPendingOperation): stops
        /// TSM-SSH, never where the policy is "on", and clears the record. Returns what was done, or
        /// null when the record's run may still be working (it stops SSH itself when it ends).
        /// </summary>
        public static string? FinishEndedRun(SshServiceState state, CancellationToken ct)
        {
            if (state.Record == null) return "no record on the host: nothing to do";
            if (!state.Record.IsOfEndedRun(DateTime.UtcNow, IsLiveRun)) return null;
            if (state.PolicyOn)
            {
                ClearRecord(state, ct);
                return "the service policy is 'on': SSH left running, the record cleared";
            }
            if (state.Running) Invoke(state, "StopService", ct);
            ClearRecord(state, ct);
            return state.Running ? "stopped SSH (TSM-SSH), which " + state.Record.Who + " had started, and cleared the record" : "SSH was already stopped; the record cleared";
        }

        /// <summary>Takes over SSH that an ended run started (its record is on the host): stopping it is now this runspace's.</summary>
        public void Adopt(string hostName, SshServiceState state) => _started[hostName] = new Started(state);

        /// <summary>Clears the host's record; a failure leaves a record whose SSH is stopped, which the next run clears.</summary>
        public static void ClearRecord(SshServiceState state, CancellationToken ct)
        {
            if (state.RecordKey is not int key) return;
            try
            {
                SshServiceRecords.Set(LiveConnection(state.Connection), state.Host, key, "", ct);
            }
            catch (Exception ex) when (ex is VimFaultException || ex is VimTransportException)
            {
                // harmless: see above
            }
        }

        private static int? RecordKey(VIConnection connection, bool create, CancellationToken ct)
        {
            try
            {
                return SshServiceRecords.FieldKey(connection, create, ct);
            }
            catch (Exception ex) when (!create && (ex is VimFaultException || ex is VimTransportException))
            {
                return null; // no record can exist there
            }
        }

        /// <summary>Binds a started service to the session that needed it (the session to close before SSH is stopped).</summary>
        public void BindSession(string hostName, int sessionId)
        {
            if (_started.TryGetValue(hostName, out var s)) s.SessionId = sessionId;
        }

        /// <summary>True when SSH on this host was started by this runspace for <paramref name="sessionId"/> (or for no session yet).</summary>
        public bool StartedFor(string hostName, int? sessionId)
            => _started.TryGetValue(hostName, out var s) && (s.SessionId == null || sessionId == null || s.SessionId == sessionId);

        /// <summary>Stops TSM-SSH again if this runspace started it for that session; returns whether it did.</summary>
        public bool StopIfStarted(string hostName, int? sessionId, CancellationToken ct)
        {
            if (!StartedFor(hostName, sessionId) || !_started.TryRemove(hostName, out var s)) return false;
            try
            {
                Invoke(s.State, "StopService", ct);
            }
            catch
            {
                _started[hostName] = s; // still ours to stop
                throw;
            }
            ClearRecord(s.State, ct);
            return true;
        }

        private static void Invoke(SshServiceState state, string method, CancellationToken ct)
        {
            var req = E(method, Ref("_this", state.ServiceSystem), E("id", ServiceKey));
            LiveConnection(state.Connection).Client.Soap.InvokeAsync(req, ct).GetAwaiter().GetResult();
        }

        // The connection that started the service may have been replaced since (a reconnect to the
        // same vCenter closes the old one): the runspace's live connection to that vCenter reaches
        // the same host service system.
        private static VIConnection LiveConnection(VIConnection started)
        {
            if (started.IsConnected) return started;
            var live = VIConnectionStore.Current.GetAll().FirstOrDefault(c => c.IsConnected && c.Port == started.Port &&
                string.Equals(c.Server, started.Server, StringComparison.OrdinalIgnoreCase));
            return live ?? throw new VimTransportException(
                $"the vCenter connection that started it ({started}) is closed and no other connection to {started} is open; log in to {started} again, then retry.");
        }

        private sealed class Started
        {
            public Started(SshServiceState state) => State = state;
            public SshServiceState State { get; }
            public int? SessionId { get; set; }
        }
    }
}
