using System;
using System.Linq;
using System.Text;
using System.Threading;
using MtvRemediation.Esxi;
using MtvRemediation.Infrastructure;
using MtvRemediation.Tests.Remediation;
using Xunit;

namespace MtvRemediation.Tests.Esxi
{
    /// <summary>The host field encoding: Scripts/field.sh encodes, <see cref="HostField"/> decodes.</summary>
    public sealed class HostFieldTests
    {
        private const string Safe = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._/:,+=-";

        /// <summary>What field.sh prints for these bytes (for parser tests that write host output by hand).</summary>
        public static string Encode(byte[] bytes) =>
            string.Concat(bytes.Select(b => Safe.IndexOf((char)b) >= 0 ? ((char)b).ToString() : "%" + b.ToString("X2")));

        public static string Encode(string text) => Encode(Encoding.UTF8.GetBytes(text));

        private static byte[] AllBytes() => Enumerable.Range(0, 256).Select(i => (byte)i).ToArray();

        [Fact]
        public void Every_byte_round_trips()
        {
            var all = AllBytes();
            Assert.Equal(all, HostField.DecodeBytes(Encode(all)));
            Assert.Equal(all, HostField.ToBytes(HostField.Decode(Encode(all))));
        }

        [Fact]
        public void Utf8_decodes_to_its_characters_and_other_bytes_to_lone_surrogates()
        {
            Assert.Equal("\u00e9t\u00e9 \ud83d\ude00", HostField.Decode(Encode("\u00e9t\u00e9 \ud83d\ude00")));
            // A lone continuation byte, a truncated sequence, an encoded surrogate, an overlong '/'.
            Assert.Equal("a\udc80b\udcc3", HostField.Decode("a%80b%C3"));
            Assert.Equal("\udced\udcb2\udc80", HostField.Decode("%ED%B2%80"));
            Assert.Equal("\udcc0\udcaf", HostField.Decode("%C0%AF"));
            Assert.Equal(new byte[] { 0xed, 0xb2, 0x80 }, HostField.ToBytes(HostField.Decode("%ED%B2%80")));
        }

        [Theory]
        [InlineData("%")]
        [InlineData("abc%4")]
        [InlineData("%4G")]
        [InlineData("%!")]
        public void A_field_the_encoder_did_not_finish_is_refused(string field)
        {
            Assert.Throws<FormatException>(() => HostField.Decode(field));
        }

        [Fact]
        public void Console_text_shows_a_byte_that_is_not_utf8_as_hex()
        {
            Assert.Equal("i\\xFFx\\x1B[2J\u00e9", HostText.Printable(HostField.Decode("i%FFx%1B[2J%C3%A9".Replace("[", "%5B"))));
        }

        [Fact]
        public void The_json_report_escapes_a_byte_that_is_not_utf8()
        {
            Assert.Equal("\"i\\udcffx\ud83d\ude00\"", JsonOut.Quote(HostField.Decode("i%FFx%F0%9F%98%80")));
        }

        [Fact]
        public async System.Threading.Tasks.Task The_BusyBox_encoder_prints_what_the_decoder_takes_for_every_byte()
        {
            var shell = new BusyboxShell("esx-test");
            var all = AllBytes().Skip(1).ToArray(); // a shell value holds no NUL; field_encode (stdin) does
            var octal = string.Concat(all.Select(b => "\\" + Convert.ToString(b, 8).PadLeft(3, '0')));
            var script = RemoteScript.Get("field.sh") +
                "v=$(printf '" + octal + "'; echo .); field \"${v%.}\"; printf '%s\\n' \"$field\"\n" +
                "printf '\\000\\377\\n' | field_encode; echo\n" +
                "field 'plain/safe-1.0_x:y,z+=w'; printf '%s\\n' \"$field\"\n";
            var r = await shell.RunAsync(RemoteCommand.Script(script), TimeSpan.FromSeconds(30), CancellationToken.None);
            Assert.True(r.ExitStatus == 0, r.Stderr);
            var lines = r.Stdout.Split('\n');
            Assert.Equal(Encode(all), lines[0]);
            Assert.Equal(all, HostField.DecodeBytes(lines[0]));
            Assert.Equal("%00%FF%0A", lines[1]);
            Assert.Equal("plain/safe-1.0_x:y,z+=w", lines[2]);
        }
    }
}
