using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using MtvRemediation.VSphere;

namespace MtvRemediation.Remediation
{
    /// <summary>
    /// The reads many parallel CBT inspections and resets of one vCenter make, shared: a VM's
    /// folder listing and its power/CBT state are asked for here, and the requests that arrive
    /// together (within <see cref="Linger"/>, or while the previous read is on the wire) are
    /// answered by one read: one SearchDatastoreSubFolders_Task per datastore for several VM
    /// folders, one RetrievePropertiesEx for several VMs' states.
    /// <para>
    /// Every answer comes from a read that started after the request was made, so a listing asked
    /// for after a delete or a power-on shows the state after it, exactly as a read of its own
    /// would. A request the batch cannot answer (a folder the batched listing does not name, a VM
    /// it did not return, a failed batch) is read on its own, which also gives the precise error.
    /// vSAN datastores are never searched with subfolders (how their namespace directories appear
    /// in such a listing is unverified): their folders are listed one by one.
    /// </para>
    /// Thread-safe; one instance per vCenter connection per cmdlet call.
    /// </summary>
    internal sealed class SharedVSphereReads
    {
        /// <summary>Every listing asks for this pattern (descriptors and their -ctk.vmdk files).</summary>
        public const string FilePattern = "*.vmdk";

        private readonly IVSphereClient _client;
        private readonly ReadBatcher<(DatastoreInfo Ds, string Folder), IReadOnlyList<DatastoreFile>> _search;
        private readonly ReadBatcher<MoRef, (string PowerState, bool ChangeTrackingEnabled)> _state;

        public SharedVSphereReads(IVSphereClient client) : this(client, DefaultLinger) { }

        /// <summary>How long the first request of a batch waits for others (VMs of a wave finish within a few ms of each other).</summary>
        public static readonly TimeSpan DefaultLinger = TimeSpan.FromMilliseconds(60);

        public SharedVSphereReads(IVSphereClient client, TimeSpan linger)
        {
            _client = client ?? throw new ArgumentNullException(nameof(client));
            Linger = linger;
            _search = new ReadBatcher<(DatastoreInfo Ds, string Folder), IReadOnlyList<DatastoreFile>>(linger, SearchBatchAsync,
                (r, ct) => _client.SearchFolderAsync(r.Ds, r.Folder, FilePattern, ct));
            _state = new ReadBatcher<MoRef, (string PowerState, bool ChangeTrackingEnabled)>(linger, StateBatchAsync, (vm, ct) => _client.GetVmStateAsync(vm, ct));
        }

        /// <summary>How long a first request waits for others to join it.</summary>
        public TimeSpan Linger { get; }

        /// <summary>Batched listings and state reads sent so far (tests and benchmarks).</summary>
        public int SearchReads => _search.Reads;
        public int StateReads => _state.Reads;

        /// <summary>The <see cref="FilePattern"/> files of one folder, as a SearchDatastore_Task of its own would list them.</summary>
        public Task<IReadOnlyList<DatastoreFile>> SearchFolderAsync(DatastoreInfo datastore, string folder, CancellationToken ct) =>
            _search.GetAsync((datastore, folder.Trim('/')), ct);

        /// <summary>runtime.powerState and config.changeTrackingEnabled, read after this call began.</summary>
        public Task<(string PowerState, bool ChangeTrackingEnabled)> GetVmStateAsync(MoRef vm, CancellationToken ct) =>
            _state.GetAsync(vm, ct);

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

        private async Task<IReadOnlyDictionary<int, (string, bool)>> StateBatchAsync(IReadOnlyList<MoRef> vms, CancellationToken ct)
        {
            var states = await _client.GetVmStatesAsync(vms.Distinct().ToList(), ct).ConfigureAwait(false);
            var answers = new Dictionary<int, (string, bool)>();
            for (var i = 0; i < vms.Count; i++)
                if (states.TryGetValue(vms[i], out var s)) answers[i] = s;
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
    /// read once <c>linger</c> has passed and the previous batch has come back, so every request is
    /// answered by a read that started after it was made. Requests the batch leaves unanswered (or
    /// all of them when the batch fails) are read one by one on the caller's own token.
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

        public async Task<TResult> GetAsync(TRequest request, CancellationToken ct)
        {
            var p = new Pending(request);
            lock (_gate)
            {
                _pending.Add(p);
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
                await Task.Delay(_linger).ConfigureAwait(false);
                List<Pending> batch;
                lock (_gate)
                {
                    batch = _pending;
                    _pending = new List<Pending>();
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
