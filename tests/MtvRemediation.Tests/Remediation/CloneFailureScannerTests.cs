using System.Collections.Generic;
using System.IO.Compression;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using System;
using MtvRemediation.Diagnosis;
using S = MtvRemediation.Tests.Remediation.CloneFailureLogSamples;
using Xunit;

namespace MtvRemediation.Tests.Remediation
{
    public class CloneFailureScannerTests
    {
        private static readonly DateTime Now = new DateTime(2026, 11, 25, 12, 0, 0, DateTimeKind.Utc);

        private static CloneFailureScanOptions Options(DateTime? since = null, int repeatLimit = 10)
            => new CloneFailureScanOptions { Now = Now, Since = since, RepeatLimit = repeatLimit };

        private static (List<CloneFailureFinding> Findings, CloneFailureSummary Summary) Scan(IEnumerable<string> lines, CloneFailureScanOptions? options = null)
        {
            var scan = new CloneFailureSourceScan("test", null, null, options ?? Options());
            var findings = new List<CloneFailureFinding>();
            CloneFailureScanner.ScanReader(new StringReader(string.Join("\n", lines)), scan, findings.Add, CancellationToken.None);
            return (findings, scan.Summary());
        }

        [Theory]
        [InlineData(S.WrapperIoError, "DiskIoError", 255)]
        [InlineData(S.KlogIoError, "DiskIoError", 255)]
        [InlineData(S.StructuredIoError, "DiskIoError", 255)]
        [InlineData(S.WrapperCtk, "ChangeTrackerInvalid", 255)]
        [InlineData(S.KlogCtk, "ChangeTrackerInvalid", 255)]
        [InlineData(S.OcTimestamped, "ChangeTrackerInvalid", 255)]
        [InlineData(S.WrapperExit1, "CloneExitCode", 1)]
        [InlineData(S.WrapperEnospc, "NoSpaceLeft", null)]
        [InlineData(S.WrapperFreeSpaceLow, "NoSpaceLeft", null)]
        [InlineData(S.WrapperXcopyFalse, "XcopyNotUsed", null)]
        [InlineData(S.KlogXcopy, "XcopyNotUsed", null)]
        [InlineData(S.StructuredXcopy, "XcopyNotUsed", null)]
        public void Classifies_each_signature_with_the_most_specific_cause(string line, string signature, int? exitCode)
        {
            var s = CloneFailureSignatures.Classify(line, out var code);
            Assert.NotNull(s);
            Assert.Equal(signature, s!.Name);
            Assert.Equal(exitCode, code);
        }

        [Fact]
        public void Host_prefilters_keep_every_line_the_client_classifies()
        {
            // The host drops lines before the client sees them: its fixed-string tokens and EREs
            // must be supersets of the precise regexes, or findings would silently vanish.
            var samples = typeof(CloneFailureLogSamples).GetFields(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static)
                .Select(f => (string)f.GetRawConstantValue()!).ToList();
            var ere = new System.Text.RegularExpressions.Regex(CloneFailureSignatures.CombinedGrepPattern);
            var classified = 0;
            foreach (var line in samples)
            {
                var s = CloneFailureSignatures.Classify(line, out _);
                if (s == null) continue;
                classified++;
                var lower = line.ToLowerInvariant();
                Assert.True(s.GrepTokens.Any(t => line.Contains(t)), $"no token of {s.Name} in: {line}");
                Assert.True(ere.IsMatch(lower), $"host pattern misses: {line}");
                Assert.True(new System.Text.RegularExpressions.Regex(s.GrepPattern).IsMatch(lower), $"{s.Name} pattern misses: {line}");
            }
            Assert.True(classified >= 12, $"only {classified} samples classified");
        }

        [Theory]
        [InlineData(S.WrapperStart)]
        [InlineData(S.WrapperVsish)]
        [InlineData(S.WrapperXcopyTrue)]
        [InlineData(S.WrapperExit0)]
        [InlineData(S.KlogXcopyUsed)]
        [InlineData(S.StructuredXcopyUsed)]
        [InlineData(S.Esxi8SyslogContinuation)]
        public void Ignores_healthy_lines(string line)
        {
            Assert.Null(CloneFailureSignatures.Classify(line, out _));
        }

