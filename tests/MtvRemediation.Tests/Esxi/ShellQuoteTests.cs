using System;
using System.IO;
using System.Text;
using MtvRemediation.Esxi;
using Xunit;

namespace MtvRemediation.Tests.Esxi
{
    public class ShellQuoteTests
    {
        public static TheoryData<string> Hostile => new TheoryData<string>
        {
            "plain",
            "with space",
            "it's",
            "'",
            "''",
            "\"double\"",
            "$(touch pwned)",
            "`touch pwned`",
            "a; touch pwned",
            "a && touch pwned || true",
            "line1\nline2\n",
            "tab\there",
            "back\\slash\\",
            "$HOME ${PATH} $1 $@ $*",
            "glob * ? [a-z]",
            "~root",
            "-n",
            "--",
            "[LocalDS_0] VM's \"disk\" $(1).vmdk",
            "ünïcødé ✓",
            " leading and trailing ",
            "|pipe> redirect< &",
            "#comment",
            "!history",
            "",
        };

        [Theory]
        [MemberData(nameof(Hostile))]
        public void Quoted_value_reaches_a_real_shell_byte_identical_and_runs_nothing(string value)
        {
            var dir = Directory.CreateTempSubdirectory("mtvquote").FullName;
            try
            {
                var cmd = RemoteCommand.Exec("printf", "%s", value);
                var (stdout, exit) = LocalShell.Run(cmd.Text, dir);
                Assert.Equal(0, exit);
                Assert.Equal(Encoding.UTF8.GetBytes(value), stdout);
                Assert.False(File.Exists(Path.Combine(dir, "pwned")), "a quoted argument executed a command");
            }
            finally
            {
                Directory.Delete(dir, true);
            }
        }

        [Fact]
        public void Format_places_quoted_values_into_a_constant_template()
        {
            var cmd = RemoteCommand.Format("test -f {0} && wc -c < {0}", "/var/log/a b.log");
            Assert.Equal("test -f '/var/log/a b.log' && wc -c < '/var/log/a b.log'", cmd.Text);
        }

        [Fact]
        public void Plain_words_stay_readable()
        {
            Assert.Equal("/var/log/vmkfstools-wrapper.log", ShellQuote.Quote("/var/log/vmkfstools-wrapper.log"));
            Assert.Equal("''", ShellQuote.Quote(string.Empty));
            Assert.Equal("'it'\\''s'", ShellQuote.Quote("it's"));
        }

        [Fact]
        public void Nul_is_refused()
        {
            Assert.Throws<ArgumentException>(() => ShellQuote.Quote("a\0b"));
        }

        [Theory]
        [InlineData("\0")]
        [InlineData("\0rm")]
        [InlineData("/var/log/x\0")]
        public void Nul_is_refused_wherever_it_stands(string value)
        {
            var e = Assert.Throws<ArgumentException>(() => ShellQuote.Quote(value));
            Assert.Equal("value", e.ParamName);
            Assert.Contains("NUL", e.Message);
        }

        [Fact]
        public void Null_is_refused()
        {
            Assert.Throws<ArgumentNullException>(() => ShellQuote.Quote(null!));
        }

        // Every character of the plain-word set, including each end of the letter and digit ranges.
        [Theory]
        [InlineData("az")]
        [InlineData("AZ")]
        [InlineData("09")]
        [InlineData("-_./,:=+@")]
        [InlineData("=x")]
        public void Plain_word_characters_are_left_unquoted(string value)
        {
            Assert.Equal(value, ShellQuote.Quote(value));
        }

        // The characters just outside each range ('`' before 'a', '{' after 'z', '[' after 'Z') and
        // the shell's own specials are quoted.
        [Theory]
        [InlineData("`")]
        [InlineData("{")]
        [InlineData("[")]
        [InlineData("~")]
        [InlineData("a b")]
        [InlineData("x*")]
        [InlineData("$")]
        public void Other_characters_are_quoted(string value)
        {
            Assert.Equal("'" + value + "'", ShellQuote.Quote(value));
        }

        [Fact]
        public void Join_quotes_each_value_and_separates_them_with_one_space()
        {
            Assert.Equal("rm -f -- 'a b' '' c", ShellQuote.Join(new[] { "rm", "-f", "--", "a b", "", "c" }));
            Assert.Equal(string.Empty, ShellQuote.Join(Array.Empty<string>()));
        }
    }
}
