using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Management.Automation;
using System.Threading;
using System.Threading.Tasks;
using MtvRemediation.Agents;
using MtvRemediation.Cbt;
using MtvRemediation.Diagnosis;
using MtvRemediation.Esxi;
using MtvRemediation.HostLog;
using MtvRemediation.Infrastructure;
using MtvRemediation.VSphere;
using MtvRemediation.Wave;
using MtvRemediation.Wrapper;

namespace MtvRemediation.Runbook
{
    /// <summary>A -VM input that resolved to no VM, and why.</summary>
    internal sealed class UnmatchedVmInput
    {
        public UnmatchedVmInput(string input, string server, string errorId, string error)
        {
            Input = input;
            Server = server;
            ErrorId = errorId;
            Error = error;
        }

        public string Input { get; }
        public string Server { get; }
        public string ErrorId { get; }
        public string Error { get; }
    }

    /// <summary>What Invoke-MtvRemediation was asked to do.</summary>
    internal sealed class RunbookOptions
    {
        /// <summary>Allow shutting powered-on VMs down for their CBT reset (power state restored after).</summary>
        public bool PowerOff { get; set; }

        /// <summary>Allow a hard power-off when VMware Tools is not running or the guest shutdown times out.</summary>
        public bool Force { get; set; }

        public bool RegisterLogRotation { get; set; }
        public bool RestartAgents { get; set; }

        /// <summary>The downtime limit: at most this many running VMs of one host powered off at once for their CBT reset (0: no limit).</summary>
        public int MaxPoweredOffPerHost { get; set; }

        /// <summary>Local directory for log archives (taken before truncating); null: no archive.</summary>
        public string? ArchiveDirectory { get; set; }

        /// <summary>The run's time (UTC), in the names of its archives and report.</summary>
        public DateTime? RunStamp { get; set; }

        /// <summary>For the report: the vCenter(s) of the run.</summary>
        public IReadOnlyList<string> ReportServers { get; set; } = Array.Empty<string>();

        /// <summary>For the report: the run's parameters as "Name: value" (no secrets).</summary>
        public IReadOnlyList<string> ReportParameters { get; set; } = Array.Empty<string>();

        /// <summary>For the report: who ran it (local account and the vCenter user(s)).</summary>
        public string? Operator { get; set; }

        /// <summary>For the report: the change ticket the run belongs to (-ChangeTicket).</summary>
        public string? ChangeTicket { get; set; }

        /// <summary>-VM inputs that matched no VM (or could not be looked up): rows of their own, so a scheduled run cannot pass over them.</summary>
        public IReadOnlyList<UnmatchedVmInput> UnmatchedInputs { get; set; } = Array.Empty<UnmatchedVmInput>();

        public LogSpaceOptions LogSpace { get; set; } = new LogSpaceOptions();
        public int CronIntervalMinutes { get; set; } = 5;
        public int CronMaxSizeMB { get; set; } = LogRotationCronEngine.DefaultMaxSizeMB;
        public string[] Agents { get; set; } = { "hostd", "vpxa" };
        public TimeSpan AgentTimeout { get; set; } = TimeSpan.FromSeconds(180);
        public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(300);
        public TimeSpan LogScanTimeout { get; set; } = TimeSpan.FromMinutes(10);

        /// <summary>When the run started (names the report).</summary>
        public DateTime StartedAt { get; set; } = DateTime.UtcNow;

        /// <summary>vCenter's view of the hosts, waited on after agent restarts (null: the agents' own status only).</summary>
        public IHostConnectionStateSource? VCenterState { get; set; }

        /// <summary>
        /// -Preflight: also apply the wave readiness fixes the hosts need (<see cref="RunbookEngine.PlanPreflight"/>),
        /// by the readiness rules of <see cref="Wave"/>, through the vCenter sessions of <see cref="VCenters"/>.
        /// </summary>
        public bool Preflight { get; set; }
        public WaveReadinessOptions Wave { get; set; } = new WaveReadinessOptions();

        /// <summary>-Preflight: the SOAP session of each vCenter of the run (server name), for the hosts' Disk.MaxLUN.</summary>
        public IReadOnlyDictionary<string, VimSoapClient> VCenters { get; set; } = new Dictionary<string, VimSoapClient>();

        /// <summary>Cron paths (settable for tests).</summary>
        public CronPaths CronPaths { get; set; } = new CronPaths();

        /// <summary>What a CBT reset of this run may do (the same options Reset-VMChangeTracking binds).</summary>
        public ChangeTrackingResetOptions CbtReset => new ChangeTrackingResetOptions { PowerOff = PowerOff, Force = Force, ShutdownTimeout = ShutdownTimeout };
    }

    /// <summary>Shared bits of the host and VM state: actions done and errors met, safe to add from a worker.</summary>
    internal abstract class RunbookItemState
    {
        private readonly ConcurrentQueue<MtvException> _newErrors = new ConcurrentQueue<MtvException>();
        private readonly object _gate = new object();

