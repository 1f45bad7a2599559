using System.Collections.Generic;
using System.Globalization;

namespace MtvRemediation.Diagnosis
{
    /// <summary>
    /// Findings from clone task directories: vmkfstools' stderr (the <c>err</c> file) and exit code
    /// are the only host-side copy of the 7228 / 327689 text in every wrapper generation (the
    /// wrapper logs never hold it, except MTV 2.9's secure log). Each finding names its directory.
    /// </summary>
    internal static class TaskDirectoryEvidence
    {
        public static List<CloneFailureFinding> Findings(VmkfstoolsWrapperInfo info, CloneFailureScanOptions options)
        {
            var findings = new List<CloneFailureFinding>();
            var since = options.SinceUtc;
            foreach (var t in info.FailedTasks)
            {
                if (since.HasValue && t.LastWriteTime.HasValue && t.LastWriteTime.Value < since.Value) continue;
                var path = t.Path + "/err";
                var lines = t.Stderr.Length == 0 ? new string[0] : t.Stderr.Split('\n');
                var any = false;
                for (var i = 0; i < lines.Length; i++)
                {
                    var line = lines[i].TrimEnd('\r');
                    if (line.Length == 0) continue;
                    var signature = CloneFailureSignatures.Classify(line, out _);
                    if (signature == null || signature.Frequent) continue;
                    findings.Add(Finding(info.VMHost, t, path, i + 1, line, signature));
                    any = true;
                }
                if (any) continue;
                // No known message in err: the exit code itself is the evidence (or its absence:
                // the process is gone without writing one, which 0.3.x's taskGet reports as exit code 1).
                var text = t.ExitCode.HasValue
                    ? string.Format(CultureInfo.InvariantCulture, "exit code {0}{1}", t.ExitCode.Value, t.Stderr.Length > 0 ? ", stderr: " + t.Stderr.Replace('\n', ' ').Trim() : "")
                    : "no exit code: the task's process (pid " + (t.Pid?.ToString(CultureInfo.InvariantCulture) ?? "?") + ") is gone without writing one";
                findings.Add(Finding(info.VMHost, t, t.Path + (t.ExitCode.HasValue ? "/exitcode" : "/pid"), 1, text,
                    CloneFailureSignatures.Get(CloneFailureSignatures.CloneExitCode)));
            }
            return findings;
        }

        private static CloneFailureFinding Finding(string host, WrapperTaskDirectory t, string path, int line, string text, CloneFailureSignature signature) => new CloneFailureFinding
        {
            Source = host + ":" + path,
            VMHost = host,
            Path = path,
            LineNumber = line,
            Timestamp = t.LastWriteTime,
            Signature = signature.Name,
            ExitCode = t.ExitCode,
            Line = text,
            Cause = signature.Cause,
            Remediation = signature.Remediation,
            Disk = t.SourceDisk,
        };
    }
}
