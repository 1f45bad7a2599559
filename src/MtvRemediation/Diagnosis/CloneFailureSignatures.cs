using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text.RegularExpressions;

namespace MtvRemediation.Diagnosis
{
    /// <summary>
    /// One known clone-failure line shape: how to find it (a precise .NET regex on the client and a
    /// coarse POSIX ERE prefilter that BusyBox grep runs on the host), what it means and what to run.
    /// </summary>
    internal sealed class CloneFailureSignature
    {
        internal CloneFailureSignature(string name, int priority, bool frequent, string[] grepTokens, string grepPattern, string regex, string cause, string remediation)
        {
            Name = name;
            Priority = priority;
            Frequent = frequent;
            GrepTokens = grepTokens;
            GrepPattern = grepPattern;
            Regex = new Regex(regex, RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.Compiled);
            Cause = cause;
            Remediation = remediation;
        }

        /// <summary>Stable name, e.g. <c>DiskIoError</c>; the Signature property of a finding.</summary>
        public string Name { get; }

        /// <summary>Lower wins when one line matches several signatures (specific cause before generic exit code).</summary>
        public int Priority { get; }

        /// <summary>
        /// Logged on every task poll (every 5 s per disk) rather than once per failure: only the
        /// first N and the last occurrence per source are reported, the rest are counted.
        /// </summary>
        public bool Frequent { get; }

        /// <summary>
        /// Case-sensitive fixed strings, one of which is in every line this signature is reported
        /// for from a host: the host's first filter (BusyBox <c>grep -F</c>). Case-sensitive because
        /// <c>grep -i</c> costs 5x on BusyBox (3.1 s against 0.56 s per GiB here); tokens drop the
        /// first letter where messages capitalise it ("ailed to clone" matches "Failed" and "failed").
        /// For a <see cref="Frequent"/> signature they are its exact known spellings, because the host
        /// counts those lines without looking at them again.
        /// </summary>
        public IReadOnlyList<string> GrepTokens { get; }

        /// <summary>POSIX ERE, lower case, no backslashes or slashes (an awk regex literal on the host): a superset of <see cref="Regex"/>.</summary>
        public string GrepPattern { get; }

        public Regex Regex { get; }
        public string Cause { get; }
        public string Remediation { get; }
    }

    /// <summary>
    /// The signature table (docs/field-sources.md#1-the-failure-in-mtv and
    /// docs/field-sources.md#2-the-vmkfstools-wrapper).
    /// </summary>
    internal static class CloneFailureSignatures
    {
        public const string SourceNotVmfs = "SourceNotVmfs";
        public const string ChangeTrackerInvalid = "ChangeTrackerInvalid";
        public const string DiskIoError = "DiskIoError";
        public const string VibNotLoaded = "VibNotLoaded";
        public const string NoSpaceLeft = "NoSpaceLeft";
        public const string CloneExitCode = "CloneExitCode";
        public const string CloneFailed = "CloneFailed";
        public const string XcopyNotUsed = "XcopyNotUsed";

