using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Threading;
using MtvRemediation.Esxi;
using MtvRemediation.Infrastructure;

namespace MtvRemediation.HostLog
{
    /// <summary>
    /// Where the wrapper writes on ESXi (docs/field-sources.md#2-the-vmkfstools-wrapper) and the
    /// status thresholds.
    /// </summary>
    internal sealed class LogSpaceOptions
    {
        public const string DefaultLogPath = "/var/log/vmkfstools-wrapper.log";
        public const string DefaultSecureLogPath = "/var/log/secure-vmkfstools-wrapper.log";

        public string LogPath { get; set; } = DefaultLogPath;
        public string SecureLogPath { get; set; } = DefaultSecureLogPath;
        public int WarningPercent { get; set; } = 75;
        public int CriticalPercent { get; set; } = 90;
    }

    /// <summary>
    /// Measures the wrapper log and the volume that really holds it in ONE remote round trip
    /// (Scripts/logspace.sh). The log is judged by the module's one log-path rule (logpath.sh): a
    /// symlink or anything but a regular file at the log path is refused (LogPathRefused). The
    /// volume is the file system holding the log's real path
    /// (docs/field-sources.md#3-esxi-shell-and-storage): a ramdisk found
    /// through the ramdisk list's mount points (sizes from vdf), a VMFS-family volume (ESXi 7/8
    /// OSDATA, datastores) through ESXi's df or stat -f, and off ESXi the POSIX df -k of the path.
    /// What no source can attribute to the path fails loudly instead of borrowing a ramdisk's numbers.
    /// </summary>
    internal static class LogSpaceProbe
    {
        public static RemoteCommand BuildCommand(LogSpaceOptions options) =>
            RemoteCommand.FromScript("logspace.sh", options.LogPath, options.SecureLogPath);

        public static LogSpaceStatus Measure(IEsxiShell shell, LogSpaceOptions options, CancellationToken ct)
        {
            var result = RemoteOps.Run(shell, BuildCommand(options), ct);
            if (!result.Stdout.Contains("@@end"))
            {
                throw new RemediationException(HostRemediationErrorIds.LogSpaceCheckFailed, ErrorCategory.ReadError,
                    $"The space check on '{shell.HostName}' stopped early (exit {result.ExitStatus}): {FirstLine(result.Stderr)}",
                    "Check that the host's ESXi shell session works.")
                { Next = NextCommand.ShowShell, NextTarget = shell.HostName, RerunCompletes = true };
            }
            return Parse(shell.HostName, options, result.Stdout);
        }

