namespace MtvRemediation
{
    /// <summary>
    /// One host after Complete-MtvWave: what the wave's preparation changed and was put back, and
    /// what was left as it is, each with its reason.
    /// </summary>
    public sealed class WaveCompletionResult
    {
        public string VMHost { get; set; } = "";

        /// <summary>The log paths whose MtvRemediation rotation job was removed from root's crontab.</summary>
        public ReadableList<string> RotationJobsRemoved { get; set; } = new ReadableList<string>(null);

        /// <summary>The hostd-tmp memory max put back, in KB (null: nothing was restored).</summary>
        public long? HostdTmpMaxKB { get; set; }

        /// <summary>True when SSH (TSM-SSH), started by -StartSshService of this module, was stopped.</summary>
        public bool SshStopped { get; set; }

        /// <summary>True when anything was put back.</summary>
        public bool Changed { get; set; }

        /// <summary>What was put back, a sentence each.</summary>
        public ReadableList<string> Restored { get; set; } = new ReadableList<string>(null);

        /// <summary>What was left as it is, and why, a sentence each.</summary>
        public ReadableList<string> Left { get; set; } = new ReadableList<string>(null);

        public override string ToString() => $"{VMHost}: restored {(Restored.Count == 0 ? "nothing" : Restored.ToString())}";
    }
}
