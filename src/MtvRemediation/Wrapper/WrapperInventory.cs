using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text.RegularExpressions;
using System.Threading;
using MtvRemediation.Esxi;
using MtvRemediation.Infrastructure;

namespace MtvRemediation.Wrapper
{
    /// <summary>
    /// Reads the wrapper inventory of one host with one script (<c>Scripts/wrapper-inventory.sh</c>)
    /// and tells the generations apart. Facts per generation, from kubev2v/forklift
    /// (<c>cmd/vsphere-xcopy-volume-populator/vmkfstools-wrapper/</c>, <c>version.mk</c> and the
    /// scripts at v2.9.0, v2.10.4, v2.11.0; <c>cmd/vsphere-copy-offload-populator/...</c> at v2.12.0
    /// and v2.12.5):
    /// VIB 0.1.1 (MTV 2.9) and 0.2.0 (2.10, SCRIPT_VERSION 0.0.5) are Python and log to
    /// <c>/var/log/vmkfstools-wrapper.log</c>; 0.3.x (2.11: 0.3.0, 2.12.0: 0.3.1, 2.12.1-2.12.3: 0.3.2,
    /// 2.12.4 and later: 0.3.3)
    /// is shell and logs with <c>logger -t vmkfstools-wrapper</c> only. Which file ESXi's vmsyslogd
    /// writes those lines to is unverified; <see cref="SyslogPath"/> is the presumed one.
    /// </summary>
    internal static class WrapperInventory
    {
        public const string WrapperLogPath = "/var/log/vmkfstools-wrapper.log";
        public const string SecureLogPath = "/var/log/secure-vmkfstools-wrapper.log";
        public const string SyslogPath = "/var/log/syslog.log";
        public const string TaskDirectoryPrefix = "/tmp/vmkfstools-wrapper-";
        private const int ErrBytes = 4096;

        private static readonly Regex RdmSuffix = new Regex(@"-rdmdisk-[0-9]+\s*$", RegexOptions.CultureInvariant);

        public static VmkfstoolsWrapperInfo Read(IEsxiShell shell, CancellationToken ct) => Read(shell, "wrapper-inventory.sh", ct).Info;

        /// <summary>
        /// The inventory read by <paramref name="script"/>: wrapper-inventory.sh, or a script that
        /// includes it and prints further sections (returned whole in Stdout for their parser).
        /// </summary>
        public static (VmkfstoolsWrapperInfo Info, string Stdout) Read(IEsxiShell shell, string script, CancellationToken ct)
        {
            var run = RemoteOps.Run(shell, RemoteCommand.FromScript(script, ErrBytes.ToString(CultureInfo.InvariantCulture)), ct);
            string? failure = run.Stdout.Contains("@@end") ? null : $"did not finish (exit status {run.ExitStatus})";
            if (failure == null)
            {
                try { return (Parse(shell.HostName, run.Stdout), run.Stdout); }
                catch (FormatException ex) { failure = "could not be read: " + ex.Message; }
            }
            throw new RemediationException(WrapperErrorIds.InventoryFailed, System.Management.Automation.ErrorCategory.ReadError,
                $"{shell.HostName}: the wrapper inventory {failure}. {HostText.Printable(run.Stderr.Trim())}".Trim(),
                "Check that the host's shell works.")
            { Next = NextCommand.CheckLogSpace, NextTarget = shell.HostName, RerunCompletes = true };
        }

