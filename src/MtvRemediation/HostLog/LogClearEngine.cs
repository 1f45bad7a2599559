using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Management.Automation;
using System.Security.Cryptography;
using System.Text;
using System.Threading;
using MtvRemediation.Esxi;
using MtvRemediation.Infrastructure;

namespace MtvRemediation.HostLog
{
    internal sealed class LogClearRequest
    {
        public string LogPath { get; set; } = LogSpaceOptions.DefaultLogPath;

        /// <summary>
        /// The space as the caller's host read found it (the cmdlet's pre-check, the runbook's
        /// diagnosis); null: measured here. The size truncated is read again right before.
        /// </summary>
        public LogSpaceStatus? Before { get; set; }

        /// <summary>Local directory for the compressed copy; null: no archive.</summary>
        public string? ArchiveDirectory { get; set; }

        /// <summary>Time in the archive's name (UTC; default: now). The runbook passes its run time, so a run's report and archives share one stamp.</summary>
        public DateTime? ArchiveStamp { get; set; }

        /// <summary>Lines to keep at the end of the log (0: keep none).</summary>
        public int KeepLastLines { get; set; }

        /// <summary>Largest tail held in client memory between reading and writing it back.</summary>
        public long MaxKeptBytes { get; set; } = 32L * 1024 * 1024;

        /// <summary>
        /// Compress the archive with the host's gzip instead of here: about 10x fewer bytes on the
        /// wire for a distant host, at the cost of the host's CPU and of speed (BusyBox gzip on the
        /// host is 2-3x slower than compressing on the client).
        /// </summary>
        public bool CompressOnHost { get; set; }

        /// <summary>
        /// Local directory where the kept tail is saved before the log is truncated (deleted again
        /// once it is written back). Null: the archive directory when given, else the user's own
        /// MtvRemediation/kept-tails under local application data (0700).
        /// </summary>
        public string? KeptTailDirectory { get; set; }

        /// <summary>
        /// An interrupted write-back of this host and log to finish instead of a new clear (its
        /// re-run): the log now holds the start of the tail and the wrapper's lines since, and a new
        /// truncation would drop what is being restored.
        /// </summary>
        public KeptTailRecord? Resume { get; set; }

        /// <summary>Where the kept tail's record goes (<see cref="KeptTailRecord"/>); null: the user's private kept-tails directory, where every later run looks.</summary>
        public string? RecordDirectory { get; set; }

        /// <summary>Limit for writing the kept tail back once the log is truncated (Ctrl+C does not stop that step).</summary>
        public TimeSpan WriteBackTimeout { get; set; } = TimeSpan.FromMinutes(10);

        /// <summary>Limit for commands that read the whole log (archive, hash, tail search).</summary>
        public TimeSpan ArchiveTimeout { get; set; } = TimeSpan.FromMinutes(30);
    }

