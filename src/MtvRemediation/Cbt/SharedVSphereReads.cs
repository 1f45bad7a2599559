using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using MtvRemediation.Esxi;
using MtvRemediation.VSphere;

namespace MtvRemediation.Cbt
{
    /// <summary>
    /// The reads many parallel CBT inspections and resets of one vCenter make, shared: a VM's
    /// folder listing and its power/CBT state are asked for here, and the requests that arrive
    /// together (within <see cref="Linger"/>, or while the previous read is on the wire) are
    /// answered by one read: one SearchDatastoreSubFolders_Task per datastore for several VM
    /// folders, one RetrievePropertiesEx for several VMs' states.
    /// <para>
    /// Every answer of <see cref="SearchFolderAsync"/> and <see cref="GetVmStateAsync"/> comes from
    /// a read that started after the request was made, so a listing asked for after a delete or a
    /// power-on shows the state after it, exactly as a read of its own would. A request the batch
    /// cannot answer (a folder the batched listing does not name, a VM it did not return, a failed
    /// batch) is read on its own, which also gives the precise error. vSAN datastores are never
    /// searched with subfolders (how their namespace directories appear in such a listing is
    /// unverified): their folders are listed one by one.
    /// </para>
    /// <para>
    /// The state check before a reset acts (<see cref="GetRecentVmStateAsync"/>) accepts an answer
    /// up to <see cref="RecentStateMaxAge"/> old instead: every state read also reads the VMs
    /// announced with <see cref="ExpectStateChecks"/> that have not asked yet, so the resets that
    /// start together are checked by one read, and the check stays as fresh as it must be (a plan
    /// may be minutes old after a confirmation prompt; the reset's own steps take longer than
    /// RecentStateMaxAge between the check and the deletion anyway).
    /// </para>
    /// Thread-safe; one instance per vCenter connection per cmdlet call.
    /// </summary>
    internal sealed class SharedVSphereReads
    {
        /// <summary>Every listing asks for this pattern (descriptors and their -ctk.vmdk files).</summary>
        public const string FilePattern = "*.vmdk";

        /// <summary>How long the first request of a batch waits for others (VMs of a wave finish within a few ms of each other).</summary>
        public static readonly TimeSpan DefaultLinger = TimeSpan.FromMilliseconds(60);

        /// <summary>The default age limit of an answer to a state check.</summary>
        public static readonly TimeSpan DefaultRecentStateMaxAge = TimeSpan.FromSeconds(1);

        private readonly IVSphereClient _client;
        private readonly ReadBatcher<(DatastoreInfo Ds, string Folder), IReadOnlyList<DatastoreFile>> _search;
        private readonly ReadBatcher<(MoRef Vm, bool Recent), (string PowerState, bool ChangeTrackingEnabled)> _state;

        // State reads: what the latest read said of each VM (null: not returned) and when it started,
        // and the VMs announced for a state check that have not asked yet (in announcement order).
        private readonly object _stateGate = new object();
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private readonly Dictionary<MoRef, ((string, bool)? State, TimeSpan ReadAt)> _lastRead = new Dictionary<MoRef, ((string, bool)?, TimeSpan)>();
        private readonly List<MoRef> _expected = new List<MoRef>();
        private int _stateReads;

        public SharedVSphereReads(IVSphereClient client) : this(client, DefaultLinger, DefaultRecentStateMaxAge) { }

        public SharedVSphereReads(IVSphereClient client, TimeSpan linger) : this(client, linger, DefaultRecentStateMaxAge) { }

        public SharedVSphereReads(IVSphereClient client, TimeSpan linger, TimeSpan recentStateMaxAge)
        {
            _client = client ?? throw new ArgumentNullException(nameof(client));
            Linger = linger;
            RecentStateMaxAge = recentStateMaxAge;
            _search = new ReadBatcher<(DatastoreInfo Ds, string Folder), IReadOnlyList<DatastoreFile>>(linger, SearchBatchAsync,
                (r, ct) => _client.SearchFolderAsync(r.Ds, r.Folder, FilePattern, ct));
            _state = new ReadBatcher<(MoRef Vm, bool Recent), (string PowerState, bool ChangeTrackingEnabled)>(linger, StateBatchAsync,
                (r, ct) => _client.GetVmStateAsync(r.Vm, ct));
        }

        public IVSphereClient Client => _client;

        /// <summary>How long a first request waits for others to join it.</summary>
        public TimeSpan Linger { get; }

