using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Threading;
using MtvRemediation.Esxi;

namespace MtvRemediation.Remediation
{
    /// <summary>Where the wrapper writes on ESXi (FIELD-FACTS 2) and the status thresholds.</summary>
    public sealed class LogSpaceOptions
    {
        public const string DefaultLogPath = "/var/log/vmkfstools-wrapper.log";
        public const string DefaultSecureLogPath = "/var/log/secure-vmkfstools-wrapper.log";

        public string LogPath { get; set; } = DefaultLogPath;
        public string SecureLogPath { get; set; } = DefaultSecureLogPath;
        public int WarningPercent { get; set; } = 75;
        public int CriticalPercent { get; set; } = 90;
    }

    /// <summary>
    /// Measures the wrapper log and the space around it in ONE remote round trip: the script asks
    /// the sources in the parser's order of preference (vdf, stat -f, df -k, vdf -h) and runs a
    /// fallback only where the sources before it failed; the parser takes the most exact one that
    /// answered for the log's volume (FIELD-FACTS 3), recording it in Source.
    /// </summary>
    public static class LogSpaceProbe
    {
        // {0} log path, {1} secure log path. The log's directory may not exist: walk up to one that does,
        // and resolve symlinks (/var/log -> /scratch/log on hosts with a scratch datastore).
        // Few processes: at fleet scale the host's cost per probe is mostly fork+exec (parameter
        // expansion instead of dirname; df -k and vdf -h only as fallbacks).
        private const string Script =
            RemoteOps.FileSizeFunction +
            "f={0}; s={1}\n" +
            "d=${{f%/*}}; while [ ! -d \"${{d:-/}}\" ]; do d=${{d%/*}}; done; d=${{d:-/}}\n" +
            "r=$(readlink -f \"$d\" 2>/dev/null); [ -n \"$r\" ] || r=$d\n" +
            "echo @@resolved; echo \"$r\"\n" +
            "echo @@log; if [ -f \"$f\" ]; then filesize \"$f\"; fi\n" +
            "echo @@secure; if [ -f \"$s\" ]; then filesize \"$s\"; fi\n" +
            "echo @@vdf; vdf 2>/dev/null; v=$?; echo; echo \"@@rc $v\"\n" +
            "echo @@statf; stat -f -c '%S %b %f %a' \"$d\" 2>/dev/null; a=$?; echo \"@@rc $a\"\n" +
            "echo @@statftmp; stat -f -c '%S %b %f %a' /tmp 2>/dev/null; t=$?; echo \"@@rc $t\"\n" +
            "if [ $a != 0 ]; then echo @@dfk; df -k \"$d\" 2>/dev/null; a=$?; echo \"@@rc $a\"; fi\n" +
            "if [ $t != 0 ]; then echo @@dfktmp; df -k /tmp 2>/dev/null; t=$?; echo \"@@rc $t\"; fi\n" +
            "if [ $v != 0 ] && [ $a != 0 -o $t != 0 ]; then echo @@vdfh; vdf -h 2>/dev/null; r=$?; echo; echo \"@@rc $r\"; fi\n" +
            "echo @@tasks; for t in /tmp/vmkfstools-wrapper-*; do [ -d \"$t\" ] && echo \"$t\"; done\n" +
            "echo @@stale; find /tmp -maxdepth 1 -type d -name 'vmkfstools-wrapper-*' -mtime +5 2>/dev/null\n" +
            "echo @@vib; for p in /opt/redhat/vmkfstools-wrapper /usr/lib/vmware/esxcli/ext/esxcli-vmkfstools.xml; do [ -e \"$p\" ] && echo \"$p\"; done; echo \"@@rc 0\"\n" +
            "echo @@end\n";

        public static RemoteCommand BuildCommand(LogSpaceOptions options) =>
            RemoteCommand.Format(Script, options.LogPath, options.SecureLogPath);

        public static LogSpaceStatus Measure(IEsxiShell shell, LogSpaceOptions options, CancellationToken ct)
        {
            var result = RemoteOps.Run(shell, BuildCommand(options), ct);
            if (!result.Stdout.Contains("@@end"))
            {
                throw new RemediationException(HostRemediationErrorIds.LogSpaceCheckFailed, ErrorCategory.ReadError,
                    $"The space check on '{shell.HostName}' stopped early (exit {result.ExitStatus}): {FirstLine(result.Stderr)}",
                    "Check that the ESXi shell works (Invoke a simple command through Get-EsxiShell), then retry.");
            }
            return Parse(shell.HostName, options, result.Stdout);
        }

