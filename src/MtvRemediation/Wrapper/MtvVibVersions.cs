using System;

namespace MtvRemediation.Wrapper
{
    /// <summary>
    /// The vmkfstools-wrapper VIB each MTV release ships (<c>version.mk</c> at the kubev2v/forklift
    /// tags; docs/field-sources.md#2-the-vmkfstools-wrapper), to tell a host whose VIB is older than
    /// its cluster's MTV: from 2.11.6 MTV no longer installs the VIB, so upgraded clusters keep the
    /// old one (a 0.2.0 host's log still grows without bound).
    /// </summary>
    internal static class MtvVibVersions
    {
        /// <summary>The VIB version <paramref name="mtv"/> ships, or null for a release before 2.9 (none).</summary>
        public static string? Shipped(Version mtv)
        {
            if (mtv < new Version(2, 9)) return null;
            if (mtv < new Version(2, 10)) return "0.1.1";
            if (mtv < new Version(2, 11)) return "0.2.0";
            if (mtv < new Version(2, 12)) return "0.3.0";
            if (mtv < new Version(2, 12, 1)) return "0.3.1";
            if (mtv < new Version(2, 12, 4)) return "0.3.2";
            return "0.3.3"; // 2.12.4, 2.12.5, release-2.12 and main (5.0)
        }

        /// <summary>An MTV or VIB version as typed or reported ("2.12.5", "v2.12", "5.0.0"), or null.</summary>
        public static Version? Parse(string? text)
        {
            var t = (text ?? "").Trim().TrimStart('v', 'V');
            if (t.IndexOf('.') < 0) return null;
            return Version.TryParse(t, out var v) ? v : null;
        }

        /// <summary>True when the host's VIB is older than the one the cluster's MTV ships; null when either is unknown.</summary>
        public static bool? IsOlder(string? hostVib, string? shippedVib)
        {
            var host = Parse(hostVib);
            var shipped = Parse(shippedVib);
            if (host == null || shipped == null) return null;
            return host.CompareTo(shipped) < 0;
        }
    }
}
