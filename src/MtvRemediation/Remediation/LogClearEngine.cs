using System;
using System.Globalization;
using System.IO;
using System.IO.Compression;
using System.Management.Automation;
using System.Security.Cryptography;
using System.Text;
using System.Threading;
using MtvRemediation.Esxi;

namespace MtvRemediation.Remediation
{
    public sealed class LogClearRequest
    {
        public string LogPath { get; set; } = LogSpaceOptions.DefaultLogPath;

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

        /// <summary>Limit for commands that read the whole log (archive, hash, tail search).</summary>
        public TimeSpan ArchiveTimeout { get; set; } = TimeSpan.FromMinutes(30);
    }

    /// <summary>
    /// Truncates the wrapper log in place (same inode, so the wrapper's open descriptor keeps
    /// working and the space is really freed), optionally archiving it to the client first.
    ///
    /// Consistency: the log may grow while we work. We archive a fixed prefix [0, S0) and verify it,
    /// then fetch everything after the part to drop ([keepFrom, end): the -KeepLastLines tail plus
    /// whatever was appended meanwhile) and truncate ONLY if the file still has exactly the size we
    /// fetched; the first chunk of the kept bytes is written back in the same remote command as the
    /// truncation. So nothing is lost unless the client dies between truncating and writing back a
    /// tail larger than one chunk (24 KiB); the archive, when asked for, is complete before any of
    /// that starts. Nothing is written on the log's volume before space is freed, so a 100% full
    /// /var works, and nothing at all is written to /tmp.
    /// </summary>
    public static class LogClearEngine
    {
        private const int Attempts = 4;

        public static LogClearResult Clear(IEsxiShell shell, LogClearRequest request, CancellationToken ct, Action<string>? verbose = null)
        {
            var probeOptions = new LogSpaceOptions { LogPath = request.LogPath };
            var before = LogSpaceProbe.Measure(shell, probeOptions, ct);
            var result = new LogClearResult
            {
                VMHost = shell.HostName,
                LogPath = request.LogPath,
                LogExists = before.LogExists,
                BytesBefore = before.LogSizeBytes,
                UsedPercentBefore = before.UsedPercent,
            };
            if (!before.LogExists)
            {
                verbose?.Invoke($"{shell.HostName}: {request.LogPath} does not exist; nothing to clear.");
                result.UsedPercentAfter = before.UsedPercent;
                return result;
            }

            var s0 = CurrentSize(shell, request.LogPath, ct) ?? 0;
            if (request.ArchiveDirectory != null)
            {
                result.ArchiveFile = Archive(shell, request.LogPath, s0, request.ArchiveDirectory, request.ArchiveStamp ?? DateTime.UtcNow, request.CompressOnHost, request.ArchiveTimeout, ct, verbose);
            }

            var keepFrom = s0;
            if (request.KeepLastLines > 0)
            {
                // The pipe text holds only a formatted integer (no user text to quote).
                var tailLength = RemoteOps.ParseLong(RemoteOps.Run(shell,
                    ReadPrefix(request.LogPath, s0, " | tail -n " + Str(request.KeepLastLines) + " | wc -c"), ct, request.ArchiveTimeout).Stdout) ?? 0;
                if (tailLength > request.MaxKeptBytes)
                {
                    throw new RemediationException(HostRemediationErrorIds.LogClearFailed, ErrorCategory.LimitsExceeded,
                        $"The last {request.KeepLastLines} lines of {request.LogPath} on '{shell.HostName}' are {tailLength} bytes, more than the {request.MaxKeptBytes} bytes this command holds in memory. Nothing was truncated.",
                        "Use a smaller -KeepLastLines, or -ArchivePath to keep the whole log locally.");
                }
                keepFrom = s0 - tailLength;
            }

            result.KeptBytes = TruncateKeepingFrom(shell, request.LogPath, keepFrom, request.MaxKeptBytes, request.ArchiveTimeout, ct, verbose);

            var after = LogSpaceProbe.Measure(shell, probeOptions, ct);
            result.BytesAfter = after.LogSizeBytes;
            result.UsedPercentAfter = after.UsedPercent;
            result.FreedBytes = Math.Max(0, result.BytesBefore - result.BytesAfter);
            return result;
        }

