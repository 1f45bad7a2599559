using System;
using System.Collections.Generic;
using MtvRemediation.Infrastructure;

namespace MtvRemediation
{
    /// <summary>One log line that explains (or hints at) a failed MTV disk clone.</summary>
    public sealed class CloneFailureFinding
    {
        /// <summary>
        /// <c>host:/var/log/file</c> for host logs, the full path for files, <c>InputObject</c> for
        /// piped lines. Host text (this, <see cref="Path"/>, <see cref="Line"/>) is kept exact; the
        /// format views show controls as \xHH (HostText.Printable).
        /// </summary>
        public string Source { get; set; } = "";

        /// <summary>The ESXi host the line came from; null for local files and piped lines.</summary>
        public string? VMHost { get; set; }

        /// <summary>The log file (on the host, or local); null for piped lines.</summary>
        public string? Path { get; set; }

        /// <summary>
        /// 1-based line number within the source (within the pipeline for piped lines); 0 for the
        /// repeat count of a frequent signature that an ESXi host counted without numbering its last line.
        /// </summary>
        public long LineNumber { get; set; }

        /// <summary>The line's own timestamp in UTC, when it has one.</summary>
        public DateTime? Timestamp { get; set; }

        /// <summary>SourceNotVmfs, ChangeTrackerInvalid, DiskIoError, VibNotLoaded, NoSpaceLeft, CloneExitCode, CloneFailed or XcopyNotUsed.</summary>
        public string Signature { get; set; } = "";

        /// <summary>vmkfstools' exit code when the line reports one.</summary>
        public int? ExitCode { get; set; }

        /// <summary>The line as read; the format views show its controls as \xHH (it came from a host or a file).</summary>
        public string Line { get; set; } = "";
        public string Cause { get; set; } = "";

        /// <summary>The cmdlet(s) to run.</summary>
        public string Remediation { get; set; } = "";

        /// <summary>
        /// How many matching lines this finding stands for: 1, or for the last reported occurrence of a
        /// frequent signature (XcopyNotUsed) the number of lines since the previous reported one.
        /// </summary>
        public long Occurrences { get; set; } = 1;

        /// <summary>The source disk the evidence is about, when it names one: a task directory's rdmfile (<c>/vmfs/volumes/ds/vm/disk.vmdk</c>), or the <c>source_vmdk</c> a 2.11.1+ pod log names (<c>[ds] vm/disk.vmdk</c>).</summary>
        public string? Disk { get; set; }

        /// <summary>
        /// The ESXi host that ran the clone (PowerCLI id, <c>HostSystem-host-88</c>), as a populator pod's
        /// log named it before this line: on MTV 5.0 it may be a StorageMap migration host rather
        /// than the VM's own host. Null for host logs and logs that name none.
        /// </summary>
        public string? VMHostId { get; set; }

        /// <summary>
        /// The wrapper task the pod's log started last before this line: that host's task directory
        /// <c>/tmp/vmkfstools-wrapper-&lt;TaskId&gt;</c> (which 2.11 and later remove after a failure).
        /// </summary>
        public string? TaskId { get; set; }

        public override string ToString() => $"{Source}:{LineNumber} {Signature}";
    }

    /// <summary>Counts per source, written by <c>Find-MtvCloneFailure -Summary</c>.</summary>
    public sealed class CloneFailureSummary
    {
        public string Source { get; set; } = "";
        public string? VMHost { get; set; }
        public string? Path { get; set; }
        public long SourceNotVmfs { get; set; }
        public long ChangeTrackerInvalid { get; set; }
        public long DiskIoError { get; set; }
        public long VibNotLoaded { get; set; }
        public long NoSpaceLeft { get; set; }
        public long CloneExitCode { get; set; }
        public long CloneFailed { get; set; }
        public long XcopyNotUsed { get; set; }

        /// <summary>Lines that matched any signature (after -Since), including counted-only repeats.</summary>
        public long TotalFindings { get; set; }

        /// <summary>Lines read on the client; for host scans only matching lines cross the wire, so null.</summary>
        public long? LinesScanned { get; set; }

        public DateTime? FirstTimestamp { get; set; }
        public DateTime? LastTimestamp { get; set; }

        /// <summary>Remediations suggested by the findings, most urgent first.</summary>
        public ReadableList<string> Remediation { get; set; } = Array.Empty<string>();

        /// <summary>Counts keyed by signature name (same numbers as the properties; a method, so CSV rows stay flat).</summary>
        public IDictionary<string, long> GetCounts()
        {
            {
                return new Dictionary<string, long>
                {
                    [nameof(SourceNotVmfs)] = SourceNotVmfs,
                    [nameof(ChangeTrackerInvalid)] = ChangeTrackerInvalid,
                    [nameof(DiskIoError)] = DiskIoError,
                    [nameof(VibNotLoaded)] = VibNotLoaded,
                    [nameof(NoSpaceLeft)] = NoSpaceLeft,
                    [nameof(CloneExitCode)] = CloneExitCode,
                    [nameof(CloneFailed)] = CloneFailed,
                    [nameof(XcopyNotUsed)] = XcopyNotUsed,
                };
            }
        }

        public override string ToString() => $"{Source}: {TotalFindings} findings";
    }
}
