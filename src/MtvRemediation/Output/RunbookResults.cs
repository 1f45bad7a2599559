using System;
using MtvRemediation.Runbook;

namespace MtvRemediation
{
    /// <summary>
    /// What host and VM rows of Invoke-MtvRemediation have in common, so the mixed stream exports
    /// as one CSV with every row's name and outcome (Export-Csv takes its columns from the first
    /// row, a host). The columns only one kind has (log space for hosts, CBT and power for VMs) are
    /// exported per kind (<c>Where-Object Kind -eq VM | Export-Csv</c>); the JSON report holds the
    /// whole tree, findings included.
    /// </summary>
    public abstract class RemediationSummary
    {
        /// <summary>Host or VM.</summary>
        public abstract string Kind { get; }

        /// <summary>The host's or the VM's name.</summary>
        public abstract string Name { get; }

        /// <summary>The host (of the VM).</summary>
        public string VMHost { get; set; } = string.Empty;

        /// <summary>The VM's name (VM rows; empty on host rows).</summary>
        public string VM { get; set; } = string.Empty;

        /// <summary>The vCenter the VM was read from (VM rows).</summary>
        public string Server { get; set; } = string.Empty;

        /// <summary>
        /// One word, the same in the console and the report: Healthy (nothing to do), Remediated,
        /// Planned (-WhatIf, or stopped before acting), Declined (not confirmed), Partial, Refused
        /// (e.g. snapshots), Failed or Unknown (a source the verdict depends on was not read). A string, so ConvertTo-Json and Export-Csv keep the word.
        /// </summary>
        public string Result => Outcome.ToString();

        /// <summary>The outcome behind <see cref="Result"/> (the report's badges and counts read it).</summary>
        internal RemediationOutcome Outcome { get; set; }

        /// <summary>What the run planned, one sentence per action.</summary>
        public ReadableList<string> Plan { get; set; } = Array.Empty<string>();

        /// <summary>What was done, in order.</summary>
        public ReadableList<string> Actions { get; set; } = Array.Empty<string>();

        public ReadableList<string> Errors { get; set; } = Array.Empty<string>();

        /// <summary>The item's state at the end, in words.</summary>
        public string FinalState { get; set; } = string.Empty;

        /// <summary>The state before the run, in a few words (the table's Before column).</summary>
        public string Before { get; set; } = string.Empty;

        /// <summary>How many actions were done (<see cref="Actions"/>); 0 under -WhatIf.</summary>
        public int Done => Actions.Count;

        /// <summary>When the first change to the item began (UTC; null: nothing was changed).</summary>
        public DateTime? StartedAt { get; set; }

        /// <summary>When the last change to the item ended (UTC; null: nothing was changed).</summary>
        public DateTime? FinishedAt { get; set; }

        /// <summary>The HTML report of this run (with -ReportPath; null when none was written).</summary>
        public string? ReportFile { get; set; }

        /// <summary>The JSON report of this run: the full tree, findings included.</summary>
        public string? JsonReportFile { get; set; }

        public override string ToString() => Name + ": " + Result;
    }

    /// <summary>One ESXi host after Invoke-MtvRemediation: what was found, what was done, where it is now.</summary>
    public sealed class RemediationHostSummary : RemediationSummary
    {
        public override string Kind => "Host";
        public override string Name => VMHost;

        /// <summary>The VMs of this run that live on the host.</summary>
        public ReadableList<string> VMs { get; set; } = Array.Empty<string>();

        public string? LogStatusBefore { get; set; }
        public long? LogSizeBytesBefore { get; set; }
        public double? UsedPercentBefore { get; set; }
        public long? FreeBytesBefore { get; set; }
        public string? LogStatusAfter { get; set; }
        public long? LogSizeBytesAfter { get; set; }
        public double? UsedPercentAfter { get; set; }
        public long? FreeBytesAfter { get; set; }

        /// <summary>
        /// Clone-failure findings in the host's wrapper logs (before any change). Not a public
        /// column: the rows stay flat; the findings are in the JSON report and Find-MtvCloneFailure.
        /// </summary>
        internal CloneFailureFinding[] Findings { get; set; } = Array.Empty<CloneFailureFinding>();

        /// <summary>Failure signatures found, with counts (XcopyNotUsed is informational and left out).</summary>
        public ReadableList<string> FindingCounts { get; set; } = Array.Empty<string>();

        /// <summary>Local archive of the log taken before truncating it (with -ReportPath).</summary>
        public string? LogArchive { get; set; }

        /// <summary>True when our rotation cron entry is in the host's crontab after the run (null: not checked).</summary>
        public bool? RotationCronRegistered { get; set; }

        /// <summary>This run truncated the wrapper log (freed /var).</summary>
        public bool LogCleared { get; set; }

        /// <summary>This run added the rotation cron job (false where it was there already).</summary>
        public bool RotationCronAdded { get; set; }

        /// <summary>This run restarted the management agents (all of them, each back).</summary>
        public bool AgentsRestarted { get; set; }
    }

    /// <summary>One VM after Invoke-MtvRemediation: CBT before and after, and what was done.</summary>
    public sealed class RemediationVMSummary : RemediationSummary
    {
        public override string Kind => "VM";
        public override string Name => VM;

        public string? PowerStateBefore { get; set; }
        public bool? CbtEnabledBefore { get; set; }
        public bool? CbtHealthyBefore { get; set; }

        /// <summary>Why CBT is reset (its configuration is inconsistent, or 7228 evidence points at the VM), or what was found.</summary>
        public string? Diagnosis { get; set; }

        /// <summary>The -ctk.vmdk files of the VM's disks found before the run.</summary>
        public ReadableList<string> CtkFilesBefore { get; set; } = Array.Empty<string>();

        public ReadableList<string> DeletedCtkFiles { get; set; } = Array.Empty<string>();

        public string? PowerStateAfter { get; set; }
        public bool? CbtEnabledAfter { get; set; }
        public bool? CbtHealthyAfter { get; set; }

        /// <summary>This run reset the VM's CBT, every step done.</summary>
        public bool CbtReset { get; set; }

        /// <summary>When the reset took the running VM down (UTC; null: the VM was not running, or not touched).</summary>
        public DateTime? PoweredOffAt { get; set; }

        /// <summary>When the VM was running again (UTC; null: not powered off, or still off).</summary>
        public DateTime? PoweredOnAt { get; set; }

        /// <summary>How long the VM was down: <see cref="PoweredOffAt"/> to <see cref="PoweredOnAt"/> (null unless both are known).</summary>
        public TimeSpan? Downtime => PoweredOffAt.HasValue && PoweredOnAt.HasValue ? PoweredOnAt - PoweredOffAt : null;
    }
}
