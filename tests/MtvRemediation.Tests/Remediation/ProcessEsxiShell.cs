using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using MtvRemediation.Esxi;

namespace MtvRemediation.Tests.Remediation
{
    /// <summary>
    /// Test-only <see cref="IEsxiShell"/>: runs the command text with a local BusyBox <c>sh -c</c>
    /// (optionally through <c>chroot</c> into a lab host's tree), so engines run their real remote
    /// scripts against the same BusyBox applets an ESXi host has, without SSH.
    /// </summary>
    internal sealed class ProcessEsxiShell : IEsxiShell
    {
        private readonly string _program;
        private readonly IReadOnlyList<string> _prefix;
        private readonly IDictionary<string, string>? _environment;
        private string? _workingDirectory;

        private ProcessEsxiShell(string hostName, string program, IReadOnlyList<string> prefix, IDictionary<string, string>? environment)
        {
            HostName = hostName;
            _program = program;
            _prefix = prefix;
            _environment = environment;
        }

        public string HostName { get; }

        /// <summary>BusyBox ash whose PATH holds only BusyBox applets (grep, awk, zcat, ...), like ESXi.</summary>
        /// <remarks>Debian's busybox-static also prefers its own applets over PATH.</remarks>
        public static ProcessEsxiShell BusyBox(string hostName, string appletDir)
        {
            var busybox = FindBusyBox();
            Directory.CreateDirectory(appletDir);
            foreach (var applet in new[] { "sh", "grep", "awk", "zcat", "cat", "printf", "test", "[" })
            {
                var link = Path.Combine(appletDir, applet);
                if (!File.Exists(link)) File.CreateSymbolicLink(link, busybox);
            }
            // Runs in the applet dir's parent, so a test can see whether anything was executed there.
            return new ProcessEsxiShell(hostName, Path.Combine(appletDir, "sh"), new[] { "-c" },
                new Dictionary<string, string> { ["PATH"] = appletDir, ["LC_ALL"] = "C" })
            { _workingDirectory = Path.GetDirectoryName(Path.GetFullPath(appletDir)) };
        }

        /// <summary>The lab host's own /bin/sh inside its chroot (needs root, as the lab itself does).</summary>
        public static ProcessEsxiShell Chroot(string hostName, string chrootPath)
            => new ProcessEsxiShell(hostName, "chroot", new[] { chrootPath, "/bin/sh", "-c" }, null);

        public static string FindBusyBox()
        {
            foreach (var p in new[] { "/usr/bin/busybox", "/bin/busybox", "/usr/lib/vmware/busybox/bin/busybox" })
                if (File.Exists(p)) return p;
            throw new InvalidOperationException("BusyBox is needed for this test: run tests/lab/install-prereqs.sh (busybox-static).");
        }

        public async Task<RemoteCommandResult> RunAsync(RemoteCommand command, TimeSpan timeout, CancellationToken cancellationToken)
        {
            using var buffer = new MemoryStream();
            var r = await RunStreamingAsync(command, buffer, timeout, cancellationToken);
            return new RemoteCommandResult(r.ExitStatus, System.Text.Encoding.UTF8.GetString(buffer.ToArray()), r.Stderr, r.Duration);
        }

        public async Task<RemoteCommandResult> RunStreamingAsync(RemoteCommand command, Stream stdoutSink, TimeSpan timeout, CancellationToken cancellationToken)
        {
            var psi = new ProcessStartInfo(_program)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            if (_workingDirectory != null) psi.WorkingDirectory = _workingDirectory;
            foreach (var a in _prefix) psi.ArgumentList.Add(a);
            psi.ArgumentList.Add(command.Text);
            if (_environment != null) foreach (var kv in _environment) psi.Environment[kv.Key] = kv.Value;
            var sw = Stopwatch.StartNew();
            using var process = Process.Start(psi)!;
            using var timeoutCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeoutCts.CancelAfter(timeout);
            var stderr = process.StandardError.ReadToEndAsync(timeoutCts.Token);
            try
            {
                await process.StandardOutput.BaseStream.CopyToAsync(stdoutSink, 64 * 1024, timeoutCts.Token);
                await process.WaitForExitAsync(timeoutCts.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                if (cancellationToken.IsCancellationRequested) throw;
                throw new TimeoutException($"'{command.Display}' did not finish within {timeout}.");
            }
            return new RemoteCommandResult(process.ExitCode, "", await stderr, sw.Elapsed);
        }
    }
}
