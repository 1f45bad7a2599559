using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using MtvRemediation.Diagnosis;
using MtvRemediation.Esxi;
using MtvRemediation.HostLog;
using MtvRemediation.Infrastructure;
using MtvRemediation.Tests.Esxi;
using Xunit;

namespace MtvRemediation.Tests.Remediation
{
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    /// <summary>
    /// Engines against a real BusyBox ash on a scratch tree (same shell dialect as ESXi). Host
    /// paths are parameters, so a temp dir stands in for /var; the lab Pester tests cover SSH.
    /// </summary>
    public sealed class EngineTests : IDisposable
    {
        private readonly string _root = Directory.CreateTempSubdirectory("mtv-engine-").FullName;
        private readonly BusyboxShell _shell = new BusyboxShell("esx-test");

        public void Dispose()
        {
            try
            {
                var pidFile = Path.Combine(_root, "crond.pid");
                if (File.Exists(pidFile) && int.TryParse(File.ReadAllText(pidFile).Trim(), out var pid))
                    try { Process.GetProcessById(pid).Kill(); } catch (ArgumentException) { }
            }
            finally { Directory.Delete(_root, true); }
        }

        private static CancellationToken Ct => CancellationToken.None;

        private string WriteLog(string name, byte[] content)
        {
            var path = Path.Combine(_root, name);
            File.WriteAllBytes(path, content);
            return path;
        }

        private static byte[] LogLines(int count)
        {
            var sb = new StringBuilder();
            for (var i = 0; i < count; i++) sb.Append($"2026-11-25 22:{i % 60:00}:00,{i % 1000:000} - INFO - XCOPY used: False, clone write ops: {i}\n");
            return Encoding.UTF8.GetBytes(sb.ToString());
        }

        [Fact]
        public void PrintfFormat_reproduces_every_byte_through_ash()
        {
            var all = Enumerable.Range(0, 256).Select(i => (byte)i).Concat(Encoding.UTF8.GetBytes("%s %% \\n '\"$(x)`")).ToArray();
            var target = Path.Combine(_root, "bytes");
            var r = _shell.RunAsync(RemoteCommand.Format("printf {1} > {0}", target, RemoteOps.PrintfFormat(all, 0, all.Length)), TimeSpan.FromSeconds(10), Ct).Result;
            Assert.True(r.Succeeded, r.Stderr);
            Assert.Equal(all, File.ReadAllBytes(target));
        }

        [Fact]
        public void Probe_reads_log_size_and_space_from_a_real_shell()
        {
            var log = WriteLog("vmkfstools-wrapper.log", LogLines(100));
            var status = LogSpaceProbe.Measure(_shell, new LogSpaceOptions { LogPath = log, SecureLogPath = Path.Combine(_root, "none.log") }, Ct);
            Assert.True(status.LogExists);
            Assert.Equal(new FileInfo(log).Length, status.LogSizeBytes);
            Assert.False(status.SecureLogExists);
            Assert.True(status.VolumeSizeBytes > 0);
            Assert.Contains(status.Source, new[] { "stat -f + df -k", "df -k" }); // no ramdisk list off ESXi: the POSIX df of the path
            Assert.True(SpaceParsers.Holds(status.VolumePath, status.LogRealPath), $"{status.VolumePath} does not hold {status.LogRealPath}");
            Assert.InRange(status.UsedPercent, 0, 100);
        }

        [Fact]
        public void Host_read_reads_space_and_inventory_and_the_inventory_fills_the_flat_properties()
        {
            var log = WriteLog("vmkfstools-wrapper.log", LogLines(10));
            var read = HostDiagnosisReader.Read(_shell, new HostDiagnosisRequest { Space = new LogSpaceOptions { LogPath = log, SecureLogPath = Path.Combine(_root, "none.log") }, Inventory = true }, Ct);
            Assert.Empty(read.Errors);
            var status = read.Space!;
            status.AddWrapperInventory(read.Wrapper!);
            Assert.True(status.LogExists);
            Assert.NotNull(status.Wrapper);
            Assert.Equal("esx-test", status.Wrapper!.VMHost);
            Assert.Equal(status.Wrapper.LogsTo, status.WrapperLogsTo);
            Assert.Equal(status.Wrapper.TaskDirectoryCount, status.WrapperTaskDirectoryCount);
            Assert.Equal(status.Wrapper.TaskDirectoryBytes, status.WrapperTaskDirectoryBytes);
            Assert.Equal(status.Wrapper.FailedTasks.Length, status.WrapperFailedTaskCount);
            Assert.Equal(string.Join("; ", status.Wrapper.CloneMethods), status.WrapperCloneMethods!.ToString());
        }

        /// <summary>Runs everything on BusyBox except the wrapper inventory, which answers as if cut short.</summary>
        private sealed class InventoryCutShort : IEsxiShell
        {
            private readonly IEsxiShell _inner;
            public InventoryCutShort(IEsxiShell inner) => _inner = inner;
            public string HostName => _inner.HostName;
            public int InventoryRuns;

