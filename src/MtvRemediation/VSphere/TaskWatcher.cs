using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using System.Xml.Linq;
using static MtvRemediation.VSphere.VimXml;

namespace MtvRemediation.VSphere
{
    /// <summary>
    /// Waits for vCenter tasks the way vSphere clients do (govmomi property/wait.go, task/wait.go):
    /// a PropertyCollector of our own, a filter, and WaitForUpdatesEx, which returns when something
    /// changed - no polling, no sleeps. One filter serves every task of the session: it follows
    /// TaskManager.recentTask to each Task's info.state/result/error, so a new task costs no extra
    /// round trip and one WaitForUpdatesEx brings the news of every task that changed (10 VMs in
    /// parallel share it). The filter exists while someone waits and is destroyed
    /// (DestroyPropertyFilter) when nobody has waited for a second.
    /// </summary>
    internal sealed class TaskWatcher
    {
        private const int BusyWaitSeconds = 30; // server-side wait while tasks are outstanding
        private const int IdleWaitSeconds = 1;  // one short wait with nobody waiting, then the filter goes
        private static readonly TimeSpan UnseenCheck = TimeSpan.FromSeconds(5);
        private static readonly string[] InfoPaths = { "info.state", "info.result", "info.error" };

        private readonly VimSoapClient _soap;
        private readonly object _gate = new object();
        private readonly Dictionary<MoRef, List<TaskCompletionSource<XElement>>> _waiters = new Dictionary<MoRef, List<TaskCompletionSource<XElement>>>();
        private readonly Dictionary<MoRef, TaskState> _known = new Dictionary<MoRef, TaskState>();
        private MoRef? _collector;
        private bool _loopRunning;

        public TaskWatcher(VimSoapClient soap) => _soap = soap;

        /// <summary>Filters created and destroyed so far (tests prove the filter goes away).</summary>
        public int FiltersCreated { get; private set; }
        public int FiltersDestroyed { get; private set; }

        private sealed class TaskState
        {
            public string? State;
            public XElement? Result;
            public XElement? Error;
            public DateTime SeenAt;
            public bool Terminal => State == "success" || State == "error";

            /// <summary>A TaskInfo-shaped element (state, result, error) for the caller.</summary>
            public XElement ToInfo() => E("info", E("state", State), Result == null ? null : new XElement(Vim + "result", Result.Attributes(), Result.Nodes()),
                Error == null ? null : new XElement(Vim + "error", Error.Attributes(), Error.Nodes()));
        }

        /// <summary>The task's final info (state success or error); TimeoutException after <paramref name="timeout"/>.</summary>
        public async Task<XElement> WaitAsync(MoRef task, string method, TimeSpan timeout, CancellationToken ct)
        {
            var tcs = new TaskCompletionSource<XElement>(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_gate)
            {
                if (_known.TryGetValue(task, out var st) && st.Terminal) return st.ToInfo();
                if (!_waiters.TryGetValue(task, out var list)) _waiters[task] = list = new List<TaskCompletionSource<XElement>>();
                list.Add(tcs);
                if (!_loopRunning)
                {
                    _loopRunning = true;
                    _ = Task.Run(LoopAsync);
                }
            }
            var deadline = DateTime.UtcNow + timeout;
            try
            {
                while (true)
                {
                    var left = deadline - DateTime.UtcNow;
                    if (left <= TimeSpan.Zero)
                        throw new TimeoutException($"{method} (task {task.Value}) did not finish within {timeout.TotalSeconds:0} s; it may still be running in vCenter.");
                    var check = left < UnseenCheck ? left : UnseenCheck;
                    var done = await Task.WhenAny(tcs.Task, Task.Delay(check, ct)).ConfigureAwait(false);
                    if (done == tcs.Task) return await tcs.Task.ConfigureAwait(false);
                    ct.ThrowIfCancellationRequested();
                    bool seen;
                    lock (_gate) seen = _known.ContainsKey(task);
                    if (seen) continue;
                    // Not in recentTask (yet, or at all: another user's view, a full list): read it directly.
                    var objs = await _soap.RetrievePropertiesAsync(VimSoapClient.PropertySpecFor("Task", "info"), new[] { VimSoapClient.ObjectSpec(task) }, ct).ConfigureAwait(false);
                    var info = objs.FirstOrDefault()?.Get("info");
                    var state = info?.ChildValue("state");
                    if (state == "success" || state == "error") return info!;
                }
            }
            finally
            {
                lock (_gate)
                {
                    if (_waiters.TryGetValue(task, out var list))
                    {
                        list.Remove(tcs);
                        if (list.Count == 0) _waiters.Remove(task);
                    }
                }
            }
        }