        public List<string> Plan { get; } = new List<string>();
        public List<string> Actions { get; } = new List<string>();
        public List<string> Errors { get; } = new List<string>();

        /// <summary>False when the user declined at least one planned action (or -WhatIf).</summary>
        public bool AllConfirmed { get; set; } = true;

        /// <summary>An action was refused as it does not apply or is unsafe (its error says why): nothing was changed for it.</summary>
        public bool Refused { get; set; }

        /// <summary>The TargetObject of this item's errors (the VM's input, or the host name).</summary>
        public abstract object? ErrorTarget { get; }

        /// <summary>When this run's first change to the item began, and when its last one ended (UTC; null: none).</summary>
        public DateTime? StartedAt { get; private set; }
        public DateTime? FinishedAt { get; private set; }

        public void AddAction(string text) { lock (_gate) Actions.Add(text); }

        /// <summary>Runs one change to the item, keeping the span of the item's changes for the report.</summary>
        public void Timed(Action change)
        {
            lock (_gate) StartedAt ??= DateTime.UtcNow;
            try { change(); }
            finally { lock (_gate) FinishedAt = DateTime.UtcNow; }
        }

        public void Fail(MtvException error)
        {
            lock (_gate) Errors.Add(error.Message);
            _newErrors.Enqueue(error);
        }

        /// <summary>A runbook failure with one of <see cref="RunbookErrorIds"/> (or an engine's id).</summary>
        public void Fail(string errorId, ErrorCategory category, string message, string? recommendedAction = null, Exception? inner = null, bool rerunCompletes = false) =>
            Fail(new RemediationException(errorId, category, message, recommendedAction, inner) { RerunCompletes = rerunCompletes });

        /// <summary>Errors not yet written by the cmdlet.</summary>
        public IEnumerable<MtvException> TakeNewErrors()
        {
            while (_newErrors.TryDequeue(out var e)) yield return e;
        }
    }

    /// <summary>One host of the run, through all phases.</summary>
    internal sealed class RunbookHostState : RunbookItemState
    {
        public RunbookHostState(string name) { Name = name; }

        public override object? ErrorTarget => Name;

        public string Name { get; }
        public List<RunbookVmState> VMs { get; } = new List<RunbookVmState>();

        /// <summary>The connected shell (null: unreachable or not yet connected).</summary>
        public IEsxiShell? Shell { get; set; }

        public LogSpaceStatus? Before { get; set; }
        public LogSpaceStatus? After { get; set; }

        /// <summary>The wrapper inventory (null: not read) and what the wrapper-log rule needs of it.</summary>
        public VmkfstoolsWrapperInfo? Wrapper { get; set; }
        public WrapperLogFacts? LogFacts { get; set; }

        public List<CloneFailureFinding> Findings { get; } = new List<CloneFailureFinding>();

        /// <summary>The 7228 evidence sources of the host that could not be read (empty: all read).</summary>
        public List<string> EvidenceUnread { get; } = new List<string>();
        public bool? CronRegisteredBefore { get; set; }

        /// <summary>vSAN/LACP as the host reports them, read when agent restarts are asked for (null: not read).</summary>
        public AgentRestartRisk? AgentRisk { get; set; }
        public bool? CronRegisteredAfter { get; set; }

        public bool ClearLog { get; set; }
        public bool RegisterCron { get; set; }
        public bool RestartAgents { get; set; }

        /// <summary>The rotation job's interval when the readiness rule sized it (-Preflight); null: the run's.</summary>
        public int? CronIntervalMinutes { get; set; }

        /// <summary>-Preflight: the whole host diagnosis (the readiness rules read it), and the wave's fixes planned from it.</summary>
        public HostDiagnosis? Diagnosis { get; set; }
        public HostPreflight Preflight { get; } = new HostPreflight();
        public string? LogArchive { get; set; }

        /// <summary>What this run changed on the host (the report counts these, not the outcome).</summary>
        public bool LogCleared { get; set; }
        public bool RotationCronAdded { get; set; }
        public bool AgentsRestarted { get; set; }

        public IEnumerable<CloneFailureFinding> ChangeTrackerFindings =>
            Findings.Where(f => f.Signature == CloneFailureSignatures.ChangeTrackerInvalid);

        public bool HasPlannedWork => ClearLog || RegisterCron || RestartAgents || Preflight.HasWork;
    }

    /// <summary>One VM of the run, through all phases.</summary>
    internal sealed class RunbookVmState : RunbookItemState
    {
        public RunbookVmState(IVSphereClient client, string server, VmInfo vm, object? input)
        {
            Client = client;
            Server = server;
            Vm = vm;
            Input = input;
        }

        public override object? ErrorTarget => Input;

        public IVSphereClient Client { get; }
        public string Server { get; }
        public VmInfo Vm { get; }
        public object? Input { get; }

