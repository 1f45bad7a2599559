// A PowerShell host for tests that answers confirmation prompts from a script, compiled with
// Add-Type by the tests that need it. Each PromptForChoice (the ShouldProcess confirmation) is
// recorded and answered with the next label of the script ("Yes", "No", "Yes to All", ...); a prompt
// with no answer left fails the command, like a host that cannot prompt.
using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.Globalization;
using System.Management.Automation;
using System.Management.Automation.Host;
using System.Security;

namespace MtvRemediation.TestHost
{
    public sealed class ScriptedHost : PSHost
    {
        private readonly ScriptedHostUI _ui;

        public ScriptedHost(string[] answers) => _ui = new ScriptedHostUI(answers);

        /// <summary>Each prompt as "caption | message".</summary>
        public IReadOnlyList<string> Prompts => _ui.Prompts;

        public override CultureInfo CurrentCulture => CultureInfo.InvariantCulture;
        public override CultureInfo CurrentUICulture => CultureInfo.InvariantCulture;
        public override Guid InstanceId { get; } = Guid.NewGuid();
        public override string Name => "ScriptedHost";
        public override PSHostUserInterface UI => _ui;
        public override Version Version => new Version(1, 0);
        public override void EnterNestedPrompt() => throw new NotSupportedException();
        public override void ExitNestedPrompt() => throw new NotSupportedException();
        public override void NotifyBeginApplication() { }
        public override void NotifyEndApplication() { }
        public override void SetShouldExit(int exitCode) { }
    }

    internal sealed class ScriptedHostUI : PSHostUserInterface
    {
        private readonly Queue<string> _answers;

        public ScriptedHostUI(string[] answers) => _answers = new Queue<string>(answers);

        public List<string> Prompts { get; } = new List<string>();

        public override int PromptForChoice(string caption, string message, Collection<ChoiceDescription> choices, int defaultChoice)
        {
            Prompts.Add(caption + " | " + message);
            if (_answers.Count == 0) throw new InvalidOperationException("The test script has no answer left for: " + message);
            var answer = _answers.Dequeue();
            for (var i = 0; i < choices.Count; i++)
            {
                if (string.Equals(choices[i].Label.Replace("&", string.Empty), answer, StringComparison.OrdinalIgnoreCase)) return i;
            }
            throw new InvalidOperationException($"No choice '{answer}' in the prompt: {message}");
        }

        public override PSHostRawUserInterface RawUI => null;
        public override Dictionary<string, PSObject> Prompt(string caption, string message, Collection<FieldDescription> descriptions) => throw new NotSupportedException();
        public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName) => throw new NotSupportedException();
        public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName, PSCredentialTypes allowedCredentialTypes, PSCredentialUIOptions options) => throw new NotSupportedException();
        public override string ReadLine() => throw new NotSupportedException();
        public override SecureString ReadLineAsSecureString() => throw new NotSupportedException();
        public override void Write(string value) { }
        public override void Write(ConsoleColor foregroundColor, ConsoleColor backgroundColor, string value) { }
        public override void WriteDebugLine(string message) { }
        public override void WriteErrorLine(string value) { }
        public override void WriteLine(string value) { }
        public override void WriteProgress(long sourceId, ProgressRecord record) { }
        public override void WriteVerboseLine(string message) { }
        public override void WriteWarningLine(string message) { }
    }
}
