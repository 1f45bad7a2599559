namespace MtvRemediation
{
    /// <summary>What Reset-VMChangeTracking did to one VM, and the state it left.</summary>
    public sealed class ChangeTrackingResetResult
    {
        public string VM { get; set; } = "";
        public string VMId { get; set; } = "";
        public string VMHost { get; set; } = "";
        public string Server { get; set; } = "";
        /// <summary>The power state before the reset began: the VM's own, or the one an interrupted run's record kept.</summary>
        public string PowerStateBefore { get; set; } = "";

        /// <summary>Power state read back from the server at the end (the truth, also after a failure).</summary>
        public string PowerStateAfter { get; set; } = "";
        public bool EnabledBefore { get; set; }

        /// <summary>CBT state read back from the server at the end (null when it could not be read).</summary>
        public bool? EnabledAfter { get; set; }
        public ReadableList<string> DeletedFiles { get; set; } = System.Array.Empty<string>();

        /// <summary>Every power-state change the reset made, in order (KB 2139574's cycle included).</summary>
        public PowerTransition[] PowerTransitions { get; set; } = System.Array.Empty<PowerTransition>();

        /// <summary>The disks' own -ctk.vmdk files found by the final check (empty when it did not run).</summary>
        public string[] CtkFilesAfter { get; set; } = System.Array.Empty<string>();

        /// <summary>What was done, in order.</summary>
        public ReadableList<string> Steps { get; set; } = System.Array.Empty<string>();
        public bool Succeeded { get; set; }

        /// <summary>Name of the step that failed (e.g. DisableChangeTracking), or null.</summary>
        public string? FailedStep { get; set; }
        public string? Error { get; set; }

        /// <summary>The interrupted reset this run found (from the VM's record) and finished or continued; null when there was none.</summary>
        public string? Resumed { get; set; }

        /// <summary>Someone else changed the VM's power state during the reset (who and when, from vCenter's events); nothing of theirs was undone.</summary>
        public string? OtherActor { get; set; }

        /// <summary>The reset's record is still on the VM (extraConfig mtvremediation.cbtReset): a re-run finishes the reset.</summary>
        public bool RecordLeft { get; set; }
    }

    /// <summary>One power-state change made by Reset-VMChangeTracking.</summary>
    public sealed class PowerTransition
    {
        public string From { get; set; } = "";
        public string To { get; set; } = "";

        /// <summary>ShutdownGuest, PowerOffVM_Task or PowerOnVM_Task.</summary>
        public string Method { get; set; } = "";
        public string Reason { get; set; } = "";
        public System.DateTime Time { get; set; }

        public override string ToString() => $"{From} -> {To} ({Method})";
    }
}
