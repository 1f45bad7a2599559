using System;

namespace MtvRemediation
{
    /// <summary>One ESXi host after Invoke-MtvRemediation: what was found, what was done, where it is now.</summary>
    public sealed class RemediationHostSummary
    {
        public string VMHost { get; set; } = string.Empty;

        /// <summary>Healthy (nothing to do), Remediated, Planned (-WhatIf), Declined (not confirmed), Partial or Failed.</summary>
        public string Result { get; set; } = string.Empty;

        /// <summary>The VMs of this run that live on the host.</summary>
        public string[] VMs { get; set; } = Array.Empty<string>();

        public string? LogStatusBefore { get; set; }
        public long? LogSizeBytesBefore { get; set; }
        public double? UsedPercentBefore { get; set; }
        public long? FreeBytesBefore { get; set; }
        public string? LogStatusAfter { get; set; }
        public long? LogSizeBytesAfter { get; set; }
        public double? UsedPercentAfter { get; set; }
        public long? FreeBytesAfter { get; set; }

        /// <summary>Clone-failure findings in the host's wrapper logs (before any change).</summary>
        public CloneFailureFinding[] Findings { get; set; } = Array.Empty<CloneFailureFinding>();

        /// <summary>Failure signatures found, with counts (XcopyNotUsed is informational and left out).</summary>
        public string[] FindingCounts { get; set; } = Array.Empty<string>();

        /// <summary>What the run planned for the host, one sentence per action.</summary>
        public string[] Plan { get; set; } = Array.Empty<string>();

        /// <summary>What was done, in order.</summary>
        public string[] Actions { get; set; } = Array.Empty<string>();

        /// <summary>Local archive of the log taken before truncating it (with -ReportPath).</summary>
        public string? LogArchive { get; set; }

        /// <summary>True when our rotation cron entry is in the host's crontab after the run (null: not checked).</summary>
        public bool? RotationCronRegistered { get; set; }

        public string[] Errors { get; set; } = Array.Empty<string>();

        /// <summary>The host's state at the end, in words.</summary>
        public string FinalState { get; set; } = string.Empty;

        public override string ToString() => VMHost + ": " + Result;
    }

    /// <summary>One VM after Invoke-MtvRemediation: CBT before and after, and what was done.</summary>
    public sealed class RemediationVMSummary
    {
        public string VM { get; set; } = string.Empty;
        public string VMHost { get; set; } = string.Empty;
        public string Server { get; set; } = string.Empty;

        /// <summary>Healthy (nothing to do), Remediated, Planned (-WhatIf), Declined, Refused (e.g. snapshots) or Failed.</summary>
        public string Result { get; set; } = string.Empty;

        public string? PowerStateBefore { get; set; }
        public bool? CbtEnabledBefore { get; set; }
        public bool? CbtHealthyBefore { get; set; }

        /// <summary>Why CBT was found unhealthy, or why it is reset (7228 in the host's log).</summary>
        public string? Diagnosis { get; set; }

        /// <summary>The -ctk.vmdk files of the VM's disks found before the run.</summary>
        public string[] CtkFilesBefore { get; set; } = Array.Empty<string>();

        public string[] Plan { get; set; } = Array.Empty<string>();
        public string[] Actions { get; set; } = Array.Empty<string>();
        public string[] DeletedCtkFiles { get; set; } = Array.Empty<string>();

        public string? PowerStateAfter { get; set; }
        public bool? CbtEnabledAfter { get; set; }
        public bool? CbtHealthyAfter { get; set; }

        public string[] Errors { get; set; } = Array.Empty<string>();
        public string FinalState { get; set; } = string.Empty;

        public override string ToString() => VM + ": " + Result;
    }
}
