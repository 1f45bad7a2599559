using System;
using System.Management.Automation;
using System.Threading;
using MtvRemediation.Diagnosis;
using MtvRemediation.Esxi;
using MtvRemediation.HostLog;
using MtvRemediation.Infrastructure;
using MtvRemediation.Interop;

namespace MtvRemediation.Commands
{
    /// <summary>Test-VmkfstoolsLogSpace: is /var (and /tmp) about to break the next clone?</summary>
    [Cmdlet(VerbsDiagnostic.Test, "VmkfstoolsLogSpace", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(LogSpaceStatus), typeof(bool))]
    public sealed class TestVmkfstoolsLogSpaceCommand : EsxiHostCmdletBase
    {
        private readonly PerInput<string> _logPath;

        public TestVmkfstoolsLogSpaceCommand() => _logPath = CapturePerInput(() => AbsoluteLogPath(LogPath)!);

        [Parameter(ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(WrapperLogPathCompleter))]
        public string LogPath { get; set; } = LogSpaceOptions.DefaultLogPath;

        [Parameter]
        [ValidateRange(1, 100)]
        public int WarningPercent { get; set; } = 75;

        [Parameter]
        [ValidateRange(1, 100)]
        public int CriticalPercent { get; set; } = 90;

        /// <summary>One boolean per host: true when Healthy.</summary>
        [Parameter]
        public SwitchParameter Quiet { get; set; }

        /// <summary>
        /// The space check alone: no wrapper inventory beside it. On ESXi the inventory's
        /// <c>esxcli software vib list</c> can take seconds per host, and a scheduled check of a
        /// large fleet during a wave needs only the space figures.
        /// </summary>
        [Parameter]
        public SwitchParameter SkipWrapperInventory { get; set; }

        protected override string ProgressActivity => "Checking vmkfstools-wrapper log space";

        protected override void BeginProcessing()
        {
            if (WarningPercent > CriticalPercent)
                ThrowInvalidArgument($"-WarningPercent ({WarningPercent}) must not be larger than -CriticalPercent ({CriticalPercent}).", WarningPercent);
            base.BeginProcessing();
        }

        private protected override void ProcessHost(HostTarget target, IEsxiShell shell, IOutputSink sink, CancellationToken ct)
        {
            var options = new LogSpaceOptions { LogPath = _logPath.For(target), WarningPercent = WarningPercent, CriticalPercent = CriticalPercent };
            var read = HostDiagnosisReader.Read(shell, new HostDiagnosisRequest { Space = options, Inventory = !SkipWrapperInventory }, ct);
            if (read.SpaceError != null) throw read.SpaceError;
            var status = read.Space!;
            if (read.Wrapper != null) status.AddWrapperInventory(read.Wrapper);
            if (read.WrapperError != null) WriteInventoryFailed(target, read.WrapperError, sink);
            sink.WriteVerbose($"{status.VMHost}: {status.VolumePath} {status.UsedPercent}% used (source: {status.Source}); log {status.LogSizeBytes} bytes; /tmp {status.TmpUsedPercent}%.");
            KeptTailRecord.WarnPending(sink.WriteWarning, shell.HostName, options.LogPath);
            if (Quiet) sink.WriteObject(status.Status == "Healthy");
            else sink.WriteObject(status);
        }

        // A failure of part of the result: an error with the inventory's id, while the space is still reported.
        private void WriteInventoryFailed(HostTarget target, MtvException failed, IOutputSink sink) =>
            sink.WriteError(new RemediationException(failed.ErrorId, failed.Category,
                $"{target.Name}: the wrapper inventory could not be read, the Wrapper* properties are empty: {failed.Message}", failed.RecommendedAction, failed)
            { Next = failed.Next, NextTarget = failed.NextTarget, RerunCompletes = failed.RerunCompletes }.ToErrorRecord(target.InputObject, MyInvocation.MyCommand.Name));

        // -Quiet promises one boolean per host: an unreachable host's error is written, then $false.
        private protected override void OnHostFailed(HostTarget target, MtvException error, IOutputSink sink)
        {
            base.OnHostFailed(target, error, sink);
            if (Quiet) sink.WriteObject(false);
        }
    }
}
