using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using MtvRemediation.Agents;
using MtvRemediation.Diagnosis;
using MtvRemediation.Esxi;
using MtvRemediation.HostLog;
using MtvRemediation.Infrastructure;
using MtvRemediation.Runbook;
using MtvRemediation.Wrapper;
using Xunit;

namespace MtvRemediation.Tests.Remediation
{
    /// <summary>
    /// One owner per concern: the cmdlets and the runbook reach each rule through the same
    /// operation. Each test fails when a second copy of its rule appears (a second classifier of
    /// the wrapper payload, a host read outside the host diagnosis, a runbook that plans the log
    /// actions by a rule of its own).
    /// </summary>
    public sealed class OneOwnerTests
    {
        [Theory]
        [InlineData("#!/bin/sh", "Shell")]          // vmkfstools_wrapper.sh (0.3.x) as forklift ships it
        [InlineData("#!/bin/sh -e", "Shell")]       // options after the interpreter
        [InlineData("#! /bin/ash", "Shell")]
        [InlineData("#!/usr/bin/env sh", "Shell")]
        [InlineData("#!/bin/python", "Python")]     // vmkfstools_wrapper.py (0.1.x, 0.2.0)
        [InlineData("#!/usr/bin/env python3", "Python")]
        [InlineData("#!/usr/bin/fish", "Unknown")]   // "sh" inside another name is not a shell
        [InlineData("echo not a script", "Unknown")]
        [InlineData("", "Unknown")]
        public void The_inventory_and_the_log_rule_read_one_classification_of_the_payload(string firstLine, string expectedName)
        {
            var expected = (WrapperLanguage)Enum.Parse(typeof(WrapperLanguage), expectedName);
            Assert.Equal(expected, WrapperPayload.LanguageOf(firstLine));

            var info = WrapperInventory.Parse("esx1", $"@@vib\n@@payload\n{firstLine}\nSCRIPT_VERSION=\"0.3.1\"\n@@logs\n@@tasks\n@@end\n");
            Assert.Equal(expected.ToString(), info.Language);
            Assert.Equal(expected == WrapperLanguage.Shell ? "Syslog" : expected == WrapperLanguage.Python ? "File" : "Unknown", info.LogsTo);

            // The rule the cmdlets and the runbook apply, fed from the inventory and from the pre-check script's sections alike.
            var fromInventory = WrapperLogApplicability.FactsFrom(info, WrapperInventory.WrapperLogPath);
            var fromPrecheck = new WrapperLogFacts("esx1", WrapperPayload.Parse(firstLine + "\nSCRIPT_VERSION=\"0.3.1\"\n"), -1);
            foreach (var facts in new[] { fromInventory, fromPrecheck })
            {
                var refusal = WrapperLogApplicability.Refusal(facts, WrapperInventory.WrapperLogPath, WrapperLogAction.RegisterRotation);
                Assert.Equal(expected == WrapperLanguage.Shell, refusal != null);
            }
        }

        [Fact]
        public void A_missing_payload_is_none_and_the_log_actions_apply()
        {
            var info = WrapperInventory.Parse("esx1", "@@vib\n@@payload\n@@logs\n@@tasks\n@@end\n");
            Assert.Null(info.Language);
            Assert.Equal(WrapperLanguage.None, info.Payload.Language);
            Assert.Null(WrapperLogApplicability.Refusal(WrapperLogApplicability.FactsFrom(info, WrapperInventory.WrapperLogPath), WrapperInventory.WrapperLogPath, WrapperLogAction.RegisterRotation));
        }

        [Theory]
        [InlineData(-1, "; there is no such file.")]
        [InlineData(0, "; the file there is empty.")]
        public void Clear_is_refused_on_a_shell_wrapper_only_without_a_leftover_log(long bytes, string tail)
        {
            var facts = new WrapperLogFacts("esx1", WrapperPayload.Parse("#!/bin/sh\nSCRIPT_VERSION=\"0.3.0\"\n"), bytes);
            var refusal = WrapperLogApplicability.Refusal(facts, WrapperInventory.WrapperLogPath, WrapperLogAction.Clear);
            Assert.Equal("WrapperLogNotApplicable", refusal!.ErrorId);
            Assert.Contains("esx1 runs the shell wrapper 0.3.0 (MTV 2.11 or later)", refusal.Message);
            Assert.EndsWith(tail + " Nothing was changed.", refusal.Message);
            // An older wrapper's leftover log is still cleared; another -LogPath is the caller's choice.
            Assert.Null(WrapperLogApplicability.Refusal(new WrapperLogFacts("esx1", facts.Payload, 4096), WrapperInventory.WrapperLogPath, WrapperLogAction.Clear));
            Assert.Null(WrapperLogApplicability.Refusal(facts, "/var/log/other.log", WrapperLogAction.Clear));
        }

