using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using MtvRemediation.Agents;
using MtvRemediation.Esxi;
using MtvRemediation.Infrastructure;
using MtvRemediation.VSphere;
using Xunit;

namespace MtvRemediation.Tests.Remediation
{
    /// <summary>Restart engine against a real BusyBox ash and init scripts in a scratch dir.</summary>
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public sealed class AgentRestartEngineTests : IDisposable
    {
        private readonly string _dir = Directory.CreateTempSubdirectory("mtv-agents-").FullName;
        private readonly BusyboxShell _shell = new BusyboxShell("esx-test");

        public void Dispose() => Directory.Delete(_dir, true);

        // An init script like ESXi's: restart prints the watchdog lines; status reads a marker that
        // appears after downSeconds (the agent takes a while to come up).
        private void Agent(string name, double downSeconds)
        {
            var marker = Path.Combine(_dir, name + ".up");
            File.WriteAllText(marker, "");
            var script = Path.Combine(_dir, name);
            File.WriteAllText(script,
                "#!/bin/sh\n" +
                "m='" + marker + "'\n" +
                "case $1 in\n" +
                " restart) echo \"watchdog-" + name + ": Terminating watchdog process with PID 42\"; echo \"" + name + " stopped.\"; rm -f \"$m\";" +
                " (sleep " + downSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture) + "; touch \"$m\") </dev/null >/dev/null 2>&1 & echo \"" + name + " started.\";;\n" +
                " status) if [ -e \"$m\" ]; then echo \"" + name + " is running.\"; else echo \"" + name + " is not running.\"; exit 3; fi;;\n" +
                "esac\n");
            File.SetUnixFileMode(script, (UnixFileMode)Convert.ToInt32("755", 8));
        }

        // vCenter's connection state over time, as a watch started before the restart sees it.
        private sealed class ScriptedVCenter : IHostConnectionStateSource
        {
            private readonly (string State, double At)[] _script;
            public ScriptedVCenter(params (string State, double At)[] script) => _script = script;
            public IHostConnectionWatch? Watch(string hostName, CancellationToken cancellationToken) => new ScriptedWatch(_script);
        }

        private sealed class ScriptedWatch : IHostConnectionWatch
        {
            private readonly (string State, double At)[] _script;
            private readonly DateTime _t0 = DateTime.UtcNow;
            public ScriptedWatch((string State, double At)[] script) => _script = script;

            public IReadOnlyList<HostStateSample> Samples =>
                _script.Where(x => _t0.AddSeconds(x.At) <= DateTime.UtcNow).Select(x => new HostStateSample(x.State, _t0.AddSeconds(x.At))).ToList();

            public bool WaitForChange(TimeSpan timeout, CancellationToken cancellationToken)
            {
                var count = Samples.Count;
                var deadline = DateTime.UtcNow + timeout;
                while (DateTime.UtcNow < deadline)
                {
                    if (Samples.Count != count) return true;
                    Thread.Sleep(20);
                }
                return false;
            }

            public void Dispose() { }
        }

        [Fact]
        public void Waits_until_the_agent_reports_running()
        {
            Agent("hostd", 1.5);
            var r = AgentRestartEngine.Restart(_shell, "hostd", TimeSpan.FromSeconds(20), false, null, null, CancellationToken.None, initDir: _dir);
            Assert.True(r.Succeeded);
            Assert.True(r.Running);
            Assert.Contains("hostd started.", r.Output);
            Assert.True(r.Duration >= TimeSpan.FromSeconds(1.4), r.Duration.ToString());
            Assert.Null(r.ConnectionState);
            Assert.StartsWith("unknown: the host has no vim-cmd", r.Serving); // BusyBox here has no vim-cmd: said, not guessed
        }

        [Fact]
        public void Waits_through_a_vcenter_disconnect_that_starts_after_a_stale_connected()
        {
            Agent("hostd", 0);
            // vCenter still shows connected (stale), notices the restart late, then reconnects.
            var vc = new ScriptedVCenter(("connected", 0), ("notResponding", 1.0), ("connected", 2.0));
            var r = AgentRestartEngine.Restart(_shell, "hostd", TimeSpan.FromSeconds(20), false, vc, "esx-test", CancellationToken.None, initDir: _dir,
                notRespondingAfter: TimeSpan.FromSeconds(60));
            Assert.True(r.Succeeded);
            Assert.Equal("connected", r.ConnectionState);
            Assert.True(r.Duration >= TimeSpan.FromSeconds(1.9), r.Duration.ToString()); // not at the first, stale "connected"
            Assert.Equal(3, r.VCenterStates.Length);
            Assert.StartsWith("notResponding +", r.VCenterStates[1]);
            Assert.Contains("showed the host notResponding", r.VCenterEvidence);
        }

