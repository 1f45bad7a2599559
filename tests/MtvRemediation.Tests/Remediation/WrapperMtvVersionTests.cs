using MtvRemediation.Wrapper;
using Xunit;

namespace MtvRemediation.Tests.Remediation
{
    /// <summary>The MTV releases a shell wrapper names (version.mk and SCRIPT_VERSION at v2.11.0-v2.12.5).</summary>
    public class WrapperMtvVersionTests
    {
        [Theory]
        [InlineData("0.3.0", "0.3.0", "2.11")]
        [InlineData("0.3.1", "0.3.1", "2.12.0")]
        [InlineData("0.3.2", "0.3.1", "2.12.1-2.12.3")] // 0.3.2's payload still says 0.3.1
        [InlineData("0.3.3", "0.3.3", "2.12.4 or later")]
        [InlineData("", "0.3.1", "2.12.0-2.12.3")]     // the payload alone cannot tell 0.3.1 from 0.3.2
        [InlineData("", "0.3.3", "2.12.4 or later")]
        [InlineData("0.3.9", "", "2.11 or later")]
        public void Each_vib_names_its_releases(string vib, string script, string expected)
        {
            Assert.Equal(expected, WrapperInventory.ShellMtvVersion(vib, script));
        }
    }
}