        public ChangeTrackingStatus? Before { get; set; }
        public ChangeTrackingStatus? After { get; set; }
        public CtkInspection? Inspection { get; set; }
        public CtkInspection? InspectionAfter { get; set; }

        /// <summary>Why the CBT reset is wanted (null: the CBT configuration is consistent and no 7228 points at the VM).</summary>
        public string? ResetReason { get; set; }
        public ChangeTrackingResetPlan? ResetPlan { get; set; }
        public bool ResetApproved { get; set; }
        public ChangeTrackingResetResult? ResetResult { get; set; }

        /// <summary>Failed clone task directories (on <see cref="HostShell"/>) whose 7228 this VM's reset answers: removed after it.</summary>
        public List<string> AnsweredTaskDirectories { get; } = new List<string>();
        public IEsxiShell? HostShell { get; set; }

        /// <summary>
        /// The host whose clone evidence and log space count for this VM when it is not the VM's own:
        /// the host its input says ran the clone (null: <see cref="VmInfo.HostName"/>).
        /// </summary>
        public string? CloningHostName { get; set; }

        /// <summary>The host the VM is diagnosed and grouped on: the one that cloned it, else its own.</summary>
        public string EvidenceHostName => string.IsNullOrEmpty(CloningHostName) ? Vm.HostName : CloningHostName!;

        /// <summary>The host evidence the VM's verdict depends on and that was not read (null: all read): the VM is then Unknown, never Healthy.</summary>
        public string? HostEvidenceUnread { get; set; }

        /// <summary>The VM's row, once written (as soon as its reset was done); null: written at the end of the run.</summary>
        public RemediationVMSummary? Row { get; set; }
    }

    /// <summary>
    /// The runbook behind Invoke-MtvRemediation: <see cref="Run"/> owns the order, the phases, the
    /// confirmation points and the outcomes over plain state objects; the caller supplies
    /// confirmation, parallel execution and output through <see cref="IRunbookHost"/>. The decision
    /// which VMs get a CBT reset is one method, <see cref="PlanVm"/>. Every phase
    /// reuses the single-purpose engines: <see cref="LogSpaceProbe"/>, <see cref="HostCloneLogScanner"/>,
    /// <see cref="LogClearEngine"/>, <see cref="LogRotationCronEngine"/>, <see cref="AgentRestartEngine"/>
    /// and <see cref="ChangeTrackingRun"/> (the CBT operation Get-/Reset-VMChangeTracking use).
    ///
    /// Order, and why: (1) diagnose everything read-only; (2) free /var on the hosts first, so that
    /// clones (and ESXi itself) can write again, and register the rotation job; (3) reset CBT on the
    /// VMs; (4) restart agents last and only when asked, so no hostd restart interrupts a CBT
    /// reset's tasks; (5) verify by reading the state again (log space, crontab, CBT status).
    /// </summary>
    internal static partial class RunbookEngine
    {
        /// <summary>Groups the VMs by the host their clone evidence is on: the one that cloned them when known, else the one vCenter reports them on (input order kept).</summary>
        public static List<RunbookHostState> GroupByHost(IEnumerable<RunbookVmState> vms)
        {
            var hosts = new List<RunbookHostState>();
            var byName = new Dictionary<string, RunbookHostState>(StringComparer.OrdinalIgnoreCase);
            foreach (var vm in vms)
            {
                var name = vm.EvidenceHostName;
                if (string.IsNullOrEmpty(name)) continue;
                if (!byName.TryGetValue(name, out var host))
                {
                    host = new RunbookHostState(name);
                    byName[name] = host;
                    hosts.Add(host);
                }
                host.VMs.Add(vm);
            }
            return hosts;
        }

        /// <summary>
        /// Read-only, one read of the host (<see cref="HostDiagnosisReader"/>, the same one the host
        /// cmdlets use, its pieces at the same time): log space, the wrapper inventory, the
        /// clone-failure evidence, and the rotation job and agent risk when those actions are asked for.
        /// </summary>
        public static void DiagnoseHost(RunbookHostState host, IEsxiShell shell, RunbookOptions options, CancellationToken ct)
        {
            host.Shell = shell;
            var d = HostDiagnosisReader.Read(shell, DiagnosisRequest(options), ct);
            host.Diagnosis = d;
            host.Before = d.Space;
            host.Wrapper = d.Wrapper;
            host.LogFacts = d.LogFacts;
            host.Findings.AddRange(d.Findings);
            if (d.ScanError != null) host.EvidenceUnread.Add($"the log scan of {host.Name} failed ({d.ScanError.Message})");
            if (d.WrapperError != null) host.EvidenceUnread.Add($"the clone task directories of {host.Name} were not read ({d.WrapperError.Message})");
            host.AgentRisk = d.AgentRisk;
            if (d.Cron != null) host.CronRegisteredBefore = d.Cron.Entries.Any(e => e.LogPath == options.LogSpace.LogPath);
            foreach (var e in d.Errors) host.Fail(e);
        }

