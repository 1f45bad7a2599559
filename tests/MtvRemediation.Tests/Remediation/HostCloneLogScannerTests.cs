using System.Collections.Generic;
using System.IO.Compression;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading.Tasks;
using System.Threading;
using System;
using MtvRemediation.Diagnosis;
using MtvRemediation.Esxi;
using S = MtvRemediation.Tests.Remediation.CloneFailureLogSamples;
using Xunit;

namespace MtvRemediation.Tests.Remediation
{
    /// <summary>
    /// Runs the real host-side scan script in BusyBox ash with only BusyBox applets on PATH (what
    /// an ESXi shell offers) and checks it finds exactly what a full local scan of the same files
    /// finds, while sending only matching lines.
    /// </summary>
    public sealed class HostCloneLogScannerTests : IDisposable
    {
        private static readonly DateTime Now = new DateTime(2026, 11, 25, 12, 0, 0, DateTimeKind.Utc);
        private readonly string _root;
        private readonly string _logDir;

        public HostCloneLogScannerTests()
        {
            _root = Path.Combine(Path.GetTempPath(), "mtv-hostscan-" + Guid.NewGuid().ToString("N"));
            // Quotes, spaces and $() in the path: the script must receive it as one inert value.
            _logDir = Path.Combine(_root, "var log 'it''s' $(touch pwned) `id`");
            Directory.CreateDirectory(_logDir);
        }

        public void Dispose() => Directory.Delete(_root, recursive: true);

        private ProcessEsxiShell Shell()
            => ProcessEsxiShell.BusyBox("esx-test-01", Path.Combine(_root, "applets"));

        private static CloneFailureScanOptions Options(DateTime? since = null)
            => new CloneFailureScanOptions { Now = Now, Since = since, RepeatLimit = 10 };

        /// <summary>MTV 2.10's wrapper log: the clone's 'about to run', then vsish stats and "XCOPY used: False" on every 5 s poll (it never logs a failure).</summary>
        private static List<string> WrapperLog(int polls, DateTime start)
        {
            var lines = new List<string> { S.WrapperStart };
            for (var i = 0; i < polls; i++)
            {
                var ts = start.AddSeconds(5 * i).ToString("yyyy-MM-dd HH:mm:ss,fff");
                lines.Add(ts + " - INFO - vshish stats CompletedProcess(args=['vsish', '-r', '-e', 'cat', '/storage/scsifw/devices/naa.600a098038304437415d4b6a59684a52/stats'], returncode=0, stdout='cloneWriteOps:0x0000000000000000\\n', stderr='')");
                lines.Add(ts + " - INFO - XCOPY used: False, clone write ops: 0");
            }
            return lines;
        }

        /// <summary>
        /// MTV 2.9's SSH-method log (secure-vmkfstools-wrapper.py): per poll the script's start lines
        /// and its 'Status check for task' dict; failed tasks' dicts carry exitCode and vmkfstools'
        /// stderr, a clone that cannot create its task directory logs the OSError.
        /// </summary>
        private static List<string> SecureLog(int polls, DateTime start)
        {
            var lines = new List<string>();
            for (var i = 0; i < polls; i++)
            {
                var ts = start.AddSeconds(5 * i).ToString("yyyy-MM-dd HH:mm:ss,fff");
                var id = "5d0e2f5a-7c1b-4e8e-9d55-" + i.ToString("x12");
                var code = "";
                var err = "";
                if (i == polls / 3) { code = "255"; err = "Failed to clone disk: Input/output error (327689).\\n"; }
                if (i == polls / 2) { code = "255"; err = "Failed to clone disk: Invalid change tracker error code (7228).\\n"; }
                lines.Add(ts + " - INFO - secure-vmkfstools-wrapper version 0.0.1 starting");
                lines.Add(ts + " - INFO - Received SSH command: status " + id);
                lines.Add(ts + " - INFO - Executing operation: status with args: " + id + ", None");
                lines.Add(ts + " - INFO - Status check for task " + id + ": {'taskId': '" + id + "', 'pid': 40213, 'exitCode': '" + code + "', 'lastLine': 'Clone: 37% done.', 'stdErr': '" + err + "', 'operation': 'status'}");
                if (i == polls - 2) lines.Add(ts + " - ERROR - Clone operation failed: [Errno 28] No space left on device: '/tmp/vmkfstools-wrapper-" + id + "'");
            }
            lines.Add(S.WrapperExit1);
            lines.Add(S.WrapperExit0);
            return lines;
        }

        private static void WriteGz(string path, IEnumerable<string> lines)
        {
            using var file = File.Create(path);
            using var gz = new GZipStream(file, CompressionLevel.Fastest);
            using var w = new StreamWriter(gz, new UTF8Encoding(false)) { NewLine = "\n" };
            foreach (var l in lines) w.WriteLine(l);
        }

