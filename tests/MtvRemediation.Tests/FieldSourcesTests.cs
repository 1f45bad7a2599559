using System;
using System.Collections.Generic;
using System.ComponentModel;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;
using Xunit;

namespace MtvRemediation.Tests
{
    /// <summary>
    /// The remote facts the code depends on have one home, docs/field-sources.md: no tracked file
    /// names another document for them, and every pointer into it names one of its headings.
    /// </summary>
    public class FieldSourcesTests
    {
        private const string Document = "docs/field-sources.md";

        // The name of the design document the field sources replace, in two parts so that this
        // file does not carry it.
        private static readonly string ReplacedDocument = "FIELD" + "-FACTS";

        private static readonly Regex Reference = new Regex(@"docs/field-sources\.md#(?<anchor>[\w-]+)", RegexOptions.CultureInvariant);
        private static readonly Regex MarkdownLink = new Regex(@"\]\((?<path>[^)#\s]*field-sources\.md)#", RegexOptions.CultureInvariant);
        private static readonly Regex LinkWithinDocument = new Regex(@"\]\(#(?<anchor>[\w-]+)\)", RegexOptions.CultureInvariant);

        [Fact]
        public void No_tracked_file_refers_to_a_second_document_of_field_facts()
        {
            var root = CSharpSource.RepoRoot();
            var hits = new List<string>();
            foreach (var (path, lines) in TrackedTextFiles(root))
                for (var i = 0; i < lines.Length; i++)
                    if (lines[i].IndexOf(ReplacedDocument, StringComparison.OrdinalIgnoreCase) >= 0)
                        hits.Add($"{path}:{i + 1}");

            Assert.True(hits.Count == 0,
                $"These lines refer to {ReplacedDocument}, which is not part of the repository; point them at {Document} instead:\n" + string.Join("\n", hits));
        }

        [Fact]
        public void Every_reference_into_the_field_sources_names_one_of_its_headings()
        {
            var root = CSharpSource.RepoRoot();
            var document = Path.Combine(root, Document.Replace('/', Path.DirectorySeparatorChar));
            Assert.True(File.Exists(document), $"{Document} is missing.");
            var anchors = Anchors(File.ReadAllLines(document));

            var found = 0;
            var broken = new List<string>();
            foreach (var (path, lines) in TrackedTextFiles(root))
            {
                var directory = Path.GetDirectoryName(Path.Combine(root, path))!;
                for (var i = 0; i < lines.Length; i++)
                {
                    foreach (Match m in Reference.Matches(lines[i]))
                    {
                        found++;
                        if (!anchors.Contains(m.Groups["anchor"].Value)) broken.Add($"{path}:{i + 1}: #{m.Groups["anchor"].Value} is no heading");
                    }
                    foreach (Match m in MarkdownLink.Matches(lines[i]))
                    {
                        var target = Path.GetFullPath(Path.Combine(directory, m.Groups["path"].Value.Replace('/', Path.DirectorySeparatorChar)));
                        if (!string.Equals(target, Path.GetFullPath(document), StringComparison.Ordinal))
                            broken.Add($"{path}:{i + 1}: the link '{m.Groups["path"].Value}' does not lead to {Document}");
                    }
                }
            }

            var own = File.ReadAllLines(document);
            for (var i = 0; i < own.Length; i++)
                foreach (Match m in LinkWithinDocument.Matches(own[i]))
                    if (!anchors.Contains(m.Groups["anchor"].Value)) broken.Add($"{Document}:{i + 1}: #{m.Groups["anchor"].Value} is no heading");

            Assert.True(found > 0, $"No reference to {Document}#<heading> found: the scan is broken.");
            Assert.True(broken.Count == 0,
                $"References into {Document} that lead nowhere (its headings: {string.Join(", ", anchors.OrderBy(a => a, StringComparer.Ordinal))}):\n" + string.Join("\n", broken));
        }

