using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation.Runspaces;
using MtvRemediation.Infrastructure;

namespace MtvRemediation.Esxi
{
    /// <summary>
    /// The ESXi shell sessions of one runspace, keyed by host name (case-insensitive). Get the
    /// store on the pipeline thread with <see cref="ForCurrentRunspace"/>, then use it from any
    /// thread: every member is thread-safe and none needs Runspace.DefaultRunspace.
    /// </summary>
    internal sealed class EsxiSessionStore
    {
        private static readonly PerRunspace<EsxiSessionStore> Stores = new PerRunspace<EsxiSessionStore>(id => new EsxiSessionStore(id), s => s.CloseAll());

        private readonly object _gate = new object();
        private readonly Dictionary<string, EsxiShellSession> _byHost = new Dictionary<string, EsxiShellSession>(StringComparer.OrdinalIgnoreCase);
        private readonly ConcurrentDictionary<string, object> _hostLocks = new ConcurrentDictionary<string, object>(StringComparer.OrdinalIgnoreCase);
        private int _lastId;

        internal EsxiSessionStore(Guid runspaceId)
        {
            RunspaceId = runspaceId;
        }

        /// <summary>InstanceId of the owning runspace (Guid.Empty outside any runspace).</summary>
        public Guid RunspaceId { get; }

        /// <summary>
        /// The store of <see cref="Runspace.DefaultRunspace"/> (<see cref="PerRunspace{T}"/>): call on
        /// the pipeline thread (for example in BeginProcessing/EndProcessing) and pass the store to
        /// worker threads.
        /// </summary>
        public static EsxiSessionStore ForCurrentRunspace() => Stores.Current;

        /// <summary>All sessions, ordered by id (a snapshot: safe to pipe into Disconnect-EsxiShell).</summary>
        public IReadOnlyList<EsxiShellSession> GetAll()
        {
            lock (_gate) return _byHost.Values.OrderBy(s => s.Id).ToArray();
        }

        public EsxiShellSession? Find(string hostName)
        {
            lock (_gate) return _byHost.TryGetValue(hostName, out var s) ? s : null;
        }

        public EsxiShellSession? Find(int id)
        {
            lock (_gate) return _byHost.Values.FirstOrDefault(s => s.Id == id);
        }

        /// <summary>Serializes connects to one host so parallel work for it makes one handshake.</summary>
        internal object LockFor(string hostName) => _hostLocks.GetOrAdd(hostName, _ => new object());

        /// <summary>Adds a connected shell, closing any older session for the same host.</summary>
        internal EsxiShellSession Add(SshEsxiShell shell)
        {
            EsxiShellSession? replaced;
            EsxiShellSession session;
            lock (_gate)
            {
                _byHost.TryGetValue(shell.HostName, out replaced);
                session = new EsxiShellSession(++_lastId, shell);
                _byHost[shell.HostName] = session;
            }
            replaced?.Shell.Dispose();
            return session;
        }

        /// <summary>Closes and forgets a session. False when it was not in this store.</summary>
        public bool Remove(EsxiShellSession session)
        {
            if (session is null) throw new ArgumentNullException(nameof(session));
            bool removed;
            lock (_gate)
            {
                removed = _byHost.TryGetValue(session.VMHost, out var current) && ReferenceEquals(current, session);
                if (removed) _byHost.Remove(session.VMHost);
            }
            session.Shell.Dispose();
            return removed;
        }

        /// <summary>Closes every session (module removal, runspace close).</summary>
        public void CloseAll()
        {
            EsxiShellSession[] all;
            lock (_gate)
            {
                all = _byHost.Values.ToArray();
                _byHost.Clear();
            }
            foreach (var s in all)
            {
                try { s.Shell.Dispose(); } catch { /* keep closing the others */ }
            }
        }
    }
}