    /// <summary>
    /// Truncates the wrapper log in place (same inode, so the wrapper's open descriptor keeps
    /// working and the space is really freed), optionally archiving it to the client first. Every
    /// command that reads or changes the log checks the path with the one log-path rule
    /// (Scripts/logpath.sh) first: a symlink or non-regular file there is refused, never followed.
    ///
    /// Consistency: the log may grow while we work. We archive a fixed prefix [0, S0) and verify it,
    /// then fetch everything after the part to drop ([keepFrom, end): the -KeepLastLines tail plus
    /// whatever was appended meanwhile) and truncate ONLY if the file still has exactly the size we
    /// fetched; the first piece of the kept bytes is written back in the same remote command as the
    /// truncation. A writer appending between that check and the truncation would lose its bytes
    /// (the wrapper appends from processes of its own; sh has no compare-and-truncate), so the
    /// last check is a read at that size on a descriptor of the log in the same shell, right before
    /// the truncation (Scripts/log-truncate.sh): the gap is a few system calls of one process, not
    /// a process start. Measured with BusyBox ash and a writer appending a line every 100 ms, on
    /// a machine at load 12 (2 cores): the stat-then-truncate lost 90 lines in 230 truncations,
    /// the read-then-truncate 5 in 327 (the shell descheduled right after the read). That gap
    /// cannot be closed from a shell; it is the one place where a line can still go, and on an
    /// idle host it is microseconds. When the log grows during every try, nothing is truncated
    /// (no unconditional last try). A tail larger than that piece is saved to a local file (0600) BEFORE the
    /// truncation, and the write-back that follows is not interrupted by Ctrl+C (bounded by
    /// <see cref="LogClearRequest.WriteBackTimeout"/>): so nothing is lost unless the client dies,
    /// and even then the tail is in that file, with a record (<see cref="KeptTailRecord"/>) that
    /// every later run names and whose re-run finishes it. A write-back that fails says exactly what was
    /// truncated, what was written back and where the saved tail is. The archive, when asked for,
    /// is complete before any of that starts. Nothing is written on the log's volume before space
    /// is freed, so a 100% full /var works, and nothing at all is written to /tmp.
    /// </summary>
    internal static class LogClearEngine
    {
        // A writer appending every 100 ms races each fetch-then-truncate; on a loaded client a round
        // trip can take that long, so 4 tries ran out. There is no unconditional last try any more
        // (it truncated whatever the writer had added meanwhile): when every try races, nothing is
        // truncated and the cmdlet says so.
        internal const int Attempts = 16;

        public static LogClearResult Clear(IEsxiShell shell, LogClearRequest request, CancellationToken ct, Action<string>? verbose = null)
        {
            var probeOptions = new LogSpaceOptions { LogPath = request.LogPath };
            var before = request.Before ?? LogSpaceProbe.Measure(shell, probeOptions, ct);
            var result = new LogClearResult
            {
                VMHost = shell.HostName,
                LogPath = request.LogPath,
                LogExists = before.LogExists,
                BytesBefore = before.LogSizeBytes,
                UsedPercentBefore = before.UsedPercent,
            };
            if (request.Resume != null)
            {
                var appended = ResumeWriteBack(shell, request.Resume, 2 * request.MaxKeptBytes + ArchiveChunkBytes, ct, verbose);
                result.KeptBytes = request.Resume.TailBytes;
                result.Note = appended > 0
                    ? $"finished the interrupted write-back of {request.LogPath}: appended the {appended} bytes of the kept tail that had not reached the host (from {request.Resume.TailFile}, now deleted); nothing else was truncated."
                    : $"the kept tail of the interrupted write-back of {request.LogPath} was already all on the host; {request.Resume.TailFile} deleted, nothing else was truncated.";
                var now = LogSpaceProbe.Measure(shell, probeOptions, ct);
                result.LogExists = now.LogExists;
                result.BytesAfter = now.LogSizeBytes;
                result.UsedPercentAfter = now.UsedPercent;
                return result;
            }
            if (!before.LogExists)
            {
                verbose?.Invoke($"{shell.HostName}: {request.LogPath} does not exist; nothing to clear.");
                result.UsedPercentAfter = before.UsedPercent;
                return result;
            }

            var s0 = CurrentSize(shell, request.LogPath, ct) ?? 0;
            var keepFrom = s0;
            if (request.KeepLastLines > 0)
            {
                // The pipe text holds only a formatted integer (no user text to quote).
                var lengthRun = RemoteOps.Run(shell, ReadRange(request.LogPath, 0, s0, "tail-bytes", Str(request.KeepLastLines)), ct, request.ArchiveTimeout);
                ThrowIfRefused(shell, request.LogPath, lengthRun, changedNothing: true);
                var tailLength = RemoteOps.ParseLong(lengthRun.Stdout) ?? 0;
                if (tailLength >= s0)
                {
                    // Keeping every line would rewrite the whole log for nothing.
                    result.Note = $"{request.LogPath} holds no more than {request.KeepLastLines} lines ({s0} bytes): nothing to truncate, nothing was changed.";
                    verbose?.Invoke($"{shell.HostName}: {result.Note}");
                    result.BytesAfter = s0;
                    result.KeptBytes = s0;
                    result.UsedPercentAfter = before.UsedPercent;
                    return result;
                }
                if (tailLength > request.MaxKeptBytes)
                {
                    throw new RemediationException(HostRemediationErrorIds.LogClearFailed, ErrorCategory.LimitsExceeded,
                        $"The last {request.KeepLastLines} lines of {request.LogPath} on '{shell.HostName}' are {tailLength} bytes, more than the {request.MaxKeptBytes} bytes this command holds in memory. Nothing was truncated.",
                        "Use a smaller -KeepLastLines, or -ArchivePath to keep the whole log locally.");
                }
                keepFrom = s0 - tailLength;
            }

            // The archive is complete before anything is truncated.
            if (request.ArchiveDirectory != null)
            {
                result.ArchiveFile = Archive(shell, request.LogPath, s0, request.ArchiveDirectory, request.ArchiveStamp ?? DateTime.UtcNow, request.CompressOnHost, request.ArchiveTimeout, ct, verbose);
            }

            result.KeptBytes = TruncateKeepingFrom(shell, request, keepFrom, ct, verbose);

            var after = LogSpaceProbe.Measure(shell, probeOptions, ct);
            result.BytesAfter = after.LogSizeBytes;
            result.UsedPercentAfter = after.UsedPercent;
            result.FreedBytes = Math.Max(0, result.BytesBefore - result.BytesAfter);
            return result;
        }

