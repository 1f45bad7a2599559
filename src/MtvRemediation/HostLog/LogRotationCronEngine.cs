using System;
using System.Globalization;
using System.Linq;
using System.Management.Automation;
using System.Security.Cryptography;
using System.Text;
using System.Threading;
using MtvRemediation.Esxi;
using MtvRemediation.Infrastructure;

namespace MtvRemediation.HostLog
{
    /// <summary>
    /// Where ESXi keeps cron (docs/field-sources.md#4-cron-on-esxi). Settable so tests can point at
    /// a scratch tree.
    /// </summary>
    internal sealed class CronPaths
    {
        public string CrontabPath { get; set; } = "/var/spool/cron/crontabs/root";
        public string PidFile { get; set; } = "/var/run/crond.pid";
        public string Busybox { get; set; } = "/usr/lib/vmware/busybox/bin/busybox";

        /// <summary>mkdir-lock guarding read-modify-write; outside the crontabs dir so crond never sees it.</summary>
        public string LockDir { get; set; } = "/var/spool/cron/.mtvremediation.lock";

        /// <summary>
        /// The host's record that a crontab change awaits crond's reload: written right before the
        /// rename, removed by a reload that succeeded, so a run that died in between is finished by
        /// the next one (on any workstation). Outside the crontabs dir, like the lock.
        /// </summary>
        public string ReloadPending { get; set; } = "/var/spool/cron/.mtvremediation.reload-pending";

        public TimeSpan LockTimeout { get; set; } = TimeSpan.FromSeconds(30);

        /// <summary>A lock older than this is left over by a dead client and is taken over.</summary>
        public TimeSpan StaleLockAge { get; set; } = TimeSpan.FromSeconds(120);
    }

    /// <summary>What one crontab operation found and did.</summary>
    internal sealed class CronChange
    {
        public RotationEntry[] Entries { get; set; } = Array.Empty<RotationEntry>();
        public bool Changed { get; set; }
        public int? CrondPid { get; set; }
        public int Removed => RemovedEntries.Length;

        /// <summary>crond was reloaded although the crontab was up to date (it had not read the last change: a run stopped before its reload).</summary>
        public bool Reloaded { get; set; }

        /// <summary>Our entries that the edit took out (read under the lock).</summary>
        public RotationEntry[] RemovedEntries { get; set; } = Array.Empty<RotationEntry>();
    }

    /// <summary>
    /// Adds, lists and removes our rotation line in root's crontab. The crontab is read byte-exact
    /// (length and md5 checked), edited in C# (<see cref="Crontab"/> keeps every foreign byte),
    /// written to a temp file in the same directory that has the original mode and owner from its
    /// creation, and renamed over the original (atomic: crond never sees a half-written file); the
    /// file it replaced is then compared with the one we read, so lines someone else wrote meanwhile
    /// are appended to ours, or their rewritten crontab goes back (Scripts/crontab-replace.sh). A
    /// mkdir lock on the host serialises our own runs (two runspaces, two workstations). Then crond
    /// is reloaded the ESXi way; a reload-pending record on the host, written before the rename and
    /// removed by the reload, lets the next run finish a run that died in between. The remote steps
    /// are Scripts/crontab-*.sh and crond-*.sh.
    /// </summary>
    internal static class LogRotationCronEngine
    {
        public const long MaxCrontabBytes = 1024 * 1024;

        /// <summary>The rotation limit when none is asked for: 20 MiB, as long as the volume can hold it.</summary>
        public const int DefaultMaxSizeMB = 20;

        /// <summary>
        /// The job's size limit on a volume of <paramref name="volumeBytes"/> (the volume that really
        /// holds the log, from <see cref="LogSpaceProbe"/>): <paramref name="requestedMB"/>, capped at
        /// a quarter of the volume (at least 1 MiB). A limit the volume cannot hold (20 MiB on the
        /// 16 MiB var ramdisk of a host without persistent scratch) would never fire before the
        /// volume is full. Unknown volume (0): the requested limit.
        /// </summary>
        public static int LimitMBFor(long volumeBytes, int requestedMB)
        {
            if (volumeBytes <= 0) return requestedMB;
            var quarterMB = (int)Math.Max(1, Math.Min(int.MaxValue, volumeBytes / 4 / (1024 * 1024)));
            return Math.Min(requestedMB, quarterMB);
        }