            public Task<RemoteCommandResult> RunAsync(RemoteCommand command, TimeSpan timeout, CancellationToken cancellationToken)
            {
                if (!command.Display.StartsWith("[wrapper-inventory.sh]", StringComparison.Ordinal)) return _inner.RunAsync(command, timeout, cancellationToken);
                Interlocked.Increment(ref InventoryRuns);
                return Task.FromResult(new RemoteCommandResult(-1, "@@vib\n", "connection lost", TimeSpan.Zero));
            }

            public Task<RemoteCommandResult> RunStreamingAsync(RemoteCommand command, Stream stdoutSink, TimeSpan timeout, CancellationToken cancellationToken)
                => _inner.RunStreamingAsync(command, stdoutSink, timeout, cancellationToken);
        }

        [Fact]
        public void Host_read_still_reports_the_space_when_the_inventory_fails()
        {
            var log = WriteLog("vmkfstools-wrapper.log", LogLines(10));
            var shell = new InventoryCutShort(_shell);
            var read = HostDiagnosisReader.Read(shell, new HostDiagnosisRequest { Space = new LogSpaceOptions { LogPath = log, SecureLogPath = Path.Combine(_root, "none.log") }, Inventory = true }, Ct);
            Assert.Equal(1, shell.InventoryRuns);
            Assert.Equal(WrapperErrorIds.InventoryFailed, Assert.Single(read.Errors).ErrorId);
            Assert.Null(read.Wrapper);
            var status = read.Space!;
            Assert.True(status.LogExists);
            Assert.Equal(new FileInfo(log).Length, status.LogSizeBytes);
            Assert.Null(status.Wrapper);
            Assert.Null(status.WrapperMtvVersion);
            Assert.Null(status.WrapperTaskDirectoryCount);
        }

        [Fact]
        public void Host_read_reports_the_probes_own_error_beside_the_inventory()
        {
            var target = WriteLog("elsewhere.log", LogLines(1));
            var link = Path.Combine(_root, "vmkfstools-wrapper.log");
            File.CreateSymbolicLink(link, target);
            var read = HostDiagnosisReader.Read(_shell, new HostDiagnosisRequest
                { Space = new LogSpaceOptions { LogPath = link, SecureLogPath = Path.Combine(_root, "none.log") }, Inventory = true }, Ct);
            Assert.Null(read.Space);
            Assert.Equal(HostRemediationErrorIds.LogPathRefused, read.SpaceError!.ErrorId);
            Assert.NotNull(read.Wrapper); // the pieces are independent: the inventory was still read
        }

        // What the probe script prints on an ESXi host (sections of Scripts/logspace.sh). The ramdisk
        // list's real layout is unverified: this is the lab's stand-in (the parser reads only the
        // first word and the last column of each row).
        private const string RamdiskList =
            "Ramdisk Name  System Include in Coredumps Reserved  Maximum      Used      Peak Used Free  Reserved Free Maximum Inodes Allocated Inodes Used Inodes Mount Point\n" +
            "------------  ------ -------------------- --------- ------------ --------- --------- ----- ------------- -------------- ---------------- ----------- ---------------------------\n" +
            "root          true   true                 0 KiB     32768 KiB    2040 KiB  2040 KiB  93 %  93 %          8192           8192             331         /\n" +
            "var           true   true                 0 KiB     16384 KiB    16384 KiB 16384 KiB 0 %   0 %           8192           8192             20          /var\n" +
            "tmp           true   true                 0 KiB     262144 KiB   11728 KiB 11728 KiB 95 %  95 %          8192           8192             9           /tmp\n" +
            "hostdstats    true   true                 0 KiB     1078272 KiB  16676 KiB 16676 KiB 98 %  98 %          8192           8192             9           /var/lib/vmware/hostd/stats\n";

        private const string VdfTable =
            "Ramdisk                   1k-blocks      Used Available Use% Mounted on\n" +
            "root                          32768      2040     30728   7% --\n" +
            "var                           16384     16384         0 100% --\n" +
            "tmp                          262144     11728    250416   5% --\n" +
            "hostdstats                  1078272     16676   1061596   2% --\n";

        private static string ProbeOutput(string resolved, string extra = "") =>
            "@@logkind\n0\n@@log\n16777216\n@@logtarget\n@@securekind\n1\n@@secure\n@@resolved\n" + resolved + "\n@@resolvedtmp\n/tmp\n" +
            "@@ramdisks\n" + RamdiskList + "\n@@rc 0\n@@vdf\n" + VdfTable + "\n@@rc 0\n" + extra +
            "@@tasks\n/tmp/vmkfstools-wrapper-a\n/tmp/vmkfstools-wrapper-b\n@@stale\n/tmp/vmkfstools-wrapper-a\n@@vib\n/opt/redhat/vmkfstools-wrapper\n@@rc 0\n@@end\n";

