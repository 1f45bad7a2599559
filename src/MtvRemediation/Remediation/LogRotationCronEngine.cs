using System;
using System.Globalization;
using System.Linq;
using System.Management.Automation;
using System.Security.Cryptography;
using System.Text;
using System.Threading;
using MtvRemediation.Esxi;

namespace MtvRemediation.Remediation
{
    /// <summary>Where ESXi keeps cron (FIELD-FACTS 4). Settable so tests can point at a scratch tree.</summary>
    public sealed class CronPaths
    {
        public string CrontabPath { get; set; } = "/var/spool/cron/crontabs/root";
        public string PidFile { get; set; } = "/var/run/crond.pid";
        public string Busybox { get; set; } = "/usr/lib/vmware/busybox/bin/busybox";

        /// <summary>mkdir-lock guarding read-modify-write; outside the crontabs dir so crond never sees it.</summary>
        public string LockDir { get; set; } = "/var/spool/cron/.mtvremediation.lock";

        public TimeSpan LockTimeout { get; set; } = TimeSpan.FromSeconds(30);

        /// <summary>A lock older than this is left over by a dead client and is taken over.</summary>
        public TimeSpan StaleLockAge { get; set; } = TimeSpan.FromSeconds(120);
    }

    /// <summary>What one crontab operation found and did.</summary>
    public sealed class CronChange
    {
        public RotationEntry[] Entries { get; set; } = Array.Empty<RotationEntry>();
        public bool Changed { get; set; }
        public int? CrondPid { get; set; }
        public int Removed => RemovedEntries.Length;

        /// <summary>Our entries that the edit took out (read under the lock).</summary>
        public RotationEntry[] RemovedEntries { get; set; } = Array.Empty<RotationEntry>();
    }

    /// <summary>
    /// Adds, lists and removes our rotation line in root's crontab. The crontab is read byte-exact
    /// (length and md5 checked), edited in C# (<see cref="Crontab"/> keeps every foreign byte),
    /// written to a temp file in the same directory, given the original mode and owner, and renamed
    /// over the original (atomic: crond never sees a half-written file). A mkdir lock on the host
    /// serialises concurrent runs (two runspaces, two admins). Then crond is reloaded the ESXi way.
    /// </summary>
    public static class LogRotationCronEngine
    {
        public const long MaxCrontabBytes = 1024 * 1024;

        public static CronChange Register(IEsxiShell shell, RotationEntry entry, CronPaths paths, CancellationToken ct, Action<string>? verbose = null) =>
            Edit(shell, paths, ct, verbose, tab => tab.SetRotationEntry(entry));

        /// <summary>Removes our entries (for one log path, or all of ours when null).</summary>
        public static CronChange Unregister(IEsxiShell shell, string? logPath, CronPaths paths, CancellationToken ct, Action<string>? verbose = null) =>
            Edit(shell, paths, ct, verbose, tab => tab.RemoveRotationEntries(logPath));

        public static CronChange Get(IEsxiShell shell, CronPaths paths, CancellationToken ct)
        {
            var (bytes, _, _) = Read(shell, paths, ct);
            return new CronChange
            {
                Entries = Crontab.Parse(bytes ?? Array.Empty<byte>()).RotationEntries().ToArray(),
                CrondPid = ReadPid(shell, paths, ct),
            };
        }

        private static CronChange Edit(IEsxiShell shell, CronPaths paths, CancellationToken ct, Action<string>? verbose, Action<Crontab> edit)
        {
            var token = AcquireLock(shell, paths, ct, verbose);
            try
            {
                var (original, mode, owner) = Read(shell, paths, ct);
                var tab = Crontab.Parse(original ?? Array.Empty<byte>());
                var entriesBefore = tab.RotationEntries();
                edit(tab);
                var updated = tab.ToBytes();
                var after = tab.RotationEntries();
                var change = new CronChange
                {
                    Entries = after.ToArray(),
                    RemovedEntries = entriesBefore.Where(b => !after.Any(a => a.ToLine() == b.ToLine())).ToArray(),
                };
                if (original != null && updated.AsSpanEquals(original))
                {
                    verbose?.Invoke($"{shell.HostName}: crontab already up to date; not rewritten.");
                    change.CrondPid = ReadPid(shell, paths, ct);
                    return change;
                }
                Write(shell, paths, updated, mode ?? "600", owner, ct);
                change.Changed = true;
                change.CrondPid = ReloadCrond(shell, paths, ct);
                verbose?.Invoke($"{shell.HostName}: crontab rewritten ({updated.Length} bytes), crond reloaded (pid {change.CrondPid}).");
                return change;
            }
            finally
            {
                ReleaseLock(shell, paths, token);
            }
        }

