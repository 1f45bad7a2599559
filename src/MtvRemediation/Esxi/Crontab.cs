using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;

namespace MtvRemediation.Esxi
{
    /// <summary>
    /// A crontab held as exact bytes. Lines are split on LF only and keep their own bytes, so CRLF
    /// lines, odd encodings, comments, environment lines and a missing final newline survive any
    /// edit unchanged. Only lines carrying our tag are ever removed or added.
    /// </summary>
    public sealed class Crontab
    {
        /// <summary>Marks our lines: <c>... # MtvRemediation:log-rotation max=N path='...'</c>.</summary>
        public const string Tag = "# MtvRemediation:log-rotation";

        private readonly List<CrontabLine> _lines;

        private Crontab(List<CrontabLine> lines) => _lines = lines;

        public IReadOnlyList<CrontabLine> Lines => _lines;

        public static Crontab Parse(byte[] bytes)
        {
            var lines = new List<CrontabLine>();
            var start = 0;
            for (var i = 0; i < bytes.Length; i++)
            {
                if (bytes[i] != (byte)'\n') continue;
                lines.Add(new CrontabLine(Slice(bytes, start, i - start), terminated: true));
                start = i + 1;
            }
            if (start < bytes.Length) lines.Add(new CrontabLine(Slice(bytes, start, bytes.Length - start), terminated: false));
            return new Crontab(lines);
        }

        public byte[] ToBytes()
        {
            var total = _lines.Sum(l => l.Content.Length + (l.Terminated ? 1 : 0));
            var buffer = new byte[total];
            var at = 0;
            foreach (var l in _lines)
            {
                Buffer.BlockCopy(l.Content, 0, buffer, at, l.Content.Length);
                at += l.Content.Length;
                if (l.Terminated) buffer[at++] = (byte)'\n';
            }
            return buffer;
        }

        /// <summary>Our rotation entries, parsed.</summary>
        public IReadOnlyList<RotationEntry> RotationEntries()
        {
            var list = new List<RotationEntry>();
            foreach (var l in _lines)
            {
                var e = RotationEntry.TryParse(l.Content);
                if (e != null) list.Add(e);
            }
            return list;
        }

        /// <summary>Removes our entries (for <paramref name="logPath"/> only, or all of ours when null). Returns how many.</summary>
        public int RemoveRotationEntries(string? logPath)
        {
            return _lines.RemoveAll(l =>
            {
                var e = RotationEntry.TryParse(l.Content);
                return e != null && (logPath == null || e.LogPath == logPath);
            });
        }

        /// <summary>
        /// Replaces our entry for the entry's log path (idempotent: any number of ours for that path
        /// become exactly one). Appends at the end; an unterminated last foreign line gets the LF
        /// it needs to stay a separate line (its own bytes are unchanged).
        /// </summary>
        public void SetRotationEntry(RotationEntry entry)
        {
            RemoveRotationEntries(entry.LogPath);
            if (_lines.Count > 0 && !_lines[_lines.Count - 1].Terminated)
            {
                var last = _lines[_lines.Count - 1];
                _lines[_lines.Count - 1] = new CrontabLine(last.Content, terminated: true);
            }
            _lines.Add(new CrontabLine(Encoding.UTF8.GetBytes(entry.ToLine()), terminated: true));
        }

        private static byte[] Slice(byte[] source, int start, int count)
        {
            var b = new byte[count];
            Buffer.BlockCopy(source, start, b, 0, count);
            return b;
        }
    }

    /// <summary>One crontab line: its bytes without the LF, and whether an LF followed it.</summary>
    public sealed class CrontabLine
    {
        public CrontabLine(byte[] content, bool terminated)
        {
            Content = content;
            Terminated = terminated;
        }

        public byte[] Content { get; }
        public bool Terminated { get; }
        public override string ToString() => Encoding.UTF8.GetString(Content);
    }

    /// <summary>
    /// Our cron line: every <c>IntervalMinutes</c>, truncate the log in place when it is larger than
    /// <c>MaxBytes</c>. BusyBox crond runs the command with /bin/sh, so the path is quoted through
    /// <see cref="RemoteCommand.Format"/>; the tag repeats it (quoted) so we find our line again.
    /// </summary>
    public sealed class RotationEntry
    {
        public RotationEntry(string schedule, string logPath, long maxBytes)
        {
            ValidatePath(logPath);
            if (maxBytes < 0) throw new ArgumentOutOfRangeException(nameof(maxBytes));
            Schedule = schedule;
            LogPath = logPath;
            MaxBytes = maxBytes;
        }

