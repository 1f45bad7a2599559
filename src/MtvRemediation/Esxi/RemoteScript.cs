using System;
using System.Collections.Concurrent;
using System.IO;
using System.Text;

namespace MtvRemediation.Esxi
{
    /// <summary>
    /// The module's remote shell scripts: <c>src/MtvRemediation/Scripts/*.sh</c>, embedded in the
    /// assembly. A script takes its values as positional parameters (<c>"$1"</c>, <c>"$2"</c>...);
    /// <see cref="RemoteCommand.FromScript"/> prefixes it with <c>set -- 'v1' 'v2'</c>, each value
    /// quoted by <see cref="ShellQuote"/>, so a script is plain sh that shellcheck can read and no
    /// value is ever spliced into its text. A line <c># @include name.sh</c> is replaced by that
    /// script's text (shared shell functions), once per script.
    /// </summary>
    internal static class RemoteScript
    {
        private const string ResourcePrefix = "MtvRemediation.Scripts.";
        private const string IncludeDirective = "# @include ";
        private static readonly ConcurrentDictionary<string, string> Cache = new ConcurrentDictionary<string, string>(StringComparer.Ordinal);

        /// <summary>The names of every embedded script (for the shellcheck test).</summary>
        public static string[] Names()
        {
            var all = typeof(RemoteScript).Assembly.GetManifestResourceNames();
            var names = new System.Collections.Generic.List<string>();
            foreach (var n in all)
                if (n.StartsWith(ResourcePrefix, StringComparison.Ordinal) && n.EndsWith(".sh", StringComparison.Ordinal))
                    names.Add(n.Substring(ResourcePrefix.Length));
            names.Sort(StringComparer.Ordinal);
            return names.ToArray();
        }

        /// <summary>The script's text with its includes expanded.</summary>
        public static string Get(string name) => Cache.GetOrAdd(name, n => Expand(n, 0));

        /// <summary>The script's text exactly as stored (no includes expanded).</summary>
        public static string Raw(string name)
        {
            using var s = typeof(RemoteScript).Assembly.GetManifestResourceStream(ResourcePrefix + name)
                ?? throw new ArgumentException($"No embedded remote script named '{name}'.", nameof(name));
            using var r = new StreamReader(s, new UTF8Encoding(false));
            // Scripts are sent to ash: CR would become part of words.
            return r.ReadToEnd().Replace("\r\n", "\n");
        }

        private static string Expand(string name, int depth)
        {
            if (depth > 4) throw new InvalidOperationException($"Remote script includes nest too deep at '{name}'.");
            var text = Raw(name);
            if (text.IndexOf(IncludeDirective, StringComparison.Ordinal) < 0) return text;
            var sb = new StringBuilder(text.Length * 2);
            foreach (var line in text.Split('\n'))
            {
                if (line.StartsWith(IncludeDirective, StringComparison.Ordinal))
                {
                    sb.Append(Expand(line.Substring(IncludeDirective.Length).Trim(), depth + 1));
                    if (sb.Length > 0 && sb[sb.Length - 1] != '\n') sb.Append('\n');
                }
                else
                {
                    sb.Append(line).Append('\n');
                }
            }
            return sb.ToString();
        }
    }
}
