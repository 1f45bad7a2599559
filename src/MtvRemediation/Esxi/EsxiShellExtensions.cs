using System;
using System.Management.Automation;
using System.Threading;
using MtvRemediation.Infrastructure;

namespace MtvRemediation.Esxi
{
    /// <summary>Blocking helpers for engines that run on the worker threads of a host cmdlet.</summary>
    internal static class EsxiShellExtensions
    {
        /// <summary>Runs a command and waits for it (worker threads only, never the pipeline thread's hot path).</summary>
        public static RemoteCommandResult Run(this IEsxiShell shell, RemoteCommand command, TimeSpan timeout, CancellationToken cancellationToken)
        {
            if (shell is null) throw new ArgumentNullException(nameof(shell));
            return shell.RunAsync(command, timeout, cancellationToken).GetAwaiter().GetResult();
        }

        /// <summary>
        /// Like <see cref="Run"/>, but a non-zero exit status throws EsxiShellCommandFailed naming
        /// the host, the command, the status and the first line of stderr.
        /// </summary>
        public static RemoteCommandResult RunChecked(this IEsxiShell shell, RemoteCommand command, TimeSpan timeout, CancellationToken cancellationToken)
        {
            var result = shell.Run(command, timeout, cancellationToken);
            if (result.Succeeded) return result;
            var stderr = result.Stderr.Trim();
            var firstLine = stderr.Split('\n')[0].Trim();
            throw new EsxiShellException(EsxiShellErrorIds.CommandFailed, ErrorCategory.InvalidResult,
                $"'{command.Display}' failed on '{shell.HostName}' with exit status {result.ExitStatus}" + (firstLine.Length > 0 ? ": " + firstLine : "."));
        }
    }
}
