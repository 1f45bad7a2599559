using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using MtvRemediation.Esxi;
using MtvRemediation.Infrastructure;
using MtvRemediation.Interop;
using MtvRemediation.VSphere;
using MtvRemediation.Wave;

namespace MtvRemediation.Commands
{
    /// <summary>
    /// Set-EsxiDiskMaxLun: raises Disk.MaxLUN through vCenter (the host's OptionManager,
    /// UpdateOptions), so the LUNs a wave's disks get stay visible to the host (Broadcom KB 342823).
    /// Refuses a value at or below the highest LUN number the host already uses: those LUNs would
    /// disappear after the next rescan.
    /// </summary>
    [Cmdlet(VerbsCommon.Set, "EsxiDiskMaxLun", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(DiskMaxLunChange))]
    public sealed class SetEsxiDiskMaxLunCommand : VSphereCmdlet
    {
        private readonly List<HostTarget> _hosts = new List<HostTarget>();

        /// <summary>Hosts: names, PowerCLI VMHost objects, or objects with a VMHost property (Test-MtvWaveReadiness rows).</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        [Alias("HostName", "Name")]
        [ArgumentCompleter(typeof(VMHostCompleter))]
        public object[] VMHost { get; set; } = Array.Empty<object>();

        /// <summary>The new Disk.MaxLUN (ESXi allows 1 to 16384; 2048 or more is the usual recommendation).</summary>
        [Parameter(Mandatory = true, Position = 1)]
        [ValidateRange(1, 16384)]
        public int Value { get; set; }

        protected override void ProcessRecord()
        {
            foreach (var input in VMHost)
            {
                if (!VMHostInput.TryGetTarget(input, out var target, out var problem))
                    WriteError(new EsxiShellException(EsxiShellErrorIds.HostUnresolved, ErrorCategory.InvalidArgument, problem!).ToErrorRecord(input));
                else if (!_hosts.Any(h => string.Equals(h.Name, target!.Name, StringComparison.OrdinalIgnoreCase))) _hosts.Add(target!);
            }
        }

        protected override void EndProcessing()
        {
            if (_hosts.Count == 0) return;
            var left = _hosts.ToList();
            foreach (var conn in ResolveConnections())
            {
                if (left.Count == 0) break;
                try
                {
                    var found = HostLunSettings.FindHostsAsync(conn.Client.Soap, left.Select(h => h.Name).ToList(), CancelToken).GetAwaiter().GetResult();
                    var states = HostLunSettings.ReadAsync(conn.Client.Soap, found.Values.ToList(), CancelToken).GetAwaiter().GetResult().ToDictionary(s => s.Host);
                    foreach (var target in left.Where(h => found.ContainsKey(h.Name)).ToList())
                    {
                        left.Remove(target);
                        Apply(conn, target, states[found[target.Name]]);
                    }
                }
                catch (Exception ex) when (ex is VimFaultException || ex is VimTransportException || ex is TimeoutException)
                {
                    WriteError(ErrorFor(ex, conn, conn));
                }
            }
            foreach (var target in left)
                WriteError(new RemediationException(WaveErrorIds.HostNotFound, ErrorCategory.ObjectNotFound,
                    $"No host named '{target.Name}' in the connected vCenter(s).", "Give the host's name as vCenter shows it.").ToErrorRecord(target.InputObject, MyInvocation.MyCommand.Name));
        }

        private void Apply(VIConnection conn, HostTarget target, HostLunState state)
        {
            DiskMaxLunChange result;
            try
            {
                result = DiskMaxLun.Check(target.Name, conn.Server, state, Value);
            }
            catch (RemediationException ex)
            {
                WriteError(ex.ToErrorRecord(target.InputObject, MyInvocation.MyCommand.Name));
                return;
            }
            if (result.Note != null)
            {
                WriteObject(result);
                return;
            }
            if (!ShouldProcess(target.Name, DiskMaxLun.Describe(result, Value))) return;
            try
            {
                DiskMaxLun.ApplyAsync(conn.Client.Soap, state, result, Value, CancelToken).GetAwaiter().GetResult();
                WriteObject(result);
            }
            catch (Exception ex) when (ex is VimFaultException || ex is VimTransportException || ex is TimeoutException)
            {
                WriteError(ErrorFor(ex, target.InputObject, conn));
            }
        }
    }
}
