using System;
using System.Diagnostics;
using System.IO;
using System.Text;
using MtvRemediation.Esxi;
using Xunit;

namespace MtvRemediation.Tests.Esxi
{
    /// <summary>
    /// The guard wrapped around every remote command, run by a real BusyBox ash like ESXi's, in its
    /// own session (setsid) because the guard signals its whole process group.
    /// </summary>
    public class HangupGuardTests
    {
        private static Process Start(string script)
        {
            var psi = new ProcessStartInfo("setsid") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in LocalShell.Shell) psi.ArgumentList.Add(a);
            psi.ArgumentList.Add("-c");
            psi.ArgumentList.Add(script);
            return Process.Start(psi)!;
        }

        [Fact]
        public void Output_stderr_and_exit_status_pass_through_unchanged()
        {
            var value = "it's $(nothing) `here`\nline2";
            var inner = RemoteCommand.Format("printf %s {0}; echo err >&2; exit 7", value).Text;
            using var p = Start(SshEsxiShell.WithHangupGuard(inner));
            // stdin stays open while the command runs, as an SSH channel's does.
            var stdout = p.StandardOutput.ReadToEnd();
            var stderr = p.StandardError.ReadToEnd();
            Assert.True(p.WaitForExit(10000));
            Assert.Equal(7, p.ExitCode);
            Assert.Equal(value, stdout);
            Assert.Equal("err\n", stderr);
            p.StandardInput.Close();
        }

        [Fact]
        public void Closing_the_channel_stops_the_command_and_its_children()
        {
            var marker = Path.Combine(Path.GetTempPath(), "mtv-guard-" + Guid.NewGuid().ToString("N"));
            // The child would write its marker 1 s after it started; the check runs well after that.
            var inner = RemoteCommand.Format("sleep 1; touch {0}", marker).Text;
            using var p = Start(SshEsxiShell.WithHangupGuard(inner));
            System.Threading.Thread.Sleep(300);
            p.StandardInput.Close(); // what sshd does when the channel closes
            Assert.True(p.WaitForExit(5000), "the guarded command did not stop when its stdin closed");
            System.Threading.Thread.Sleep(2000);
            Assert.False(File.Exists(marker), "the rest of the command ran after the channel closed");
        }
    }
}
