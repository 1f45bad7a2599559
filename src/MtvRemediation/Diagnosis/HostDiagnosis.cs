using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Threading;
using System.Threading.Tasks;
using MtvRemediation.Agents;
using MtvRemediation.Esxi;
using MtvRemediation.HostLog;
using MtvRemediation.Infrastructure;
using MtvRemediation.Wrapper;

namespace MtvRemediation.Diagnosis
{
    /// <summary>Which parts of a host to read (each is one remote command; all run at the same time).</summary>
    internal sealed class HostDiagnosisRequest
    {
        /// <summary>The space probe (<see cref="LogSpaceProbe"/>) with these thresholds and paths; null: not read.</summary>
        public LogSpaceOptions? Space { get; set; }

        /// <summary>The wrapper inventory (<see cref="WrapperInventory"/>): generation, task directories.</summary>
        public bool Inventory { get; set; }

        /// <summary>
        /// The clone-failure evidence: the wrapper logs scanned on the host, plus (when
        /// <see cref="LogPaths"/> is null) the failed task directories' err files from the inventory.
        /// </summary>
        public bool Evidence { get; set; }

        /// <summary>The logs to scan; null: the wrapper's own logs and syslog (<see cref="HostCloneLogScanner.DefaultLogPaths"/>).</summary>
        public IReadOnlyList<string>? LogPaths { get; set; }

        public CloneFailureScanOptions ScanOptions { get; set; } = new CloneFailureScanOptions();
        public TimeSpan ScanTimeout { get; set; } = TimeSpan.FromMinutes(10);

        /// <summary>Each log finding as it arrives (any thread); the task directories' findings come in <see cref="HostDiagnosis.TaskFindings"/>.</summary>
        public Action<CloneFailureFinding>? OnFinding { get; set; }

        /// <summary>Root's crontab, for the rotation job's state.</summary>
        public CronPaths? Cron { get; set; }

        /// <summary>vSAN/LACP, read before agent restarts.</summary>
        public bool AgentRisk { get; set; }

        /// <summary>
        /// The readiness facts of a wave (<see cref="HostReadinessFacts"/>): read by the inventory's
        /// command (<c>wave-probe.sh</c> includes it), so they cost no further round trip; implies <see cref="Inventory"/>.
        /// </summary>
        public bool Readiness { get; set; }

        /// <summary>
        /// The facts of the wrapper-log rule (<see cref="WrapperLogApplicability"/>) for this log:
        /// from the inventory when it is read, else with the light pre-check script.
        /// </summary>
        public string? LogFactsFor { get; set; }
    }

    /// <summary>
    /// What one read of a host found, piece by piece. A piece that could not be read has its error
    /// (one id per failure kind) and no value: a caller never takes a missing piece for a healthy one.
    /// </summary>
    internal sealed class HostDiagnosis
    {
        public HostDiagnosis(string host) { VMHost = host; }

        public string VMHost { get; }

        public LogSpaceStatus? Space { get; internal set; }
        public MtvException? SpaceError { get; internal set; }

        public VmkfstoolsWrapperInfo? Wrapper { get; internal set; }
        public MtvException? WrapperError { get; internal set; }

        /// <summary>The log scan (partial when <see cref="ScanError"/> is set).</summary>
        public HostCloneLogScanResult? Scan { get; internal set; }
        public MtvException? ScanError { get; internal set; }

        /// <summary>The log scan's findings, in the order they arrived.</summary>
        public List<CloneFailureFinding> LogFindings { get; } = new List<CloneFailureFinding>();

        /// <summary>The failed task directories' findings (vmkfstools' stderr on the host).</summary>
        public List<CloneFailureFinding> TaskFindings { get; } = new List<CloneFailureFinding>();

        /// <summary>Root's crontab as read: our rotation entries and crond's pid.</summary>
        public CronChange? Cron { get; internal set; }
        public MtvException? CronError { get; internal set; }