        [Fact]
        public void The_runbook_refuses_rotation_on_a_shell_wrapper_with_the_cmdlets_error()
        {
            var facts = new WrapperLogFacts("esx311", WrapperPayload.Parse("#!/bin/sh\nSCRIPT_VERSION=\"0.3.1\"\n"), -1);
            var host = new RunbookHostState("esx311") { Shell = new BusyboxShell("esx311"), LogFacts = facts, CronRegisteredBefore = false };
            host.Before = new LogSpaceStatus { VMHost = "esx311", LogPath = LogSpaceOptions.DefaultLogPath, LogExists = false, VolumePath = "/var", UsedPercent = 10, Status = "Healthy" };

            RunbookEngine.PlanHost(host, new RunbookOptions { RegisterLogRotation = true });

            Assert.False(host.RegisterCron);
            Assert.Empty(host.Plan);
            var cmdlets = WrapperLogApplicability.Refusal(facts, LogSpaceOptions.DefaultLogPath, WrapperLogAction.RegisterRotation)!;
            var error = Assert.Single(host.TakeNewErrors());
            Assert.Equal(cmdlets.ErrorId, error.ErrorId);
            Assert.Equal(cmdlets.Message, error.Message);
            Assert.Equal(cmdlets.Next, error.Next);
            var row = RunbookEngine.SummarizeHost(host, whatIf: false);
            Assert.Equal("Refused", row.Result);
            Assert.NotEqual(true, row.RotationCronRegistered);
        }

        /// <summary>Counts the commands running at once on a BusyBox shell.</summary>
        private sealed class OverlapShell : IEsxiShell
        {
            private readonly IEsxiShell _inner;
            private readonly int _expected;
            private int _active;
            public OverlapShell(IEsxiShell inner, int expected) { _inner = inner; _expected = expected; }
            public string HostName => _inner.HostName;
            public int MaxActive;

            private async Task Enter(CancellationToken ct)
            {
                var now = Interlocked.Increment(ref _active);
                lock (this) MaxActive = Math.Max(MaxActive, now);
                // Wait (bounded) until every piece is under way: the read is concurrent only if they meet here.
                var until = DateTime.UtcNow.AddSeconds(5);
                while (Volatile.Read(ref MaxActive) < _expected && DateTime.UtcNow < until) await Task.Delay(10, ct);
            }

            public async Task<RemoteCommandResult> RunAsync(RemoteCommand command, TimeSpan timeout, CancellationToken ct)
            {
                await Enter(ct);
                try { return await _inner.RunAsync(command, timeout, ct); }
                finally { Interlocked.Decrement(ref _active); }
            }

            public async Task<RemoteCommandResult> RunStreamingAsync(RemoteCommand command, Stream sink, TimeSpan timeout, CancellationToken ct)
            {
                await Enter(ct);
                try { return await _inner.RunStreamingAsync(command, sink, timeout, ct); }
                finally { Interlocked.Decrement(ref _active); }
            }
        }

        [Fact]
        public void The_host_read_runs_its_pieces_at_the_same_time()
        {
            var root = Directory.CreateTempSubdirectory("mtv-hostread-").FullName;
            try
            {
                var log = Path.Combine(root, "vmkfstools-wrapper.log");
                File.WriteAllText(log, "2026-11-25 22:00:00,000 - INFO - XCOPY used: False, clone write ops: 0\n");
                var request = new HostDiagnosisRequest
                {
                    Space = new LogSpaceOptions { LogPath = log, SecureLogPath = Path.Combine(root, "none.log") },
                    Inventory = true,
                    Evidence = true,
                    LogPaths = new[] { log },
                };
                var shell = new OverlapShell(new BusyboxShell("esx1"), HostDiagnosisReader.PiecesOf(request));
                var read = HostDiagnosisReader.Read(shell, request, CancellationToken.None);
                Assert.Equal(3, HostDiagnosisReader.PiecesOf(request));
                Assert.Equal(3, shell.MaxActive);
                Assert.NotNull(read.Space);
                Assert.NotNull(read.Wrapper);
                Assert.NotNull(read.Scan);
            }
            finally { Directory.Delete(root, true); }
        }

