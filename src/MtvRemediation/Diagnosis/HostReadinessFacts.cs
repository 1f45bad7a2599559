using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text.RegularExpressions;
using MtvRemediation.Esxi;

namespace MtvRemediation.Diagnosis
{
    /// <summary>
    /// What <c>Scripts/wave-probe.sh</c> reads beside the wrapper inventory: whether esxcli has the
    /// wrapper's <c>vmkfstools</c> namespace (hostd loads esxcli plugins when it starts, so a VIB
    /// installed without a hostd restart has its payload but no namespace: forklift's
    /// cmd/vsphere-copy-offload-populator/README.md "Troubleshooting" at v2.12.5), and the hostd-tmp
    /// resource group's memory allocation (the same README and vmkfstools-wrapper/tweak-esxi-mem.sh).
    /// </summary>
    internal sealed class HostReadinessFacts
    {
        /// <summary>true/false: the vmkfstools namespace is listed or not; null: esxcli's command list could not be read.</summary>
        public bool? VmkfstoolsNamespace { get; private set; }

        /// <summary>Why <see cref="VmkfstoolsNamespace"/> is unknown.</summary>
        public string? NamespaceProblem { get; private set; }

        /// <summary>The hostd-tmp group's id in /sched/groups, when found.</summary>
        public string? HostdTmpGroup { get; private set; }

        /// <summary>memAllocation's fields as read (max, min, minLimit, units ...), by name.</summary>
        public IReadOnlyDictionary<string, long> HostdTmpAllocation { get; private set; } = new Dictionary<string, long>();

        /// <summary>memAllocation max in KB; -1 unlimited; null when not read.</summary>
        public long? HostdTmpMaxKB => HostdTmpAllocation.TryGetValue("max", out var v) ? v : (long?)null;

        /// <summary>The wrapper's own log file: its size and its per-poll lines (null: no such regular file).</summary>
        public long? WrapperLogBytes { get; private set; }
        public long? WrapperLogPolls { get; private set; }

        /// <summary>The max before a raise of this module, kept on the host to put back after the wave (null: no record).</summary>
        public long? HostdTmpRecordedMaxKB { get; private set; }

        /// <summary>Why the hostd-tmp limit is unknown.</summary>
        public string? HostdTmpProblem { get; private set; }

        // "name:value" pairs, as a public Python helper for ESXi parses 'vsish -e get
        // /sched/groups/<id>/memAllocationInMB' (re (\w+):\s*(-?\d+)); VMware's shellRP.sh reads the
        // 'max' line with cut -d ':' -f 2. vsish's full layout of this node is unverified (no sample
        // of the whole output is public): any line may hold a pair, with or without spaces around
        // the colon, and lines without one are ignored.
        private static readonly Regex Pair = new Regex(@"(?<name>[A-Za-z]\w*)\s*:\s*(?<value>-?\d+)\b", RegexOptions.CultureInvariant);

        public static HostReadinessFacts Parse(string stdout)
        {
            var s = RemoteOps.Sections(stdout);
            var facts = new HostReadinessFacts();
            if (!s.ContainsKey("readiness-end"))
            {
                facts.NamespaceProblem = facts.HostdTmpProblem = "the readiness probe did not finish";
                return facts;
            }

            var esx = Lines(s.TryGetValue("esxcli", out var e) ? e : "");
            if (esx.Count > 0 && esx[0] == "ok") facts.VmkfstoolsNamespace = esx.Skip(1).Any();
            else facts.NamespaceProblem = "'esxcli esxcli command list' failed: " + (esx.Count > 0 && esx[0].StartsWith("failed", StringComparison.Ordinal) ? esx[0].Substring(6).Trim() : "no output");

            var record = Lines(s.TryGetValue("hostdtmprecord", out var r) ? r : "");
            if (record.Count > 0 && ParseAllocation(record.Skip(1)).TryGetValue("max", out var recorded)) facts.HostdTmpRecordedMaxKB = recorded;

            var polls = Lines(s.TryGetValue("polls", out var p) ? p : "").FirstOrDefault()?.Split('\t');
            if (polls != null && polls.Length == 2 && long.TryParse(polls[0], NumberStyles.None, CultureInfo.InvariantCulture, out var bytes)
                && long.TryParse(polls[1], NumberStyles.None, CultureInfo.InvariantCulture, out var count))
            {
                facts.WrapperLogBytes = bytes;
                facts.WrapperLogPolls = count;
            }

            var tmp = Lines(s.TryGetValue("hostdtmp", out var h) ? h : "");
            if (tmp.Count == 0) facts.HostdTmpProblem = "no output";
            else if (tmp[0] == "novsish") facts.HostdTmpProblem = "vsish is not on the host's path";
            else if (tmp[0] == "nogroup") facts.HostdTmpProblem = "no resource group named hostd-tmp under /sched/groups";
            else if (tmp[0].StartsWith("group ", StringComparison.Ordinal))
            {
                facts.HostdTmpGroup = tmp[0].Substring(6).Trim();
                var values = ParseAllocation(tmp.Skip(1));
                facts.HostdTmpAllocation = values;
                if (!values.ContainsKey("max"))
                    facts.HostdTmpProblem = $"no 'max:' value in /sched/groups/{facts.HostdTmpGroup}/memAllocation: " + string.Join(" ", tmp.Skip(1)).Trim();
            }
            else facts.HostdTmpProblem = "unexpected output: " + tmp[0];
            return facts;
        }

        /// <summary>The <c>name:value</c> pairs of vsish's memAllocation output (the first of each name).</summary>
        public static Dictionary<string, long> ParseAllocation(IEnumerable<string> lines)
        {
            var values = new Dictionary<string, long>(StringComparer.Ordinal);
            foreach (var line in lines)
                foreach (Match m in Pair.Matches(line))
                    if (!values.ContainsKey(m.Groups["name"].Value) && long.TryParse(m.Groups["value"].Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v))
                        values[m.Groups["name"].Value] = v;
            return values;
        }

        private static List<string> Lines(string text) =>
            text.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).ToList();
    }
}