        [Theory]
        [InlineData(S.WrapperIoError, "2026-11-25T10:03:12.4560000Z")]
        [InlineData(S.KlogIoError, "2026-11-25T10:03:12.4567890Z")]
        [InlineData(S.StructuredXcopy, "2026-11-25T10:00:05.1230000Z")]
        [InlineData(S.OcTimestamped, "2026-11-25T10:04:00.1234567Z")]
        [InlineData(S.Esxi8SyslogXcopy, "2026-11-25T10:00:03.1180000Z")]
        [InlineData(S.Esxi8SyslogContinuation, "2026-11-25T10:00:03.1180000Z")]
        [InlineData(S.Esxi7SyslogXcopy, "2026-11-25T10:00:03.0000000Z")]
        public void Parses_timestamps_as_utc(string line, string expectedRoundTrip)
        {
            var ts = LogTimestamp.Parse(line, Now);
            Assert.NotNull(ts);
            Assert.Equal(DateTimeKind.Utc, ts!.Value.Kind);
            Assert.Equal(expectedRoundTrip, ts.Value.ToString("o"));
        }

        [Fact]
        public void Klog_lines_without_a_year_never_land_in_the_future()
        {
            // Read on 2 January: "I1231" is last year's New Year's Eve, "I0102" is today.
            var jan2 = new DateTime(2027, 1, 2, 8, 0, 0, DateTimeKind.Utc);
            Assert.Equal(2026, LogTimestamp.Parse("E1231 23:59:59.000000       1 x.go:1] Failed to clone disk", jan2)!.Value.Year);
            Assert.Equal(2027, LogTimestamp.Parse("E0102 07:59:59.000000       1 x.go:1] Failed to clone disk", jan2)!.Value.Year);
            Assert.Null(LogTimestamp.Parse("Failed to clone disk", jan2));
        }

        [Fact]
        public void Wrapper_log_yields_findings_with_line_numbers_and_summary_counts()
        {
            var lines = new[] { S.WrapperStart, S.WrapperVsish, S.WrapperXcopyFalse, S.WrapperIoError, S.WrapperCtk, S.WrapperEnospc, S.WrapperExit1, S.WrapperExit0 };
            var (findings, summary) = Scan(lines);

            Assert.Equal(new long[] { 3, 4, 5, 6, 7 }, findings.Select(f => f.LineNumber));
            Assert.Equal(new[] { "XcopyNotUsed", "DiskIoError", "ChangeTrackerInvalid", "NoSpaceLeft", "CloneExitCode" }, findings.Select(f => f.Signature));
            var io = findings[1];
            Assert.Equal(S.WrapperIoError, io.Line);
            Assert.Equal(255, io.ExitCode);
            Assert.Contains("Clear-VmkfstoolsWrapperLog", io.Remediation);
            Assert.Equal("Reset-VMChangeTracking", findings[2].Remediation);

            Assert.Equal(8, summary.LinesScanned);
            Assert.Equal(5, summary.TotalFindings);
            Assert.Equal(1, summary.DiskIoError);
            Assert.Equal(1, summary.ChangeTrackerInvalid);
            Assert.Equal(1, summary.XcopyNotUsed);
            Assert.Equal(new DateTime(2026, 11, 25, 10, 0, 3, 118, DateTimeKind.Utc), summary.FirstTimestamp);
            Assert.Equal(new DateTime(2026, 11, 25, 10, 6, 30, 250, DateTimeKind.Utc), summary.LastTimestamp);
            Assert.Equal("Reset-VMChangeTracking", summary.Remediation[0]);
        }

        [Fact]
        public void Since_drops_older_lines_and_keeps_lines_without_timestamps()
        {
            var noTimestamp = "Failed to clone disk: Invalid change tracker error code (7228).";
            var lines = new[] { S.WrapperIoError, noTimestamp, S.WrapperCtk };
            var since = new DateTime(2026, 11, 25, 10, 3, 12, 457, DateTimeKind.Utc); // 1 ms after the I/O error line
            var (findings, summary) = Scan(lines, Options(since));

            Assert.Equal(new long[] { 2, 3 }, findings.Select(f => f.LineNumber));
            Assert.Null(findings[0].Timestamp);
            Assert.Equal(0, summary.DiskIoError);
            Assert.Equal(2, summary.ChangeTrackerInvalid);
        }

