using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.IO;
using System.Management.Automation;
using System.Threading;
using MtvRemediation.Diagnosis;
using MtvRemediation.Esxi;
using MtvRemediation.Infrastructure;
using MtvRemediation.Interop;
using MtvRemediation.Wrapper;

namespace MtvRemediation.Commands
{
    /// <summary>
    /// Finds the log lines that explain a failed MTV disk clone (7228, 327689, exit codes, ENOSPC,
    /// no XCOPY) in piped lines (<c>oc logs pod | Find-MtvCloneFailure</c>), local files (plain or
    /// .gz) and the wrapper logs on ESXi hosts (-VMHost; scanned on the host, only matches cross).
    /// </summary>
    /// <remarks>
    /// With no source at all (nothing piped, no -Path/-LiteralPath/-VMHost) the cmdlet stops with
    /// CloneFailureNoSource instead of silently scanning every host with an open session: a scan
    /// reads multi-GB logs on production hosts, so which hosts is always the caller's choice.
    /// The -VMHost set uses the module's one host fan-out (<see cref="HostFanOut"/>: the same
    /// -Credential/-KeyFilePath/-ThrottleLimit, sessions, errors and stop behaviour as every host
    /// cmdlet), composed rather than inherited because this cmdlet's -VMHost is one parameter set
    /// of several.
    /// </remarks>
    [Cmdlet(VerbsCommon.Find, "MtvCloneFailure", DefaultParameterSetName = InputObjectSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(CloneFailureFinding), typeof(CloneFailureSummary))]
    public sealed class FindMtvCloneFailureCommand : MtvCmdlet, IDynamicParameters
    {
        private const string InputObjectSet = "InputObject";
        private const string PathSet = "Path";
        private const string LiteralPathSet = "LiteralPath";
        private const string VMHostSet = "VMHost";
        internal const string PipelineSource = "InputObject";

        private CloneFailureScanOptions _options = new CloneFailureScanOptions();
        private CloneFailureSourceScan? _pipelineScan;
        private readonly HostFanOut _hosts;

        public FindMtvCloneFailureCommand()
        {
            _hosts = new HostFanOut(this);
        }

        /// <summary>-Credential, -KeyFilePath, -ThrottleLimit for the -VMHost scan (<see cref="HostConnectionParameters"/>).</summary>
        public object GetDynamicParameters() => _hosts.Parameters;

        /// <summary>Log lines, e.g. from <c>oc logs</c>; a string holding several lines is split.</summary>
        [Parameter(ParameterSetName = InputObjectSet, ValueFromPipeline = true)]
        [AllowEmptyString]
        [AllowNull]
        [AllowEmptyCollection]
        public string[]? InputObject { get; set; }