        internal static long? CurrentSize(IEsxiShell shell, string path, CancellationToken ct)
        {
            var r = RemoteOps.Run(shell, RemoteCommand.FromScript("log-size.sh", path), ct);
            if (r.ExitStatus == LogPathRule.MissingExitStatus) return null;
            ThrowIfRefused(shell, path, r, changedNothing: true);
            return RemoteOps.ParseLong(r.Stdout);
        }

        /// <summary>The log-path rule refused the path in this command (exit 9): the cmdlet's error, with what was done so far.</summary>
        private static void ThrowIfRefused(IEsxiShell shell, string path, RemoteCommandResult r, bool changedNothing)
        {
            if (r.ExitStatus != LogPathRule.RefusedExitStatus) return;
            var kind = LogPathRule.ParseKind(r.Stderr.Replace("logpath_kind", string.Empty));
            throw LogPathRule.Refused(shell.HostName, path, kind, null, changedNothing);
        }

        /// <summary>Drops bytes [0, keepFrom) of the log in place; returns how many bytes remain from before.</summary>
        private static long TruncateKeepingFrom(IEsxiShell shell, LogClearRequest request, long keepFrom, CancellationToken ct, Action<string>? verbose)
        {
            var path = request.LogPath;
            var maxKept = request.MaxKeptBytes;
            for (var attempt = 1; attempt <= Attempts; attempt++)
            {
                byte[] kept;
                RemoteCommandResult read;
                try
                {
                    // tail -c +N seeks on a regular file, but a slow host may still take a while on a huge log.
                    kept = RemoteOps.RunBytes(shell, RemoteCommand.FromScript("log-tail.sh", path, Str(keepFrom + 1)), maxKept, ct, out read, request.ArchiveTimeout);
                }
                catch (CappedMemoryStream.CapExceededException)
                {
                    throw new RemediationException(HostRemediationErrorIds.LogClearFailed, ErrorCategory.LimitsExceeded,
                        $"More than {maxKept} bytes would have to be kept from {path} on '{shell.HostName}' (the log grows fast). Nothing was truncated.",
                        "Run the command again; use -ArchivePath to keep the whole log locally.");
                }
                if (read.ExitStatus == LogPathRule.MissingExitStatus) return 0; // rotated away by someone else: nothing left to clear
                ThrowIfRefused(shell, path, read, changedNothing: true);
                if (!read.Succeeded)
                {
                    throw new RemediationException(HostRemediationErrorIds.LogClearFailed, ErrorCategory.ReadError,
                        $"Reading the part of {path} to keep on '{shell.HostName}' failed (exit {read.ExitStatus}): {LogSpaceProbe.FirstLine(read.Stderr)}. Nothing was truncated.",
                        "Check the log file on the host, then retry.");
                }
                var expected = Str(keepFrom + kept.Length);
                var room = RemoteOps.RoomForData(RemoteCommand.FromScript("log-truncate.sh", path, expected, string.Empty));
                var chunks = RemoteOps.PrintfChunks(kept, 0, kept.Length, room);
                var rest = chunks.Count > 1 ? AppendPieces(path, kept, chunks[0].Count) : new List<(int Offset, int Count, string Format)>();
                // More than the truncating command carries: keep a local copy, and the record of
                // what it belongs to, until it is all back.
                var record = chunks.Count > 1 ? SaveKeptTail(request, shell.HostName, kept, keepFrom, chunks[0], rest) : null;
                var savedTail = record?.TailFile;
                RemoteCommandResult r;
                try
                {
                    r = RemoteOps.Run(shell, RemoteCommand.FromScript("log-truncate.sh", path, expected, chunks.Count > 0 ? chunks[0].Format : string.Empty), ct);
                }
                catch
                {
                    // Cancelled or lost before an answer: the log may or may not be truncated; the tail stays saved.
                    if (savedTail != null) verbose?.Invoke($"{shell.HostName}: the truncation of {path} did not answer; the part to keep is saved in {savedTail}.");
                    throw;
                }
                if (r.ExitStatus != 0) record?.Delete(); // nothing truncated: the copy is not needed
                if (r.ExitStatus == 3)
                {
                    verbose?.Invoke($"{shell.HostName}: {path} grew while clearing it; fetching the new tail (attempt {attempt}).");
                    continue;
                }
                if (r.ExitStatus == LogPathRule.MissingExitStatus) return 0;
                ThrowIfRefused(shell, path, r, changedNothing: true);
                if (!r.Succeeded)
                {
                    throw new RemediationException(HostRemediationErrorIds.LogClearFailed, ErrorCategory.WriteError,
                        $"Truncating {path} on '{shell.HostName}' failed (exit {r.ExitStatus}): {LogSpaceProbe.FirstLine(r.Stderr)}",
                        "Check the file's permissions and that the path is a regular file, then retry.");
                }
                WriteBack(shell, path, keepFrom, kept, chunks.Count > 0 ? chunks[0].Count : 0, rest, record, request.WriteBackTimeout, verbose);
                return kept.Length;
            }
            throw new RemediationException(HostRemediationErrorIds.LogClearFailed, ErrorCategory.OperationTimeout,
                $"{path} on '{shell.HostName}' grew during each of {Attempts} tries to truncate it (a writer that never pauses). Nothing was truncated{(request.ArchiveDirectory != null ? " (the archive was kept)" : string.Empty)}.",
                "Retry when the host is less busy (no clone running), or pause the MTV migration that writes the log.");
        }

