using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using MtvRemediation.HostLog;
using MtvRemediation.Infrastructure;
using MtvRemediation.VSphere;
using MtvRemediation.Wave;

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
    [OutputType(typeof(ChangeTrackingResetResult), typeof(PendingOperation), typeof(LogClearResult), typeof(HostdTmpMemoryChange))]
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
                    case "SshServiceStarted":
                        foreach (var item in kind) ResumeSsh(item);
                        break;
                    case HostdTmpMemory.PendingKind:
                        foreach (var item in kind) RunOwner<RestoreEsxiHostdTmpMemoryCommand>(new Dictionary<string, object> { ["VMHost"] = item.Target }, null);
                        break;
                    case "KeptLogTail":
                        foreach (var item in kind) ResumeKeptTail(item);
                        break;
                    default:
                        foreach (var item in kind)
                            WriteError(new ErrorRecord(new ArgumentException($"'{item.Kind}' is not a kind of pending operation this module resumes; the item names the command that finishes it: {item.ResumeCommand}"),
                                PendingErrorIds.UnknownKind, ErrorCategory.InvalidArgument, item));
                        break;
                }
            }
        }

        // SSH an ended run started on demand: stopped through vCenter (no SSH session needed).
        private void ResumeSsh(PendingOperation item)
        {
            var connections = VIConnectionStore.Current.GetAll().Where(c => c.IsConnected && string.Equals(c.Server, item.Server, StringComparison.OrdinalIgnoreCase)).ToList();
            if (connections.Count == 0)
            {
                WriteError(new ErrorRecord(new InvalidOperationException($"Not connected to {item.Server}, where the record of '{item.Target}' is; connect to it, then retry."),
                    VIErrorIds.ServerNotConnected, ErrorCategory.ConnectionError, item));
                return;
            }
            if (!ShouldProcess(item.Target, "Stop SSH (TSM-SSH) that an ended run started on demand, and clear its record")) return;
            try
            {
                var state = SshServiceController.ForCurrentRunspace().Read(connections, new[] { item.Target }, CancelToken);
                if (!state.TryGetValue(item.Target, out var s))
                {
                    WriteError(new ErrorRecord(new InvalidOperationException($"Host '{item.Target}' or its SSH service was not found on {item.Server}."), PendingErrorIds.ResumeFailed, ErrorCategory.ObjectNotFound, item));
                    return;
                }
                var done = SshServiceController.FinishEndedRun(s, CancelToken);
                if (done == null)
                {
                    WriteError(new ErrorRecord(new InvalidOperationException($"The run that started SSH on '{item.Target}' ({s.Record!.Who}) may still be working; it stops SSH when it ends. Nothing was changed."),
                        PendingErrorIds.StillInUse, ErrorCategory.ResourceBusy, item));
                    return;
                }
                WriteObject(new PendingOperation { Kind = item.Kind, Target = item.Target, VMHost = item.Target, Server = item.Server, RecordLocation = item.RecordLocation, Since = item.Since, StartedBy = item.StartedBy, Detail = "Resumed: " + done });
            }
            catch (Exception ex) when (ex is VimFaultException || ex is VimTransportException)
            {
                WriteError(new ErrorRecord(ex, PendingErrorIds.ResumeFailed, ErrorCategory.InvalidOperation, item));
            }
        }

        // A kept tail is finished by Clear-VmkfstoolsWrapperLog -KeepLastLines from the record in
        // this user's own kept-tails directory (the item only says which one).
        private void ResumeKeptTail(PendingOperation item)
        {
            var record = KeptTailRecord.Find(item.Target).FirstOrDefault(r => string.Equals(r.RecordFile, item.RecordLocation, StringComparison.Ordinal));
            if (record == null)
            {
                WriteError(new ErrorRecord(new ArgumentException($"No kept tail of '{item.Target}' is recorded at '{item.RecordLocation}' any more (written back or discarded since?); list the pending operations again."),
                    PendingErrorIds.ItemIncomplete, ErrorCategory.ObjectNotFound, item));
                return;
            }
            RunOwner<ClearVmkfstoolsWrapperLogCommand>(new Dictionary<string, object>
            {
                ["VMHost"] = record.Host,
                ["LogPath"] = record.LogPath,
                ["KeepLastLines"] = record.KeepLastLines,
            }, null);
        }

        /// <summary>
        /// Runs the cmdlet that owns a kind in this runspace (its prompts reach the same host) and
        /// passes its records on as this command's own, so -ErrorVariable, -WarningVariable and the
        /// redirections of the caller see them. -WhatIf, -Confirm and -Verbose are passed on as given.
        /// </summary>
        private void RunOwner<TCmdlet>(Dictionary<string, object> parameters, IEnumerable<object>? input) where TCmdlet : Cmdlet
        {
            var attribute = (CmdletAttribute)Attribute.GetCustomAttribute(typeof(TCmdlet), typeof(CmdletAttribute));
            using var ps = PowerShell.Create(RunspaceMode.CurrentRunspace);
            ps.AddCommand(attribute.VerbName + "-" + attribute.NounName);
            foreach (var p in parameters) ps.AddParameter(p.Key, p.Value);
            foreach (var name in new[] { "WhatIf", "Confirm", "Verbose" })
                if (MyInvocation.BoundParameters.TryGetValue(name, out var v)) ps.AddParameter(name, v);
            // A nested pipeline in this runspace writes its warnings to the host, not to its Streams:
            // merged into its output, every record comes back here, in order.
            var command = ps.Commands.Commands[0];
            foreach (var stream in new[] { PipelineResultTypes.Error, PipelineResultTypes.Warning, PipelineResultTypes.Verbose, PipelineResultTypes.Information })
                command.MergeMyResults(stream, PipelineResultTypes.Output);
            var output = input == null ? ps.Invoke() : ps.Invoke(input);
            foreach (var o in output)
            {
                switch (o?.BaseObject)
                {
                    case ErrorRecord e: WriteError(e); break;
                    case WarningRecord w: WriteWarning(w.Message); break;
                    case VerboseRecord v: WriteVerbose(v.Message); break;
                    case InformationRecord i: WriteInformation(i); break;
                    default: WriteObject(o); break;
                }
            }
            foreach (var e in ps.Streams.Error) WriteError(e);
        }

        // Reset-VMChangeTracking asks its own confirmation per VM: -WhatIf and -Confirm are passed on as given.
        private void ResumeResets(IReadOnlyList<PendingOperation> items)
        {
            var vms = items.Where(i => !string.IsNullOrEmpty(i.VMId) && !string.IsNullOrEmpty(i.Server)).ToList();
            foreach (var bad in items.Except(vms))
                WriteError(new ErrorRecord(new ArgumentException($"The pending CBT reset '{bad.Target}' names no VM id or server; list the pending operations again and pipe those."),
                    PendingErrorIds.ItemIncomplete, ErrorCategory.InvalidArgument, bad));
            if (vms.Count == 0) return;
            RunOwner<ResetVMChangeTrackingCommand>(new Dictionary<string, object>
            {
                ["PowerOff"] = PowerOff,
                ["Force"] = Force,
            }, vms);
        }
    }
}
