using System;
using System.Collections.Generic;

namespace MtvRemediation.Runbook
{
    /// <summary>
    /// How an item (host or VM) ended: the one outcome of the runbook, whose name is the Result
    /// column of Invoke-MtvRemediation, so console, CSV and report say one thing for one outcome.
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
        /// <summary>Nothing to do as far as was read, but a source the verdict depends on was not read (the VM's host evidence): never called Healthy. FinalState names what is missing.</summary>
        Unknown,
    }

    /// <summary>The record of one remediation run, written as HTML and JSON by RemediationReportWriter.</summary>
    internal sealed class RemediationReport
    {
        public string Title { get; set; } = "MTV clone failure remediation";

        /// <summary>Set when the run was stopped (Ctrl+C, a stopped job) before its end: where it stopped. Each row says how far it got.</summary>
        public string? Incomplete { get; set; }

        /// <summary>When the report was made (UTC).</summary>
        public DateTime GeneratedAt { get; set; } = DateTime.UtcNow;

        /// <summary>The vCenter server(s) the run worked through.</summary>
        public List<string> Servers { get; set; } = new List<string>();

        /// <summary>Who ran it: the local account and the vCenter user(s) (null: not known).</summary>
        public string? Operator { get; set; }

        /// <summary>The change ticket the run belongs to (-ChangeTicket; null: none given).</summary>
        public string? ChangeTicket { get; set; }

        /// <summary>The run's parameters as "Name: value" (secrets never: a credential shows its user only).</summary>
        public List<string> Parameters { get; set; } = new List<string>();

        /// <summary>The run's rows, as Invoke-MtvRemediation wrote them.</summary>
        public List<RemediationHostSummary> Hosts { get; set; } = new List<RemediationHostSummary>();
        public List<RemediationVMSummary> VMs { get; set; } = new List<RemediationVMSummary>();

        /// <summary>Findings not tied to a host entry (e.g. populator pod logs).</summary>
        public List<CloneFailureFinding> Findings { get; set; } = new List<CloneFailureFinding>();
    }
}