        internal static long? CurrentSize(IEsxiShell shell, string path, CancellationToken ct)
        {
            var r = RemoteOps.Run(shell, RemoteCommand.Format(RemoteOps.FileSizeFunction + "if [ -f {0} ]; then filesize {0}; else echo missing; fi", path), ct);
            return RemoteOps.ParseLong(r.Stdout);
        }

        /// <summary>Drops bytes [0, keepFrom) of the log in place; returns how many bytes remain from before.</summary>
        private static long TruncateKeepingFrom(IEsxiShell shell, string path, long keepFrom, long maxKept, TimeSpan readTimeout, CancellationToken ct, Action<string>? verbose)
        {
            for (var attempt = 1; attempt <= Attempts; attempt++)
            {
                byte[] kept;
                try
                {
                    // tail -c +N seeks on a regular file, but a slow host may still take a while on a huge log.
                    kept = RemoteOps.RunBytes(shell, RemoteCommand.Format("tail -c +{1} {0}", path, Str(keepFrom + 1)), maxKept, ct, out _, readTimeout);
                }
                catch (CappedMemoryStream.CapExceededException)
                {
                    throw new RemediationException(HostRemediationErrorIds.LogClearFailed, ErrorCategory.LimitsExceeded,
                        $"More than {maxKept} bytes would have to be kept from {path} on '{shell.HostName}' (the log grows fast). Nothing was truncated.",
                        "Run the command again; use -ArchivePath to keep the whole log locally.");
                }
                var expectedSize = keepFrom + kept.Length;
                // Last attempt: a writer that never pauses; truncate anyway (losing at most what it wrote in milliseconds).
                var strict = attempt < Attempts;
                var first = Math.Min(kept.Length, RemoteOps.UploadChunkBytes);
                var template = RemoteOps.FileSizeFunction + "f={0}; [ -f \"$f\" ] || exit 4; " +
                               (strict ? "[ $(filesize \"$f\") -eq {1} ] || exit 3; " : string.Empty) +
                               (first > 0 ? ": > \"$f\" && printf {2} >> \"$f\"" : ": > \"$f\"");
                var r = RemoteOps.Run(shell, RemoteCommand.Format(template, path, Str(expectedSize), RemoteOps.PrintfFormat(kept, 0, first)), ct);
                if (r.ExitStatus == 3)
                {
                    verbose?.Invoke($"{shell.HostName}: {path} grew while clearing it; fetching the new tail (attempt {attempt}).");
                    continue;
                }
                if (r.ExitStatus == 4) return 0; // rotated away by someone else: nothing left to clear
                if (!r.Succeeded)
                {
                    throw new RemediationException(HostRemediationErrorIds.LogClearFailed, ErrorCategory.WriteError,
                        $"Truncating {path} on '{shell.HostName}' failed (exit {r.ExitStatus}): {LogSpaceProbe.FirstLine(r.Stderr)}",
                        "Check the file's permissions and that the path is a regular file, then retry.");
                }
                for (var at = first; at < kept.Length; at += RemoteOps.UploadChunkBytes)
                {
                    var n = Math.Min(RemoteOps.UploadChunkBytes, kept.Length - at);
                    var w = RemoteOps.Run(shell, RemoteCommand.Format("printf {1} >> {0}", path, RemoteOps.PrintfFormat(kept, at, n)), ct);
                    if (!w.Succeeded)
                    {
                        throw new RemediationException(HostRemediationErrorIds.LogClearFailed, ErrorCategory.WriteError,
                            $"The log on '{shell.HostName}' was truncated but writing back the kept tail failed at byte {at} of {kept.Length}: {LogSpaceProbe.FirstLine(w.Stderr)}",
                            "The log itself is usable. If the tail matters, take it from -ArchivePath's archive.");
                    }
                }
                if (!strict) verbose?.Invoke($"{shell.HostName}: {path} kept growing; truncated without the size check on the last attempt.");
                return kept.Length;
            }
            return 0; // unreachable: the last attempt is unconditional
        }

