using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using MtvRemediation.Cbt;
using MtvRemediation.Esxi;
using MtvRemediation.HostLog;
using MtvRemediation.Infrastructure;
using MtvRemediation.VSphere;
using MtvRemediation.Wave;

namespace MtvRemediation.Commands
{
    /// <summary>
    /// Lists the changes a run of this module began and did not finish, from their durable records:
    /// CBT resets (a key in the VM's configuration on vCenter, so runs from any workstation are
    /// found) and SSH that -StartSshService started and a run that ended did not stop (a custom
    /// attribute of the host on vCenter), and -KeepLastLines tails whose write-back did not finish
    /// (kept on this workstation), and hostd-tmp limits raised for a wave and not yet put back (a
    /// record on the host, read over the runspace's sessions). Each item names the command that
    /// finishes it.
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "MtvPendingOperation")]
    [OutputType(typeof(PendingOperation))]
    public sealed class GetMtvPendingOperationCommand : VSphereCmdlet
    {
        protected override void EndProcessing()
        {
            // This workstation's own records first: they need no connection.
            foreach (var p in LocalPendingOperations.KeptLogTails())
            {
                p.VMHost = p.Target;
                WriteObject(p);
            }
            ReadHostRecords();
            var connections = ResolveConnections(required: false);
            if (connections.Count == 0)
            {
                // A listing never claims more than was read.
                WriteWarning("Not connected to any vCenter: the records kept there (interrupted CBT resets, SSH started on demand) were not read. Connect, then list again.");
                return;
            }
            RunParallel(connections, 8, "Reading records of interrupted runs", c => c.Server, (c, sink, ct) =>
            {
                try
                {
                    foreach (var p in PendingResetReader.ReadAsync(c.Client, ct).GetAwaiter().GetResult())
                        sink.WriteObject(ToPendingOperation(p, c));
                    foreach (var p in SshServiceController.ReadPending(new[] { c }, ct))
                    {
                        p.VMHost = p.Target;
                        sink.WriteObject(p);
                    }
                }
                catch (Exception ex) when (ex is VimFaultException || ex is VimTransportException || ex is TimeoutException)
                {
                    sink.WriteError(ErrorFor(ex, c.Server, c));
                }
            });
        }

        // Records kept on the hosts (a hostd-tmp raise to put back after the wave), read over the
        // runspace's live sessions: this command opens no connection, so a host without one is not read.
        private void ReadHostRecords()
        {
            var sessions = EsxiSessionStore.ForCurrentRunspace().GetAll().Where(s => s.IsConnected).ToList();
            WriteVerbose($"Records on the hosts: read on the {sessions.Count} host(s) with a session in this runspace; hosts without one are not read.");
            RunParallel(sessions, HostFanOut.DefaultThrottleLimit, "Reading records on the hosts", s => s.VMHost, (s, sink, ct) =>
            {
                try
                {
                    if (HostdTmpMemory.ReadPending(s.Shell, s.VMHost, ct) is PendingOperation p)
                    {
                        p.ResumeCommand = ErrorRecords.HostCommandLine(NextCommand.RestoreHostdTmpMemory, s.VMHost)!;
                        sink.WriteObject(p);
                    }
                }
                catch (MtvException ex) when (ex.ErrorId == WaveErrorIds.HostdTmpUnreadable && ex.Category == ErrorCategory.ObjectNotFound)
                {
                    sink.WriteVerbose($"{s.VMHost}: {ex.Message}"); // no hostd-tmp group here, so no raise of this module either
                }
                catch (Exception ex) when (RemoteOps.AsHostFailure(ex, s.VMHost, ct) is MtvException failure)
                {
                    sink.WriteError(failure.ToErrorRecord(s, MyInvocation.MyCommand.Name));
                }
            });
        }

        private static PendingOperation ToPendingOperation(PendingReset p, VIConnection c)
        {
            return new PendingOperation
            {
                Kind = "ChangeTrackingReset",
                Target = p.VmName,
                VM = p.VmName,
                VMId = p.Vm.ToString(),
                Server = c.Server,
                RecordLocation = "extraConfig " + VmInfo.ResetRecordKey,
                Since = p.Record?.StartedUtc,
                StartedBy = p.Record == null ? "" : p.Record.VCenterUser + (p.Record.Workstation.Length == 0 ? "" : " on " + p.Record.Workstation),
                Detail = p.Detail,
                ResumeCommand = ErrorRecords.VMCommandLine(
                    p.Record == null ? NextCommand.ShowChangeTracking : p.NeedsPowerOff ? NextCommand.ResetChangeTrackingWithPowerOff : NextCommand.ResetChangeTracking,
                    p.VmName, c.Server),
            };
        }
    }
}
