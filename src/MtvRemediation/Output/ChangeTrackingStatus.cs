namespace MtvRemediation
{
    /// <summary>One virtual disk as Get-VMChangeTracking reports it.</summary>
    public sealed class ChangeTrackingDisk
    {
        /// <summary>Descriptor path, e.g. <c>[LocalDS_0] web01/web01.vmdk</c>.</summary>
        public string File { get; set; } = "";
        public string Datastore { get; set; } = "";

        /// <summary>The disk's own change-tracking file path (derived from File).</summary>
        public string CtkFile { get; set; } = "";
        public bool CtkFilePresent { get; set; }

        /// <summary>extraConfig <c>scsiX:Y.ctkEnabled</c> value, or null when not set.</summary>
        public string? CtkEnabledSetting { get; set; }
        public bool IsPhysicalRdm { get; set; }

        public override string ToString() => File;
    }

    /// <summary>CBT state of one VM (Get-VMChangeTracking).</summary>
    public sealed class ChangeTrackingStatus
    {
        public string VM { get; set; } = "";

        /// <summary>PowerCLI-style id, e.g. <c>VirtualMachine-vm-42</c>.</summary>
        public string VMId { get; set; } = "";
        public string VMHost { get; set; } = "";
        public string Server { get; set; } = "";

        /// <summary>PoweredOn, PoweredOff or Suspended (PowerCLI spelling).</summary>
        public string PowerState { get; set; } = "";
        public bool ToolsRunning { get; set; }
        public bool Enabled { get; set; }
        public int SnapshotCount { get; set; }

        /// <summary>A CBT reset an earlier run began and did not finish (from the VM's record), or null. Reset-VMChangeTracking finishes it.</summary>
        public string? InterruptedReset { get; set; }
        public ReadableList<ChangeTrackingDisk> Disks { get; set; } = System.Array.Empty<ChangeTrackingDisk>();

        /// <summary>The VM's own <c>-ctk.vmdk</c> files found on the datastores its disks use.</summary>
        public ReadableList<string> CtkFiles { get; set; } = System.Array.Empty<string>();

        /// <summary>Other <c>-ctk.vmdk</c> files in the same folders whose disk descriptor is gone (orphans).</summary>
        public ReadableList<string> OrphanedCtkFiles { get; set; } = System.Array.Empty<string>();

        /// <summary>Other <c>-ctk.vmdk</c> files in the same folders that belong to a descriptor which is not this VM's disk (never touched).</summary>
        public ReadableList<string> ForeignCtkFiles { get; set; } = System.Array.Empty<string>();
        /// <summary>The CBT configuration is consistent as read (CBT that is off is consistent; a 7228 inside the tracker is not visible here).</summary>
        public bool Healthy { get; set; }

        /// <summary>Why the configuration is not consistent, or what could not be read (null when healthy).</summary>
        public string? Reason { get; set; }
    }
}
