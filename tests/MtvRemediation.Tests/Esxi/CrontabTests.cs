using System.Linq;
using System.Text;
using MtvRemediation.Esxi;
using Xunit;

namespace MtvRemediation.Tests.Esxi
{
    public class CrontabTests
    {
        // VMware's default root crontab (ESXi 7/8), as found on hosts.
        internal const string VmwareDefault =
            "#min hour day mon dow command\n" +
            "1    1    *   *   *   /sbin/tmpwatch.py\n" +
            "1    *    *   *   *   /sbin/auto-backup.sh\n" +
            "0    *    *   *   *   /usr/lib/vmware/vmksummary/log-heartbeat.py\n" +
            "*/5  *    *   *   *   /bin/hostd-probe.sh ++group=host/vim/vmvisor/hostd-probe/stats/sh\n" +
            "00   1    *   *   *   localcli storage core device purge\n";

        private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);
        private static RotationEntry Entry(string path = "/var/log/vmkfstools-wrapper.log", long max = 10 << 20, int minutes = 5) =>
            new RotationEntry(RotationEntry.ScheduleForInterval(minutes), path, max);

        [Theory]
        [InlineData(VmwareDefault)]
        [InlineData("a\r\nb\r\n")]
        [InlineData("no trailing newline")]
        [InlineData("\n\n\n")]
        [InlineData("")]
        public void Parse_then_ToBytes_is_identity(string text)
        {
            Assert.Equal(B(text), Crontab.Parse(B(text)).ToBytes());
        }

        [Fact]
        public void Odd_bytes_survive_a_round_trip()
        {
            var bytes = new byte[] { 0xff, 0xfe, (byte)'\r', (byte)'\n', 0x00, 0x80, (byte)'x' };
            Assert.Equal(bytes, Crontab.Parse(bytes).ToBytes());
        }

        [Fact]
        public void Register_appends_one_line_and_keeps_every_foreign_byte()
        {
            var tab = Crontab.Parse(B(VmwareDefault));
            tab.SetRotationEntry(Entry());
            var text = Encoding.UTF8.GetString(tab.ToBytes());
            Assert.StartsWith(VmwareDefault, text);
            var added = text.Substring(VmwareDefault.Length);
            Assert.EndsWith("\n", added);
            Assert.Single(added.TrimEnd('\n').Split('\n'));
            Assert.StartsWith("*/5 * * * * ", added);
            Assert.Contains(Crontab.Tag, added);
        }

        [Fact]
        public void Registering_twice_or_with_new_parameters_leaves_one_entry()
        {
            var tab = Crontab.Parse(B(VmwareDefault));
            tab.SetRotationEntry(Entry());
            tab.SetRotationEntry(Entry());
            tab.SetRotationEntry(Entry(max: 1 << 20, minutes: 1));
            var e = Assert.Single(tab.RotationEntries());
            Assert.Equal(1 << 20, e.MaxBytes);
            Assert.Equal("* * * * *", e.Schedule);
        }

        [Fact]
        public void Entries_for_different_logs_coexist_and_unregister_by_path()
        {
            var tab = Crontab.Parse(B(VmwareDefault));
            tab.SetRotationEntry(Entry());
            tab.SetRotationEntry(Entry("/var/log/secure-vmkfstools-wrapper.log"));
            Assert.Equal(2, tab.RotationEntries().Count);
            Assert.Equal(1, tab.RemoveRotationEntries("/var/log/secure-vmkfstools-wrapper.log"));
            Assert.Equal("/var/log/vmkfstools-wrapper.log", Assert.Single(tab.RotationEntries()).LogPath);
        }

        [Theory]
        [InlineData(VmwareDefault)]
        [InlineData("SHELL=/bin/sh\r\nMAILTO=\"\"\r\n# comment with # MtvRemediation:log-rotation inside\r\n*/1 * * * * echo x\r\n")]
        [InlineData("   \n\t# indented comment\n@reboot /bin/true\n")]
        public void Register_then_unregister_restores_the_original_bytes(string original)
        {
            var tab = Crontab.Parse(B(original));
            tab.SetRotationEntry(Entry());
            Assert.Equal(1, tab.RemoveRotationEntries(null));
            Assert.Equal(B(original), tab.ToBytes());
        }

        [Fact]
        public void Missing_final_newline_gets_one_so_our_line_stays_separate()
        {
            var tab = Crontab.Parse(B("1 1 * * * /sbin/tmpwatch.py"));
            tab.SetRotationEntry(Entry());
            var text = Encoding.UTF8.GetString(tab.ToBytes());
            Assert.StartsWith("1 1 * * * /sbin/tmpwatch.py\n*/5 ", text);
            Assert.Equal("1 1 * * * /sbin/tmpwatch.py", tab.Lines[0].ToString());
        }

        [Fact]
        public void A_foreign_line_mentioning_the_tag_is_not_ours()
        {
            var tab = Crontab.Parse(B("# MtvRemediation:log-rotation max=1 path=/x\n0 * * * * echo '# MtvRemediation:log-rotation'\n"));
            Assert.Empty(tab.RotationEntries());
            Assert.Equal(0, tab.RemoveRotationEntries(null));
        }

