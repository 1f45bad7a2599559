using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;

namespace MtvRemediation.Tests
{
    /// <summary>
    /// A C# source file split into code and string literals, enough for the source-scanning tests:
    /// comments are dropped, each string literal becomes a marker in <see cref="Code"/> ("§" and its
    /// index in <see cref="Literals"/>), an interpolated string's holes are scanned as code of their
    /// own (their literals are literals too).
    /// </summary>
    internal sealed class CSharpSource
    {
        /// <summary>A string literal: its text (holes shown as "{}"), its line, and the code of its holes.</summary>
        internal sealed record Literal(int Line, string Text, bool Interpolated, string Holes);

        private readonly string _s;
        private int _i;
        private int _line = 1;

        private CSharpSource(string path, string text)
        {
            Path = path;
            _s = text;
            Code = ReadCode(untilBrace: false);
        }

        public string Path { get; }

        /// <summary>The code without comments, literals replaced by markers.</summary>
        public string Code { get; }

        public List<Literal> Literals { get; } = new List<Literal>();

        public static CSharpSource Read(string path) => new CSharpSource(path, File.ReadAllText(path));

        public static CSharpSource Parse(string text) => new CSharpSource("<text>", text);

        /// <summary>The literal a marker stands for, when <paramref name="expression"/> is exactly one marker.</summary>
        public Literal? AsLiteral(string expression)
        {
            var e = expression.Trim();
            return e.Length > 1 && e[0] == '§' && int.TryParse(e.Substring(1), out var index) ? Literals[index] : null;
        }

        /// <summary>The literals whose markers occur in <paramref name="code"/>, in order.</summary>
        public IEnumerable<Literal> LiteralsIn(string code)
        {
            for (var i = code.IndexOf('§'); i >= 0; i = code.IndexOf('§', i + 1))
            {
                var end = i + 1;
                while (end < code.Length && char.IsDigit(code[end])) end++;
                if (end > i + 1) yield return Literals[int.Parse(code.Substring(i + 1, end - i - 1))];
            }
        }

        /// <summary>The source line of a position in <see cref="Code"/> (a literal's lines follow its marker).</summary>
        public int LineOf(int position) => 1 + Code.Take(position).Count(c => c == '\n');

        private string ReadCode(bool untilBrace)
        {
            var code = new StringBuilder();
            var depth = 0;
            while (_i < _s.Length)
            {
                var c = _s[_i];
                var next = _i + 1 < _s.Length ? _s[_i + 1] : '\0';
                if (c == '/' && next == '/')
                {
                    while (_i < _s.Length && _s[_i] != '\n') _i++;
                    continue;
                }
                if (c == '/' && next == '*')
                {
                    _i += 2;
                    for (; _i < _s.Length && !(_s[_i] == '*' && _i + 1 < _s.Length && _s[_i + 1] == '/'); _i++)
                    {
                        if (_s[_i] == '\n') Newline(code, '\n');
                    }
                    _i += 2;
                    continue;
                }
                if (c == '\'')
                {
                    code.Append(c);
                    _i++;
                    while (_i < _s.Length && _s[_i] != '\'')
                    {
                        if (_s[_i] == '\\') code.Append(_s[_i++]);
                        code.Append(_s[_i++]);
                    }
                    code.Append('\'');
                    _i++;
                    continue;
                }
                var prefix = c == '$' || c == '@' ? (next == '"' ? 1 : (next == '$' || next == '@') && _i + 2 < _s.Length && _s[_i + 2] == '"' ? 2 : 0) : 0;
                if (c == '"' || prefix > 0)
                {
                    var head = _s.Substring(_i, prefix);
                    var line = _line;
                    _i += prefix + 1;
                    code.Append('§').Append(ReadString(head.Contains('$'), head.Contains('@')));
                    code.Append('\n', _line - line);
                    continue;
                }
                if (untilBrace && c == '{') depth++;
                if (untilBrace && c == '}' && depth-- == 0)
                {
                    _i++;
                    return code.ToString();
                }
                Newline(code, c);
                _i++;
            }
            return code.ToString();
        }

        private void Newline(StringBuilder code, char c)
        {
            code.Append(c);
            if (c == '\n') _line++;
        }

        private int ReadString(bool interpolated, bool verbatim)
        {
            var line = _line;
            var index = Literals.Count;
            Literals.Add(null!);
            var text = new StringBuilder();
            var holes = new StringBuilder();
            while (_i < _s.Length)
            {
                var c = _s[_i];
                var next = _i + 1 < _s.Length ? _s[_i + 1] : '\0';
                if (c == '"' && verbatim && next == '"') { text.Append('"'); _i += 2; continue; }
                if (c == '"') { _i++; break; }
                if (c == '\\' && !verbatim) { text.Append(next == 'n' ? '\n' : next == 't' ? '\t' : next); _i += 2; continue; }
                if (interpolated && (c == '{' || c == '}') && next == c) { text.Append(c); _i += 2; continue; }
                if (interpolated && c == '{')
                {
                    _i++;
                    holes.Append(ReadCode(untilBrace: true)).Append(' ');
                    text.Append("{}");
                    continue;
                }
                if (c == '\n') _line++;
                text.Append(c);
                _i++;
            }
            Literals[index] = new Literal(line, text.ToString(), interpolated, holes.ToString());
            return index;
        }

        /// <summary>The arguments of the call whose "(" is at <paramref name="open"/> in <paramref name="code"/>, split at top-level commas.</summary>
        public static List<string> Arguments(string code, int open)
        {
            var args = new List<string>();
            var depth = 0;
            var start = open + 1;
            for (var i = open; i < code.Length; i++)
            {
                var c = code[i];
                if (c == '(' || c == '[' || c == '{') depth++;
                else if (c == ')' || c == ']' || c == '}')
                {
                    if (--depth == 0)
                    {
                        if (i > start || args.Count > 0) args.Add(code.Substring(start, i - start));
                        return args;
                    }
                }
                else if (c == ',' && depth == 1)
                {
                    args.Add(code.Substring(start, i - start));
                    start = i + 1;
                }
            }
            return args;
        }

        /// <summary>The module's sources (src/MtvRemediation, without bin and obj), paths relative to it with '/'.</summary>
        public static IReadOnlyList<(string Relative, CSharpSource Source)> ModuleSources()
        {
            var root = System.IO.Path.Combine(RepoRoot(), "src", "MtvRemediation");
            return Directory.GetFiles(root, "*.cs", SearchOption.AllDirectories)
                .Select(f => System.IO.Path.GetRelativePath(root, f).Replace('\\', '/'))
                .Where(r => !r.StartsWith("bin/", StringComparison.Ordinal) && !r.StartsWith("obj/", StringComparison.Ordinal))
                .OrderBy(r => r, StringComparer.Ordinal)
                .Select(r => (r, Read(System.IO.Path.Combine(root, r))))
                .ToList();
        }

        /// <summary>The repository root: the directory holding MtvRemediation.sln, above the test binaries.</summary>
        public static string RepoRoot()
        {
            for (var dir = AppContext.BaseDirectory; dir != null; dir = System.IO.Path.GetDirectoryName(dir))
            {
                if (File.Exists(System.IO.Path.Combine(dir, "MtvRemediation.sln"))) return dir;
            }
            throw new InvalidOperationException("MtvRemediation.sln not found above " + AppContext.BaseDirectory);
        }
    }
}
