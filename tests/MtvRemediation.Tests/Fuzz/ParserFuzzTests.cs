using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using MtvRemediation.Diagnosis;
using MtvRemediation.Esxi;
using MtvRemediation.HostLog;
using MtvRemediation.Infrastructure;
using Xunit;

namespace MtvRemediation.Tests.Fuzz
{
    /// <summary>
    /// Seeded fuzz of the parsers that read what ESXi prints (vdf/df/stat -f, the space probe's
    /// sections, crontab, init-script status, wrapper log lines): random, truncated and mutated
    /// input must never crash them. The only exception allowed is the documented one (the space
    /// probe's RemediationException with a clear message). Seeds are fixed: a failure names the seed
    /// and iteration, and reruns identically.
    /// </summary>
    public class ParserFuzzTests
    {
        private const int Iterations = 3000;

        private static readonly string[] VdfSamples =
        {
            "Tardisk                  Space      Used\nsb.v00                    139M      139M\n-----\n" +
            "Ramdisk                   1k-blocks      Used Available Use% Mounted on\n" +
            "root                          32768      2720     30048   8% --\nvar                           49152     49152         0 100% --\n" +
            "tmp                          262144     11728    250416   4% --\n",
            "Ramdisk                   Size      Used Available Use% Mounted on\nroot                       32M        3M       28M  10% --\n" +
            "var                        48M      520K       47M   1% --\ntmp                       256M      255M      364K  99% --\n",
            "Filesystem           1K-blocks      Used Available Use% Mounted on\n/dev/disks/some-very-long-volume-name\n" +
            "                        255868     74532    181336  29% /vmfs/volumes/datastore1\ntmpfs                    16384     16384         0 100% /var\n",
        };

        private static readonly string[] Tokens =
        {
            "", " ", "\t", "\n", "\r\n", "%", "100%", "--", "-", "0", "1", "-1", "1.5G", "99999999999999999999",
            "9223372036854775807", "9223372036854775807T", "4611686018427387904", "NaN", "1e9", "1,5M", "K", "M", "B",
            "Use%", "Mounted on", "1k-blocks", "bytes", "Size", "Capacity", "-----", "@@", "@@log", "@@rc 1", "@@rc ",
            "@@dfk", "@@statf", "@@resolved", "/var", "/", "'", "\"", "$(id)", "`id`", ";", "\\", "\u00e9", "\u202e", "\ud83d\ude00",
            "\0", "hostd is running.", "hostd is not running.", "hostd started.", " is running", "# MtvRemediation:log-rotation ",
            "max=", "path=", "max=1", "path='", "path='/var/log/x.log'", "2026-11-25 22:00:00,123 - ERROR - ",
            "Failed to clone disk: Invalid change tracker error code (7228).", "exit code 255", "(327689)", "xcopyUsed=false",
            "\"xcopyUsed\": false", "XCOPY used: False", "2026-13-45T99:99:99Z", "E1125 22:00:00.000000", "}", "{", "]",
        };

        private static string Mutate(Random rng, string sample)
        {
            var sb = new StringBuilder(sample);
            switch (rng.Next(6))
            {
                case 0: return sample.Substring(0, rng.Next(sample.Length + 1));                 // truncated
                case 1: return RandomText(rng, rng.Next(400));                                   // noise
                default:
                    var edits = 1 + rng.Next(8);
                    for (var e = 0; e < edits; e++)
                    {
                        var at = rng.Next(sb.Length + 1);
                        switch (rng.Next(4))
                        {
                            case 0: sb.Insert(at, Tokens[rng.Next(Tokens.Length)]); break;
                            case 1: if (at < sb.Length) sb.Remove(at, Math.Min(sb.Length - at, 1 + rng.Next(12))); break;
                            case 2: if (at < sb.Length) sb[at] = (char)rng.Next(0, 0x3000); break;
                            default: sb.Insert(at, " " + Tokens[rng.Next(Tokens.Length)] + " "); break;
                        }
                    }
                    return sb.ToString();
            }
        }

        private static string RandomText(Random rng, int length)
        {
            var sb = new StringBuilder(length);
            for (var i = 0; i < length; i++)
            {
                var pick = rng.Next(10);
                sb.Append(pick < 6 ? (char)rng.Next(32, 127) : pick < 8 ? "\n\t %"[rng.Next(4)] : (char)rng.Next(0, 0xD800));
            }
            return sb.ToString();
        }