        private async Task LoopAsync()
        {
            MoRef? filter = null;
            try
            {
                var collector = _collector ??= await CreateCollectorAsync().ConfigureAwait(false);
                filter = await CreateFilterAsync(collector).ConfigureAwait(false);
                FiltersCreated++;
                var version = "";
                var idleRounds = 0;
                while (true)
                {
                    int wait;
                    lock (_gate)
                    {
                        if (_waiters.Count > 0) idleRounds = 0;
                        else if (idleRounds++ >= 1)
                        {
                            _loopRunning = false;
                            break;
                        }
                        wait = _waiters.Count > 0 ? BusyWaitSeconds : IdleWaitSeconds;
                    }
                    var body = await _soap.InvokeAsync(E("WaitForUpdatesEx", Ref("_this", collector), E("version", version),
                        E("options", E("maxWaitSeconds", wait.ToString(System.Globalization.CultureInfo.InvariantCulture)))), CancellationToken.None).ConfigureAwait(false);
                    var set = body.Child("returnval");
                    if (set == null) continue; // maxWaitSeconds passed without a change
                    version = set.ChildValue("version") ?? version;
                    Apply(set);
                }
            }
            catch (Exception ex)
            {
                // The session or the link failed: every waiter learns it now; the next wait starts afresh.
                List<TaskCompletionSource<XElement>> failed;
                lock (_gate)
                {
                    failed = _waiters.Values.SelectMany(l => l).ToList();
                    _loopRunning = false;
                    if (ex is VimFaultException vf && vf.FaultName == "ManagedObjectNotFound") _collector = null;
                }
                foreach (var w in failed) w.TrySetException(ex);
            }
            if (filter is MoRef f)
            {
                try
                {
                    await _soap.InvokeAsync(E("DestroyPropertyFilter", Ref("_this", f)), CancellationToken.None).ConfigureAwait(false);
                    FiltersDestroyed++;
                }
                catch (Exception ex) when (ex is VimFaultException || ex is VimTransportException) { /* filters die with the session */ }
            }
        }

        private async Task<MoRef> CreateCollectorAsync()
        {
            var body = await _soap.InvokeAsync(E("CreatePropertyCollector", Ref("_this", _soap.ServiceContent!.PropertyCollector)), CancellationToken.None).ConfigureAwait(false);
            return ParseRef(body.Child("returnval") ?? throw new VimTransportException("CreatePropertyCollector returned no collector."));
        }

        private async Task<MoRef> CreateFilterAsync(MoRef collector)
        {
            var tm = _soap.ServiceContent!.TaskManager;
            var spec = E("spec",
                VimSoapClient.PropertySpecFor("Task", InfoPaths),
                E("objectSet", Ref("obj", tm), E("skip", "true"),
                    E("selectSet", Type("TraversalSpec"), E("name", "recentTask"), E("type", "TaskManager"), E("path", "recentTask"), E("skip", "false"))));
            var body = await _soap.InvokeAsync(E("CreateFilter", Ref("_this", collector), spec, E("partialUpdates", "false")), CancellationToken.None).ConfigureAwait(false);
            return ParseRef(body.Child("returnval") ?? throw new VimTransportException("CreateFilter returned no filter."));
        }

        private void Apply(XElement updateSet)
        {
            var finished = new List<(TaskCompletionSource<XElement> Waiter, XElement Info)>();
            lock (_gate)
            {
                foreach (var os in updateSet.Children("filterSet").SelectMany(f => f.Children("objectSet")))
                {
                    var objEl = os.Child("obj");
                    if (objEl == null) continue;
                    var obj = ParseRef(objEl);
                    if (obj.Type != "Task") continue;
                    if (os.ChildValue("kind") == "leave")
                    {
                        if (_known.TryGetValue(obj, out var gone) && !gone.Terminal) _known.Remove(obj); // fall back to a direct read
                        continue;
                    }
                    if (!_known.TryGetValue(obj, out var st)) _known[obj] = st = new TaskState();
                    st.SeenAt = DateTime.UtcNow;
                    foreach (var c in os.Children("changeSet"))
                    {
                        var val = c.Child("val");
                        var remove = c.ChildValue("op") == "remove";
                        switch (c.ChildValue("name"))
                        {
                            case "info.state": st.State = remove ? null : val?.Value; break;
                            case "info.result": st.Result = remove ? null : val; break;
                            case "info.error": st.Error = remove ? null : val; break;
                        }
                    }
                    if (st.Terminal && _waiters.TryGetValue(obj, out var list))
                    {
                        var info = st.ToInfo();
                        finished.AddRange(list.Select(w => (w, info)));
                    }
                }
                Prune();
            }
            foreach (var (w, info) in finished) w.TrySetResult(info);
        }

        // Finished tasks are kept a while (a task can finish before its caller starts waiting).
        private void Prune()
        {
            if (_known.Count < 2000) return;
            var cutoff = DateTime.UtcNow - TimeSpan.FromMinutes(10);
            foreach (var k in _known.Where(kv => kv.Value.Terminal && kv.Value.SeenAt < cutoff && !_waiters.ContainsKey(kv.Key)).Select(kv => kv.Key).ToList())
                _known.Remove(k);
        }
    }
}
