using System;
using System.Collections.Generic;

namespace MtvRemediation
{
    /// <summary>
    /// How an item (host or VM) ended: the same words as the Result column of Invoke-MtvRemediation,
    /// so console, CSV and report say one thing for one outcome.
    /// </summary>
    internal enum RemediationOutcome
    {
        /// <summary>Found healthy: nothing to do.</summary>
        Healthy,
        /// <summary>Every planned action done.</summary>
        Remediated,
        /// <summary>Only planned (-WhatIf, or the run stopped before acting).</summary>
        Planned,
        /// <summary>Not confirmed: nothing done.</summary>
        Declined,
        /// <summary>Some actions done, others declined or failed; FinalState says where it is.</summary>
        Partial,
        /// <summary>Refused before acting (e.g. snapshots, VMware Tools not running without -Force).</summary>
        Refused,
        /// <summary>A step failed, or the item could not be read; FinalState says where it is now.</summary>
        Failed,
    }

    /// <summary>Space on a host at one moment (before or after remediation).</summary>
    internal sealed class LogSpaceState
    {
        /// <summary>Size of /var/log/vmkfstools-wrapper.log in bytes.</summary>
        public long? LogSizeBytes { get; set; }

        /// <summary>Percentage of the /var ramdisk in use.</summary>
        public double? VarUsedPercent { get; set; }

        /// <summary>Free bytes on /var.</summary>
        public long? VarFreeBytes { get; set; }

        /// <summary>The probe's verdict, e.g. Healthy, Warning, Critical.</summary>
        public string? Status { get; set; }
    }

    /// <summary>What happened on one ESXi host.</summary>
    internal sealed class HostReportEntry
    {
        public string VMHost { get; set; } = "";
        public LogSpaceState? LogSpaceBefore { get; set; }
        public LogSpaceState? LogSpaceAfter { get; set; }

        /// <summary>Steps done, in order, as sentences (e.g. "Truncated /var/log/vmkfstools-wrapper.log (1.2 GB)").</summary>
        public List<string> Actions { get; set; } = new List<string>();

        /// <summary>Clone-failure findings from this host's logs.</summary>
        public List<CloneFailureFinding> Findings { get; set; } = new List<CloneFailureFinding>();

        public RemediationOutcome Outcome { get; set; }

        /// <summary>The local archive of the host's log taken before truncating it (linked from the HTML report).</summary>
        public string? LogArchive { get; set; }

        /// <summary>Where the host is now, in words (e.g. "/var 12% used, rotation cron registered, agents running").</summary>
        public string FinalState { get; set; } = "";
    }

    /// <summary>What happened to one VM.</summary>
    internal sealed class VMReportEntry
    {
        public string VM { get; set; } = "";
        public string? VMHost { get; set; }
        public bool? CbtEnabledBefore { get; set; }
        public bool? CbtEnabledAfter { get; set; }

        /// <summary>PoweredOn, PoweredOff or Suspended.</summary>
        public string? PowerStateBefore { get; set; }
        public string? PowerStateAfter { get; set; }

        /// <summary>Datastore paths of the -ctk.vmdk files deleted.</summary>
        public List<string> DeletedCtkFiles { get; set; } = new List<string>();

        public List<string> Actions { get; set; } = new List<string>();
        public RemediationOutcome Outcome { get; set; }
        public string FinalState { get; set; } = "";
    }

    /// <summary>The record of one remediation run, written as HTML and JSON by RemediationReportWriter.</summary>
    internal sealed class RemediationReport
    {
        public string Title { get; set; } = "MTV clone failure remediation";

        /// <summary>When the report was made (UTC).</summary>
        public DateTime GeneratedAt { get; set; } = DateTime.UtcNow;

        /// <summary>The vCenter server(s) the run worked through.</summary>
        public List<string> Servers { get; set; } = new List<string>();

        /// <summary>The run's parameters as "Name: value" (secrets never: a credential shows its user only).</summary>
        public List<string> Parameters { get; set; } = new List<string>();

        public List<HostReportEntry> Hosts { get; set; } = new List<HostReportEntry>();
        public List<VMReportEntry> VMs { get; set; } = new List<VMReportEntry>();

        /// <summary>Findings not tied to a host entry (e.g. populator pod logs).</summary>
        public List<CloneFailureFinding> Findings { get; set; } = new List<CloneFailureFinding>();
    }
}
