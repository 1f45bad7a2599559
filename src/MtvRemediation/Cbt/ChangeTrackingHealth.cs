using System;
using System.Collections.Generic;
using System.Linq;
using MtvRemediation.VSphere;

namespace MtvRemediation.Cbt
{
    /// <summary>
    /// The one CBT health rule: whether a VM's change tracking configuration, as read, is consistent.
    /// Get-VMChangeTracking's Healthy and Reason, the runbook's decision to reset for the
    /// configuration's sake (<see cref="CbtResetPlanner"/>) and the runbook's state words all come
    /// from <see cref="Of"/>.
    /// <para>
    /// Consistent is a statement about the configuration only: a change tracker that is corrupt
    /// inside (7228) looks consistent from the API, so whether a VM's clone failed is the
    /// evidence's question, not this rule's. CBT that is merely disabled is a fact, not a problem:
    /// cold migrations do not need CBT, and MTV checks it for warm plans itself
    /// (VMMissingChangedBlockTracking). Snapshots are a fact too; they block a reset, not the verdict.
    /// </para>
    /// </summary>
    internal sealed class ChangeTrackingHealth
    {
        private ChangeTrackingHealth(IReadOnlyList<string> problems, IReadOnlyList<string> unread)
        {
            Problems = problems;
            Unread = unread;
        }

        /// <summary>Inconsistencies a CBT reset removes (empty: none found).</summary>
        public IReadOnlyList<string> Problems { get; }

        /// <summary>What could not be read; while anything is, the verdict is unknown.</summary>
        public IReadOnlyList<string> Unread { get; }

        public bool Known => Unread.Count == 0;

        /// <summary>Read completely and nothing inconsistent found.</summary>
        public bool Consistent => Known && Problems.Count == 0;

        /// <summary>Why the configuration is not consistent, in one line (null when it is).</summary>
        public string? Reason => Consistent ? null : string.Join("; ", Problems.Concat(Unread));

        /// <summary>The verdict as a state word: "consistent", "inconsistent: ..." or "unknown: ...".</summary>
        public string Describe() =>
            Problems.Count > 0 ? "inconsistent: " + Reason : !Known ? "unknown: " + Reason : "consistent";

        public static ChangeTrackingHealth Of(CtkInspection inspection)
        {
            var vm = inspection.Vm;
            var problems = new List<string>();
            // A reset that did not finish is never healthy, whatever the flags look like now.
            if (vm.ResetRecordValue != null)
                problems.Add(ChangeTrackingResetRecord.TryParse(vm.ResetRecordValue) is { } record
                    ? "interrupted: " + record.Describe() + "; the next CBT reset of the VM finishes it"
                    : $"interrupted: an unreadable record of a CBT reset ({VmInfo.ResetRecordKey} = '{vm.ResetRecordValue}')");
            var tracked = vm.Disks.Where(d => !d.IsPhysicalRdm).ToList();
            if (!vm.ChangeTrackingEnabled && inspection.OwnByDisk.Count > 0) problems.Add("stale -ctk.vmdk files exist while CBT is disabled");
            if (vm.ChangeTrackingEnabled)
            {
                var off = tracked.Where(d => d.CtkEnabledKey != null && vm.CtkExtraConfig.TryGetValue(d.CtkEnabledKey, out var v) && string.Equals(v, "false", StringComparison.OrdinalIgnoreCase)).ToList();
                if (off.Count > 0) problems.Add("ctkEnabled=false for " + string.Join(", ", off.Select(d => d.FileName)));
                // ESXi creates the ctk file when a CBT-enabled disk is opened: a running VM must have one per disk.
                if (vm.PowerState == "poweredOn")
                {
                    var missing = tracked.Where(d => !inspection.OwnByDisk.ContainsKey(d.Key)).ToList();
                    if (missing.Count > 0) problems.Add("missing -ctk.vmdk for " + string.Join(", ", missing.Select(d => d.FileName)));
                }
            }
            if (inspection.Orphaned.Count > 0) problems.Add($"{inspection.Orphaned.Count} orphaned -ctk.vmdk file(s)");
            var unread = inspection.Unsearchable.Count > 0 ? new[] { "could not search " + string.Join(", ", inspection.Unsearchable) } : Array.Empty<string>();
            return new ChangeTrackingHealth(problems, unread);
        }
    }
}
