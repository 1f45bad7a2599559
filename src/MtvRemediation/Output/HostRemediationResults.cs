using System;

namespace MtvRemediation
{
    /// <summary>Space state of one host for the vmkfstools-wrapper log (Test-VmkfstoolsLogSpace).</summary>
    public sealed class LogSpaceStatus
    {
        public string VMHost { get; set; } = string.Empty;
        public string LogPath { get; set; } = string.Empty;
        public bool LogExists { get; set; }
        public long LogSizeBytes { get; set; }

        /// <summary>The log's real path: its directory resolved through symlinks (ESXi 7/8: into the OSDATA volume).</summary>
        public string LogRealPath { get; set; } = string.Empty;

        /// <summary>Mount point of the volume holding the log's real path, e.g. /var or /vmfs/volumes/OSDATA-....</summary>
        public string VolumePath { get; set; } = string.Empty;

        /// <summary>That volume's name: the ramdisk (var, tmp) or the df file system / volume name.</summary>
        public string VolumeName { get; set; } = string.Empty;

        /// <summary>ramdisk, or the file system type df reports (VMFS-L, VFFS, VMFS-6, vfat...).</summary>
        public string VolumeKind { get; set; } = string.Empty;
        public long VolumeSizeBytes { get; set; }
        public long VolumeUsedBytes { get; set; }
        public long VolumeFreeBytes { get; set; }
        public double UsedPercent { get; set; }

        /// <summary>Healthy, Warning or Critical: the worse of the log volume and the /tmp ramdisk.</summary>
        public string Status { get; set; } = "Healthy";

        /// <summary>Which source answered for the log volume: "ramdisk list + vdf", "df", "stat -f", or off ESXi "stat -f + df -k" / "df -k".</summary>
        public string Source { get; set; } = string.Empty;

        /// <summary>The /tmp ramdisk, where every clone keeps its task dir.</summary>
        public long TmpSizeBytes { get; set; }
        public long TmpFreeBytes { get; set; }
        public double TmpUsedPercent { get; set; }
        public string TmpSource { get; set; } = string.Empty;

        /// <summary>/tmp/vmkfstools-wrapper-* task dirs, and how many are older than 5 days (stale).</summary>
        public int TaskDirCount { get; set; }
        public int StaleTaskDirCount { get; set; }

        /// <summary>The SSH clone method's log (MTV 2.10).</summary>
        public string SecureLogPath { get; set; } = string.Empty;
        public bool SecureLogExists { get; set; }
        public long SecureLogSizeBytes { get; set; }

        /// <summary>Whether the vmkfstools-wrapper VIB payload is on the host (null: could not tell).</summary>
        public bool? WrapperInstalled { get; set; }

        /// <summary>Why the status is not Healthy (empty when healthy).</summary>
        public ReadableList<string> Reasons { get; set; } = Array.Empty<string>();

        // The wrapper inventory (Get-VmkfstoolsWrapper's object, read at the same time as the
        // space): flat copies first, so Export-Csv keeps them; null when the inventory could not be read.

        /// <summary>The MTV release whose wrapper this is (2.9, 2.10, 2.11, 2.12.0...; null: unknown or none).</summary>
        public string? WrapperMtvVersion { get; set; }

        /// <summary>The VIB version (esxcli software vib list), else the payload's SCRIPT_VERSION.</summary>
        public string? WrapperVersion { get; set; }

        /// <summary>File, Syslog or Unknown: where this wrapper generation writes its log.</summary>
        public string? WrapperLogsTo { get; set; }

        /// <summary>The wrapper's log file (for Syslog the file ESXi's syslog presumably writes).</summary>
        public string? WrapperLogPath { get; set; }

        /// <summary>Vib (esxcli plugin) and/or Ssh (secure script and restricted key).</summary>
        public ReadableList<string>? WrapperCloneMethods { get; set; }

        public int? WrapperTaskDirectoryCount { get; set; }
        public long? WrapperTaskDirectoryBytes { get; set; }
        public int? WrapperFailedTaskCount { get; set; }
        public int? WrapperRunningTaskCount { get; set; }