        /// <summary>Streams a verified gzip of bytes [0, length) of the log into the archive directory; returns the file.</summary>
        private static string Archive(IEsxiShell shell, string path, long length, string directory, DateTime stamp, bool compressOnHost, TimeSpan timeout, CancellationToken ct, Action<string>? verbose)
        {
            Directory.CreateDirectory(directory);
            var file = UniqueArchiveName(directory, shell.HostName, path, stamp);
            var partial = file + ".partial";
            var tools = RemoteOps.Run(shell, RemoteCommand.Script(
                "command -v gzip >/dev/null 2>&1 && echo gzip; command -v sha256sum >/dev/null 2>&1 && echo sha256sum; command -v md5sum >/dev/null 2>&1 && echo md5sum; true"), ct).Stdout;
            var remoteGzip = compressOnHost && tools.Contains("gzip");
            if (compressOnHost && !remoteGzip)
                verbose?.Invoke($"{shell.HostName}: no gzip on the host; compressing the archive here instead.");
            var hashTool = tools.Contains("sha256sum") ? "sha256sum" : tools.Contains("md5sum") ? "md5sum" : null;
            // The host hashes the same prefix on a second channel of the session WHILE the archive
            // streams, so verification costs no extra pass in wall time (measured on a 512 MiB log:
            // gzip stream 9 s, sha256sum 8 s, one after the other before).
            using var hashCancel = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var remoteHash = hashTool == null ? null : System.Threading.Tasks.Task.Run(() =>
                RemoteOps.Run(shell, ReadPrefix(path, length, " | " + hashTool), hashCancel.Token, timeout));
            try
            {
                using (var fs = new FileStream(partial, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
                {
                    RemoteCommandResult r;
                    if (remoteGzip)
                    {
                        // Saves bandwidth to a distant host; the pipe never touches the host's disks.
                        r = RemoteOps.RunStreaming(shell, ReadPrefix(path, length, " | gzip -c"), fs, ct, timeout);
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
                        "The log may have been truncated by someone else meanwhile (a rotation cron job?). Run Test-VmkfstoolsLogSpace and retry.");
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

        /// <summary>Bytes [0, length) of the file, piped into <paramref name="pipe"/> (see <see cref="ReadRange"/>).</summary>
        internal static RemoteCommand ReadPrefix(string path, long length, string pipe) => ReadRange(path, 0, length, pipe);

        /// <summary>
        /// Bytes [offset, offset + length) of the file (offset a whole number of MiB), piped into
        /// <paramref name="pipe"/> (a constant, e.g. " | sha256sum"). Two dd reads from one
        /// descriptor, whole MiBs then the rest: BusyBox `head -c` copies in small pieces (1.6 s per
        /// 512 MiB here, dd 0.4 s), and dd's iflag=count_bytes is too new for every ESXi build. A file
        /// that shrank meanwhile yields fewer bytes, which the archive's size check catches.
        /// </summary>
        internal static RemoteCommand ReadRange(string path, long offset, long length, string pipe)
        {
            if (offset % MiB != 0) throw new ArgumentOutOfRangeException(nameof(offset), offset, "The offset must be a whole number of MiB.");
            var whole = length / MiB;
            var rest = length % MiB;
            var template = "{{ dd bs=1048576 skip={3} count={1} 2>/dev/null" + (rest > 0 ? "; dd bs={2} count=1 2>/dev/null" : string.Empty) + "; }} < {0}" + pipe;
            return RemoteCommand.Format(template, path, Str(whole), Str(rest), Str(offset / MiB));
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

        /// <summary>The one time format of file names: report (mtv-remediation-&lt;stamp&gt;) and archives (&lt;host&gt;_&lt;log&gt;_&lt;stamp&gt;.gz).</summary>
        internal static string FileStamp(DateTime utc) => utc.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);

        private static string UniqueArchiveName(string directory, string host, string logPath, DateTime stamp)
        {
            var baseName = Sanitize(host) + "_" + Sanitize(Path.GetFileName(logPath)) + "_" + FileStamp(stamp);
            var candidate = Path.Combine(directory, baseName + ".gz");
            for (var i = 1; File.Exists(candidate) || File.Exists(candidate + ".partial"); i++)
                candidate = Path.Combine(directory, baseName + "-" + i.ToString(CultureInfo.InvariantCulture) + ".gz");
            return candidate;
        }

        private static string Sanitize(string name)
        {
            var sb = new StringBuilder();
            foreach (var c in name) sb.Append(char.IsLetterOrDigit(c) || c == '.' || c == '-' || c == '_' ? c : '_');
            return sb.ToString();
        }

        private static string Str(long v) => v.ToString(CultureInfo.InvariantCulture);
    }
}