        [Theory]
        [InlineData("/var/log/vmkfstools-wrapper.log")]
        [InlineData("/var/log/it's a log $(reboot) `x`;.log")]
        [InlineData("/vmfs/volumes/datastore 1/[brackets]/log")]
        public void Our_line_parses_back_and_quotes_the_path(string path)
        {
            var entry = Entry(path, 12345);
            var line = entry.ToLine();
            var back = RotationEntry.TryParse(B(line))!;
            Assert.Equal(path, back.LogPath);
            Assert.Equal(12345, back.MaxBytes);
            Assert.Equal("*/5 * * * *", back.Schedule);
            Assert.Contains("f=" + ShellQuote.Quote(path) + ";", line);
            Assert.Contains("-gt 12345", line);
        }

        [Theory]
        [InlineData("relative/path")]
        [InlineData("/var/log/a\nb")]
        [InlineData("/var/log/100%.log")]
        public void Paths_that_cannot_be_a_cron_line_are_refused(string path)
        {
            Assert.Throws<System.ArgumentException>(() => Entry(path));
        }

        // The first character is the one most easily left unchecked: a line break there would end
        // the crontab line before the command.
        [Theory]
        [InlineData("")]
        [InlineData(null)]
        [InlineData("\n/var/log/x.log")]
        [InlineData("/var/log/x.log\n")]
        [InlineData("/var/log/a\rb")]
        [InlineData("/var/log/a\0b")]
        [InlineData("%/var/log/x.log")]
        public void Log_path_rule_names_the_offending_parameter(string? path)
        {
            var e = Assert.Throws<System.ArgumentException>(() => RotationEntry.ValidatePath(path!));
            Assert.Equal("logPath", e.ParamName);
            Assert.Contains(path is { Length: > 0 } && path[0] == '/' ? "line break, NUL or '%'" : "absolute path", e.Message);
        }

        [Fact]
        public void A_negative_size_limit_is_refused_and_zero_is_allowed()
        {
            Assert.Throws<System.ArgumentOutOfRangeException>(() => Entry(max: -1));
            Assert.Equal(0, Entry(max: 0).MaxBytes);
        }

        [Theory]
        [InlineData(1, "* * * * *")]
        [InlineData(2, "*/2 * * * *")]
        [InlineData(59, "*/59 * * * *")]
        public void Interval_becomes_the_minute_field(int minutes, string schedule)
        {
            Assert.Equal(schedule, RotationEntry.ScheduleForInterval(minutes));
        }

        // 0.1.0's line (no log-path rule on it) is still ours: registering replaces it.
        [Fact]
        public void A_line_written_by_0_1_0_is_recognised_and_replaced()
        {
            const string legacy = "*/5 * * * * f=/var/log/x.log; [ -f \"$f\" ] && [ $(wc -c < \"$f\") -gt 100 ] && : > \"$f\" "
                                  + Crontab.Tag + " max=100 path=/var/log/x.log";
            var old = RotationEntry.TryParse(B(legacy))!;
            Assert.Equal("/var/log/x.log", old.LogPath);
            Assert.Equal(100, old.MaxBytes);
            var tab = Crontab.Parse(B(VmwareDefault + legacy + "\n"));
            tab.SetRotationEntry(Entry("/var/log/x.log", 200));
            Assert.Equal(200, Assert.Single(tab.RotationEntries()).MaxBytes);
            Assert.DoesNotContain(legacy, Encoding.UTF8.GetString(tab.ToBytes()));
        }

        [Theory]
        [InlineData("* * * * *")]                                                         // fewer than 6 fields
        [InlineData("*/5 * * * * echo " + Crontab.Tag + " path=/var/log/x.log")]          // no max
        [InlineData("*/5 * * * * echo " + Crontab.Tag + " max=1")]                        // no path
        [InlineData("*/5 * * * * echo " + Crontab.Tag + " max=x path=/var/log/x.log")]    // max not a number
        [InlineData("*/5 * * * * echo " + Crontab.Tag + " max=1 path='/var/log/x.log")]   // unclosed quote
        public void Lines_that_are_not_exactly_ours_are_not_parsed(string line)
        {
            Assert.Null(RotationEntry.TryParse(B(line)));
        }

        [Fact]
        public void A_line_that_is_not_utf8_is_not_ours()
        {
            var line = B(Entry().ToLine());
            line[0] = 0xff;
            Assert.Null(RotationEntry.TryParse(line));
        }

        // The entry that gave the last foreign line its LF records it (eol=ours) and takes it away
        // again when removed last, even with another of our entries after it.
        [Fact]
        public void Two_entries_on_an_unterminated_crontab_unregister_to_the_original_bytes()
        {
            const string original = "1 1 * * * /sbin/tmpwatch.py";
            var tab = Crontab.Parse(B(original));
            tab.SetRotationEntry(Entry("/var/log/a.log"));
            tab.SetRotationEntry(Entry("/var/log/b.log"));
            var text = Encoding.UTF8.GetString(tab.ToBytes());
            Assert.Single(tab.RotationEntries(), e => e.LogPath == "/var/log/a.log" && e.ToLine().EndsWith(" eol=ours", System.StringComparison.Ordinal));
            Assert.DoesNotContain("b.log eol=ours", text);
            Assert.Equal(2, tab.RemoveRotationEntries(null));
            Assert.Equal(B(original), tab.ToBytes());
        }

