using MtvRemediation.Infrastructure;
using Xunit;

namespace MtvRemediation.Tests.Esxi
{
    public sealed class HostTextTests
    {
        [Theory]
        [InlineData("Failed to clone disk: Invalid change tracker error code (7228).", "Failed to clone disk: Invalid change tracker error code (7228).")]
        [InlineData("tab\tand\nnewline stay", "tab\tand\nnewline stay")]
        [InlineData("\u001b[2J\u001b]0;owned\u0007x", "\\x1B[2J\\x1B]0;owned\\x07x")]
        [InlineData("\u009b31m C1 CSI and DEL\u007f", "\\x9B31m C1 CSI and DEL\\x7F")]
        [InlineData("progress\r37%", "progress\\x0D37%")]
        [InlineData("\u0000nul", "\\x00nul")]
        public void Host_text_shows_controls_as_escapes(string raw, string shown) =>
            Assert.Equal(shown, HostText.Printable(raw));

        [Fact]
        public void Findings_and_task_directories_keep_the_host_text_exact()
        {
            // The console shows them through the format views (Pester: Diagnosis.Tests.ps1).
            var f = new CloneFailureFinding { Line = "err \u001b[31mred", Source = "esx1:/tmp/vmkfstools-wrapper-\u001b[2J/err" };
            Assert.Equal("err \u001b[31mred", f.Line);
            Assert.Equal("esx1:/tmp/vmkfstools-wrapper-\u001b[2J/err", f.Source);
            var t = new WrapperTaskDirectory { Stderr = "Failed\u001b]0;x\u0007", SourceDisk = "/vmfs/volumes/ds/\u009bvm.vmdk" };
            Assert.Equal("Failed\u001b]0;x\u0007", t.Stderr);
            Assert.Equal("/vmfs/volumes/ds/\u009bvm.vmdk", t.SourceDisk);
        }
    }
}
