using MtvRemediation;
using MtvRemediation.Runbook;
using Xunit;

namespace MtvRemediation.Tests.Remediation
{
    public class RunbookCronLimitTests
    {
        [Theory]
        [InlineData(0L, 20)]                     // volume unknown: the requested limit
        [InlineData(16L * 1024 * 1024, 4)]       // 16 MiB lab /var: a quarter, so the job fires before /var fills
        [InlineData(4L * 1024 * 1024 * 1024, 20)] // large OSDATA volume: the requested limit
        [InlineData(2L * 1024 * 1024, 1)]        // tiny volume: never below 1 MB
        public void Caps_the_job_limit_at_a_quarter_of_the_volume(long volumeBytes, int expectedMB)
        {
            var host = new RunbookHostState("esx01") { Before = new LogSpaceStatus { VolumeSizeBytes = volumeBytes } };
            Assert.Equal(expectedMB, RunbookEngine.CronMaxSizeMBFor(host, new RunbookOptions { CronMaxSizeMB = 20 }));
        }
    }
}
