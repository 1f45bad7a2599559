using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Threading;

namespace MtvRemediation.Infrastructure
{
    /// <summary>
    /// The one fan-out of the module: runs work for every item on up to a throttle of dedicated
    /// threads (SSH.NET blocks; thread-pool tasks would starve) while the pipeline thread writes
    /// what the work emits as it arrives, and a progress bar that counts what is really done and
    /// names what is still pending.
    /// <para>
    /// Stop means stop: a worker takes its next item only once everything it wrote before has
    /// reached the pipeline. So when writing throws on the pipeline thread (-ErrorAction Stop on
    /// an item's error, Select-Object -First, Ctrl+C), no item starts after it: the outstanding
    /// work is cancelled at once and a warning names the items that were not touched and those
    /// interrupted while running.
    /// </para>
    /// </summary>
    internal sealed class ParallelRunner<T>
    {
        // The progress bar is written again at this interval while nothing arrives: PowerShell's
        // console renders progress at most every ~200 ms, so the last record of a burst (two fast
        // hosts finishing together) would otherwise stay unseen while a slow host runs on.
        private static readonly TimeSpan ProgressRefresh = TimeSpan.FromMilliseconds(500);

        // How long the stopped workers get to unwind before the stop returns (every remote wait
        // observes the token). Short: Ctrl+C must answer promptly; a step that must not be cut in
        // half (a log's write-back, an agent restart) finishes on its worker after the stop returns,
        // and the stop report names its host as interrupted.
        private static readonly TimeSpan UnwindTimeout = TimeSpan.FromSeconds(1.5);

        private readonly MtvCmdlet _cmdlet;
        private readonly CancellationTokenSource _cancel;
        private readonly IReadOnlyList<T> _items;
        private readonly string _activity;
        private readonly Func<T, string> _describe;
        private readonly int _activityId;
        private readonly OrderedQueue _queue = new OrderedQueue();

        // 0 = queued, 1 = running, 2 = done; written by workers, read on the pipeline thread.
        private readonly int[] _state;
        private readonly string?[] _steps; // what a running item reports it is doing (IOutputSink.ReportStep)
        private int _next = -1;
        private int _done;

        public ParallelRunner(MtvCmdlet cmdlet, CancellationTokenSource cancel, IReadOnlyList<T> items, string activity, Func<T, string> describe, int activityId)
        {
            _cmdlet = cmdlet;
            _cancel = cancel;
            _items = items;
            _activity = activity;
            _describe = describe;
            _activityId = activityId;
            _state = new int[items.Count];
            _steps = new string?[items.Count];
        }

        public void Run(int throttleLimit, Action<T, IOutputSink, CancellationToken> work)
        {
            if (_items.Count == 0) return;
            var workers = Math.Max(1, Math.Min(throttleLimit, _items.Count));
            var remaining = workers;
            var threads = new List<Thread>();
            WriteProgress();
            for (var w = 0; w < workers; w++)
            {
                var t = new Thread(() =>
                {
                    var sink = new WorkerSink(_queue, this);
                    try { WorkLoop(sink, work); }
                    finally
                    {
                        if (Interlocked.Decrement(ref remaining) == 0) _queue.Complete();
                    }
                })
                { IsBackground = true, Name = "MtvRemediation worker" };
                threads.Add(t);
                t.Start();
            }

            var completed = false;
            try
            {
                Drain();
                completed = !_cancel.IsCancellationRequested;
            }
            catch (OperationCanceledException) when (_cancel.IsCancellationRequested) { }
            catch
            {
                // Writing threw on the pipeline thread: nothing more may start.
                _cancel.Cancel();
                JoinAll(threads, UnwindTimeout);
                ReportStop();
                throw;
            }
            if (!completed)
            {
                JoinAll(threads, UnwindTimeout);
                ReportStop();
                throw new PipelineStoppedException();
            }
            foreach (var t in threads) t.Join();
            foreach (var action in _queue.DrainRemaining()) action(_cmdlet);
            _cmdlet.WriteProgress(new ProgressRecord(_activityId, _activity, "Done") { RecordType = ProgressRecordType.Completed });
        }

        private void WorkLoop(WorkerSink sink, Action<T, IOutputSink, CancellationToken> work)
        {
            var token = _cancel.Token;
            while (!token.IsCancellationRequested)
            {
                // What this worker wrote must be on the pipeline before it touches the next item.
                if (!_queue.WaitConsumed(sink.LastPosted, token)) break;
                var i = Interlocked.Increment(ref _next);
                if (i >= _items.Count) break;
                Volatile.Write(ref _state[i], 1);
                sink.Current = i;
                try { work(_items[i], sink, token); }
                catch (OperationCanceledException) when (token.IsCancellationRequested) { break; }
                catch (Exception ex)
                {
                    // A bug in work must not kill the process; surface it as this item's error.
                    sink.WriteError(new ErrorRecord(ex, ErrorIds.UnexpectedError, ErrorCategory.NotSpecified, _items[i]));
                }
                finally
                {
                    Volatile.Write(ref _state[i], 2);
                    sink.Post(_ => { _done++; WriteProgress(); });
                }
            }
        }

        private void Drain()
        {
            var lastProgress = DateTime.UtcNow;
            while (true)
            {
                if (_queue.TryTake(out var action, ProgressRefresh, _cancel.Token))
                {
                    action!(_cmdlet);
                    _queue.MarkConsumed();
                    continue;
                }
                if (_queue.IsCompleted) return;
                if (DateTime.UtcNow - lastProgress >= ProgressRefresh)
                {
                    WriteProgress();
                    lastProgress = DateTime.UtcNow;
                }
            }
        }

