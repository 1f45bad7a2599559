using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using MtvRemediation.Infrastructure;

namespace MtvRemediation.Commands
{
    /// <summary>
    /// Finishes what Get-MtvPendingOperation lists, each item through the cmdlet that owns its kind
    /// (a CBT reset through Reset-VMChangeTracking, which finds the VM's record and continues from
    /// it). The command is rebuilt from the item's kind and target with their values bound as
    /// parameters, never run from the item's ResumeCommand text: an item read back from a file
    /// cannot make this cmdlet run anything else.
    /// </summary>
    [Cmdlet(VerbsLifecycle.Resume, "MtvPendingOperation", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
    [OutputType(typeof(ChangeTrackingResetResult))]
    public sealed class ResumeMtvPendingOperationCommand : MtvCmdlet
    {
        /// <summary>Items from Get-MtvPendingOperation.</summary>
        [Parameter(Mandatory = true, ValueFromPipeline = true)]
        [ValidateNotNull]
        public PendingOperation[] InputObject { get; set; } = Array.Empty<PendingOperation>();

        /// <summary>Lets a reset whose VM is running again power it off (as Reset-VMChangeTracking -PowerOff).</summary>
        [Parameter]
        public SwitchParameter PowerOff { get; set; }

        /// <summary>As Reset-VMChangeTracking -Force: power off hard when VMware Tools cannot shut the guest down.</summary>
        [Parameter]
        public SwitchParameter Force { get; set; }

        private readonly List<PendingOperation> _items = new List<PendingOperation>();

        protected override void ProcessRecord() => _items.AddRange(InputObject.Where(i => i != null));

        protected override void EndProcessing()
        {
            foreach (var kind in _items.GroupBy(i => i.Kind, StringComparer.Ordinal))
            {
                switch (kind.Key)
                {
                    case "ChangeTrackingReset":
                        ResumeResets(kind.ToList());
                        break;
                    default:
                        foreach (var item in kind)
                            WriteError(new ErrorRecord(new ArgumentException($"'{item.Kind}' is not a kind of pending operation this module resumes; the item names the command that finishes it: {item.ResumeCommand}"),
                                PendingErrorIds.UnknownKind, ErrorCategory.InvalidArgument, item));
                        break;
                }
            }
        }

        // Reset-VMChangeTracking asks its own confirmation per VM: -WhatIf and -Confirm are passed on as given.
        private void ResumeResets(IReadOnlyList<PendingOperation> items)
        {
            var vms = items.Where(i => !string.IsNullOrEmpty(i.VMId) && !string.IsNullOrEmpty(i.Server)).ToList();
            foreach (var bad in items.Except(vms))
                WriteError(new ErrorRecord(new ArgumentException($"The pending CBT reset '{bad.Target}' names no VM id or server; list the pending operations again and pipe those."),
                    PendingErrorIds.ItemIncomplete, ErrorCategory.InvalidArgument, bad));
            if (vms.Count == 0) return;
            var bound = MyInvocation.BoundParameters;
            var script = ScriptBlock.Create(
                "param($Vms, $PowerOff, $Force, $Common) $Vms | Reset-VMChangeTracking -PowerOff:$PowerOff -Force:$Force @Common");
            var common = new Dictionary<string, object>();
            foreach (var name in new[] { "WhatIf", "Confirm", "Verbose", "ErrorAction" })
                if (bound.TryGetValue(name, out var v)) common[name] = v;
            foreach (var result in InvokeCommand.InvokeScript(false, script, null, vms, PowerOff.IsPresent, Force.IsPresent, common))
                WriteObject(result);
        }
    }
}
