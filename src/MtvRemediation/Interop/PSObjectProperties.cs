using System;
using System.Linq;
using System.Management.Automation;

namespace MtvRemediation.Interop
{
    /// <summary>Duck-typed reads of PowerCLI (and deserialized PowerCLI) objects through PSObject properties.</summary>
    internal static class PSObjectProperties
    {
        public static object? Get(PSObject? obj, string name)
        {
            if (obj == null) return null;
            PSPropertyInfo? p;
            try { p = obj.Properties[name]; }
            catch (Exception) { return null; }
            if (p == null) return null;
            try { return Unwrap(p.Value); }
            catch (Exception) { return null; }
        }

        public static string? GetString(PSObject? obj, string name)
        {
            var v = Get(obj, name);
            return v == null ? null : Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture);
        }

        public static PSObject? GetObject(PSObject? obj, string name)
        {
            var v = Get(obj, name);
            return v == null ? null : PSObject.AsPSObject(v);
        }

        public static object? Unwrap(object? value) => value is PSObject ps && !(ps.BaseObject is PSCustomObject) ? ps.BaseObject : value;

        /// <summary>True when any type name (ignoring a <c>Deserialized.</c> prefix) ends with one of the suffixes.</summary>
        public static bool HasTypeNameEnding(PSObject obj, params string[] suffixes)
        {
            return obj.TypeNames.Any(t =>
            {
                var n = t.StartsWith("Deserialized.", StringComparison.Ordinal) ? t.Substring("Deserialized.".Length) : t;
                return suffixes.Any(s => n.EndsWith(s, StringComparison.Ordinal));
            });
        }
    }
}
