using System.Linq;
using MtvRemediation.Runbook;
using Xunit;

namespace MtvRemediation.Tests.Remediation
{
    /// <summary>The plan's table (the one confirmation, -WhatIf) fits 100 columns without splitting a word (issue 25 item 9).</summary>
    public class RunbookPlanTableTests
    {
        [Fact]
        public void A_long_description_wraps_at_word_boundaries_under_its_column()
        {
            var words = "log cleared (16.0 MiB; /var 100% used), rotation registered, agents restarted, hostd-tmp max raised to 1024 MB, Disk.MaxLUN set to 1200";
            var lines = RunbookPlanTable.RowLines("esx-prod-rack12-host07.example.com", words).ToList();
            Assert.True(lines.Count > 1);
            Assert.All(lines, l => Assert.True(l.Length <= RunbookPlanTable.Width, $"{l.Length} columns: {l}"));
            Assert.StartsWith("esx-prod-rack12-host07.example.com log cleared", lines[0]);
            Assert.All(lines.Skip(1), l => Assert.StartsWith(new string(' ', 28), l));
            // Every word whole, in order.
            Assert.Equal(words, string.Join(" ", lines.Select((l, i) => i == 0 ? l.Substring("esx-prod-rack12-host07.example.com ".Length) : l.Trim())));
        }

        [Fact]
        public void A_short_row_is_one_line_with_the_name_padded_to_its_column()
        {
            var lines = RunbookPlanTable.RowLines("  app01", "nothing to do").ToList();
            Assert.Equal(new[] { "  app01".PadRight(28) + "nothing to do" }, lines);
        }
    }
}