        [Theory]
        [InlineData("3. ESXi shell and storage", "3-esxi-shell-and-storage")]
        [InlineData("7. vCenter and the vSphere API", "7-vcenter-and-the-vsphere-api")]
        [InlineData("`vdf` (rounded): sizes", "vdf-rounded-sizes")]
        public void Anchors_follow_GitHub_rules(string heading, string anchor)
        {
            Assert.Contains(anchor, Anchors(new[] { "## " + heading }));
        }

        /// <summary>
        /// GitHub's heading anchors: lower case, every character but letters, digits, '-', '_' and
        /// spaces dropped, spaces turned into '-'; a repeated anchor gets "-1", "-2", ...
        /// Headings inside fenced code blocks do not count.
        /// </summary>
        internal static HashSet<string> Anchors(IEnumerable<string> markdownLines)
        {
            var anchors = new HashSet<string>(StringComparer.Ordinal);
            var fenced = false;
            foreach (var line in markdownLines)
            {
                var trimmed = line.TrimStart();
                if (trimmed.StartsWith("```", StringComparison.Ordinal) || trimmed.StartsWith("~~~", StringComparison.Ordinal)) { fenced = !fenced; continue; }
                if (fenced) continue;
                var m = Regex.Match(line, @"^ {0,3}#{1,6}[ \t]+(?<text>.*?)[ \t#]*$");
                if (!m.Success) continue;
                var slug = new StringBuilder();
                foreach (var c in m.Groups["text"].Value.ToLowerInvariant())
                {
                    if (char.IsLetterOrDigit(c) || c == '-' || c == '_') slug.Append(c);
                    else if (c == ' ') slug.Append('-');
                }
                var anchor = slug.ToString();
                for (var n = 1; anchors.Contains(anchor); n++) anchor = slug + "-" + n.ToString(System.Globalization.CultureInfo.InvariantCulture);
                anchors.Add(anchor);
            }
            return anchors;
        }


        /// <summary>
        /// The repository's tracked text files (git ls-files; without git, every file outside .git,
        /// bin, obj and out) as (path relative to the root, lines). Symbolic links and files with a
        /// NUL byte in their first 8 KiB are left out.
        /// </summary>
        private static IEnumerable<(string Path, string[] Lines)> TrackedTextFiles(string root)
        {
            foreach (var relative in TrackedPaths(root))
            {
                var full = Path.Combine(root, relative.Replace('/', Path.DirectorySeparatorChar));
                if (!File.Exists(full) || (File.GetAttributes(full) & FileAttributes.ReparsePoint) != 0) continue;
                var bytes = File.ReadAllBytes(full);
                if (Array.IndexOf(bytes, (byte)0, 0, Math.Min(bytes.Length, 8192)) >= 0) continue;
                yield return (relative, Encoding.UTF8.GetString(bytes).Replace("\r\n", "\n").Split('\n'));
            }
        }

        private static IEnumerable<string> TrackedPaths(string root)
        {
            string? listing = null;
            try
            {
                var start = new ProcessStartInfo("git", "ls-files -z")
                {
                    WorkingDirectory = root,
                    RedirectStandardOutput = true,
                    RedirectStandardError = true,
                    UseShellExecute = false,
                };
                using var git = Process.Start(start)!;
                var stderr = git.StandardError.ReadToEndAsync();
                var stdout = git.StandardOutput.ReadToEnd();
                git.WaitForExit();
                stderr.Wait();
                if (git.ExitCode == 0) listing = stdout;
            }
            catch (Win32Exception)
            {
                // No git on this machine: fall back to the file system below.
            }
            if (listing != null) return listing.Split(new[] { '\0' }, StringSplitOptions.RemoveEmptyEntries);

            var skipped = new[] { ".git", "bin", "obj", "out" };
            return Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
                .Select(f => f.Substring(root.Length + 1).Replace(Path.DirectorySeparatorChar, '/'))
                .Where(f => !f.Split('/').Any(part => skipped.Contains(part, StringComparer.Ordinal)))
                .ToList();
        }
    }
}