        /// <summary>What the runbook reads of each host (also what its -WhatIf reads).</summary>
        public static HostDiagnosisRequest DiagnosisRequest(RunbookOptions options) => new HostDiagnosisRequest
        {
            Space = options.LogSpace,
            Inventory = true,
            Evidence = true,
            ScanTimeout = options.LogScanTimeout,
            Cron = options.RegisterLogRotation || options.Preflight ? options.CronPaths : null,
            AgentRisk = options.RestartAgents || options.Preflight,
            LogFactsFor = options.LogSpace.LogPath,
            Readiness = options.Preflight,
        };

        /// <summary>Read-only: the VM's -ctk.vmdk files and CBT health (folder listings shared with the run's other VMs).</summary>
        public static async Task DiagnoseVmAsync(RunbookVmState vm, ChangeTrackingRun cbt, CancellationToken ct)
        {
            vm.Inspection = await cbt.InspectAsync(vm.Client, vm.Vm, ct).ConfigureAwait(false);
            vm.Before = ChangeTrackingEngine.BuildStatus(vm.Inspection, vm.Server);
        }

        /// <summary>Decides the host's actions: clear at Warning or worse, register the job when asked and missing, restart agents when asked.</summary>
        public static void PlanHost(RunbookHostState host, RunbookOptions options)
        {
            host.Plan.Clear();
            if (host.Shell == null) return;
            var before = host.Before;
            // The wrapper-log rule is the cmdlets' own (WrapperLogApplicability): a host whose facts
            // could not be read already carries that error and gets neither action.
            var logPath = options.LogSpace.LogPath;
            host.ClearLog = before != null && before.LogExists && !IsHealthy(before) && before.LogSizeBytes > 0
                            && Applies(host, logPath, WrapperLogAction.Clear);
            if (host.ClearLog)
                host.Plan.Add(DescribeClear(host, options));
            host.RegisterCron = options.RegisterLogRotation && host.CronRegisteredBefore == false
                                && Applies(host, logPath, WrapperLogAction.RegisterRotation);
            if (host.RegisterCron)
                host.Plan.Add(DescribeCron(host, options));
            host.RestartAgents = options.RestartAgents;
            if (host.RestartAgents)
                host.Plan.Add(DescribeAgents(options));
            if (options.Preflight) PlanPreflight(host, options);
        }

        // Refused: the same error (id and text) as Clear-VmkfstoolsWrapperLog / Register-LogRotationCron write.
        private static bool Applies(RunbookHostState host, string logPath, WrapperLogAction action)
        {
            if (!WrapperLogApplicability.DependsOnGeneration(logPath)) return true;
            if (host.LogFacts == null) return false;
            var refusal = WrapperLogApplicability.Refusal(host.LogFacts, logPath, action);
            if (refusal == null) return true;
            host.Refused = true;
            host.Fail(refusal);
            return false;
        }

        private static bool IsHealthy(LogSpaceStatus status) => string.Equals(status.Status, "Healthy", StringComparison.Ordinal);

        public static string DescribeClear(RunbookHostState host, RunbookOptions options)
        {
            var b = host.Before!;
            return $"Truncate {b.LogPath} in place ({FormatBytes(b.LogSizeBytes)}; {b.VolumePath} {b.UsedPercent.ToString("0.#", CultureInfo.InvariantCulture)}% used, {b.Status})"
                   + (options.ArchiveDirectory != null ? $", after saving a verified compressed copy to {options.ArchiveDirectory}" : string.Empty);
        }

        public static string DescribeCron(RunbookHostState host, RunbookOptions options) =>
            $"Add a temporary cron job to root's crontab that truncates {options.LogSpace.LogPath} in place when it is larger than {CronMaxSizeMBFor(host, options)} MB, every {host.CronIntervalMinutes ?? options.CronIntervalMinutes} minute(s), and reload crond";

        /// <summary>
        /// The job's size limit: the requested one, capped at a quarter of the volume that really
        /// holds the log as the diagnosis measured it (<see cref="LogRotationCronEngine.LimitMBFor"/>,
        /// the same rule as Register-LogRotationCron without -MaxSizeMB).
        /// </summary>
        public static int CronMaxSizeMBFor(RunbookHostState host, RunbookOptions options) =>
            LogRotationCronEngine.LimitMBFor(host.Before?.VolumeSizeBytes ?? 0, options.CronMaxSizeMB);

        public static string DescribeAgents(RunbookOptions options) =>
            $"Restart the management agent(s) {string.Join(", then ", options.Agents)} (vCenter shows the host not responding meanwhile)";