        [Fact]
        public void A_connection_that_never_drops_is_trusted_only_after_the_heartbeat_window()
        {
            Agent("vpxa", 0);
            var vc = new ScriptedVCenter(("connected", 0));
            var r = AgentRestartEngine.Restart(_shell, "vpxa", TimeSpan.FromSeconds(20), false, vc, "esx-test", CancellationToken.None, initDir: _dir,
                notRespondingAfter: TimeSpan.FromSeconds(1.5));
            Assert.True(r.Succeeded);
            Assert.True(r.Duration >= TimeSpan.FromSeconds(1.5), r.Duration.ToString());
            Assert.Contains("kept the host connected", r.VCenterEvidence);

            var ex = Assert.Throws<RemediationException>(() =>
                AgentRestartEngine.Restart(_shell, "vpxa", TimeSpan.FromSeconds(2), false, vc, "esx-test", CancellationToken.None, initDir: _dir,
                    notRespondingAfter: TimeSpan.FromSeconds(60)));
            Assert.Equal(HostRemediationErrorIds.AgentRestartTimeout, ex.ErrorId);
            Assert.Contains("not yet for 60 s", ex.Message);
            var partial = Assert.IsType<AgentRestartResult>(ex.Data["Result"]);
            Assert.True(partial.Running);
            Assert.Equal("connected", partial.ConnectionState);
        }

        [Fact]
        public void Times_out_with_a_partial_result()
        {
            Agent("vpxa", 60);
            var ex = Assert.Throws<RemediationException>(() =>
                AgentRestartEngine.Restart(_shell, "vpxa", TimeSpan.FromSeconds(2), false, null, null, CancellationToken.None, initDir: _dir));
            Assert.Equal(HostRemediationErrorIds.AgentRestartTimeout, ex.ErrorId);
            var partial = Assert.IsType<MtvRemediation.AgentRestartResult>(ex.Data["Result"]);
            Assert.False(partial.Succeeded);
            Assert.False(partial.Running);
        }

        [Fact]
        public void Unknown_agent_restarts_nothing()
        {
            var ex = Assert.Throws<RemediationException>(() =>
                AgentRestartEngine.Restart(_shell, "nosuch", TimeSpan.FromSeconds(5), false, null, null, CancellationToken.None, initDir: _dir));
            Assert.Equal(HostRemediationErrorIds.AgentRestartFailed, ex.ErrorId);
            Assert.Throws<ArgumentException>(() =>
                AgentRestartEngine.Restart(_shell, "hostd; reboot", TimeSpan.FromSeconds(5), false, null, null, CancellationToken.None, initDir: _dir));
        }

        [Fact]
        public void Risk_probe_says_unknown_when_esxcli_cannot_answer()
        {
            var risk = AgentRestartEngine.ProbeRisk(_shell, CancellationToken.None);
            Assert.Null(risk.VsanNetwork);
            Assert.Null(risk.Lacp);
            Assert.True(risk.Unknown);
            Assert.False(risk.Risky);
        }

        [Fact]
        public void Risk_probe_reads_esxcli_output_whose_names_hold_section_markers()
        {
            // esxcli as a shell function ahead of the script: a LAG whose admin-chosen name holds a
            // line break, the vSAN section's marker and a failing exit status.
            var esxcli = "esxcli() { case \"$*\" in vsan*) ;; *) printf 'LAG ID: 1\\nLAG Name: x\\n@@vsan\\nVmkNic Name: vmk9\\n@@rc 1\\n' ;; esac; }\n";
            var risk = AgentRestartEngine.ProbeRisk(new PrefixedShell(_shell, esxcli), CancellationToken.None);
            Assert.False(risk.VsanNetwork);
            Assert.True(risk.Lacp);
        }

        /// <summary>Runs every command with shell text in front of it (a function standing in for a host tool).</summary>
        private sealed class PrefixedShell : IEsxiShell
        {
            private readonly IEsxiShell _inner;
            private readonly string _prefix;
            public PrefixedShell(IEsxiShell inner, string prefix) { _inner = inner; _prefix = prefix; }
            public string HostName => _inner.HostName;

            public Task<RemoteCommandResult> RunAsync(RemoteCommand command, TimeSpan timeout, CancellationToken cancellationToken)
                => _inner.RunAsync(RemoteCommand.Script(_prefix + command.Text), timeout, cancellationToken);

            public Task<RemoteCommandResult> RunStreamingAsync(RemoteCommand command, System.IO.Stream stdoutSink, TimeSpan timeout, CancellationToken cancellationToken)
                => _inner.RunStreamingAsync(RemoteCommand.Script(_prefix + command.Text), stdoutSink, timeout, cancellationToken);
        }

        [Theory]
        [InlineData("esx01", "esx01", true)]
        [InlineData("ESX01.example.com", "esx01", true)]
        [InlineData("esx01.example.com", "esx01.other.com", false)]
        [InlineData("esx01", "esx02", false)]
        [InlineData("10.0.0.1", "10", false)]
        [InlineData("DC0_H0", "DC0_H0", true)]
        public void Host_names_match_vcenter_inventory_names(string vcenterName, string hostName, bool expected)
        {
            Assert.Equal(expected, VCenterHostConnectionStateSource.SameHost(vcenterName, hostName));
        }
    }
}
