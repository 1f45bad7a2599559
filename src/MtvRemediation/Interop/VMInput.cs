using System;
using System.Globalization;
using System.Management.Automation;
using MtvRemediation.VSphere;

namespace MtvRemediation.Interop
{
    /// <summary>
    /// One value bound to <c>-VM</c>: a name or wildcard pattern, a PowerCLI VM (live or
    /// <c>Deserialized.</c>), or one of our own result objects. Reads Id, Uid, ExtensionData.MoRef
    /// and Name by property, so PowerCLI need not be loaded.
    /// </summary>
    internal sealed class VMInput
    {
        private VMInput(object original) { Original = original; }

        /// <summary>The value as the user passed it (used as the error TargetObject).</summary>
        public object Original { get; }

        /// <summary>VM name, or a wildcard pattern when <see cref="MoRef"/> is null.</summary>
        public string? Name { get; private set; }

        public MoRef? MoRef { get; private set; }

        /// <summary>A disk as an ESXi path (<c>/vmfs/volumes/&lt;datastore&gt;/&lt;folder&gt;/&lt;file&gt;.vmdk</c>), from a finding that names the disk, not the VM: resolved to the VM that has it.</summary>
        public string? DiskPath { get; private set; }

        /// <summary>The name as the input carried it (a literal name is escaped in <see cref="Name"/>), for rows and messages.</summary>
        public string Display => _literalName ?? ToString();

        private string? _literalName;

        /// <summary>
        /// The host that ran the VM's clone when the input names one that may differ from the VM's
        /// own host (our findings' VMHostId: a 5.0 StorageMap's migration host, the pod log's ESXi host).
        /// </summary>
        public MoRef? CloningHost { get; private set; }

        /// <summary>Server host named by a PowerCLI Uid or our result's Server property.</summary>
        public string? ServerHost { get; private set; }
        public int? ServerPort { get; private set; }

        /// <summary>User named by a PowerCLI Uid (informational).</summary>
        public string? UidUser { get; private set; }

        public override string ToString() => Name ?? MoRef?.ToString() ?? DiskPath ?? Original.ToString() ?? "";

        /// <summary>
        /// Reads one -VM value, or explains why it cannot be (the module's convention for reading
        /// PowerShell input, shared with <see cref="VMHostInput.TryGetTarget"/>: callers write the
        /// problem as a non-terminating error for that value and go on with the next).
        /// </summary>
        public static bool TryParse(object value, out VMInput? input, out string? problem)
        {
            if (value == null) throw new ArgumentNullException(nameof(value));
            input = Read(value, out problem);
            return input != null;
        }

        private static VMInput? Read(object value, out string? problem)
        {
            problem = null;
            var baseObj = PSObjectProperties.Unwrap(value);
            if (baseObj is string s) return new VMInput(value) { Name = s };
            if (baseObj is VMInput vi) return vi;

            var ps = PSObject.AsPSObject(value);
            var input = new VMInput(value) { Name = PSObjectProperties.GetString(ps, "Name") };

            // Our findings may name the host that ran the clone (a pod log's ESXi host, a 5.0 migration host).
            if (PSObjectProperties.GetString(ps, "VMHostId") is string hostId && TryParseId(hostId, out var hostRef) && hostRef.Type == "HostSystem")
                input.CloningHost = hostRef;

            // Our own outputs: VM (name), VMId (PowerCLI-style Id), Server.
            var vmId = PSObjectProperties.GetString(ps, "VMId");
            if (vmId != null && TryParseId(vmId, out var ourRef))
            {
                input.MoRef = ourRef;
                input.Name = PSObjectProperties.GetString(ps, "VM") ?? input.Name;
                input.ServerHost = PSObjectProperties.GetString(ps, "Server");
                return input;
            }

            // A clone failure finding (Find-MtvCloneFailure: a task directory's err, a pod log) names the disk it cloned.
            var disk = EsxiDiskPath(PSObjectProperties.GetString(ps, "Disk"));
            if (disk != null && PSObjectProperties.GetString(ps, "Signature") != null)
            {
                input.DiskPath = disk;
                input.Name = null;
                return input;
            }

            // PowerCLI VM: Uid names the server and the VM; Id and ExtensionData.MoRef name the VM.
            var uid = PSObjectProperties.GetString(ps, "Uid");
            if (uid != null && TryParseUid(uid, out var uidParts))
            {
                input.ServerHost = uidParts.Host;
                input.ServerPort = uidParts.Port;
                input.UidUser = uidParts.User;
                if (uidParts.MoRef != null) input.MoRef = uidParts.MoRef;
            }
            var id = PSObjectProperties.GetString(ps, "Id");
            if (input.MoRef == null && id != null && TryParseId(id, out var idRef) && idRef.Type == "VirtualMachine") input.MoRef = idRef;
            if (input.MoRef == null)
            {
                var moref = PSObjectProperties.GetObject(PSObjectProperties.GetObject(ps, "ExtensionData"), "MoRef");
                var type = PSObjectProperties.GetString(moref, "Type");
                var val = PSObjectProperties.GetString(moref, "Value");
                if (type == "VirtualMachine" && !string.IsNullOrEmpty(val)) input.MoRef = new MoRef(type, val!);
            }
            if (input.MoRef == null && input.Name == null)
            {
                problem = $"Cannot use a {ps.TypeNames[0]} as -VM: pass a VM name, a PowerCLI VM object (Get-VM) or an MtvRemediation result.";
                return null;
            }
            if (input.MoRef == null)
            {
                // An object without a readable id (a PowerCLI VM, an MTV cluster object's VM, one of
                // our results) names one VM: its name is literal, never a pattern. Only a string the
                // user typed is a pattern, as with Get-VM.
                input._literalName = input.Name;
                input.Name = WildcardPattern.Escape(input.Name!);
            }
            return input;
        }

