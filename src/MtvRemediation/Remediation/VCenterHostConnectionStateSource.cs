using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using MtvRemediation.VSphere;

namespace MtvRemediation.Remediation
{
    /// <summary>
    /// HostSystem.runtime.connectionState through the runspace's vCenter connections
    /// (Connect-MtvVIServer, or PowerCLI sessions adopted earlier). One container-view read of
    /// name + connectionState per poll; hosts match by inventory name, or by short name when one
    /// side is a FQDN.
    /// </summary>
    public sealed class VCenterHostConnectionStateSource : IHostConnectionStateSource
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

        public string? GetConnectionState(string hostName, CancellationToken cancellationToken)
        {
            Exception? lastError = null;
            foreach (var c in _connections)
            {
                try
                {
                    var hosts = c.Client.Soap.RetrieveAllAsync("HostSystem", new[] { "name", "runtime.connectionState" }, cancellationToken).GetAwaiter().GetResult();
                    foreach (var h in hosts)
                    {
                        var name = h.Get("name")?.Value;
                        if (name != null && SameHost(name, hostName)) return h.Get("runtime.connectionState")?.Value;
                    }
                }
                catch (Exception ex) when (ex is VimFaultException || ex is VimTransportException)
                {
                    lastError = ex; // vCenter itself unreachable: try the next connection, then report below
                }
            }
            if (lastError != null)
                throw new RemediationException(HostRemediationErrorIds.AgentRestartFailed, System.Management.Automation.ErrorCategory.ConnectionError,
                    $"Cannot read the connection state of '{hostName}' from vCenter: {lastError.Message}",
                    "Check the vCenter connection (Get-MtvVIServer), or run with -NoWait and check the host in vCenter.", lastError);
            return null;
        }

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
}
