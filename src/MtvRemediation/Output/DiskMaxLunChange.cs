namespace MtvRemediation
{
    /// <summary>Disk.MaxLUN of one host before and after Set-EsxiDiskMaxLun.</summary>
    public sealed class DiskMaxLunChange
    {
        public string VMHost { get; set; } = "";
        public string Server { get; set; } = "";

        /// <summary>Disk.MaxLUN as read before the change.</summary>
        public long PreviousValue { get; set; }

        /// <summary>Disk.MaxLUN as read back after the change (the previous value when nothing was changed).</summary>
        public long Value { get; set; }

        /// <summary>The highest LUN number the host sees (config.storageDevice.scsiTopology), or null when it reports none.</summary>
        public int? HighestLunInUse { get; set; }

        public bool Changed { get; set; }

        /// <summary>What to do next (a rescan or reboot after a change).</summary>
        public string? Note { get; set; }

        public override string ToString() => $"{VMHost}: Disk.MaxLUN {PreviousValue} -> {Value}";
    }
}