        /// <summary>
        /// Plans the VM's CBT reset when <see cref="CbtResetPlanner"/> finds evidence for it (its
        /// reasons are the plan's why). A VM whose CBT health could not be read is planned too, so
        /// it is refused as Reset-VMChangeTracking refuses it (DatastoreNotSearchable), never called healthy.
        /// </summary>
        public static void PlanVm(RunbookVmState vm, RunbookHostState? host, RunbookOptions options)
        {
            vm.Plan.Clear();
            if (vm.Inspection == null || vm.Before == null) return;
            vm.AnsweredTaskDirectories.Clear();
            var reasons = CbtResetPlanner.Reasons(vm, host, vm.AnsweredTaskDirectories);
            vm.HostShell = host?.Shell;
            vm.HostEvidenceUnread = host == null ? "its host is unknown, so no host evidence was read"
                : host.Shell == null ? $"no session to {host.Name}, so its clone task directories and logs were not read"
                : host.EvidenceUnread.Count > 0 ? string.Join("; ", host.EvidenceUnread) : null;
            if (reasons.Count == 0 && ChangeTrackingHealth.Of(vm.Inspection).Known) return;
            if (reasons.Count > 0) vm.ResetReason = string.Join("; ", reasons);
            var plan = ChangeTrackingEngine.Plan(vm.Inspection, options.CbtReset);
            vm.ResetPlan = plan;
            if (plan.Refused)
            {
                vm.Refused = true;
                vm.Fail(plan.Refusal!);
                return;
            }
            vm.Plan.Add(DescribeReset(vm));
        }

        public static string DescribeReset(RunbookVmState vm) =>
            "Reset CBT: " + string.Join("; ", vm.ResetPlan!.DescribeOperations())
            + (vm.AnsweredTaskDirectories.Count > 0 ? "; then remove the failed clone task director" + (vm.AnsweredTaskDirectories.Count == 1 ? "y " : "ies ") + string.Join(", ", vm.AnsweredTaskDirectories) + " (their 7228 is answered; the text stays in the report)" : "");

        /// <summary>Phase 2: free /var (archive first when asked) and register the rotation job.</summary>
        public static void RemediateHost(RunbookHostState host, RunbookOptions options, CancellationToken ct, Action<string>? verbose) =>
            host.Timed(() => FreeSpace(host, options, ct, verbose));

        private static void FreeSpace(RunbookHostState host, RunbookOptions options, CancellationToken ct, Action<string>? verbose)
        {
            var shell = host.Shell!;
            if (host.ClearLog)
            {
                try
                {
                    var r = LogClearEngine.Clear(shell, new LogClearRequest { LogPath = options.LogSpace.LogPath, Before = host.Before, ArchiveDirectory = options.ArchiveDirectory, ArchiveStamp = options.RunStamp }, ct, verbose);
                    host.LogArchive = r.ArchiveFile;
                    host.LogCleared = true;
                    if (r.ArchiveFile != null) host.AddAction($"Archived {r.LogPath} ({FormatBytes(r.BytesBefore)}) to {r.ArchiveFile}");
                    host.AddAction($"Truncated {r.LogPath} in place: {FormatBytes(r.BytesBefore)} -> {FormatBytes(r.BytesAfter)}; /var {Pct(r.UsedPercentBefore)} -> {Pct(r.UsedPercentAfter)} used");
                }
                catch (RemediationException ex)
                {
                    host.Fail(ex);
                }
            }
            if (host.RegisterCron)
            {
                try
                {
                    var maxMB = CronMaxSizeMBFor(host, options);
                    var entry = new RotationEntry(RotationEntry.ScheduleForInterval(host.CronIntervalMinutes ?? options.CronIntervalMinutes), options.LogSpace.LogPath, maxMB * 1024L * 1024L);
                    var change = LogRotationCronEngine.Register(shell, entry, options.CronPaths, ct, verbose);
                    host.RotationCronAdded = change.Changed;
                    host.AddAction(change.Changed
                        ? $"Registered the temporary rotation cron job ({entry.Schedule}, max {maxMB} MB); crond reloaded (pid {change.CrondPid?.ToString(CultureInfo.InvariantCulture) ?? "?"})"
                        : "Rotation cron job was already registered (crontab unchanged)");
                }
                catch (RemediationException ex)
                {
                    host.Fail(ex);
                }
            }
            if (options.Preflight) PrepareForWave(host, ct);
        }

        /// <summary>Phase 3: one VM's CBT reset (never throws for vSphere failures: the result says where the VM is).</summary>
        /// <param name="onStep">Told each step of the reset as it begins (the live view).</param>
        public static void ResetVm(RunbookVmState vm, ChangeTrackingRun cbt, CancellationToken ct, Action<string>? onStep = null) => vm.Timed(() =>
        {
            var (result, error) = cbt.Reset(vm.Client, vm.ResetPlan!, vm.Server, ct, onStep);
            vm.ResetResult = result;
            foreach (var s in result.Steps) vm.AddAction(s);
            if (error != null) vm.Fail(error);
            else RemoveAnsweredTaskDirectories(vm, ct);
        });

