// A test-only host cmdlet compiled by EsxiShell.Tests.ps1 (Import-MtvTestAssembly, under the name the
// module's InternalsVisibleTo grants: the shell seam is internal) against the built module: it
// proves EsxiHostCmdletBase works for a derived cmdlet exactly as the product's host cmdlets use
// it (session reuse, on-demand connect, parallel fan-out, Ctrl+C), without shipping an
// "run any command" cmdlet in the module.
using System;
using System.Management.Automation;
using System.Threading;
using MtvRemediation.Commands;
using MtvRemediation.Esxi;
using MtvRemediation.Infrastructure;

namespace MtvRemediation.Tests
{
    [Cmdlet(VerbsLifecycle.Invoke, "MtvTestShellCommand")]
    public sealed class InvokeMtvTestShellCommand : EsxiHostCmdletBase
    {
        /// <summary>Program to run; every -Argument is quoted by RemoteCommand.Exec.</summary>
        [Parameter]
        public string Program { get; set; } = "true";

        [Parameter]
        public string[] Argument { get; set; } = new string[0];

        /// <summary>A constant script instead of Program/Argument.</summary>
        [Parameter]
        public string? Script { get; set; }

        /// <summary>A RemoteCommand.Format template; -Argument fills {0}, {1}, ...</summary>
        [Parameter]
        public string? Template { get; set; }

        [Parameter]
        public int TimeoutSeconds { get; set; } = 30;

        /// <summary>RemoteCommand.KeepRunningIfDisconnected: the command survives a timeout or Ctrl+C.</summary>
        [Parameter]
        public SwitchParameter KeepRunning { get; set; }

        private protected override void ProcessHost(HostTarget target, IEsxiShell shell, IOutputSink sink, CancellationToken cancellationToken)
        {
            var command = Script != null ? RemoteCommand.Script(Script)
                : Template != null ? RemoteCommand.Format(Template, Argument)
                : RemoteCommand.Exec(Program, Argument);
            if (KeepRunning) command = command.KeepRunningIfDisconnected();
            sink.WriteVerbose(target.Name + ": " + command.Display);
            var r = shell.Run(command, TimeSpan.FromSeconds(TimeoutSeconds), cancellationToken);
            var o = new PSObject();
            o.Properties.Add(new PSNoteProperty("VMHost", target.Name));
            o.Properties.Add(new PSNoteProperty("ExitStatus", r.ExitStatus));
            o.Properties.Add(new PSNoteProperty("Stdout", r.Stdout));
            o.Properties.Add(new PSNoteProperty("Stderr", r.Stderr));
            o.Properties.Add(new PSNoteProperty("ThreadId", Environment.CurrentManagedThreadId));
            sink.WriteObject(o);
        }
    }
}
