using System.Text;

namespace MtvRemediation.Infrastructure
{
    /// <summary>
    /// Text that came from a host (file names, vmkfstools' stderr, log lines, a command's stderr)
    /// as it may be shown in a console: C0 controls other than tab and line feed, DEL and C1
    /// controls are written as <c>\xHH</c>, so an escape sequence planted in a file name or an
    /// <c>err</c> file cannot move the cursor, clear the screen or retitle the terminal. The bytes
    /// stay readable (and the JSON report still has every character, escaped).
    /// </summary>
    internal static class HostText
    {
        public static string Printable(string? text)
        {
            if (string.IsNullOrEmpty(text)) return text ?? "";
            var clean = true;
            foreach (var c in text!) if (IsControl(c)) { clean = false; break; }
            if (clean) return text;
            var sb = new StringBuilder(text.Length + 16);
            foreach (var c in text)
            {
                if (IsControl(c)) sb.Append("\\x").Append(((int)c).ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
                else sb.Append(c);
            }
            return sb.ToString();
        }

        private static bool IsControl(char c) =>
            (c < 0x20 && c != '\t' && c != '\n') || (c >= 0x7F && c <= 0x9F);
    }
}
