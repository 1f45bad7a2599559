using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Management.Automation;
using MtvRemediation.Cbt;
using MtvRemediation.Diagnosis;
using MtvRemediation.Interop;
using MtvRemediation.Runbook;
using MtvRemediation.VSphere;
using MtvRemediation.Wrapper;

namespace MtvRemediation.Runbook
{
    /// <summary>
    /// Decides whether the runbook resets a VM's CBT, from evidence only, and says why. A reset (a
    /// power cycle) is planned when:
    /// <list type="bullet">
    /// <item>there is 7228 (invalid change tracker) evidence for the VM: a task directory's err
    /// naming one of its disks, a wrapper or secure log line, a populator pod log line, or a
    /// Migration/Plan reason handed in with the VM (ConvertFrom-MtvClusterObject); evidence on the
    /// VM's host that names no VM counts for every VM of this run on that host, unless some of it
    /// names VMs of this run (by name or disk), in which case it counts for those only; a task
    /// directory always names its disk, so its evidence counts for that disk's VM only;</item>
    /// <item>or its change tracking configuration is inconsistent: the problems of
    /// <see cref="ChangeTrackingHealth"/>, the rule Get-VMChangeTracking's Healthy comes from.</item>
    /// </list>
    /// CBT that is merely disabled is no reason: cold migration does not need CBT, and for warm
    /// migration enabling it needs no power cycle (MTV's own snapshots apply it).
    /// </summary>
    internal static class CbtResetPlanner
    {
        /// <summary>The reasons for a reset (empty: none). Task directories whose 7228 the reset answers go to <paramref name="answeredTaskDirectories"/>.</summary>
        public static List<string> Reasons(RunbookVmState vm, RunbookHostState? host, List<string>? answeredTaskDirectories = null)
        {
            if (vm.Inspection == null) return new List<string>();
            var reasons = new List<string>(ChangeTrackingHealth.Of(vm.Inspection).Problems);

            if (host != null)
            {
                var hits = host.ChangeTrackerFindings.ToList();
                if (hits.Count > 0)
                {
                    // Evidence that names a disk (task directories) or a VM of this run belongs to that VM only.
                    var attributed = hits.Where(f => f.Disk != null || host.VMs.Any(v => Mentions(f, v.Vm))).ToList();
                    var namesRunVm = attributed.Any(f => host.VMs.Any(v => Mentions(f, v.Vm)));
                    var mine = attributed.Where(f => Mentions(f, vm.Vm))
                        .Concat(namesRunVm ? Enumerable.Empty<CloneFailureFinding>() : hits.Except(attributed))
                        .OrderBy(f => f.Timestamp ?? DateTime.MinValue).ToList();
                    if (mine.Count > 0)
                    {
                        foreach (var f in mine)
                            if (AnsweredTaskDirectory(f) is { } dir) answeredTaskDirectories?.Add(dir);
                        var last = mine[mine.Count - 1];
                        reasons.Add($"{mine.Count} 'Invalid change tracker error code (7228)' finding(s) on {host.Name} (last: {last.Source}" +
                                    (last.LineNumber > 0 ? " line " + last.LineNumber.ToString(CultureInfo.InvariantCulture) : "") +
                                    (last.Timestamp.HasValue ? ", " + last.Timestamp.Value.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) + " UTC" : "") + ")");
                    }
                }
            }

            var cluster = ClusterEvidence(vm.Input);
            if (cluster != null) reasons.Add(cluster);
            return reasons;
        }

        /// <summary>A 7228 reason from the object the VM came in as (an MtvClusterFinding, live or deserialized).</summary>
        private static string? ClusterEvidence(object? input)
        {
            if (input == null) return null;
            var ps = PSObject.AsPSObject(input);
            if (PSObjectProperties.GetString(ps, "Signature") != CloneFailureSignatures.ChangeTrackerInvalid) return null;
            var source = PSObjectProperties.GetString(ps, "Source");
            return "7228 in the cluster's record" + (source != null ? " (" + source + ")" : "");
        }

        /// <summary>
        /// The failed clone task directory whose 7228 a reset of the finding's VM answers (null: the
        /// finding is no task directory's). Removing it after the reset is what keeps a later run
        /// from resetting the same VM again, for the runbook and Reset-VMChangeTracking -Finding alike.
        /// </summary>
        public static string? AnsweredTaskDirectory(CloneFailureFinding f) =>
            f.Signature == CloneFailureSignatures.ChangeTrackerInvalid && f.Disk != null && f.Path != null
            && f.Path.StartsWith(WrapperInventory.TaskDirectoryPrefix, StringComparison.Ordinal)
                ? f.Path.Substring(0, f.Path.LastIndexOf('/'))
                : null;

        /// <summary>Whether the finding names the VM: one of its disks (a task directory's rdmfile), or its name in the line.</summary>
        public static bool Mentions(CloneFailureFinding f, VmInfo vm)
        {
            foreach (var d in vm.Disks)
            {
                if (!DatastorePath.TryParse(d.FileName, out var p) || p!.FileName.Length == 0) continue;
                var rel = (p.Folder.Length > 0 ? p.Folder + "/" : "") + p.FileName;
                // A task directory names its disk as /vmfs/volumes/<datastore>/<folder>/<file>.
                if (f.Disk != null && (f.Disk.EndsWith("/" + p.Datastore + "/" + rel, StringComparison.Ordinal) || f.Disk.EndsWith("/" + rel, StringComparison.Ordinal))) return true;
                if (f.Line.IndexOf(rel, StringComparison.Ordinal) >= 0) return true;
            }
            return vm.Name.Length > 0 && f.Line.IndexOf(vm.Name, StringComparison.Ordinal) >= 0;
        }
    }
}
