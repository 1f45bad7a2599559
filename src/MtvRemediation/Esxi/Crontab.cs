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
    internal sealed class Crontab
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

        /// <summary>
        /// Removes our entries (for <paramref name="logPath"/> only, or all of ours when null). Returns
        /// how many. An entry that had to give the crontab's unterminated last line its LF (eol=ours)
        /// takes that LF away again when it is the last line, so Register then Unregister leaves the
        /// file byte-identical.
        /// </summary>
        public int RemoveRotationEntries(string? logPath)
        {
            var removed = 0;
            for (var i = _lines.Count - 1; i >= 0; i--)
            {
                var e = RotationEntry.TryParse(_lines[i].Content);
                if (e == null || (logPath != null && e.LogPath != logPath)) continue;
                var wasLast = i == _lines.Count - 1;
                _lines.RemoveAt(i);
                removed++;
                if (e.AddedFinalNewline && wasLast && i > 0 && _lines[i - 1].Terminated && RotationEntry.TryParse(_lines[i - 1].Content) == null)
                    _lines[i - 1] = new CrontabLine(_lines[i - 1].Content, terminated: false);
            }
            return removed;
        }

        /// <summary>
        /// Replaces our entry for the entry's log path (idempotent: any number of ours for that path
        /// become exactly one). Appends at the end; an unterminated last foreign line gets the LF
        /// it needs to stay a separate line (its own bytes are unchanged), and our line records that
        /// (eol=ours) so removing it restores the original bytes. <paramref name="crontabWasMissing"/>:
        /// this edit creates the crontab; our line records that (file=ours), and so does every later
        /// line of ours while one does, so that removing the last of them removes the file again.
        /// </summary>
        public void SetRotationEntry(RotationEntry entry, bool crontabWasMissing = false)
        {
            var createdFile = crontabWasMissing || RotationEntries().Any(e => e.CreatedFile);
            RemoveRotationEntries(entry.LogPath);
            var addedNewline = false;
            if (_lines.Count > 0 && !_lines[_lines.Count - 1].Terminated)
            {
                var last = _lines[_lines.Count - 1];
                _lines[_lines.Count - 1] = new CrontabLine(last.Content, terminated: true);
                addedNewline = true;
            }
            var line = new RotationEntry(entry.Schedule, entry.LogPath, entry.MaxBytes, addedNewline, createdFile);
            _lines.Add(new CrontabLine(Encoding.UTF8.GetBytes(line.ToLine()), terminated: true));
        }

        private static byte[] Slice(byte[] source, int start, int count)
        {
            var b = new byte[count];
            Buffer.BlockCopy(source, start, b, 0, count);
            return b;
        }
    }

    /// <summary>One crontab line: its bytes without the LF, and whether an LF followed it.</summary>
    internal sealed class CrontabLine
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
    /// <c>MaxBytes</c>, and only while the path passes the module's log-path rule at the moment the
    /// job runs (the <c>logpath_kind</c> function of Scripts/logpath.sh, carried on the line: ESXi 8's
    /// execInstalledOnly allows inline sh, not scripts of our own), so a log that became a symlink
    /// after registration is left alone. BusyBox crond runs the command with /bin/sh; the path is
    /// quoted through <see cref="RemoteCommand.Format"/>, and the tag repeats it so we find our line.
    /// A line is ours only when it is byte for byte a line we write (or wrote in 0.1.0), so a path
    /// that contains the tag's own text cannot make a line look like two or like none.
    /// </summary>
    internal sealed class RotationEntry
    {
        public RotationEntry(string schedule, string logPath, long maxBytes) : this(schedule, logPath, maxBytes, false, false) { }

        internal RotationEntry(string schedule, string logPath, long maxBytes, bool addedFinalNewline, bool createdFile = false)
        {
            ValidatePath(logPath);
            if (maxBytes < 0) throw new ArgumentOutOfRangeException(nameof(maxBytes));
            Schedule = schedule;
            LogPath = logPath;
            MaxBytes = maxBytes;
            AddedFinalNewline = addedFinalNewline;
            CreatedFile = createdFile;
        }

        public string Schedule { get; }
        public string LogPath { get; }
        public long MaxBytes { get; }

        /// <summary>True when writing this line gave the crontab's last foreign line its LF (tag word eol=ours).</summary>
        internal bool AddedFinalNewline { get; }

        /// <summary>True when the crontab did not exist before our Register created it (tag word file=ours).</summary>
        internal bool CreatedFile { get; }

        public static string ScheduleForInterval(int minutes)
        {
            if (minutes < 1 || minutes > 59) throw new ArgumentOutOfRangeException(nameof(minutes), "Interval must be 1-59 minutes.");
            return minutes == 1 ? "* * * * *" : "*/" + minutes.ToString(CultureInfo.InvariantCulture) + " * * * *";
        }

        // RemoteCommand.Format, not an embedded script: this text is not sent to a shell but stored
        // as the command field of ONE crontab line, which cron hands to sh itself. A crontab entry
        // cannot span lines (crond reads one entry a line), so the log-path rule's function and the
        // check have to be one line of sh with the values quoted into it; an embedded .sh, whose
        // values arrive on a `set --` line before a multi-line body, does not fit there.
        /// <summary>The shell command cron runs: truncate in place only when over the limit and the path is still a regular file.</summary>
        public string Command => RemoteCommand.Format(
            LogPathFunction + "; f={0}; logpath_kind \"$f\" && [ $(wc -c < \"$f\") -gt {1} ] && : > \"$f\"",
            LogPath, MaxBytes.ToString(CultureInfo.InvariantCulture)).Text;

        /// <summary>0.1.0's command (no log-path rule): still recognised, so Register replaces it and Unregister removes it.</summary>
        private string LegacyCommand => RemoteCommand.Format(
            "f={0}; [ -f \"$f\" ] && [ $(wc -c < \"$f\") -gt {1} ] && : > \"$f\"",
            LogPath, MaxBytes.ToString(CultureInfo.InvariantCulture)).Text;

        // The rule's function text, braces doubled for string.Format.
        private static string LogPathFunction => HostLog.LogPathRule.FunctionLine.Replace("{", "{{").Replace("}", "}}");

        public string ToLine() => Schedule + " " + Command + " " + TagText;

        private string TagText => RemoteCommand.Format(Crontab.Tag + " max={0} path={1}",
            MaxBytes.ToString(CultureInfo.InvariantCulture), LogPath).Text + (AddedFinalNewline ? " eol=ours" : string.Empty) + (CreatedFile ? " file=ours" : string.Empty);

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
            var fields = text.Split(new[] { ' ' }, 6);
            if (fields.Length < 6) return null;
            var schedule = string.Join(" ", fields, 0, 5);
            // Every occurrence of the tag is a candidate (a path may contain the tag's text); the
            // line is ours only if rebuilding it from a candidate gives exactly this line.
            for (var at = text.IndexOf(" " + Crontab.Tag + " ", StringComparison.Ordinal); at >= 0;
                 at = text.IndexOf(" " + Crontab.Tag + " ", at + 1, StringComparison.Ordinal))
            {
                var words = ShellWords.Split(text.Substring(at + Crontab.Tag.Length + 2));
                if (words == null) continue;
                long? max = null;
                string? path = null;
                var eol = false;
                var file = false;
                foreach (var w in words)
                {
                    if (w.StartsWith("max=", StringComparison.Ordinal) && long.TryParse(w.Substring(4), NumberStyles.None, CultureInfo.InvariantCulture, out var m)) max = m;
                    else if (w.StartsWith("path=", StringComparison.Ordinal)) path = w.Substring(5);
                    else if (w == "eol=ours") eol = true;
                    else if (w == "file=ours") file = true;
                }
                if (max == null || path == null) continue;
                var e = TryCreate(schedule, path, max.Value, eol, file);
                if (e == null) continue;
                if (e.ToLine() == text || schedule + " " + e.LegacyCommand + " " + e.TagText == text) return e;
            }
            return null;
        }

        // A tag naming a path our rule refuses is not our line.
        private static RotationEntry? TryCreate(string schedule, string path, long maxBytes, bool eol, bool createdFile)
        {
            try { return new RotationEntry(schedule, path, maxBytes, eol, createdFile); }
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