        // After a successful reset the 7228 in these directories is answered: removing them keeps a
        // re-run from resetting again (and frees /tmp). Checked on the host again: never a running task.
        private static void RemoveAnsweredTaskDirectories(RunbookVmState vm, CancellationToken ct)
        {
            if (vm.AnsweredTaskDirectories.Count == 0 || vm.HostShell == null) return;
            try
            {
                foreach (var r in RemoveAnsweredTaskDirectories(vm.HostShell, vm.AnsweredTaskDirectories, ct)) vm.AddAction(r);
            }
            catch (RemediationException ex)
            {
                vm.Fail(ex);
            }
        }

        /// <summary>
        /// What a successful reset records when it answers 7228 evidence (the runbook's and
        /// Reset-VMChangeTracking -Finding's one operation): the answered task directories are
        /// removed, never a running task's. One action line per directory.
        /// </summary>
        public static List<string> RemoveAnsweredTaskDirectories(IEsxiShell hostShell, IReadOnlyList<string> taskDirectories, CancellationToken ct) =>
            WrapperTaskCleanup.RemoveByPath(hostShell, taskDirectories, ct);

        /// <summary>Phase 4 (only when asked): restart the agents one after the other, waiting for each.</summary>
        public static void RestartAgents(RunbookHostState host, RunbookOptions options, CancellationToken ct, Action<string>? verbose) =>
            host.Timed(() => host.AgentsRestarted = RestartEach(host, options, ct, verbose));

        // True when every agent came back.
        private static bool RestartEach(RunbookHostState host, RunbookOptions options, CancellationToken ct, Action<string>? verbose)
        {
            foreach (var agent in options.Agents)
            {
                try
                {
                    var r = AgentRestartEngine.Restart(host.Shell!, agent, options.AgentTimeout, false, options.VCenterState, host.Name, ct, verbose);
                    host.AddAction($"Restarted {agent} ({r.Duration.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s; {(r.Running ? "running" : "not running")})");
                }
                catch (RemediationException ex)
                {
                    host.Fail(ex);
                    return false; // the next agent waits: a host whose hostd did not come back needs a person
                }
            }
            return true;
        }

        /// <summary>Phase 5 for a host: measure again and re-read the crontab.</summary>
        public static void VerifyHost(RunbookHostState host, RunbookOptions options, CancellationToken ct)
        {
            var d = HostDiagnosisReader.Read(host.Shell!, new HostDiagnosisRequest
            {
                Space = options.LogSpace,
                Cron = options.RegisterLogRotation || options.Preflight ? options.CronPaths : null,
            }, ct);
            host.After = d.Space;
            if (d.Cron != null) host.CronRegisteredAfter = d.Cron.Entries.Any(e => e.LogPath == options.LogSpace.LogPath);
            foreach (var ex in d.Errors)
                host.Fail(RunbookErrorIds.VerifyFailed, ex.Category, "Verification failed: " + ex.Message, ex.RecommendedAction, ex);
        }

        /// <summary>Phase 5 for the VMs of one connection: one batched read, then their -ctk.vmdk files (listings shared).</summary>
        public static void VerifyVms(IVSphereClient client, IReadOnlyList<RunbookVmState> vms, ChangeTrackingRun cbt, CancellationToken ct)
        {
            var fresh = client.GetVmsAsync(vms.Select(v => v.Vm.MoRef).ToList(), ct).GetAwaiter().GetResult()
                .ToDictionary(v => v.MoRef);
            var reads = new List<Task>();
            foreach (var vm in vms)
            {
                if (!fresh.TryGetValue(vm.Vm.MoRef, out var info))
                {
                    vm.Fail(RunbookErrorIds.VerifyFailed, ErrorCategory.ObjectNotFound,
                        $"VM '{vm.Vm.Name}' was not found on {vm.Server} when verifying.", "Check whether the VM was removed or renamed meanwhile.");
                    continue;
                }
                reads.Add(VerifyVmAsync(vm, info, cbt, ct));
            }
            // All VMs read together (their listings coalesce); the first failure surfaces after all are done.
            Task.WhenAll(reads).GetAwaiter().GetResult();
        }

        private static async Task VerifyVmAsync(RunbookVmState vm, VmInfo info, ChangeTrackingRun cbt, CancellationToken ct)
        {
            var inspection = await cbt.InspectAsync(vm.Client, info, ct).ConfigureAwait(false);
            vm.InspectionAfter = inspection;
            vm.After = ChangeTrackingEngine.BuildStatus(inspection, vm.Server);
        }

