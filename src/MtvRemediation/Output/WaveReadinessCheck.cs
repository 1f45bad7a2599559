namespace MtvRemediation
{
    /// <summary>
    /// One readiness check of one host or one VM before a migration wave (Test-MtvWaveReadiness).
    /// Binds by property name to the host cmdlets (VMHost) and, for VM rows, to the VM cmdlets
    /// (VM, VMId, Server), so a failed check pipes into its fix.
    /// </summary>
    public sealed class WaveReadinessCheck
    {
        /// <summary>The check's stable name, e.g. <c>CbtConsistency</c> or <c>DiskMaxLun</c>.</summary>
        public string Check { get; set; } = "";

        /// <summary>VM or VMHost: what the check is about.</summary>
        public string TargetType { get; set; } = "";

        /// <summary>The VM's or the host's name.</summary>
        public string Target { get; set; } = "";

        /// <summary>Pass, Warn, Fail or Unknown. Unknown: the check's source could not be read (never a Pass).</summary>
        public string Status { get; set; } = "";

        /// <summary>The value read, in a sentence.</summary>
        public string Evidence { get; set; } = "";

        /// <summary>Where the value was read (a vCenter property, a host command).</summary>
        public string Source { get; set; } = "";

        /// <summary>The command that fixes the finding; empty when there is nothing to fix.</summary>
        public string Fix { get; set; } = "";

        /// <summary>The host of the check (a VM's registered host: the host that clones it up to MTV 2.12).</summary>
        public string VMHost { get; set; } = "";

        /// <summary>The VM of a VM check (null for a host check).</summary>
        public string? VM { get; set; }

        /// <summary>PowerCLI-style id of the VM, e.g. <c>VirtualMachine-vm-42</c> (null for a host check).</summary>
        public string? VMId { get; set; }

        /// <summary>The vCenter the VM or host was read from.</summary>
        public string Server { get; set; } = "";

        public override string ToString() => $"{Target} {Check}: {Status}";
    }
}
