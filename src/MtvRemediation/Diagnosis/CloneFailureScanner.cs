using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Text;
using System.Threading;

namespace MtvRemediation.Diagnosis
{
    /// <summary>Options shared by every source of one scan.</summary>
    internal sealed class CloneFailureScanOptions
    {
        /// <summary>Drop lines whose timestamp is older; lines without a timestamp are kept.</summary>
        public DateTime? Since { get; set; }

        /// <summary>
        /// Frequent signatures (XcopyNotUsed) are reported for the first <c>RepeatLimit</c> lines of a
        /// source, then only counted; the last one is reported at the end with its count. 0 = no limit.
        /// </summary>
        public int RepeatLimit { get; set; } = 10;

        /// <summary>Reference time for klog lines without a year (tests pin it).</summary>
        public DateTime Now { get; set; } = DateTime.UtcNow;

        /// <summary>Since in UTC (a Local or Unspecified value is taken as local time, as PowerShell users type it).</summary>
        public DateTime? SinceUtc => Since?.Kind == DateTimeKind.Utc ? Since : Since?.ToUniversalTime();
    }

    /// <summary>
    /// Classifies the lines of one source (a host log, a file, the pipeline) into findings, keeping
    /// only counters and at most one held line: memory stays flat however long the source is.
    /// Not thread-safe: one instance per source.
    /// </summary>
    internal sealed class CloneFailureSourceScan
    {
        private readonly CloneFailureScanOptions _options;
        private readonly DateTime? _sinceUtc;
        private readonly Dictionary<string, long> _counts = new Dictionary<string, long>(StringComparer.Ordinal);
        private readonly Dictionary<string, long> _reported = new Dictionary<string, long>(StringComparer.Ordinal);
        private readonly Dictionary<string, CloneFailureFinding> _held = new Dictionary<string, CloneFailureFinding>(StringComparer.Ordinal);
        private readonly PopulatorLogContext _context = new PopulatorLogContext();
        private long _lineNumber;
        private long _linesRead;
        private DateTime? _first;
        private DateTime? _last;

        public CloneFailureSourceScan(string source, string? vmHost, string? path, CloneFailureScanOptions options)
        {
            Source = source;
            VMHost = vmHost;
            Path = path;
            _options = options ?? throw new ArgumentNullException(nameof(options));
            _sinceUtc = options.SinceUtc;
        }

        public string Source { get; }
        public string? VMHost { get; }
        public string? Path { get; }

        /// <summary>Lines read through <see cref="AddLine"/>.</summary>
        public long LinesRead => _linesRead;

        /// <summary>Next line of a source read from its start (line numbers counted here).</summary>
        public CloneFailureFinding? AddLine(string line)
        {
            _linesRead++;
            _context.Observe(line);
            return Add(++_lineNumber, line, 1);
        }

        /// <summary>A matching line whose number the host already knows (grep -n).</summary>
        public CloneFailureFinding? AddNumberedLine(long lineNumber, string line) => Add(lineNumber, line, 1);

        /// <summary>
        /// The host counted <paramref name="occurrences"/> further lines of a frequent signature and
        /// sent only the last one (server-side de-duplication).
        /// </summary>
        public void AddCountedRepeats(long occurrences, long lastLineNumber, string lastLine)
        {
            if (occurrences <= 0) return;
            Add(lastLineNumber, lastLine, occurrences, forceHold: true);
        }

        /// <summary>Held last occurrences of frequent signatures; call once when the source ends.</summary>
        public IEnumerable<CloneFailureFinding> Complete()
        {
            var held = new List<CloneFailureFinding>(_held.Values);
            _held.Clear();
            held.Sort((a, b) => a.LineNumber.CompareTo(b.LineNumber));
            return held;
        }

        public CloneFailureSummary Summary()
        {
            long Count(string name) => _counts.TryGetValue(name, out var n) ? n : 0;
            var summary = new CloneFailureSummary
            {
                Source = Source,
                VMHost = VMHost,
                Path = Path,
                SourceNotVmfs = Count(CloneFailureSignatures.SourceNotVmfs),
                ChangeTrackerInvalid = Count(CloneFailureSignatures.ChangeTrackerInvalid),
                DiskIoError = Count(CloneFailureSignatures.DiskIoError),
                VibNotLoaded = Count(CloneFailureSignatures.VibNotLoaded),
                NoSpaceLeft = Count(CloneFailureSignatures.NoSpaceLeft),
                CloneExitCode = Count(CloneFailureSignatures.CloneExitCode),
                CloneFailed = Count(CloneFailureSignatures.CloneFailed),
                XcopyNotUsed = Count(CloneFailureSignatures.XcopyNotUsed),
                LinesScanned = _linesRead > 0 || VMHost == null ? _linesRead : (long?)null,
                FirstTimestamp = _first,
                LastTimestamp = _last,
            };
            long total = 0;
            foreach (var n in _counts.Values) total += n;
            summary.TotalFindings = total;
            var remediation = new List<string>();
            foreach (var s in CloneFailureSignatures.All)
                if (Count(s.Name) > 0 && !s.Frequent && !remediation.Contains(s.Remediation)) remediation.Add(s.Remediation);
            summary.Remediation = remediation.ToArray();
            return summary;
        }

