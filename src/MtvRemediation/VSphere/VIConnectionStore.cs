using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation.Runspaces;
using System.Threading;
using MtvRemediation.Infrastructure;

namespace MtvRemediation.VSphere
{
    /// <summary>
    /// vCenter connections of one runspace. Thread-safe; snapshots are returned as arrays so that
    /// <c>Get-MtvVIServer | Disconnect-MtvVIServer</c> can modify the store while enumerating.
    /// Our own logins are logged out when the runspace closes or the module is removed; adopted
    /// PowerCLI sessions are never logged out (they belong to PowerCLI).
    /// </summary>
    internal sealed class VIConnectionStore
    {
        private static readonly PerRunspace<VIConnectionStore> Stores = new PerRunspace<VIConnectionStore>(_ => new VIConnectionStore(), s => s.CloseAllOwn());

        private readonly object _gate = new object();
        private readonly List<VIConnection> _connections = new List<VIConnection>();

        /// <summary>The store of the calling runspace (<see cref="PerRunspace{T}"/>; a process-wide one when there is none, e.g. in xunit).</summary>
        public static VIConnectionStore Current => Stores.Current;

        public VIConnection[] GetAll()
        {
            lock (_gate) return _connections.ToArray();
        }

        public void Add(VIConnection connection)
        {
            lock (_gate)
            {
                _connections.Remove(connection);
                _connections.Add(connection);
            }
        }

        public bool Remove(VIConnection connection)
        {
            lock (_gate) return _connections.Remove(connection);
        }

        /// <summary>A connection already holding this PowerCLI session (same service URL and secret), if any.</summary>
        public VIConnection? FindAdopted(string adoptedKey)
        {
            lock (_gate) return _connections.LastOrDefault(c => c.AdoptedKey == adoptedKey && c.IsConnected);
        }

        /// <summary>Marks a connection dead (session expired) and drops it if it was adopted implicitly, so the next call re-adopts.</summary>
        public void MarkExpired(VIConnection connection)
        {
            connection.IsConnected = false;
            if (connection.AutoAdopted) Remove(connection);
        }

        private void CloseAllOwn()
        {
            foreach (var c in GetAll())
            {
                Remove(c);
                CloseQuietly(c);
            }
        }

        /// <summary>Logs out our own sessions (never adopted ones) and releases the HTTP client; never throws.</summary>
        public static void CloseQuietly(VIConnection connection)
        {
            try
            {
                if (!connection.AdoptedFromPowerCli && connection.IsConnected)
                {
                    using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                    connection.Client.Soap.LogoutAsync(cts.Token).GetAwaiter().GetResult();
                }
            }
            catch (Exception) { /* best effort: the server expires idle sessions anyway */ }
            finally
            {
                connection.IsConnected = false;
                connection.Client.Soap.Dispose();
            }
        }
    }
}