        public static VmkfstoolsWrapperInfo Parse(string host, string stdout)
        {
            var s = RemoteOps.Sections(stdout);
            string Section(string name) => s.TryGetValue(name, out var v) ? v : "";
            string Field(string name) => HostField.DecodeSection(Section(name));
            var info = new VmkfstoolsWrapperInfo { VMHost = host };

            // "vmkfstools-wrapper   0.2.0   REDHAT   CommunitySupported   2026-01-01"
            foreach (var line in Lines(Field("vib")))
            {
                var cols = line.Split(new[] { ' ', '\t' }, StringSplitOptions.RemoveEmptyEntries);
                if (cols.Length >= 2 && cols[0] == "vmkfstools-wrapper") { info.VibVersion = cols[1]; break; }
            }
            var payload = WrapperPayload.Parse(Field("payload"));
            info.Payload = payload;
            info.Language = payload.Language == WrapperLanguage.None ? null : payload.Language.ToString();
            info.ScriptVersion = payload.ScriptVersion;
            info.EsxcliPlugin = Lines(Section("plugin")).Any();
            info.SecureScripts = Lines(Section("secure")).Select(l => string.Join(" ", l.Split('\t').Select(HostField.Decode)).Trim()).ToArray();
            info.RestrictedKeys = Lines(Field("keys")).Select(l =>
            {
                var tab = l.IndexOf('\t');
                return tab > 0 ? "line " + l.Substring(0, tab) + ": " + l.Substring(tab + 1) : l;
            }).ToArray();
            foreach (var l in Lines(Section("logs")))
            {
                var cols = l.Split('\t');
                if (cols.Length >= 2 && long.TryParse(cols[1], NumberStyles.None, CultureInfo.InvariantCulture, out var size)) info.LogFiles[HostField.Decode(cols[0])] = size;
            }
            Classify(info);

            var tasks = new List<WrapperTaskDirectory>();
            foreach (var l in Lines(Section("tasks")))
            {
                var cols = l.Split('\t');
                if (cols[0] != "T" || cols.Length < 9) continue;
                var rdm = HostField.Decode(cols[7]);
                tasks.Add(new WrapperTaskDirectory
                {
                    VMHost = host,
                    TaskId = cols[1],
                    Path = TaskDirectoryPrefix + cols[1],
                    LastWriteTime = long.TryParse(cols[2], NumberStyles.None, CultureInfo.InvariantCulture, out var mt) ? DateTimeOffset.FromUnixTimeSeconds(mt).UtcDateTime : (DateTime?)null,
                    Bytes = long.TryParse(cols[3], NumberStyles.None, CultureInfo.InvariantCulture, out var b) ? b : 0,
                    Pid = int.TryParse(cols[4], NumberStyles.None, CultureInfo.InvariantCulture, out var pid) ? pid : (int?)null,
                    Running = cols[5] == "1",
                    ExitCode = int.TryParse(cols[6], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var code) ? code : (int?)null,
                    SourceDisk = rdm.Length == 0 ? null : RdmSuffix.Replace(rdm, ""),
                    Stderr = ErrText(HostField.Decode(cols[8])),
                });
            }
            info.UnrecognizedTaskDirectoryCount = int.TryParse(Section("unrecognized").Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var u) ? u : 0;
            info.TaskDirectories = tasks.OrderBy(t => t.LastWriteTime ?? DateTime.MinValue).ToArray();
            info.TaskDirectoryCount = tasks.Count;
            info.TaskDirectoryBytes = tasks.Sum(t => t.Bytes);
            info.OldestTaskDirectory = tasks.Where(t => t.LastWriteTime.HasValue).Select(t => t.LastWriteTime).DefaultIfEmpty(null).Min();
            info.RunningTasks = tasks.Count(t => t.Running);
            info.FailedTasks = info.TaskDirectories.Where(t => t.Failed).ToArray();
            return info;
        }

        // Generation from the VIB version first (what esxcli reports), else the payload itself.
        private static void Classify(VmkfstoolsWrapperInfo info)
        {
            var methods = new List<string>();
            if (info.EsxcliPlugin || info.VibVersion != null) methods.Add("Vib");
            if (info.SecureScripts.Length > 0 && info.RestrictedKeys.Length > 0) methods.Add("Ssh");
            info.CloneMethods = methods.ToArray();

            var payload = info.Payload;
            var vib = info.VibVersion ?? "";
            var script = info.ScriptVersion ?? "";
            if (vib.StartsWith("0.3", StringComparison.Ordinal) || (vib.Length == 0 && payload.Language == WrapperLanguage.Shell))
            {
                info.LogsTo = "Syslog";
                info.LogPath = SyslogPath;
                info.MtvVersion = ShellMtvVersion(vib, script);
            }
            else if (vib == "0.2.0" || script == "0.0.5")
            {
                info.LogsTo = "File"; info.LogPath = WrapperLogPath; info.MtvVersion = "2.10";
            }
            else if (vib.StartsWith("0.1", StringComparison.Ordinal) || (payload.Language == WrapperLanguage.Python && script.Length == 0))
            {
                info.LogsTo = "File"; info.LogPath = WrapperLogPath; info.MtvVersion = "2.9";
            }
            else if (payload.Language == WrapperLanguage.Python)
            {
                // A Python wrapper of a version we do not know: every known Python generation logs to the file.
                info.LogsTo = "File"; info.LogPath = WrapperLogPath;
            }
            // The SSH method: 2.9's own script logs to the secure log; 2.10 uploads the normal wrapper
            // under that name (it logs to the normal log). Both are read by the host scan.
            if (info.LogsTo == "Unknown" && info.LogFiles.ContainsKey(WrapperLogPath)) { info.LogsTo = "File"; info.LogPath = WrapperLogPath; }
        }

        /// <summary>An err file's text as the task's stderr: exact, without its final line break.</summary>
        internal static string ErrText(string err) => err.EndsWith("\n", StringComparison.Ordinal) ? err.Substring(0, err.Length - 1) : err;

        /// <summary>
        /// The MTV releases that ship a shell (0.3.x) wrapper, by VIB version, else by the payload's
        /// SCRIPT_VERSION: VIB 0.3.2 (2.12.1-2.12.3) still stamps 0.3.1 into its payload, so a payload
        /// alone saying 0.3.1 is 2.12.0-2.12.3. 0.3.3 ships from 2.12.4 to 5.0 (main).
        /// </summary>
        internal static string ShellMtvVersion(string vib, string script)
        {
            switch (vib.Length > 0 ? vib : script)
            {
                case "0.3.0": return "2.11";
                case "0.3.1": return vib.Length > 0 ? "2.12.0" : "2.12.0-2.12.3";
                case "0.3.2": return "2.12.1-2.12.3";
                case "0.3.3": return "2.12.4 or later";
                default: return "2.11 or later";
            }
        }

        private static IEnumerable<string> Lines(string text) =>
            text.Split('\n').Where(l => l.Trim().Length > 0);
    }
}