        /// <summary>Local log files (wildcards allowed), e.g. populator pod logs saved with <c>oc logs</c>.</summary>
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = PathSet)]
        [ValidateNotNullOrEmpty]
        public string[] Path { get; set; } = Array.Empty<string>();

        /// <summary>Local log files taken literally (no wildcards).</summary>
        [Parameter(Mandatory = true, ParameterSetName = LiteralPathSet)]
        [Alias("PSPath", "LP")]
        [ValidateNotNullOrEmpty]
        public string[] LiteralPath { get; set; } = Array.Empty<string>();

        /// <summary>
        /// ESXi hosts whose wrapper logs to scan: names, PowerCLI VMHost objects, our results,
        /// EsxiShellSession objects. From the pipeline every non-string object lands here (strings
        /// are log lines); files from Get-ChildItem are recognised and scanned as local files.
        /// </summary>
        [Parameter(Mandatory = true, ParameterSetName = VMHostSet, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        [Alias("Session", "HostName")]
        [ArgumentCompleter(typeof(VMHostCompleter))]
        public object[] VMHost { get; set; } = Array.Empty<object>();

        /// <summary>Log files on the host to scan instead of the wrapper logs (rotated variants beside them are included).</summary>
        [Parameter(ParameterSetName = VMHostSet)]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(WrapperLogPathCompleter))]
        public string[]? LogPath { get; set; }

        /// <summary>Seconds one host's scan may take before it is stopped.</summary>
        [Parameter(ParameterSetName = VMHostSet)]
        [ValidateRange(1, 86400)]
        public int TimeoutSeconds { get; set; } = 1800;

        /// <summary>Only lines at or after this time (lines without a timestamp are kept).</summary>
        [Parameter]
        public DateTime Since { get; set; }

        /// <summary>One CloneFailureSummary per source instead of the findings.</summary>
        [Parameter]
        public SwitchParameter Summary { get; set; }

        /// <summary>Frequent lines (XcopyNotUsed) reported per source before they are only counted; 0 reports all.</summary>
        [Parameter]
        [ValidateRange(0, int.MaxValue)]
        public int RepeatLimit { get; set; } = 10;

        protected override void BeginProcessing()
        {
            _options = new CloneFailureScanOptions
            {
                Since = MyInvocation.BoundParameters.ContainsKey(nameof(Since)) ? Since : (DateTime?)null,
                RepeatLimit = RepeatLimit,
                Now = DateTime.UtcNow,
            };
            if (LogPath != null)
            {
                foreach (var p in LogPath)
                {
                    try { HostCloneLogScanner.ValidateLogPath(p); }
                    catch (ArgumentException ex)
                    {
                        ThrowTerminatingError(new MtvException(CloneFailureErrorIds.InvalidLogPath, ErrorCategory.InvalidArgument, ex.Message, null, ex).ToErrorRecord(p));
                    }
                }
            }
            if (ParameterSetName == InputObjectSet)
            {
                if (!MyInvocation.ExpectingInput && !MyInvocation.BoundParameters.ContainsKey(nameof(InputObject)))
                {
                    ThrowTerminatingError(new MtvException(CloneFailureErrorIds.NoSource, ErrorCategory.InvalidArgument,
                        $"Nothing to scan. Pipe log lines (oc logs <populator-pod> | {MyInvocation.MyCommand.Name}), give -Path with local log files, or -VMHost to scan the wrapper logs on ESXi hosts.").ToErrorRecord(null));
                }
            }
        }

        protected override void ProcessRecord()
        {
            if (ParameterSetName != VMHostSet && _hosts.AnyBound(MyInvocation))
            {
                ThrowTerminatingError(new MtvException(CloneFailureErrorIds.HostParameterWithoutVMHost, ErrorCategory.InvalidArgument,
                    "-Credential, -KeyFilePath, -ThrottleLimit and -StartSshService apply to the scan of ESXi hosts: give -VMHost too, or leave them out for log lines and files.").ToErrorRecord(null));
            }
            switch (ParameterSetName)
            {
                case InputObjectSet:
                    // Created here, not in BeginProcessing: with pipeline input the parameter set
                    // (lines, or files from Get-ChildItem) is only known once the first record binds.
                    _pipelineScan ??= new CloneFailureSourceScan(PipelineSource, null, null, _options);
                    if (InputObject == null) return;
                    foreach (var item in InputObject) AddPipelineText(item ?? "");
                    break;
                case PathSet:
                    foreach (var p in Path) ScanFiles(ResolveWildcardPath(p));
                    break;
                case LiteralPathSet:
                    foreach (var p in LiteralPath) ScanFiles(ResolveLiteralPath(p));
                    break;
                case VMHostSet:
                    CollectHosts();
                    break;
            }
        }

        protected override void EndProcessing()
        {
            if (ParameterSetName == VMHostSet)
            {
                try { ScanHosts(); }
                finally { _hosts.EndSshOnDemand(); } // -StartSshService: SSH as it was before the scan
                return;
            }
            if (ParameterSetName != InputObjectSet) return;
            // An empty pipeline still gets its (zero) summary: "nothing found" is an answer.
            _pipelineScan ??= new CloneFailureSourceScan(PipelineSource, null, null, _options);
            foreach (var f in _pipelineScan.Complete()) Emit(f);
            if (Summary) WriteObject(_pipelineScan.Summary());
        }

        private void AddPipelineText(string text)
        {
            // `oc logs pod | Out-String` or a raw multi-line string: count each line.
            var lines = text.IndexOf('\n') >= 0 ? text.Split('\n') : new[] { text };
            var last = lines.Length - 1;
            if (last > 0 && lines[last].Length == 0) last--; // a trailing newline is not an extra line
            for (var i = 0; i <= last; i++)
            {
                var f = _pipelineScan!.AddLine(lines[i].TrimEnd('\r'));
                if (f != null) Emit(f);
            }
        }

        private void Emit(CloneFailureFinding finding)
        {
            if (!Summary) WriteObject(finding);
        }

        private void ScanFiles(IEnumerable<string> files)
        {
            foreach (var file in files)
            {
                CancelToken.ThrowIfCancellationRequested();
                WriteVerbose($"Scanning {file}");
                try
                {
                    var progress = new ProgressRecord(ProgressActivityId, "Scanning " + file, "Reading");
                    var scan = CloneFailureScanner.ScanFile(file, _options, Emit, CancelToken, (read, total) =>
                    {
                        progress.PercentComplete = total > 0 ? (int)Math.Min(100, read * 100 / total) : 0;
                        progress.StatusDescription = $"{read / (1024 * 1024)} of {total / (1024 * 1024)} MiB";
                        WriteProgress(progress);
                    });
                    progress.RecordType = ProgressRecordType.Completed;
                    WriteProgress(progress);
                    if (Summary) WriteObject(scan.Summary());
                }
                catch (OperationCanceledException) { throw new PipelineStoppedException(); }
                catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException || ex is InvalidDataException)
                {
                    WriteError(new MtvException(CloneFailureErrorIds.FileUnreadable, ErrorCategory.ReadError,
                        $"Cannot read '{file}': {ex.Message} Check the file exists, is readable and (for .gz) is a complete archive.", null, ex).ToErrorRecord(file));
                }
            }
        }

        private IEnumerable<string> ResolveWildcardPath(string path)
        {
            Collection<string> resolved;
            ProviderInfo provider;
            try { resolved = GetResolvedProviderPathFromPSPath(path, out provider); }
            catch (ItemNotFoundException ex)
            {
                WriteError(new MtvException(CloneFailureErrorIds.PathNotFound, ErrorCategory.ObjectNotFound,
                    $"No file matches '{path}'. Save the pod log first, e.g. oc logs <pod> > populator.log, and pass that path.", null, ex).ToErrorRecord(path));
                return Array.Empty<string>();
            }
            return FilterFiles(resolved, provider, path);
        }

        private IEnumerable<string> ResolveLiteralPath(string path)
        {
            var resolved = SessionState.Path.GetUnresolvedProviderPathFromPSPath(path, out var provider, out _);
            if (!File.Exists(resolved) && !Directory.Exists(resolved))
            {
                WriteError(new MtvException(CloneFailureErrorIds.PathNotFound, ErrorCategory.ObjectNotFound,
                    $"Cannot find '{path}'. Check the path; save pod logs with oc logs <pod> > populator.log.").ToErrorRecord(path));
                return Array.Empty<string>();
            }
            return FilterFiles(new[] { resolved }, provider, path);
        }

        private IEnumerable<string> FilterFiles(IEnumerable<string> resolved, ProviderInfo provider, string original)
        {
            var files = new List<string>();
            if (provider.Name != "FileSystem")
            {
                WriteError(new MtvException(CloneFailureErrorIds.PathNotFile, ErrorCategory.InvalidArgument,
                    $"'{original}' is on the {provider.Name} provider; give a log file on disk.").ToErrorRecord(original));
                return files;
            }
            return DropDirectories(resolved);
        }

        private List<string> DropDirectories(IEnumerable<string> resolved)
        {
            var files = new List<string>();
            foreach (var r in resolved)
            {
                if (Directory.Exists(r))
                {
                    WriteError(new MtvException(CloneFailureErrorIds.PathIsDirectory, ErrorCategory.InvalidArgument,
                        $"'{r}' is a directory. Pass its log files: Get-ChildItem '{r}' -Filter *.log | {MyInvocation.MyCommand.Name}").ToErrorRecord(r));
                    continue;
                }
                files.Add(r);
            }
            return files;
        }

        private void CollectHosts()
        {
            foreach (var input in VMHost)
            {
                // PowerShell binds any piped non-string object to -VMHost (object[]), so a file from
                // Get-ChildItem arrives here too: `Get-ChildItem *.log | Find-MtvCloneFailure` scans it.
                if ((input is PSObject pso ? pso.BaseObject : input) is FileSystemInfo item)
                {
                    ScanFiles(DropDirectories(new[] { item.FullName }));
                    continue;
                }
                _hosts.Add(input);
            }
        }

        /// <summary>
        /// Scans the logs on up to -ThrottleLimit hosts at once over their (reused or on-demand)
        /// shell sessions; findings stream to the pipeline as each host's matches arrive.
        /// </summary>
        private void ScanHosts()
        {
            var timeout = TimeSpan.FromSeconds(TimeoutSeconds);
            var logPaths = LogPath;
            _hosts.Run(_hosts.Targets, "Scanning vmkfstools-wrapper logs", (target, shell, sink, token) =>
            {
                sink.WriteVerbose($"{target.Name}: {HostCloneLogScanner.BuildCommand(logPaths ?? HostCloneLogScanner.DefaultLogPaths, _options).Display}");
                ScanHost(target, shell, logPaths, timeout, sink, token);
            });
        }

        private void ScanHost(HostTarget target, IEsxiShell shell, IReadOnlyList<string>? logPaths, TimeSpan timeout, IOutputSink sink, CancellationToken token)
        {
            // The one host read (HostDiagnosisReader): the logs scanned on the host and, without
            // -LogPath, the clone task directories, whose err files hold vmkfstools' stderr (the
            // 7228/327689 text) that no wrapper log does (MTV 2.9's secure log aside). Both at once.
            var read = HostDiagnosisReader.Read(shell, new HostDiagnosisRequest
            {
                Evidence = true,
                LogPaths = logPaths,
                ScanOptions = _options,
                ScanTimeout = timeout,
                OnFinding = Summary ? (Action<CloneFailureFinding>?)null : sink.WriteObject,
            }, token);
            var commandName = MyInvocation.MyCommand.Name;
            if (read.ScanError != null) sink.WriteError(read.ScanError.ToErrorRecord(target.InputObject, commandName));
            var result = read.Scan;
            if (result != null)
            {
                sink.WriteVerbose($"{target.Name}: {result.Sources.Count} log file(s) scanned, {result.BytesReceived} bytes of matches received in {result.Duration.TotalSeconds:0.0} s.");
                if (result.Sources.Count == 0 && logPaths != null && read.ScanError == null)
                    sink.WriteWarning($"{target.Name}: no log found at {string.Join(", ", logPaths)}.");
                if (Summary) foreach (var s in result.Sources) sink.WriteObject(s.Summary());
            }
            if (logPaths != null) return;
            if (read.WrapperError != null)
            {
                sink.WriteError(read.WrapperError.ToErrorRecord(target.InputObject, commandName));
                return;
            }
            var info = read.Wrapper!;
            sink.WriteVerbose($"{target.Name}: wrapper {info.VibVersion ?? info.ScriptVersion ?? "not installed"} (logs to {info.LogsTo}), {info.TaskDirectoryCount} task directories, {info.FailedTasks.Length} failed.");
            if (!Summary)
            {
                foreach (var f in read.TaskFindings) sink.WriteObject(f);
                return;
            }
            var scan = new CloneFailureSourceScan(target.Name + ":" + WrapperInventory.TaskDirectoryPrefix + "*", target.Name, WrapperInventory.TaskDirectoryPrefix + "*", _options);
            foreach (var f in read.TaskFindings) scan.AddNumberedLine(f.LineNumber, f.Line);
            sink.WriteObject(scan.Summary());
        }
    }
}
