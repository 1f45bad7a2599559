namespace MtvRemediation
{
    /// <summary>
    /// A change a run of this module began and did not finish (the client died, was stopped, or
    /// another actor intervened), found from its durable record: a VM's extraConfig key on vCenter,
    /// a file on the ESXi host, or (for what cannot live elsewhere) a file on this workstation.
    /// Get-MtvPendingOperation lists them; the command in <see cref="ResumeCommand"/> finishes one.
    /// </summary>
    public sealed class PendingOperation
    {
        /// <summary>What was interrupted: ChangeTrackingReset, KeptLogTail, SshServiceStarted, CronReload; or, for after the wave, HostdTmpRaised.</summary>
        public string Kind { get; set; } = "";

        /// <summary>The VM or host name the record is about.</summary>
        public string Target { get; set; } = "";

        /// <summary>For a VM's record: its name and PowerCLI-style id, so the item pipes into the VM cmdlets (<c>| Reset-VMChangeTracking</c>).</summary>
        public string? VM { get; set; }
        public string? VMId { get; set; }

        /// <summary>For a host's record: the host, so the item pipes into the host cmdlets.</summary>
        public string? VMHost { get; set; }

        /// <summary>vCenter (VM records) or host (host records); "localhost" for records on this workstation.</summary>
        public string Server { get; set; } = "";

        /// <summary>Where the record lives (e.g. "extraConfig mtvremediation.cbtReset", a host path, a local path).</summary>
        public string RecordLocation { get; set; } = "";

        /// <summary>When the interrupted run wrote the record (UTC), when known.</summary>
        public System.DateTime? Since { get; set; }

        /// <summary>Who wrote it: user and workstation of the interrupted run.</summary>
        public string StartedBy { get; set; } = "";

        /// <summary>What the record says is left to do, in a sentence.</summary>
        public string Detail { get; set; } = "";

        /// <summary>The command that finishes it (also what Resume-MtvPendingOperation runs).</summary>
        public string ResumeCommand { get; set; } = "";

        public override string ToString() => $"{Kind} {Target}: {Detail}";
    }
}