        public static RemediationHostSummary SummarizeHost(RunbookHostState host, bool whatIf)
        {
            var before = host.Before;
            var after = host.After ?? (whatIf || host.Actions.Count == 0 ? before : null);
            var counts = host.Findings
                .Where(f => f.Signature != CloneFailureSignatures.XcopyNotUsed)
                .GroupBy(f => f.Signature)
                .Select(g => $"{g.Key}: {g.Sum(f => f.Occurrences)}")
                .ToArray();
            var s = new RemediationHostSummary
            {
                VMHost = host.Name,
                VMs = host.VMs.Select(v => v.Vm.Name).ToArray(),
                LogStatusBefore = before?.Status,
                LogSizeBytesBefore = before?.LogSizeBytes,
                UsedPercentBefore = before?.UsedPercent,
                FreeBytesBefore = before?.VolumeFreeBytes,
                LogStatusAfter = after?.Status,
                LogSizeBytesAfter = after?.LogSizeBytes,
                UsedPercentAfter = after?.UsedPercent,
                FreeBytesAfter = after?.VolumeFreeBytes,
                Findings = host.Findings.ToArray(),
                FindingCounts = counts,
                Plan = host.Plan.ToArray(),
                Actions = host.Actions.ToArray(),
                LogArchive = host.LogArchive,
                RotationCronRegistered = host.CronRegisteredAfter ?? host.CronRegisteredBefore,
                LogCleared = host.LogCleared,
                RotationCronAdded = host.RotationCronAdded,
                AgentsRestarted = host.AgentsRestarted,
                StartedAt = host.StartedAt,
                FinishedAt = host.FinishedAt,
                Errors = host.Errors.ToArray(),
            };
            var beforeText = before == null ? "?" : $"/var {Pct(before.UsedPercent)} {before.Status}";
            s.Before = counts.Length == 0 ? beforeText : beforeText + "; " + string.Join(", ", counts);
            s.Outcome = host.Refused && host.Plan.Count == 0 && host.Actions.Count == 0 && host.Shell != null
                ? RemediationOutcome.Refused
                : Outcome(host.Shell == null, host.Plan.Count, host.Actions.Count, host.Errors.Count, host.AllConfirmed, whatIf);
            var state = new List<string>();
            if (host.Shell == null) state.Add("not reached");
            if (after != null)
                state.Add($"{after.VolumePath} {Pct(after.UsedPercent)} used ({after.Status}), log {FormatBytes(after.LogSizeBytes)}");
            if (s.RotationCronRegistered == true) state.Add("rotation cron registered");
            else if (s.RotationCronRegistered == false) state.Add("no rotation cron");
            if (host.RestartAgents && !whatIf) state.Add(host.Errors.Count == 0 && host.AllConfirmed ? "agents restarted" : "agents: see errors");
            s.FinalState = (whatIf ? "unchanged (-WhatIf): " : "") + string.Join("; ", state);
            return s;
        }

        /// <summary>The row of an input that matched no VM: Failed, nothing done, the lookup's error.</summary>
        public static RemediationVMSummary SummarizeUnmatched(UnmatchedVmInput input) => new RemediationVMSummary
        {
            VM = input.Input,
            Server = input.Server,
            Outcome = RemediationOutcome.Failed,
            Diagnosis = "not found: " + input.Error,
            Before = "not found",
            Errors = new[] { input.ErrorId + ": " + input.Error },
            FinalState = "not found in vCenter: nothing was read or done",
        };

