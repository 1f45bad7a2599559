using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using MtvRemediation.Diagnosis;
using MtvRemediation.Esxi;
using Xunit;

namespace MtvRemediation.Tests.Remediation
{
    /// <summary>The lab's simulated ESXi hosts, from out/lab/lab.json (or MTVLAB_STATE); empty when the lab is not running.</summary>
    internal static class LabHosts
    {
        private static readonly Lazy<List<(string Name, string ChrootPath)>> State = new Lazy<List<(string, string)>>(Load);

        public static IReadOnlyList<(string Name, string ChrootPath)> All => State.Value;

        public static string? UnavailableReason =>
            All.Count == 0 ? "The lab is not running (no out/lab/lab.json with hosts): start it with tests/lab/lab.sh start."
            : Environment.UserName != "root" ? "Needs root to chroot into the lab hosts (the lab itself runs as root)." : null;

        private static List<(string, string)> Load()
        {
            var hosts = new List<(string, string)>();
            var path = Environment.GetEnvironmentVariable("MTVLAB_STATE");
            if (string.IsNullOrEmpty(path))
            {
                for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
                {
                    var candidate = Path.Combine(dir.FullName, "out", "lab", "lab.json");
                    if (File.Exists(candidate)) { path = candidate; break; }
                }
            }
            if (string.IsNullOrEmpty(path) || !File.Exists(path)) return hosts;
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            if (!doc.RootElement.TryGetProperty("hosts", out var list)) return hosts;
            foreach (var h in list.EnumerateArray())
            {
                if (h.TryGetProperty("chrootPath", out var root) && Directory.Exists(root.GetString()))
                    hosts.Add((h.GetProperty("name").GetString()!, root.GetString()!));
            }
            return hosts;
        }
    }

    /// <summary>Needs the lab's hosts and root to chroot into them (see <see cref="LabTestAttribute"/>).</summary>
    public sealed class LabHostFactAttribute : LabTestAttribute
    {
        public LabHostFactAttribute() : base(LabHosts.UnavailableReason) { }
    }

    /// <summary>
    /// The host-side scan inside a lab host's own BusyBox chroot (its /bin/sh, grep, awk, zcat),
    /// on the log its own wrapper-log generator wrote. The SSH path is covered by the Pester tests.
    /// </summary>
    public sealed class LabHostCloneLogScanTests
    {
        private static CloneFailureScanOptions Options() => new CloneFailureScanOptions { RepeatLimit = 10 };

        private static async Task<(List<CloneFailureFinding>, HostCloneLogScanResult)> Scan(ProcessEsxiShell shell, IReadOnlyList<string>? paths)
        {
            var findings = new List<CloneFailureFinding>();
            var gate = new object();
            var result = await HostCloneLogScanner.ScanAsync(shell, paths, Options(), f => { lock (gate) findings.Add(f); }, TimeSpan.FromMinutes(2), CancellationToken.None);
            return (findings, result);
        }

        /// <summary>A private copy of the host's generated wrapper log in the host's /tmp (other tests may change the real one meanwhile).</summary>
        private static (string HostDir, string LocalDir) CopyWrapperLog(string root)
        {
            var dir = "/tmp/mtv-diag-" + Guid.NewGuid().ToString("N").Substring(0, 8);
            var local = Path.Combine(root, dir.TrimStart('/'));
            Directory.CreateDirectory(local);
            File.Copy(Path.Combine(root, "var/log/vmkfstools-wrapper.log"), Path.Combine(local, "vmkfstools-wrapper.log"));
            return (dir, local);
        }