        public static CronChange Register(IEsxiShell shell, RotationEntry entry, CronPaths paths, CancellationToken ct, Action<string>? verbose = null) =>
            Edit(shell, paths, ct, verbose, (tab, missing) => tab.SetRotationEntry(entry, missing));

        /// <summary>Removes our entries (for one log path, or all of ours when null).</summary>
        public static CronChange Unregister(IEsxiShell shell, string? logPath, CronPaths paths, CancellationToken ct, Action<string>? verbose = null) =>
            Edit(shell, paths, ct, verbose, (tab, _) => tab.RemoveRotationEntries(logPath));

        /// <summary>Our entries and crond's pid, read in one command (no lock: nothing is written).</summary>
        public static CronChange Get(IEsxiShell shell, CronPaths paths, CancellationToken ct)
        {
            byte[] output;
            RemoteCommandResult run;
            try
            {
                output = RemoteOps.RunBytes(shell, RemoteCommand.FromScript("crontab-get.sh", paths.PidFile, paths.CrontabPath), MaxCrontabBytes + 64, ct, out run);
            }
            catch (CappedMemoryStream.CapExceededException)
            {
                throw new RemediationException(HostRemediationErrorIds.CrontabReadFailed, ErrorCategory.LimitsExceeded,
                    $"{paths.CrontabPath} on '{shell.HostName}' is larger than {MaxCrontabBytes} bytes.", "Inspect the crontab by hand.");
            }
            var newline = Array.IndexOf(output, (byte)'\n');
            if (!run.Succeeded || newline < 0)
            {
                throw new RemediationException(HostRemediationErrorIds.CrontabReadFailed, ErrorCategory.ReadError,
                    $"Cannot read {paths.CrontabPath} on '{shell.HostName}' (exit {run.ExitStatus}): {LogSpaceProbe.FirstLine(run.Stderr)}",
                    "Check that you are logged in as root and the crontab exists, then retry.");
            }
            var pid = RemoteOps.ParseLong(System.Text.Encoding.ASCII.GetString(output, 0, newline));
            var crontab = new byte[output.Length - newline - 1];
            Array.Copy(output, newline + 1, crontab, 0, crontab.Length);
            return new CronChange
            {
                Entries = Crontab.Parse(crontab).RotationEntries().ToArray(),
                CrondPid = pid.HasValue ? (int)pid.Value : (int?)null,
            };
        }

