using System;
using System.Collections.Generic;
using MtvRemediation.Infrastructure;

namespace MtvRemediation
{
    /// <summary>One clone task directory <c>/tmp/vmkfstools-wrapper-&lt;id&gt;/</c> as the wrapper left it.</summary>
    public sealed class WrapperTaskDirectory
    {
        public string VMHost { get; set; } = "";
        public string Path { get; set; } = "";
        public string TaskId { get; set; } = "";

        /// <summary>The directory's modification time (UTC): when the wrapper last wrote into it.</summary>
        public DateTime? LastWriteTime { get; set; }

        /// <summary>Sum of its files' sizes.</summary>
        public long Bytes { get; set; }
        public int? Pid { get; set; }

        /// <summary>The task's process still exists (<c>kill -0</c>, as the 0.3.x wrapper checks it): never removed.</summary>
        public bool Running { get; set; }

        /// <summary>vmkfstools' exit status from the <c>exitcode</c> file; null while running or when the file is missing.</summary>
        public int? ExitCode { get; set; }

        /// <summary>
        /// vmkfstools' stderr (the <c>err</c> file, first bytes, without its final line break): where
        /// the 7228 / 327689 text lives on the host. Exact, as <see cref="SourceDisk"/>; the format
        /// view shows controls as \xHH.
        /// </summary>
        public string Stderr { get; set; } = "";

        /// <summary>The source disk, from <c>rdmfile</c> (<c>&lt;vmdk&gt;-rdmdisk-&lt;pid&gt;</c>), e.g. <c>/vmfs/volumes/ds1/web01/web01.vmdk</c>.</summary>
        public string? SourceDisk { get; set; }

        /// <summary>Finished with a non-zero exit code, or gone without writing one (what 0.3.x's taskGet reports as failure).</summary>
        public bool Failed => ExitCode.HasValue ? ExitCode.Value != 0 : !Running;

        public override string ToString() => Path;
    }

    /// <summary>The MTV vmkfstools-wrapper on one host: which generation, where it logs, what it left (Get-VmkfstoolsWrapper).</summary>
    public sealed class VmkfstoolsWrapperInfo
    {
        public string VMHost { get; set; } = "";

        /// <summary>
        /// Directories named like task directories whose name is not a task id (the wrappers use
        /// UUIDs): not the wrapper's, never read or removed; a name with a newline is one of them.
        /// </summary>
        public int UnrecognizedTaskDirectoryCount { get; set; }

        /// <summary>The VIB's version from <c>esxcli software vib list</c> (null: not installed, or not readable).</summary>
        public string? VibVersion { get; set; }

        /// <summary>SCRIPT_VERSION of <c>/opt/redhat/vmkfstools-wrapper</c> (0.2.0's Python script says 0.0.5; 0.1.1 has none).</summary>
        public string? ScriptVersion { get; set; }

        /// <summary>Python, Shell, Unknown, or null when the payload file is missing.</summary>
        public string? Language { get; set; }

        /// <summary>The payload as read (its generation rule: <see cref="Wrapper.WrapperPayload"/>).</summary>
        internal Wrapper.WrapperPayload Payload { get; set; } = Wrapper.WrapperPayload.Missing;

        /// <summary>The MTV releases that ship this wrapper, e.g. <c>2.10</c>; null when unknown.</summary>
        public string? MtvVersion { get; set; }

        /// <summary>The VIB version the cluster's MTV ships (Get-VmkfstoolsWrapper -MtvVersion); null without it.</summary>
        public string? ClusterVibVersion { get; set; }

        /// <summary>
        /// True when this host's VIB is older than <see cref="ClusterVibVersion"/> (MTV 2.11.6 and later
        /// no longer install the VIB, so an upgraded cluster keeps old ones); null when either is unknown.
        /// </summary>
        public bool? VibOutdated { get; set; }

        /// <summary>File, Syslog, or Unknown: where this generation writes its log.</summary>
        public string LogsTo { get; set; } = "Unknown";

        /// <summary>The wrapper's log file for LogsTo = File; for Syslog the file ESXi's syslog presumably writes (unverified).</summary>
        public string? LogPath { get; set; }

        /// <summary>The wrapper log files present, with their size in bytes (a 0.3.x host can keep an older wrapper's log).</summary>
        public Dictionary<string, long> LogFiles { get; set; } = new Dictionary<string, long>(StringComparer.Ordinal);

        /// <summary>The esxcli plugin (<c>esxcli vmkfstools clone|taskGet|taskClean</c>) is installed.</summary>
        public bool EsxcliPlugin { get; set; }

        /// <summary>SSH-method scripts on datastores (<c>secure-vmkfstools-wrapper.py</c>), with their SCRIPT_VERSION line.</summary>
        public string[] SecureScripts { get; set; } = Array.Empty<string>();

        /// <summary>Restricted root keys that run the SSH-method script: <c>line N: command="..."</c>.</summary>
        public string[] RestrictedKeys { get; set; } = Array.Empty<string>();

        /// <summary>The clone methods present: Vib (esxcli plugin), Ssh (secure script and key).</summary>
        public string[] CloneMethods { get; set; } = Array.Empty<string>();

        public int TaskDirectoryCount { get; set; }
        public long TaskDirectoryBytes { get; set; }
        public DateTime? OldestTaskDirectory { get; set; }
        public int RunningTasks { get; set; }

        /// <summary>Task directories whose clone failed, with exit code and stderr.</summary>
        public WrapperTaskDirectory[] FailedTasks { get; set; } = Array.Empty<WrapperTaskDirectory>();
        public WrapperTaskDirectory[] TaskDirectories { get; set; } = Array.Empty<WrapperTaskDirectory>();

        public override string ToString() => $"{VMHost}: wrapper {VibVersion ?? ScriptVersion ?? "none"} logs to {LogsTo}";
    }
}