        private static async Task<(List<CloneFailureFinding> Findings, HostCloneLogScanResult Result)> HostScan(ProcessEsxiShell shell, IReadOnlyList<string> paths, CloneFailureScanOptions options)
        {
            var findings = new List<CloneFailureFinding>();
            var gate = new object();
            var result = await HostCloneLogScanner.ScanAsync(shell, paths, options, f => { lock (gate) findings.Add(f); },
                TimeSpan.FromMinutes(2), CancellationToken.None);
            return (findings, result);
        }

        private static (List<CloneFailureFinding> Findings, CloneFailureSummary Summary) LocalScan(string path, CloneFailureScanOptions options)
        {
            var findings = new List<CloneFailureFinding>();
            var scan = CloneFailureScanner.ScanFile(path, options, findings.Add, CancellationToken.None);
            return (findings, scan.Summary());
        }

        private static string Key(CloneFailureFinding f, bool unnumberedRepeats)
            => $"{(unnumberedRepeats && f.Occurrences > 1 ? "-" : f.LineNumber.ToString())}|{f.Signature}|{f.Occurrences}|{f.ExitCode}|{f.Timestamp:o}|{f.Line}";

        /// <summary>
        /// Findings in line order. A plain log's repeat count (frequent lines past the limit, counted
        /// by the host without -Since) arrives after the other findings with line number 0: the
        /// host does not number its last line. Everything else must match the local scan exactly.
        /// </summary>
        private static List<string> Keys(IEnumerable<CloneFailureFinding> findings, bool unnumberedRepeats)
            => findings.OrderBy(f => unnumberedRepeats && f.Occurrences > 1 ? long.MaxValue : f.LineNumber)
                .Select(f => Key(f, unnumberedRepeats)).ToList();

        [Fact]
        public async Task Host_scan_matches_a_full_local_scan_of_the_log_and_its_rotated_files()
        {
            var log = Path.Combine(_logDir, "vmkfstools-wrapper.log");
            var secure = Path.Combine(_logDir, "secure-vmkfstools-wrapper.log");
            File.WriteAllLines(log, WrapperLog(300, new DateTime(2026, 11, 25, 9, 0, 0)));
            WriteGz(log + ".1.gz", WrapperLog(40, new DateTime(2026, 11, 24, 9, 0, 0)));
            WriteGz(Path.Combine(_logDir, "vmkfstools-wrapper.0.gz"), new[] { S.WrapperStart, S.WrapperXcopyFalse });
            File.WriteAllLines(secure, SecureLog(300, new DateTime(2026, 11, 25, 9, 0, 0)));
            File.WriteAllLines(Path.Combine(_logDir, "unrelated.log"), new[] { S.WrapperCtk });

            var (findings, result) = await HostScan(Shell(), new[] { log, secure }, Options());

            var files = result.Sources.Select(s => s.Path!).ToList();
            Assert.Equal(new[] { log, log + ".1.gz", Path.Combine(_logDir, "vmkfstools-wrapper.0.gz"), secure }, files);
            foreach (var source in result.Sources)
            {
                var local = LocalScan(source.Path!, Options());
                var remote = findings.Where(f => f.Path == source.Path).ToList();
                var unnumbered = !source.Path!.EndsWith(".gz", StringComparison.Ordinal);
                Assert.Equal(Keys(local.Findings, unnumbered), Keys(remote, unnumbered));
                if (unnumbered) Assert.All(remote.Where(f => f.Occurrences > 1), f => Assert.Equal(0, f.LineNumber));
                Assert.All(remote, f => Assert.Equal("esx-test-01", f.VMHost));
                Assert.All(remote, f => Assert.Equal("esx-test-01:" + source.Path, f.Source));
                var summary = source.Summary();
                Assert.Equal(local.Summary.GetCounts(), summary.GetCounts());
                Assert.Equal(local.Summary.TotalFindings, summary.TotalFindings);
                Assert.Null(summary.LinesScanned);
            }

            var main = findings.Where(f => f.Path == log).ToList();
            Assert.Equal(300, main.Where(f => f.Signature == "XcopyNotUsed").Sum(f => f.Occurrences));
            Assert.Equal(11, main.Count(f => f.Signature == "XcopyNotUsed"));
            Assert.DoesNotContain(main, f => f.Signature != "XcopyNotUsed");
            Assert.Single(findings.Where(f => f.Path == secure), f => f.Signature == "DiskIoError" && f.ExitCode == 255);
            // Only matching lines crossed the wire, and the repeats only as a count.
            Assert.True(result.BytesReceived < new FileInfo(log).Length / 20, $"{result.BytesReceived} bytes received for a {new FileInfo(log).Length}-byte log");
            Assert.False(File.Exists(Path.Combine(_root, "pwned")), "a $() in the log path ran on the host");
        }