        private static CronChange Edit(IEsxiShell shell, CronPaths paths, CancellationToken ct, Action<string>? verbose, Action<Crontab, bool> edit)
        {
            var token = AcquireLock(shell, paths, ct, verbose);
            try
            {
                var (original, mode, owner) = Read(shell, paths, ct);
                var tab = Crontab.Parse(original ?? Array.Empty<byte>());
                var entriesBefore = tab.RotationEntries();
                edit(tab, original == null);
                var updated = tab.ToBytes();
                var after = tab.RotationEntries();
                var change = new CronChange
                {
                    Entries = after.ToArray(),
                    RemovedEntries = entriesBefore.Where(b => !after.Any(a => a.ToLine() == b.ToLine())).ToArray(),
                };
                if (original != null && updated.Length == 0 && change.RemovedEntries.Any(e => e.CreatedFile))
                {
                    // Our Register created the crontab (there was none) and only our lines were in it:
                    // it goes, so the host is as it was before.
                    RemoveCreatedCrontab(shell, paths, original, ct);
                    change.Changed = true;
                    change.CrondPid = ReloadCrond(shell, paths, ct);
                    verbose?.Invoke($"{shell.HostName}: crontab removed (this module had created it), crond reloaded (pid {change.CrondPid}).");
                    return change;
                }
                // Nothing to write (no crontab and nothing to remove creates none).
                if (original == null ? updated.Length == 0 : updated.AsSpanEquals(original))
                {
                    var (pid, stale) = ReadPid(shell, paths, ct);
                    if (!stale)
                    {
                        verbose?.Invoke($"{shell.HostName}: crontab already up to date; not rewritten.");
                        change.CrondPid = pid;
                        return change;
                    }
                    // Up to date, but crond started before the crontab's last change (a run that died
                    // between its rename and its reload): the change is not active until crond reloads.
                    change.CrondPid = ReloadCrond(shell, paths, ct);
                    change.Reloaded = true;
                    verbose?.Invoke($"{shell.HostName}: crontab up to date, but crond (pid {pid}) started before its last change: reloaded (pid {change.CrondPid}).");
                    return change;
                }
                Write(shell, paths, updated, original, mode ?? "600", owner, ct);
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

        /// <summary>How often the read is repeated when the crontab changed between its stat and its copy.</summary>
        private const int ReadAttempts = 5;

        private static (byte[]? Bytes, string? Mode, string? Owner) Read(IEsxiShell shell, CronPaths paths, CancellationToken ct)
        {
            for (var attempt = 1; ; attempt++)
            {
                var meta = RemoteOps.Run(shell, RemoteCommand.FromScript("crontab-stat.sh", paths.CrontabPath), ct);
                var lines = meta.Stdout.Replace("\r", string.Empty).Split(new[] { '\n' }, StringSplitOptions.RemoveEmptyEntries);
                if (meta.Succeeded && lines.Length > 0 && lines[0].Trim() == "missing") return (null, null, null);
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
                    bytes = RemoteOps.RunBytes(shell, RemoteCommand.Exec("cat", paths.CrontabPath), MaxCrontabBytes, ct, out _);
                }
                catch (CappedMemoryStream.CapExceededException)
                {
                    throw new RemediationException(HostRemediationErrorIds.CrontabReadFailed, ErrorCategory.LimitsExceeded,
                        $"{paths.CrontabPath} on '{shell.HostName}' is larger than {MaxCrontabBytes} bytes; refusing to edit it.",
                        "Inspect the crontab by hand.");
                }
                if (bytes.LongLength == size && Md5(bytes) == expectedMd5) return (bytes, head[0], head[1]);
                // Someone writing the crontab between the stat and the copy (an admin's edit) also
                // gives a mismatch: read again; only a mismatch that persists is the transport's.
                if (attempt < ReadAttempts) continue;
                throw new RemediationException(HostRemediationErrorIds.CrontabReadFailed, ErrorCategory.InvalidResult,
                    $"The copy of {paths.CrontabPath} read from '{shell.HostName}' does not match the file ({bytes.Length} of {size} bytes, md5 differs) in {ReadAttempts} reads; nothing was changed.",
                    "Retry; if it persists, the SSH layer altered bytes: report it.");
            }
        }

        /// <param name="original">The crontab as read under the lock; null when there was none.</param>
        private static void Write(IEsxiShell shell, CronPaths paths, byte[] content, byte[]? original, string mode, string? owner, CancellationToken ct)
        {
            var temp = paths.CrontabPath + ".mtv-tmp." + Guid.NewGuid().ToString("N").Substring(0, 12);
            try
            {
                var created = RemoteOps.Run(shell, RemoteCommand.FromScript("crontab-temp.sh", temp, mode, owner ?? "0:0"), ct);
                if (!created.Succeeded) throw WriteFailed(shell, paths, created, "creating the new crontab");
                // Pieces sized by their encoded length: a non-ASCII run is 4x longer on the wire.
                var room = RemoteOps.RoomForData(RemoteCommand.FromScript("crontab-append.sh", temp, string.Empty));
                foreach (var piece in RemoteOps.PrintfChunks(content, 0, content.Length, room))
                {
                    var w = RemoteOps.Run(shell, RemoteCommand.FromScript("crontab-append.sh", temp, piece.Format), ct);
                    if (!w.Succeeded) throw WriteFailed(shell, paths, w, "writing the new crontab");
                }
                var fin = RemoteOps.Run(shell, RemoteCommand.FromScript("crontab-replace.sh",
                    temp, paths.CrontabPath, content.Length.ToString(CultureInfo.InvariantCulture), Md5(content),
                    original == null ? "missing" : Md5(original), (original?.Length ?? 0).ToString(CultureInfo.InvariantCulture), paths.ReloadPending), ct);
                if (fin.ExitStatus == 10)
                {
                    throw new RemediationException(HostRemediationErrorIds.CrontabChangedMeanwhile, ErrorCategory.ResourceBusy,
                        $"{paths.CrontabPath} on '{shell.HostName}' was changed by someone else while this edit was prepared; it was not replaced, so that change is kept. The crontab was not changed by this command.",
                        "Run the command again: it reads the crontab afresh.");
                }
                if (fin.ExitStatus == 9)
                {
                    throw new RemediationException(HostRemediationErrorIds.CrontabChangedMeanwhile, ErrorCategory.WriteError,
                        $"{paths.CrontabPath} on '{shell.HostName}' was rewritten by someone else while this edit replaced it, and their version could not be put back (exit 9: no room on /var?). The crontab now holds this command's edit of the version read before.",
                        "Compare the crontab with the other edit and redo it; free space on /var first.");
                }
                if (!fin.Succeeded) throw WriteFailed(shell, paths, fin, fin.ExitStatus == 6 ? "verifying the new crontab" : "replacing the crontab");
            }
            catch
            {
                try { RemoteOps.Run(shell, RemoteCommand.Exec("rm", "-f", temp), CancellationToken.None, TimeSpan.FromSeconds(15)); }
                catch (RemediationException) { }
                throw;
            }
        }

        private static void RemoveCreatedCrontab(IEsxiShell shell, CronPaths paths, byte[] original, CancellationToken ct)
        {
            var r = RemoteOps.Run(shell, RemoteCommand.FromScript("crontab-remove.sh",
                paths.CrontabPath, Md5(original), original.Length.ToString(CultureInfo.InvariantCulture), paths.ReloadPending), ct);
            if (r.ExitStatus == 10)
            {
                throw new RemediationException(HostRemediationErrorIds.CrontabChangedMeanwhile, ErrorCategory.ResourceBusy,
                    $"{paths.CrontabPath} on '{shell.HostName}' was changed by someone else while this command removed it; it was put back, so that change is kept. The crontab was not changed by this command.",
                    "Run the command again: it reads the crontab afresh.");
            }
            if (!r.Succeeded) throw WriteFailed(shell, paths, r, "removing the crontab");
        }

        private static RemediationException WriteFailed(IEsxiShell shell, CronPaths paths, RemoteCommandResult r, string what) =>
            new RemediationException(HostRemediationErrorIds.CrontabWriteFailed, ErrorCategory.WriteError,
                $"Failed {what} for {paths.CrontabPath} on '{shell.HostName}' (exit {r.ExitStatus}): {LogSpaceProbe.FirstLine(r.Stderr)}. The crontab was not changed.",
                "If /var is full, free space first.")
            { Next = NextCommand.ClearWrapperLog, NextTarget = shell.HostName, RerunCompletes = true };

        /// <summary>
        /// ESXi reload: kill the crond in the pid file, wait for it to exit, start BusyBox crond,
        /// wait for a new live pid in the pid file. Returns the new pid. BusyBox crond runs jobs
        /// with $SHELL, so it is pinned to /bin/sh (what root has on ESXi) whatever the session set.
        /// </summary>
        public static int ReloadCrond(IEsxiShell shell, CronPaths paths, CancellationToken ct)
        {
            var r = RemoteOps.Run(shell, RemoteCommand.FromScript("crond-reload.sh", paths.PidFile, paths.Busybox, paths.ReloadPending), ct, TimeSpan.FromSeconds(90));
            var pid = RemoteOps.ParseLong(r.Stdout);
            if (!r.Succeeded || pid == null)
            {
                throw new RemediationException(HostRemediationErrorIds.CrondReloadFailed, ErrorCategory.ResourceUnavailable,
                    $"The crontab was written but crond on '{shell.HostName}' did not restart with a new pid (exit {r.ExitStatus}): {LogSpaceProbe.FirstLine(r.Stderr)}",
                    $"Start it by hand on the host: {paths.Busybox} crond");
            }
            return (int)pid.Value;
        }

        /// <summary>The live crond's pid (null: not running), and whether the crontab changed after it started.</summary>
        public static (int? Pid, bool Stale) ReadPid(IEsxiShell shell, CronPaths paths, CancellationToken ct)
        {
            var r = RemoteOps.Run(shell, RemoteCommand.FromScript("crond-pid.sh", paths.PidFile, paths.CrontabPath, paths.ReloadPending), ct);
            var lines = r.Stdout.Replace("\r", "").Split('\n');
            var pid = RemoteOps.ParseLong(lines[0]);
            return (pid.HasValue ? (int)pid.Value : (int?)null, pid.HasValue && lines.Length > 1 && lines[1].Trim() == "stale");
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
                var r = RemoteOps.Run(shell, RemoteCommand.FromScript("crontab-lock.sh", paths.LockDir, token, stale), ct);
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
                RemoteOps.Run(shell, RemoteCommand.FromScript("crontab-unlock.sh", paths.LockDir, token), CancellationToken.None, TimeSpan.FromSeconds(15));
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