        /// <summary>
        /// A VM an MTV Plan lists (spec.vms[]: id is the vSphere moRef, name the VM's name, either may
        /// be missing): by moRef when it has one, else by its literal name.
        /// </summary>
        public static VMInput FromPlan(string? moRef, string? name, object original) =>
            new VMInput(original)
            {
                MoRef = string.IsNullOrEmpty(moRef) ? (MoRef?)null : new MoRef("VirtualMachine", moRef!),
                Name = string.IsNullOrEmpty(moRef) ? WildcardPattern.Escape(name ?? "") : name,
            };

        /// <summary>A disk as ESXi names it (<c>/vmfs/volumes/ds/vm/disk.vmdk</c>), also from vSphere's <c>[ds] vm/disk.vmdk</c>; null for anything else.</summary>
        internal static string? EsxiDiskPath(string? disk)
        {
            if (disk == null) return null;
            if (disk.StartsWith("/vmfs/volumes/", StringComparison.Ordinal)) return disk;
            var close = disk.IndexOf("] ", StringComparison.Ordinal);
            if (disk.Length == 0 || disk[0] != '[' || close <= 1 || close + 2 >= disk.Length) return null;
            return "/vmfs/volumes/" + disk.Substring(1, close - 1) + "/" + disk.Substring(close + 2);
        }

        /// <summary>PowerCLI Id <c>VirtualMachine-vm-1013</c> to a MoRef (type before the first dash).</summary>
        public static bool TryParseId(string id, out MoRef moRef)
        {
            moRef = default;
            var dash = id.IndexOf('-');
            if (dash <= 0 || dash == id.Length - 1) return false;
            var type = id.Substring(0, dash);
            foreach (var ch in type) if (!char.IsLetter(ch)) return false;
            moRef = new MoRef(type, id.Substring(dash + 1));
            return true;
        }

        /// <summary>Parts of a PowerCLI Uid.</summary>
        public sealed class UidParts
        {
            public string? User { get; internal set; }
            public string Host { get; internal set; } = "";
            public int? Port { get; internal set; }
            public MoRef? MoRef { get; internal set; }
        }

        /// <summary>
        /// Parses <c>/VIServer=user@host:443/VirtualMachine=VirtualMachine-vm-1013/</c>. The user may
        /// contain '@' (SSO: <c>administrator@vsphere.local@vc:443</c>), so the server is split off at
        /// the LAST '@'.
        /// </summary>
        public static bool TryParseUid(string uid, out UidParts parts)
        {
            parts = new UidParts();
            const string marker = "/VIServer=";
            var start = uid.IndexOf(marker, StringComparison.OrdinalIgnoreCase);
            if (start < 0) return false;
            start += marker.Length;
            // The server segment ends at the next "/<Type>=" segment; user names have no '/'.
            var end = uid.IndexOf('/', start);
            var server = end < 0 ? uid.Substring(start) : uid.Substring(start, end - start);
            var at = server.LastIndexOf('@');
            if (at >= 0)
            {
                parts.User = server.Substring(0, at);
                server = server.Substring(at + 1);
            }
            var colon = server.LastIndexOf(':');
            var close = server.LastIndexOf(']');
            if (colon > close && colon > 0 && int.TryParse(server.Substring(colon + 1), NumberStyles.Integer, CultureInfo.InvariantCulture, out var port))
            {
                parts.Port = port;
                server = server.Substring(0, colon);
            }
            parts.Host = server.Trim('[', ']');
            if (parts.Host.Length == 0) return false;
            if (end >= 0)
            {
                foreach (var seg in uid.Substring(end).Split(new[] { '/' }, StringSplitOptions.RemoveEmptyEntries))
                {
                    var eq = seg.IndexOf('=');
                    if (eq > 0 && TryParseId(seg.Substring(eq + 1), out var r)) parts.MoRef = r;
                }
            }
            return true;
        }
    }
}
