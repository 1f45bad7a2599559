using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;

namespace MtvRemediation.Infrastructure
{
    /// <summary>
    /// Minimal streaming JSON writer (netstandard2.0 has no System.Text.Json without a
    /// package). Indented; dates as ISO 8601 UTC; &lt; &gt; &amp; ' escaped as \u00XX so the
    /// text is also safe to embed in HTML.
    /// </summary>
    internal sealed class JsonOut
    {
        private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;
        private readonly TextWriter _w;
        private readonly Stack<bool> _first = new Stack<bool>();
        private bool _afterName;

        public JsonOut(TextWriter w) { _w = w; }

        public void BeginObject() { Value("{"); _first.Push(true); }
        public void EndObject() { Close('}'); }
        public void BeginArray() { Value("["); _first.Push(true); }
        public void EndArray() { Close(']'); }

        public void Name(string name)
        {
            Separator();
            _w.Write(Quote(name));
            _w.Write(": ");
            _afterName = true;
        }

        public void Prop(string name, string? value) { Name(name); if (value == null) Null(); else Value(Quote(value)); }
        public void Prop(string name, long value) { Name(name); Value(value.ToString(Inv)); }
        public void Prop(string name, long? value) { Name(name); if (value.HasValue) Value(value.Value.ToString(Inv)); else Null(); }
        public void Prop(string name, int? value) { Name(name); if (value.HasValue) Value(value.Value.ToString(Inv)); else Null(); }
        public void Prop(string name, double? value) { Name(name); if (value.HasValue && !double.IsNaN(value.Value) && !double.IsInfinity(value.Value)) Value(value.Value.ToString("R", Inv)); else Null(); }
        public void Prop(string name, bool? value) { Name(name); if (value.HasValue) Value(value.Value ? "true" : "false"); else Null(); }
        public void Prop(string name, DateTime? value)
        {
            Name(name);
            if (!value.HasValue) { Null(); return; }
            var t = value.Value.Kind == DateTimeKind.Local ? value.Value.ToUniversalTime() : DateTime.SpecifyKind(value.Value, DateTimeKind.Utc);
            Value(Quote(t.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", Inv)));
        }

        public void Strings(IEnumerable<string> values)
        {
            BeginArray();
            foreach (var v in values) Value(Quote(v ?? ""));
            EndArray();
        }

        public void Null() => Value("null");

        private void Value(string token)
        {
            if (!_afterName) Separator();
            _afterName = false;
            _w.Write(token);
        }

        private void Separator()
        {
            if (_first.Count == 0) return;
            if (!_first.Peek()) _w.Write(',');
            _first.Pop();
            _first.Push(false);
            _w.Write('\n');
            _w.Write(new string(' ', _first.Count * 2));
        }

        private void Close(char c)
        {
            var empty = _first.Pop();
            if (!empty) { _w.Write('\n'); _w.Write(new string(' ', _first.Count * 2)); }
            _w.Write(c);
        }

        /// <summary>
        /// A JSON string literal, also safe inside HTML (&lt; &gt; &amp; ' escaped). A lone surrogate
        /// (a host byte that is not UTF-8, see HostText.IsEscapedByte) is written as its \uXXXX escape: a
        /// UTF-8 writer would otherwise replace it with U+FFFD and lose the byte.
        /// </summary>
        internal static string Quote(string s)
        {
            var sb = new StringBuilder(s.Length + 2);
            sb.Append('"');
            for (var i = 0; i < s.Length; i++)
            {
                var c = s[i];
                if (char.IsSurrogate(c) && !(char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1])))
                {
                    sb.Append("\\u").Append(((int)c).ToString("x4", Inv));
                    continue;
                }
                if (char.IsHighSurrogate(c)) { sb.Append(c).Append(s[++i]); continue; }
                switch (c)
                {
                    case '"': sb.Append("\\\""); break;
                    case '\\': sb.Append("\\\\"); break;
                    case '\n': sb.Append("\\n"); break;
                    case '\r': sb.Append("\\r"); break;
                    case '\t': sb.Append("\\t"); break;
                    default:
                        if (c < 0x20 || c == '<' || c == '>' || c == '&' || c == '\'' || c == '\u2028' || c == '\u2029')
                            sb.Append("\\u").Append(((int)c).ToString("x4", Inv));
                        else sb.Append(c);
                        break;
                }
            }
            sb.Append('"');
            return sb.ToString();
        }
    }
}