        private void WriteProgress()
        {
            var pending = new List<string>();
            for (var i = 0; i < _items.Count; i++)
            {
                if (Volatile.Read(ref _state[i]) != 1) continue;
                var step = Volatile.Read(ref _steps[i]);
                pending.Add(step == null ? _describe(_items[i]) : $"{_describe(_items[i])} ({step})");
            }
            var queued = _items.Count - _done - pending.Count;
            var current = pending.Count == 0 ? "" : "Waiting for " + Names(pending);
            if (queued > 0) current += (current.Length > 0 ? "; " : "") + $"{queued} not started yet";
            _cmdlet.WriteProgress(new ProgressRecord(_activityId, _activity, $"{_done} of {_items.Count} done")
            {
                CurrentOperation = current.Length == 0 ? "Finishing" : current,
                PercentComplete = (int)(_done * 100L / _items.Count),
            });
        }

        private static string Names(List<string> names) =>
            names.Count <= 5 ? string.Join(", ", names) : string.Join(", ", names.Take(5)) + $" and {names.Count - 5} more";

        private static void JoinAll(List<Thread> threads, TimeSpan timeout)
        {
            var until = DateTime.UtcNow + timeout;
            foreach (var t in threads)
            {
                var left = until - DateTime.UtcNow;
                if (left <= TimeSpan.Zero || !t.Join(left)) break;
            }
        }

        /// <summary>After a stop: say which items were never started and which were interrupted.</summary>
        private void ReportStop()
        {
            var untouched = new List<string>();
            var interrupted = new List<string>();
            for (var i = 0; i < _items.Count; i++)
            {
                var s = Volatile.Read(ref _state[i]);
                if (s == 0) untouched.Add(_describe(_items[i]));
                else if (s == 1) interrupted.Add(_describe(_items[i]));
            }
            if (untouched.Count == 0 && interrupted.Count == 0) return;
            var text = $"{_activity} stopped before its end.";
            if (untouched.Count > 0) text += $" Not touched ({untouched.Count}): {string.Join(", ", untouched)}.";
            if (interrupted.Count > 0) text += $" Interrupted while running ({interrupted.Count}; each is where its work stopped): {string.Join(", ", interrupted)}.";
            StopReport = text;
            try
            {
                _cmdlet.WriteWarning(text);
            }
            catch (Exception ex) when (ex is PipelineStoppedException || ex is InvalidOperationException || ex is ActionPreferenceStopException)
            {
                // The pipeline no longer takes records (Select-Object -First, Ctrl+C): tell the host directly.
                try { _cmdlet.Host?.UI?.WriteWarningLine(text); } catch (Exception) { /* no host UI */ }
            }
        }

        /// <summary>The warning written when the run was stopped (null: it ran to its end).</summary>
        public string? StopReport { get; private set; }

        /// <summary>
        /// A FIFO of pipeline-thread actions with sequence numbers, so a worker can wait until its
        /// own last action has been written.
        /// </summary>
        private sealed class OrderedQueue
        {
            private readonly BlockingCollection<Action<MtvCmdlet>> _queue = new BlockingCollection<Action<MtvCmdlet>>();
            private readonly object _gate = new object();
            private long _posted;
            private long _consumed;

            public long Post(Action<MtvCmdlet> action)
            {
                lock (_gate)
                {
                    try { _queue.Add(action); }
                    catch (InvalidOperationException) { return 0; /* completed after a stop: dropped */ }
                    return ++_posted;
                }
            }

            public bool TryTake(out Action<MtvCmdlet>? action, TimeSpan timeout, CancellationToken token) =>
                _queue.TryTake(out action, (int)timeout.TotalMilliseconds, token);

            public bool IsCompleted => _queue.IsCompleted;

            public void MarkConsumed()
            {
                lock (_gate)
                {
                    _consumed++;
                    Monitor.PulseAll(_gate);
                }
            }

            /// <summary>Waits until action number <paramref name="sequence"/> has run; false when cancelled first.</summary>
            public bool WaitConsumed(long sequence, CancellationToken token)
            {
                lock (_gate)
                {
                    while (_consumed < sequence)
                    {
                        if (token.IsCancellationRequested) return false;
                        Monitor.Wait(_gate, 100);
                    }
                }
                return !token.IsCancellationRequested;
            }

            public void Complete() => _queue.CompleteAdding();

            public IEnumerable<Action<MtvCmdlet>> DrainRemaining()
            {
                while (_queue.TryTake(out var a)) yield return a;
            }
        }

        private sealed class WorkerSink : IOutputSink
        {
            private readonly OrderedQueue _queue;
            private readonly ParallelRunner<T> _runner;
            public WorkerSink(OrderedQueue queue, ParallelRunner<T> runner)
            {
                _queue = queue;
                _runner = runner;
            }

            /// <summary>The item this worker is on.</summary>
            public int Current { get; set; }

            // Shown at the next progress refresh (at most ProgressRefresh later); not a record of its own.
            public void ReportStep(string step) => Volatile.Write(ref _runner._steps[Current], step);

            /// <summary>Sequence number of this worker's last posted action.</summary>
            public long LastPosted { get; private set; }

            public void Post(Action<MtvCmdlet> action)
            {
                var seq = _queue.Post(action);
                if (seq > 0) LastPosted = seq;
            }

            public void WriteObject(object value) => Post(c => c.WriteObject(value));
            public void WriteError(ErrorRecord error) => Post(c => c.WriteError(error));
            public void WriteVerbose(string text) => Post(c => c.WriteVerbose(text));
            public void WriteWarning(string text) => Post(c => c.WriteWarning(text));
            public void WriteDebug(string text) => Post(c => c.WriteDebug(text));
        }
    }
}
