using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;

namespace MtvRemediation.Esxi
{
    /// <summary>
    /// A connected shell on one ESXi host. Engines depend on this, never on SSH.NET types, so the
    /// same engine code runs in cmdlets, in xunit and in benchmarks.
    /// </summary>
    internal interface IEsxiShell
    {
        /// <summary>The host name as the user and vCenter know it (inventory name).</summary>
        string HostName { get; }

        /// <summary>Run a command, capture exit status, stdout and stderr (UTF-8).</summary>
        /// <exception cref="TimeoutException">The command did not finish within <paramref name="timeout"/>.</exception>
        /// <exception cref="OperationCanceledException">Cancelled (Ctrl+C).</exception>
        Task<RemoteCommandResult> RunAsync(RemoteCommand command, TimeSpan timeout, CancellationToken cancellationToken);

        /// <summary>
        /// Run a command and copy its stdout, as it arrives, into <paramref name="stdoutSink"/>
        /// (large outputs: archives, log scans). The result's Stdout is empty.
        /// </summary>
        Task<RemoteCommandResult> RunStreamingAsync(RemoteCommand command, Stream stdoutSink, TimeSpan timeout, CancellationToken cancellationToken);
    }
}
