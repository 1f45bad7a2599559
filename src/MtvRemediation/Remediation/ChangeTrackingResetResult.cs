namespace MtvRemediation
{
    /// <summary>What Reset-VMChangeTracking did to one VM, and the state it left.</summary>
    public sealed class ChangeTrackingResetResult
    {
        public string VM { get; set; } = "";
        public string VMId { get; set; } = "";
        public string VMHost { get; set; } = "";
        public string Server { get; set; } = "";
        public string PowerStateBefore { get; set; } = "";

        /// <summary>Power state read back from the server at the end (the truth, also after a failure).</summary>
        public string PowerStateAfter { get; set; } = "";
        public bool EnabledBefore { get; set; }

        /// <summary>CBT state read back from the server at the end (null when it could not be read).</summary>
        public bool? EnabledAfter { get; set; }
        public ReadableList<string> DeletedFiles { get; set; } = System.Array.Empty<string>();

        /// <summary>What was done, in order.</summary>
        public ReadableList<string> Steps { get; set; } = System.Array.Empty<string>();
        public bool Succeeded { get; set; }

        /// <summary>Name of the step that failed (e.g. DisableChangeTracking), or null.</summary>
        public string? FailedStep { get; set; }
        public string? Error { get; set; }
    }
}