        // vdf's block header is unverified: a header the parser does not know gives no exact rows,
        // and the probe takes vdf -h's (real layout, rounded sizes) instead of failing.
        [Fact]
        public void Probe_falls_back_to_vdf_h_when_vdf_has_an_unknown_block_header()
        {
            var unknownVdf = VdfTable.Replace("1k-blocks", "Blocks");
            const string vdfh =
                "Ramdisk                   Size      Used Available Use% Mounted on\n" +
                "root                       32M        2M       30M   7% --\n" +
                "var                        16M       16M        0B 100% --\n" +
                "tmp                       256M       11M      244M   5% --\n";
            var output = ProbeOutput("/var/log").Replace(VdfTable, unknownVdf).Replace("@@tasks\n", "@@vdfh\n" + vdfh + "\n@@rc 0\n@@tasks\n");
            var s = LogSpaceProbe.Parse("esx1", new LogSpaceOptions(), output);
            Assert.Equal("ramdisk list + vdf -h", s.Source);
            Assert.Equal("/var", s.VolumePath);
            Assert.Equal(16L << 20, s.VolumeSizeBytes);
            Assert.Equal(100, s.UsedPercent);
            // With the known header, the exact rows win.
            Assert.Equal("ramdisk list + vdf", LogSpaceProbe.Parse("esx1", new LogSpaceOptions(), ProbeOutput("/var/log").Replace("@@tasks\n", "@@vdfh\n" + vdfh + "\n@@rc 0\n@@tasks\n")).Source);
        }

        [Fact]
        public void Probe_parse_takes_the_ramdisk_that_holds_the_real_path_and_rates_status()
        {
            var s = LogSpaceProbe.Parse("esx1", new LogSpaceOptions(), ProbeOutput("/var/log"));
            Assert.Equal("ramdisk list + vdf", s.Source);
            Assert.Equal("/var", s.VolumePath);
            Assert.Equal("var", s.VolumeName);
            Assert.Equal("ramdisk", s.VolumeKind);
            Assert.Equal(16384L * 1024, s.VolumeSizeBytes);
            Assert.Equal(100, s.UsedPercent);
            Assert.Equal("Critical", s.Status);
            Assert.Equal("/var/log/vmkfstools-wrapper.log", s.LogRealPath);
            Assert.Equal(2, s.TaskDirCount);
            Assert.Equal(1, s.StaleTaskDirCount);
            Assert.True(s.WrapperInstalled);
            Assert.Equal("ramdisk list + vdf", s.TmpSource);
            Assert.Equal(262144L * 1024, s.TmpSizeBytes);
            Assert.Single(s.Reasons);
        }

        [Fact]
        public void Probe_parse_never_takes_the_root_ramdisk_for_a_path()
        {
            // vdf's root row never maps to "/": it would hold every path (the 32 MB root ramdisk
            // reported as the log's volume). A path on no other volume is an error.
            var ex = Assert.Throws<RemediationException>(() => LogSpaceProbe.Parse("esx1", new LogSpaceOptions(), ProbeOutput("/opt/log")));
            Assert.Equal(HostRemediationErrorIds.LogSpaceCheckFailed, ex.ErrorId);
            Assert.Contains("root ramdisk is never taken", ex.Message);
        }

        [Fact]
        public void Probe_parse_measures_the_osdata_volume_through_esxi_df_then_stat_f()
        {
            // ESXi 7/8: /var/log -> /scratch/log -> /vmfs/volumes/<uuid>/log (the OSDATA volume).
            const string uuid = "/vmfs/volumes/5f2a1b3c-1d2e3f40-5a6b-001122334455";
            const string df =
                "Filesystem            Bytes           Used      Available Use% Mounted on\n" +
                "VMFS-6         270553174016   186969083904    83584090112  70% /vmfs/volumes/datastore1\n" +
                "VFFS             4294967296     4294967296              0 100% " + uuid + "\n";
            var s = LogSpaceProbe.Parse("esx1", new LogSpaceOptions(), ProbeOutput(uuid + "/log",
                "@@df\n" + HostFieldTests.Encode(df) + "\n@@rc 0\n@@statf\n4096 1048576 524288 524288\n@@rc 0\n"));
            Assert.Equal("df", s.Source);
            Assert.Equal(uuid, s.VolumePath);
            Assert.Equal("VFFS", s.VolumeKind);
            Assert.Equal(uuid.Substring("/vmfs/volumes/".Length), s.VolumeName);
            Assert.Equal(4294967296L, s.VolumeSizeBytes);
            Assert.Equal(0, s.VolumeFreeBytes);
            Assert.Equal("Critical", s.Status);

            // No usable df: stat -f of the path, attributed to the /vmfs/volumes/<name> holding it.
            var s2 = LogSpaceProbe.Parse("esx1", new LogSpaceOptions(), ProbeOutput(uuid + "/log",
                "@@df\n" + HostFieldTests.Encode("sh: df: not found") + "\n@@rc 127\n@@statf\n4096 1048576 524288 524288\n@@rc 0\n"));
            Assert.Equal("stat -f", s2.Source);
            Assert.Equal(uuid, s2.VolumePath);
            Assert.Equal(4096L * 1048576, s2.VolumeSizeBytes);
            Assert.Equal(50, s2.UsedPercent);

            // Neither: a loud failure, never a ramdisk's numbers.
            Assert.Throws<RemediationException>(() => LogSpaceProbe.Parse("esx1", new LogSpaceOptions(), ProbeOutput(uuid + "/log",
                "@@df\n@@rc 127\n@@statf\n@@rc 1\n")));
        }