        [LabHostFact]
        public async Task Scans_the_lab_generators_log_and_its_gzip_rotation_like_a_full_local_read()
        {
            var (name, root) = LabHosts.All[LabHosts.All.Count - 1];
            var shell = ProcessEsxiShell.Chroot(name, root);
            var (dir, localDir) = CopyWrapperLog(root);
            try
            {
                // A rotated archive made by the host's own BusyBox gzip.
                var gz = await shell.RunAsync(MtvRemediation.Esxi.RemoteCommand.Format("gzip -c {0} > {1}", dir + "/vmkfstools-wrapper.log", dir + "/vmkfstools-wrapper.log.1.gz"), TimeSpan.FromSeconds(30), CancellationToken.None);
                Assert.True(gz.Succeeded, gz.Stderr);

                var (findings, result) = await Scan(shell, new[] { dir + "/vmkfstools-wrapper.log" });

                Assert.Equal(new[] { dir + "/vmkfstools-wrapper.log", dir + "/vmkfstools-wrapper.log.1.gz" }, result.Sources.Select(s => s.Path));
                var localLog = Path.Combine(localDir, "vmkfstools-wrapper.log");
                var xcopyLines = File.ReadLines(localLog).LongCount(l => l.Contains("XCOPY used: False", StringComparison.Ordinal));
                Assert.True(xcopyLines > 0, "the lab seeds the wrapper log with polls");
                foreach (var source in result.Sources)
                {
                    var local = new List<CloneFailureFinding>();
                    var localScan = CloneFailureScanner.ScanFile(Path.Combine(root, source.Path!.TrimStart('/')), Options(), local.Add, CancellationToken.None);
                    var remote = findings.Where(f => f.Path == source.Path).ToList();
                    // A plain log's repeat count comes last and unnumbered (see HostCloneLogScanner).
                    var unnumbered = !source.Path.EndsWith(".gz", StringComparison.Ordinal);
                    static long Order(CloneFailureFinding f, bool u) => u && f.Occurrences > 1 ? long.MaxValue : f.LineNumber;
                    Assert.Equal(
                        local.OrderBy(f => Order(f, unnumbered)).Select(f => (Order(f, unnumbered), f.Signature, f.Occurrences, f.Line)),
                        remote.OrderBy(f => Order(f, unnumbered)).Select(f => (Order(f, unnumbered), f.Signature, f.Occurrences, f.Line)));
                    Assert.Equal(localScan.Summary().GetCounts(), source.Summary().GetCounts());
                    Assert.Equal(xcopyLines, source.Summary().XcopyNotUsed); // independent count
                    Assert.All(remote, f => Assert.Equal(name + ":" + source.Path, f.Source));
                }
            }
            finally { Directory.Delete(localDir, true); }
        }

        [LabHostFact]
        public async Task Finds_the_generators_failure_lines_in_a_copy_with_failures()
        {
            var (name, root) = LabHosts.All[LabHosts.All.Count - 1];
            var shell = ProcessEsxiShell.Chroot(name, root);
            var (dir, hostDir) = CopyWrapperLog(root);
            try
            {
                var copy = Path.Combine(hostDir, "vmkfstools-wrapper.log");
                var baseLines = File.ReadLines(copy).LongCount();
                File.AppendAllLines(copy, new[]
                {
                    DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm:ss,fff") + " - ERROR - clone task failed with exit code 255, stderr: Failed to clone disk: Input/output error (327689).",
                    DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm:ss,fff") + " - ERROR - Failed to clone disk: Invalid change tracker error code (7228).",
                });
                var (findings, result) = await Scan(shell, new[] { dir + "/vmkfstools-wrapper.log" });
                // Other tests may have made the generator log failures too: look at our two lines.
                var io = Assert.Single(findings, f => f.LineNumber == baseLines + 1);
                Assert.Equal("DiskIoError", io.Signature);
                Assert.Equal(255, io.ExitCode);
                Assert.NotNull(io.Timestamp);
                var ctk = Assert.Single(findings, f => f.LineNumber == baseLines + 2);
                Assert.Equal("ChangeTrackerInvalid", ctk.Signature);
                Assert.True(result.BytesReceived < new FileInfo(copy).Length, "only matching lines cross");
            }
            finally { Directory.Delete(hostDir, true); }
        }
    }
}
