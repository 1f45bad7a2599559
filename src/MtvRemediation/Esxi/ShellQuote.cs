using System;
using System.Collections.Generic;
using System.Text;

namespace MtvRemediation.Esxi
{
    /// <summary>
    /// The one place where remote shell text is made from values. Every value that reaches an
    /// ESXi shell (paths, names, sizes) goes through <see cref="Quote"/>; nothing is concatenated raw.
    /// </summary>
    internal static class ShellQuote
    {
        /// <summary>
        /// POSIX single-quote a value for BusyBox ash: 'it'\''s'. Inside single quotes nothing is
        /// special, so $(), backticks, ;, newlines and spaces arrive byte-identical and run nothing.
        /// </summary>
        public static string Quote(string value)
        {
            if (value is null) throw new ArgumentNullException(nameof(value));
            if (value.IndexOf('\0') >= 0)
                throw new ArgumentException("A remote argument cannot contain a NUL character.", nameof(value));
            if (value.Length > 0 && IsPlainWord(value)) return value;
            var sb = new StringBuilder(value.Length + 2);
            sb.Append('\'');
            foreach (var c in value)
            {
                if (c == '\'') sb.Append("'\\''");
                else sb.Append(c);
            }
            sb.Append('\'');
            return sb.ToString();
        }

        /// <summary>Quote each value and join them with single spaces.</summary>
        public static string Join(IEnumerable<string> values)
        {
            var parts = new List<string>();
            foreach (var v in values) parts.Add(Quote(v));
            return string.Join(" ", parts);
        }

        // Words made only of these characters need no quoting; keeps commands readable in -Verbose.
        private static bool IsPlainWord(string value)
        {
            foreach (var c in value)
            {
                var ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                         || c == '-' || c == '_' || c == '.' || c == '/' || c == ',' || c == ':' || c == '=' || c == '+' || c == '@';
                if (!ok) return false;
            }
            // A leading '=' or '-' is harmless to the shell; callers pass '--' where a tool needs it.
            return true;
        }
    }
}