        private static (byte[]? Bytes, string? Mode, string? Owner) Read(IEsxiShell shell, CronPaths paths, CancellationToken ct)
        {
            var meta = RemoteOps.Run(shell, RemoteCommand.Format(
                "f={0}; if [ -f \"$f\" ]; then stat -c '%a %u:%g %s' \"$f\" && md5sum < \"$f\"; " +
                // Something else there (a directory): "missing" would make the final mv write into it.
                "elif [ -e \"$f\" ] || [ -L \"$f\" ]; then echo \"$f exists but is not a regular file\" >&2; exit 2; else echo missing; fi", paths.CrontabPath), ct);
            var lines = meta.Stdout.Replace("\r", string.Empty).Split(new[] { '\n' }, StringSplitOptions.RemoveEmptyEntries);
            if (lines.Length > 0 && lines[0].Trim() == "missing") return (null, null, null);
            var head = lines.Length >= 2 ? lines[0].Split(' ') : Array.Empty<string>();
            if (!meta.Succeeded || head.Length != 3 || !long.TryParse(head[2], NumberStyles.None, CultureInfo.InvariantCulture, out var size))
            {
                throw new RemediationException(HostRemediationErrorIds.CrontabReadFailed, ErrorCategory.ReadError,
                    $"Cannot read {paths.CrontabPath} on '{shell.HostName}' (exit {meta.ExitStatus}): {LogSpaceProbe.FirstLine(meta.Stderr)}",
                    "Check that you are logged in as root and the crontab exists, then retry.");
            }
            var expectedMd5 = lines[1].Split(' ')[0].Trim().ToLowerInvariant();
            byte[] bytes;
            try
            {
                bytes = RemoteOps.RunBytes(shell, RemoteCommand.Format("cat {0}", paths.CrontabPath), MaxCrontabBytes, ct, out _);
            }
            catch (CappedMemoryStream.CapExceededException)
            {
                throw new RemediationException(HostRemediationErrorIds.CrontabReadFailed, ErrorCategory.LimitsExceeded,
                    $"{paths.CrontabPath} on '{shell.HostName}' is larger than {MaxCrontabBytes} bytes; refusing to edit it.",
                    "Inspect the crontab by hand.");
            }
            if (bytes.LongLength != size || Md5(bytes) != expectedMd5)
            {
                throw new RemediationException(HostRemediationErrorIds.CrontabReadFailed, ErrorCategory.InvalidResult,
                    $"The copy of {paths.CrontabPath} read from '{shell.HostName}' does not match the file ({bytes.Length} of {size} bytes, md5 differs); nothing was changed.",
                    "Retry; if it persists, the SSH layer altered bytes: report it.");
            }
            return (bytes, head[0], head[1]);
        }

