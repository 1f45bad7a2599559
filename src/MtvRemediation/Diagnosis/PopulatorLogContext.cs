using System;
using System.Text.RegularExpressions;

namespace MtvRemediation.Diagnosis
{
    /// <summary>
    /// What a populator pod's log says about the clone before it fails: the ESXi host that ran it
    /// and the wrapper task's id (the host's <c>/tmp/vmkfstools-wrapper-&lt;id&gt;</c> directory), so a
    /// failure line can be tied to the host and the task directory that hold its evidence.
    /// </summary>
    /// <remarks>
    /// Line shapes (kubev2v/forklift, docs/field-sources.md#1-the-failure-in-mtv): the host
    /// <c>Got ESXi host: HostSystem:host-88</c> (remote_esxcli.go, 2.9.x-2.11.0) and
    /// <c>"ESXi host" ... host="HostSystem:host-88"</c> (2.11.1 and later; on 5.0 the StorageMap's
    /// migration host when one is set); the task <c>respose from esxcli {... TaskId:&lt;id&gt;}</c> (2.9.x),
    /// <c>Started clone task &lt;id&gt;</c> (task_executor.go, 2.10.x-2.11.0) and
    /// <c>"clone task started" ... task_id="&lt;id&gt;"</c> (2.11.1 and later). The host is a moRef
    /// (govmomi prints a HostSystem created from the VM's runtime.host without its name). The disk:
    /// <c>source_vmdk="[ds] folder/disk.vmdk"</c> on the structured lines (2.11.1 and later).
    /// </remarks>
    internal sealed class PopulatorLogContext
    {
        private static readonly Regex Host = new Regex(@"(?:Got ESXi host: |""ESXi host"".*\bhost="")HostSystem:(?<moref>[A-Za-z0-9-]+)", RegexOptions.CultureInvariant);
        private static readonly Regex SourceVmdkField = new Regex(@"\bsource_vmdk=""(?<vmdk>\[[^""\]]+\] [^""]+)""", RegexOptions.CultureInvariant);
        private static readonly Regex Task = new Regex(@"(?:Started clone task |""clone task started"".*\btask_id=""|\bTaskId:)(?<id>[0-9A-Za-z-]+)", RegexOptions.CultureInvariant);

        /// <summary>The cloning host as PowerCLI names its id (<c>HostSystem-host-88</c>), or null before the log names one.</summary>
        public string? VMHostId { get; private set; }

        /// <summary>The wrapper task of the latest clone the log started, or null.</summary>
        public string? TaskId { get; private set; }

        /// <summary>The source disk the log's latest structured line names (<c>[ds] folder/disk.vmdk</c>), or null.</summary>
        public string? SourceVmdk { get; private set; }

        /// <summary>Remembers the host, task or disk a line names; cheap for the lines that name none.</summary>
        public void Observe(string line)
        {
            if (line.IndexOf("source_vmdk=", StringComparison.Ordinal) >= 0)
            {
                var m = SourceVmdkField.Match(line);
                if (m.Success) SourceVmdk = m.Groups["vmdk"].Value;
            }
            if (line.IndexOf("ESXi host", StringComparison.Ordinal) >= 0)
            {
                var m = Host.Match(line);
                if (m.Success) VMHostId = "HostSystem-" + m.Groups["moref"].Value;
            }
            if (line.IndexOf("lone task", StringComparison.Ordinal) >= 0 || line.IndexOf("TaskId:", StringComparison.Ordinal) >= 0)
            {
                var m = Task.Match(line);
                if (m.Success) TaskId = m.Groups["id"].Value;
            }
        }
    }
}