        [Fact]
        public void Probe_parse_refuses_a_symlink_or_a_non_regular_file_at_the_log_path()
        {
            var link = ProbeOutput("/var/log").Replace("@@logkind\n0\n@@log\n16777216\n@@logtarget\n", "@@logkind\n2\n@@log\n@@logtarget\n/etc/passwd\n");
            var ex = Assert.Throws<RemediationException>(() => LogSpaceProbe.Parse("esx1", new LogSpaceOptions(), link));
            Assert.Equal(HostRemediationErrorIds.LogPathRefused, ex.ErrorId);
            Assert.Equal(System.Management.Automation.ErrorCategory.SecurityError, ex.Category);
            Assert.Contains("/etc/passwd", ex.Message);
            var dir = ProbeOutput("/var/log").Replace("@@logkind\n0\n@@log\n16777216\n", "@@logkind\n3\n@@log\n");
            Assert.Equal(HostRemediationErrorIds.LogPathRefused, Assert.Throws<RemediationException>(() => LogSpaceProbe.Parse("esx1", new LogSpaceOptions(), dir)).ErrorId);
        }

        [Theory]
        [InlineData(50, "Healthy")]
        [InlineData(80, "Warning")]
        [InlineData(95, "Critical")]
        public void Thresholds(int usedPercent, string expected)
        {
            // Off ESXi (no ramdisk list): stat -f numbers for the mount point the POSIX df names.
            var output = $"@@logkind\n1\n@@resolved\n/var/log\n@@resolvedtmp\n/tmp\n@@ramdisks\n@@rc 127\n@@statfpath\n1024 100 {100 - usedPercent} {100 - usedPercent}\n@@rc 0\n" +
                         "@@dfkpath\nFilesystem 1K-blocks Used Available Use% Mounted on\ntmpfs 100 0 100 0% /var\n@@rc 0\n@@end\n";
            var s = LogSpaceProbe.Parse("h", new LogSpaceOptions { WarningPercent = 75, CriticalPercent = 90 }, output);
            Assert.Equal(expected, s.Status);
            Assert.Equal("stat -f + df -k", s.Source);
        }

        [Theory]
        [InlineData(0)]
        [InlineData(1)]
        [InlineData(1024 * 1024 - 1)]
        [InlineData(1024 * 1024)]
        [InlineData(1024 * 1024 + 1)]
        [InlineData(2 * 1024 * 1024 + 12345)]
        public void ReadRange_yields_exactly_those_bytes_of_the_file(int length)
        {
            var content = new byte[5 * 1024 * 1024];
            new Random(length).NextBytes(content);
            var log = WriteLog("prefix 'it''s' $(x).bin", content);
            foreach (var offset in new[] { 0, 2 * 1024 * 1024 })
            {
                var got = RemoteOps.RunBytes(_shell, LogClearEngine.ReadRange(log, offset, length, string.Empty), 4L * 1024 * 1024, Ct, out var r);
                Assert.True(r.Succeeded, r.Stderr);
                Assert.Equal(length, got.Length);
                Assert.True(content.AsSpan(offset, length).SequenceEqual(got), $"bytes [{offset}, +{length}) differ from the file's");
            }
        }

        [Fact]
        public void Archive_read_in_several_ranges_equals_the_log()
        {
            // Larger than one archive command's range, not a whole number of MiB.
            var content = new byte[LogClearEngine.ArchiveChunkBytes * 2 + 777_777];
            var lines = LogLines(1000);
            for (var i = 0; i < content.Length; i++) content[i] = lines[i % lines.Length];
            var log = WriteLog("big.log", content);
            var dir = Path.Combine(_root, "archive");
            var r = LogClearEngine.Clear(_shell, new LogClearRequest { LogPath = log, ArchiveDirectory = dir }, Ct);
            var (count, hash) = LogClearEngine.HashGzip(r.ArchiveFile!, md5: false);
            Assert.Equal(content.Length, count);
            Assert.Equal(Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(content)).ToLowerInvariant(), hash);
            Assert.Equal(0, new FileInfo(log).Length);
        }

