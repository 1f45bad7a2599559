using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text.RegularExpressions;

namespace MtvRemediation
{
    /// <summary>
    /// A VM (and disk, when known) that MTV's own objects say failed or is being copied, with its
    /// vSphere moRef: ConvertFrom-MtvClusterObject. Binds to -VM of the VM cmdlets (VMId, Name).
    /// </summary>
    public sealed class MtvClusterFinding
    {
        /// <summary>Migration, Plan, VSphereXcopyVolumePopulator or Event (a PopulatorFailed event).</summary>
        public string Kind { get; set; } = "";
        public string? Namespace { get; set; }

        /// <summary>The object's metadata.name (the Migration, Plan or populator CR).</summary>
        public string? ObjectName { get; set; }

        /// <summary>The VM's name as MTV records it (may be null for populator CRs).</summary>
        public string? Name { get; set; }

        /// <summary>The vSphere moRef value, e.g. <c>vm-1013</c> (status.vms[].id, spec.vmId).</summary>
        public string? MoRef { get; set; }

        /// <summary>PowerCLI-style id <c>VirtualMachine-vm-1013</c>: what -VM binds.</summary>
        public string? VMId => string.IsNullOrEmpty(MoRef) ? null : "VirtualMachine-" + MoRef;

        /// <summary>The source disk (populator spec.vmdkPath, e.g. <c>[ds1] web01/web01.vmdk</c>).</summary>
        public string? Disk { get; set; }

        /// <summary>The VM's migration phase, or the failed step and its phase.</summary>
        public string? Phase { get; set; }

        /// <summary>PopulatorPodFailed, a clone-failure signature (ChangeTrackerInvalid, DiskIoError, ...), MigrationError, PopulatorFailed or CopyOffloadDisk.</summary>
        public string Signature { get; set; } = "";

        /// <summary>The error text exactly as the object holds it.</summary>
        public string? Reason { get; set; }

        /// <summary>The PVC UID in a 'populator pod failed for PVC ...' reason.</summary>
        public string? Pvc { get; set; }

        /// <summary>The populator pod of that PVC (<c>populate-&lt;pvcUID&gt;</c>; it may be gone unless MTV retains populator pods).</summary>
        public string? PopulatorPod { get; set; }

        /// <summary>status.progress, status.xcopyUsed, status.vibVersion, status.result of a populator CR (newer fields only on newer MTV).</summary>
        public string? Progress { get; set; }
        public string? XcopyUsed { get; set; }
        public string? VibVersion { get; set; }
        public string? Result { get; set; }

        /// <summary>
        /// The ESXi host MTV named to clone this disk (PowerCLI id, <c>HostSystem-host-88</c>): MTV 5.0's
        /// populator spec.migrationHost, one of the StorageMap's dedicated migration hosts. Null when
        /// the disk is cloned on the VM's own host (every version before 5.0).
        /// </summary>
        public string? VMHostId { get; set; }

        /// <summary>Where in which object the finding is, e.g. <c>Migration ns/m1 status.vms[0].pipeline[2](DiskTransfer).error.reasons[0]</c>.</summary>
        public string Source { get; set; } = "";
        public string Cause { get; set; } = "";

        /// <summary>What to run next.</summary>
        public string Remediation { get; set; } = "";

        public override string ToString() => $"{Name ?? MoRef} {Signature}";
    }
}