        [Fact]
        public async Task Since_is_applied_on_the_host_and_counts_only_newer_repeats()
        {
            var log = Path.Combine(_logDir, "vmkfstools-wrapper.log");
            var secure = Path.Combine(_logDir, "secure-vmkfstools-wrapper.log");
            File.WriteAllLines(log, WrapperLog(300, new DateTime(2026, 11, 25, 9, 0, 0)));
            File.WriteAllLines(secure, SecureLog(300, new DateTime(2026, 11, 25, 9, 0, 0)));
            // Poll 200 is at 09:16:40; the I/O error (poll 100) and the ctk error (poll 150) are older.
            var options = Options(since: new DateTime(2026, 11, 25, 9, 16, 40, DateTimeKind.Utc));

            var (findings, result) = await HostScan(Shell(), new[] { log, secure }, options);
            var local = LocalScan(log, options).Findings.Concat(LocalScan(secure, options).Findings).ToList();

            // With -Since the host reads the frequent lines' timestamps, so the repeat count is numbered too.
            Assert.Equal(Keys(local, false), Keys(findings, false));
            Assert.Equal(100, findings.Where(f => f.Signature == "XcopyNotUsed").Sum(f => f.Occurrences));
            Assert.DoesNotContain(findings, f => f.Signature == "DiskIoError" || f.Signature == "ChangeTrackerInvalid");
            Assert.Contains(findings, f => f.Signature == "NoSpaceLeft");
            Assert.Contains(findings, f => f.Signature == "CloneExitCode" && f.ExitCode == 1);
            Assert.Equal(LocalScan(secure, options).Summary.GetCounts(), result.Sources.Single(x => x.Path == secure).Summary().GetCounts());
        }

        /// <summary>
        /// ESXi's syslog.log as vmsyslogd writes the 0.3.x wrapper's logger lines (samples: S.Esxi8Syslog*,
        /// S.Esxi7Syslog*): a poll every 5 s from 09:00, other programs' lines between them, and the
        /// wrapper's multi-line "Directory contents:" message (a failed task-directory removal,
        /// vmkfstools_wrapper.sh at v2.12.5), whose further lines ESXi 8 marks with "+".
        /// </summary>
        private static List<string> EsxiSyslog(string esxi, int polls, DateTime start)
        {
            string Head(DateTime t, string severity, bool more) => esxi == "8.0"
                ? t.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z' ", System.Globalization.CultureInfo.InvariantCulture) + severity + (more ? "+ " : " ")
                : t.ToString("yyyy-MM-dd'T'HH:mm:ss'Z' ", System.Globalization.CultureInfo.InvariantCulture);
            var lines = new List<string>();
            for (var i = 0; i < polls; i++)
            {
                var t = start.AddSeconds(5 * i).AddMilliseconds(i % 1000);
                lines.Add(Head(t, "In(14)", false) + "vmkfstools-wrapper[30012]: vsish stats cloneWriteOps:0x0000000000000000");
                lines.Add(Head(t, "In(14)", false) + "vmkfstools-wrapper[30012]: XCOPY used: false");
                lines.Add(Head(t, "In(166)", false) + "hostd[2099532]: lab: another program's line");
                if (i == polls / 2)
                {
                    lines.Add(Head(t, "Er(11)", false) + "vmkfstools-wrapper[30012]: Directory contents: total 8");
                    lines.Add(Head(t, "Er(11)", true) + "vmkfstools-wrapper[30012]: -rw-r--r--    1 root     root            64 Nov 25 09:00 err");
                    lines.Add(Head(t, "Er(11)", true) + "vmkfstools-wrapper[30012]: -rw-r--r--    1 root     root             3 Nov 25 09:00 exitcode");
                }
            }
            return lines;
        }

        [Theory]
        [InlineData("8.0")]
        [InlineData("7.0")]
        public async Task Since_is_applied_on_the_host_to_esxi_syslog_lines(string esxi)
        {
            var log = Path.Combine(_logDir, "syslog.log");
            File.WriteAllLines(log, EsxiSyslog(esxi, 300, new DateTime(2026, 11, 25, 9, 0, 0)));
            // Poll 200 is at 09:16:40 (and 200 ms on ESXi 8): it and the 99 after it are newer.
            var options = Options(since: new DateTime(2026, 11, 25, 9, 16, 40, DateTimeKind.Utc));

            var (findings, result) = await HostScan(Shell(), new[] { log }, options);
            var local = LocalScan(log, options).Findings;

            Assert.Equal(Keys(local, false), Keys(findings, false));
            Assert.Equal(100, findings.Where(f => f.Signature == "XcopyNotUsed").Sum(f => f.Occurrences));
            Assert.All(findings, f => Assert.Equal("XcopyNotUsed", f.Signature));
            // The bytes on the wire: the wrapper's lines only, and of those only the newer ones in full.
            Assert.True(result.BytesReceived < new FileInfo(log).Length / 4, $"{result.BytesReceived} bytes received for a {new FileInfo(log).Length}-byte log");

            // Without -Since every poll counts, the multi-line message's lines are none of them.
            var all = (await HostScan(Shell(), new[] { log }, Options())).Findings;
            Assert.Equal(300, all.Where(f => f.Signature == "XcopyNotUsed").Sum(f => f.Occurrences));
            Assert.DoesNotContain(all, f => f.Line.Contains("root     root"));
        }