        private CloneFailureFinding? Add(long lineNumber, string line, long occurrences, bool forceHold = false)
        {
            var signature = CloneFailureSignatures.Classify(line, out var exitCode);
            if (signature == null) return null;
            var timestamp = LogTimestamp.Parse(line, _options.Now);
            if (_sinceUtc.HasValue && timestamp.HasValue && timestamp.Value < _sinceUtc.Value) return null;

            _counts.TryGetValue(signature.Name, out var count);
            _counts[signature.Name] = count + occurrences;
            if (timestamp.HasValue)
            {
                if (!_first.HasValue || timestamp < _first) _first = timestamp;
                if (!_last.HasValue || timestamp > _last) _last = timestamp;
            }

            var finding = new CloneFailureFinding
            {
                Source = Source,
                VMHost = VMHost,
                Path = Path,
                LineNumber = lineNumber,
                Timestamp = timestamp,
                Signature = signature.Name,
                ExitCode = exitCode,
                Line = line,
                Cause = signature.Cause,
                Remediation = signature.Remediation,
                Occurrences = occurrences,
                VMHostId = _context.VMHostId,
                TaskId = _context.TaskId,
                Disk = _context.SourceVmdk,
            };
            if (!signature.Frequent || _options.RepeatLimit <= 0) return finding;

            _reported.TryGetValue(signature.Name, out var reported);
            if (!forceHold && reported < _options.RepeatLimit)
            {
                _reported[signature.Name] = reported + 1;
                return finding;
            }
            // Past the limit: keep only the latest line, carrying the count of lines it stands for.
            if (_held.TryGetValue(signature.Name, out var previous)) finding.Occurrences += previous.Occurrences;
            _held[signature.Name] = finding;
            return null;
        }
    }

    /// <summary>Scans local inputs: text readers and files (plain or .gz), line by line.</summary>
    internal static class CloneFailureScanner
    {
        /// <summary>Reads <paramref name="reader"/> to the end, calling <paramref name="emit"/> for each finding.</summary>
        /// <param name="onProgress">Called every 64K lines (for progress bars); may be null.</param>
        public static void ScanReader(TextReader reader, CloneFailureSourceScan scan, Action<CloneFailureFinding> emit, CancellationToken cancellationToken, Action? onProgress = null)
        {
            string? line;
            var n = 0;
            while ((line = reader.ReadLine()) != null)
            {
                if ((++n & 0xFFF) == 0)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    if ((n & 0xFFFF) == 0) onProgress?.Invoke();
                }
                var f = scan.AddLine(line);
                if (f != null) emit(f);
            }
            foreach (var f in scan.Complete()) emit(f);
        }

        /// <summary>
        /// Scans one local file, plain or gzip (detected by content, so rotated files without a
        /// .gz suffix work too), as a stream: memory does not depend on the file size.
        /// </summary>
        /// <exception cref="InvalidDataException">A gzip file is corrupt or truncated (findings before the damage were emitted).</exception>
        /// <param name="onProgress">Called now and then with (compressed) bytes read and the file size.</param>
        public static CloneFailureSourceScan ScanFile(string path, CloneFailureScanOptions options, Action<CloneFailureFinding> emit, CancellationToken cancellationToken, Action<long, long>? onProgress = null)
        {
            var scan = new CloneFailureSourceScan(path, null, path, options);
            using (var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 64 * 1024, FileOptions.SequentialScan))
            {
                if (!IsGzip(file))
                {
                    using (var reader = new StreamReader(file, new UTF8Encoding(false), true, 64 * 1024))
                        ScanReader(reader, scan, emit, cancellationToken, Progress(file, onProgress));
                    return scan;
                }
                var expectedSize = ReadGzipTrailerSize(file);
                using (var gzip = new GZipStream(file, CompressionMode.Decompress, leaveOpen: true))
                using (var counter = new CountingReadStream(gzip))
                using (var reader = new StreamReader(counter, new UTF8Encoding(false), true, 64 * 1024))
                {
                    ScanReader(reader, scan, emit, cancellationToken, Progress(file, onProgress));
                    // .NET's GZipStream ends quietly on a truncated archive; the trailer's ISIZE
                    // (size mod 2^32 of the last member) catches that, so a cut-off rotated log is
                    // not mistaken for a clean one.
                    if ((uint)counter.BytesRead != expectedSize)
                        throw new InvalidDataException($"The gzip archive is truncated or damaged: {counter.BytesRead} bytes decompressed, the trailer says {expectedSize} (mod 2^32). Findings up to line {scan.LinesRead} were reported.");
                }
            }
            return scan;
        }

        private static Action? Progress(FileStream file, Action<long, long>? onProgress)
            => onProgress == null ? null : (Action)(() => onProgress(file.Position, file.Length));

        private static uint ReadGzipTrailerSize(FileStream file)
        {
            if (file.Length < 18) return uint.MaxValue; // no room for header + trailer: damaged
            var trailer = new byte[4];
            file.Position = file.Length - 4;
            var n = 0;
            while (n < 4) n += file.Read(trailer, n, 4 - n);
            file.Position = 0;
            return (uint)(trailer[0] | trailer[1] << 8 | trailer[2] << 16 | trailer[3] << 24);
        }

        private sealed class CountingReadStream : Stream
        {
            private readonly Stream _inner;
            public CountingReadStream(Stream inner) { _inner = inner; }
            public long BytesRead { get; private set; }
            public override int Read(byte[] buffer, int offset, int count)
            {
                var n = _inner.Read(buffer, offset, count);
                BytesRead += n;
                return n;
            }
            public override bool CanRead => true;
            public override bool CanSeek => false;
            public override bool CanWrite => false;
            public override long Length => throw new NotSupportedException();
            public override long Position { get => BytesRead; set => throw new NotSupportedException(); }
            public override void Flush() { }
            public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
            public override void SetLength(long value) => throw new NotSupportedException();
            public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        }

        // By magic bytes rather than extension: `oc logs` output saved as .gz or rotated files without a suffix.
        private static bool IsGzip(FileStream stream)
        {
            var b1 = stream.ReadByte();
            var b2 = stream.ReadByte();
            stream.Position = 0;
            return b1 == 0x1f && b2 == 0x8b;
        }
    }
}
