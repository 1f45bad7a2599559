using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Text;
using System.Threading;
using MtvRemediation.Esxi;
using MtvRemediation.Infrastructure;

namespace MtvRemediation.Wrapper
{
    /// <summary>
    /// Removes clone task directories that wrappers before 0.3.1 never remove (the 2.9/2.10 Python
    /// taskClean removes only the RDM files; a failed clone whose taskClean never ran leaves its
    /// directory in any version), so they fill the /tmp ramdisk over a migration wave. A directory
    /// is removed only when its task's process is gone and it is older than the limit, checked on
    /// the host right before rm (Scripts/wrapper-task-remove.sh). With an archive directory, the
    /// exit codes and stderr are saved locally first, so no failure evidence is lost.
    /// </summary>
    internal static class WrapperTaskCleanup
    {
        private const int ErrBytes = 4096;

        /// <summary>The directories the removal would consider: not running and older than the limit (from a fresh inventory).</summary>
        public static List<WrapperTaskDirectory> Candidates(VmkfstoolsWrapperInfo info, TimeSpan olderThan, DateTime nowUtc, List<string> kept)
        {
            var list = new List<WrapperTaskDirectory>();
            foreach (var t in info.TaskDirectories)
            {
                if (t.Running) { kept.Add($"{t.Path}: running (pid {t.Pid})"); continue; }
                if (!t.LastWriteTime.HasValue || nowUtc - t.LastWriteTime.Value < olderThan) { kept.Add($"{t.Path}: newer than the age limit"); continue; }
                list.Add(t);
            }
            return list;
        }

        public static WrapperTaskCleanupResult Remove(IEsxiShell shell, VmkfstoolsWrapperInfo info, IReadOnlyList<WrapperTaskDirectory> chosen, TimeSpan olderThan,
            string? archiveDirectory, List<string> kept, CancellationToken ct)
        {
            var result = new WrapperTaskCleanupResult { VMHost = shell.HostName, OlderThanDays = olderThan.TotalDays };
            if (chosen.Count == 0) { result.Kept = kept.ToArray(); return result; }
            if (archiveDirectory != null) result.ArchiveFile = WriteArchive(archiveDirectory, shell.HostName, chosen);

            var args = new List<string> { ((long)olderThan.TotalSeconds).ToString(CultureInfo.InvariantCulture), ErrBytes.ToString(CultureInfo.InvariantCulture) };
            args.AddRange(chosen.Select(t => t.TaskId));
            var run = RemoteOps.Run(shell, RemoteCommand.FromScript("wrapper-task-remove.sh", args.ToArray()), ct);
            var byId = chosen.ToDictionary(t => t.TaskId, StringComparer.Ordinal);
            var stderr = new Dictionary<string, string>(StringComparer.Ordinal);
            var removed = new List<WrapperTaskDirectory>();
            foreach (var line in run.Stdout.Split('\n'))
            {
                var cols = line.Split(new[] { '\t' }, 3);
                if (cols.Length < 2 || !byId.TryGetValue(cols[1], out var t)) continue;
                switch (cols[0])
                {
                    case "C":
                        t.ExitCode = cols.Length > 2 && int.TryParse(cols[2], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var c) ? c : (int?)null;
                        break;
                    case "E":
                        stderr[t.TaskId] = cols.Length > 2 ? WrapperInventory.ErrText(Field(cols[2])) : "";
                        break;
                    case "R":
                        if (stderr.TryGetValue(t.TaskId, out var e)) t.Stderr = e;
                        removed.Add(t);
                        break;
                    case "S":
                        kept.Add($"{t.Path}: {(cols.Length > 2 ? cols[2] : "skipped")}");
                        break;
                    case "F":
                        kept.Add($"{t.Path}: rm failed: {(cols.Length > 2 ? HostText.Printable(Field(cols[2])) : "")}");
                        break;
                }
            }
            result.Removed = removed.ToArray();
            result.BytesFreed = removed.Sum(t => t.Bytes);
            result.Kept = kept.ToArray();
            if (!run.Stdout.Contains("@@end"))
                throw new RemediationException(WrapperErrorIds.TaskRemoveFailed, ErrorCategory.WriteError,
                    $"{shell.HostName}: the task directory removal was cut short after {removed.Count} of {chosen.Count} (exit status {run.ExitStatus}). {run.Stderr.Trim()}".Trim(),
                    "See what is left on the host.")
                { Next = NextCommand.ListWrapper, NextTarget = shell.HostName, RerunCompletes = true };
            return result;
        }