        /// <summary>All signatures, most specific first.</summary>
        public static IReadOnlyList<CloneFailureSignature> All { get; } = new[]
        {
            // The populator maps the array's LUN to the cloning host through the SAN adapters of the
            // source datastore, and finds them only for VMFS (GetDatastoreActiveAdapters, MTV 2.11.1
            // and later). 2.12.4+ stop there: "copy-offload failed" err="failed to get active adapters
            // for datastore <ds>: could not determine underlying device for datastore <ds> (likely not
            // VMFS)". 2.11.1-2.12.3 drop that error, log "Datastore active adapters" ...
            // activeAdapters=null (klog's JSON of a nil slice) and go on to fail wherever the array's
            // initiator group, mapping or rescan gives out.
            new CloneFailureSignature(SourceNotVmfs, 5, false, new[] { "likely not VMFS", "active adapters for datastore", "activeAdapters=null" },
                "likely not vmfs|active adapters for datastore|activeadapters=null",
                @"\(likely not VMFS\)|failed to get active adapters for datastore|""Datastore active adapters"".*\bactiveAdapters=null",
                "The source disk's datastore is not VMFS (vSAN or NFS, for instance): copy offload clones only from a VMFS datastore on the array it serves. " +
                "From MTV 2.12.4 the populator stops before any clone ('likely not VMFS'); 2.11.1-2.12.3 log activeAdapters=null, go on and fail later at the array. " +
                "Nothing on the ESXi host needs fixing.",
                "None on the host: migrate this VM without copy offload (its datastore mapped in the StorageMap without offloadPlugin), " +
                "or first move its disks (Storage vMotion) to a VMFS datastore on the array that copy offload serves"),
            // "Failed to clone disk: Invalid change tracker error code (7228)."
            new CloneFailureSignature(ChangeTrackerInvalid, 10, false, new[] { "hange tracker", "7228" },
                "change tracker error|[(]7228[)]",
                @"change tracker error|\(7228\)",
                "The VM's Changed Block Tracking (CBT) state is invalid, so vmkfstools cannot read changed blocks.",
                "Reset-VMChangeTracking"),
            // "clone task failed with exit code 255, stderr: Failed to clone disk: Input/output error (327689)."
            // The /tmp and hostd-tmp suspects: the copy-offload populator's README, "Troubleshooting", at v2.12.5.
            new CloneFailureSignature(DiskIoError, 20, false, new[] { "327689" },
                "[(]327689[)]",
                @"\(327689\)",
                "vmkfstools got a VMFS I/O error (327689, one of the 3276xx family). With the 2.9/2.10 Python wrapper, /var on the ESXi host is usually 100% full because /var/log/vmkfstools-wrapper.log grew without bound; " +
                "the 0.3.x wrapper (MTV 2.11 and later) writes no such log, so there suspect a full /tmp ramdisk and the hostd-tmp memory limit under many concurrent clones.",
                "Test-VmkfstoolsLogSpace | Clear-VmkfstoolsWrapperLog"),
            // The populator's remote esxcli call when the host's esxcli has no vmkfstools namespace
            // (the VIB installed, hostd not restarted since): "CLI Fault: The object or item referred
            // to could not be found. <obj ... xsi:type="LocalizedMethodFault"><fault xsi:type="NotFound">..."
            // (forklift cmd/vsphere-copy-offload-populator/README.md "Troubleshooting" @v2.12.5).
            new CloneFailureSignature(VibNotLoaded, 25, false, new[] { "item referred to could not be found" },
                "object or item referred to could not be found",
                @"object or item referred to could not be found",
                "The host's esxcli has no vmkfstools namespace: the wrapper VIB was installed but hostd has not been restarted since, so it never loaded the plugin.",
                "Restart-EsxiAgents"),
            new CloneFailureSignature(NoSpaceLeft, 30, false, new[] { "NOSPC", "o space left", "ree space is low" },
                "enospc|no space left on device|free space is low",
                @"\bENOSPC\b|No space left on device|free space is low",
                "A filesystem on the host (usually /var, where the wrapper log lives) is out of space.",
                "Test-VmkfstoolsLogSpace | Clear-VmkfstoolsWrapperLog"),
            // Exit status of vmkfstools as the populator reports it ("exit code 255") or the 2.9 secure
            // log's status dict holds it ('exitCode': '255'); 0 is success.
            new CloneFailureSignature(CloneExitCode, 40, false, new[] { "xit" },
                "exit[ _]?(code|status)[\"']?[ ]*[:=]?[ ]*[\"']?-?0*[1-9]",
                @"exit[ _]?(?:code|status)[""']?\s*[:=]?\s*[""']?(?<code>-?0*[1-9][0-9]*)\b",
                "vmkfstools ended the clone with a non-zero exit code; the rest of the line (stderr) says why.",
                "Test-VmkfstoolsLogSpace"),
            new CloneFailureSignature(CloneFailed, 50, false, new[] { "ailed to clone" },
                "failed to clone",
                @"Failed to clone( disk)?",
                "vmkfstools failed to clone the disk; the message after 'Failed to clone disk:' is vmkfstools' own error.",
                "Test-VmkfstoolsLogSpace"),
            // " xcopy used reported: 0" (populator klog, 2.10-2.11.0), "xcopyUsed": false / xcopyUsed=false /
            // xcopyUsed=0 (2.11.1 and later, klog key/value; the JSON and "false" spellings are unverified),
            // "XCOPY used: False, clone write ops: <n>" (2.10 Python wrapper, every poll), "XCOPY used:
            // false" (0.3.x shell wrapper, syslog).
            new CloneFailureSignature(XcopyNotUsed, 60, true, new[] { "XCOPY used: False", "XCOPY used: false", "xcopy used reported: 0", "xcopyUsed\": false", "xcopyUsed\":false", "xcopyUsed=false", "xcopyUsed=0" },
                "xcopy[ _]?used( reported)?\"?[ ]*[:=][ ]*\"?(0|false)",
                @"xcopy[ _]?used(?: reported)?""?\s*[:=]\s*""?(?:0|false)\b",
                "The storage array did not offload the copy (no XCOPY/VAAI); data went through the host. Not an error by itself. " +
                "A vSAN source always shows it on MTV 2.9.x-2.11.0 (where the KB's vSAN failures come from); from 2.12.4 a vSAN source never reaches the clone (SourceNotVmfs).",
                "None (informational)"),
        };

