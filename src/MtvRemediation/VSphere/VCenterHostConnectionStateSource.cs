using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using MtvRemediation.Esxi;
using MtvRemediation.Infrastructure;
using MtvRemediation.VSphere;

namespace MtvRemediation.VSphere
{
    /// <summary>
    /// HostSystem.runtime.connectionState through the runspace's vCenter connections
    /// (Connect-MtvVIServer, or PowerCLI sessions adopted earlier): the host is found by inventory
    /// name (or short name when one side is a FQDN), then followed with a PropertyCollector filter
    /// and WaitForUpdatesEx, so every change vCenter makes is seen, however short.
    /// </summary>
    internal sealed class VCenterHostConnectionStateSource : IHostConnectionStateSource
    {
        private readonly IReadOnlyList<VIConnection> _connections;

        private VCenterHostConnectionStateSource(IReadOnlyList<VIConnection> connections) => _connections = connections;

        /// <summary>A source over the current runspace's live connections, or null when there is none (pipeline thread).</summary>
        public static IHostConnectionStateSource? ForCurrentRunspace()
        {
            var live = VIConnectionStore.Current.GetAll().Where(c => c.IsConnected).ToList();
            return live.Count == 0 ? null : new VCenterHostConnectionStateSource(live);
        }

        public IReadOnlyList<VIConnection> Connections => _connections;

        public IHostConnectionWatch? Watch(string hostName, CancellationToken cancellationToken)
        {
            Exception? lastError = null;
            foreach (var c in _connections)
            {
                try
                {
                    var hosts = c.Client.Soap.RetrieveAllAsync("HostSystem", new[] { "name" }, cancellationToken).GetAwaiter().GetResult();
                    foreach (var h in hosts)
                    {
                        var name = h.Get("name")?.Value;
                        if (name != null && SameHost(name, hostName))
                            return HostConnectionWatch.Start(c.Client.Soap, h.Obj, hostName, cancellationToken);
                    }
                }
                catch (Exception ex) when (ex is VimFaultException || ex is VimTransportException)
                {
                    lastError = ex; // vCenter itself unreachable: try the next connection, then report below
                }
            }
            if (lastError != null) throw Unreadable(hostName, lastError);
            return null;
        }

        internal static RemediationException Unreadable(string hostName, Exception error) =>
            new RemediationException(HostRemediationErrorIds.AgentRestartFailed, System.Management.Automation.ErrorCategory.ConnectionError,
                $"Cannot read the connection state of '{hostName}' from vCenter: {error.Message}",
                "Check the vCenter connection, or run with -NoWait and check the host in vCenter.", error)
            { Next = NextCommand.ShowVCenter };

        internal static bool SameHost(string vcenterName, string hostName)
        {
            if (string.Equals(vcenterName, hostName, StringComparison.OrdinalIgnoreCase)) return true;
            // esx01 vs esx01.example.com: compare short names only when exactly one side is qualified.
            var a = vcenterName.Split('.');
            var b = hostName.Split('.');
            if ((a.Length == 1) == (b.Length == 1)) return false;
            if (IsIpAddress(vcenterName) || IsIpAddress(hostName)) return false;
            return string.Equals(a[0], b[0], StringComparison.OrdinalIgnoreCase);
        }

        private static bool IsIpAddress(string s) => System.Net.IPAddress.TryParse(s, out _);
    }

    /// <summary>
    /// One host's runtime.connectionState followed with its own PropertyCollector
    /// (CreatePropertyCollector, CreateFilter, WaitForUpdatesEx; DestroyPropertyCollector, which
    /// also destroys the filter, when disposed).
    /// </summary>
    internal sealed class HostConnectionWatch : IHostConnectionWatch
    {
        private const int MaxWaitSeconds = 5;
        private readonly VimSoapClient _soap;
        private readonly MoRef _host;
        private readonly string _hostName;
        private readonly object _gate = new object();
        private readonly List<HostStateSample> _samples = new List<HostStateSample>();
        private readonly CancellationTokenSource _stop = new CancellationTokenSource();
        private Exception? _error;
        private MoRef? _collector;

        private HostConnectionWatch(VimSoapClient soap, MoRef host, string hostName)
        {
            _soap = soap;
            _host = host;
            _hostName = hostName;
        }

