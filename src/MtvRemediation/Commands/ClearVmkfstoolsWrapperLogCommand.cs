using System;
using System.Linq;
using System.Management.Automation;
using System.Threading;
using MtvRemediation.Diagnosis;
using MtvRemediation.Esxi;
using MtvRemediation.HostLog;
using MtvRemediation.Infrastructure;
using MtvRemediation.Interop;
using MtvRemediation.Wrapper;

namespace MtvRemediation.Commands
{
    /// <summary>Clear-VmkfstoolsWrapperLog: truncate the wrapper log in place, optionally archiving it locally first.</summary>
    [Cmdlet(VerbsCommon.Clear, "VmkfstoolsWrapperLog", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(LogClearResult))]
    public sealed class ClearVmkfstoolsWrapperLogCommand : EsxiHostCmdletBase
    {
        private readonly PerInput<string> _logPath;
        private string? _archiveDirectory;

        // The interrupted write-back each host's run finishes (confirmed before any connection).
        private readonly System.Collections.Concurrent.ConcurrentDictionary<HostTarget, KeptTailRecord> _resume =
            new System.Collections.Concurrent.ConcurrentDictionary<HostTarget, KeptTailRecord>();

        public ClearVmkfstoolsWrapperLogCommand() => _logPath = CapturePerInput(() => AbsoluteLogPath(LogPath)!);

        [Parameter(ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(WrapperLogPathCompleter))]
        public string LogPath { get; set; } = LogSpaceOptions.DefaultLogPath;

        /// <summary>Local directory that receives a verified .gz copy before the log is truncated.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? ArchivePath { get; set; }

        /// <summary>Compress the archive with the host's gzip (fewer bytes over a slow link; slower, uses the host's CPU).</summary>
        [Parameter]
        public SwitchParameter CompressOnHost { get; set; }

        /// <summary>Lines to keep at the end of the log (evidence for support).</summary>
        [Parameter]
        [ValidateRange(0, 10_000_000)]
        public int KeepLastLines { get; set; }

        protected override string ProgressActivity => "Clearing vmkfstools-wrapper logs";

        protected override void BeginProcessing()
        {
            if (CompressOnHost && ArchivePath == null)
                ThrowInvalidArgument("-CompressOnHost applies to the archive: give -ArchivePath too (or drop -CompressOnHost).", "CompressOnHost");
            if (ArchivePath != null)
            {
                _archiveDirectory = GetUnresolvedProviderPathFromPSPath(ArchivePath);
                if (System.IO.File.Exists(_archiveDirectory))
                    ThrowInvalidArgument($"-ArchivePath '{ArchivePath}' is a file; give a directory (archives are named <host>_<log>_<time>.gz).", ArchivePath);
            }
            base.BeginProcessing();
        }

        private protected override bool ShouldProcessHost(HostTarget target)
        {
            var path = _logPath.For(target);
            if (KeepLastLines > 0)
            {
                // A re-run of -KeepLastLines on a log whose write-back was interrupted finishes it
                // instead of truncating again; declining (-Confirm) offers to discard it.
                var pending = KeptTailRecord.Find(target.Name, path).FirstOrDefault();
                if (pending != null)
                {
                    if (ShouldProcess(target.Name, $"Finish the interrupted -KeepLastLines write-back of {path} (truncated {pending.TruncatedAt.ToString("u", System.Globalization.CultureInfo.InvariantCulture)}): append the part of the kept tail saved in {pending.TailFile} that did not reach the host; no new truncation"))
                    {
                        _resume[target] = pending;
                        return true;
                    }
                    if (ShouldProcess(pending.TailFile, $"Discard the kept tail of the interrupted write-back of {path} on {target.Name} ({pending.TailBytes} bytes; the part not on the host is lost)"))
                        pending.Delete();
                }
            }
            var action = "Truncate " + path + " in place"
                         + (KeepLastLines > 0 ? $", keeping its last {KeepLastLines} lines" : string.Empty)
                         + (_archiveDirectory != null ? $", after saving a verified compressed copy to {_archiveDirectory}" : string.Empty);
            return ShouldProcess(target.Name, action);
        }

        private protected override void ProcessHost(HostTarget target, IEsxiShell shell, IOutputSink sink, CancellationToken ct)
        {
            var logPath = _logPath.For(target);
            // One read, both at once: does clearing apply to this wrapper, and the space before.
            var read = HostDiagnosisReader.Read(shell, new HostDiagnosisRequest
            {
                LogFactsFor = WrapperLogApplicability.DependsOnGeneration(logPath) ? logPath : null,
                Space = new LogSpaceOptions { LogPath = logPath },
            }, ct);
            read.ThrowIfRefused(logPath, WrapperLogAction.Clear);
            var request = new LogClearRequest
            {
                LogPath = logPath,
                Before = HostDiagnosis.Required(read.Space, read.SpaceError),
                ArchiveDirectory = _archiveDirectory,
                CompressOnHost = CompressOnHost,
                KeepLastLines = KeepLastLines,
                Resume = _resume.TryGetValue(target, out var resume) ? resume : null,
            };
            var result = LogClearEngine.Clear(shell, request, ct, sink.WriteVerbose);
            if (result.Note != null) sink.WriteWarning($"{target.Name}: {result.Note}");
            KeptTailRecord.WarnPending(sink.WriteWarning, shell.HostName, logPath);
            sink.WriteObject(result);
        }
    }
}