        /// <summary>The pieces after the first one [from, end) of the tail, cut for the append command (less text around the data).</summary>
        private static List<(int Offset, int Count, string Format)> AppendPieces(string path, byte[] kept, int from)
        {
            var room = RemoteOps.RoomForData(RemoteCommand.FromScript("log-append.sh", path, string.Empty));
            return RemoteOps.PrintfChunks(kept, from, kept.Length - from, room);
        }

        /// <summary>
        /// Appends the kept tail after the first piece. Deliberately not cancellable: the log is
        /// already truncated, so stopping now would lose the tail on the host; the step is bounded
        /// by the write-back timeout instead, and the tail is saved locally until it is all back.
        /// </summary>
        private static void WriteBack(IEsxiShell shell, string path, long keepFrom, byte[] kept, int written,
            List<(int Offset, int Count, string Format)> rest, KeptTailRecord? record, TimeSpan timeout, Action<string>? verbose)
        {
            if (rest.Count == 0) return;
            var savedTail = record?.TailFile;
            var deadline = DateTime.UtcNow + timeout;
            verbose?.Invoke($"{shell.HostName}: writing back {kept.Length - written} kept bytes of {path} in {rest.Count} pieces (saved meanwhile in {savedTail}; Ctrl+C does not interrupt this step).");
            foreach (var piece in rest)
            {
                string? failure = null;
                try
                {
                    var left = deadline - DateTime.UtcNow;
                    if (left <= TimeSpan.Zero) failure = $"the write-back took longer than {timeout.TotalSeconds:0} s";
                    else
                    {
                        var w = RemoteOps.Run(shell, RemoteCommand.FromScript("log-append.sh", path, piece.Format), CancellationToken.None,
                            left < RemoteOps.ShortTimeout ? left : RemoteOps.ShortTimeout);
                        if (w.ExitStatus == LogPathRule.RefusedExitStatus) failure = "the log path stopped being a regular file (it is now a link or something else)";
                        else if (!w.Succeeded) failure = $"exit {w.ExitStatus}: {LogSpaceProbe.FirstLine(w.Stderr)}";
                    }
                }
                catch (Exception ex) when (ex is RemediationException || ex is EsxiShellException || ex is TimeoutException || ex is System.IO.IOException)
                {
                    failure = ex.Message;
                }
                if (failure != null)
                {
                    throw new RemediationException(HostRemediationErrorIds.LogWriteBackFailed, ErrorCategory.WriteError,
                        $"{path} on '{shell.HostName}' WAS truncated: bytes 0-{keepFrom} were dropped as asked, but writing back the {kept.Length} bytes to keep failed after {written} bytes ({failure}). " +
                        $"The log now holds those {written} bytes and whatever the wrapper wrote since. The whole part to keep is saved locally in {savedTail}.",
                        record != null ? $"Run {record.ResumeCommand} to write back the rest (or, with -Confirm, to discard it)." : "Run the command again.");
                }
                written += piece.Count;
            }
            record?.Delete();
        }

