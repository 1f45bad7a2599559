using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Security;
using System.Threading;
using MtvRemediation.Esxi;
using MtvRemediation.Infrastructure;
using MtvRemediation.Interop;

namespace MtvRemediation.Commands
{
    /// <summary>
    /// Opens (or returns the existing) SSH shell session to ESXi hosts. Its work is the connect
    /// itself, with options of its own, so it composes the host fan-out (<see cref="HostFanOut"/>)
    /// with its own way to get a host's shell, as Find-MtvCloneFailure and Invoke-MtvRemediation
    /// compose it, instead of deriving the host-cmdlet base.
    /// </summary>
    [Cmdlet(VerbsCommunications.Connect, "EsxiShell", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(EsxiShellSession))]
    public sealed class ConnectEsxiShellCommand : MtvCmdlet, IDynamicParameters
    {
        private readonly HostFanOut _hosts;

        public ConnectEsxiShellCommand()
        {
            // A started SSH service outlives the command: it is tied to the session opened over it
            // (Disconnect-EsxiShell stops it).
            _hosts = new HostFanOut(this) { SshForCommandOnly = false, TrustAllCommand = TrustAllCommand };
        }

        /// <summary>Hosts: names, PowerCLI VMHost objects, objects with a VMHost or Name property, EsxiShellSession objects.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        [Alias("Session", "HostName", "Name")]
        [ArgumentCompleter(typeof(VMHostCompleter))]
        public object[] VMHost { get; set; } = Array.Empty<object>();

        /// <summary>-Credential, -KeyFilePath, -ThrottleLimit, -StartSshService, as on every host cmdlet.</summary>
        public object GetDynamicParameters() => _hosts.Parameters;

        /// <summary>SSH address when the inventory name is not it (one host, or per pipeline object).</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        public string? Address { get; set; }

        [Parameter(ValueFromPipelineByPropertyName = true)]
        [ValidateRange(1, 65535)]
        public int Port { get; set; } = 22;

        // Address/Port as bound for the pipeline object that brought each host.
        private readonly Dictionary<HostTarget, KeyValuePair<string?, int>> _endpoints = new Dictionary<HostTarget, KeyValuePair<string?, int>>();

        /// <summary>Expected host key fingerprint (SHA256:...).</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? HostKeyFingerprint { get; set; }

        [Parameter]
        public SwitchParameter TrustNewHostKey { get; set; }

        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? KnownHostsPath { get; set; }

        [Parameter]
        [ValidateRange(1, 600)]
        public int ConnectTimeoutSeconds { get; set; } = (int)ConnectOptions.DefaultConnectTimeout.TotalSeconds;

        /// <summary>Passphrase of -KeyFilePath when -Credential holds the login password.</summary>
        [Parameter]
        public SecureString? KeyPassphrase { get; set; }

        /// <summary>Open a new connection even if a live session exists.</summary>
        [Parameter]
        public SwitchParameter Force { get; set; }

        private bool _addressOnCommandLine;
        private string? _knownHostsPath;

        protected override void BeginProcessing()
        {
            // Only command-line arguments are bound here; pipeline-bound Address/Port are per object.
            _addressOnCommandLine = MyInvocation.BoundParameters.ContainsKey(nameof(Address));
            if (KnownHostsPath != null) _knownHostsPath = GetUnresolvedProviderPathFromPSPath(KnownHostsPath);
            base.BeginProcessing();
        }

        protected override void ProcessRecord()
        {
            foreach (var input in VMHost)
            {
                var target = _hosts.Add(input);
                if (target != null) _endpoints[target] = new KeyValuePair<string?, int>(Address, Port);
            }
        }

        protected override void EndProcessing()
        {
            var targets = _hosts.Targets;
            if (_addressOnCommandLine && targets.Count > 1)
            {
                var ex = new EsxiShellException(EsxiShellErrorIds.InvalidArgument, ErrorCategory.InvalidArgument,
                    $"-Address names one SSH endpoint but {targets.Count} hosts were given. Connect each host on its own, with -VMHost <name> -Address <address>.");
                ThrowTerminatingError(ex.ToErrorRecord(Address));
            }
            if (HostKeyFingerprint != null && !Esxi.HostKeyFingerprint.TryNormalize(HostKeyFingerprint, out _))
            {
                var ex = new EsxiShellException(EsxiShellErrorIds.InvalidArgument, ErrorCategory.InvalidArgument,
                    $"'{HostKeyFingerprint}' is not a SHA256 host key fingerprint. Copy it as ssh-keygen -l prints it, e.g. SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s.");
                ThrowTerminatingError(ex.ToErrorRecord(HostKeyFingerprint));
            }
            if (HostKeyFingerprint != null && targets.Count > 1)
                WriteWarning($"-HostKeyFingerprint pins one key but {targets.Count} hosts were given: hosts with other keys will be refused.");
            // -StartSshService (with -Force every host gets a new connection, so every host needs SSH).
            _hosts.EnsureSshOnDemand(targets, CancelToken, Force, ErrorRecords.NextCommandText(NextCommand.DisconnectShell, null)!);
            // -WhatIf opens no session either (a connect can record a host key); -Confirm asks per host.
            var hosts = targets.Where(t => !_hosts.Ssh.Declined(t.Name) && ShouldProcess(t.Name, "Open an SSH session")).ToList();
            _hosts.Run(hosts, "Connecting to ESXi shells", WriteSession, Connect);
            _hosts.Ssh.BindToSessions();
        }

