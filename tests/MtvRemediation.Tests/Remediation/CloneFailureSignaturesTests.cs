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

        // A vSAN source on MTV 2.11.1 and later: the populator's own words, not a host fault.
        [Theory]
        [InlineData(CloneFailureLogSamples.StructuredNotVmfs)]
        [InlineData(CloneFailureLogSamples.StructuredNotVmfsFatal)]
        [InlineData(CloneFailureLogSamples.StructuredNoAdapters)]
        public void A_source_datastore_that_is_not_vmfs_is_named_so(string line)
        {
            var s = CloneFailureSignatures.Classify(line, out var code);
            Assert.Equal(CloneFailureSignatures.SourceNotVmfs, s!.Name);
            Assert.Null(code);
            Assert.Contains("Nothing on the ESXi host needs fixing", s.Cause);
            Assert.Contains("without copy offload", s.Remediation);
        }

        [Fact]
        public void A_datastore_with_adapters_is_no_finding()
        {
            Assert.Null(CloneFailureSignatures.Classify(CloneFailureLogSamples.StructuredAdapters, out _));
        }

        [Fact]
        public void Xcopy_not_used_says_for_which_versions_a_vsan_source_explains_it()
        {
            var cause = CloneFailureSignatures.Get(CloneFailureSignatures.XcopyNotUsed).Cause;
            Assert.Contains("2.9.x-2.11.0", cause);
            Assert.Contains("from 2.12.4 a vSAN source never reaches the clone", cause);
        }

        // The wrapper log is the /var suspect only where a wrapper writes one (2.9/2.10).
        [Fact]
        public void Disk_io_error_names_the_suspects_of_each_wrapper_generation()
        {
            var cause = CloneFailureSignatures.Get(CloneFailureSignatures.DiskIoError).Cause;
            Assert.Contains("2.9/2.10 Python wrapper", cause);
            Assert.Contains("hostd-tmp", cause);
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