        /// <summary>Turns the sectioned script output into a status (pure: unit-tested without a host).</summary>
        public static LogSpaceStatus Parse(string hostName, LogSpaceOptions options, string stdout)
        {
            var s = RemoteOps.Sections(stdout);
            var resolved = Get(s, "resolved").Trim();
            if (resolved.Length == 0) resolved = "/";
            var status = new LogSpaceStatus
            {
                VMHost = hostName,
                LogPath = options.LogPath,
                SecureLogPath = options.SecureLogPath,
            };
            var logSize = RemoteOps.ParseLong(Get(s, "log"));
            status.LogExists = logSize.HasValue;
            status.LogSizeBytes = logSize ?? 0;
            var secureSize = RemoteOps.ParseLong(Get(s, "secure"));
            status.SecureLogExists = secureSize.HasValue;
            status.SecureLogSizeBytes = secureSize ?? 0;

            var volume = PickVolume(s, resolved, "statf", "dfk", out var source);
            if (volume == null)
            {
                throw new RemediationException(HostRemediationErrorIds.LogSpaceCheckFailed, ErrorCategory.ReadError,
                    $"None of vdf, stat -f, df -k could tell the free space of '{resolved}' on '{hostName}'.",
                    "Check the space by hand (vdf -h) on the host; report the output of vdf, stat -f and df -k to the module maintainers.");
            }
            status.VolumePath = volume.MountPoint;
            status.VolumeSizeBytes = volume.SizeBytes;
            status.VolumeUsedBytes = volume.UsedBytes;
            status.VolumeFreeBytes = volume.FreeBytes;
            status.UsedPercent = Percent(volume);
            status.Source = source;

            var tmp = PickVolume(s, "/tmp", "statftmp", "dfktmp", out var tmpSource);
            if (tmp != null)
            {
                status.TmpSizeBytes = tmp.SizeBytes;
                status.TmpFreeBytes = tmp.FreeBytes;
                status.TmpUsedPercent = Percent(tmp);
                status.TmpSource = tmpSource;
            }

            status.TaskDirCount = NonEmptyLines(Get(s, "tasks")).Count();
            status.StaleTaskDirCount = NonEmptyLines(Get(s, "stale")).Count();
            status.WrapperInstalled = s.ContainsKey("vib") ? NonEmptyLines(Get(s, "vib")).Any() : (bool?)null;

            var reasons = new List<string>();
            var level = Classify(status.UsedPercent, options);
            if (level > 0) reasons.Add($"{status.VolumePath} is {status.UsedPercent:0.#}% used ({status.VolumeFreeBytes} bytes free); the wrapper log is {status.LogSizeBytes} bytes.");
            if (tmp != null)
            {
                var tmpLevel = Classify(status.TmpUsedPercent, options);
                if (tmpLevel > 0) reasons.Add($"/tmp is {status.TmpUsedPercent:0.#}% used ({status.TaskDirCount} vmkfstools-wrapper task dirs, {status.StaleTaskDirCount} older than 5 days).");
                level = Math.Max(level, tmpLevel);
            }
            status.Status = level == 2 ? "Critical" : level == 1 ? "Warning" : "Healthy";
            status.Reasons = reasons.ToArray();
            return status;
        }

        private static int Classify(double usedPercent, LogSpaceOptions o) =>
            usedPercent >= o.CriticalPercent ? 2 : usedPercent >= o.WarningPercent ? 1 : 0;

        private static double Percent(SpaceEntry e) =>
            e.SizeBytes <= 0 ? 0 : Math.Round(e.UsedBytes * 100.0 / e.SizeBytes, 1);

        // Most exact first: vdf (1k blocks) for the volume holding the path, stat -f (blocks),
        // df -k PATH (1k blocks), vdf -h (rounded sizes).
        private static SpaceEntry? PickVolume(Dictionary<string, string> s, string resolvedPath, string statKey, string dfKey, out string source)
        {
            source = string.Empty;
            if (Ok(s, "vdf"))
            {
                var e = SpaceParsers.FindVolumeFor(SpaceParsers.ParseTables(Get(s, "vdf")).Where(x => x.Exact), resolvedPath);
                if (e != null) { source = "vdf"; return e; }
            }
            if (Ok(s, statKey))
            {
                var e = SpaceParsers.ParseStatFs(Get(s, statKey), resolvedPath);
                if (e != null)
                {
                    // stat -f knows sizes, not the mount point: take that name from df when it answered.
                    var df = Ok(s, dfKey) ? SpaceParsers.ParseTables(Get(s, dfKey)).FirstOrDefault() : null;
                    source = "stat -f";
                    return new SpaceEntry(e.Name, df?.MountPoint ?? resolvedPath, e.SizeBytes, e.UsedBytes, e.FreeBytes, true);
                }
            }
            if (Ok(s, dfKey))
            {
                var e = SpaceParsers.ParseTables(Get(s, dfKey)).FirstOrDefault();
                if (e != null) { source = "df -k"; return e; }
            }
            if (Ok(s, "vdfh"))
            {
                var e = SpaceParsers.FindVolumeFor(SpaceParsers.ParseTables(Get(s, "vdfh")), resolvedPath);
                if (e != null) { source = "vdf -h"; return e; }
            }
            return null;
        }

        private static bool Ok(Dictionary<string, string> s, string key) =>
            s.TryGetValue(key + ".rc", out var rc) && rc == "0" && s.ContainsKey(key);

        private static string Get(Dictionary<string, string> s, string key) => s.TryGetValue(key, out var v) ? v : string.Empty;

        private static IEnumerable<string> NonEmptyLines(string text) =>
            text.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0);

        internal static string FirstLine(string text)
        {
            var t = (text ?? string.Empty).Trim();
            var nl = t.IndexOf('\n');
            return nl < 0 ? t : t.Substring(0, nl);
        }
    }
}
