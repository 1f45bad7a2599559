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

        private protected override void ProcessHost(HostTarget target, IEsxiShell shell, IOutputSink sink, CancellationToken ct)
        {
            var wantKB = (long)MaxMB * 1024;
            var now = HostdTmpMemory.Read(shell, ct);
            var result = new HostdTmpMemoryChange { VMHost = target.Name, Group = now.Group, PreviousMaxKB = now.MaxKBBefore!.Value, MaxKB = now.MaxKBBefore.Value, RecordedMaxKB = now.RecordedMaxKB };
            if (now.MaxKBBefore < 0 || now.MaxKBBefore >= wantKB)
            {
                result.Note = now.MaxKBBefore < 0 ? "Unlimited already; nothing was changed." : $"Already {now.MaxKBBefore} KB, at least {wantKB} KB; nothing was changed (this command never lowers the limit).";
                sink.WriteObject(result);
                return;
            }
            var after = HostdTmpMemory.Raise(shell, wantKB, ct);
            result.MaxKB = after.MaxKBAfter ?? wantKB;
            result.RecordedMaxKB = after.RecordedMaxKB;
            result.Changed = result.MaxKB != result.PreviousMaxKB;
            result.Note = $"Runtime only (a reboot restores the default). After the wave, put {after.RecordedMaxKB} KB back with the restore.";
            sink.WriteObject(result);
        }
    }
}