        private static void Write(IEsxiShell shell, CronPaths paths, byte[] content, string mode, string? owner, CancellationToken ct)
        {
            // A dot in the name: BusyBox crond skips such files, so it never loads the half-written temp file.
            var temp = paths.CrontabPath + ".mtv-tmp." + Guid.NewGuid().ToString("N").Substring(0, 12);
            try
            {
                for (var at = 0; at == 0 || at < content.Length; at += RemoteOps.UploadChunkBytes)
                {
                    var n = Math.Min(RemoteOps.UploadChunkBytes, content.Length - at);
                    var template = n == 0 ? ": > {0}" : at == 0 ? "printf {1} > {0}" : "printf {1} >> {0}";
                    var w = RemoteOps.Run(shell, RemoteCommand.Format(template, temp, RemoteOps.PrintfFormat(content, at, n)), ct);
                    if (!w.Succeeded) throw WriteFailed(shell, paths, w, "writing the new crontab");
                    if (n == 0) break;
                }
                var fin = RemoteOps.Run(shell, RemoteCommand.Format(
                    "t={0}; [ $(wc -c < \"$t\") -eq {2} ] || exit 6; [ \"$(md5sum < \"$t\" | cut -d' ' -f1)\" = {3} ] || exit 6; " +
                    "chmod {4} \"$t\" || exit 7; chown {5} \"$t\" 2>/dev/null; mv -f \"$t\" {1}",
                    temp, paths.CrontabPath, content.Length.ToString(CultureInfo.InvariantCulture), Md5(content), mode, owner ?? "0:0"), ct);
                if (!fin.Succeeded) throw WriteFailed(shell, paths, fin, fin.ExitStatus == 6 ? "verifying the new crontab" : "replacing the crontab");
            }
            catch
            {
                try { RemoteOps.Run(shell, RemoteCommand.Format("rm -f {0}", temp), CancellationToken.None, TimeSpan.FromSeconds(15)); }
                catch (RemediationException) { }
                throw;
            }
        }

        private static RemediationException WriteFailed(IEsxiShell shell, CronPaths paths, RemoteCommandResult r, string what) =>
            new RemediationException(HostRemediationErrorIds.CrontabWriteFailed, ErrorCategory.WriteError,
                $"Failed {what} for {paths.CrontabPath} on '{shell.HostName}' (exit {r.ExitStatus}): {LogSpaceProbe.FirstLine(r.Stderr)}. The crontab was not changed.",
                "If /var is full, free space first (Clear-VmkfstoolsWrapperLog), then retry.");

        /// <summary>
        /// ESXi reload: kill the crond in the pid file, wait for it to exit, start BusyBox crond,
        /// wait for a new live pid in the pid file. Returns the new pid. BusyBox crond runs jobs
        /// with $SHELL, so it is pinned to /bin/sh (what root has on ESXi) whatever the session set.
        /// </summary>
        public static int ReloadCrond(IEsxiShell shell, CronPaths paths, CancellationToken ct)
        {
            var r = RemoteOps.Run(shell, RemoteCommand.Format(
                "p={0}; old=$(cat \"$p\" 2>/dev/null)\n" +
                // A killed crond can linger as a zombie until its parent reaps it: where /proc exists, a zombie counts as gone.
                "if [ -n \"$old\" ] && kill \"$old\" 2>/dev/null; then i=0; while kill -0 \"$old\" 2>/dev/null && [ \"$(cut -d' ' -f3 /proc/$old/stat 2>/dev/null)\" != Z ] && [ $i -lt 50 ]; do sleep 0.1 2>/dev/null || sleep 1; i=$((i+1)); done; fi\n" +
                "SHELL=/bin/sh {1} crond </dev/null >/dev/null 2>&1\n" +
                "i=0; while [ $i -lt 50 ]; do new=$(cat \"$p\" 2>/dev/null); if [ -n \"$new\" ] && [ \"$new\" != \"$old\" ] && kill -0 \"$new\" 2>/dev/null; then echo \"$new\"; exit 0; fi; sleep 0.1 2>/dev/null || sleep 1; i=$((i+1)); done\n" +
                "echo \"old=$old new=$new\" >&2; exit 8",
                paths.PidFile, paths.Busybox), ct, TimeSpan.FromSeconds(90));
            var pid = RemoteOps.ParseLong(r.Stdout);
            if (!r.Succeeded || pid == null)
            {
                throw new RemediationException(HostRemediationErrorIds.CrondReloadFailed, ErrorCategory.ResourceUnavailable,
                    $"The crontab was written but crond on '{shell.HostName}' did not restart with a new pid (exit {r.ExitStatus}): {LogSpaceProbe.FirstLine(r.Stderr)}",
                    $"Start it by hand on the host: {paths.Busybox} crond");
            }
            return (int)pid.Value;
        }

