using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using Xunit;

namespace MtvRemediation.Tests
{
    /// <summary>
    /// The layout shows the concerns: a folder is a namespace (Output/ is the public root one), and
    /// no two of the module's namespaces depend on each other (read from each file's using lines).
    /// </summary>
    public sealed class LayoutTests
    {
        private static readonly string Root = Path.Combine(CSharpSource.RepoRoot(), "src", "MtvRemediation");

        private static IEnumerable<(string Folder, string File, string Text)> Sources() =>
            Directory.EnumerateFiles(Root, "*.cs", SearchOption.AllDirectories)
                .Select(f => Path.GetRelativePath(Root, f).Replace('\\', '/'))
                .Where(f => !f.StartsWith("obj/", StringComparison.Ordinal) && !f.StartsWith("bin/", StringComparison.Ordinal))
                .Select(f => (f.Contains('/') ? f.Substring(0, f.IndexOf('/')) : "", f, File.ReadAllText(Path.Combine(Root, f))));

        [Fact]
        public void Every_folder_is_its_namespace()
        {
            foreach (var (folder, file, text) in Sources())
            {
                var expected = folder == "" || folder == "Output" ? "MtvRemediation" : "MtvRemediation." + folder;
                foreach (Match m in Regex.Matches(text, @"^namespace ([\w.]+)", RegexOptions.Multiline))
                    Assert.True(m.Groups[1].Value == expected, $"{file} declares {m.Groups[1].Value}; files in {(folder == "" ? "the root" : folder + "/")} belong to {expected}.");
            }
        }

        [Fact]
        public void No_two_namespaces_depend_on_each_other()
        {
            var uses = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
            foreach (var (_, file, text) in Sources())
            {
                var own = Regex.Matches(text, @"^namespace ([\w.]+)", RegexOptions.Multiline).Cast<Match>().Select(m => m.Groups[1].Value).ToList();
                var used = Regex.Matches(text, @"^using (MtvRemediation(?:\.\w+)*);", RegexOptions.Multiline).Cast<Match>().Select(m => m.Groups[1].Value);
                foreach (var n in own)
                {
                    if (!uses.TryGetValue(n, out var set)) uses[n] = set = new HashSet<string>(StringComparer.Ordinal);
                    foreach (var u in used) if (u != n) set.Add(u);
                }
            }
            var cycles = uses.SelectMany(a => a.Value.Where(b => string.CompareOrdinal(a.Key, b) < 0 && uses.TryGetValue(b, out var back) && back.Contains(a.Key))
                .Select(b => a.Key + " <-> " + b)).ToList();
            Assert.True(cycles.Count == 0, "Namespaces that depend on each other: " + string.Join(", ", cycles));
        }
    }
}
