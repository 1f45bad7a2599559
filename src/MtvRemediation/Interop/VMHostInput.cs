using System;
using System.Collections;
using System.Management.Automation;
using MtvRemediation.Esxi;

namespace MtvRemediation.Interop
{
    /// <summary>
    /// Duck-typed reading of -VMHost input: host names, PowerCLI VMHost objects (live or
    /// <c>Deserialized.</c>), our EsxiShellSession objects, and anything with a <c>VMHost</c>
    /// (string or object with <c>Name</c>) or <c>Name</c> property, e.g. PowerCLI VMs and our
    /// result objects. PowerCLI itself is never referenced.
    /// </summary>
    internal static class VMHostInput
    {
        private const string VMHostTypeMarker = "VMware.VimAutomation.ViCore.Impl.V1.Inventory.VMHostImpl";

        /// <summary>
        /// Resolves one input, or explains why it cannot be (the module's convention for reading
        /// PowerShell input, shared with <see cref="VMInput.TryParse"/>: callers write the problem as
        /// a non-terminating error for that input and go on with the next).
        /// </summary>
        public static bool TryGetTarget(object? input, out HostTarget? target, out string? problem)
        {
            target = null;
            problem = null;
            var value = Unwrap(input);
            if (value == null)
            {
                problem = "The -VMHost value is null.";
                return false;
            }
            if (value is EsxiShellSession session)
            {
                target = new HostTarget(session.VMHost, input, session);
                return true;
            }
            if (value is string s)
            {
                if (string.IsNullOrWhiteSpace(s))
                {
                    problem = "The -VMHost value is an empty string.";
                    return false;
                }
                target = new HostTarget(s, input);
                return true;
            }

            var pso = PSObject.AsPSObject(input!);
            if (IsVMHostObject(pso))
            {
                var name = Get(pso, "Name") as string;
                if (!string.IsNullOrWhiteSpace(name))
                {
                    target = new HostTarget(name!, input, null, Get(pso, "Id") as string);
                    return true;
                }
            }

            var vmHost = Unwrap(Get(pso, "VMHost"));
            if (vmHost is EsxiShellSession hostSession)
            {
                target = new HostTarget(hostSession.VMHost, input, hostSession);
                return true;
            }
            if (vmHost is string hostName && !string.IsNullOrWhiteSpace(hostName))
            {
                target = new HostTarget(hostName, input, null, Get(pso, "VMHostId") as string);
                return true;
            }
            if (vmHost != null)
            {
                var inner = PSObject.AsPSObject(vmHost);
                if (Get(inner, "Name") is string innerName && !string.IsNullOrWhiteSpace(innerName))
                {
                    target = new HostTarget(innerName, input, null, (Get(inner, "Id") as string) ?? (Get(pso, "VMHostId") as string));
                    return true;
                }
            }

            if (Get(pso, "Name") is string plainName && !string.IsNullOrWhiteSpace(plainName))
            {
                target = new HostTarget(plainName, input);
                return true;
            }

            problem = $"Cannot find an ESXi host name in the input of type '{TypeNameOf(pso)}'. Pass a host name, a PowerCLI VMHost, an EsxiShellSession, or an object with a VMHost or Name property.";
            return false;
        }

        private static object? Unwrap(object? value)
        {
            while (value is PSObject p && !(p.BaseObject is PSCustomObject)) value = p.BaseObject;
            return value;
        }

        private static bool IsVMHostObject(PSObject pso)
        {
            foreach (var t in pso.TypeNames)
            {
                if (t.EndsWith(VMHostTypeMarker, StringComparison.Ordinal)) return true; // also Deserialized.*
            }
            return false;
        }

        private static object? Get(PSObject pso, string property)
        {
            if (pso.BaseObject is IDictionary dict)
            {
                foreach (DictionaryEntry e in dict)
                {
                    if (e.Key is string k && string.Equals(k, property, StringComparison.OrdinalIgnoreCase)) return Unwrap(e.Value);
                }
                return null;
            }
            try
            {
                return Unwrap(pso.Properties[property]?.Value);
            }
            catch (GetValueException)
            {
                return null;
            }
        }

        private static string TypeNameOf(PSObject pso) => pso.TypeNames.Count > 0 ? pso.TypeNames[0] : pso.BaseObject.GetType().FullName ?? "object";
    }
}
