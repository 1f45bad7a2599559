using System;
using System.Threading;
using MtvRemediation.Esxi;

namespace MtvRemediation.Remediation
{
    /// <summary>
    /// The pre-check of Clear-VmkfstoolsWrapperLog and Register-LogRotationCron: wrapper 0.3.x
    /// (MTV 2.11 and later, a shell script) logs only through syslog (<c>logger -t
    /// vmkfstools-wrapper</c>, kubev2v/forklift vmkfstools_wrapper.sh at v2.11.0), so on such a host
    /// the wrapper log does not grow: a rotation job has nothing to do, and a clear has nothing to
    /// clear unless an older wrapper's log is still there. Returns null when the cmdlet applies.
    /// A host without a readable payload is not refused (the cmdlet applies).
    /// </summary>
    internal static class WrapperLogApplicability
    {
        public static string? NotApplicableReason(IEsxiShell shell, string logPath, bool forRotation, CancellationToken ct)
        {
            // Only the wrapper's own log depends on the generation; another -LogPath is the caller's choice.
            if (!string.Equals(logPath, WrapperInventory.WrapperLogPath, StringComparison.Ordinal)) return null;
            var run = RemoteOps.Run(shell, RemoteCommand.FromScript("wrapper-log-applicable.sh", logPath), ct);
            string? first = null, version = null;
            long size = -1;
            foreach (var line in run.Stdout.Split('\n'))
            {
                var cols = line.Split('\t');
                if (cols[0] == "payload" && cols.Length >= 3) { first = cols[1]; version = cols[2]; }
                else if (cols[0] == "log" && cols.Length >= 2) long.TryParse(cols[1], out size);
            }
            var shellWrapper = first != null && first.StartsWith("#!", StringComparison.Ordinal) && first.IndexOf("python", StringComparison.Ordinal) < 0 && first.EndsWith("sh", StringComparison.Ordinal);
            if (!shellWrapper) return null;
            var which = string.IsNullOrEmpty(version) ? "a 0.3.x shell wrapper" : "the shell wrapper (" + version!.Trim() + ")";
            var why = $"{shell.HostName} runs {which} (MTV 2.11 or later), which logs through syslog (logger -t vmkfstools-wrapper) and never writes {logPath}";
            if (forRotation) return why + (size >= 0 ? $"; the {size}-byte file there is an older wrapper's and no longer grows: clear it once with Clear-VmkfstoolsWrapperLog." : ".");
            if (size > 0) return null;
            return why + (size == 0 ? "; the file there is empty." : "; there is no such file.");
        }
    }
}