        /// <summary>How old an answer to <see cref="GetRecentVmStateAsync"/> may be.</summary>
        public TimeSpan RecentStateMaxAge { get; }

        /// <summary>Batched listings and state reads sent so far (tests and benchmarks).</summary>
        public int SearchReads => _search.Reads;
        public int StateReads => Volatile.Read(ref _stateReads);

        /// <summary>The <see cref="FilePattern"/> files of one folder, as a SearchDatastore_Task of its own would list them.</summary>
        public Task<IReadOnlyList<DatastoreFile>> SearchFolderAsync(DatastoreInfo datastore, string folder, CancellationToken ct) =>
            _search.GetAsync((datastore, folder.Trim('/')), ct);

        /// <summary>runtime.powerState and config.changeTrackingEnabled, read after this call began.</summary>
        public Task<(string PowerState, bool ChangeTrackingEnabled)> GetVmStateAsync(MoRef vm, CancellationToken ct) =>
            _state.GetAsync((vm, false), ct);

        /// <summary>Announces VMs whose state will be checked soon (the approved resets): every state read reads them too.</summary>
        public void ExpectStateChecks(IEnumerable<MoRef> vms)
        {
            lock (_stateGate)
                foreach (var vm in vms)
                    if (!_expected.Contains(vm)) _expected.Add(vm);
        }

        /// <summary>The VM's state, at most <see cref="RecentStateMaxAge"/> old: the check before a reset acts.</summary>
        public Task<(string PowerState, bool ChangeTrackingEnabled)> GetRecentVmStateAsync(MoRef vm, CancellationToken ct)
        {
            // No lingering: the read includes every announced VM anyway.
            return _state.GetAsync((vm, true), ct, now: true);
        }

        private async Task<IReadOnlyDictionary<int, (string, bool)>> StateBatchAsync(IReadOnlyList<(MoRef Vm, bool Recent)> requests, CancellationToken ct)
        {
            var answers = new Dictionary<int, (string, bool)>();
            var toRead = new List<int>();
            List<MoRef> vms;
            TimeSpan started;
            lock (_stateGate)
            {
                for (var i = 0; i < requests.Count; i++)
                {
                    var (vm, recent) = requests[i];
                    // It has asked: later reads need not carry it (until its request is in a batch, they do).
                    if (recent) _expected.Remove(vm);
                    if (recent && _lastRead.TryGetValue(vm, out var last) && _clock.Elapsed - last.ReadAt <= RecentStateMaxAge)
                    {
                        // Not returned by that read: left unanswered, so it is read on its own for the precise error.
                        if (last.State is (string, bool) state) answers[i] = state;
                    }
                    else toRead.Add(i);
                }
                if (toRead.Count == 0) return answers;
                vms = toRead.Select(i => requests[i].Vm).Concat(_expected).Distinct().ToList();
                started = _clock.Elapsed;
            }
            Interlocked.Increment(ref _stateReads);
            var states = await _client.GetVmStatesAsync(vms, ct).ConfigureAwait(false);
            lock (_stateGate)
                foreach (var vm in vms)
                    _lastRead[vm] = (states.TryGetValue(vm, out var s) ? s : ((string, bool)?)null, started);
            foreach (var i in toRead)
                if (states.TryGetValue(requests[i].Vm, out var s)) answers[i] = s;
            return answers;
        }

        private async Task<IReadOnlyDictionary<int, IReadOnlyList<DatastoreFile>>> SearchBatchAsync(IReadOnlyList<(DatastoreInfo Ds, string Folder)> requests, CancellationToken ct)
        {
            var answers = new Dictionary<int, IReadOnlyList<DatastoreFile>>();
            var groups = requests.Select((r, i) => (r, i)).GroupBy(x => x.r.Ds.MoRef).ToList();
            var work = groups.Select(async g =>
            {
                var ds = g.First().r.Ds;
                var folders = g.Select(x => x.r.Folder).Distinct(StringComparer.Ordinal).ToList();
                IReadOnlyDictionary<string, IReadOnlyList<DatastoreFile>> listed;
                if (folders.Count == 1)
                {
                    var files = await _client.SearchFolderAsync(ds, folders[0], FilePattern, ct).ConfigureAwait(false);
                    listed = new Dictionary<string, IReadOnlyList<DatastoreFile>> { [folders[0]] = files };
                }
                else if (!ds.IsVsan && _client is VSphereClient soap)
                    listed = await soap.SearchSubFoldersAsync(ds, CommonRoot(folders), FilePattern, ct).ConfigureAwait(false);
                else return Array.Empty<(int, IReadOnlyList<DatastoreFile>)>(); // one by one (vSAN, or a client without subfolder search)
                return g.Where(x => listed.ContainsKey(x.r.Folder)).Select(x => (x.i, listed[x.r.Folder])).ToArray();
            });
            foreach (var done in await Task.WhenAll(work).ConfigureAwait(false))
                foreach (var (i, files) in done) answers[i] = files;
            return answers;
        }