        [Fact]
        public async Task A_host_without_wrapper_logs_yields_no_sources_and_no_error()
        {
            var (findings, result) = await HostScan(Shell(), new[] { Path.Combine(_logDir, "vmkfstools-wrapper.log") }, Options());
            Assert.Empty(findings);
            Assert.Empty(result.Sources);
        }

        [Fact]
        public async Task A_failing_remote_tool_is_reported_not_mistaken_for_a_clean_log()
        {
            var log = Path.Combine(_logDir, "vmkfstools-wrapper.log");
            File.WriteAllLines(log, new[] { S.WrapperCtk });
            File.WriteAllLines(log + ".1.gz", new[] { "not gzip data" }); // a corrupt rotated archive: zcat fails
            var findings = new List<CloneFailureFinding>();
            var ex = await Assert.ThrowsAsync<HostCloneLogScanException>(() => HostCloneLogScanner.ScanAsync(
                Shell(), new[] { log }, Options(), findings.Add, TimeSpan.FromMinutes(1), CancellationToken.None));
            Assert.Equal("esx-test-01", ex.Host);
            Assert.Contains("findings may be incomplete", ex.Message);
            // What was found before the failure still reached the caller.
            Assert.Single(findings, f => f.Signature == "ChangeTrackerInvalid");
        }

        [Theory]
        [InlineData("relative/vmkfstools-wrapper.log")]
        [InlineData("/var/log/*.log")]
        [InlineData("/var/log/a\nb.log")]
        public void Log_paths_must_be_absolute_plain_paths(string path)
        {
            Assert.Throws<ArgumentException>(() => HostCloneLogScanner.BuildCommand(new[] { path }, Options()));
        }

        [Fact]
        public void The_command_quotes_every_value()
        {
            var cmd = HostCloneLogScanner.BuildCommand(new[] { "/var/log/it's $(reboot).log" }, Options(new DateTime(2026, 11, 25, 10, 0, 0, DateTimeKind.Utc)));
            // The values are the set -- line in front of the constant embedded script, nothing else.
            var body = MtvRemediation.Esxi.RemoteScript.Get("clone-log-scan.sh");
            Assert.EndsWith("\n" + body, cmd.Text);
            var setLine = cmd.Text.Substring(0, cmd.Text.Length - body.Length);
            Assert.StartsWith("set -- 10 '2026-11-25 10:00:00' '", setLine);
            Assert.EndsWith(" '/var/log/it'\\''s $(reboot).log'\n", setLine);
            Assert.Contains("[clone-log-scan.sh]", cmd.Display);
        }

        [Fact]
        public async Task The_values_reach_the_script_as_its_positional_parameters()
        {
            // The grep tokens and awk programs the script receives are exactly the signature
            // table's: run the set -- line with a printer of the parameters in place of the scan.
            var cmd = HostCloneLogScanner.BuildCommand(new[] { "/a b.log", "/c" }, Options());
            var body = MtvRemediation.Esxi.RemoteScript.Get("clone-log-scan.sh");
            var setLine = cmd.Text.Substring(0, cmd.Text.Length - body.Length);
            var r = await Shell().RunAsync(MtvRemediation.Esxi.RemoteCommand.Script(setLine + "printf '<%s>' \"$@\""), TimeSpan.FromSeconds(20), CancellationToken.None);
            Assert.Equal(0, r.ExitStatus);
            var values = r.Stdout.Split(new[] { "><" }, StringSplitOptions.None);
            Assert.Equal(8, values.Length);
            Assert.Equal("<10", values[0]);
            Assert.Equal("", values[1]);
            Assert.Contains("index(t, \"", values[2]);
            Assert.DoesNotMatch("@[A-Z_]+@", values[2]);
            Assert.Equal(string.Join("\n", CloneFailureSignatures.RareGrepTokens), values[4]);
            Assert.Equal(string.Join("\n", CloneFailureSignatures.FrequentGrepTokens), values[5]);
            Assert.Equal("/a b.log", values[6]);
            Assert.Equal("/c>", values[7]);
        }
    }
}