        // Removing the eol=ours entry while another of ours follows it keeps the foreign line's LF:
        // the line after it still needs it.
        [Fact]
        public void Removing_an_eol_entry_that_is_not_last_keeps_the_newline()
        {
            const string original = "1 1 * * * /sbin/tmpwatch.py";
            var tab = Crontab.Parse(B(original));
            tab.SetRotationEntry(Entry("/var/log/a.log"));
            tab.SetRotationEntry(Entry("/var/log/b.log"));
            Assert.Equal(1, tab.RemoveRotationEntries("/var/log/a.log"));
            Assert.StartsWith(original + "\n*/5 ", Encoding.UTF8.GetString(tab.ToBytes()));
            Assert.True(tab.Lines[0].Terminated);
        }

        [Fact]
        public void An_entry_in_a_crontab_it_created_says_so_and_keeps_saying_so_when_replaced()
        {
            var tab = Crontab.Parse(B(string.Empty));
            tab.SetRotationEntry(Entry(), crontabWasMissing: true);
            var parsed = Assert.Single(Crontab.Parse(tab.ToBytes()).RotationEntries());
            Assert.True(parsed.CreatedFile);
            Assert.EndsWith(" file=ours", tab.Lines[0].ToString());

            tab.SetRotationEntry(Entry(max: 1 << 20)); // new limits: still the line of a crontab we created
            Assert.True(Assert.Single(Crontab.Parse(tab.ToBytes()).RotationEntries()).CreatedFile);
            var foreign = Crontab.Parse(B(VmwareDefault));
            foreign.SetRotationEntry(Entry());
            Assert.False(Assert.Single(foreign.RotationEntries()).CreatedFile);
        }

        // An eol=ours entry alone in the file (nothing before it) is removed without touching anything else.
        [Fact]
        public void An_eol_entry_with_nothing_before_it_is_removed_cleanly()
        {
            var line = new RotationEntry(RotationEntry.ScheduleForInterval(5), "/var/log/x.log", 1, addedFinalNewline: true).ToLine();
            var tab = Crontab.Parse(B(line + "\n"));
            Assert.Equal(1, tab.RemoveRotationEntries(null));
            Assert.Empty(tab.ToBytes());
        }

        [Theory]
        [InlineData(0)]
        [InlineData(60)]
        public void Interval_must_fit_the_minute_field(int minutes)
        {
            Assert.Throws<System.ArgumentOutOfRangeException>(() => RotationEntry.ScheduleForInterval(minutes));
        }

        // Survivors of the mutation run, each a behaviour of its own.
        [Fact]
        public void An_entry_made_by_the_public_constructor_claims_neither_the_final_newline_nor_the_file()
        {
            var line = new RotationEntry("*/5 * * * *", "/var/log/vmkfstools-wrapper.log", 1024).ToLine();
            Assert.DoesNotContain("eol=ours", line);
            Assert.DoesNotContain("file=ours", line);
        }

        [Fact]
        public void An_interval_out_of_range_says_the_range()
        {
            var ex = Assert.Throws<System.ArgumentOutOfRangeException>(() => RotationEntry.ScheduleForInterval(60));
            Assert.Contains("1-59", ex.Message);
        }

        [Fact]
        public void A_path_holding_the_tag_text_is_read_back_from_its_real_tag()
        {
            var e = new RotationEntry("*/5 * * * *", "/var/log/x " + Crontab.Tag + " max=1 path=y", 2048);
            var parsed = RotationEntry.TryParse(System.Text.Encoding.UTF8.GetBytes(e.ToLine()));
            Assert.NotNull(parsed);
            Assert.Equal(e.LogPath, parsed!.LogPath);
            Assert.Equal(2048, parsed.MaxBytes);
        }

        [Fact]
        public void A_line_with_the_tag_that_ends_in_a_backslash_is_not_ours_and_does_not_throw()
        {
            Assert.Null(RotationEntry.TryParse(System.Text.Encoding.UTF8.GetBytes("*/5 * * * * true " + Crontab.Tag + " max=1 path=/var/log/a\\")));
            Assert.Null(RotationEntry.TryParse(System.Text.Encoding.UTF8.GetBytes("*/5 * * * * true " + Crontab.Tag + " max=1 path=\\")));
        }

        [Theory]
        [InlineData("a  b", new[] { "a", "b" })]
        [InlineData("\\' x", new[] { "'", "x" })]
        [InlineData("'it'\\''s' z", new[] { "it's", "z" })]
        public void Shell_words_split_as_sh_splits_our_quoting(string text, string[] words)
        {
            Assert.Equal(words, ShellWords.Split(text));
        }
    }
}
