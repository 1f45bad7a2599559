using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using MtvRemediation.Infrastructure;

namespace MtvRemediation.HostLog
{
    /// <summary>
    /// The durable record of a -KeepLastLines write-back: written (0600, in this user's private
    /// kept-tails directory) before the log is truncated, deleted when the whole tail is back on the
    /// host or when nothing was truncated. While it exists, the kept tail lives only in
    /// <see cref="TailFile"/> on this workstation: every later Clear-/Test-VmkfstoolsWrapperLog and
    /// runbook run for that host and log names it, and Clear-VmkfstoolsWrapperLog -KeepLastLines on
    /// that log finishes it or discards it. The tail cannot live on the host (the log it belongs in is
    /// the one being cut), which is why this record is a local one.
    /// </summary>
    internal sealed class KeptTailRecord
    {
        private const string Extension = ".kept-tail-record";

        public string Host { get; set; } = string.Empty;
        public string LogPath { get; set; } = string.Empty;

        /// <summary>The local copy of the tail (0600).</summary>
        public string TailFile { get; set; } = string.Empty;

        public long TailBytes { get; set; }

        /// <summary>The -KeepLastLines of the run that wrote the record (its re-run repeats it).</summary>
        public int KeepLastLines { get; set; }

        /// <summary>Bytes dropped from the front of the log by the truncation this tail came from.</summary>
        public long DroppedBytes { get; set; }

        /// <summary>Where each piece of the write-back ends in the tail, in order (the first piece goes with the truncation).</summary>
        public long[] PieceEnds { get; set; } = Array.Empty<long>();

        public DateTime TruncatedAt { get; set; }

        /// <summary>user@workstation of the run that wrote the record.</summary>
        public string StartedBy { get; set; } = string.Empty;

        /// <summary>The record's own file; empty until saved or read.</summary>
        public string RecordFile { get; private set; } = string.Empty;

        /// <summary>Where this user's records live (0700): the same place on every run, so any later run finds them.</summary>
        public static string DefaultDirectory => OwnerOnlyFile.PrivateDirectory("kept-tails");

        /// <param name="directory">Where the record goes; null: <see cref="DefaultDirectory"/>.</param>
        public void Save(string? directory = null)
        {
            directory ??= DefaultDirectory;
            var file = Path.Combine(directory, Path.GetFileName(TailFile) + Extension);
            var partial = file + ".partial";
            var bytes = Encoding.UTF8.GetBytes(Serialize());
            using (var fs = OwnerOnlyFile.CreateNew(partial))
            {
                fs.Write(bytes, 0, bytes.Length);
                fs.Flush(true);
            }
            File.Move(partial, file);
            RecordFile = file;
        }

        /// <summary>Deletes the record and the tail it names (the tail is back on the host, or discarded).</summary>
        public void Delete()
        {
            TryDelete(TailFile);
            if (RecordFile.Length > 0) TryDelete(RecordFile);
        }

        /// <summary>
        /// The records in <paramref name="directory"/> (null: <see cref="DefaultDirectory"/>), for one
        /// host and log when given (host names compared case-insensitively).
        /// </summary>
        public static IReadOnlyList<KeptTailRecord> Find(string? host = null, string? logPath = null, string? directory = null)
        {
            try { directory ??= DefaultDirectory; }
            catch (IOException) { return Array.Empty<KeptTailRecord>(); }
            var list = new List<KeptTailRecord>();
            foreach (var file in Directory.GetFiles(directory, "*" + Extension).OrderBy(f => f, StringComparer.Ordinal))
            {
                var r = TryRead(file);
                if (r == null) continue;
                if (host != null && !string.Equals(r.Host, host, StringComparison.OrdinalIgnoreCase)) continue;
                if (logPath != null && r.LogPath != logPath) continue;
                list.Add(r);
            }
            return list;
        }

        /// <summary>
        /// Names every pending record of this host and log as a warning. A warning, not a property:
        /// the record is a fact of this workstation, not of the host's measurement; a warning reaches
        /// the console also from Test- -Quiet (booleans only), from a pipeline whose objects a later
        /// command consumes, and from the runbook.
        /// </summary>
        public static void WarnPending(Action<string> warn, string host, string logPath, KeptTailRecord? except = null)
        {
            foreach (var r in Find(host, logPath))
                if (except == null || r.RecordFile != except.RecordFile) warn(r.Describe());
        }

