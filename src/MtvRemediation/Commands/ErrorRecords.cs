using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using MtvRemediation.Infrastructure;

namespace MtvRemediation.Commands
{
    /// <summary>
    /// Where an <see cref="MtvException"/> becomes an ErrorRecord, and the one place that names
    /// cmdlets in a next step: engines describe the step (<see cref="MtvException.RecommendedAction"/>),
    /// mark that re-running the same command completes the work (<see cref="MtvException.RerunCompletes"/>)
    /// or that another command of the module takes it (<see cref="MtvException.Next"/>); the cmdlet
    /// writing the error adds "Then run &lt;its name&gt; again." and the other command's name.
    /// </summary>
    internal static class ErrorRecords
    {
        /// <summary>
        /// An ErrorRecord with the error's id and category, targeting <paramref name="target"/>;
        /// <paramref name="commandName"/> (the cmdlet writing it) completes a re-run hint.
        /// </summary>
        public static ErrorRecord ToErrorRecord(this MtvException error, object? target, string? commandName = null)
        {
            var record = new ErrorRecord(error, error.ErrorId, error.Category, target);
            var steps = new List<string>();
            var next = NextCommandText(error.Next, error.NextTarget);
            if (next != null) steps.Add(next);
            if (error.RerunCompletes) steps.Add($"Then run {RerunCommand(commandName, target)} again.");
            var added = string.Join(" ", steps);
            if (error.RecommendedAction != null || added.Length > 0)
            {
                record.ErrorDetails = new ErrorDetails(added.Length > 0 ? error.Message + " " + added : error.Message)
                {
                    RecommendedAction = ((error.RecommendedAction ?? string.Empty) + " " + added).Trim(),
                };
            }
            return record;
        }

        /// <summary>
        /// The command to run again: with the item it failed for when that is a name, by the
        /// parameter the cmdlet takes it with (-VM or -VMHost), so the advice is a command line.
        /// </summary>
        private static string RerunCommand(string? commandName, object? target)
        {
            if (commandName == null) return "the command";
            var name = (target is PSObject ps ? ps.BaseObject : target) as string;
            if (string.IsNullOrEmpty(name) || !TargetParameters.Value.TryGetValue(commandName, out var parameter)) return commandName;
            return $"{commandName} -{parameter} {Quote(name!)}";
        }

        // Each cmdlet of the module whose errors are all about items of the one kind it takes, by -VM
        // or -VMHost. The runbook takes VMs but also fails for their hosts: it is named bare (a
        // re-run of the wave completes both).
        private static readonly System.Lazy<Dictionary<string, string>> TargetParameters = new System.Lazy<Dictionary<string, string>>(() =>
        {
            var map = new Dictionary<string, string>(System.StringComparer.OrdinalIgnoreCase);
            foreach (var type in typeof(ErrorRecords).Assembly.GetTypes())
            {
                if (type.IsAbstract || !(System.Attribute.GetCustomAttribute(type, typeof(CmdletAttribute)) is CmdletAttribute cmdlet)) continue;
                if (type == typeof(InvokeMtvRemediationCommand)) continue;
                var parameter = new[] { "VM", "VMHost" }.FirstOrDefault(p => type.GetProperty(p)?.GetCustomAttributes(typeof(ParameterAttribute), true).Length > 0);
                if (parameter != null) map[cmdlet.VerbName + "-" + cmdlet.NounName] = parameter;
            }
            return map;
        });