        /// <summary>
        /// Finishes an interrupted write-back from its record: finds which pieces of the tail reached
        /// the host and appends the rest, each piece once. A piece reached the host when its bytes
        /// are in the log after the pieces before it (the wrapper's own lines may lie between them);
        /// the first piece not found and everything after it are appended. A log that was never
        /// truncated still holds the whole tail: nothing is written. Returns the bytes appended.
        /// </summary>
        public static long ResumeWriteBack(IEsxiShell shell, KeptTailRecord record, long maxLogBytes, CancellationToken ct, Action<string>? verbose = null)
        {
            var kept = File.ReadAllBytes(record.TailFile);
            if (kept.LongLength != record.TailBytes || record.PieceEnds.Length == 0 || record.PieceEnds[record.PieceEnds.Length - 1] != kept.LongLength)
            {
                throw new RemediationException(HostRemediationErrorIds.LogWriteBackFailed, ErrorCategory.InvalidData,
                    $"The saved tail {record.TailFile} does not match its record {record.RecordFile} ({kept.LongLength} of {record.TailBytes} bytes); nothing was written to {record.LogPath} on '{shell.HostName}'.",
                    "Append the saved tail to the log by hand if you need it, then delete both files (or discard them with -Confirm).");
            }
            byte[] log;
            RemoteCommandResult read;
            try
            {
                log = RemoteOps.RunBytes(shell, RemoteCommand.FromScript("log-tail.sh", record.LogPath, "1"), maxLogBytes, ct, out read);
            }
            catch (CappedMemoryStream.CapExceededException)
            {
                throw new RemediationException(HostRemediationErrorIds.LogWriteBackFailed, ErrorCategory.LimitsExceeded,
                    $"{record.LogPath} on '{shell.HostName}' is larger than the {maxLogBytes} bytes read to find how much of the kept tail reached it; nothing was written. The tail stays saved in {record.TailFile}.",
                    "Append the saved tail to the log by hand if you need it, or discard it with -Confirm.");
            }
            if (read.ExitStatus == LogPathRule.MissingExitStatus) log = Array.Empty<byte>();
            else
            {
                ThrowIfRefused(shell, record.LogPath, read, changedNothing: true);
                if (!read.Succeeded)
                {
                    throw new RemediationException(HostRemediationErrorIds.LogClearFailed, ErrorCategory.ReadError,
                        $"Reading {record.LogPath} on '{shell.HostName}' failed (exit {read.ExitStatus}): {LogSpaceProbe.FirstLine(read.Stderr)}. Nothing was written; the tail stays saved in {record.TailFile}.",
                        "Check the log file on the host, then retry.");
                }
            }
            var onHost = BytesOnHost(log, kept, record.PieceEnds);
            verbose?.Invoke($"{shell.HostName}: {onHost} of the {kept.Length} kept bytes of {record.LogPath} are on the host already; appending the rest.");
            if (onHost < kept.Length)
                WriteBack(shell, record.LogPath, record.DroppedBytes, kept, (int)onHost, AppendPieces(record.LogPath, kept, (int)onHost), record, TimeSpan.FromMinutes(10), verbose);
            else
                record.Delete();
            return kept.Length - onHost;
        }

