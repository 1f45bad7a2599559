using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using MtvRemediation.VSphere;

namespace MtvRemediation.Cbt
{
    /// <summary>A VM holding the record of a CBT reset that did not finish (Record null: the value could not be read).</summary>
    internal sealed class PendingReset
    {
        public PendingReset(MoRef vm, string vmName, string recordValue)
        {
            Vm = vm;
            VmName = vmName;
            RecordValue = recordValue;
            Record = ChangeTrackingResetRecord.TryParse(recordValue);
        }

        public MoRef Vm { get; }
        public string VmName { get; }
        public string RecordValue { get; }
        public ChangeTrackingResetRecord? Record { get; }

        /// <summary>Finishing it powers a running VM off: only when the record says the VM was on and the interrupted run had not powered it off yet.</summary>
        public bool NeedsPowerOff => Record != null && Record.Phase == ResetPhase.PowerOff;

        public string Detail => Record != null
            ? $"{Record.Describe()}; finishing it ends in the power state the VM had before ({ChangeTrackingEngine.PowerCliPowerState(Record.OriginalPowerState)})"
            : $"an unreadable record '{RecordValue}': inspect the VM's CBT state before removing it";
    }

    /// <summary>
    /// The CBT resets on one vCenter that a run began and did not finish: every VM whose
    /// configuration holds the reset's record. One read of every VM's name and extraConfig
    /// (vCenter cannot filter on an extraConfig value).
    /// </summary>
    internal static class PendingResetReader
    {
        public static async Task<IReadOnlyList<PendingReset>> ReadAsync(VSphereClient client, CancellationToken ct)
        {
            var all = await client.Soap.RetrieveAllAsync("VirtualMachine", new[] { "name", "config.extraConfig" }, ct).ConfigureAwait(false);
            var pending = new List<PendingReset>();
            foreach (var o in all)
            {
                var value = o.Get("config.extraConfig")?.Elements()
                    .FirstOrDefault(ov => ov.ChildValue("key") == VmInfo.ResetRecordKey)?.ChildValue("value");
                if (value != null) pending.Add(new PendingReset(o.Obj, o.Get("name")?.Value ?? o.Obj.Value, value));
            }
            return pending.OrderBy(p => p.VmName, StringComparer.OrdinalIgnoreCase).ToList();
        }
    }
}