        /// <summary>The sentence naming the cmdlet that takes <paramref name="next"/>, or null.</summary>
        internal static string? NextCommandText(NextCommand next, string? target)
        {
            var vmHost = target == null ? string.Empty : " -VMHost " + Quote(target);
            switch (next)
            {
                case NextCommand.ConnectShell: return $"Connect-EsxiShell{vmHost} -Credential <credential> opens a session.";
                case NextCommand.ConnectShellByAddress: return $"Connect-EsxiShell{vmHost} -Address <management IP or DNS name> -Credential <credential> opens it at that address.";
                case NextCommand.ReconnectShell: return $"Connect-EsxiShell{vmHost} -Force reconnects.";
                case NextCommand.ShowShell: return $"Get-EsxiShell{vmHost} shows the session.";
                case NextCommand.CheckLogSpace: return $"Test-VmkfstoolsLogSpace{vmHost} checks the log and /var.";
                case NextCommand.ClearWrapperLog: return $"Clear-VmkfstoolsWrapperLog{vmHost} frees /var.";
                case NextCommand.ListWrapper: return $"Get-VmkfstoolsWrapper{vmHost} shows what is on the host.";
                case NextCommand.RemoveWrapperTaskDirectories:
                    return $"Get-VmkfstoolsWrapper{vmHost} lists them; Remove-VmkfstoolsWrapperTaskDirectory{vmHost} removes them.";
                case NextCommand.ShowVCenter: return "Get-MtvVIServer shows the vCenter connections.";
                case NextCommand.ConnectVCenter:
                    return $"Connect-MtvVIServer -Server {(target == null ? "<vcenter>" : Quote(target))} -Credential (Get-Credential) logs in (-VIServer adopts a PowerCLI session).";
                case NextCommand.AdoptVCenterWithoutCertificateCheck:
                    return "Connect-MtvVIServer -VIServer $global:DefaultVIServer -SkipCertificateCheck adopts the session to a server with an untrusted certificate.";
                case NextCommand.DisconnectShell: return $"Disconnect-EsxiShell{vmHost} closes the session and stops SSH again.";
                case NextCommand.UnregisterLogRotation: return $"Unregister-LogRotationCron{vmHost} removes the job.";
                case NextCommand.RegisterLogRotation: return $"Register-LogRotationCron{vmHost} keeps the log below its limit during the wave.";
                case NextCommand.RestartAgents: return $"Restart-EsxiAgents{vmHost} restarts hostd and vpxa.";
                case NextCommand.SetDiskMaxLun: return $"Set-EsxiDiskMaxLun{vmHost} -Value <2048 or more> raises Disk.MaxLUN through vCenter.";
                case NextCommand.SetHostdTmpMemory: return $"Set-EsxiHostdTmpMemory{vmHost} -MaxMB 1024 raises the hostd-tmp memory limit; Restore-EsxiHostdTmpMemory{vmHost} puts it back after the wave.";
                case NextCommand.RestoreHostdTmpMemory: return $"Restore-EsxiHostdTmpMemory{vmHost} puts the recorded hostd-tmp memory limit back.";
                case NextCommand.ResetChangeTracking: return $"Reset-VMChangeTracking{VmTarget(target)} finishes the reset.";
                case NextCommand.ResetChangeTrackingWithPowerOff: return $"Reset-VMChangeTracking{VmTarget(target)} -PowerOff finishes the reset.";
                case NextCommand.ShowChangeTracking: return $"Get-VMChangeTracking{VmTarget(target)} shows the VM's CBT state.";
                default: return null;
            }
        }

        /// <summary>The one command that records the unknown host keys of hosts reached at their names on one port.</summary>
        internal static string TrustHostKeysCommandLine(IEnumerable<string> hosts, int port, string? knownHostsPath, string loginHint) =>
            "Connect-EsxiShell -VMHost " + string.Join(",", hosts.Select(Quote))
            + (port != 22 ? " -Port " + port.ToString(System.Globalization.CultureInfo.InvariantCulture) : "")
            + (knownHostsPath != null ? " -KnownHostsPath " + Quote(knownHostsPath) : "")
            + " " + loginHint + " -TrustNewHostKey";

        /// <summary>What follows the command that records the keys, for a host command that met them: itself again, on the sessions it opened.</summary>
        internal static string ThenRunAgain(string commandName) => $"; then run {commandName} again (it uses those sessions).";

        /// <summary>The same, for hosts reached elsewhere: the command as typed (none: described).</summary>
        internal static string TrustHostKeysCommandLine(string? typedCommand) =>
            typedCommand != null ? typedCommand + " -TrustNewHostKey" : "the same Connect-EsxiShell command with -TrustNewHostKey added";

        /// <summary>The command line that takes <paramref name="next"/> for one VM on one vCenter (Get-MtvPendingOperation's ResumeCommand).</summary>
        internal static string VMCommandLine(NextCommand next, string vm, string server)
        {
            var target = $"-VM {Quote(vm)} -Server {Quote(server)}";
            switch (next)
            {
                case NextCommand.ResetChangeTracking: return "Reset-VMChangeTracking " + target;
                case NextCommand.ResetChangeTrackingWithPowerOff: return "Reset-VMChangeTracking " + target + " -PowerOff";
                case NextCommand.ShowChangeTracking: return "Get-VMChangeTracking " + target;
                default: throw new System.ArgumentOutOfRangeException(nameof(next), next, "not a VM command");
            }
        }

        /// <summary>The command line that takes <paramref name="next"/> for one host (Test-MtvWaveReadiness's Fix), or null; <paramref name="argument"/>: the value it sets.</summary>
        internal static string? HostCommandLine(NextCommand next, string host, string? argument = null)
        {
            var target = "-VMHost " + Quote(host);
            switch (next)
            {
                case NextCommand.ConnectShell: return $"Connect-EsxiShell {target} -Credential <credential>";
                case NextCommand.CheckLogSpace: return "Test-VmkfstoolsLogSpace " + target;
                case NextCommand.ClearWrapperLog: return "Clear-VmkfstoolsWrapperLog " + target;
                case NextCommand.RegisterLogRotation: return "Register-LogRotationCron " + target + (argument == null ? "" : " -IntervalMinutes " + argument);
                case NextCommand.RestartAgents: return "Restart-EsxiAgents " + target;
                case NextCommand.SetDiskMaxLun: return $"Set-EsxiDiskMaxLun {target} -Value {argument}";
                case NextCommand.SetHostdTmpMemory: return $"Set-EsxiHostdTmpMemory {target} -MaxMB {argument}";
                case NextCommand.RestoreHostdTmpMemory: return "Restore-EsxiHostdTmpMemory " + target;
                default: return null;
            }
        }

        private static string VmTarget(string? vm) => vm == null ? string.Empty : " -VM " + Quote(vm);

        private static string Quote(string value) => PowerShellQuote.Literal(value);
    }
}