        [Fact]
        public void Frequent_xcopy_lines_report_the_first_n_then_the_last_with_its_count()
        {
            var lines = new List<string>();
            var start = new DateTime(2026, 11, 25, 10, 0, 0);
            for (var i = 0; i < 25; i++)
                lines.Add(start.AddSeconds(5 * i).ToString("yyyy-MM-dd HH:mm:ss,fff") + " - INFO - XCOPY used: False, clone write ops: " + i);
            lines.Insert(12, S.WrapperIoError);
            var (findings, summary) = Scan(lines, Options(repeatLimit: 10));

            var xcopy = findings.Where(f => f.Signature == "XcopyNotUsed").ToList();
            Assert.Equal(11, xcopy.Count);
            Assert.All(xcopy.Take(10), f => Assert.Equal(1, f.Occurrences));
            Assert.Equal(15, xcopy[10].Occurrences);
            Assert.Equal(26, xcopy[10].LineNumber);
            Assert.EndsWith("clone write ops: 24", xcopy[10].Line);
            Assert.Equal(25, xcopy.Sum(f => f.Occurrences));
            Assert.Equal(25, summary.XcopyNotUsed);
            Assert.Single(findings, f => f.Signature == "DiskIoError");
        }

        [Fact]
        public void Repeat_limit_zero_reports_every_line()
        {
            var lines = Enumerable.Repeat(S.KlogXcopy, 30);
            var (findings, _) = Scan(lines, Options(repeatLimit: 0));
            Assert.Equal(30, findings.Count);
        }

        [Fact]
        public void Gzip_files_are_detected_by_content_and_streamed()
        {
            var path = Path.Combine(Path.GetTempPath(), "mtv-scan-" + Guid.NewGuid().ToString("N") + ".log");
            try
            {
                using (var file = File.Create(path))
                using (var gz = new GZipStream(file, CompressionLevel.Fastest))
                using (var w = new StreamWriter(gz, new UTF8Encoding(false)))
                {
                    w.WriteLine(S.WrapperStart);
                    w.WriteLine(S.WrapperCtk);
                }
                var findings = new List<CloneFailureFinding>();
                var scan = CloneFailureScanner.ScanFile(path, Options(), findings.Add, CancellationToken.None);
                var f = Assert.Single(findings);
                Assert.Equal("ChangeTrackerInvalid", f.Signature);
                Assert.Equal(2, f.LineNumber);
                Assert.Equal(path, f.Source);
                Assert.Equal(path, f.Path);
                Assert.Equal(2, scan.Summary().LinesScanned);
            }
            finally { File.Delete(path); }
        }

        [Fact]
        public void A_truncated_gzip_archive_is_an_error_not_a_clean_log()
        {
            var path = Path.Combine(Path.GetTempPath(), "mtv-scan-" + Guid.NewGuid().ToString("N") + ".gz");
            try
            {
                using (var file = File.Create(path))
                using (var gz = new GZipStream(file, CompressionLevel.Fastest))
                using (var w = new StreamWriter(gz, new UTF8Encoding(false)))
                {
                    w.WriteLine(S.WrapperCtk);
                    for (var i = 0; i < 200000; i++) w.WriteLine(S.WrapperVsish.Replace("4461", i.ToString()));
                }
                var bytes = File.ReadAllBytes(path);
                File.WriteAllBytes(path, bytes.Take(bytes.Length / 2).ToArray());
                var findings = new List<CloneFailureFinding>();
                var ex = Assert.Throws<InvalidDataException>(() => CloneFailureScanner.ScanFile(path, Options(), findings.Add, CancellationToken.None));
                Assert.Contains("truncated", ex.Message);
                Assert.Single(findings); // what came before the cut was still reported
            }
            finally { File.Delete(path); }
        }

        [Fact]
        public void Line_splitting_stream_handles_split_utf8_crlf_and_a_missing_final_newline()
        {
            var lines = new List<string>();
            var sink = new LineSplittingStream(lines.Add, maxLineChars: 16);
            var bytes = Encoding.UTF8.GetBytes("VM \u00e9t\u00e9 \u2713\r\nsecond\nthis line is far too long to keep\nlast");
            foreach (var b in bytes) sink.Write(new[] { b }, 0, 1); // worst case: one byte per write
            sink.Complete();
            Assert.Equal(new[] { "VM \u00e9t\u00e9 \u2713", "second", "this line is far", "last" }, lines);
            Assert.Equal(bytes.Length, sink.BytesWritten);
        }
    }
}
