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

        /// <summary>
        /// The raise before the wave (Set-EsxiHostdTmpMemory, Invoke-MtvRemediation -Preflight): to
        /// <paramref name="maxKB"/> at runtime, never lower, the first raise keeping the value before
        /// it on the host. A limit already at least that high (or unlimited) is left (Changed false).
        /// </summary>
        public static HostdTmpMemoryChange RaiseTo(IEsxiShell shell, string hostName, long maxKB, CancellationToken ct)
        {
            var now = Read(shell, ct);
            var result = new HostdTmpMemoryChange { VMHost = hostName, Group = now.Group, PreviousMaxKB = now.MaxKBBefore!.Value, MaxKB = now.MaxKBBefore.Value, RecordedMaxKB = now.RecordedMaxKB };
            if (now.MaxKBBefore < 0 || now.MaxKBBefore >= maxKB)
            {
                result.Note = now.MaxKBBefore < 0 ? "Unlimited already; nothing was changed." : $"Already {now.MaxKBBefore} KB, at least {maxKB} KB; nothing was changed (the limit is never lowered).";
                return result;
            }
            var after = Raise(shell, maxKB, ct);
            result.MaxKB = after.MaxKBAfter ?? maxKB;
            result.RecordedMaxKB = after.RecordedMaxKB;
            result.Changed = result.MaxKB != result.PreviousMaxKB;
            result.Note = $"Runtime only (a reboot restores the default). After the wave, put {after.RecordedMaxKB} KB back with the restore.";
            return result;
        }

        /// <summary>
        /// The after-the-wave restore (Restore-EsxiHostdTmpMemory, Complete-MtvWave): puts the max
        /// the record keeps back and removes the record. A host without a record is left alone
        /// (Changed false); a record without a max, or for another group, is an error and nothing
        /// is changed.
        /// </summary>
        public static HostdTmpMemoryChange RestoreRecorded(IEsxiShell shell, string hostName, CancellationToken ct) =>
            RestoreRecorded(shell, hostName, ct, out _);

        /// <summary><see cref="RestoreRecorded(IEsxiShell, string, CancellationToken)"/>; <paramref name="restored"/> says whether a record was there (and is now put back).</summary>
        public static HostdTmpMemoryChange RestoreRecorded(IEsxiShell shell, string hostName, CancellationToken ct, out bool restored)
        {
            restored = false;
            var now = Read(shell, ct);
            var result = new HostdTmpMemoryChange { VMHost = hostName, Group = now.Group, PreviousMaxKB = now.MaxKBBefore!.Value, MaxKB = now.MaxKBBefore.Value, RecordedMaxKB = now.RecordedMaxKB };
            if (!now.HasRecord)
            {
                result.Note = NoRecordNote;
                return result;
            }
            if (now.RecordedMaxKB == null)
                throw new RemediationException(WaveErrorIds.HostdTmpUnreadable, ErrorCategory.ReadError,
                    $"{hostName}: the record {RecordPath} holds no 'max:' value; nothing was changed.",
                    $"Read {RecordPath} on the host and set the value by hand.");
            if (now.RecordedGroup != now.Group)
                throw new RemediationException(WaveErrorIds.HostdTmpUnreadable, ErrorCategory.InvalidData,
                    $"{hostName}: the record names group {now.RecordedGroup}, the hostd-tmp group is now {now.Group}; nothing was changed.",
                    $"Read {RecordPath} on the host and set the value by hand.");
            var after = Restore(shell, now.RecordedMaxKB.Value, ct);
            result.MaxKB = after.MaxKBAfter ?? now.RecordedMaxKB.Value;
            result.RecordedMaxKB = null;
            result.Changed = result.MaxKB != result.PreviousMaxKB;
            result.Note = "Restored; the record was removed.";
            restored = true;
            return result;
        }

        /// <summary>
        /// The host's record of a raise not yet put back, as <see cref="PendingOperation"/> (Kind
        /// HostdTmpRaised; the caller names the command that finishes it), or null without a record.
        /// One read; nothing is changed.
        /// </summary>
        public static PendingOperation? ReadPending(IEsxiShell shell, string hostName, CancellationToken ct)
        {
            var now = Read(shell, ct);
            if (!now.HasRecord) return null;
            return new PendingOperation
            {
                Kind = PendingKind,
                Target = hostName,
                VMHost = hostName,
                Server = hostName,
                RecordLocation = $"{RecordPath} on {hostName}",
                Detail = now.RecordedMaxKB is long before
                    ? $"The hostd-tmp memory max (group {now.Group}) was raised for the wave to {now.MaxKBBefore} KB; {before} KB, the value before it, is to be put back after the wave (a reboot restores it too)."
                    : $"The record of a hostd-tmp raise holds no 'max:' value: read it on the host and set the value by hand.",
            };
        }

        public const string PendingKind = "HostdTmpRaised";

        public const string NoRecordNote = "No record of a raise on this host (none made, or the host rebooted since); nothing was changed.";

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