        public AgentRestartRisk? AgentRisk { get; internal set; }
        public MtvException? AgentRiskError { get; internal set; }

        /// <summary>The readiness facts (null when not requested, or when the inventory's command failed: see <see cref="WrapperError"/>).</summary>
        public HostReadinessFacts? Readiness { get; internal set; }

        public WrapperLogFacts? LogFacts { get; internal set; }
        public MtvException? LogFactsError { get; internal set; }

        /// <summary>
        /// For a cmdlet about to act on the wrapper log: throws the refusal of <paramref name="action"/>
        /// (<see cref="WrapperLogApplicability"/>), or the error that kept its facts from being read.
        /// </summary>
        public void ThrowIfRefused(string logPath, WrapperLogAction action)
        {
            if (LogFactsError != null) throw LogFactsError;
            var refusal = LogFacts == null ? null : WrapperLogApplicability.Refusal(LogFacts, logPath, action);
            if (refusal != null) throw refusal;
        }

        /// <summary>A piece the caller cannot go on without: its value, or its error thrown.</summary>
        public static T Required<T>(T? value, MtvException? error) where T : class =>
            value ?? throw (error ?? new InvalidOperationException("The piece was not requested.") as Exception);

        /// <summary>Every finding, by source and line.</summary>
        public IEnumerable<CloneFailureFinding> Findings =>
            LogFindings.Concat(TaskFindings).OrderBy(f => f.Source, StringComparer.Ordinal).ThenBy(f => f.LineNumber);

        /// <summary>The errors of the pieces, in the request's order; a host that failed every piece the same way says it once.</summary>
        public IEnumerable<MtvException> Errors =>
            new[] { SpaceError, WrapperError, ScanError, CronError, AgentRiskError, LogFactsError }
                .Where(e => e != null).Select(e => e!)
                .GroupBy(e => e.ErrorId + "\n" + e.Message).Select(g => g.First());
    }

    /// <summary>
    /// The one read of a host, used by Test-VmkfstoolsLogSpace, Get-VmkfstoolsWrapper,
    /// Find-MtvCloneFailure -VMHost and the runbook: the pieces asked for run at the same time over
    /// the host's one SSH connection (one channel each), so a host costs the longest piece, not the
    /// sum. Only cancellation and programming errors escape; every host failure stays with its piece.
    /// </summary>
    internal static class HostDiagnosisReader
    {
        /// <summary>Remote commands a request runs at once (for thread-pool sizing of a fan-out).</summary>
        public static int PiecesOf(HostDiagnosisRequest r) =>
            (r.Space != null ? 1 : 0) + (WantsInventory(r) ? 1 : 0) + (r.Evidence ? 1 : 0) +
            (r.Cron != null ? 1 : 0) + (r.AgentRisk ? 1 : 0) + (r.LogFactsFor != null && !WantsInventory(r) ? 1 : 0);

        private static int _activeReads;

        public static HostDiagnosis Read(IEsxiShell shell, HostDiagnosisRequest request, CancellationToken ct)
        {
            // Each piece waits on its channel on a pool thread: keep enough of them for every read under way.
            var active = Interlocked.Increment(ref _activeReads);
            try
            {
                ThreadPoolTuning.EnsureMinThreads(active * PiecesOf(request));
                return ReadPieces(shell, request, ct);
            }
            finally { Interlocked.Decrement(ref _activeReads); }
        }

