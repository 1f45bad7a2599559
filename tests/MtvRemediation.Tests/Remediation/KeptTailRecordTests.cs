using System;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using MtvRemediation.Esxi;
using MtvRemediation.HostLog;
using Xunit;

namespace MtvRemediation.Tests.Remediation
{
    /// <summary>
    /// Issue 22 item 3: a -KeepLastLines write-back killed midway leaves a durable local record; the
    /// re-run finds how much of the tail reached the host and appends the rest, no byte twice.
    /// </summary>
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public sealed class KeptTailRecordTests : IDisposable
    {
        private readonly string _root = Directory.CreateTempSubdirectory("mtv-kept-").FullName;
        private readonly BusyboxShell _shell = new BusyboxShell("esx-test");
        private readonly string _records;

        public KeptTailRecordTests() => _records = Directory.CreateDirectory(Path.Combine(_root, "records")).FullName;

        public void Dispose() => Directory.Delete(_root, true);

        private LogClearRequest Request(string log, KeptTailRecord? resume = null) =>
            new LogClearRequest { LogPath = log, KeepLastLines = 6000, KeptTailDirectory = Path.Combine(_root, "tails"), RecordDirectory = _records, Resume = resume };

        private static CancellationToken Ct => CancellationToken.None;

        private static byte[] LogLines(int count)
        {
            var sb = new StringBuilder();
            for (var i = 0; i < count; i++) sb.Append($"2026-11-25 22:{i % 60:00}:00,{i % 1000:000} - INFO - XCOPY used: False, clone write ops: {i}\n");
            return Encoding.UTF8.GetBytes(sb.ToString());
        }

        /// <summary>
        /// The client dies (nothing after it runs) when it is about to send the given command for
        /// the n-th time; before each write-back piece the wrapper appends a line of its own.
        /// </summary>
        private sealed class DyingClient : IEsxiShell
        {
            private readonly IEsxiShell _inner;
            private readonly string _log;
            private readonly string _script;
            private int _left;
            public DyingClient(IEsxiShell inner, string log, string script, int survives) { _inner = inner; _log = log; _script = script; _left = survives; }
            public int WrapperLines { get; private set; }
            public string HostName => _inner.HostName;

            private void Before(RemoteCommand c)
            {
                if (!c.Display.StartsWith("[" + _script + "]", StringComparison.Ordinal)) return;
                if (_left-- == 0) throw new OperationCanceledException("client killed");
                if (_script == "log-append.sh") File.AppendAllText(_log, $"wrapper line {++WrapperLines}\n");
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

        private (string Log, byte[] Tail) Log(int lines, int keep)
        {
            var content = LogLines(lines);
            var log = Path.Combine(_root, "vmkfstools-wrapper.log");
            File.WriteAllBytes(log, content);
            var text = Encoding.UTF8.GetString(content);
            var tail = string.Join("\n", text.TrimEnd('\n').Split('\n').TakeLast(keep)) + "\n";
            return (log, Encoding.UTF8.GetBytes(tail));
        }

        [Fact]
        public void A_write_back_killed_midway_leaves_a_record_and_the_rerun_appends_only_what_is_missing()
        {
            var (log, tail) = Log(12000, 6000);
            var dying = new DyingClient(_shell, log, "log-append.sh", survives: 1);
            Assert.Throws<OperationCanceledException>(() =>
                LogClearEngine.Clear(dying, Request(log), Ct));

            var record = Assert.Single(KeptTailRecord.Find("esx-test", log, _records));
            Assert.True(record.PieceEnds.Length >= 3, "the tail must take more than the two pieces written before the death");
            Assert.Equal(tail, File.ReadAllBytes(record.TailFile));
            foreach (var f in new[] { record.TailFile, record.RecordFile })
                Assert.Equal("600", Convert.ToString((int)File.GetUnixFileMode(f), 8));
            var pending = Assert.Single(LocalPendingOperations.KeptLogTails("esx-test", _records));
            Assert.Equal(record.RecordFile, pending.RecordLocation);
            Assert.Equal("KeptLogTail", pending.Kind);
            Assert.Equal($"Clear-VmkfstoolsWrapperLog -VMHost 'esx-test' -LogPath '{log}' -KeepLastLines 6000", pending.ResumeCommand);
            Assert.Contains(record.TailFile, record.Describe());
            File.AppendAllText(log, $"wrapper line {dying.WrapperLines + 1}\n"); // the wrapper goes on after the death

            var r = LogClearEngine.Clear(_shell, Request(log, record), Ct);
            Assert.Contains("finished the interrupted write-back", r.Note);
            var onHost = Encoding.UTF8.GetString(File.ReadAllBytes(log));
            for (var i = 1; i <= dying.WrapperLines + 1; i++)
            {
                Assert.Equal(1, CountOf(onHost, $"wrapper line {i}\n"));
                onHost = onHost.Replace($"wrapper line {i}\n", string.Empty);
            }
            Assert.Equal(Encoding.UTF8.GetString(tail), onHost); // every kept byte once, in order
            Assert.Empty(KeptTailRecord.Find("esx-test", log, _records));
            Assert.False(File.Exists(record.TailFile));
        }

        [Fact]
        public void A_client_killed_at_the_truncation_leaves_a_record_that_the_rerun_settles_without_writing_when_nothing_was_cut()
        {
            var (log, tail) = Log(12000, 6000);
            var before = File.ReadAllBytes(log);
            Assert.Throws<OperationCanceledException>(() =>
                LogClearEngine.Clear(new DyingClient(_shell, log, "log-truncate.sh", survives: 0), Request(log), Ct));
            var record = Assert.Single(KeptTailRecord.Find("esx-test", log, _records));

            var r = LogClearEngine.Clear(_shell, Request(log, record), Ct);
            Assert.Equal(before, File.ReadAllBytes(log));
            Assert.Contains("already all on the host", r.Note);
            Assert.Empty(KeptTailRecord.Find("esx-test", log, _records));
        }

        [Fact]
        public void A_write_back_that_completes_leaves_no_record()
        {
            var (log, tail) = Log(12000, 6000);
            LogClearEngine.Clear(_shell, Request(log), Ct);
            Assert.Equal(tail, File.ReadAllBytes(log));
            Assert.Empty(KeptTailRecord.Find(directory: _records));
        }

        [Fact]
        public void Pieces_count_only_in_order_and_up_to_the_first_missing_one()
        {
            var kept = Encoding.ASCII.GetBytes("aaaabbbbccccdddd");
            var ends = new long[] { 4, 8, 12, 16 };
            Assert.Equal(16, LogClearEngine.BytesOnHost(Encoding.ASCII.GetBytes("aaaaXbbbbYccccdddd"), kept, ends));
            Assert.Equal(8, LogClearEngine.BytesOnHost(Encoding.ASCII.GetBytes("aaaaXbbbbY"), kept, ends));
            Assert.Equal(4, LogClearEngine.BytesOnHost(Encoding.ASCII.GetBytes("ccccaaaaX"), kept, ends));
            Assert.Equal(0, LogClearEngine.BytesOnHost(Array.Empty<byte>(), kept, ends));
        }

        private static int CountOf(string text, string part)
        {
            var n = 0;
            for (var at = text.IndexOf(part, StringComparison.Ordinal); at >= 0; at = text.IndexOf(part, at + 1, StringComparison.Ordinal)) n++;
            return n;
        }
    }
}