        private static void ForEachInput(int seed, IReadOnlyList<string> samples, Action<string> check)
        {
            var rng = new Random(seed);
            for (var i = 0; i < Iterations; i++)
            {
                var input = Mutate(rng, samples[rng.Next(samples.Count)]);
                try { check(input); }
                catch (Exception ex) when (!(ex is Xunit.Sdk.XunitException))
                {
                    throw new Xunit.Sdk.XunitException($"seed {seed}, iteration {i}: {ex.GetType().Name}: {ex.Message}\ninput: {Escape(input)}");
                }
            }
        }

        private static string Escape(string s) => string.Concat(s.Select(c => c < 32 || c > 126 ? $"\\u{(int)c:x4}" : c.ToString()));

        [Fact]
        public void SpaceTables_never_throw_and_never_report_negative_sizes()
        {
            ForEachInput(7001, VdfSamples, text =>
            {
                foreach (var e in SpaceParsers.ParseTables(text))
                {
                    Assert.True(e.SizeBytes >= 0 && e.UsedBytes >= 0 && e.FreeBytes >= 0, $"negative size from: {Escape(text)}");
                    // A mount point is absolute, or empty where the tool prints none (vdf's "--").
                    Assert.True(e.MountPoint.Length == 0 || e.MountPoint[0] == '/', $"mount point '{e.MountPoint}' from: {Escape(text)}");
                }
            });
        }

        [Theory]
        [InlineData("Ramdisk 1k-blocks Used Available Use% Mounted on\nvar 9223372036854775807 1 1 1% --\n")]
        [InlineData("Ramdisk Size Used Available Use% Mounted on\nvar 9999999999T 1K 1K 1% --\n")]
        public void SpaceTables_skip_rows_whose_numbers_overflow(string text)
        {
            Assert.Empty(SpaceParsers.ParseTables(text));
        }

        [Fact]
        public void A_unicode_digit_in_a_timestamp_is_no_timestamp_not_a_crash()
        {
            var now = new DateTime(2026, 11, 26, 0, 0, 0, DateTimeKind.Utc);
            Assert.Equal(new DateTime(2026, 11, 25, 22, 0, 0, DateTimeKind.Utc).AddMilliseconds(120), LogTimestamp.Parse("2026-11-25 22:00:00,12\u0d6a0000 - ERROR - x", now));
            Assert.Null(LogTimestamp.Parse("I\u0d6a125 22:00:00.000000 1 x.go:1] msg", now));
            Assert.Equal(new DateTime(2026, 11, 25, 22, 0, 0, DateTimeKind.Utc), LogTimestamp.Parse("2026-11-25 22:00:00,\u0d6a - ERROR - x", now));
        }

        [Fact]
        public void StatFs_never_throws_and_rejects_impossible_numbers()
        {
            ForEachInput(7002, new[] { "4096 4096 1024 1000", "1 16777216 0 0", "4096 9223372036854775807 1 1" }, text =>
            {
                var e = SpaceParsers.ParseStatFs(text, "/var");
                if (e != null) Assert.True(e.SizeBytes >= 0 && e.UsedBytes >= 0 && e.FreeBytes >= 0, $"negative size from: {Escape(text)}");
            });
        }

        [Fact]
        public void SpaceProbe_output_gives_a_status_or_the_documented_error()
        {
            var good =
                "@@resolved\n/var/log/vmkfstools-wrapper.log\n@@log\n1234\n@@secure\n@@vdf\n" + VdfSamples[0] +
                "@@statf\n4096 4096 1024 1000\n@@rc 0\n@@dfk\n" + VdfSamples[2] + "@@tasks\n/tmp/vmkfstools-wrapper-1\n@@stale\n@@vib\nvmkfstools-wrapper\n";
            var documented = 0;
            ForEachInput(7003, new[] { good }, text =>
            {
                try
                {
                    var s = LogSpaceProbe.Parse("esx01", new LogSpaceOptions(), text);
                    Assert.Contains(s.Status, new[] { "Healthy", "Warning", "Critical" });
                    Assert.True(s.VolumeSizeBytes >= 0 && s.VolumeFreeBytes >= 0);
                }
                catch (RemediationException ex)
                {
                    documented++;
                    Assert.Equal(HostRemediationErrorIds.LogSpaceCheckFailed, ex.ErrorId);
                    Assert.Contains("esx01", ex.Message);
                    Assert.False(string.IsNullOrEmpty(ex.RecommendedAction));
                }
            });
            Assert.True(documented > 0, "the fuzz never reached the documented error: the inputs are too tame");
        }