        /// <summary>How many bytes of the tail, piece by piece in order, are in the log.</summary>
        internal static long BytesOnHost(byte[] log, byte[] kept, long[] pieceEnds)
        {
            var at = 0;
            long start = 0;
            foreach (var end in pieceEnds)
            {
                var found = IndexOf(log, kept, (int)start, (int)(end - start), at);
                if (found < 0) return start;
                at = found + (int)(end - start);
                start = end;
            }
            return start;
        }

        private static int IndexOf(byte[] haystack, byte[] source, int offset, int count, int from)
        {
            if (count == 0) return from;
            for (var i = from; i + count <= haystack.Length; i++)
            {
                i = Array.IndexOf(haystack, source[offset], i);
                if (i < 0 || i + count > haystack.Length) return -1;
                var j = 1;
                while (j < count && haystack[i + j] == source[offset + j]) j++;
                if (j == count) return i;
            }
            return -1;
        }

        /// <summary>Saves the part to keep in a new owner-only file, and its record; returns the record.</summary>
        private static KeptTailRecord SaveKeptTail(LogClearRequest request, string host, byte[] kept, long keepFrom,
            (int Offset, int Count, string Format) first, List<(int Offset, int Count, string Format)> rest)
        {
            var directory = request.KeptTailDirectory ?? request.ArchiveDirectory ?? OwnerOnlyFile.PrivateDirectory("kept-tails");
            Directory.CreateDirectory(directory);
            var file = UniqueName(directory, host, request.LogPath, ".kept-tail");
            using (var fs = OwnerOnlyFile.CreateNew(file))
            {
                fs.Write(kept, 0, kept.Length);
                fs.Flush(true);
            }
            var record = new KeptTailRecord
            {
                Host = host,
                LogPath = request.LogPath,
                TailFile = file,
                TailBytes = kept.Length,
                KeepLastLines = request.KeepLastLines,
                DroppedBytes = keepFrom,
                PieceEnds = new[] { (long)first.Offset + first.Count }.Concat(rest.Select(p => (long)p.Offset + p.Count)).ToArray(),
                TruncatedAt = DateTime.UtcNow,
                StartedBy = Environment.UserName + "@" + Environment.MachineName,
            };
            try { record.Save(request.RecordDirectory); }
            catch { TryDelete(file); throw; }
            return record;
        }