        /// <summary>Removes the given task directories (no age limit; never a running one). Returns one action line per directory.</summary>
        public static List<string> RemoveByPath(IEsxiShell shell, IReadOnlyList<string> paths, CancellationToken ct)
        {
            var args = new List<string> { "0", ErrBytes.ToString(CultureInfo.InvariantCulture) };
            foreach (var p in paths) args.Add(p.Substring(WrapperInventory.TaskDirectoryPrefix.Length));
            var run = RemoteOps.Run(shell, RemoteCommand.FromScript("wrapper-task-remove.sh", args.ToArray()), ct);
            var lines = new List<string>();
            foreach (var line in run.Stdout.Split('\n'))
            {
                var cols = line.Split(new[] { '\t' }, 3);
                if (cols.Length < 2) continue;
                var path = WrapperInventory.TaskDirectoryPrefix + HostText.Printable(Field(cols[1]));
                if (cols[0] == "R") lines.Add($"Removed the failed clone task directory {path} (its 7228 is answered by the reset)");
                else if (cols[0] == "S") lines.Add($"Left the clone task directory {path} in place: {(cols.Length > 2 ? cols[2] : "")}");
                else if (cols[0] == "F") lines.Add($"Left the clone task directory {path} in place: {(cols.Length > 2 ? HostText.Printable(Field(cols[2])) : "")}");
            }
            if (!run.Stdout.Contains("@@end"))
                throw new RemediationException(WrapperErrorIds.TaskRemoveFailed, ErrorCategory.WriteError,
                    $"{shell.HostName}: removing the answered task directories was cut short (exit status {run.ExitStatus}). {run.Stderr.Trim()}".Trim(),
                    "List the task directories left on the host and remove the answered ones.")
                { Next = NextCommand.RemoveWrapperTaskDirectories, NextTarget = shell.HostName };
            return lines;
        }

        // A field of the removal script's output: a malformed one is kept as it arrived (it only
        // describes what the host did, which the @@end check already vouches for).
        private static string Field(string field)
        {
            try { return HostField.Decode(field); }
            catch (FormatException) { return field; }
        }

        // Written before anything is removed: the evidence survives even if the removal fails halfway.
        private static string WriteArchive(string directory, string host, IReadOnlyList<WrapperTaskDirectory> tasks)
        {
            Directory.CreateDirectory(directory);
            var path = OwnerOnlyFile.UniquePath(directory, $"{OwnerOnlyFile.SafeName(host)}_vmkfstools-wrapper-tasks_{DateTime.UtcNow:yyyyMMddTHHmmssZ}", ".json");
            var sb = new StringBuilder("[\n");
            for (var i = 0; i < tasks.Count; i++)
            {
                var t = tasks[i];
                sb.Append("  {\"vmHost\": ").Append(JsonOut.Quote(host))
                  .Append(", \"path\": ").Append(JsonOut.Quote(t.Path))
                  .Append(", \"lastWriteTime\": ").Append(t.LastWriteTime.HasValue ? JsonOut.Quote(t.LastWriteTime.Value.ToString("o", CultureInfo.InvariantCulture)) : "null")
                  .Append(", \"exitCode\": ").Append(t.ExitCode.HasValue ? t.ExitCode.Value.ToString(CultureInfo.InvariantCulture) : "null")
                  .Append(", \"sourceDisk\": ").Append(t.SourceDisk == null ? "null" : JsonOut.Quote(t.SourceDisk))
                  .Append(", \"stderr\": ").Append(JsonOut.Quote(t.Stderr)).Append('}')
                  .Append(i < tasks.Count - 1 ? ",\n" : "\n");
            }
            sb.Append("]\n");
            // Owner-only (0600) before any byte is written: failed tasks' stderr names datastores and VMs.
            // Written as .partial and renamed when complete: a client that dies meanwhile leaves no
            // archive that looks whole (nothing was removed yet; the re-run archives again).
            var bytes = new UTF8Encoding(false).GetBytes(sb.ToString());
            var partial = path + ".partial";
            using (var fs = OwnerOnlyFile.CreateNew(partial))
            {
                fs.Write(bytes, 0, bytes.Length);
                fs.Flush(true);
            }
            File.Move(partial, path);
            return path;
        }
    }
}