        /// <summary>Every signature's host tokens, for <c>grep -F</c> on the host.</summary>
        public static IReadOnlyList<string> AllGrepTokens => Tokens(frequent: null);

        /// <summary>The tokens of the signatures reported line by line (not <see cref="CloneFailureSignature.Frequent"/>).</summary>
        public static IReadOnlyList<string> RareGrepTokens => Tokens(frequent: false);

        /// <summary>The exact spellings of the frequent signatures' lines, counted on the host.</summary>
        public static IReadOnlyList<string> FrequentGrepTokens => Tokens(frequent: true);

        private static List<string> Tokens(bool? frequent)
        {
            var tokens = new List<string>();
            foreach (var s in All)
                if (frequent == null || s.Frequent == frequent)
                    foreach (var t in s.GrepTokens) if (!tokens.Contains(t)) tokens.Add(t);
            return tokens;
        }

        /// <summary>All patterns as one lower-case ERE, applied by awk to lower-cased lines on the host.</summary>
        public static string CombinedGrepPattern => Join(false);

        /// <summary>The frequent signatures' patterns as one lower-case ERE (counted, not sent, past the repeat limit).</summary>
        public static string FrequentAwkPattern => Join(true);

        private static string Join(bool frequentOnly)
        {
            var parts = new List<string>();
            foreach (var s in All) if (!frequentOnly || s.Frequent) parts.Add(s.GrepPattern);
            return string.Join("|", parts);
        }

        /// <summary>The most specific signature that matches <paramref name="line"/>, or null.</summary>
        public static CloneFailureSignature? Classify(string line, out int? exitCode)
        {
            exitCode = null;
            CloneFailureSignature? best = null;
            foreach (var s in All)
            {
                var m = s.Regex.Match(line);
                if (!m.Success) continue;
                if (s.Name == CloneExitCode
                    && int.TryParse(m.Groups["code"].Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var code))
                    exitCode = code;
                if (best == null || s.Priority < best.Priority) best = s;
            }
            return best;
        }

        public static CloneFailureSignature Get(string name)
        {
            foreach (var s in All) if (string.Equals(s.Name, name, StringComparison.OrdinalIgnoreCase)) return s;
            throw new ArgumentException("Unknown signature " + name, nameof(name));
        }
    }
}