        [Fact]
        public void Clear_truncates_in_place_keeping_the_inode()
        {
            var log = WriteLog("w.log", LogLines(2000));
            var inode = Inode(log);
            var r = LogClearEngine.Clear(_shell, new LogClearRequest { LogPath = log }, Ct);
            Assert.True(r.BytesBefore > 100_000);
            Assert.Equal(0, r.BytesAfter);
            Assert.Equal(r.BytesBefore, r.FreedBytes);
            Assert.Null(r.ArchiveFile);
            Assert.Equal(inode, Inode(log)); // same file: a writer's open descriptor keeps working
        }

        [Fact]
        public void Clear_of_a_missing_log_is_not_an_error()
        {
            var r = LogClearEngine.Clear(_shell, new LogClearRequest { LogPath = Path.Combine(_root, "nope.log") }, Ct);
            Assert.False(r.LogExists);
            Assert.Equal(0, r.BytesBefore);
            Assert.Equal(0, r.FreedBytes);
        }

        [Fact]
        public void Clear_keeps_exactly_the_last_lines()
        {
            var content = LogLines(5000);
            var log = WriteLog("k.log", content);
            var r = LogClearEngine.Clear(_shell, new LogClearRequest { LogPath = log, KeepLastLines = 1500 }, Ct);
            var expected = string.Join("\n", Encoding.UTF8.GetString(content).TrimEnd('\n').Split('\n').TakeLast(1500)) + "\n";
            Assert.True(expected.Length > RemoteOps.MaxCommandBytes); // more than one command's worth of data
            Assert.Equal(expected, File.ReadAllText(log));
            Assert.Equal(expected.Length, r.KeptBytes);
            Assert.Equal(expected.Length, r.BytesAfter);
        }

        [Theory]
        [InlineData(300)]
        [InlineData(301)]
        public void Keeping_at_least_every_line_changes_nothing_and_says_so(int keep)
        {
            var content = LogLines(300);
            var log = WriteLog("all.log", content);
            var inode = Inode(log);
            var mtime = File.GetLastWriteTimeUtc(log);
            var archive = Path.Combine(_root, "arch-all");
            var r = LogClearEngine.Clear(_shell, new LogClearRequest { LogPath = log, KeepLastLines = keep, ArchiveDirectory = archive }, Ct);
            Assert.Equal(content, File.ReadAllBytes(log));
            Assert.Equal(inode, Inode(log));
            Assert.Equal(mtime, File.GetLastWriteTimeUtc(log)); // not rewritten
            Assert.Equal(0, r.FreedBytes);
            Assert.Equal(content.Length, r.BytesAfter);
            Assert.Contains("nothing was changed", r.Note);
            Assert.Null(r.ArchiveFile);
            Assert.False(Directory.Exists(archive) && Directory.EnumerateFiles(archive).Any());
        }

        [Fact]
        public void A_tail_larger_than_the_memory_cap_is_refused_before_truncating()
        {
            var content = LogLines(3000);
            var log = WriteLog("cap.log", content);
            var ex = Assert.Throws<RemediationException>(() =>
                LogClearEngine.Clear(_shell, new LogClearRequest { LogPath = log, KeepLastLines = 2000, MaxKeptBytes = 4096 }, Ct));
            Assert.Equal(HostRemediationErrorIds.LogClearFailed, ex.ErrorId);
            Assert.Equal(content, File.ReadAllBytes(log)); // untouched
        }

        [Fact]
        public void Keeping_lines_of_a_log_without_a_final_newline_counts_the_partial_line()
        {
            // Same as tail -n: a last line still being written is a line.
            var log = WriteLog("nl.log", Encoding.UTF8.GetBytes("one\ntwo\nthree (partial"));
            LogClearEngine.Clear(_shell, new LogClearRequest { LogPath = log, KeepLastLines = 2 }, Ct);
            Assert.Equal("two\nthree (partial", File.ReadAllText(log));
            LogClearEngine.Clear(_shell, new LogClearRequest { LogPath = log, KeepLastLines = 1 }, Ct);
            Assert.Equal("three (partial", File.ReadAllText(log));
        }

        [Fact]
        public void Archive_matches_the_log_byte_for_byte_then_truncates()
        {
            var content = LogLines(20000).Concat(new byte[] { 0, 0xff, 0x80, (byte)'\r' }).ToArray();
            var log = WriteLog("a.log", content);
            var archiveDir = Path.Combine(_root, "archive");
            var r = LogClearEngine.Clear(_shell, new LogClearRequest { LogPath = log, ArchiveDirectory = archiveDir }, Ct);
            Assert.NotNull(r.ArchiveFile);
            Assert.True(new FileInfo(r.ArchiveFile!).Length < content.Length / 4); // compressed
            using var gz = new GZipStream(File.OpenRead(r.ArchiveFile!), CompressionMode.Decompress);
            using var back = new MemoryStream();
            gz.CopyTo(back);
            Assert.Equal(content, back.ToArray());
            Assert.Equal(0, new FileInfo(log).Length);
            Assert.Empty(Directory.GetFiles(archiveDir, "*.partial"));
        }

