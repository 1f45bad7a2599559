using System;

namespace MtvRemediation
{
    /// <summary>What Remove-VmkfstoolsWrapperTaskDirectory did on one host.</summary>
    public sealed class WrapperTaskCleanupResult
    {
        public string VMHost { get; set; } = "";
        public double OlderThanDays { get; set; }

        /// <summary>Removed directories, each with the exit code and stderr it held (read right before the removal).</summary>
        public WrapperTaskDirectory[] Removed { get; set; } = Array.Empty<WrapperTaskDirectory>();

        /// <summary>Directories left in place, with the reason: "running (pid N)", "newer than the age limit", ...</summary>
        public string[] Kept { get; set; } = Array.Empty<string>();

        public long BytesFreed { get; set; }

        /// <summary>The local JSON file that holds the removed directories' exit codes and stderr (with -ArchivePath).</summary>
        public string? ArchiveFile { get; set; }

        public override string ToString() => $"{VMHost}: {Removed.Length} removed, {Kept.Length} kept";
    }
}

