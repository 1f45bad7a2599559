using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;
using MtvRemediation.VSphere;

namespace MtvRemediation.Remediation
{
    /// <summary>
    /// The pre-action state check of many CBT resets for the price of one read: the first VM to ask
    /// reads the power state of every VM still waiting to start, in one RetrievePropertiesEx, and
    /// VMs that start within <see cref="MaxAge"/> use that answer. A VM asking later triggers a new
    /// read (of those still waiting). The check exists because a plan may be minutes old after a
    /// confirmation prompt; an answer at most MaxAge old keeps that protection (the reset's own
    /// steps take longer than that between the check and the deletion anyway).
    /// Thread-safe: one instance per vCenter connection, shared by the parallel resets.
    /// </summary>
    internal sealed class VmStateSnapshot
    {
        private readonly IVSphereClient _client;
        private readonly HashSet<MoRef> _waiting;
        private readonly SemaphoreSlim _gate = new SemaphoreSlim(1, 1);
        private readonly Stopwatch _age = new Stopwatch();
        private IReadOnlyDictionary<MoRef, (string PowerState, bool ChangeTrackingEnabled)>? _states;
        private HashSet<MoRef> _asked = new HashSet<MoRef>();   // the VMs the last read asked for

        public VmStateSnapshot(IVSphereClient client, IEnumerable<MoRef> vmsAboutToStart, TimeSpan maxAge)
        {
            _client = client ?? throw new ArgumentNullException(nameof(client));
            _waiting = new HashSet<MoRef>(vmsAboutToStart);
            MaxAge = maxAge;
        }

        /// <summary>The default age limit of a shared answer.</summary>
        public static readonly TimeSpan DefaultMaxAge = TimeSpan.FromSeconds(1);

        public TimeSpan MaxAge { get; }

        /// <summary>Batched reads made so far (for tests and benchmarks).</summary>
        public int Reads { get; private set; }

        /// <summary>The VM's state now (at most MaxAge old); a VM the batch did not return is read on its own.</summary>
        public async Task<(string PowerState, bool ChangeTrackingEnabled)> GetAsync(MoRef vm, CancellationToken ct)
        {
            await _gate.WaitAsync(ct).ConfigureAwait(false);
            try
            {
                var fresh = _states != null && _age.Elapsed <= MaxAge && _asked.Contains(vm);
                if (!fresh && _waiting.Contains(vm))
                {
                    _asked = new HashSet<MoRef>(_waiting);
                    _states = await _client.GetVmStatesAsync(new List<MoRef>(_asked), ct).ConfigureAwait(false);
                    _age.Restart();
                    Reads++;
                }
                _waiting.Remove(vm);
                if (_states != null && _age.Elapsed <= MaxAge && _states.TryGetValue(vm, out var state)) return state;
            }
            finally
            {
                _gate.Release();
            }
            // Not in the batch (deleted, stale reference) or never announced: the single read gives the precise error.
            return await _client.GetVmStateAsync(vm, ct).ConfigureAwait(false);
        }
    }
}