        private static HostDiagnosis ReadPieces(IEsxiShell shell, HostDiagnosisRequest request, CancellationToken ct)
        {
            var d = new HostDiagnosis(shell.HostName);
            var pieces = new List<Task>();
            void Piece(Action read, Action<MtvException> failed) => pieces.Add(Task.Run(() =>
            {
                try { read(); }
                catch (MtvException ex) { failed(ex); }
            }, ct));

            if (request.Space != null)
                Piece(() => d.Space = LogSpaceProbe.Measure(shell, request.Space, ct), e => d.SpaceError = e);
            if (WantsInventory(request))
                Piece(() =>
                {
                    if (!request.Readiness) { d.Wrapper = WrapperInventory.Read(shell, ct); return; }
                    var (info, stdout) = WrapperInventory.Read(shell, "wave-probe.sh", ct);
                    d.Wrapper = info;
                    d.Readiness = HostReadinessFacts.Parse(stdout);
                }, e => d.WrapperError = e);
            if (request.Evidence)
                Piece(() => d.Scan = Scan(shell, request, d, ct), e => d.ScanError = e);
            if (request.Cron != null)
                Piece(() => d.Cron = LogRotationCronEngine.Get(shell, request.Cron, ct), e => d.CronError = e);
            if (request.AgentRisk)
                Piece(() => d.AgentRisk = AgentRestartEngine.ProbeRisk(shell, ct), e => d.AgentRiskError = e);
            if (request.LogFactsFor != null && !WantsInventory(request))
                Piece(() => d.LogFacts = WrapperLogApplicability.ReadFacts(shell, request.LogFactsFor, ct), e => d.LogFactsError = e);

            // Every piece ends before the result is used (a cancelled host leaves no command behind).
            try { Task.WaitAll(pieces.ToArray()); }
            catch (AggregateException ex)
            {
                ct.ThrowIfCancellationRequested();
                var inner = ex.Flatten().InnerExceptions;
                if (inner.Count == 1) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(inner[0]).Throw();
                throw;
            }

            if (d.Wrapper != null)
            {
                if (request.Evidence && request.LogPaths == null)
                    d.TaskFindings.AddRange(TaskDirectoryEvidence.Findings(d.Wrapper, request.ScanOptions));
                if (request.LogFactsFor != null) d.LogFacts = WrapperLogApplicability.FactsFrom(d.Wrapper, request.LogFactsFor);
            }
            else if (request.LogFactsFor != null && WantsInventory(request))
            {
                // The inventory failed: the light pre-check alone still tells whether the log actions apply.
                try { d.LogFacts = WrapperLogApplicability.ReadFacts(shell, request.LogFactsFor, ct); }
                catch (MtvException ex) { d.LogFactsError = ex; }
            }
            return d;
        }

        private static bool WantsInventory(HostDiagnosisRequest r) => r.Inventory || r.Readiness || (r.Evidence && r.LogPaths == null);

        private static HostCloneLogScanResult Scan(IEsxiShell shell, HostDiagnosisRequest request, HostDiagnosis d, CancellationToken ct)
        {
            void Found(CloneFailureFinding f)
            {
                lock (d.LogFindings) d.LogFindings.Add(f);
                request.OnFinding?.Invoke(f);
            }
            try
            {
                return HostCloneLogScanner.ScanAsync(shell, request.LogPaths, request.ScanOptions, Found, request.ScanTimeout, ct).GetAwaiter().GetResult();
            }
            catch (HostCloneLogScanException ex)
            {
                d.Scan = ex.PartialResult;
                throw new MtvException(CloneFailureErrorIds.HostScanFailed, ErrorCategory.ReadError, ex.Message,
                    "The findings may be incomplete. A damaged rotated archive can be removed once archived elsewhere.", ex)
                    { Next = NextCommand.CheckLogSpace, NextTarget = shell.HostName };
            }
            catch (TimeoutException ex) when (!ct.IsCancellationRequested)
            {
                throw new MtvException(CloneFailureErrorIds.HostScanTimeout, ErrorCategory.OperationTimeout,
                    $"The log scan on {shell.HostName} did not finish within {request.ScanTimeout.TotalSeconds:0} s.",
                    "Narrow it with -Since, raise -TimeoutSeconds, or archive and clear the log.", ex)
                    { Next = NextCommand.ClearWrapperLog, NextTarget = shell.HostName };
            }
        }
    }
}
