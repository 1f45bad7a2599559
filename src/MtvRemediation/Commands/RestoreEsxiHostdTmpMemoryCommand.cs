using System.Management.Automation;
using System.Threading;
using MtvRemediation.Esxi;
using MtvRemediation.Infrastructure;
using MtvRemediation.Wave;

namespace MtvRemediation.Commands
{
    /// <summary>
    /// Restore-EsxiHostdTmpMemory: after the wave, puts the hostd-tmp group's memory max back to the
    /// value Set-EsxiHostdTmpMemory recorded on the host before its first raise, then removes the record.
    /// </summary>
    [Cmdlet(VerbsData.Restore, "EsxiHostdTmpMemory", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(HostdTmpMemoryChange))]
    public sealed class RestoreEsxiHostdTmpMemoryCommand : EsxiHostCmdletBase
    {
        protected override string ProgressActivity => "Restoring the hostd-tmp memory limit";

        private protected override bool ShouldProcessHost(HostTarget target) =>
            ShouldProcess(target.Name, $"Put the hostd-tmp resource group's memory max back to the value recorded in {HostdTmpMemory.RecordPath} before the wave, and remove the record");

        private protected override void ProcessHost(HostTarget target, IEsxiShell shell, IOutputSink sink, CancellationToken ct) =>
            sink.WriteObject(HostdTmpMemory.RestoreRecorded(shell, target.Name, ct));
    }
}
