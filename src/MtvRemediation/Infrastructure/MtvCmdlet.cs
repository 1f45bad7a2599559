using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Management.Automation;
using System.Threading;

namespace MtvRemediation.Infrastructure
{
    /// <summary>
    /// Base for every MtvRemediation cmdlet: Ctrl+C cancels <see cref="CancelToken"/>, and work
    /// fanned out to worker threads writes to the pipeline only through an <see cref="IOutputSink"/>
    /// that is drained on the pipeline thread (PowerShell forbids Write* from other threads).
    /// </summary>
    public abstract class MtvCmdlet : PSCmdlet, IDisposable
    {
        private readonly CancellationTokenSource _cancel = new CancellationTokenSource();

        /// <summary>Cancelled when the user presses Ctrl+C or the pipeline stops.</summary>
        protected CancellationToken CancelToken => _cancel.Token;

        protected override void StopProcessing() => _cancel.Cancel();

        public void Dispose()
        {
            _cancel.Dispose();
            GC.SuppressFinalize(this);
        }

        /// <summary>
        /// Runs <paramref name="work"/> for every item on up to <paramref name="throttleLimit"/>
        /// dedicated threads (SSH.NET blocks; thread-pool tasks would starve), writing progress and
        /// everything the work emits from the pipeline thread as it arrives.
        /// </summary>
        protected void RunParallel<T>(
            IReadOnlyList<T> items,
            int throttleLimit,
            string activity,
            Func<T, string> describe,
            Action<T, IOutputSink, CancellationToken> work)
        {
            if (items.Count == 0) return;
            var sink = new QueueSink();
            var next = -1;
            var done = 0;
            var workers = Math.Max(1, Math.Min(throttleLimit, items.Count));
            var remaining = workers;
            var threads = new List<Thread>();
            for (var w = 0; w < workers; w++)
            {
                var t = new Thread(() =>
                {
                    try
                    {
                        while (!_cancel.IsCancellationRequested)
                        {
                            var i = Interlocked.Increment(ref next);
                            if (i >= items.Count) break;
                            try { work(items[i], sink, _cancel.Token); }
                            catch (OperationCanceledException) when (_cancel.IsCancellationRequested) { break; }
                            catch (Exception ex)
                            {
                                // A bug in work must not kill the process; surface it as this item's error.
                                sink.WriteError(new ErrorRecord(ex, "UnexpectedError", ErrorCategory.NotSpecified, items[i]));
                            }
                            finally
                            {
                                var d = Interlocked.Increment(ref done);
                                sink.Post(c => c.WriteProgress(MakeProgress(activity, describe(items[i]), d, items.Count)));
                            }
                        }
                    }
                    finally
                    {
                        if (Interlocked.Decrement(ref remaining) == 0) sink.Complete();
                    }
                })
                { IsBackground = true, Name = "MtvRemediation worker" };
                threads.Add(t);
                t.Start();
            }

            try
            {
                foreach (var action in sink.Consume(_cancel.Token)) action(this);
            }
            catch (OperationCanceledException) { }
            finally
            {
                if (_cancel.IsCancellationRequested)
                {
                    // Workers observe the token in every remote wait; give them a moment to unwind.
                    foreach (var t in threads) t.Join(TimeSpan.FromSeconds(1.5));
                }
                else
                {
                    foreach (var t in threads) t.Join();
                    foreach (var action in sink.DrainRemaining()) action(this);
                }
                var completed = new ProgressRecord(ProgressActivityId, activity, "Done") { RecordType = ProgressRecordType.Completed };
                WriteProgress(completed);
            }
            if (_cancel.IsCancellationRequested) throw new PipelineStoppedException();
        }

        /// <summary>Progress activity id shared by this cmdlet's records.</summary>
        protected virtual int ProgressActivityId => 4711;

        private ProgressRecord MakeProgress(string activity, string current, int done, int total)
        {
            return new ProgressRecord(ProgressActivityId, activity, $"{done} of {total} done")
            {
                CurrentOperation = current,
                PercentComplete = total == 0 ? 100 : (int)(done * 100L / total),
            };
        }

        private sealed class QueueSink : IOutputSink
        {
            private readonly BlockingCollection<Action<MtvCmdlet>> _queue = new BlockingCollection<Action<MtvCmdlet>>();

            public void Post(Action<MtvCmdlet> action)
            {
                try { _queue.Add(action); }
                catch (InvalidOperationException) { /* completed after cancel: drop */ }
            }

            public void WriteObject(object value) => Post(c => c.WriteObject(value));
            public void WriteError(ErrorRecord error) => Post(c => c.WriteError(error));
            public void WriteVerbose(string text) => Post(c => c.WriteVerbose(text));
            public void WriteWarning(string text) => Post(c => c.WriteWarning(text));
            public void WriteDebug(string text) => Post(c => c.WriteDebug(text));
            public void Complete() => _queue.CompleteAdding();
            public IEnumerable<Action<MtvCmdlet>> Consume(CancellationToken token) => _queue.GetConsumingEnumerable(token);

            public IEnumerable<Action<MtvCmdlet>> DrainRemaining()
            {
                while (_queue.TryTake(out var a)) yield return a;
            }
        }
    }

    /// <summary>Thread-safe way for worker threads to write to the cmdlet's streams.</summary>
    public interface IOutputSink
    {
        void WriteObject(object value);
        void WriteError(ErrorRecord error);
        void WriteVerbose(string text);
        void WriteWarning(string text);
        void WriteDebug(string text);
    }
}
