using System;
using System.Linq;
using MtvRemediation.Diagnosis;
using Xunit;

namespace MtvRemediation.Tests.Remediation
{
    public class CloneFailureSignaturesTests
    {
        [Theory]
        [InlineData("DiskIoError")]
        [InlineData("diskioerror")]
        [InlineData("XCOPYNOTUSED")]
        public void Get_finds_a_signature_by_name_in_any_case(string name)
        {
            Assert.Equal(name, CloneFailureSignatures.Get(name).Name, StringComparer.OrdinalIgnoreCase);
        }

        [Fact]
        public void Get_refuses_an_unknown_name()
        {
            var e = Assert.Throws<ArgumentException>(() => CloneFailureSignatures.Get("DiskFull"));
            Assert.Equal("name", e.ParamName);
            Assert.Contains("DiskFull", e.Message);
        }

        // The host's token lists: every token once, the frequent signature's spellings apart from the rest.
        [Fact]
        public void Token_lists_split_rare_and_frequent_signatures_without_duplicates()
        {
            var rare = CloneFailureSignatures.All.Where(s => !s.Frequent).SelectMany(s => s.GrepTokens).Distinct().ToList();
            var frequent = CloneFailureSignatures.All.Where(s => s.Frequent).SelectMany(s => s.GrepTokens).Distinct().ToList();
            Assert.Equal(rare, CloneFailureSignatures.RareGrepTokens);
            Assert.Equal(frequent, CloneFailureSignatures.FrequentGrepTokens);
            Assert.Equal(rare.Concat(frequent).Distinct(), CloneFailureSignatures.AllGrepTokens);
            Assert.Contains("xcopyUsed=0", CloneFailureSignatures.FrequentGrepTokens);
            Assert.DoesNotContain("xcopyUsed=0", CloneFailureSignatures.RareGrepTokens);
        }

        [Fact]
        public void Host_patterns_join_every_signature_or_only_the_frequent_ones()
        {
            Assert.Equal(string.Join("|", CloneFailureSignatures.All.Select(s => s.GrepPattern)), CloneFailureSignatures.CombinedGrepPattern);
            Assert.Equal(CloneFailureSignatures.Get(CloneFailureSignatures.XcopyNotUsed).GrepPattern, CloneFailureSignatures.FrequentAwkPattern);
        }

        // One line that several signatures match: the lowest priority number wins, whatever the table order.
        [Fact]
        public void The_most_specific_signature_wins_and_the_exit_code_is_kept()
        {
            var s = CloneFailureSignatures.Classify("clone task failed with exit code 255, stderr: Failed to clone disk: No space left on device", out var code);
            Assert.Equal(CloneFailureSignatures.NoSpaceLeft, s!.Name);
            Assert.Equal(255, code);
            var priorities = CloneFailureSignatures.All.Select(x => x.Priority).ToList();
            Assert.Equal(priorities.Distinct().Count(), priorities.Count);
        }

        // forklift's copy-offload README ("Troubleshooting", v2.12.5) quotes the fault this way; how the
        // populator's log line frames it is not on record, so only the fault's own text is used.
        [Fact]
        public void The_missing_vmkfstools_namespace_fault_points_at_the_agent_restart()
        {
            var s = CloneFailureSignatures.Classify("CLI Fault: The object or item referred to could not be found. <obj xsi:type=\"LocalizedMethodFault\"><fault xsi:type=\"NotFound\"></fault>", out _);
            Assert.Equal(CloneFailureSignatures.VibNotLoaded, s!.Name);
            Assert.Equal("Restart-EsxiAgents", s.Remediation);
            Assert.Contains(s.GrepTokens, t => "CLI Fault: The object or item referred to could not be found.".Contains(t));
        }

        [Fact]
        public void A_negative_exit_code_keeps_its_sign()
        {
            var s = CloneFailureSignatures.Classify("vmkfstools exit status -1", out var code);
            Assert.Equal(CloneFailureSignatures.CloneExitCode, s!.Name);
            Assert.Equal(-1, code);
        }
    }
}
