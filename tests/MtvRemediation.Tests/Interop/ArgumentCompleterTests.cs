using System.Linq;
using System.Management.Automation;
using MtvRemediation.Interop;
using Xunit;

namespace MtvRemediation.Tests.Interop
{
    public class ArgumentCompleterTests
    {
        [Theory]
        [InlineData("esx01.example.com", "esx01.example.com")]
        [InlineData("DC0_H0_VM0", "DC0_H0_VM0")]
        [InlineData("/var/log/vmkfstools-wrapper.log", "/var/log/vmkfstools-wrapper.log")]
        [InlineData("app 01", "'app 01'")]
        [InlineData("it's", "'it''s'")]
        [InlineData("$(rm -rf ~)", "'$(rm -rf ~)'")]
        [InlineData("web[1]", "'web[1]'")]
        public void Completion_text_is_quoted_when_the_parser_would_split_or_expand_it(string name, string expected)
        {
            Assert.Equal(expected, CompletionSupport.Quote(name));
        }

        [Fact]
        public void Completes_by_prefix_case_insensitively_sorted_distinct_and_strips_typed_quotes()
        {
            var values = new[] { "esx02", "ESX01", "esx01", "db01", "esx10 old" };
            var r = CompletionSupport.Complete("'Esx", values).ToList();
            Assert.Equal(new[] { "ESX01", "esx02", "'esx10 old'" }, r.Select(c => c.CompletionText).ToArray());
            Assert.All(r, c => Assert.Equal(CompletionResultType.ParameterValue, c.ResultType));
            Assert.Equal("esx10 old", r[2].ListItemText);
        }
    }
}
