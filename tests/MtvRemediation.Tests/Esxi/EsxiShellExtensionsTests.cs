using System;
using System.IO;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using MtvRemediation.Esxi;
using MtvRemediation.Infrastructure;
using Xunit;

namespace MtvRemediation.Tests.Esxi
{
    public class EsxiShellExtensionsTests
    {
        /// <summary>Runs commands through the local shell: a real peer for the extension's contract.</summary>
        private sealed class LocalEsxiShell : IEsxiShell
        {
            public string HostName => "local";

            public Task<RemoteCommandResult> RunAsync(RemoteCommand command, TimeSpan timeout, CancellationToken cancellationToken)
            {
                var dir = Path.GetTempPath();
                var psi = new System.Diagnostics.ProcessStartInfo(LocalShell.Shell[0]) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = dir };
                for (var i = 1; i < LocalShell.Shell.Length; i++) psi.ArgumentList.Add(LocalShell.Shell[i]);
                psi.ArgumentList.Add("-c");
                psi.ArgumentList.Add(command.Text);
                using var p = System.Diagnostics.Process.Start(psi)!;
                var o = p.StandardOutput.ReadToEnd();
                var e = p.StandardError.ReadToEnd();
                p.WaitForExit();
                return Task.FromResult(new RemoteCommandResult(p.ExitCode, o, e, TimeSpan.Zero));
            }

            public Task<RemoteCommandResult> RunStreamingAsync(RemoteCommand command, Stream stdoutSink, TimeSpan timeout, CancellationToken cancellationToken)
                => throw new NotSupportedException();
        }

        [Fact]
        public void RunChecked_returns_output_on_success_and_names_status_and_stderr_on_failure()
        {
            var shell = new LocalEsxiShell();
            Assert.Equal("a b\n", shell.RunChecked(RemoteCommand.Exec("echo", "a b"), TimeSpan.FromSeconds(5), CancellationToken.None).Stdout);
            var ex = Assert.Throws<EsxiShellException>(() =>
                shell.RunChecked(RemoteCommand.Script("echo 'no such file' >&2; exit 3"), TimeSpan.FromSeconds(5), CancellationToken.None));
            Assert.Equal(EsxiShellErrorIds.CommandFailed, ex.ErrorId);
            Assert.Contains("exit status 3: no such file", ex.Message);
            Assert.Contains("'local'", ex.Message);
        }
    }
}