        /// <summary>Creates the filter and reads the current state (so the first sample exists on return).</summary>
        public static HostConnectionWatch Start(VimSoapClient soap, MoRef host, string hostName, CancellationToken ct)
        {
            var w = new HostConnectionWatch(soap, host, hostName);
            var version = w.OpenAsync(ct).GetAwaiter().GetResult();
            _ = Task.Run(() => w.LoopAsync(version));
            return w;
        }

        public IReadOnlyList<HostStateSample> Samples
        {
            get { lock (_gate) return _samples.ToArray(); }
        }

        public bool WaitForChange(TimeSpan timeout, CancellationToken cancellationToken)
        {
            var deadline = DateTime.UtcNow + timeout;
            lock (_gate)
            {
                var count = _samples.Count;
                while (_samples.Count == count && _error == null)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var left = deadline - DateTime.UtcNow;
                    if (left <= TimeSpan.Zero) return false;
                    Monitor.Wait(_gate, left < TimeSpan.FromMilliseconds(200) ? left : TimeSpan.FromMilliseconds(200));
                }
                if (_error != null) throw VCenterHostConnectionStateSource.Unreadable(_hostName, _error);
                return true;
            }
        }

        private async Task<string> OpenAsync(CancellationToken ct)
        {
            var sc = _soap.ServiceContent ?? throw new InvalidOperationException("RetrieveServiceContent has not been called.");
            var pc = await _soap.InvokeAsync(VimXml.E("CreatePropertyCollector", VimXml.Ref("_this", sc.PropertyCollector)), ct).ConfigureAwait(false);
            _collector = VimXml.ParseRef(pc.Child("returnval") ?? throw new VimTransportException("CreatePropertyCollector returned no collector."));
            var spec = VimXml.E("spec", VimSoapClient.PropertySpecFor("HostSystem", "runtime.connectionState"), VimSoapClient.ObjectSpec(_host));
            await _soap.InvokeAsync(VimXml.E("CreateFilter", VimXml.Ref("_this", _collector.Value), spec, VimXml.E("partialUpdates", "false")), ct).ConfigureAwait(false);
            return await WaitOnceAsync("", ct).ConfigureAwait(false) ?? "";
        }

        private async Task LoopAsync(string version)
        {
            try
            {
                while (!_stop.IsCancellationRequested)
                    version = await WaitOnceAsync(version, _stop.Token).ConfigureAwait(false) ?? version;
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested) { }
            catch (Exception ex)
            {
                lock (_gate)
                {
                    _error = ex;
                    Monitor.PulseAll(_gate);
                }
            }
        }

        // One WaitForUpdatesEx; records the state it brings. Returns the new version (null: no change).
        private async Task<string?> WaitOnceAsync(string version, CancellationToken ct)
        {
            var body = await _soap.InvokeAsync(VimXml.E("WaitForUpdatesEx", VimXml.Ref("_this", _collector!.Value), VimXml.E("version", version),
                VimXml.E("options", VimXml.E("maxWaitSeconds", version.Length == 0 ? "0" : MaxWaitSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)))), ct).ConfigureAwait(false);
            var set = body.Child("returnval");
            if (set == null) return null;
            foreach (var change in set.Children("filterSet").SelectMany(f => f.Children("objectSet")).SelectMany(o => o.Children("changeSet")))
            {
                if (change.ChildValue("name") != "runtime.connectionState") continue;
                var state = change.Child("val")?.Value;
                if (string.IsNullOrEmpty(state)) continue;
                lock (_gate)
                {
                    _samples.Add(new HostStateSample(state!, DateTime.UtcNow));
                    Monitor.PulseAll(_gate);
                }
            }
            return set.ChildValue("version");
        }

        public void Dispose()
        {
            if (_stop.IsCancellationRequested) return;
            _stop.Cancel();
            var collector = _collector;
            if (collector == null) return;
            // The collector (and its filter) goes away in the background: the outstanding wait ends
            // within MaxWaitSeconds anyway, and a dead session takes both with it.
            _ = Task.Run(async () =>
            {
                try { await _soap.InvokeAsync(VimXml.E("DestroyPropertyCollector", VimXml.Ref("_this", collector.Value)), CancellationToken.None).ConfigureAwait(false); }
                catch (Exception ex) when (ex is VimFaultException || ex is VimTransportException) { }
            });
        }
    }
}
