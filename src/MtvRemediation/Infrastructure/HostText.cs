using System.Text;

namespace MtvRemediation.Infrastructure
{
    /// <summary>
    /// Text that came from a host (file names, vmkfstools' stderr, log lines, a command's stderr)
    /// as it may be shown in a console: C0 controls other than tab and line feed, DEL and C1
    /// controls are written as <c>\xHH</c>, so an escape sequence planted in a file name or an
    /// <c>err</c> file cannot move the cursor, clear the screen or retitle the terminal. A host byte
    /// that is not UTF-8 (a lone surrogate from <see cref="Esxi.HostField"/>) is written as
    /// <c>\xHH</c> of that byte. The bytes stay readable (and the JSON report still has every
    /// character, escaped). Objects keep the host's exact text; the format views and the HTML
    /// report show it through <see cref="Printable"/>, which is public for the views alone.
    /// </summary>
    public static class HostText
    {
        public static string Printable(string? text)
        {
            if (string.IsNullOrEmpty(text)) return text ?? "";
            var clean = true;
            for (var i = 0; i < text!.Length && clean; i++) clean = !IsControl(text[i]) && !IsEscapedByte(text, i);
            if (clean) return text;
            var sb = new StringBuilder(text.Length + 16);
            for (var i = 0; i < text.Length; i++)
            {
                var c = text[i];
                var hex = IsControl(c) ? c : IsEscapedByte(text, i) ? c - 0xDC00 : -1;
                if (hex >= 0) sb.Append("\\x").Append(hex.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
                else sb.Append(c);
            }
            return sb.ToString();
        }

        /// <summary>
        /// The character at <paramref name="index"/> stands for a host byte that was not UTF-8: a
        /// lone U+DC80..U+DCFF, as <see cref="Esxi.HostField"/> decodes such a byte.
        /// </summary>
        public static bool IsEscapedByte(string text, int index)
        {
            var c = text[index];
            return c >= '\uDC80' && c <= '\uDCFF' && (index == 0 || !char.IsHighSurrogate(text[index - 1]));
        }

        private static bool IsControl(char c) =>
            (c < 0x20 && c != '\t' && c != '\n') || (c >= 0x7F && c <= 0x9F);
    }
}
