using System;
using System.Management.Automation;
using System.Threading;
using System.Threading.Tasks;
using MtvRemediation.Esxi;
using MtvRemediation.Infrastructure;
using MtvRemediation.Interop;
using MtvRemediation.Remediation;

namespace MtvRemediation.Commands
{
    /// <summary>Test-VmkfstoolsLogSpace: is /var (and /tmp) about to break the next clone?</summary>
    [Cmdlet(VerbsDiagnostic.Test, "VmkfstoolsLogSpace")]
    [OutputType(typeof(LogSpaceStatus), typeof(bool))]
    public sealed class TestVmkfstoolsLogSpaceCommand : HostRemediationCmdletBase
    {
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

        protected override string ProgressActivity => "Checking vmkfstools-wrapper log space";

        protected override string? CurrentLogPath => LogPath;

        protected override void BeginProcessing()
        {
            if (WarningPercent > CriticalPercent)
                ThrowInvalidArgument($"-WarningPercent ({WarningPercent}) must not be larger than -CriticalPercent ({CriticalPercent}).", WarningPercent);
            base.BeginProcessing();
        }

        protected override void ProcessRecord()
        {
            if (!LogPath.StartsWith("/", StringComparison.Ordinal))
                ThrowInvalidArgument($"-LogPath '{LogPath}' must be an absolute path on the ESXi host, like {LogSpaceOptions.DefaultLogPath}.", LogPath);
            base.ProcessRecord();
        }

        protected override IEsxiShell AcquireShell(EsxiShellResolver resolver, HostTarget target, PSCredential? credential, string? keyFilePath, ConnectOptions options, CancellationToken cancellationToken)
        {
            try
            {
                return base.AcquireShell(resolver, target, credential, keyFilePath, options, cancellationToken);
            }
            catch (EsxiShellException ex) when (Quiet)
            {
                // -Quiet promises one boolean per host: the error is written by ProcessHost, then $false.
                return new UnreachableShell(target.Name, ex);
            }
        }

        protected override void ProcessHostCore(HostTarget target, IEsxiShell shell, IOutputSink sink, CancellationToken ct)
        {
            var options = new LogSpaceOptions { LogPath = LogPathFor(target) ?? LogPath, WarningPercent = WarningPercent, CriticalPercent = CriticalPercent };
            var status = LogSpaceProbe.Measure(shell, options, ct);
            sink.WriteVerbose($"{status.VMHost}: {status.VolumePath} {status.UsedPercent}% used (source: {status.Source}); log {status.LogSizeBytes} bytes; /tmp {status.TmpUsedPercent}%.");
            if (Quiet) sink.WriteObject(status.Status == "Healthy");
            else sink.WriteObject(status);
        }

        protected override void OnHostFailed(HostTarget target, IOutputSink sink)
        {
            if (Quiet) sink.WriteObject(false);
        }

        /// <summary>Stands in for a host we could not connect to, so -Quiet still answers $false for it.</summary>
        private sealed class UnreachableShell : IEsxiShell
        {
            private readonly EsxiShellException _error;
            public UnreachableShell(string hostName, EsxiShellException error) { HostName = hostName; _error = error; }
            public string HostName { get; }
            public Task<RemoteCommandResult> RunAsync(RemoteCommand command, TimeSpan timeout, CancellationToken cancellationToken) => throw _error;
            public Task<RemoteCommandResult> RunStreamingAsync(RemoteCommand command, System.IO.Stream stdoutSink, TimeSpan timeout, CancellationToken cancellationToken) => throw _error;
        }
    }
}
