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
    public sealed class VIConnectionStore
    {
        private static readonly ConcurrentDictionary<Guid, VIConnectionStore> Stores = new ConcurrentDictionary<Guid, VIConnectionStore>();
        private static int _cleanupRegistered;

        private readonly object _gate = new object();
        private readonly List<VIConnection> _connections = new List<VIConnection>();

        /// <summary>The store of the calling runspace (or a process-wide one when there is none, e.g. in xunit).</summary>
        public static VIConnectionStore Current
        {
            get
            {
                if (Interlocked.Exchange(ref _cleanupRegistered, 1) == 0) ModuleLifetime.RegisterCleanup(CloseAll);
                var rs = Runspace.DefaultRunspace;
                var id = rs?.InstanceId ?? Guid.Empty;
                return Stores.GetOrAdd(id, _ =>
                {
                    if (rs != null)
                    {
                        rs.StateChanged += (s, e) =>
                        {
                            if (e.RunspaceStateInfo.State == RunspaceState.Closed && Stores.TryRemove(id, out var closed)) closed.CloseAllOwn();
                        };
                    }
                    return new VIConnectionStore();
                });
            }
        }

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
                VIConnector.CloseQuietly(c);
            }
        }

        private static void CloseAll()
        {
            // ModuleLifetime drops its handlers on removal: a later Import-Module must register again.
            Interlocked.Exchange(ref _cleanupRegistered, 0);
            foreach (var id in Stores.Keys.ToArray())
            {
                if (Stores.TryRemove(id, out var s)) s.CloseAllOwn();
            }
        }
    }
}
