using System;
using System.Collections;
using System.Management.Automation;

namespace MtvRemediation.Esxi
{
    /// <summary>One ESXi host a host cmdlet works on, as resolved from whatever the user passed.</summary>
    internal sealed class HostTarget
    {
        public HostTarget(string name, object? inputObject, EsxiShellSession? session = null, string? vmHostId = null)
        {
            if (string.IsNullOrWhiteSpace(name)) throw new ArgumentException("A host name is required.", nameof(name));
            Name = name.Trim();
            InputObject = inputObject;
            Session = session;
            VMHostId = vmHostId;
        }

        /// <summary>Inventory name of the host (session key).</summary>
        public string Name { get; }

        /// <summary>What the user passed (use it as the ErrorRecord's TargetObject).</summary>
        public object? InputObject { get; }

        /// <summary>Set when the input was an EsxiShellSession: work on exactly that session.</summary>
        public EsxiShellSession? Session { get; }

        /// <summary>PowerCLI id (<c>HostSystem-host-61</c>) when the input carried one.</summary>
        public string? VMHostId { get; }

        public override string ToString() => Name;
    }
}
