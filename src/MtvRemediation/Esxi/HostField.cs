using System;
using System.IO;
using System.Text;
using MtvRemediation.Infrastructure;

namespace MtvRemediation.Esxi
{
    /// <summary>
    /// The one decoder of a field our remote scripts print through their one encoder
    /// (<c>Scripts/field.sh</c>): safe ASCII bytes as themselves, every other byte as <c>%HH</c>. So
    /// a file name or a file's content, whatever bytes it holds, is one field of one line and never
    /// a new record or section.
    /// </summary>
    /// <remarks>
    /// A host's bytes need not be UTF-8 (a file name is any bytes but NUL and '/'). The decoded text
    /// keeps every byte: valid UTF-8 as its characters, each other byte 0xHH as the lone surrogate
    /// U+DCHH (the "surrogateescape" mapping; no valid UTF-8 decodes to a lone surrogate, so the
    /// mapping is reversible: <see cref="ToBytes"/>). Console text shows such a byte as \xHH
    /// (HostText.Printable), the JSON report as the escape \udcHH.
    /// </remarks>
    internal static class HostField
    {
        /// <summary>The text a field stands for.</summary>
        /// <exception cref="FormatException">Not an encoded field (a '%' without two hex digits: the host's encoder failed).</exception>
        public static string Decode(string field) => Text(DecodeBytes(field));

        /// <summary>
        /// Bytes as text: each well-formed UTF-8 sequence as its character, each other byte as
        /// U+DC00 + byte (.NET's decoder fallbacks may not return lone surrogates, hence by hand).
        /// </summary>
        public static string Text(byte[] bytes)
        {
            var sb = new StringBuilder(bytes.Length);
            for (var i = 0; i < bytes.Length;)
            {
                var b = bytes[i];
                if (b < 0x80) { sb.Append((char)b); i++; continue; }
                int length = b >= 0xC2 && b <= 0xDF ? 2 : b >= 0xE0 && b <= 0xEF ? 3 : b >= 0xF0 && b <= 0xF4 ? 4 : 0;
                var cp = length == 2 ? b & 0x1F : length == 3 ? b & 0x0F : b & 0x07;
                var ok = length > 0 && i + length <= bytes.Length;
                for (var k = 1; ok && k < length; k++)
                {
                    ok = (bytes[i + k] & 0xC0) == 0x80;
                    cp = (cp << 6) | (bytes[i + k] & 0x3F);
                }
                // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
                ok = ok && cp >= (length == 2 ? 0x80 : length == 3 ? 0x800 : 0x10000) && cp <= 0x10FFFF && (cp < 0xD800 || cp > 0xDFFF);
                if (!ok) { sb.Append((char)(0xDC00 + b)); i++; continue; }
                if (cp < 0x10000) sb.Append((char)cp);
                else sb.Append(char.ConvertFromUtf32(cp));
                i += length;
            }
            return sb.ToString();
        }

        /// <summary>The text of a section (<see cref="RemoteOps.Sections"/>) that holds one field; "" for none.</summary>
        public static string DecodeSection(string? section) => Decode((section ?? "").Trim());

        /// <summary>The bytes a field stands for.</summary>
        public static byte[] DecodeBytes(string field)
        {
            if (field == null) throw new ArgumentNullException(nameof(field));
            if (field.IndexOf('%') < 0 && IsAscii(field)) return Encoding.ASCII.GetBytes(field);
            using var bytes = new MemoryStream(field.Length);
            for (var i = 0; i < field.Length; i++)
            {
                var c = field[i];
                if (c == '%')
                {
                    if (i + 2 >= field.Length || Hex(field[i + 1]) < 0 || Hex(field[i + 2]) < 0)
                        throw new FormatException($"a malformed field arrived (the host's encoder failed near '{Shown(field, i)}').");
                    bytes.WriteByte((byte)(Hex(field[i + 1]) * 16 + Hex(field[i + 2])));
                    i += 2;
                }
                else if (c < 0x80)
                {
                    bytes.WriteByte((byte)c);
                }
                else
                {
                    // Never printed by the encoder; kept as it arrived rather than dropped.
                    var utf8 = Encoding.UTF8.GetBytes(new[] { c });
                    bytes.Write(utf8, 0, utf8.Length);
                }
            }
            return bytes.ToArray();
        }

        /// <summary>The host's bytes of a decoded text (the reverse of <see cref="Decode"/>).</summary>
        public static byte[] ToBytes(string text)
        {
            using var bytes = new MemoryStream(text.Length);
            var start = 0;
            for (var i = 0; i <= text.Length; i++)
            {
                var escaped = i < text.Length && HostText.IsEscapedByte(text, i);
                if (i < text.Length && !escaped) continue;
                var run = Encoding.UTF8.GetBytes(text.Substring(start, i - start));
                bytes.Write(run, 0, run.Length);
                if (escaped) bytes.WriteByte((byte)(text[i] - 0xDC00));
                start = i + 1;
            }
            return bytes.ToArray();
        }

        private static bool IsAscii(string s)
        {
            foreach (var c in s) if (c >= 0x80) return false;
            return true;
        }

        private static int Hex(char c) =>
            c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;

        private static string Shown(string field, int at) =>
            field.Substring(Math.Max(0, at - 8), Math.Min(field.Length - Math.Max(0, at - 8), 16));
    }
}
