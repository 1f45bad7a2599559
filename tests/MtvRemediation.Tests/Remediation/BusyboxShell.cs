using System;
using System.Diagnostics;
using System.IO;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using MtvRemediation.Esxi;

namespace MtvRemediation.Tests.Remediation
{
    /// <summary>
    /// Test-only <see cref="IEsxiShell"/>: runs each command with a real BusyBox ash
    /// (<c>busybox sh -c</c>), or inside a lab host's chroot (<c>chroot ROOT /bin/sh -c</c>). The
    /// engines see the same shell dialect as on ESXi; the cmdlet tests go through SSH.
    /// </summary>
    internal sealed class BusyboxShell : IEsxiShell
    {
        private readonly string? _chroot;

        public BusyboxShell(string hostName, string? chrootPath = null)
        {
            HostName = hostName;
            _chroot = chrootPath;
        }

        public string HostName { get; }

        public static string? BusyboxPath =>
            File.Exists("/bin/busybox") ? "/bin/busybox" : File.Exists("/usr/bin/busybox") ? "/usr/bin/busybox" : null;

        public int Commands { get; private set; }

        public async Task<RemoteCommandResult> RunAsync(RemoteCommand command, TimeSpan timeout, CancellationToken cancellationToken)
        {
            using var stdout = new MemoryStream();
            var r = await RunStreamingAsync(command, stdout, timeout, cancellationToken);
            return new RemoteCommandResult(r.ExitStatus, Encoding.UTF8.GetString(stdout.ToArray()), r.Stderr, r.Duration);
        }

        public async Task<RemoteCommandResult> RunStreamingAsync(RemoteCommand command, Stream stdoutSink, TimeSpan timeout, CancellationToken cancellationToken)
        {
            Commands++;
            var psi = new ProcessStartInfo
            {
                FileName = _chroot != null ? "chroot" : BusyboxPath!,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                RedirectStandardInput = true,
                UseShellExecute = false,
            };
            if (_chroot != null) { psi.ArgumentList.Add(_chroot); psi.ArgumentList.Add("/bin/sh"); }
            else psi.ArgumentList.Add("sh");
            psi.ArgumentList.Add("-c");
            psi.ArgumentList.Add(command.Text);
            var watch = Stopwatch.StartNew();
            using var p = Process.Start(psi)!;
            p.StandardInput.Close();
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            cts.CancelAfter(timeout);
            var err = p.StandardError.ReadToEndAsync(cts.Token);
            try
            {
                await p.StandardOutput.BaseStream.CopyToAsync(stdoutSink, cts.Token);
                await p.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                try { p.Kill(true); } catch (InvalidOperationException) { }
                throw new TimeoutException("command timed out");
            }
            return new RemoteCommandResult(p.ExitCode, string.Empty, await err, watch.Elapsed);
        }
    }
}