        private static void TryDelete(string file)
        {
            try { File.Delete(file); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }

        /// <summary>Streams a verified gzip of bytes [0, length) of the log into the archive directory; returns the file.</summary>
        private static string Archive(IEsxiShell shell, string path, long length, string directory, DateTime stamp, bool compressOnHost, TimeSpan timeout, CancellationToken ct, Action<string>? verbose)
        {
            Directory.CreateDirectory(directory);
            var file = UniqueName(directory, shell.HostName, path, ".gz", stamp);
            var partial = file + ".partial";
            var tools = RemoteOps.Run(shell, RemoteCommand.FromScript("archive-tools.sh"), ct).Stdout;
            var remoteGzip = compressOnHost && tools.Contains("gzip");
            if (compressOnHost && !remoteGzip)
                verbose?.Invoke($"{shell.HostName}: no gzip on the host; compressing the archive here instead.");
            var hashTool = tools.Contains("sha256sum") ? "sha256sum" : tools.Contains("md5sum") ? "md5sum" : null;
            // The host hashes the same prefix on a second channel of the session WHILE the archive
            // streams, so verification costs no extra pass in wall time (measured on a 512 MiB log:
            // gzip stream 9 s, sha256sum 8 s; one after the other they would add up).
            using var hashCancel = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var remoteHash = hashTool == null ? null : System.Threading.Tasks.Task.Run(() =>
                RemoteOps.Run(shell, ReadPrefix(path, length, hashTool), hashCancel.Token, timeout));
            try
            {
                // Owner-only from the first byte: logs hold paths and names an admin may consider private.
                using (var fs = OwnerOnlyFile.CreateNew(partial))
                {
                    RemoteCommandResult r;
                    if (remoteGzip)
                    {
                        // Saves bandwidth to a distant host; the pipe never touches the host's disks.
                        r = RemoteOps.RunStreaming(shell, ReadPrefix(path, length, "gzip"), fs, ct, timeout);
                    }
                    else
                    {
                        // The default: the host only reads the file, the client compresses (zlib's
                        // fastest level: 512 MiB of wrapper log in ~2 s here, 8-9x smaller; the host's
                        // BusyBox gzip took 9 s and a host core for the same).
                        // Read in 16 MiB ranges, one command each: SSH.NET buffers a command's output
                        // without back-pressure, so a client slower than the link (busy CPU, slow
                        // disk) would otherwise hold up to the whole log in memory.
                        using var gz = new GZipStream(fs, CompressionLevel.Fastest, leaveOpen: true);
                        r = new RemoteCommandResult(0, string.Empty, string.Empty, TimeSpan.Zero);
                        for (long offset = 0; offset < length && r.Succeeded; offset += ArchiveChunkBytes)
                            r = RemoteOps.RunStreaming(shell, ReadRange(path, offset, Math.Min(ArchiveChunkBytes, length - offset), string.Empty), gz, ct, timeout);
                    }
                    ThrowIfRefused(shell, path, r, changedNothing: true);
                    if (!r.Succeeded)
                    {
                        throw new RemediationException(HostRemediationErrorIds.ArchiveFailed, ErrorCategory.ReadError,
                            $"Reading {path} on '{shell.HostName}' for the archive failed (exit {r.ExitStatus}): {LogSpaceProbe.FirstLine(r.Stderr)}. Nothing was truncated.",
                            "Check the log file on the host, then retry.");
                    }
                }

                // Verify: decompress what we stored, count and hash it, compare with the host's hash of the same prefix.
                var (localCount, localHash) = HashGzip(partial, hashTool == "md5sum");
                if (localCount != length)
                {
                    throw new RemediationException(HostRemediationErrorIds.ArchiveVerificationFailed, ErrorCategory.InvalidResult,
                        $"The archive of {path} from '{shell.HostName}' holds {localCount} bytes, expected {length}. Nothing was truncated.",
                        "The log may have been truncated by someone else meanwhile (a rotation cron job?). Check the log's size again.")
                    { Next = NextCommand.CheckLogSpace, NextTarget = shell.HostName, RerunCompletes = true };
                }
                if (remoteHash != null)
                {
                    var remote = remoteHash.GetAwaiter().GetResult().Stdout.Trim();
                    var remoteHashValue = remote.Split(' ')[0].ToLowerInvariant();
                    if (remoteHashValue != localHash)
                    {
                        throw new RemediationException(HostRemediationErrorIds.ArchiveVerificationFailed, ErrorCategory.InvalidResult,
                            $"The archive of {path} from '{shell.HostName}' does not match the host's {hashTool} ({localHash} vs {remoteHashValue}). Nothing was truncated.",
                            "Retry; if it keeps failing, copy the log by other means before clearing it.");
                    }
                }
                else
                {
                    verbose?.Invoke($"{shell.HostName}: no sha256sum or md5sum on the host; the archive was verified by size only.");
                }
                File.Move(partial, file);
                verbose?.Invoke($"{shell.HostName}: archived {length} bytes of {path} to {file} (verified{(hashTool != null ? " with " + hashTool : " by size")}).");
                return file;
            }
            catch
            {
                try { File.Delete(partial); } catch (IOException) { } catch (UnauthorizedAccessException) { }
                throw;
            }
            finally
            {
                // On failure, stop the host's hash and observe its task (its error does not matter then).
                if (remoteHash != null && !remoteHash.IsCompleted)
                {
                    hashCancel.Cancel();
                    try { remoteHash.Wait(TimeSpan.FromSeconds(5)); } catch (AggregateException) { }
                }
            }
        }

        /// <summary>Largest piece of the log one archive command reads (bounds the client's buffering).</summary>
        internal const long ArchiveChunkBytes = 16L * 1024 * 1024;

        private const long MiB = 1024 * 1024;

        /// <summary>Bytes [0, length) of the file, through <paramref name="mode"/> (see <see cref="ReadRange"/>).</summary>
        internal static RemoteCommand ReadPrefix(string path, long length, string mode, string lines = "") => ReadRange(path, 0, length, mode, lines);

        /// <summary>
        /// Bytes [offset, offset + length) of the file (offset a whole number of MiB), raw
        /// (<paramref name="mode"/> "") or through gzip, sha256sum, md5sum or tail-bytes
        /// (Scripts/log-read.sh, which applies the log-path rule first).
        /// </summary>
        internal static RemoteCommand ReadRange(string path, long offset, long length, string mode, string lines = "")
        {
            if (offset % MiB != 0) throw new ArgumentOutOfRangeException(nameof(offset), offset, "The offset must be a whole number of MiB.");
            return RemoteCommand.FromScript("log-read.sh", path, Str(offset / MiB), Str(length / MiB), Str(length % MiB), mode, lines);
        }

        internal static (long Count, string Hash) HashGzip(string file, bool md5)
        {
            using var fs = File.OpenRead(file);
            using var gz = new GZipStream(fs, CompressionMode.Decompress);
            using HashAlgorithm h = md5 ? (HashAlgorithm)MD5.Create() : SHA256.Create();
            var buffer = new byte[1 << 16];
            long count = 0;
            int n;
            while ((n = gz.Read(buffer, 0, buffer.Length)) > 0)
            {
                h.TransformBlock(buffer, 0, n, null, 0);
                count += n;
            }
            h.TransformFinalBlock(buffer, 0, 0);
            var sb = new StringBuilder();
            foreach (var b in h.Hash!) sb.Append(b.ToString("x2", CultureInfo.InvariantCulture));
            return (count, sb.ToString());
        }

        /// <summary>The one time format of file names: report (mtv-remediation-&lt;stamp&gt;), archives (&lt;host&gt;_&lt;log&gt;_&lt;stamp&gt;.gz) and kept tails.</summary>
        internal static string FileStamp(DateTime utc) => utc.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);

        private static string UniqueName(string directory, string host, string logPath, string extension, DateTime? stamp = null) =>
            OwnerOnlyFile.UniquePath(directory, OwnerOnlyFile.SafeName(host) + "_" + OwnerOnlyFile.SafeName(Path.GetFileName(logPath)) + "_" + FileStamp(stamp ?? DateTime.UtcNow), extension);

        private static string Str(long v) => v.ToString(CultureInfo.InvariantCulture);
    }
}
