using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Reflection;
using System.Text.RegularExpressions;
using Xunit;

namespace MtvRemediation.Tests
{
    /// <summary>
    /// Advice points somewhere: every text of the module that names one of its cmdlets with
    /// parameters (next steps, recommendations, hints, plans) names parameters the cmdlet has.
    /// </summary>
    public class AdviceTests
    {
        private static readonly Regex ParameterToken = new Regex(@"(?<![\w-])-([A-Z][A-Za-z]+)\b");

        // The cmdlets of the module with their parameters (static, dynamic and common), by name.
        private static Dictionary<string, HashSet<string>> CmdletParameters()
        {
            var common = new[] { "Verbose", "Debug", "ErrorAction", "WarningAction", "InformationAction", "ProgressAction", "ErrorVariable", "WarningVariable",
                "InformationVariable", "OutVariable", "OutBuffer", "PipelineVariable", "WhatIf", "Confirm" };
            var result = new Dictionary<string, HashSet<string>>(StringComparer.OrdinalIgnoreCase);
            foreach (var type in typeof(RemediationSummary).Assembly.GetTypes().Where(t => !t.IsAbstract && t.GetCustomAttribute<CmdletAttribute>() != null))
            {
                var a = type.GetCustomAttribute<CmdletAttribute>()!;
                var names = new HashSet<string>(common, StringComparer.OrdinalIgnoreCase);
                void Add(Type t)
                {
                    foreach (var p in t.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.GetCustomAttributes<ParameterAttribute>().Any()))
                    {
                        names.Add(p.Name);
                        foreach (var alias in p.GetCustomAttributes<AliasAttribute>().SelectMany(x => x.AliasNames)) names.Add(alias);
                    }
                }
                Add(type);
                if (Activator.CreateInstance(type) is IDynamicParameters dynamic && dynamic.GetDynamicParameters() is { } extra) Add(extra.GetType());
                result[a.VerbName + "-" + a.NounName] = names;
            }
            return result;
        }

        [Fact]
        public void Every_text_that_names_a_cmdlet_names_parameters_it_has()
        {
            var cmdlets = CmdletParameters();
            var names = new Regex(@"\b(" + string.Join("|", cmdlets.Keys.Select(Regex.Escape)) + @")\b");
            var wrong = new List<string>();
            var checkedTexts = 0;
            foreach (var (file, source) in CSharpSource.ModuleSources())
            {
                foreach (var literal in source.Literals)
                {
                    var matches = names.Matches(literal.Text).Cast<Match>().ToList();
                    for (var i = 0; i < matches.Count; i++)
                    {
                        // The command's own words: up to the next cmdlet name, a sentence's end or a clause's.
                        var start = matches[i].Index + matches[i].Length;
                        var end = i + 1 < matches.Count ? matches[i + 1].Index : literal.Text.Length;
                        var words = literal.Text.Substring(start, end - start);
                        var stop = Regex.Match(words, @"(;|\. |\.$|, (or|and|then) |\) )");
                        if (stop.Success) words = words.Substring(0, stop.Index);
                        var cmdlet = matches[i].Value;
                        checkedTexts++;
                        foreach (Match p in ParameterToken.Matches(words))
                            if (!cmdlets[cmdlet].Contains(p.Groups[1].Value))
                                wrong.Add($"{file}:{literal.Line}: {cmdlet} has no -{p.Groups[1].Value}: \"{literal.Text}\"");
                    }
                }
            }
            Assert.True(checkedTexts > 50, $"only {checkedTexts} texts name a cmdlet: the scan is broken");
            Assert.True(wrong.Count == 0, string.Join(Environment.NewLine, wrong));
        }
    }
}
