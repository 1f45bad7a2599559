using System.Management.Automation;
using System.Threading;
using MtvRemediation.Esxi;
using MtvRemediation.Infrastructure;
using MtvRemediation.Wave;

namespace MtvRemediation.Commands
{
    /// <summary>
    /// Set-EsxiHostdTmpMemory: raises the hostd-tmp resource group's memory max at runtime, as
    /// forklift's tweak-esxi-mem.sh does, so that many concurrent vmkfstools clones do not exhaust
    /// it. The first raise keeps the value before it on the host (<see cref="HostdTmpMemory.RecordPath"/>)
    /// for Restore-EsxiHostdTmpMemory; never lowers the limit.
    /// </summary>
    [Cmdlet(VerbsCommon.Set, "EsxiHostdTmpMemory", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(HostdTmpMemoryChange))]
    public sealed class SetEsxiHostdTmpMemoryCommand : EsxiHostCmdletBase
    {
        /// <summary>The new memory max in MB (forklift's example: 1024).</summary>
        [Parameter(Mandatory = true, Position = 1)]
        [ValidateRange(64, 1048576)]
        public int MaxMB { get; set; }

        protected override string ProgressActivity => "Raising the hostd-tmp memory limit";

        private protected override bool ShouldProcessHost(HostTarget target) =>
            ShouldProcess(target.Name, $"Raise the hostd-tmp resource group's memory max to {MaxMB} MB at runtime (vsish; lost at reboot), keeping the value before it in {HostdTmpMemory.RecordPath} on the host to put back after the wave");

        private protected override void ProcessHost(HostTarget target, IEsxiShell shell, IOutputSink sink, CancellationToken ct) =>
            sink.WriteObject(HostdTmpMemory.RaiseTo(shell, target.Name, (long)MaxMB * 1024, ct));
    }
}
