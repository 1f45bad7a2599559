using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Reflection;
using System.Text.RegularExpressions;
using MtvRemediation.Commands;
using MtvRemediation.Infrastructure;
using Xunit;

namespace MtvRemediation.Tests
{
    /// <summary>
    /// The error contract, read from the module's source: every error id comes from the one table
    /// (Infrastructure/ErrorIds.cs), only Commands/ErrorRecords.cs names the module's cmdlets (engines
    /// and cmdlets set MtvException.Next/RerunCompletes), and a warning carries no error id (a failure
    /// is an error record with its id, a notice is a warning without one).
    /// </summary>
    public class ErrorContractTests
    {
        private const string IdTable = "Infrastructure/ErrorIds.cs";
        private const string CmdletNamer = "Commands/ErrorRecords.cs";

        /// <summary>Literals that may name a cmdlet of the module, each for its reason (file, and a fragment of the literal; null: any literal of the file).</summary>
        private static readonly (string File, string? Fragment, string Reason)[] CmdletNameAllowed =
        {
            ("Diagnosis/CloneFailureSignatures.cs", null,
                "output data: a finding's Remediation column is the command that fixes it, the purpose of Find-MtvCloneFailure"),
            ("Cluster/MtvClusterObjects.cs", null,
                "output data: a cluster finding's Remediation column is the command to run next"),
            ("VSphere/SshServiceRecord.cs", "-StartSshService",
                "output data: a PendingOperation's ResumeCommand is the command that finishes it (stops SSH an ended run left running)"),
            ("Esxi/HostKeyVerifier.cs", null,
                "a host-key refusal prints the exact Connect-EsxiShell command line (address, port, known-hosts file, fingerprint) " +
                "that pins the key; only the verifier knows those facts, and the refusal must be complete wherever the connection is opened"),
            ("HostLog/KeptTailRecord.cs", "Clear-VmkfstoolsWrapperLog -VMHost",
                "output data: a pending operation's ResumeCommand is the command line that finishes it (host, log path and -KeepLastLines from its record)"),
        };

        /// <summary>Warnings that may carry an id (file, and the id constant they name).</summary>
        private static readonly (string File, string Id, string Reason)[] WarningIdAllowed =
        {
        };

        private static readonly IReadOnlyList<(string Relative, CSharpSource Source)> Sources = CSharpSource.ModuleSources();

        [Fact]
        public void No_error_id_literal_outside_the_id_table()
        {
            var ids = new HashSet<string>(ErrorIds.All(), StringComparer.Ordinal);
            Assert.True(ids.Count > 50);
            var errorIdParameters = ErrorIdParameters();
            var found = new List<string>();
            foreach (var (file, source) in Sources.Where(s => s.Relative != IdTable))
            {
                found.AddRange(source.Literals.Where(l => !l.Interpolated && ids.Contains(l.Text))
                    .Select(l => $"{file}:{l.Line}: \"{l.Text}\" is an error id: use its constant from {IdTable}"));
                foreach (Match call in Regex.Matches(source.Code, @"\b(\w+)\s*(?:<[^<>()]*>)?\s*\("))
                {
                    if (!errorIdParameters.TryGetValue(call.Groups[1].Value, out var overloads)) continue;
                    var args = CSharpSource.Arguments(source.Code, call.Index + call.Length - 1);
                    var positions = overloads.Where(o => o.MinArgs <= args.Count && args.Count <= o.MaxArgs).Select(o => o.Position).ToList();
                    foreach (var (arg, position) in args.Select((a, i) => (a, i)))
                    {
                        var named = Regex.Match(arg, @"^\s*errorId\s*:(.*)$", RegexOptions.Singleline);
                        var literal = source.AsLiteral(named.Success ? named.Groups[1].Value : arg);
                        if (literal != null && (named.Success || positions.Contains(position)))
                            found.Add($"{file}:{literal.Line}: \"{literal.Text}\" is passed as the error id of {call.Groups[1].Value}: add it to {IdTable}");
                    }
                }
            }
            Assert.True(found.Count == 0, "Error ids outside the table:\n" + string.Join("\n", found.Distinct()));
        }

        [Fact]
        public void No_cmdlet_name_outside_ErrorRecords_and_the_reasoned_exceptions()
        {
            var names = ExportedCmdletNames();
            Assert.True(names.Count >= 19);
            var pattern = new Regex(@"(?<![\w-])(" + string.Join("|", names.Select(Regex.Escape)) + @")(?![\w-])");
            var found = new List<string>();
            foreach (var (file, source) in Sources.Where(s => s.Relative != CmdletNamer))
            {
                foreach (var literal in source.Literals)
                {
                    var m = pattern.Match(literal.Text);
                    if (!m.Success) continue;
                    if (CmdletNameAllowed.Any(a => a.File == file && (a.Fragment == null || literal.Text.Contains(a.Fragment, StringComparison.Ordinal)))) continue;
                    found.Add($"{file}:{literal.Line}: names {m.Value}: \"{literal.Text}\"");
                }
            }
            Assert.True(found.Count == 0,
                $"Cmdlet names outside {CmdletNamer} (set MtvException.Next or RerunCompletes, or compose the text with ErrorRecords.NextCommandText):\n" + string.Join("\n", found));
        }

