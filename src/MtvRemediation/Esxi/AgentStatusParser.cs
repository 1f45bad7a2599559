using System;
using System.Collections.Generic;

namespace MtvRemediation.Esxi
{
    /// <summary>
    /// Reads what ESXi's <c>/etc/init.d/hostd</c> and <c>/etc/init.d/vpxa</c> print:
    /// <c>hostd is running.</c> / <c>hostd is not running.</c> for <c>status</c>, and lines like
    /// <c>watchdog-hostd: Terminating watchdog process with PID 2099465</c>, <c>hostd stopped.</c>,
    /// <c>hostd started.</c> for <c>restart</c>.
    /// </summary>
    internal static class AgentStatusParser
    {
        /// <summary>True = running, false = not running, null = the output says neither.</summary>
        public static bool? ParseStatus(string agent, string output)
        {
            foreach (var raw in Lines(output))
            {
                var line = raw.Trim().TrimEnd('.').ToLowerInvariant();
                var a = agent.ToLowerInvariant();
                if (line == a + " is not running" || line.EndsWith(" is not running", StringComparison.Ordinal) && line.StartsWith(a, StringComparison.Ordinal)) return false;
                if (line == a + " is running" || line.EndsWith(" is running", StringComparison.Ordinal) && line.StartsWith(a, StringComparison.Ordinal)) return true;
            }
            return null;
        }

        /// <summary>Whether the restart output reports the agent started again (e.g. <c>hostd started.</c>).</summary>
        public static bool ReportsStarted(string agent, string output)
        {
            foreach (var raw in Lines(output))
            {
                var line = raw.Trim().TrimEnd('.').ToLowerInvariant();
                if (line == agent.ToLowerInvariant() + " started") return true;
            }
            return false;
        }

        private static IEnumerable<string> Lines(string text) => (text ?? string.Empty).Replace("\r\n", "\n").Split('\n');
    }
}