        public static int? ReadPid(IEsxiShell shell, CronPaths paths, CancellationToken ct)
        {
            var r = RemoteOps.Run(shell, RemoteCommand.Format("p=$(cat {0} 2>/dev/null) && kill -0 \"$p\" 2>/dev/null && echo \"$p\"; true", paths.PidFile), ct);
            var pid = RemoteOps.ParseLong(r.Stdout);
            return pid.HasValue ? (int)pid.Value : (int?)null;
        }

        private static string AcquireLock(IEsxiShell shell, CronPaths paths, CancellationToken ct, Action<string>? verbose)
        {
            var token = Guid.NewGuid().ToString("N");
            var deadline = DateTime.UtcNow + paths.LockTimeout;
            var random = new Random(token.GetHashCode());
            var stale = ((long)paths.StaleLockAge.TotalSeconds).ToString(CultureInfo.InvariantCulture);
            while (true)
            {
                ct.ThrowIfCancellationRequested();
                // mkdir is atomic; the owner file lets release check that the lock is still ours.
                var r = RemoteOps.Run(shell, RemoteCommand.Format(
                    "l={0}\n" +
                    "if mkdir \"$l\" 2>/dev/null; then echo {1} > \"$l/owner\" 2>/dev/null; echo acquired; exit 0; fi\n" +
                    "now=$(date +%s); m=$(stat -c %Y \"$l\" 2>/dev/null || echo \"$now\")\n" +
                    "if [ $((now - m)) -gt {2} ]; then mv \"$l\" \"$l.stale.$$\" 2>/dev/null && rm -rf \"$l.stale.$$\"; if mkdir \"$l\" 2>/dev/null; then echo {1} > \"$l/owner\" 2>/dev/null; echo stale-taken; exit 0; fi; fi\n" +
                    "echo busy",
                    paths.LockDir, token, stale), ct);
                var answer = r.Stdout.Trim();
                if (answer == "acquired" || answer == "stale-taken")
                {
                    if (answer == "stale-taken") verbose?.Invoke($"{shell.HostName}: took over a stale crontab lock {paths.LockDir}.");
                    return token;
                }
                if (answer != "busy")
                {
                    throw new RemediationException(HostRemediationErrorIds.CrontabWriteFailed, ErrorCategory.WriteError,
                        $"Cannot create the lock {paths.LockDir} on '{shell.HostName}' (exit {r.ExitStatus}): {LogSpaceProbe.FirstLine(r.Stderr)}",
                        "Check that /var/spool/cron exists and /var has space, then retry.");
                }
                if (DateTime.UtcNow > deadline)
                {
                    throw new RemediationException(HostRemediationErrorIds.CrontabLocked, ErrorCategory.ResourceBusy,
                        $"The crontab on '{shell.HostName}' stayed locked by another MtvRemediation run for {paths.LockTimeout.TotalSeconds:0} s ({paths.LockDir}).",
                        $"Retry when the other run is done. If none is running, the lock is taken over automatically after {paths.StaleLockAge.TotalSeconds:0} s.");
                }
                Thread.Sleep(100 + random.Next(200));
            }
        }

        private static void ReleaseLock(IEsxiShell shell, CronPaths paths, string token)
        {
            try
            {
                // Remove only our own lock (a stale takeover may have given it to someone else).
                RemoteOps.Run(shell, RemoteCommand.Format(
                    // An empty owner file is ours too: on a full /var the mkdir succeeds but writing the token does not.
                    "l={0}; o=$(cat \"$l/owner\" 2>/dev/null); if [ \"$o\" = {1} ] || [ -z \"$o\" ]; then rm -rf \"$l\"; fi",
                    paths.LockDir, token), CancellationToken.None, TimeSpan.FromSeconds(15));
            }
            catch (RemediationException) { /* the stale-lock rule frees it later */ }
        }

        internal static string Md5(byte[] data)
        {
            using var md5 = MD5.Create();
            var sb = new StringBuilder();
            foreach (var b in md5.ComputeHash(data)) sb.Append(b.ToString("x2", CultureInfo.InvariantCulture));
            return sb.ToString();
        }

        private static bool AsSpanEquals(this byte[] a, byte[] b)
        {
            if (a.Length != b.Length) return false;
            for (var i = 0; i < a.Length; i++) if (a[i] != b[i]) return false;
            return true;
        }
    }
}
