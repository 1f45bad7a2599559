using System;
using System.Collections.Generic;
using System.Management.Automation;
using System.Threading;
using MtvRemediation.Diagnosis;
using MtvRemediation.Esxi;
using MtvRemediation.Infrastructure;
using MtvRemediation.Wrapper;

namespace MtvRemediation.Commands
{
    /// <summary>
    /// Remove-VmkfstoolsWrapperTaskDirectory: removes the wrapper's clone task directories in /tmp
    /// that are older than -OlderThanDays and whose task is not running, keeping their exit codes and
    /// stderr in the result (and in a local JSON file with -ArchivePath). A running task's directory
    /// is never touched: the host checks the pid again right before each removal.
    /// </summary>
    [Cmdlet(VerbsCommon.Remove, "VmkfstoolsWrapperTaskDirectory", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(WrapperTaskCleanupResult))]
    public sealed class RemoveVmkfstoolsWrapperTaskDirectoryCommand : EsxiHostCmdletBase
    {
        private string? _archiveDirectory;

        /// <summary>Only directories not written for this many days (0.3.1 prunes its own after 5).</summary>
        [Parameter]
        [ValidateRange(0.0, 3650.0)]
        public double OlderThanDays { get; set; } = 5;

        /// <summary>Local directory that receives a JSON file with the removed directories' exit codes and stderr, before anything is removed.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? ArchivePath { get; set; }

        protected override string ProgressActivity => "Removing stale vmkfstools-wrapper task directories";

        protected override void BeginProcessing()
        {
            if (ArchivePath != null)
            {
                _archiveDirectory = GetUnresolvedProviderPathFromPSPath(ArchivePath);
                if (System.IO.File.Exists(_archiveDirectory))
                    ThrowInvalidArgument($"-ArchivePath '{ArchivePath}' is a file; give a directory (files are named <host>_vmkfstools-wrapper-tasks_<time>.json).", ArchivePath);
            }
            base.BeginProcessing();
        }

        private protected override bool ShouldProcessHost(HostTarget target) =>
            ShouldProcess(target.Name, $"Remove the clone task directories /tmp/vmkfstools-wrapper-* not written for {OlderThanDays:0.##} day(s) whose task is not running"
                                       + (_archiveDirectory != null ? $", after saving their exit codes and stderr to {_archiveDirectory}" : ", keeping their exit codes and stderr in the result"));

        private protected override void ProcessHost(HostTarget target, IEsxiShell shell, IOutputSink sink, CancellationToken ct)
        {
            var olderThan = TimeSpan.FromDays(OlderThanDays);
            var read = HostDiagnosisReader.Read(shell, new HostDiagnosisRequest { Inventory = true }, ct);
            var info = HostDiagnosis.Required(read.Wrapper, read.WrapperError);
            var kept = new List<string>();
            var chosen = WrapperTaskCleanup.Candidates(info, olderThan, DateTime.UtcNow, kept);
            sink.WriteVerbose($"{shell.HostName}: {info.TaskDirectoryCount} task directories, {chosen.Count} to remove, {kept.Count} kept.");
            sink.WriteObject(WrapperTaskCleanup.Remove(shell, info, chosen, olderThan, _archiveDirectory, kept, ct));
        }
    }
}
