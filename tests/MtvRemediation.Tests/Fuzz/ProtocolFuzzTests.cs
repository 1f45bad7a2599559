using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using MtvRemediation.Diagnosis;
using MtvRemediation.Esxi;
using MtvRemediation.HostLog;
using MtvRemediation.Infrastructure;
using MtvRemediation.Tests.Remediation;
using MtvRemediation.Wrapper;
using Xunit;

namespace MtvRemediation.Tests.Fuzz
{
    /// <summary>
    /// Hostile file names through every script that prints names or paths, in a private BusyBox
    /// chroot laid out like an ESXi host (the scripts read fixed paths: /tmp, /vmfs/volumes,
    /// /var/log). Each parsed result must name every file with its exact bytes, and no record after
    /// a hostile name may be lost.
    /// </summary>
    public sealed class ProtocolFuzzTests : IDisposable
    {
        private const string Ctk7228 = "Failed to clone disk: Invalid change tracker error code (7228).";
        private static readonly CancellationToken Ct = CancellationToken.None;
        private readonly string _root = Path.Combine(Path.GetTempPath(), "mtv-protocol-fuzz-" + Guid.NewGuid().ToString("N").Substring(0, 8));

        /// <summary>
        /// Every control byte 0x01-0x1f and 0x7f, the protocols' markers, backslashes, quotes, '%',
        /// a leading '-', spaces, UTF-8 and bytes that are not UTF-8: any byte a file name can hold.
        /// </summary>
        public static IReadOnlyList<byte[]> HostileNames()
        {
            var names = new List<byte[]>();
            for (var b = 1; b < 0x20; b++) names.Add(new[] { (byte)'c', (byte)b, (byte)'x' });
            names.Add(new byte[] { (byte)'c', 0x7f, (byte)'x' });
            foreach (var s in new[]
            {
                "0\n@@x", "0\n@@end", "\n@@tasks", "@@secure", "x\nT\t1\t2", "x\nD\t0", "x\nF\tother.log",
                "x\nM\t1\t" + Ctk7228, "x\nE\t1\ty", "a\\nb", "a\\b\\", "'", "\"q\"", "%", "%41", "%%0A", "-n", "-", "--",
                " lead", "trail ", "a b", "\t", "\r\n", "\u00e9t\u00e9", "\ud83d\ude00", "$(id)", "`id`", "*", "?", "[a]",
            })
                names.Add(Encoding.UTF8.GetBytes(s));
            names.Add(new byte[] { (byte)'i', 0x80, (byte)'x' });
            names.Add(new byte[] { (byte)'i', 0xff, 0xfe });
            names.Add(new byte[] { (byte)'i', 0xc3 });
            names.Add(new byte[] { 0xed, 0xb2, 0x80 });
            return names;
        }

        private static string Text(byte[] bytes) => HostField.Decode(Percent(bytes));

        private static string Percent(byte[] bytes) => string.Concat(bytes.Select(b => "%" + b.ToString("X2")));

        private static byte[] Concat(params object[] parts) =>
            parts.SelectMany(p => p is byte[] b ? b : Encoding.UTF8.GetBytes((string)p)).ToArray();

        // A shell word that yields exactly these bytes: printf with every byte an octal escape.
        private static string Word(byte[] bytes) =>
            "\"$(printf '" + string.Concat(bytes.Select(b => "\\" + Convert.ToString(b, 8).PadLeft(3, '0'))) + "'; echo .)\"";