        private static string SourceRoot() => Path.Combine(CSharpSource.RepoRoot(), "src", "MtvRemediation");

        private static IEnumerable<(string File, string Text)> Sources() =>
            Directory.EnumerateFiles(SourceRoot(), "*.cs", SearchOption.AllDirectories)
                .Where(f => !f.Contains(Path.DirectorySeparatorChar + "obj" + Path.DirectorySeparatorChar) && !f.Contains(Path.DirectorySeparatorChar + "bin" + Path.DirectorySeparatorChar))
                .Select(f => (Path.GetFileName(f), File.ReadAllText(f)));

        [Fact]
        public void One_outcome_enum_for_console_CSV_JSON_and_the_report()
        {
            // An enum with the outcome words (Remediated, Declined) is the run's outcome: one may exist.
            var outcomeEnums = typeof(RunbookEngine).Assembly.GetTypes()
                .Where(t => t.IsEnum && Enum.GetNames(t).Contains("Remediated") && Enum.GetNames(t).Contains("Declined"))
                .Select(t => t.FullName).ToList();
            Assert.Equal(new[] { typeof(RemediationOutcome).FullName }, outcomeEnums);
            // And the rows' Result is its name, not a second copy kept as text.
            var result = typeof(MtvRemediation.RemediationSummary).GetProperty(nameof(MtvRemediation.RemediationSummary.Result))!;
            Assert.False(result.CanWrite, "Result is derived from the outcome");
        }

        // Each host read (probe, inventory, log scan, crontab, agent risk, the log rule's facts) has
        // one caller: the host diagnosis. LogClearEngine measures before and after its own truncation.
        [Theory]
        [InlineData(@"LogSpaceProbe\.Measure\(", "HostDiagnosis.cs", "LogClearEngine.cs")]
        [InlineData(@"WrapperInventory\.Read\(", "HostDiagnosis.cs")]
        [InlineData(@"HostCloneLogScanner\.ScanAsync\(", "HostDiagnosis.cs")]
        [InlineData(@"LogRotationCronEngine\.Get\(", "HostDiagnosis.cs")]
        [InlineData(@"AgentRestartEngine\.ProbeRisk\(", "HostDiagnosis.cs")]
        [InlineData(@"TaskDirectoryEvidence\.Findings\(", "HostDiagnosis.cs")]
        [InlineData(@"WrapperLogApplicability\.ReadFacts\(", "HostDiagnosis.cs")]
        [InlineData(@"WrapperErrorIds\.LogNotApplicable", "WrapperLogApplicability.cs")]
        [InlineData(@"""#!""", "WrapperGeneration.cs")]
        [InlineData(@"SCRIPT_VERSION\\s", "WrapperGeneration.cs")]
        // The wave's host changes: one operation each, for its cmdlet, the runbook's -Preflight and Complete-MtvWave.
        [InlineData(@"""hostd-tmp\.sh""", "HostdTmpMemory.cs")]
        [InlineData(@"SetMaxLunAsync\(", "HostLunSettings.cs", "DiskMaxLun.cs")]
        [InlineData(@"WaveErrorIds\.DiskMaxLunRefused", "DiskMaxLun.cs")]
        [InlineData(@"LogRotationCronEngine\.Unregister\(", "UnregisterLogRotationCronCommand.cs", "CompleteMtvWaveCommand.cs")]
        public void Each_host_read_and_rule_has_one_owner(string pattern, params string[] owners)
        {
            var rx = new Regex(pattern);
            var users = Sources().Where(s => rx.IsMatch(s.Text)).Select(s => s.File).Distinct().OrderBy(f => f, StringComparer.Ordinal).ToList();
            Assert.NotEmpty(users);
            Assert.All(users, f => Assert.Contains(f, owners));
        }
    }
}
