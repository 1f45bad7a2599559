using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.IO;
using System.Management.Automation;
using MtvRemediation.Esxi;
using MtvRemediation.Infrastructure;
using MtvRemediation.Remediation;

namespace MtvRemediation.Commands
{
    /// <summary>
    /// Finds the log lines that explain a failed MTV disk clone (7228, 327689, exit codes, ENOSPC,
    /// no XCOPY) in piped lines (<c>oc logs pod | Find-MtvCloneFailure</c>), local files (plain or
    /// .gz) and, through <see cref="ScanHosts"/>, the wrapper logs on ESXi hosts (scanned on the host).
    /// </summary>
    /// <remarks>
    /// With no source at all (nothing piped, no -Path/-LiteralPath) the cmdlet stops with
    /// CloneFailureNoSource instead of silently scanning every host with an open session: a scan
    /// reads multi-GB logs on production hosts, so which hosts is always the caller's choice.
    /// </remarks>
    [Cmdlet(VerbsCommon.Find, "MtvCloneFailure", DefaultParameterSetName = InputObjectSet)]
    [OutputType(typeof(CloneFailureFinding), typeof(CloneFailureSummary))]
    public sealed class FindMtvCloneFailureCommand : MtvCmdlet
    {
        private const string InputObjectSet = "InputObject";
        private const string PathSet = "Path";
        private const string LiteralPathSet = "LiteralPath";
        internal const string PipelineSource = "InputObject";

        private CloneFailureScanOptions _options = new CloneFailureScanOptions();
        private CloneFailureSourceScan? _pipelineScan;

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

        /// <summary>Local log files taken literally; binds from Get-ChildItem output.</summary>
        [Parameter(Mandatory = true, ParameterSetName = LiteralPathSet, ValueFromPipelineByPropertyName = true)]
        [Alias("PSPath", "LP")]
        [ValidateNotNullOrEmpty]
        public string[] LiteralPath { get; set; } = Array.Empty<string>();

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
            if (ParameterSetName == InputObjectSet)
            {
                if (!MyInvocation.ExpectingInput && !MyInvocation.BoundParameters.ContainsKey(nameof(InputObject)))
                {
                    ThrowTerminatingError(new ErrorRecord(
                        new ArgumentException("Nothing to scan. Pipe log lines (oc logs <populator-pod> | Find-MtvCloneFailure), or give -Path with local log files."),
                        "CloneFailureNoSource", ErrorCategory.InvalidArgument, null));
                }
            }
        }

        protected override void ProcessRecord()
        {
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
            }
        }

        protected override void EndProcessing()
        {
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
                    WriteError(new ErrorRecord(ex, "CloneFailureFileUnreadable", ErrorCategory.ReadError, file)
                    {
                        ErrorDetails = new ErrorDetails($"Cannot read '{file}': {ex.Message} Check the file exists, is readable and (for .gz) is a complete archive."),
                    });
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
                WriteError(new ErrorRecord(ex, "CloneFailurePathNotFound", ErrorCategory.ObjectNotFound, path)
                {
                    ErrorDetails = new ErrorDetails($"No file matches '{path}'. Save the pod log first, e.g. oc logs <pod> > populator.log, and pass that path."),
                });
                return Array.Empty<string>();
            }
            return FilterFiles(resolved, provider, path);
        }

        private IEnumerable<string> ResolveLiteralPath(string path)
        {
            var resolved = SessionState.Path.GetUnresolvedProviderPathFromPSPath(path, out var provider, out _);
            if (!File.Exists(resolved) && !Directory.Exists(resolved))
            {
                WriteError(new ErrorRecord(new ItemNotFoundException($"Cannot find '{path}'."), "CloneFailurePathNotFound", ErrorCategory.ObjectNotFound, path)
                {
                    ErrorDetails = new ErrorDetails($"Cannot find '{path}'. Check the path; save pod logs with oc logs <pod> > populator.log."),
                });
                return Array.Empty<string>();
            }
            return FilterFiles(new[] { resolved }, provider, path);
        }

        private IEnumerable<string> FilterFiles(IEnumerable<string> resolved, ProviderInfo provider, string original)
        {
            var files = new List<string>();
            if (provider.Name != "FileSystem")
            {
                WriteError(new ErrorRecord(new ArgumentException($"'{original}' is not a file system path."), "CloneFailurePathNotFile", ErrorCategory.InvalidArgument, original)
                {
                    ErrorDetails = new ErrorDetails($"'{original}' is on the {provider.Name} provider; give a log file on disk."),
                });
                return files;
            }
            foreach (var r in resolved)
            {
                if (Directory.Exists(r))
                {
                    WriteError(new ErrorRecord(new ArgumentException($"'{r}' is a directory."), "CloneFailurePathIsDirectory", ErrorCategory.InvalidArgument, r)
                    {
                        ErrorDetails = new ErrorDetails($"'{r}' is a directory. Pass its log files: Get-ChildItem '{r}' -Filter *.log | Find-MtvCloneFailure"),
                    });
                    continue;
                }
                files.Add(r);
            }
            return files;
        }

        /// <summary>
        /// Scans the wrapper logs on each host, up to <paramref name="throttleLimit"/> at a time, and
        /// writes findings (or summaries) as they stream in. The -VMHost parameter set calls this with
        /// the sessions the SSH layer hands out.
        /// </summary>
        internal void ScanHosts(IReadOnlyList<IEsxiShell> shells, IReadOnlyList<string>? logPaths, int throttleLimit, TimeSpan timeout)
        {
            RunParallel(shells, throttleLimit, "Scanning vmkfstools-wrapper logs", s => s.HostName, (shell, sink, token) =>
            {
                HostCloneLogScanResult result;
                try
                {
                    result = HostCloneLogScanner.ScanAsync(shell, logPaths, _options,
                        f => { if (!Summary) sink.WriteObject(f); }, timeout, token).GetAwaiter().GetResult();
                }
                catch (HostCloneLogScanException ex)
                {
                    sink.WriteError(new ErrorRecord(ex, "CloneFailureHostScanFailed", ErrorCategory.ReadError, shell.HostName));
                    result = ex.PartialResult;
                }
                catch (TimeoutException ex)
                {
                    sink.WriteError(new ErrorRecord(ex, "CloneFailureHostScanTimeout", ErrorCategory.OperationTimeout, shell.HostName)
                    {
                        ErrorDetails = new ErrorDetails($"The log scan on {shell.HostName} did not finish within {timeout}. The log may be very large: narrow it with -Since, or clear it with Clear-VmkfstoolsWrapperLog -Archive."),
                    });
                    return;
                }
                sink.WriteVerbose($"{shell.HostName}: {result.Sources.Count} log file(s), {result.BytesReceived} bytes of matches received in {result.Duration.TotalSeconds:0.0} s.");
                if (result.Sources.Count == 0)
                    sink.WriteWarning($"No vmkfstools-wrapper log found on {shell.HostName}. Wrappers from MTV 2.11 on log to syslog: scan it with -LogPath /var/log/syslog.log.");
                if (Summary) foreach (var s in result.Sources) sink.WriteObject(s.Summary());
            });
        }
    }
}
