using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Management.Automation;
using System.Threading;
using MtvRemediation.Diagnosis;
using MtvRemediation.Esxi;
using MtvRemediation.Infrastructure;

namespace MtvRemediation.Wave
{
    /// <summary>The hostd-tmp group's memory max as one call of <c>hostd-tmp.sh</c> read it, and the record of the value before the wave.</summary>
    internal sealed class HostdTmpState
    {
        public string Group { get; set; } = "";

        /// <summary>memAllocation max in KB before the call's change (-1: unlimited).</summary>
        public long? MaxKBBefore { get; set; }

        /// <summary>memAllocation max in KB at the call's end.</summary>
        public long? MaxKBAfter { get; set; }

        /// <summary>The value the record keeps (the max before the first raise), or null without a record.</summary>
        public long? RecordedMaxKB { get; set; }
        public string? RecordedGroup { get; set; }
        public bool HasRecord => RecordedGroup != null;
    }

    /// <summary>
    /// forklift's runtime raise of the hostd-tmp memory limit (vmkfstools-wrapper/tweak-esxi-mem.sh,
    /// v2.12.5), made reversible: the first raise writes the value before it to a record on the host
    /// (before the change), the restore after the wave sets that value back and removes the record.
    /// The record is on a ramdisk, as the raise is runtime only: a reboot drops both.
    /// </summary>
    internal static class HostdTmpMemory
    {
        public const string RecordPath = "/var/run/mtvremediation-hostd-tmp";

        public static HostdTmpState Read(IEsxiShell shell, CancellationToken ct) => Run(shell, "read", null, ct);

        public static HostdTmpState Raise(IEsxiShell shell, long maxKB, CancellationToken ct) => Run(shell, "raise", maxKB, ct);

        public static HostdTmpState Restore(IEsxiShell shell, long maxKB, CancellationToken ct) => Run(shell, "restore", maxKB, ct);

        private static HostdTmpState Run(IEsxiShell shell, string mode, long? maxKB, CancellationToken ct)
        {
            var args = new List<string> { mode, RecordPath };
            if (maxKB.HasValue) args.Add(maxKB.Value.ToString(CultureInfo.InvariantCulture));
            var run = RemoteOps.Run(shell, RemoteCommand.FromScript("hostd-tmp.sh", args.ToArray()), ct);
            return Parse(shell.HostName, run.Stdout);
        }

        public static HostdTmpState Parse(string host, string stdout)
        {
            var s = RemoteOps.Sections(stdout);
            string? Section(string name) => s.TryGetValue(name, out var v) ? v : null;
            if (s.ContainsKey("novsish") || s.ContainsKey("nogroup"))
                throw new RemediationException(WaveErrorIds.HostdTmpUnreadable, ErrorCategory.ObjectNotFound,
                    $"{host}: " + (s.ContainsKey("novsish") ? "vsish is not on the host's path" : "no resource group named hostd-tmp under /sched/groups") + "; nothing was changed.");
            if (Section("failed") is string failed)
                throw new RemediationException(WaveErrorIds.HostdTmpChangeFailed, ErrorCategory.WriteError,
                    $"{host}: {Lines(failed).FirstOrDefault() ?? "the change"} failed.",
                    $"Check {RecordPath} on the host: it keeps the value to put back.") { RerunCompletes = true };
            var state = new HostdTmpState { Group = Lines(Section("group") ?? "").FirstOrDefault() ?? "" };
            state.MaxKBBefore = Max(Lines(Section("before") ?? ""));
            state.MaxKBAfter = Section("after") is string after ? Max(Lines(after)) : state.MaxKBBefore;
            var record = Lines(Section("record") ?? "");
            if (record.Count > 0 && record[0].StartsWith("group ", StringComparison.Ordinal))
            {
                state.RecordedGroup = record[0].Substring(6).Trim();
                state.RecordedMaxKB = Max(record.Skip(1));
            }
            if (state.MaxKBBefore == null)
                throw new RemediationException(WaveErrorIds.HostdTmpUnreadable, ErrorCategory.ReadError,
                    $"{host}: no 'max:' value in /sched/groups/{state.Group}/memAllocation.");
            return state;
        }

        private static long? Max(IEnumerable<string> lines) =>
            HostReadinessFacts.ParseAllocation(lines).TryGetValue("max", out var v) ? v : (long?)null;

        private static List<string> Lines(string text) =>
            text.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).ToList();
    }
}