        /// <summary>Turns the sectioned script output into a status (pure: unit-tested without a host).</summary>
        public static LogSpaceStatus Parse(string hostName, LogSpaceOptions options, string stdout)
        {
            var s = RemoteOps.Sections(stdout);
            foreach (var field in new[] { "logtarget", "resolved", "resolvedtmp", "df" })
            {
                if (!s.TryGetValue(field, out var encoded)) continue;
                try { s[field] = HostField.DecodeSection(encoded); }
                catch (FormatException ex)
                {
                    throw new RemediationException(HostRemediationErrorIds.LogSpaceCheckFailed, ErrorCategory.ReadError,
                        $"The space check on '{hostName}' could not be read: {ex.Message}",
                        "Check that the host's ESXi shell session works.")
                    { Next = NextCommand.ShowShell, NextTarget = hostName, RerunCompletes = true };
                }
            }
            var kind = LogPathRule.ParseKind(Get(s, "logkind"));
            if (kind == LogPathKind.Symlink || kind == LogPathKind.NotRegularFile)
                throw LogPathRule.Refused(hostName, options.LogPath, kind, Get(s, "logtarget"), changedNothing: true);
            var resolved = Get(s, "resolved");
            if (resolved.Length == 0) resolved = "/";
            var status = new LogSpaceStatus
            {
                VMHost = hostName,
                LogPath = options.LogPath,
                SecureLogPath = options.SecureLogPath,
                LogRealPath = resolved.TrimEnd('/') + "/" + FileName(options.LogPath),
            };
            var logSize = kind == LogPathKind.RegularFile ? RemoteOps.ParseLong(Get(s, "log")) : null;
            status.LogExists = logSize.HasValue;
            status.LogSizeBytes = logSize ?? 0;
            var reasons = new List<string>();
            var secureKind = LogPathRule.ParseKind(Get(s, "securekind"));
            var secureSize = secureKind == LogPathKind.RegularFile ? RemoteOps.ParseLong(Get(s, "secure")) : null;
            status.SecureLogExists = secureSize.HasValue;
            status.SecureLogSizeBytes = secureSize ?? 0;
            if (secureKind == LogPathKind.Symlink || secureKind == LogPathKind.NotRegularFile)
                reasons.Add($"{options.SecureLogPath} is {LogPathRule.Describe(secureKind)}, not a log file: not measured (the module never follows it).");

            var volume = FindVolume(s, resolved, "statfpath", "dfkpath");
            if (volume == null)
            {
                throw new RemediationException(HostRemediationErrorIds.LogSpaceCheckFailed, ErrorCategory.ReadError,
                    $"No source could tell which volume holds '{resolved}' on '{hostName}' (the ramdisk list, vdf, df and stat -f gave no volume for that path; the root ramdisk is never taken for it).",
                    "Check by hand on the host (readlink -f on the log's directory, localcli system visorfs ramdisk list, vdf, df); report their output to the module maintainers.");
            }
            status.VolumePath = volume.Entry.MountPoint;
            status.VolumeName = volume.Entry.Name;
            status.VolumeKind = volume.Kind;
            status.VolumeSizeBytes = volume.Entry.SizeBytes;
            status.VolumeUsedBytes = volume.Entry.UsedBytes;
            status.VolumeFreeBytes = volume.Entry.FreeBytes;
            status.UsedPercent = Percent(volume.Entry);
            status.Source = volume.Source;

            var tmpPath = Get(s, "resolvedtmp");
            var tmp = FindVolume(s, tmpPath.Length == 0 ? "/tmp" : tmpPath, "statftmp", "dfktmp");
            if (tmp != null)
            {
                status.TmpSizeBytes = tmp.Entry.SizeBytes;
                status.TmpFreeBytes = tmp.Entry.FreeBytes;
                status.TmpUsedPercent = Percent(tmp.Entry);
                status.TmpSource = tmp.Source;
            }

            status.TaskDirCount = NonEmptyLines(Get(s, "tasks")).Count();
            status.StaleTaskDirCount = NonEmptyLines(Get(s, "stale")).Count();
            status.WrapperInstalled = s.ContainsKey("vib") ? NonEmptyLines(Get(s, "vib")).Any() : (bool?)null;

            var level = Classify(status.UsedPercent, options);
            if (level > 0) reasons.Add($"{status.VolumePath} ({status.VolumeKind} {status.VolumeName}) is {status.UsedPercent:0.#}% used ({status.VolumeFreeBytes} bytes free); the wrapper log is {status.LogSizeBytes} bytes.");
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

        private sealed class Volume
        {
            public Volume(SpaceEntry entry, string kind, string source) { Entry = entry; Kind = kind; Source = source; }
            public SpaceEntry Entry { get; }
            public string Kind { get; }
            public string Source { get; }
        }

        /// <summary>
        /// The volume holding <paramref name="path"/> (a resolved absolute path), longest mount point
        /// first: ramdisks by the ramdisk list's mount points with vdf's exact sizes; VMFS-family
        /// volumes by ESXi's df (bytes), else stat -f for the /vmfs/volumes/&lt;name&gt; holding the
        /// path; only where no ramdisk list answered (not an ESXi host), POSIX df -k of the path.
        /// </summary>
        private static Volume? FindVolume(Dictionary<string, string> s, string path, string statKey, string dfKey)
        {
            Volume? best = null;
            void Consider(Volume v)
            {
                if (best == null || v.Entry.MountPoint.Length > best.Entry.MountPoint.Length) best = v;
            }

            if (Ok(s, "ramdisks"))
            {
                // vdf's block header is unverified (only `vdf -h` output is on record: a "Size"
                // column of 32M/520K-style sizes, "--" as mount point; see SpaceParsers): exact rows
                // of a recognised unit first, else the rounded rows of vdf -h, never none.
                var vdf = Ok(s, "vdf") ? SpaceParsers.ParseTables(Get(s, "vdf")).Where(x => x.Exact).ToList() : new List<SpaceEntry>();
                var vdfHuman = Ok(s, "vdfh") ? SpaceParsers.ParseTables(Get(s, "vdfh")).ToList() : new List<SpaceEntry>();
                foreach (var kv in SpaceParsers.ParseRamdiskMounts(Get(s, "ramdisks")))
                {
                    if (!SpaceParsers.Holds(kv.Value, path)) continue;
                    // Sizes only from vdf: the ramdisk list's own size columns are unverified.
                    var row = vdf.FirstOrDefault(e => e.Name == kv.Key);
                    var source = "ramdisk list + vdf";
                    if (row == null)
                    {
                        row = vdfHuman.FirstOrDefault(e => e.Name == kv.Key);
                        source = "ramdisk list + vdf -h";
                    }
                    if (row == null) continue;
                    Consider(new Volume(new SpaceEntry(kv.Key, kv.Value, row.SizeBytes, row.UsedBytes, row.FreeBytes, row.Exact), "ramdisk", source));
                }
            }
            var vmfs = VmfsVolumeOf(path);
            if (vmfs != null)
            {
                var df = Ok(s, "df")
                    ? SpaceParsers.ParseTables(Get(s, "df")).Where(e => e.Exact && e.MountPoint.StartsWith("/vmfs/volumes/", StringComparison.Ordinal)).ToList()
                    : new List<SpaceEntry>();
                var row = SpaceParsers.FindVolumeFor(df, path);
                // ESXi's df names the file system type (VMFS-6, VFFS, vfat) where Linux names a device.
                if (row != null) Consider(new Volume(new SpaceEntry(FileName(row.MountPoint), row.MountPoint, row.SizeBytes, row.UsedBytes, row.FreeBytes, true), row.Name, "df"));
                else if (Ok(s, "statf") && SpaceParsers.ParseStatFs(Get(s, "statf"), vmfs) is SpaceEntry st)
                    Consider(new Volume(new SpaceEntry(vmfs.Substring("/vmfs/volumes/".Length), vmfs, st.SizeBytes, st.UsedBytes, st.FreeBytes, true), "VMFS-family", "stat -f"));
            }
            if (best != null || Ok(s, "ramdisks")) return best;

            // Not an ESXi host (no ramdisk list): the POSIX df of the path names its mount point.
            var posix = Ok(s, dfKey) ? SpaceParsers.FindVolumeFor(SpaceParsers.ParseTables(Get(s, dfKey)), path) : null;
            if (posix == null) return null;
            var stat = Ok(s, statKey) ? SpaceParsers.ParseStatFs(Get(s, statKey), path) : null;
            return stat == null
                ? new Volume(posix, posix.Name, "df -k")
                : new Volume(new SpaceEntry(posix.Name, posix.MountPoint, stat.SizeBytes, stat.UsedBytes, stat.FreeBytes, true), posix.Name, "stat -f + df -k");
        }

        /// <summary>"/vmfs/volumes/&lt;name&gt;" when the path lies in one; ESXi mounts every VMFS, VMFS-L and vfat volume there.</summary>
        private static string? VmfsVolumeOf(string path)
        {
            const string prefix = "/vmfs/volumes/";
            if (!path.StartsWith(prefix, StringComparison.Ordinal) || path.Length == prefix.Length) return null;
            var slash = path.IndexOf('/', prefix.Length);
            return slash < 0 ? path : path.Substring(0, slash);
        }

        private static string FileName(string path)
        {
            var slash = path.LastIndexOf('/');
            return slash < 0 ? path : path.Substring(slash + 1);
        }

        private static int Classify(double usedPercent, LogSpaceOptions o) =>
            usedPercent >= o.CriticalPercent ? 2 : usedPercent >= o.WarningPercent ? 1 : 0;

        private static double Percent(SpaceEntry e) =>
            e.SizeBytes <= 0 ? 0 : Math.Round(e.UsedBytes * 100.0 / e.SizeBytes, 1);

        private static bool Ok(Dictionary<string, string> s, string key) =>
            s.TryGetValue(key + ".rc", out var rc) && rc == "0" && s.ContainsKey(key);

        private static string Get(Dictionary<string, string> s, string key) => s.TryGetValue(key, out var v) ? v : string.Empty;

        private static IEnumerable<string> NonEmptyLines(string text) =>
            text.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0);

        internal static string FirstLine(string text)
        {
            var t = (text ?? string.Empty).Trim();
            var nl = t.IndexOf('\n');
            return HostText.Printable(nl < 0 ? t : t.Substring(0, nl));
        }
    }
}