        /// <summary>The whole inventory (task directories with exit codes and stderr, keys, scripts).</summary>
        public VmkfstoolsWrapperInfo? Wrapper { get; set; }

        internal void AddWrapperInventory(VmkfstoolsWrapperInfo info)
        {
            Wrapper = info;
            WrapperMtvVersion = info.MtvVersion;
            WrapperVersion = info.VibVersion ?? info.ScriptVersion;
            WrapperLogsTo = info.LogsTo;
            WrapperLogPath = info.LogPath;
            WrapperCloneMethods = info.CloneMethods;
            WrapperTaskDirectoryCount = info.TaskDirectoryCount;
            WrapperTaskDirectoryBytes = info.TaskDirectoryBytes;
            WrapperFailedTaskCount = info.FailedTasks.Length;
            WrapperRunningTaskCount = info.RunningTasks;
        }
    }

    /// <summary>What Clear-VmkfstoolsWrapperLog did on one host.</summary>
    public sealed class LogClearResult
    {
        public string VMHost { get; set; } = string.Empty;
        public string LogPath { get; set; } = string.Empty;
        public long BytesBefore { get; set; }
        public long BytesAfter { get; set; }
        public long FreedBytes { get; set; }
        public double UsedPercentBefore { get; set; }
        public double UsedPercentAfter { get; set; }

        /// <summary>Local .gz holding the log as it was before truncation (null without -ArchivePath).</summary>
        public string? ArchiveFile { get; set; }

        /// <summary>Bytes kept at the end of the log (-KeepLastLines, plus lines written during the operation).</summary>
        public long KeptBytes { get; set; }

        /// <summary>False when the log did not exist (nothing to do; not an error).</summary>
        public bool LogExists { get; set; }

        /// <summary>Why nothing was done, when nothing was (e.g. -KeepLastLines keeps the whole log).</summary>
        public string? Note { get; set; }
    }

    /// <summary>Our temporary log rotation cron job on one host.</summary>
    public sealed class LogRotationCron
    {
        public string VMHost { get; set; } = string.Empty;
        public string LogPath { get; set; } = string.Empty;
        public string Schedule { get; set; } = string.Empty;
        public string Command { get; set; } = string.Empty;
        public int MaxSizeMB { get; set; }
        public long MaxSizeBytes { get; set; }

        /// <summary>True when the entry is in the crontab after the operation (false after Unregister).</summary>
        public bool Registered { get; set; }

        /// <summary>True when the crontab was rewritten (false: it already said exactly this).</summary>
        public bool Changed { get; set; }

        /// <summary>crond's pid after the operation (a new pid after a reload).</summary>
        public int? CrondPid { get; set; }

        /// <summary>What the operation found and finished besides its own change (a reload an earlier run left pending).</summary>
        public string? Note { get; set; }

        /// <summary>The job lives in the ramdisk crontab: it is lost when the host reboots, by design.</summary>
        public bool Persistent => false;
    }

    /// <summary>One agent restart on one host.</summary>
    public sealed class AgentRestartResult
    {
        public string VMHost { get; set; } = string.Empty;
        public string Agent { get; set; } = string.Empty;
        public bool Succeeded { get; set; }
        public bool Running { get; set; }
        public string Output { get; set; } = string.Empty;
        public TimeSpan Duration { get; set; }

        /// <summary>vCenter's view after the restart (connected, notResponding...), null without a vCenter connection.</summary>
        public string? ConnectionState { get; set; }

        /// <summary>For hostd: whether and when it answered an API request on the host (vim-cmd), or why that is unknown.</summary>
        public string? Serving { get; set; }

        /// <summary>Every connection state vCenter reported, with seconds from the restart (e.g. "notResponding +2.1 s").</summary>
        public string[] VCenterStates { get; set; } = System.Array.Empty<string>();

        /// <summary>Why the wait trusted vCenter's "connected" (a down-and-up it saw, or a connection that held long enough).</summary>
        public string? VCenterEvidence { get; set; }
    }
}