        [Fact]
        public void Bytes_appended_while_clearing_are_kept()
        {
            var log = WriteLog("g.log", LogLines(3000));
            // The wrapper appends (O_APPEND) between our fetch and our truncation three times, then
            // pauses: the clear must retry past those races and truncate, every line kept once.
            var shell = new AppendBeforeTruncateShell(_shell, log, races: 3);
            var r = LogClearEngine.Clear(shell, new LogClearRequest { LogPath = log, ArchiveDirectory = Path.Combine(_root, "arch") }, Ct);
            Assert.Equal(3, shell.Appended);
            string archived;
            using (var gz = new GZipStream(File.OpenRead(r.ArchiveFile!), CompressionMode.Decompress))
            using (var reader = new StreamReader(gz)) archived = reader.ReadToEnd();
            Assert.StartsWith(Encoding.UTF8.GetString(LogLines(3000)), archived);
            var late = (archived + File.ReadAllText(log)).Split('\n').Where(l => l.StartsWith("late ")).Select(l => int.Parse(l.Substring(5))).ToList();
            Assert.Equal(new[] { 1, 2, 3 }, late.OrderBy(n => n));
            Assert.True(new FileInfo(log).Length < 1000, "the log was not truncated");
        }

        /// <summary>A writer that always appends between our fetch and our truncation: one line right before every log-truncate.sh.</summary>
        private sealed class AppendBeforeTruncateShell : IEsxiShell
        {
            private readonly IEsxiShell _inner;
            private readonly string _log;
            private readonly int _races;
            public AppendBeforeTruncateShell(IEsxiShell inner, string log, int races = int.MaxValue) { _inner = inner; _log = log; _races = races; }
            public int Appended { get; private set; }
            public string HostName => _inner.HostName;

            private void Before(RemoteCommand c)
            {
                if (!c.Display.StartsWith("[log-truncate.sh]", StringComparison.Ordinal) || Appended >= _races) return;
                Appended++;
                File.AppendAllText(_log, $"late {Appended}\n");
            }

            public Task<RemoteCommandResult> RunAsync(RemoteCommand command, TimeSpan timeout, CancellationToken ct)
            {
                Before(command);
                return _inner.RunAsync(command, timeout, ct);
            }

            public Task<RemoteCommandResult> RunStreamingAsync(RemoteCommand command, Stream sink, TimeSpan timeout, CancellationToken ct)
            {
                Before(command);
                return _inner.RunStreamingAsync(command, sink, timeout, ct);
            }
        }