        // The command that records every listed key: the hosts by name when each is reached at its
        // name on one port; else the command as typed (the last of its pipeline) with -TrustNewHostKey.
        private string TrustAllCommand(List<HostTarget> targets, string loginHint)
        {
            var port = _endpoints[targets[0]].Value;
            if (targets.All(t => (_endpoints[t].Key == null || string.Equals(_endpoints[t].Key, t.Name, StringComparison.OrdinalIgnoreCase)) && _endpoints[t].Value == port))
                return ErrorRecords.TrustHostKeysCommandLine(targets.Select(t => t.Name), port, _knownHostsPath, loginHint);
            var line = MyInvocation.Line?.Trim() ?? "";
            var typed = line.Length > 0 && MyInvocation.PipelinePosition == MyInvocation.PipelineLength && line.IndexOfAny(new[] { ';', '\n', '#' }) < 0 ? line : null;
            return ErrorRecords.TrustHostKeysCommandLine(typed);
        }

        private ConnectOptions OptionsFor(HostTarget target)
        {
            var endpoint = _endpoints[target];
            return new ConnectOptions
            {
                Address = endpoint.Key,
                Port = endpoint.Value,
                HostKeyFingerprint = HostKeyFingerprint,
                TrustNewHostKey = TrustNewHostKey.IsPresent,
                KnownHostsPath = _knownHostsPath,
                ConnectTimeout = TimeSpan.FromSeconds(ConnectTimeoutSeconds),
                KeyPassphrase = KeyPassphrase,
                Force = Force.IsPresent,
            };
        }

        // Worker thread: this command's shell for a host is the connect itself.
        private IEsxiShell Connect(ShellSource source, HostTarget target, CancellationToken cancellationToken)
        {
            var resolver = source.Resolver;
            var hasSecret = source.Credential != null || source.KeyFilePath != null;
            var existing = target.Session ?? resolver.Store.Find(target.Name);
            if (!hasSecret && (existing == null || existing.IsClosed || Force))
                throw new EsxiShellException(EsxiShellErrorIds.InvalidArgument, ErrorCategory.InvalidArgument,
                    $"No credential for '{target.Name}': pass -Credential (e.g. -Credential root) or -KeyFilePath. The command never prompts when PowerShell runs non-interactively.");
            var session = resolver.Connect(target, source.Credential, source.KeyFilePath, OptionsFor(target), cancellationToken, out var opened);
            _opened[target.Name] = opened;
            return session.Shell;
        }

        private readonly ConcurrentDictionary<string, bool> _opened = new ConcurrentDictionary<string, bool>(StringComparer.OrdinalIgnoreCase);

        private void WriteSession(HostTarget target, IEsxiShell shell, IOutputSink sink, CancellationToken cancellationToken)
        {
            var ssh = (SshEsxiShell)shell;
            var session = ssh.Session!;
            if (_opened.TryGetValue(target.Name, out var opened) && opened)
            {
                sink.WriteVerbose($"{session.VMHost}: connected to {session.User}@{KnownHostsStore.HostField(session.Address, session.Port)}, host key {ssh.HostKeyType} {ssh.HostKeyFingerprint}, key exchange {ssh.KeyExchangeAlgorithm}.");
                if (ssh.RecordedHostKey)
                    sink.WriteVerbose($"{session.VMHost}: host key recorded in the known hosts file.");
            }
            else
            {
                sink.WriteVerbose($"{session.VMHost}: reusing session {session.Id} (use -Force for a new connection).");
                var wanted = _endpoints[target];
                var wantedAddress = wanted.Key ?? target.Name;
                if (target.Session == null && (!string.Equals(wantedAddress, session.Address, StringComparison.OrdinalIgnoreCase) || wanted.Value != session.Port))
                    sink.WriteWarning($"{session.VMHost}: an existing session to {KnownHostsStore.HostField(session.Address, session.Port)} is reused, not {KnownHostsStore.HostField(wantedAddress, wanted.Value)}. Use -Force to connect to the new endpoint.");
            }
            // The row says so as it is written (formatted and piped at once), not only after the command ends.
            if (_hosts.Ssh.Started.Contains(target.Name, StringComparer.OrdinalIgnoreCase) && !session.IsClosed) session.SshServiceStarted = true;
            sink.WriteObject(session);
        }
    }
}