        [Fact]
        public void Crontab_round_trips_every_byte_of_random_input()
        {
            var rng = new Random(7004);
            var tagged = Encoding.UTF8.GetBytes(new RotationEntry("*/5 * * * *", "/var/log/vmkfstools-wrapper.log", 1024).ToLine() + "\n");
            for (var i = 0; i < Iterations; i++)
            {
                byte[] bytes;
                if (rng.Next(3) == 0)
                {
                    bytes = new byte[rng.Next(600)];
                    rng.NextBytes(bytes);
                }
                else
                {
                    var text = Mutate(rng, "0 3 * * * /sbin/tmpwatch.py\r\nSHELL=/bin/sh\n# comment\n" + Encoding.UTF8.GetString(tagged));
                    bytes = Encoding.UTF8.GetBytes(text);
                }
                var tab = Crontab.Parse(bytes);
                Assert.Equal(Convert.ToHexString(bytes), Convert.ToHexString(tab.ToBytes()));
                var ours = tab.RotationEntries();
                foreach (var e in ours) Assert.StartsWith("/", e.LogPath);
                // Removing our entries keeps every other line byte-identical.
                var foreign = tab.Lines.Where(l => RotationEntry.TryParse(l.Content) == null).Select(l => Convert.ToHexString(l.Content)).ToList();
                tab.RemoveRotationEntries(null);
                Assert.Equal(foreign, tab.Lines.Select(l => Convert.ToHexString(l.Content)).ToList());
            }
        }

        [Fact]
        public void Agent_status_parser_never_throws()
        {
            var samples = new[] { "hostd is running.\n", "hostd is not running.\n", "watchdog-hostd: Terminating watchdog process with PID 2099465\nhostd stopped.\nhostd started.\n" };
            ForEachInput(7005, samples, text =>
            {
                var running = AgentStatusParser.ParseStatus("hostd", text);
                AgentStatusParser.ReportsStarted("hostd", text);
                if (running == true) Assert.Contains("running", text, StringComparison.OrdinalIgnoreCase);
            });
        }

        [Fact]
        public void Wrapper_log_lines_are_classified_without_throwing()
        {
            var samples = new[]
            {
                "2026-11-25 22:00:00,123 - ERROR - Failed to clone disk: Invalid change tracker error code (7228).",
                "2026-11-25 22:00:05,001 - ERROR - clone task failed with exit code 255, stderr: Failed to clone disk: Input/output error (327689).",
                "2026-11-25 22:00:10,000 - INFO - XCOPY used: False, clone write ops: 0",
                "E1125 22:00:00.000000       1 populator.go:99] xcopy used reported: 0",
                "{\"level\":\"info\",\"ts\":\"2026-11-25T22:00:00Z\",\"msg\":\"done\",\"xcopyUsed\": false}",
            };
            var now = new DateTime(2026, 11, 26, 0, 0, 0, DateTimeKind.Utc);
            var options = new CloneFailureScanOptions { Now = now, RepeatLimit = 3 };
            var scan = new CloneFailureSourceScan("fuzz", null, null, options);
            var findings = 0;
            ForEachInput(7006, samples, line =>
            {
                CloneFailureSignatures.Classify(line, out var exit);
                LogTimestamp.Parse(line, now);
                if (scan.AddLine(line) != null) findings++;
            });
            findings += scan.Complete().Count();
            Assert.True(findings > 0, "no mutated line was recognised: the fuzz lost its samples");

            // The same lines through the streaming reader, cut at a random point (a truncated file).
            var rng = new Random(7007);
            var all = string.Join("\n", Enumerable.Range(0, 500).Select(_ => Mutate(rng, samples[rng.Next(samples.Length)])));
            var cut = all.Substring(0, rng.Next(all.Length));
            var streamed = new CloneFailureSourceScan("fuzz-stream", null, null, options);
            CloneFailureScanner.ScanReader(new StringReader(cut), streamed, _ => { }, CancellationToken.None);
            Assert.True(streamed.LinesRead > 0);
        }

        [Fact]
        public void Section_splitter_never_throws()
        {
            ForEachInput(7008, new[] { "@@a\n1\n@@rc 0\n@@b\n@@rc 3\ntext\n" }, text => RemoteOps.Sections(text));
        }
    }
}
