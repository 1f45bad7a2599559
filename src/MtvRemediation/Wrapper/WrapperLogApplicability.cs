using System;
using System.Globalization;
using System.Management.Automation;
using System.Threading;
using MtvRemediation.Esxi;
using MtvRemediation.Infrastructure;

namespace MtvRemediation.Wrapper
{
    /// <summary>What is asked of the wrapper's log.</summary>
    internal enum WrapperLogAction
    {
        Clear,
        RegisterRotation,
    }

    /// <summary>What the applicability rule needs to know about a host: the payload and the log's size (-1: no such file).</summary>
    internal sealed class WrapperLogFacts
    {
        public WrapperLogFacts(string host, WrapperPayload payload, long logBytes)
        {
            Host = host;
            Payload = payload;
            LogBytes = logBytes;
        }

        public string Host { get; }
        public WrapperPayload Payload { get; }
        public long LogBytes { get; }
    }

    /// <summary>
    /// The one rule whether clearing the wrapper log or registering its rotation job applies to a
    /// host, used by Clear-VmkfstoolsWrapperLog, Register-LogRotationCron and the runbook. Wrapper
    /// 0.3.x (MTV 2.11 and later, a shell script) logs only through syslog (<c>logger -t
    /// vmkfstools-wrapper</c>, kubev2v/forklift vmkfstools_wrapper.sh at v2.11.0; docs/field-sources.md#2-the-vmkfstools-wrapper), so there the
    /// wrapper log does not grow: a rotation job has nothing to do, and a clear has nothing to clear
    /// unless an older wrapper's log is still there. A host without a payload (or with one of
    /// another kind) gets the action: its log may still be written.
    /// </summary>
    internal static class WrapperLogApplicability
    {
        /// <summary>Only the wrapper's own log depends on the generation; another -LogPath is the caller's choice.</summary>
        public static bool DependsOnGeneration(string logPath) =>
            string.Equals(logPath, WrapperInventory.WrapperLogPath, StringComparison.Ordinal);

        /// <summary>Reads the facts with the light pre-check script (no esxcli: it takes seconds on a real host).</summary>
        public static WrapperLogFacts ReadFacts(IEsxiShell shell, string logPath, CancellationToken ct)
        {
            var run = RemoteOps.Run(shell, RemoteCommand.FromScript("wrapper-log-applicable.sh", logPath), ct);
            var s = RemoteOps.Sections(run.Stdout);
            string? payloadText;
            try { payloadText = s.TryGetValue("payload", out var p) ? HostField.DecodeSection(p) : null; }
            catch (FormatException ex)
            {
                throw new RemediationException(WrapperErrorIds.InventoryFailed, System.Management.Automation.ErrorCategory.ReadError,
                    $"{shell.HostName}: the wrapper payload could not be read: {ex.Message}", "Check that the host's shell works.")
                { Next = NextCommand.ListWrapper, NextTarget = shell.HostName, RerunCompletes = true };
            }
            var payload = WrapperPayload.Parse(payloadText);
            var bytes = s.TryGetValue("log", out var l) && long.TryParse(l.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) ? n : -1;
            return new WrapperLogFacts(shell.HostName, payload, bytes);
        }

        /// <summary>The facts from an inventory already read (the runbook's host diagnosis).</summary>
        public static WrapperLogFacts FactsFrom(VmkfstoolsWrapperInfo info, string logPath) =>
            new WrapperLogFacts(info.VMHost, info.Payload, info.LogFiles.TryGetValue(logPath, out var n) ? n : -1);

        /// <summary>Null when <paramref name="action"/> applies to the host, else why not (id WrapperLogNotApplicable).</summary>
        public static RemediationException? Refusal(WrapperLogFacts facts, string logPath, WrapperLogAction action)
        {
            if (!DependsOnGeneration(logPath) || facts.Payload.Language != WrapperLanguage.Shell) return null;
            if (action == WrapperLogAction.Clear && facts.LogBytes > 0) return null; // an older wrapper's leftover log
            var which = facts.Payload.ScriptVersion == null ? "a 0.3.x shell wrapper" : "the shell wrapper " + facts.Payload.ScriptVersion;
            var why = $"{facts.Host} runs {which} (MTV 2.11 or later), which logs through syslog (logger -t vmkfstools-wrapper) and never writes {logPath}";
            var what = action == WrapperLogAction.Clear ? $"Clearing {logPath}" : "A rotation job for " + logPath;
            if (action == WrapperLogAction.RegisterRotation)
            {
                var leftover = facts.LogBytes >= 0;
                return new RemediationException(WrapperErrorIds.LogNotApplicable, ErrorCategory.InvalidOperation,
                    $"{what} does not apply: {why}" + (leftover ? $"; the {facts.LogBytes}-byte file there is an older wrapper's and no longer grows." : ".") + " Nothing was changed.",
                    leftover ? "Clear the older wrapper's log once; no rotation job is needed on this host." : "No rotation job is needed on this host.")
                { Next = leftover ? NextCommand.ClearWrapperLog : NextCommand.None, NextTarget = facts.Host };
            }
            return new RemediationException(WrapperErrorIds.LogNotApplicable, ErrorCategory.InvalidOperation,
                $"{what} does not apply: {why}" + (facts.LogBytes == 0 ? "; the file there is empty." : "; there is no such file.") + " Nothing was changed.",
                "Nothing to clear on this host.");
        }
    }
}
