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

        private protected override void ProcessHost(HostTarget target, IEsxiShell shell, IOutputSink sink, CancellationToken ct)
        {
            var now = HostdTmpMemory.Read(shell, ct);
            var result = new HostdTmpMemoryChange { VMHost = target.Name, Group = now.Group, PreviousMaxKB = now.MaxKBBefore!.Value, MaxKB = now.MaxKBBefore.Value, RecordedMaxKB = now.RecordedMaxKB };
            if (!now.HasRecord || now.RecordedMaxKB == null)
            {
                result.Note = now.HasRecord ? $"The record {HostdTmpMemory.RecordPath} holds no 'max:' value; nothing was changed." : "No record of a raise on this host (none made, or the host rebooted since); nothing was changed.";
                if (now.HasRecord)
                    throw new RemediationException(WaveErrorIds.HostdTmpUnreadable, ErrorCategory.ReadError, $"{target.Name}: {result.Note}", $"Read {HostdTmpMemory.RecordPath} on the host and set the value by hand.");
                sink.WriteObject(result);
                return;
            }
            if (now.RecordedGroup != now.Group)
                throw new RemediationException(WaveErrorIds.HostdTmpUnreadable, ErrorCategory.InvalidData,
                    $"{target.Name}: the record names group {now.RecordedGroup}, the hostd-tmp group is now {now.Group}; nothing was changed.",
                    $"Read {HostdTmpMemory.RecordPath} on the host and set the value by hand.");
            var after = HostdTmpMemory.Restore(shell, now.RecordedMaxKB.Value, ct);
            result.MaxKB = after.MaxKBAfter ?? now.RecordedMaxKB.Value;
            result.RecordedMaxKB = null;
            result.Changed = result.MaxKB != result.PreviousMaxKB;
            result.Note = "Restored; the record was removed.";
            sink.WriteObject(result);
        }
    }
}