        /// <summary>The deepest folder that holds all of them ("" = the datastore root).</summary>
        internal static string CommonRoot(IReadOnlyList<string> folders)
        {
            var parts = folders[0].Split('/').ToList();
            foreach (var f in folders.Skip(1))
            {
                var other = f.Split('/');
                var n = 0;
                while (n < parts.Count && n < other.Length && parts[n] == other[n]) n++;
                parts.RemoveRange(n, parts.Count - n);
            }
            return string.Join("/", parts);
        }
    }

    /// <summary>
    /// Coalesces requests into batch reads. A request joins the batch being gathered; the batch is
    /// read once <c>linger</c> has passed (at once when a request asks for it <c>now</c>) and the
    /// previous batch has come back, so every request is answered by a read that started after it
    /// was made. Requests the batch leaves unanswered (or all of them when the batch fails) are
    /// read one by one on the caller's own token.
    /// </summary>
    internal sealed class ReadBatcher<TRequest, TResult>
    {
        private sealed class Pending
        {
            public Pending(TRequest request) => Request = request;
            public TRequest Request { get; }
            public TaskCompletionSource<(bool Answered, TResult Value)> Done { get; } =
                new TaskCompletionSource<(bool, TResult)>(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        private static readonly TimeSpan BatchTimeout = TimeSpan.FromMinutes(2);
        private readonly TimeSpan _linger;
        private readonly Func<IReadOnlyList<TRequest>, CancellationToken, Task<IReadOnlyDictionary<int, TResult>>> _readBatch;
        private readonly Func<TRequest, CancellationToken, Task<TResult>> _readOne;
        private readonly object _gate = new object();
        private List<Pending> _pending = new List<Pending>();
        private TaskCompletionSource<bool> _now = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        private bool _running;
        private int _reads;

        public ReadBatcher(TimeSpan linger,
            Func<IReadOnlyList<TRequest>, CancellationToken, Task<IReadOnlyDictionary<int, TResult>>> readBatch,
            Func<TRequest, CancellationToken, Task<TResult>> readOne)
        {
            _linger = linger;
            _readBatch = readBatch;
            _readOne = readOne;
        }

        public int Reads => Volatile.Read(ref _reads);

        public async Task<TResult> GetAsync(TRequest request, CancellationToken ct, bool now = false)
        {
            var p = new Pending(request);
            lock (_gate)
            {
                _pending.Add(p);
                if (now) _now.TrySetResult(true);
                if (!_running)
                {
                    _running = true;
                    _ = Task.Run(LoopAsync);
                }
            }
            var cancelled = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            using (ct.Register(() => cancelled.TrySetResult(true)))
            {
                var first = await Task.WhenAny(p.Done.Task, cancelled.Task).ConfigureAwait(false);
                ct.ThrowIfCancellationRequested();
                var (answered, value) = await p.Done.Task.ConfigureAwait(false);
                if (answered) return value;
            }
            return await _readOne(request, ct).ConfigureAwait(false);
        }

        private async Task LoopAsync()
        {
            while (true)
            {
                Task now;
                lock (_gate) now = _now.Task;
                await Task.WhenAny(Task.Delay(_linger), now).ConfigureAwait(false);
                List<Pending> batch;
                lock (_gate)
                {
                    batch = _pending;
                    _pending = new List<Pending>();
                    if (_now.Task.IsCompleted) _now = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
                    if (batch.Count == 0)
                    {
                        _running = false;
                        return;
                    }
                }
                IReadOnlyDictionary<int, TResult>? answers = null;
                try
                {
                    using var timeout = new CancellationTokenSource(BatchTimeout);
                    Interlocked.Increment(ref _reads);
                    answers = await _readBatch(batch.Select(b => b.Request).ToList(), timeout.Token).ConfigureAwait(false);
                }
                catch (Exception) { /* each request is read on its own: that read reports the error */ }
                for (var i = 0; i < batch.Count; i++)
                {
                    if (answers != null && answers.TryGetValue(i, out var v)) batch[i].Done.TrySetResult((true, v));
                    else batch[i].Done.TrySetResult((false, default!));
                }
            }
        }
    }
}
