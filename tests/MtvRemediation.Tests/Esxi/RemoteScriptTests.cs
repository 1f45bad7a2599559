using System;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using MtvRemediation.Esxi;
using MtvRemediation.Tests.Remediation;
using Xunit;

namespace MtvRemediation.Tests.Esxi
{
    public class RemoteScriptTests
    {
        [Fact]
        public void EveryEmbeddedScriptPassesShellcheckAsPosixSh()
        {
            var names = RemoteScript.Names();
            Assert.NotEmpty(names);
            foreach (var name in names)
            {
                // The expanded text is what the host runs; check that, with the set -- line the
                // command builder puts in front (so "$1" is known to be set).
                var text = RemoteCommand.FromScript(name, "arg").Text;
                var psi = new ProcessStartInfo("shellcheck")
                {
                    RedirectStandardInput = true,
                    RedirectStandardOutput = true,
                    RedirectStandardError = true,
                    UseShellExecute = false,
                };
                foreach (var a in new[] { "-s", "sh", "-f", "gcc", "-" }) psi.ArgumentList.Add(a);
                Process p;
                try { p = Process.Start(psi)!; }
                catch (System.ComponentModel.Win32Exception ex)
                {
                    throw new InvalidOperationException("shellcheck is not installed: run tests/lab/install-prereqs.sh", ex);
                }
                p.StandardInput.Write(text);
                p.StandardInput.Close();
                var output = p.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
                p.WaitForExit();
                Assert.True(p.ExitCode == 0, $"shellcheck -s sh {name}:\n{output}");
            }
        }

        [Fact]
        public void ValuesArriveAsPositionalParametersByteIdentical()
        {
            Assert.NotNull(BusyboxShell.BusyboxPath);
            var hostile = new[] { "it's $(id) `x` ; rm -rf / \"q\"", "line1\nline2", "", "-n", "[ds] vm/disk 1.vmdk" };
            var cmd = RemoteCommand.FromScript("agent-risk.sh", hostile);
            Assert.StartsWith("set -- ", cmd.Text);
            Assert.Contains("[agent-risk.sh]", cmd.Display);
            // Replace the body by a printer of the positional parameters, keeping the set -- line.
            var body = RemoteScript.Get("agent-risk.sh");
            Assert.EndsWith(body, cmd.Text);
            var setLine = cmd.Text.Substring(0, cmd.Text.Length - body.Length);
            var shell = new BusyboxShell("local");
            var r = shell.RunAsync(RemoteCommand.Script(setLine + "for a in \"$@\"; do printf '<%s>' \"$a\"; done"),
                TimeSpan.FromSeconds(10), CancellationToken.None).GetAwaiter().GetResult();
            Assert.Equal(0, r.ExitStatus);
            Assert.Equal(string.Concat(hostile.Select(h => "<" + h + ">")), r.Stdout);
        }

        [Fact]
        public void UnknownScriptNameIsAClearError()
        {
            var ex = Assert.Throws<ArgumentException>(() => RemoteScript.Get("no-such-script.sh"));
            Assert.Contains("no-such-script.sh", ex.Message);
        }
    }
}
