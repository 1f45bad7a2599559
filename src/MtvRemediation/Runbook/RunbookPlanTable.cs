using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using MtvRemediation.Cbt;

namespace MtvRemediation.Runbook
{
    /// <summary>
    /// The whole plan of a run as one table, for its one confirmation (and for -WhatIf): one row
    /// per host and per VM in a few words (log cleared, rotation registered, agents restarted, CBT
    /// reset with or without a power-off), the power-offs counted above it. The full sentences of
    /// each action stay in the summaries' Plan and in the -Verbose plan lines.
    /// </summary>
    internal static class RunbookPlanTable
    {
        private const int NameWidth = 28;

        /// <summary>The table, its header line first.</summary>
        public static string Render(IReadOnlyList<RunbookHostState> hosts, IReadOnlyList<RunbookVmState> vms, RunbookOptions options)
        {
            var text = new StringBuilder();
            text.AppendLine(Headline(hosts, vms, options));
            text.AppendLine();
            Row(text, "Host / VM", "What happens");
            Row(text, "---------", "------------");
            foreach (var h in hosts)
            {
                Row(text, h.Name, HostWords(h));
                foreach (var v in h.VMs) Row(text, "  " + v.Vm.Name, VmWords(v));
            }
            foreach (var v in vms.Where(v => !hosts.Any(h => h.VMs.Contains(v)))) Row(text, v.Vm.Name, VmWords(v));
            if (options.ArchiveDirectory != null)
            {
                text.AppendLine();
                text.AppendLine($"Then: Write the remediation report (HTML and JSON) and the log archives to {options.ArchiveDirectory}");
            }
            return text.ToString().TrimEnd();
        }

        /// <summary>The question under the table: what a yes lets happen, the power-offs first.</summary>
        public static string Question(IReadOnlyList<RunbookVmState> vms)
        {
            var off = PoweredOff(vms);
            return off == 0 ? "Carry out this plan? No VM is powered off." : $"Carry out this plan? {Count(off, "running VM")} will be powered off.";
        }

        /// <summary>The VMs whose planned reset takes them down (guest shutdown or hard power-off).</summary>
        public static int PoweredOff(IReadOnlyList<RunbookVmState> vms) => Resets(vms).Count(v => ChangeTrackingRun.PowersOff(v.ResetPlan!));

        private static IEnumerable<RunbookVmState> Resets(IEnumerable<RunbookVmState> vms) => vms.Where(v => v.ResetPlan != null && !v.Refused);

        private static string Headline(IReadOnlyList<RunbookHostState> hosts, IReadOnlyList<RunbookVmState> vms, RunbookOptions options)
        {
            var resets = Resets(vms).ToList();
            var off = resets.Where(v => ChangeTrackingRun.PowersOff(v.ResetPlan!)).ToList();
            var hard = off.Count(v => v.ResetPlan!.PowerOff == PowerOffMethod.HardPowerOff);
            // The power-offs always (the downtime); the host actions when there are any.
            var parts = new List<string>
            {
                $"{Count(resets.Count, "CBT reset")}, {Count(off.Count, "VM")} powered off" + (hard > 0 ? $" ({hard} hard)" : "")
                    + (off.Count > 0 && options.MaxPoweredOffPerHost > 0 ? $", at most {options.MaxPoweredOffPerHost} at once per host" : ""),
            };
            var cleared = hosts.Count(h => h.ClearLog);
            var rotation = hosts.Count(h => h.RegisterCron);
            var agents = hosts.Count(h => h.RestartAgents);
            if (cleared > 0) parts.Add(Count(cleared, "log") + " cleared");
            if (rotation > 0) parts.Add(Count(rotation, "rotation job") + " registered");
            if (agents > 0) parts.Add("agents restarted on " + Count(agents, "host"));
            var hostdTmp = hosts.Count(h => h.Preflight.HostdTmpMaxKB != null);
            var maxLun = hosts.Count(h => h.Preflight.MaxLun != null);
            if (hostdTmp > 0) parts.Add("hostd-tmp memory raised on " + Count(hostdTmp, "host"));
            if (maxLun > 0) parts.Add("Disk.MaxLUN set on " + Count(maxLun, "host"));
            return $"Plan for {Count(hosts.Count, "host")} and {Count(vms.Count, "VM")}: " + string.Join("; ", parts) + ".";
        }

        private static string HostWords(RunbookHostState h)
        {
            var words = new List<string>();
            if (h.ClearLog && h.Before != null)
                words.Add($"log cleared ({RunbookEngine.FormatBytes(h.Before.LogSizeBytes)}; {h.Before.VolumePath} {h.Before.UsedPercent.ToString("0.#", CultureInfo.InvariantCulture)}% used)");
            if (h.RegisterCron) words.Add("rotation registered");
            if (h.RestartAgents) words.Add("agents restarted");
            if (h.Preflight.HostdTmpMaxKB is long kb) words.Add($"hostd-tmp max raised to {kb / 1024} MB");
            if (h.Preflight.MaxLun != null) words.Add($"Disk.MaxLUN set to {h.Preflight.MaxLunValue}");
            if (words.Count > 0) return string.Join(", ", words);
            if (h.Shell == null) return "nothing (not reached)";
            return h.Refused ? "nothing (refused, see its error)" : "nothing to do";
        }

        private static string VmWords(RunbookVmState v)
        {
            if (v.Refused) return "nothing (refused, see its error)";
            var plan = v.ResetPlan;
            if (plan == null) return v.HostEvidenceUnread != null && v.Before != null ? "nothing planned (its host's evidence was not read)" : v.Before == null ? "nothing (not read)" : "nothing to do";
            string words;
            if (plan.OnlyRemoveRecord) words = "CBT reset finished (record removed), no power-off";
            else if (plan.PowerOff == PowerOffMethod.HardPowerOff) words = "CBT reset with power-off (hard), then on again";
            else if (plan.PowerOff == PowerOffMethod.ShutdownGuest)
                words = "CBT reset with power-off (guest shutdown" + (plan.HardPowerOffFallback ? ", hard if it hangs" : "") + ")" + (plan.PowerOnAfter ? ", then on again" : "");
            else words = "CBT reset, no power-off" + (plan.PowerCycleWithCbtOff ? " (off VM: on and off once)" : "");
            if (v.AnsweredTaskDirectories.Count > 0) words += $", {Count(v.AnsweredTaskDirectories.Count, "task directory", "task directories")} removed";
            return words;
        }

        /// <summary>The table fits 100 columns, as PowerCLI's default views do: a long description wraps at word boundaries under its column.</summary>
        internal const int Width = 100;

        private static void Row(StringBuilder text, string name, string words)
        {
            foreach (var line in RowLines(name, words)) text.AppendLine(line);
        }

        /// <summary>One row's lines: the name padded to its column, the words wrapped at word boundaries under theirs.</summary>
        internal static IEnumerable<string> RowLines(string name, string words)
        {
            var line = new StringBuilder(name.Length < NameWidth ? name.PadRight(NameWidth) : name + " ");
            var empty = true;
            foreach (var word in words.Split(' '))
            {
                if (!empty && line.Length + 1 + word.Length > Width)
                {
                    yield return line.ToString();
                    line.Clear().Append(' ', NameWidth);
                    empty = true;
                }
                if (!empty) line.Append(' ');
                line.Append(word);
                empty = false;
            }
            yield return line.ToString();
        }

        private static string Count(int n, string one, string? many = null) =>
            n.ToString(CultureInfo.InvariantCulture) + " " + (n == 1 ? one : many ?? one + "s");
    }
}