        /// <summary>The sentence every later result for this host and log carries.</summary>
        public string Describe() =>
            $"{Host}: an interrupted -KeepLastLines write-back truncated {LogPath} on {TruncatedAt.ToString("u", CultureInfo.InvariantCulture)}; " +
            $"the kept tail ({TailBytes} bytes) may be only partly back on the host, and all of it is saved in {TailFile}. " +
            $"Finish it: {ResumeCommand} (with -Confirm, declining offers to discard it).";

        public string ResumeCommand =>
            $"Clear-VmkfstoolsWrapperLog -VMHost {Quote(Host)} -LogPath {Quote(LogPath)} -KeepLastLines {KeepLastLines.ToString(CultureInfo.InvariantCulture)}";

        public PendingOperation ToPendingOperation() => new PendingOperation
        {
            Kind = "KeptLogTail",
            Target = Host,
            Server = "localhost",
            RecordLocation = RecordFile,
            Since = TruncatedAt,
            StartedBy = StartedBy,
            Detail = $"{LogPath} was truncated by -KeepLastLines and the write-back of its last {TailBytes} bytes did not finish; they are saved in {TailFile}.",
            ResumeCommand = ResumeCommand,
        };

        private static string Quote(string s) => PowerShellQuote.Literal(s);

        // One "key value" line each, the value percent-encoded: a log path may hold any character.
        private string Serialize()
        {
            var sb = new StringBuilder();
            void Add(string key, string value) => sb.Append(key).Append(' ').Append(Uri.EscapeDataString(value)).Append('\n');
            Add("host", Host);
            Add("logPath", LogPath);
            Add("tailFile", TailFile);
            Add("tailBytes", TailBytes.ToString(CultureInfo.InvariantCulture));
            Add("keepLastLines", KeepLastLines.ToString(CultureInfo.InvariantCulture));
            Add("droppedBytes", DroppedBytes.ToString(CultureInfo.InvariantCulture));
            Add("pieceEnds", string.Join(",", PieceEnds.Select(e => e.ToString(CultureInfo.InvariantCulture))));
            Add("truncatedAt", TruncatedAt.ToUniversalTime().ToString("o", CultureInfo.InvariantCulture));
            Add("startedBy", StartedBy);
            return sb.ToString();
        }

        private static KeptTailRecord? TryRead(string file)
        {
            try
            {
                var values = new Dictionary<string, string>(StringComparer.Ordinal);
                foreach (var line in File.ReadAllLines(file))
                {
                    var space = line.IndexOf(' ');
                    if (space > 0) values[line.Substring(0, space)] = Uri.UnescapeDataString(line.Substring(space + 1));
                }
                var r = new KeptTailRecord
                {
                    Host = values["host"],
                    LogPath = values["logPath"],
                    TailFile = values["tailFile"],
                    TailBytes = long.Parse(values["tailBytes"], NumberStyles.None, CultureInfo.InvariantCulture),
                    KeepLastLines = int.Parse(values["keepLastLines"], NumberStyles.None, CultureInfo.InvariantCulture),
                    DroppedBytes = long.Parse(values["droppedBytes"], NumberStyles.None, CultureInfo.InvariantCulture),
                    PieceEnds = values["pieceEnds"].Split(new[] { ',' }, StringSplitOptions.RemoveEmptyEntries)
                        .Select(v => long.Parse(v, NumberStyles.None, CultureInfo.InvariantCulture)).ToArray(),
                    TruncatedAt = DateTime.Parse(values["truncatedAt"], CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal),
                    StartedBy = values.TryGetValue("startedBy", out var by) ? by : string.Empty,
                    RecordFile = file,
                };
                return r;
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException || ex is KeyNotFoundException || ex is FormatException || ex is OverflowException)
            {
                return null; // not ours, or half-written by hand: listed by nobody, deleted by nobody
            }
        }

        private static void TryDelete(string file)
        {
            try { File.Delete(file); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    /// <summary>The reader behind Get-MtvPendingOperation for what lives on this workstation.</summary>
    internal static class LocalPendingOperations
    {
        /// <summary>Interrupted -KeepLastLines write-backs (Kind KeptLogTail), for one host when given; <paramref name="directory"/> null: the user's own.</summary>
        public static IEnumerable<PendingOperation> KeptLogTails(string? host = null, string? directory = null) =>
            KeptTailRecord.Find(host, directory: directory).Select(r => r.ToPendingOperation());
    }
}
