using System;
using System.Collections.Generic;
using System.Text;

namespace MtvRemediation.Esxi
{
    /// <summary>
    /// A remote shell command built from a fixed script template and quoted arguments.
    /// Templates are our own constant text; <c>{0}</c>, <c>{1}</c>... are replaced by
    /// <see cref="ShellQuote.Quote"/>d values, so user input can never become shell syntax.
    /// </summary>
    internal sealed class RemoteCommand
    {
        private RemoteCommand(string text, string display)
        {
            Text = text;
            Display = display;
        }

        /// <summary>The exact text sent to the remote shell.</summary>
        public string Text { get; }

        /// <summary>Text safe to show in -Verbose output (the script's name and its quoted values for embedded scripts; commands never hold secrets).</summary>
        public string Display { get; }

        /// <summary>
        /// Build a command from a constant template and values to quote. Only for a command that
        /// must be ONE line (a crontab entry's command field); anything sent to a shell is an
        /// embedded script (<see cref="FromScript"/>).
        /// </summary>
        public static RemoteCommand Format(string template, params string[] args)
        {
            if (template is null) throw new ArgumentNullException(nameof(template));
            var quoted = new object[args.Length];
            for (var i = 0; i < args.Length; i++) quoted[i] = ShellQuote.Quote(args[i]);
            var text = string.Format(System.Globalization.CultureInfo.InvariantCulture, template, quoted);
            return new RemoteCommand(text, text);
        }

        /// <summary>A program and its arguments, each quoted: <c>prog 'arg 1' 'arg2'</c>.</summary>
        public static RemoteCommand Exec(string program, params string[] args)
        {
            var all = new List<string> { program };
            all.AddRange(args);
            var text = ShellQuote.Join(all);
            return new RemoteCommand(text, text);
        }

        /// <summary>
        /// An embedded script (<see cref="RemoteScript"/>) run with these values as its positional
        /// parameters: <c>set -- 'v1' 'v2'</c> on the first line, then the script. The preferred way
        /// to send anything longer than one line.
        /// </summary>
        public static RemoteCommand FromScript(string scriptName, params string[] args)
        {
            var body = RemoteScript.Get(scriptName);
            var text = args.Length == 0 ? "set --\n" + body : "set -- " + ShellQuote.Join(args) + "\n" + body;
            return new RemoteCommand(text, $"[{scriptName}] " + ShellQuote.Join(args));
        }

        /// <summary>A constant script with no values in it.</summary>
        public static RemoteCommand Script(string constantScript) => new RemoteCommand(constantScript, constantScript);

        /// <summary>
        /// False (default): if the channel closes before the command ends (timeout, Ctrl+C, lost
        /// connection), the command's processes on the host are terminated. True: they run on.
        /// </summary>
        public bool SurvivesDisconnect { get; private set; }

        /// <summary>
        /// A copy that keeps running on the host if we stop waiting or the connection drops:
        /// for steps that must never be cut in half, such as an agent restart.
        /// </summary>
        public RemoteCommand KeepRunningIfDisconnected() => new RemoteCommand(Text, Display) { SurvivesDisconnect = true };

        public override string ToString() => Display;
    }

    /// <summary>What a remote command returned.</summary>
    internal sealed class RemoteCommandResult
    {
        public RemoteCommandResult(int exitStatus, string stdout, string stderr, TimeSpan duration)
        {
            ExitStatus = exitStatus;
            Stdout = stdout;
            Stderr = stderr;
            Duration = duration;
        }

        /// <summary>Exit status; -1 when the remote side sent none (killed by a signal, channel closed).</summary>
        public int ExitStatus { get; }
        public string Stdout { get; }
        public string Stderr { get; }
        public TimeSpan Duration { get; }
        public bool Succeeded => ExitStatus == 0;
    }
}
