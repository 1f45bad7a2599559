using System.Collections.Generic;

namespace MtvRemediation.VSphere
{
    /// <summary>A virtual disk of a VM as the engine needs it.</summary>
    internal sealed class VmDiskInfo
    {
        public int Key { get; set; }
        public string Label { get; set; } = "";

        /// <summary>Descriptor path, e.g. <c>[LocalDS_0] web01/web01.vmdk</c>.</summary>
        public string FileName { get; set; } = "";

        public string Datastore { get; set; } = "";
        public MoRef DatastoreMoRef { get; set; }

        /// <summary>Controller kind for extraConfig keys: scsi, sata, nvme or ide ("" when unknown).</summary>
        public string ControllerKind { get; set; } = "";
        public int BusNumber { get; set; } = -1;
        public int UnitNumber { get; set; } = -1;

        /// <summary>Physical-mode RDMs cannot use CBT.</summary>
        public bool IsPhysicalRdm { get; set; }

        /// <summary>extraConfig key for this disk's ctkEnabled flag, e.g. <c>scsi0:0.ctkEnabled</c>, or null when unknown.</summary>
        public string? CtkEnabledKey =>
            ControllerKind.Length == 0 || BusNumber < 0 || UnitNumber < 0 ? null : $"{ControllerKind}{BusNumber}:{UnitNumber}.ctkEnabled";
    }

    /// <summary>A datastore as the engine needs it.</summary>
    internal sealed class DatastoreInfo
    {
        public MoRef MoRef { get; set; }
        public string Name { get; set; } = "";
        public MoRef Browser { get; set; }
        public MoRef Datacenter { get; set; }
        public string Url { get; set; } = "";

        /// <summary>summary.type: VMFS, NFS, vsan, VVOL...</summary>
        public string Type { get; set; } = "";

        public bool IsVsan => string.Equals(Type, "vsan", System.StringComparison.OrdinalIgnoreCase) || Url.StartsWith("ds:///vmfs/volumes/vsan:", System.StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>The state of one VM read in a batch.</summary>
    internal sealed class VmInfo
    {
        public MoRef MoRef { get; set; }
        public string Name { get; set; } = "";

        /// <summary>poweredOn, poweredOff or suspended (vim25 spelling).</summary>
        public string PowerState { get; set; } = "";

        /// <summary>guest.toolsRunningStatus: guestToolsRunning, guestToolsNotRunning, guestToolsExecutingScripts.</summary>
        public string ToolsRunningStatus { get; set; } = "";

        /// <summary>config.changeTrackingEnabled (absent means false).</summary>
        public bool ChangeTrackingEnabled { get; set; }
        public int SnapshotCount { get; set; }
        public bool IsTemplate { get; set; }
        public MoRef Host { get; set; }
        public string HostName { get; set; } = "";
        public List<VmDiskInfo> Disks { get; } = new List<VmDiskInfo>();

        /// <summary>Datastores the disks live on, by datastore reference.</summary>
        public Dictionary<MoRef, DatastoreInfo> Datastores { get; } = new Dictionary<MoRef, DatastoreInfo>();

        /// <summary>extraConfig entries ending in <c>.ctkEnabled</c>.</summary>
        public Dictionary<string, string> CtkExtraConfig { get; } = new Dictionary<string, string>(System.StringComparer.OrdinalIgnoreCase);
        public List<string> MissingProperties { get; } = new List<string>();

        /// <summary>extraConfig key of the durable record of a CBT reset in progress (parsed by Cbt.ChangeTrackingResetRecord).</summary>
        public const string ResetRecordKey = "mtvremediation.cbtReset";

        /// <summary>The value of <see cref="ResetRecordKey"/>, or null when the VM has none.</summary>
        public string? ResetRecordValue { get; set; }

        public bool ToolsRunning => ToolsRunningStatus == "guestToolsRunning" || ToolsRunningStatus == "guestToolsExecutingScripts";
    }

    /// <summary>A file found by SearchDatastore_Task.</summary>
    internal sealed class DatastoreFile
    {
        public DatastoreFile(DatastorePath path, long? size)
        {
            Path = path;
            Size = size;
        }

        public DatastorePath Path { get; }
        public long? Size { get; }
        public override string ToString() => Path.ToString();
    }
}
