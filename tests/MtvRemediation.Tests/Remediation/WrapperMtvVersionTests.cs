using MtvRemediation.Wrapper;
using Xunit;

namespace MtvRemediation.Tests.Remediation
{
    /// <summary>The MTV releases a wrapper names, and the VIB each release ships (version.mk and SCRIPT_VERSION at v2.9.0-v2.12.5, release-2.9, main).</summary>
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

        [Theory]
        [InlineData("2.9.0", "0.1.1")]
        [InlineData("2.10.7", "0.2.0")]
        [InlineData("2.11.6", "0.3.0")]
        [InlineData("2.12.0", "0.3.1")]
        [InlineData("2.12.3", "0.3.2")]
        [InlineData("2.12.4", "0.3.3")]
        [InlineData("v2.12", "0.3.1")]
        [InlineData("5.0.0", "0.3.3")]
        public void Each_mtv_release_ships_its_vib(string mtv, string vib)
        {
            Assert.Equal(vib, MtvVibVersions.Shipped(MtvVibVersions.Parse(mtv)!));
        }

        // An upgraded cluster keeps its hosts' old VIBs (no install from 2.11.6).
        [Theory]
        [InlineData("0.2.0", "0.3.3", true)]
        [InlineData("0.3.2", "0.3.3", true)]
        [InlineData("0.3.3", "0.3.3", false)]
        [InlineData("0.3.3", "0.3.1", false)]
        [InlineData(null, "0.3.3", null)]
        public void A_vib_older_than_the_clusters_is_flagged(string? host, string shipped, bool? older)
        {
            Assert.Equal(older, MtvVibVersions.IsOlder(host, shipped));
        }
    }
}
