using System;
using System.Collections.Concurrent;
using System.Management.Automation.Runspaces;

namespace MtvRemediation.Infrastructure
{
    /// <summary>
    /// The one per-runspace store of the module (vCenter connections and ESXi shell sessions both
    /// live in one): a <typeparamref name="T"/> per runspace, created on first use on the pipeline
    /// thread, closed when its runspace closes or breaks, and when the module is removed from that
    /// runspace. Outside any runspace (xunit) one process-wide instance serves, closed on removal too.
    /// Get it on the pipeline thread and hand it to workers: they have no default runspace.
    /// </summary>
    internal sealed class PerRunspace<T> where T : class
    {
        private readonly ConcurrentDictionary<Guid, T> _stores = new ConcurrentDictionary<Guid, T>();
        private readonly Func<Guid, T> _create;
        private readonly Action<T> _close;
        private readonly object _gate = new object();
        private bool _cleanupRegistered;

        public PerRunspace(Func<Guid, T> create, Action<T> close)
        {
            _create = create;
            _close = close;
        }

        /// <summary>The store of <see cref="Runspace.DefaultRunspace"/> (pipeline thread only).</summary>
        public T Current => For(Runspace.DefaultRunspace);

        public T For(Runspace? runspace)
        {
            var id = runspace?.InstanceId ?? Guid.Empty;
            if (_stores.TryGetValue(id, out var existing)) return existing;
            var created = _create(id);
            var store = _stores.GetOrAdd(id, created);
            if (ReferenceEquals(store, created))
            {
                if (runspace != null)
                {
                    runspace.StateChanged += (_, e) =>
                    {
                        var s = e.RunspaceStateInfo.State;
                        if (s == RunspaceState.Closed || s == RunspaceState.Broken) Release(id);
                    };
                }
                EnsureModuleCleanup();
            }
            return store;
        }

        private void Release(Guid id)
        {
            if (_stores.TryRemove(id, out var store)) _close(store);
        }

        // Remove-Module closes the stores of the runspace that removes it (and the process-wide one).
        // ModuleLifetime drops its handlers on each removal, so while other runspaces keep stores
        // the handler registers itself again.
        private void EnsureModuleCleanup()
        {
            lock (_gate)
            {
                if (_cleanupRegistered) return;
                _cleanupRegistered = true;
            }
            ModuleLifetime.RegisterCleanup(() =>
            {
                lock (_gate) _cleanupRegistered = false;
                Release(Runspace.DefaultRunspace?.InstanceId ?? Guid.Empty);
                Release(Guid.Empty);
                if (!_stores.IsEmpty) EnsureModuleCleanup();
            });
        }
    }
}