        [Fact]
        public void No_warning_carries_an_error_id()
        {
            var ids = ErrorIds.All().Where(i => i != ErrorIds.VimFaultPrefix).ToList();
            var idWord = new Regex(@"(?<![\w.])(" + string.Join("|", ids.Select(Regex.Escape)) + @")(?!\w)");
            var idCode = new Regex(@"\b\w*ErrorIds\.\w+|\.ErrorId\b");
            var found = new List<string>();
            foreach (var (file, source) in Sources)
            {
                foreach (Match call in Regex.Matches(source.Code, @"\bWriteWarning\s*\("))
                {
                    var args = CSharpSource.Arguments(source.Code, call.Index + call.Length - 1);
                    if (args.Count == 0) continue;
                    var text = args[0];
                    var literals = source.LiteralsIn(text).ToList();
                    var code = text + " " + string.Join(" ", literals.Select(l => l.Holes));
                    var hits = idCode.Matches(code).Select(m => m.Value.TrimStart('.'))
                        .Concat(literals.SelectMany(l => idWord.Matches(l.Text).Select(m => m.Value)))
                        .Where(hit => !WarningIdAllowed.Any(a => a.File == file && a.Id == hit))
                        .ToList();
                    if (hits.Count > 0)
                        found.Add($"{file}:{source.LineOf(call.Index)}: WriteWarning with {string.Join(", ", hits)}");
                }
            }
            Assert.True(found.Count == 0,
                "Warnings carrying an error id (a failure is an error record with the id; a notice is a warning without it):\n" + string.Join("\n", found));
        }

        [Fact]
        public void The_scanner_sees_literals_holes_and_calls_and_skips_comments()
        {
            var source = CSharpSource.Parse(
                "// \"InComment\"\n/* \"InBlock\" */ var a = \"Plain\"; var b = @\"Verb\"\"atim\";\n" +
                "var c = $\"x {Ids.One} {(f ? \"Nested\" : 'y')} {{z}}\"; Call(\"first\", second, errorId: \"Named\");");
            Assert.Equal(new[] { "Plain", "Verb\"atim", "x {} {} {z}", "Nested", "first", "Named" }.OrderBy(t => t), source.Literals.Select(l => l.Text).OrderBy(t => t));
            Assert.Contains("Ids.One", source.Literals.Single(l => l.Interpolated).Holes);
            var call = source.Code.IndexOf("Call(", StringComparison.Ordinal) + 4;
            var args = CSharpSource.Arguments(source.Code, call);
            Assert.Equal(3, args.Count);
            Assert.Equal("first", source.AsLiteral(args[0])!.Text);
            Assert.Equal(3, source.LineOf(call));
            Assert.Equal(3, source.Literals.Single(l => l.Text == "Named").Line);
        }

        /// <summary>
        /// Method and constructor names of the module (and ErrorRecord) with an errorId parameter: per
        /// overload, the argument counts it accepts and the errorId's position.
        /// </summary>
        private static Dictionary<string, List<(int MinArgs, int MaxArgs, int Position)>> ErrorIdParameters()
        {
            const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
            var methods = typeof(ErrorIds).Assembly.GetTypes()
                .SelectMany(t => t.GetMethods(all).Cast<MethodBase>().Concat(t.GetConstructors(all)))
                .Concat(typeof(ErrorRecord).GetConstructors());
            var result = new Dictionary<string, List<(int, int, int)>>(StringComparer.Ordinal);
            foreach (var method in methods)
            {
                var parameters = method.GetParameters();
                var errorId = parameters.FirstOrDefault(p => p.ParameterType == typeof(string) && p.Name == "errorId");
                if (errorId == null) continue;
                var name = method.IsConstructor ? method.DeclaringType!.Name : method.Name;
                if (!result.TryGetValue(name, out var overloads)) result[name] = overloads = new List<(int, int, int)>();
                overloads.Add((parameters.Count(p => !p.IsOptional), parameters.Length, errorId.Position));
            }
            Assert.Contains("MtvException", result.Keys);
            Assert.Contains("Record", result.Keys);
            return result;
        }

        /// <summary>The manifest's CmdletsToExport and every [Cmdlet] of the assembly.</summary>
        private static IReadOnlyList<string> ExportedCmdletNames()
        {
            var manifest = File.ReadAllText(Path.Combine(CSharpSource.RepoRoot(), "MtvRemediation.psd1"));
            var list = Regex.Match(manifest, @"CmdletsToExport\s*=\s*@\(([^)]*)\)").Groups[1].Value;
            var exported = Regex.Matches(list, @"'([^']+)'").Select(m => m.Groups[1].Value);
            var declared = typeof(GetEsxiShellCommand).Assembly.GetTypes()
                .Select(t => t.GetCustomAttribute<CmdletAttribute>())
                .Where(a => a != null)
                .Select(a => a!.VerbName + "-" + a.NounName);
            return exported.Concat(declared).Distinct(StringComparer.Ordinal).OrderByDescending(n => n.Length).ToList();
        }
    }
}