        public string Schedule { get; }
        public string LogPath { get; }
        public long MaxBytes { get; }

        public static string ScheduleForInterval(int minutes)
        {
            if (minutes < 1 || minutes > 59) throw new ArgumentOutOfRangeException(nameof(minutes), "Interval must be 1-59 minutes.");
            return minutes == 1 ? "* * * * *" : "*/" + minutes.ToString(CultureInfo.InvariantCulture) + " * * * *";
        }

        /// <summary>The shell command cron runs: truncate in place only when over the limit.</summary>
        public string Command => RemoteCommand.Format(
            "f={0}; [ -f \"$f\" ] && [ $(wc -c < \"$f\") -gt {1} ] && : > \"$f\"",
            LogPath, MaxBytes.ToString(CultureInfo.InvariantCulture)).Text;

        public string ToLine() =>
            Schedule + " " + Command + " " + RemoteCommand.Format(Crontab.Tag + " max={0} path={1}",
                MaxBytes.ToString(CultureInfo.InvariantCulture), LogPath).Text;

        /// <summary>Paths that cannot live on one crontab line (LF, CR) are refused; '%' is refused because some crons treat it as a newline.</summary>
        public static void ValidatePath(string logPath)
        {
            if (string.IsNullOrEmpty(logPath) || logPath[0] != '/')
                throw new ArgumentException("The log path must be an absolute path on the ESXi host.", nameof(logPath));
            if (logPath.IndexOfAny(new[] { '\n', '\r', '%', '\0' }) >= 0)
                throw new ArgumentException("The log path cannot contain a line break, NUL or '%' in a crontab entry.", nameof(logPath));
        }

        /// <summary>Parses one of our lines; null for any other line (foreign lines are never interpreted).</summary>
        public static RotationEntry? TryParse(byte[] content)
        {
            string text;
            try { text = new UTF8Encoding(false, true).GetString(content); }
            catch (DecoderFallbackException) { return null; }
            var at = text.LastIndexOf(" " + Crontab.Tag + " ", StringComparison.Ordinal);
            if (at < 0) return null;
            var tag = text.Substring(at + Crontab.Tag.Length + 2);
            var words = ShellWords.Split(tag);
            if (words == null) return null;
            long? max = null;
            string? path = null;
            foreach (var w in words)
            {
                if (w.StartsWith("max=", StringComparison.Ordinal) && long.TryParse(w.Substring(4), NumberStyles.None, CultureInfo.InvariantCulture, out var m)) max = m;
                else if (w.StartsWith("path=", StringComparison.Ordinal)) path = w.Substring(5);
            }
            if (max == null || path == null) return null;
            var fields = text.Split(new[] { ' ', '\t' }, 6, StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 6) return null;
            var schedule = string.Join(" ", fields, 0, 5);
            try { return new RotationEntry(schedule, path, max.Value); }
            catch (ArgumentException) { return null; }
        }
    }

    /// <summary>Splits text the way sh splits words for the quoting <see cref="ShellQuote"/> produces (plain words, '...', \').</summary>
    internal static class ShellWords
    {
        public static List<string>? Split(string text)
        {
            var words = new List<string>();
            var sb = new StringBuilder();
            var inWord = false;
            for (var i = 0; i < text.Length; i++)
            {
                var c = text[i];
                if (c == '\'')
                {
                    var end = text.IndexOf('\'', i + 1);
                    if (end < 0) return null;
                    sb.Append(text, i + 1, end - i - 1);
                    i = end;
                    inWord = true;
                }
                else if (c == '\\' && i + 1 < text.Length) { sb.Append(text[++i]); inWord = true; }
                else if (c == ' ' || c == '\t')
                {
                    if (inWord) { words.Add(sb.ToString()); sb.Clear(); inWord = false; }
                }
                else { sb.Append(c); inWord = true; }
            }
            if (inWord) words.Add(sb.ToString());
            return words;
        }
    }
}