        private ProcessEsxiShell Host()
        {
            if (!Directory.Exists(Path.Combine(_root, "bin")))
            {
                foreach (var d in new[] { "bin", "dev", "tmp", "var/log", "vmfs/volumes/ds1", "opt/redhat", "etc/ssh/keys-root" })
                    Directory.CreateDirectory(Path.Combine(_root, d));
                var busybox = ProcessEsxiShell.FindBusyBox();
                File.Copy(busybox, Path.Combine(_root, "bin/busybox"));
                using var list = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo(busybox, "--list") { RedirectStandardOutput = true })!;
                foreach (var applet in list.StandardOutput.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries))
                    if (applet != "busybox") File.CreateSymbolicLink(Path.Combine(_root, "bin", applet), "busybox");
                list.WaitForExit();
                using (var mknod = System.Diagnostics.Process.Start("mknod", new[] { "-m", "666", Path.Combine(_root, "dev/null"), "c", "1", "3" })) mknod.WaitForExit();
                // BusyBox df reads the mount table from /proc/mounts: one file system, no proc mounted.
                Directory.CreateDirectory(Path.Combine(_root, "proc"));
                File.WriteAllText(Path.Combine(_root, "proc/mounts"), "fuzzfs / ext4 rw 0 0\n");
            }
            return ProcessEsxiShell.Chroot("fuzz-host", _root);
        }

        private static void Run(ProcessEsxiShell shell, string script)
        {
            var r = shell.RunAsync(RemoteCommand.Script(script), TimeSpan.FromMinutes(1), Ct).GetAwaiter().GetResult();
            Assert.True(r.ExitStatus == 0, $"setup failed ({r.ExitStatus}): {r.Stderr}");
        }

        // Creates a file (or directory) whose path is prefix + bytes, with the given content.
        private static string MakeFile(byte[] path, string content, bool directory = false) =>
            "p=" + Word(path) + "; p=${p%.}; " +
            (directory ? "mkdir \"$p\"" : "printf '%s' " + ShellQuote.Quote(content) + " > \"$p\"") + "\n";

        // The host's own rm: .NET cannot spell the names that are not UTF-8.
        public void Dispose()
        {
            if (!Directory.Exists(_root)) return;
            using var rm = System.Diagnostics.Process.Start("rm", new[] { "-rf", "--", _root });
            rm.WaitForExit();
        }

        // What the task-id rule (taskdir.sh) takes for a task id: hex digits and dashes.
        private static bool IsTaskId(byte[] name) =>
            name.Length > 0 && name.All(b => b == (byte)'-' || Uri.IsHexDigit((char)b));

        private static bool IsUtf8(byte[] name)
        {
            var t = Text(name);
            return !Enumerable.Range(0, t.Length).Any(i => HostText.IsEscapedByte(t, i));
        }

        [RootFact]
        public async Task The_log_scan_names_every_file_beside_the_log_exactly_and_loses_no_finding()
        {
            var shell = Host();
            var expected = new List<byte[]> { Encoding.UTF8.GetBytes("/var/log/vmkfstools-wrapper.log") };
            var setup = new StringBuilder(MakeFile(expected[0], "2026-01-01 00:00:00,000 - ERROR - " + Ctk7228 + "\n"));
            foreach (var name in HostileNames())
            {
                var path = Concat("/var/log/vmkfstools-wrapper.log.", name);
                expected.Add(path);
                setup.Append(MakeFile(path, "2026-01-01 00:00:00,000 - ERROR - " + Ctk7228 + "\n"));
            }
            Run(shell, setup.ToString());

            var findings = new List<CloneFailureFinding>();
            var result = await HostCloneLogScanner.ScanAsync(shell, new[] { "/var/log/vmkfstools-wrapper.log" },
                new CloneFailureScanOptions { RepeatLimit = 10 }, f => { lock (findings) findings.Add(f); }, TimeSpan.FromMinutes(2), Ct);

            Assert.Equal(expected.Select(Text).OrderBy(p => p, StringComparer.Ordinal), result.Sources.Select(s => s.Path!).OrderBy(p => p, StringComparer.Ordinal));
            Assert.All(result.Sources, s => Assert.Equal(1, s.Summary().GetCounts()["ChangeTrackerInvalid"]));
            Assert.Equal(expected.Count, findings.Count(f => f.Signature == "ChangeTrackerInvalid"));
        }

        [RootFact]
        public void The_wrapper_inventory_names_every_script_and_task_exactly_and_loses_no_task()
        {
            var shell = Host();
            var setup = new StringBuilder();
            var scripts = new List<byte[]>();
            var tasks = new Dictionary<string, (byte[] Rdm, byte[] Err)>();
            var names = HostileNames();
            for (var i = 0; i < names.Count; i++)
            {
                var name = names[i];
                var script = Concat("/vmfs/volumes/ds1/secure-vmkfstools-wrapper", name);
                scripts.Add(script);
                setup.Append(MakeFile(script, "#!/bin/python\nSCRIPT_VERSION = '0.0.1'\n"));
                // A directory with the hostile name that is not a task's, then a task directory.
                setup.Append(MakeFile(Concat("/tmp/vmkfstools-wrapper-", name), "", directory: true));
                var id = Guid.NewGuid().ToString();
                var dir = Encoding.UTF8.GetBytes("/tmp/vmkfstools-wrapper-" + id);
                setup.Append(MakeFile(dir, "", directory: true));
                var rdm = Concat("/vmfs/volumes/ds1/", name, "/disk.vmdk-rdmdisk-42\n");
                var err = Concat(name, "\n", Ctk7228, "\n");
                setup.Append("p=" + Word(rdm) + "; printf '%s' \"${p%.}\" > /tmp/vmkfstools-wrapper-" + id + "/rdmfile\n");
                setup.Append("p=" + Word(err) + "; printf '%s' \"${p%.}\" > /tmp/vmkfstools-wrapper-" + id + "/err\n");
                setup.Append("echo -n 255 > /tmp/vmkfstools-wrapper-" + id + "/exitcode\n");
                tasks[id] = (rdm, err);
            }
            Run(shell, setup.ToString());

            var info = WrapperInventory.Read(shell, Ct);

            Assert.Equal(scripts.Select(s => Text(s) + " SCRIPT_VERSION = '0.0.1'").OrderBy(s => s, StringComparer.Ordinal),
                info.SecureScripts.OrderBy(s => s, StringComparer.Ordinal));
            Assert.Equal(names.Count(n => !IsTaskId(n)), info.UnrecognizedTaskDirectoryCount);
            Assert.Equal(tasks.Keys.Concat(names.Where(IsTaskId).Select(Text)).OrderBy(k => k, StringComparer.Ordinal),
                info.TaskDirectories.Select(t => t.TaskId).OrderBy(k => k, StringComparer.Ordinal));
            foreach (var t in info.TaskDirectories)
            {
                if (!tasks.TryGetValue(t.TaskId, out var files)) continue;
                var (rdm, err) = files;
                // The source disk is the rdmfile's first line without the -rdmdisk-<pid> suffix.
                var first = Text(rdm.TakeWhile(b => b != (byte)'\n').ToArray());
                Assert.Equal(Regex.Replace(first, @"-rdmdisk-[0-9]+\s*$", ""), t.SourceDisk);
                Assert.Equal(Text(err).Substring(0, Text(err).Length - 1), t.Stderr); // without the final line break
                Assert.Equal(255, t.ExitCode);
            }
            var evidence = TaskDirectoryEvidence.Findings(info, new CloneFailureScanOptions());
            // One name is itself a 7228 line: count the task directories with evidence.
            Assert.Equal(tasks.Count, evidence.Where(f => f.Signature == "ChangeTrackerInvalid").Select(f => f.Path).Distinct().Count());
        }

        [RootFact]
        public void The_space_probe_counts_only_task_directories_and_resolves_any_log_directory()
        {
            var shell = Host();
            var setup = new StringBuilder(": > /var/log/vmkfstools-wrapper.log\n");
            var names = HostileNames();
            foreach (var name in names)
            {
                setup.Append(MakeFile(Concat("/tmp/vmkfstools-wrapper-", name), "", directory: true));
                setup.Append("touch -d '2020-01-01 00:00:00' \"$p\"\n");
            }
            for (var i = 0; i < 3; i++) setup.Append("mkdir /tmp/vmkfstools-wrapper-" + Guid.NewGuid() + "\n");
            for (var i = 0; i < 2; i++) setup.Append("p=/tmp/vmkfstools-wrapper-" + Guid.NewGuid() + "; mkdir $p; touch -d '2020-01-01 00:00:00' $p\n");
            Run(shell, setup.ToString());

            var status = LogSpaceProbe.Measure(shell, new LogSpaceOptions(), Ct);
            Assert.Equal(5 + names.Count(IsTaskId), status.TaskDirCount);
            Assert.Equal(2 + names.Count(IsTaskId), status.StaleTaskDirCount);

            // The log's directory as the host resolves it, whatever its name (a -LogPath is text: UTF-8 names only).
            foreach (var name in names.Where(IsUtf8))
            {
                var dir = "/var/log/d" + Text(name);
                Run(shell, MakeFile(Encoding.UTF8.GetBytes(dir), "", directory: true));
                var s = LogSpaceProbe.Measure(shell, new LogSpaceOptions { LogPath = dir + "/vmkfstools-wrapper.log" }, Ct);
                Assert.Equal(dir + "/vmkfstools-wrapper.log", s.LogRealPath);
            }
        }
    }
}
