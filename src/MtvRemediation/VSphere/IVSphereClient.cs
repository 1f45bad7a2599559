using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace MtvRemediation.VSphere
{
    /// <summary>
    /// The vSphere operations the remediation engines need, in domain terms. Implemented over SOAP by
    /// <see cref="VSphereClient"/>; engines depend only on this so their logic is testable.
    /// </summary>
    internal interface IVSphereClient
    {
        /// <summary>Server name, for messages.</summary>
        string Server { get; }

        /// <summary>Reads many VMs in a constant number of round trips; VMs that no longer exist are left out.</summary>
        Task<IReadOnlyList<VmInfo>> GetVmsAsync(IReadOnlyCollection<MoRef> vms, CancellationToken ct);

        /// <summary>runtime.powerState and config.changeTrackingEnabled of one VM (one round trip).</summary>
        Task<(string PowerState, bool ChangeTrackingEnabled)> GetVmStateAsync(MoRef vm, CancellationToken ct);

        /// <summary>
        /// The same for many VMs in one round trip. VMs the server does not return (deleted, or a
        /// stale reference that failed the batch) are absent: read those with <see cref="GetVmStateAsync"/>.
        /// </summary>
        Task<IReadOnlyDictionary<MoRef, (string PowerState, bool ChangeTrackingEnabled)>> GetVmStatesAsync(IReadOnlyCollection<MoRef> vms, CancellationToken ct);

        /// <summary>Files in one datastore folder matching a pattern like <c>*-ctk.vmdk</c> (SearchDatastore_Task).</summary>
        Task<IReadOnlyList<DatastoreFile>> SearchFolderAsync(DatastoreInfo datastore, string folder, string matchPattern, CancellationToken ct);

        /// <summary>FileManager.DeleteDatastoreFile_Task. Throws <see cref="VimFaultException"/> FileNotFound when absent.</summary>
        Task DeleteFileAsync(DatastorePath file, MoRef datacenter, CancellationToken ct);

        /// <summary>
        /// ReconfigVM_Task setting changeTrackingEnabled and the per-disk ctkEnabled extraConfig keys.
        /// Returns the VM's power and CBT state as read in the same round trip that saw the task
        /// succeed (null when that read did not come back).
        /// </summary>
        Task<(string PowerState, bool ChangeTrackingEnabled)?> SetChangeTrackingAsync(MoRef vm, bool enabled, IReadOnlyList<string> ctkEnabledKeys, ExtraConfigValue? also, CancellationToken ct);

        /// <summary>ReconfigVM_Task setting one extraConfig key (an empty value removes it).</summary>
        Task SetExtraConfigAsync(MoRef vm, ExtraConfigValue value, CancellationToken ct);

        /// <summary>The VM's power-on and power-off events since a time, oldest first, with the user who caused each (EventManager.QueryEvents).</summary>
        Task<IReadOnlyList<VmPowerEvent>> GetPowerEventsAsync(MoRef vm, DateTime sinceUtc, CancellationToken ct);

        /// <summary>The session's vCenter user ("" when unknown).</summary>
        string UserName { get; }

        /// <summary>ShutdownGuest (returns at once; the guest shuts down on its own).</summary>
        Task ShutdownGuestAsync(MoRef vm, CancellationToken ct);

        Task PowerOffAsync(MoRef vm, CancellationToken ct);

        /// <summary>PowerOnVM_Task; returns the VM's state like <see cref="SetChangeTrackingAsync"/>.</summary>
        Task<(string PowerState, bool ChangeTrackingEnabled)?> PowerOnAsync(MoRef vm, CancellationToken ct);

        /// <summary>Time a single task may take before we stop waiting for it.</summary>
        TimeSpan TaskTimeout { get; }
    }

    /// <summary>One extraConfig option to set in a reconfigure; an empty value removes the key (vSphere's rule).</summary>
    internal sealed class ExtraConfigValue
    {
        public ExtraConfigValue(string key, string value) { Key = key; Value = value; }
        public string Key { get; }
        public string Value { get; }
    }

    /// <summary>A VmPoweredOnEvent or VmPoweredOffEvent: when, to which state, and the user vCenter names for it.</summary>
    internal sealed class VmPowerEvent
    {
        public VmPowerEvent(DateTime timeUtc, string powerState, string userName) { TimeUtc = timeUtc; PowerState = powerState; UserName = userName; }
        public DateTime TimeUtc { get; }
        public string PowerState { get; }
        public string UserName { get; }
    }
}
