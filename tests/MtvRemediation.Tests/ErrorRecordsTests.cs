using System;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Reflection;
using MtvRemediation.Commands;
using MtvRemediation.Esxi;
using MtvRemediation.Infrastructure;
using Xunit;

namespace MtvRemediation.Tests
{
    /// <summary>
    /// Issue 12 point 3: engines return a next step that names no cmdlet; the cmdlet writing the
    /// error names itself ("Then run X again.") and the other command that takes the step.
    /// </summary>
    public class ErrorRecordsTests
    {
        [Fact]
        public void The_cmdlet_names_itself_and_the_next_command_the_engine_only_describes_them()
        {
            var error = new RemediationException(HostRemediationErrorIds.CrontabWriteFailed, ErrorCategory.WriteError,
                "Failed writing the crontab on 'esx01'.", "If /var is full, free space first.")
            { Next = NextCommand.ClearWrapperLog, NextTarget = "esx01", RerunCompletes = true };

            var record = error.ToErrorRecord("esx01", "Register-LogRotationCron");

            Assert.Equal("Failed writing the crontab on 'esx01'. Clear-VmkfstoolsWrapperLog -VMHost 'esx01' frees /var. Then run Register-LogRotationCron -VMHost 'esx01' again.",
                record.ErrorDetails.Message);
            Assert.Equal("If /var is full, free space first. Clear-VmkfstoolsWrapperLog -VMHost 'esx01' frees /var. Then run Register-LogRotationCron -VMHost 'esx01' again.",
                record.ErrorDetails.RecommendedAction);
            Assert.Equal("Failed writing the crontab on 'esx01'.", error.Message);
            Assert.Equal(HostRemediationErrorIds.CrontabWriteFailed, record.FullyQualifiedErrorId);
        }

        [Fact]
        public void A_re_run_from_the_runbook_names_the_runbook_not_the_single_cmdlet()
        {
            // The same engine failure, written by two cmdlets: each names itself.
            var error = new RemediationException(WrapperErrorIds.InventoryFailed, ErrorCategory.ReadError, "esx01: the wrapper inventory did not finish.",
                "Check that the host's shell works.")
            { Next = NextCommand.CheckLogSpace, NextTarget = "esx01", RerunCompletes = true };
            Assert.EndsWith("Then run Get-VmkfstoolsWrapper again.", error.ToErrorRecord(null, "Get-VmkfstoolsWrapper").ErrorDetails.Message);
            Assert.EndsWith("Then run Invoke-MtvRemediation again.", error.ToErrorRecord(null, "Invoke-MtvRemediation").ErrorDetails.Message);
            Assert.DoesNotContain("Get-VmkfstoolsWrapper", error.ToErrorRecord(null, "Invoke-MtvRemediation").ErrorDetails.Message);
        }

        [Fact]
        public void A_re_run_hint_is_a_command_line_for_the_item_it_failed_for()
        {
            var error = new RemediationException(ChangeTrackingErrorIds.VMHasSnapshots, ErrorCategory.InvalidOperation, "VM 'app 1' has 2 snapshots.") { RerunCompletes = true };
            Assert.EndsWith("Then run Reset-VMChangeTracking -VM 'app 1' again.", error.ToErrorRecord("app 1", "Reset-VMChangeTracking").ErrorDetails.Message);
            Assert.EndsWith("Then run Clear-VmkfstoolsWrapperLog -VMHost 'esx01' again.", error.ToErrorRecord("esx01", "Clear-VmkfstoolsWrapperLog").ErrorDetails.Message);
            // An object (a PowerCLI VM) is not written back as text; the runbook's errors are about VMs and hosts: re-run as a whole.
            Assert.EndsWith("Then run Reset-VMChangeTracking again.", error.ToErrorRecord(new object(), "Reset-VMChangeTracking").ErrorDetails.Message);
            Assert.EndsWith("Then run Invoke-MtvRemediation again.", error.ToErrorRecord("esx01", "Invoke-MtvRemediation").ErrorDetails.Message);
        }

        [Fact]
        public void A_missing_session_names_Connect_EsxiShell_only_in_the_record()
        {
            var resolver = EsxiShellResolver.ForCurrentRunspace();
            var host = "no-session-" + Guid.NewGuid().ToString("N").Substring(0, 6);
            var ex = Assert.Throws<EsxiShellException>(() => resolver.Resolve(new MtvRemediation.Esxi.HostTarget(host, host), null, null, null, default));
            Assert.DoesNotContain("Connect-EsxiShell", ex.Message);
            Assert.Equal(NextCommand.ConnectShell, ex.Next);
            var text = ex.ToErrorRecord(host, "Test-VmkfstoolsLogSpace").ErrorDetails.Message;
            Assert.Contains($"Connect-EsxiShell -VMHost '{host}' -Credential <credential> opens a session.", text);
            Assert.Contains("pass -Credential (or -KeyFilePath) to this command", text);
        }

        [Fact]
        public void Every_next_command_names_an_exported_cmdlet()
        {
            var cmdlets = typeof(GetEsxiShellCommand).Assembly.GetExportedTypes()
                .Select(t => t.GetCustomAttribute<CmdletAttribute>())
                .Where(a => a != null)
                .Select(a => a!.VerbName + "-" + a.NounName)
                .ToHashSet(StringComparer.Ordinal);
            foreach (NextCommand n in Enum.GetValues(typeof(NextCommand)))
            {
                var text = ErrorRecords.NextCommandText(n, "esx01");
                if (n == NextCommand.None) { Assert.Null(text); continue; }
                Assert.NotNull(text);
                var named = System.Text.RegularExpressions.Regex.Matches(text!, @"\b[A-Z][a-z]+-[A-Za-z]+\b").Select(m => m.Value)
                    .Where(c => c != "Get-Credential") // PowerShell's own, for the -Credential value
                    .ToArray();
                Assert.NotEmpty(named);
                Assert.All(named, c => Assert.Contains(c, cmdlets));
            }
        }
    }
}