        [Fact]
        public void A_writer_that_never_pauses_gets_nothing_truncated_rather_than_lines_lost()
        {
            var original = LogLines(3000);
            var log = WriteLog("busy.log", original);
            // Every try races the writer. The old last try truncated anyway and lost the line the
            // writer had added since the fetch.
            var shell = new AppendBeforeTruncateShell(_shell, log);
            var ex = Assert.Throws<RemediationException>(() => LogClearEngine.Clear(shell, new LogClearRequest { LogPath = log }, Ct));

            Assert.Equal(HostRemediationErrorIds.LogClearFailed, ex.ErrorId);
            Assert.Contains("Nothing was truncated", ex.Message);
            Assert.Equal(LogClearEngine.Attempts, shell.Appended);
            var bytes = File.ReadAllBytes(log);
            Assert.Equal(original, bytes.Take(original.Length).ToArray());
            var late = Encoding.UTF8.GetString(bytes, original.Length, bytes.Length - original.Length)
                .Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => int.Parse(l.Substring(5))).ToList();
            Assert.Equal(Enumerable.Range(1, shell.Appended), late);
        }

        private CronPaths FakeCron(string crontabText)
        {
            var dir = Path.Combine(_root, "crontabs");
            Directory.CreateDirectory(dir);
            var tab = Path.Combine(dir, "root");
            File.WriteAllBytes(tab, Encoding.UTF8.GetBytes(crontabText));
            File.SetUnixFileMode(tab, UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead); // 0444, like ESXi
            // Stand-in for "busybox crond": a background sleeper that writes its pid like crond does.
            var fake = Path.Combine(_root, "fakebusybox");
            var pidFile = Path.Combine(_root, "crond.pid");
            File.WriteAllText(fake, "#!/bin/sh\n(sleep 300 </dev/null >/dev/null 2>&1 & echo $! > " + ShellQuote.Quote(pidFile) + ")\n");
            File.SetUnixFileMode(fake, (UnixFileMode)Convert.ToInt32("755", 8));
            return new CronPaths { CrontabPath = tab, PidFile = pidFile, Busybox = fake, LockDir = Path.Combine(_root, ".lock"), ReloadPending = Path.Combine(_root, ".reload-pending") };
        }

        [RootFact]
        public void Cron_register_get_unregister_keeps_foreign_bytes_and_mode_and_reloads()
        {
            var original = CrontabTests.VmwareDefault + "SHELL=/bin/sh\r\n# odd line\r\n0 0 * * * echo 'no newline'";
            var paths = FakeCron(original);
            var entry = new RotationEntry(RotationEntry.ScheduleForInterval(5), "/var/log/vmkfstools-wrapper.log", 10 << 20);

            var reg = LogRotationCronEngine.Register(_shell, entry, paths, Ct);
            Assert.True(reg.Changed);
            Assert.NotNull(reg.CrondPid);
            var written = File.ReadAllText(paths.CrontabPath);
            Assert.StartsWith(original + "\n", written);
            Assert.Equal("444", Convert.ToString((int)File.GetUnixFileMode(paths.CrontabPath), 8));
            Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(paths.CrontabPath)!, "*mtv-tmp*"));
            Assert.False(Directory.Exists(paths.LockDir));

            var again = LogRotationCronEngine.Register(_shell, entry, paths, Ct);
            Assert.False(again.Changed);
            Assert.Equal(reg.CrondPid, again.CrondPid);

            var got = LogRotationCronEngine.Get(_shell, paths, Ct);
            Assert.Equal(entry.LogPath, Assert.Single(got.Entries).LogPath);

            var un = LogRotationCronEngine.Unregister(_shell, null, paths, Ct);
            Assert.True(un.Changed);
            Assert.Equal(1, un.Removed);
            Assert.NotEqual(reg.CrondPid, un.CrondPid);
            // Byte-identical, even the missing final newline (issue 11): the LF our line needed goes with it.
            Assert.Equal(original, File.ReadAllText(paths.CrontabPath));
        }

        /// <summary>A client that dies when it reaches crond's reload: the commands before it ran, the reload never does.</summary>
        private sealed class DiesBeforeReloadShell : IEsxiShell
        {
            private readonly IEsxiShell _inner;
            public DiesBeforeReloadShell(IEsxiShell inner) => _inner = inner;
            public string HostName => _inner.HostName;

            private static void Before(RemoteCommand c)
            {
                if (c.Display.StartsWith("[crond-reload.sh]", StringComparison.Ordinal)) throw new OperationCanceledException("client killed");
            }

            public Task<RemoteCommandResult> RunAsync(RemoteCommand command, TimeSpan timeout, CancellationToken ct)
            {
                Before(command);
                return _inner.RunAsync(command, timeout, ct);
            }

            public Task<RemoteCommandResult> RunStreamingAsync(RemoteCommand command, Stream sink, TimeSpan timeout, CancellationToken ct)
            {
                Before(command);
                return _inner.RunStreamingAsync(command, sink, timeout, ct);
            }
        }

        // Issue 22 item 5: a run that died between its rename and its reload, in the same second as
        // crond's start (the pid file's and the crontab's mtimes are equal to the second, which is all
        // BusyBox find -newer compares): the re-run still reloads, from the host's record.
        [RootFact]
        public void A_run_that_died_before_its_reload_is_reloaded_by_the_rerun_even_within_the_same_second()
        {
            var paths = FakeCron(CrontabTests.VmwareDefault);
            var entry = new RotationEntry(RotationEntry.ScheduleForInterval(5), "/var/log/vmkfstools-wrapper.log", 10 << 20);
            var first = LogRotationCronEngine.Register(_shell, new RotationEntry("* * * * *", "/var/log/other.log", 1), paths, Ct);
            Assert.Throws<OperationCanceledException>(() => LogRotationCronEngine.Register(new DiesBeforeReloadShell(_shell), entry, paths, Ct));
            File.SetLastWriteTimeUtc(paths.PidFile, File.GetLastWriteTimeUtc(paths.CrontabPath));
            Assert.Contains(entry.LogPath, File.ReadAllText(paths.CrontabPath));

            var rerun = LogRotationCronEngine.Register(_shell, entry, paths, Ct);
            Assert.False(rerun.Changed);
            Assert.True(rerun.Reloaded);
            Assert.NotEqual(first.CrondPid, rerun.CrondPid);
            Assert.False(File.Exists(paths.ReloadPending));

            // Reloaded now: the next run has nothing to finish.
            Assert.False(LogRotationCronEngine.Register(_shell, entry, paths, Ct).Reloaded);
        }

        [RootFact]
        public void A_missing_crontab_stays_missing_after_register_and_unregister()
        {
            var paths = FakeCron(string.Empty);
            File.Delete(paths.CrontabPath);
            var logs = new[] { "/var/log/a.log", "/var/log/b.log" };
            foreach (var log in logs) LogRotationCronEngine.Register(_shell, new RotationEntry("* * * * *", log, 1), paths, Ct);
            Assert.Equal(2, Crontab.Parse(File.ReadAllBytes(paths.CrontabPath)).RotationEntries().Count(e => e.CreatedFile));

            Assert.True(LogRotationCronEngine.Unregister(_shell, logs[0], paths, Ct).Changed);
            Assert.True(File.Exists(paths.CrontabPath));
            var last = LogRotationCronEngine.Unregister(_shell, logs[1], paths, Ct);
            Assert.True(last.Changed);
            Assert.False(File.Exists(paths.CrontabPath));
            Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(paths.CrontabPath)!));

            // Nothing to remove from a missing crontab: none is created.
            Assert.False(LogRotationCronEngine.Unregister(_shell, null, paths, Ct).Changed);
            Assert.False(File.Exists(paths.CrontabPath));
        }

        [RootFact]
        public void A_crontab_created_by_register_stays_when_someone_else_added_a_line()
        {
            var paths = FakeCron(string.Empty);
            File.Delete(paths.CrontabPath);
            LogRotationCronEngine.Register(_shell, new RotationEntry("* * * * *", "/var/log/a.log", 1), paths, Ct);
            File.AppendAllText(paths.CrontabPath, "5 * * * * /bin/admin\n");
            LogRotationCronEngine.Unregister(_shell, null, paths, Ct);
            Assert.Equal("5 * * * * /bin/admin\n", File.ReadAllText(paths.CrontabPath));
        }

        [RootFact]
        public void Parallel_registrations_leave_one_entry()
        {
            var paths = FakeCron(CrontabTests.VmwareDefault);
            var entries = Enumerable.Range(1, 4).Select(i => new RotationEntry(RotationEntry.ScheduleForInterval(i), "/var/log/vmkfstools-wrapper.log", i << 20)).ToArray();
            Parallel.ForEach(entries, new ParallelOptions { MaxDegreeOfParallelism = 4 }, e =>
                LogRotationCronEngine.Register(new BusyboxShell("esx-test"), e, paths, Ct));
            var text = File.ReadAllText(paths.CrontabPath);
            Assert.StartsWith(CrontabTests.VmwareDefault, text);
            Assert.Single(Crontab.Parse(File.ReadAllBytes(paths.CrontabPath)).RotationEntries());
        }

        [RootFact]
        public void A_held_lock_gives_CrontabLocked_and_changes_nothing()
        {
            var paths = FakeCron(CrontabTests.VmwareDefault);
            paths.LockTimeout = TimeSpan.FromSeconds(1);
            Directory.CreateDirectory(paths.LockDir);
            var entry = new RotationEntry("* * * * *", "/var/log/x.log", 1);
            var ex = Assert.Throws<RemediationException>(() => LogRotationCronEngine.Register(_shell, entry, paths, Ct));
            Assert.Equal(HostRemediationErrorIds.CrontabLocked, ex.ErrorId);
            Assert.Equal(CrontabTests.VmwareDefault, File.ReadAllText(paths.CrontabPath));

            // An abandoned lock (older than the stale age) is taken over.
            paths.StaleLockAge = TimeSpan.FromSeconds(1);
            Directory.SetLastWriteTimeUtc(paths.LockDir, DateTime.UtcNow.AddMinutes(-5));
            Assert.True(LogRotationCronEngine.Register(_shell, entry, paths, Ct).Changed);
        }

        [Fact]
        public void The_cron_command_truncates_only_above_the_limit()
        {
            var log = WriteLog("c.log", new byte[1000]);
            var entry = new RotationEntry("* * * * *", log, 1000);
            var run = _shell.RunAsync(RemoteCommand.Script(entry.Command), TimeSpan.FromSeconds(5), Ct).Result;
            Assert.Equal(1000, new FileInfo(log).Length); // at the limit: kept
            File.AppendAllText(log, "x");
            _shell.RunAsync(RemoteCommand.Script(entry.Command), TimeSpan.FromSeconds(5), Ct).Wait();
            Assert.Equal(0, new FileInfo(log).Length);
            // A log that is gone: the job stops at the path rule (logpath_kind: missing), says nothing
            // (cron would mail stderr) and creates no file.
            var missing = new RotationEntry("* * * * *", log + ".gone", 1);
            var gone = _shell.RunAsync(RemoteCommand.Script(missing.Command), TimeSpan.FromSeconds(5), Ct).Result;
            Assert.Equal((int)LogPathKind.Missing, gone.ExitStatus);
            Assert.Equal("", gone.Stderr);
            Assert.False(File.Exists(log + ".gone"));
        }

        private static string Inode(string path)
        {
            var p = Process.Start(new ProcessStartInfo("stat", new[] { "-c", "%i", path }) { RedirectStandardOutput = true })!;
            var s = p.StandardOutput.ReadToEnd().Trim();
            p.WaitForExit();
            return s;
        }
    }
}
