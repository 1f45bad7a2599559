using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace MtvRemediation.Cluster
{
    /// <summary>
    /// A small strict JSON reader (RFC 8259) into Dictionary/List/string/double/bool/null, for the
    /// output of <c>oc get ... -o json</c>: netstandard2.0 has no JSON DOM, and the module ships no
    /// JSON dependency. Several documents may follow each other (concatenated <c>oc</c> outputs).
    /// </summary>
    internal sealed class MiniJson
    {
        private readonly string _s;
        private int _i;

        private MiniJson(string s) { _s = s; }

        /// <summary>Every top-level JSON value in <paramref name="text"/>, in order.</summary>
        /// <exception cref="FormatException">Not JSON; the message names the offset and what was expected.</exception>
        public static List<object?> ParseAll(string text)
        {
            var p = new MiniJson(text);
            var values = new List<object?>();
            p.SkipWs();
            while (p._i < p._s.Length)
            {
                values.Add(p.Value(0));
                p.SkipWs();
            }
            return values;
        }

        private object? Value(int depth)
        {
            if (depth > 256) throw Error("nesting deeper than 256 levels");
            SkipWs();
            if (_i >= _s.Length) throw Error("a value");
            switch (_s[_i])
            {
                case '{': return Obj(depth);
                case '[': return Arr(depth);
                case '"': return Str();
                case 't': Word("true"); return true;
                case 'f': Word("false"); return false;
                case 'n': Word("null"); return null;
                default: return Num();
            }
        }

        private Dictionary<string, object?> Obj(int depth)
        {
            var d = new Dictionary<string, object?>(StringComparer.Ordinal);
            _i++;
            SkipWs();
            if (Peek('}')) { _i++; return d; }
            while (true)
            {
                SkipWs();
                if (!Peek('"')) throw Error("a property name in quotes");
                var key = Str();
                SkipWs();
                Expect(':');
                d[key] = Value(depth + 1);
                SkipWs();
                if (Peek(',')) { _i++; continue; }
                Expect('}');
                return d;
            }
        }

        private List<object?> Arr(int depth)
        {
            var a = new List<object?>();
            _i++;
            SkipWs();
            if (Peek(']')) { _i++; return a; }
            while (true)
            {
                a.Add(Value(depth + 1));
                SkipWs();
                if (Peek(',')) { _i++; continue; }
                Expect(']');
                return a;
            }
        }

        private string Str()
        {
            _i++;
            var sb = new StringBuilder();
            while (true)
            {
                if (_i >= _s.Length) throw Error("the end of a string");
                var c = _s[_i++];
                if (c == '"') return sb.ToString();
                if (c != '\\') { sb.Append(c); continue; }
                if (_i >= _s.Length) throw Error("an escape");
                var e = _s[_i++];
                switch (e)
                {
                    case '"': sb.Append('"'); break;
                    case '\\': sb.Append('\\'); break;
                    case '/': sb.Append('/'); break;
                    case 'b': sb.Append('\b'); break;
                    case 'f': sb.Append('\f'); break;
                    case 'n': sb.Append('\n'); break;
                    case 'r': sb.Append('\r'); break;
                    case 't': sb.Append('\t'); break;
                    case 'u':
                        if (_i + 4 > _s.Length || !int.TryParse(_s.Substring(_i, 4), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var u))
                            throw Error("four hex digits after \\u");
                        sb.Append((char)u);
                        _i += 4;
                        break;
                    default: throw Error("a valid escape");
                }
            }
        }

        private double Num()
        {
            var start = _i;
            while (_i < _s.Length && "+-0123456789.eE".IndexOf(_s[_i]) >= 0) _i++;
            if (start == _i || !double.TryParse(_s.Substring(start, _i - start), NumberStyles.Float, CultureInfo.InvariantCulture, out var v))
            {
                _i = start;
                throw Error("a JSON value");
            }
            return v;
        }

        private void Word(string w)
        {
            if (string.CompareOrdinal(_s, _i, w, 0, w.Length) != 0) throw Error("'" + w + "'");
            _i += w.Length;
        }

        private bool Peek(char c) => _i < _s.Length && _s[_i] == c;

        private void Expect(char c)
        {
            if (!Peek(c)) throw Error("'" + c + "'");
            _i++;
        }

        private void SkipWs()
        {
            while (_i < _s.Length && (_s[_i] == ' ' || _s[_i] == '\t' || _s[_i] == '\n' || _s[_i] == '\r' || _s[_i] == '\uFEFF')) _i++;
        }

        private FormatException Error(string expected)
        {
            var line = 1;
            for (var k = 0; k < _i && k < _s.Length; k++) if (_s[k] == '\n') line++;
            var found = _i < _s.Length ? "'" + _s[_i] + "'" : "the end of the input";
            return new FormatException($"Not valid JSON at line {line} (offset {_i}): expected {expected}, found {found}.");
        }
    }
}
