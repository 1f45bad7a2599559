using System;
using System.Collections.Generic;
using System.Management.Automation;
using MtvRemediation.Remediation;
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
            var results = new ChangeTrackingStatus?[targets.Count];
            var indexes = new List<int>();
            for (var i = 0; i < targets.Count; i++) indexes.Add(i);
            RunParallel(indexes, ThrottleLimit, "Reading CBT state", i => targets[i].Vm.Name, (i, sink, ct) =>
            {
                var t = targets[i];
                try
                {
                    var engine = new ChangeTrackingEngine(t.Connection.Client);
                    var inspection = engine.InspectAsync(t.Vm, ct).GetAwaiter().GetResult();
                    results[i] = ChangeTrackingEngine.BuildStatus(inspection, t.Connection.Server);
                }
                catch (Exception ex) when (ex is VimFaultException || ex is VimTransportException || ex is TimeoutException)
                {
                    sink.WriteError(ErrorFor(ex, t.Input.Original, t.Connection));
                }
            });
            // Written in input order once all are read, so tables are stable run to run.
            foreach (var r in results)
            {
                if (r != null) WriteObject(r);
            }
        }
    }
}
