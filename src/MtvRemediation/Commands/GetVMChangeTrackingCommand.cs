using System;
using System.Collections.Generic;
using System.Management.Automation;
using MtvRemediation.Cbt;
using MtvRemediation.VSphere;

namespace MtvRemediation.Commands
{
    /// <summary>
    /// Reports each VM's CBT state: power state, CBT flag, snapshots, disks, and the -ctk.vmdk files
    /// actually present next to its disks (SearchDatastore on every datastore its disks use).
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "VMChangeTracking")]
    [OutputType(typeof(ChangeTrackingStatus))]
    public sealed class GetVMChangeTrackingCommand : VMCmdlet
    {
        /// <summary>VMs inspected at the same time.</summary>
        [Parameter]
        [ValidateRange(1, 64)]
        public int ThrottleLimit { get; set; } = 8;

        protected override void EndProcessing()
        {
            var targets = ResolveTargets();
            var indexes = new List<int>();
            for (var i = 0; i < targets.Count; i++) indexes.Add(i);
            // Reads shared per vCenter: VMs read together cost one listing per datastore.
            var cbt = new ChangeTrackingRun();
            // Each VM's status is written as soon as it is read (a slow datastore holds back only its
            // own VMs); the progress bar counts the VMs written.
            RunParallel(indexes, ThrottleLimit, "Reading CBT state", i => targets[i].Vm.Name, (i, sink, ct) =>
            {
                var t = targets[i];
                try
                {
                    sink.WriteObject(cbt.Status(t.Connection.Client, t.Vm, t.Connection.Server, ct));
                }
                catch (Exception ex) when (ex is VimFaultException || ex is VimTransportException || ex is TimeoutException)
                {
                    sink.WriteError(ErrorFor(ex, t.Input.Original, t.Connection));
                }
            });
        }
    }
}