        public static RemediationVMSummary SummarizeVm(RunbookVmState vm, bool whatIf)
        {
            var before = vm.Before;
            var after = vm.After ?? (whatIf ? before : null);
            var s = new RemediationVMSummary
            {
                VM = vm.Vm.Name,
                VMHost = vm.Vm.HostName,
                Server = vm.Server,
                // A reset that finished an interrupted one knows the state before that one began.
                PowerStateBefore = vm.ResetResult?.PowerStateBefore ?? before?.PowerState ?? ChangeTrackingEngine.PowerCliPowerState(vm.Vm.PowerState),
                CbtEnabledBefore = before?.Enabled ?? vm.Vm.ChangeTrackingEnabled,
                CbtHealthyBefore = before?.Healthy,
                Diagnosis = vm.ResetReason ?? (before == null ? null : before.Healthy ? $"CBT {(before.Enabled ? "enabled" : "disabled")}, configuration consistent; nothing in {(vm.CloningHostName != null ? "the evidence of " + vm.CloningHostName + ", the host that cloned it," : "its host's log")} points at it" : before.Reason),
                CtkFilesBefore = before?.CtkFiles ?? Array.Empty<string>(),
                Plan = vm.Plan.ToArray(),
                Actions = vm.Actions.ToArray(),
                DeletedCtkFiles = vm.ResetResult?.DeletedFiles ?? Array.Empty<string>(),
                PowerStateAfter = after?.PowerState ?? vm.ResetResult?.PowerStateAfter,
                CbtEnabledAfter = after?.Enabled ?? vm.ResetResult?.EnabledAfter,
                CbtHealthyAfter = after?.Healthy,
                CbtReset = vm.ResetResult?.Succeeded == true,
                StartedAt = vm.StartedAt,
                FinishedAt = vm.FinishedAt,
                Errors = vm.Errors.ToArray(),
            };
            (s.PoweredOffAt, s.PoweredOnAt) = DownAndUp(vm.ResetResult);
            s.Outcome = vm.Refused ? RemediationOutcome.Refused : Outcome(before == null, vm.Plan.Count, vm.ResetResult == null ? 0 : 1, vm.Errors.Count, vm.AllConfirmed, whatIf);
            // "Nothing to do" holds only as far as was read: without the host's evidence a 7228 victim looks healthy.
            if (s.Outcome == RemediationOutcome.Healthy && vm.HostEvidenceUnread != null)
            {
                s.Outcome = RemediationOutcome.Unknown;
                s.Diagnosis = (s.Diagnosis == null ? "" : s.Diagnosis + "; ") + "not judged for 7228: " + vm.HostEvidenceUnread;
            }
            // The state words are the health rule's: CBT that is off is a fact, not a failure.
            var afterInspection = vm.After != null ? vm.InspectionAfter : vm.Inspection;
            if (after != null && afterInspection != null)
                s.FinalState = (whatIf ? "unchanged (-WhatIf): " : "") + $"{after.PowerState}, CBT {(after.Enabled ? "enabled" : "disabled")}, {after.CtkFiles.Length} ctk file(s), " +
                               "configuration " + ChangeTrackingHealth.Of(afterInspection).Describe();
            else if (vm.ResetResult != null)
                s.FinalState = $"{vm.ResetResult.PowerStateAfter}, CBT {(vm.ResetResult.EnabledAfter == true ? "enabled" : vm.ResetResult.EnabledAfter == false ? "disabled" : "unknown")} (not verified)";
            else s.FinalState = "unknown (not read)";
            s.Before = DescribeBefore(s);
            return s;
        }

        // The table's Before column of a VM, in words short enough for 100 columns.
        private static string DescribeBefore(RemediationVMSummary s)
        {
            if (s.PowerStateBefore == null && s.CbtEnabledBefore == null) return "?";
            var text = $"{s.PowerStateBefore}, CBT {(s.CbtEnabledBefore == true ? "on" : "off")}";
            if (s.CbtHealthyBefore == false) text += s.Diagnosis != null && s.Diagnosis.Contains("could not search") ? ", unknown" : ", inconsistent";
            if (s.Diagnosis != null && s.Diagnosis.Contains("(7228)")) text += ", 7228";
            if (s.Outcome == RemediationOutcome.Unknown) text += ", 7228 not read";
            return text;
        }

        /// <summary>
        /// A running VM's downtime from the reset's own power changes (each timed when vCenter's task
        /// ended): down at its first power-off, up at the power-on that left it running; a VM that
        /// was off before has no downtime, one left off has no end.
        /// </summary>
        internal static (DateTime? Off, DateTime? On) DownAndUp(ChangeTrackingResetResult? reset)
        {
            if (reset == null || reset.PowerStateBefore != "PoweredOn") return (null, null);
            var changes = reset.PowerTransitions;
            var off = changes.FirstOrDefault(t => t.To == "PoweredOff");
            if (off == null) return (null, null);
            var last = changes[changes.Length - 1];
            return (off.Time, last.To == "PoweredOn" ? last.Time : (DateTime?)null);
        }

        /// <summary>The report of a run: the summaries themselves, with the run's context (one result model for console, CSV, JSON and HTML).</summary>
        public static RemediationReport BuildReport(IReadOnlyList<RemediationHostSummary> hosts, IReadOnlyList<RemediationVMSummary> vms, DateTime generatedAt,
            IEnumerable<string>? servers = null, IEnumerable<string>? parameters = null, string? runBy = null, string? changeTicket = null)
        {
            var report = new RemediationReport { GeneratedAt = generatedAt, Operator = runBy, ChangeTicket = changeTicket };
            if (servers != null) report.Servers.AddRange(servers);
            if (parameters != null) report.Parameters.AddRange(parameters);
            report.Hosts.AddRange(hosts);
            report.VMs.AddRange(vms);
            return report;
        }

        public static string FormatBytes(long bytes)
        {
            var inv = CultureInfo.InvariantCulture;
            if (bytes >= 1L << 30) return (bytes / (double)(1L << 30)).ToString("0.0", inv) + " GiB";
            if (bytes >= 1L << 20) return (bytes / (double)(1L << 20)).ToString("0.0", inv) + " MiB";
            if (bytes >= 1L << 10) return (bytes / 1024.0).ToString("0.0", inv) + " KiB";
            return bytes.ToString(inv) + " bytes";
        }

        private static string Pct(double p) => p.ToString("0.#", CultureInfo.InvariantCulture) + "%";
    }
}
