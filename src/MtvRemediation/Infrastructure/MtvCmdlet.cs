using System;
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
        /// dedicated threads, writing progress and everything the work emits from the pipeline
        /// thread as it arrives; when writing throws (or Ctrl+C), the rest is cancelled at once and
        /// the items not touched are named (<see cref="ParallelRunner{T}"/>).
        /// </summary>
        private protected void RunParallel<T>(
            IReadOnlyList<T> items,
            int throttleLimit,
            string activity,
            Func<T, string> describe,
            Action<T, IOutputSink, CancellationToken> work)
        {
            new ParallelRunner<T>(this, _cancel, items, activity, describe, ProgressActivityId).Run(throttleLimit, work);
        }

        /// <summary>The same, for components the cmdlet composes (host fan-out, runbook).</summary>
        internal void RunParallelFor<T>(IReadOnlyList<T> items, int throttleLimit, string activity, Func<T, string> describe, Action<T, IOutputSink, CancellationToken> work)
            => RunParallel(items, throttleLimit, activity, describe, work);

        /// <summary>
        /// -WhatIf (bound, or $WhatIfPreference), for commands whose output depends on the mode even
        /// where they ask nothing: a run with nothing to change must neither write files nor return
        /// rows under -WhatIf. ShouldProcess cannot tell the mode without asking.
        /// </summary>
        private protected bool IsWhatIf()
        {
            if (MyInvocation.BoundParameters.TryGetValue("WhatIf", out var w)) return w is SwitchParameter sp ? sp.IsPresent : LanguagePrimitives.IsTrue(w);
            return LanguagePrimitives.IsTrue(GetVariableValue("WhatIfPreference"));
        }

        /// <summary>Progress activity id shared by this cmdlet's records.</summary>
        protected virtual int ProgressActivityId => 4711;

        /// <summary>Cancelled when the user presses Ctrl+C or the pipeline stops (for composed components).</summary>
        internal CancellationToken Cancellation => _cancel.Token;
    }

    /// <summary>Thread-safe way for worker threads to write to the cmdlet's streams.</summary>
    internal interface IOutputSink
    {
        void WriteObject(object value);
        void WriteError(ErrorRecord error);
        void WriteVerbose(string text);
        void WriteWarning(string text);
        void WriteDebug(string text);

        /// <summary>What the current item is doing now (shown beside its name in the progress status while it runs).</summary>
        void ReportStep(string step);
    }
}
