namespace MtvRemediation
{
    /// <summary>The hostd-tmp group's memory max of one host before and after Set-/Restore-EsxiHostdTmpMemory.</summary>
    public sealed class HostdTmpMemoryChange
    {
        public string VMHost { get; set; } = "";

        /// <summary>The hostd-tmp group's id under /sched/groups.</summary>
        public string Group { get; set; } = "";

        /// <summary>memAllocation max in KB before the command (-1: unlimited).</summary>
        public long PreviousMaxKB { get; set; }

        /// <summary>memAllocation max in KB as read back at the end.</summary>
        public long MaxKB { get; set; }

        /// <summary>The value kept on the host to put back after the wave (null: no record).</summary>
        public long? RecordedMaxKB { get; set; }

        public bool Changed { get; set; }
        public string? Note { get; set; }

        public override string ToString() => $"{VMHost}: hostd-tmp max {PreviousMaxKB} KB -> {MaxKB} KB";
    }
}
