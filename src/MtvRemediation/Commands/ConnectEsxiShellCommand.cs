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
using MtvRemediation.VSphere;

namespace MtvRemediation.Commands
{
    /// <summary>Opens (or returns the existing) SSH shell session to ESXi hosts.</summary>
    [Cmdlet(VerbsCommunications.Connect, "EsxiShell", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(EsxiShellSession))]
    public sealed class ConnectEsxiShellCommand : EsxiHostCmdletBase
    {
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

        protected override string ProgressActivity => "Connecting to ESXi shells";

        private bool _addressOnCommandLine;

        protected override void BeginProcessing()
        {
            // Only command-line arguments are bound here; pipeline-bound Address/Port are per object.
            _addressOnCommandLine = MyInvocation.BoundParameters.ContainsKey(nameof(Address));
            base.BeginProcessing();
        }

        private protected override void OnTargetAdded(HostTarget target)
        {
            _endpoints[target] = new KeyValuePair<string?, int>(Address, Port);
        }

        protected override void EndProcessing()
        {
            if (_addressOnCommandLine && Targets.Count > 1)
            {
                var ex = new EsxiShellException(EsxiShellErrorIds.InvalidArgument, ErrorCategory.InvalidArgument,
                    $"-Address names one SSH endpoint but {Targets.Count} hosts were given. Connect each host on its own, with -VMHost <name> -Address <address>.");
                ThrowTerminatingError(ex.ToErrorRecord(Address));
            }
            if (HostKeyFingerprint != null && !Esxi.HostKeyFingerprint.TryNormalize(HostKeyFingerprint, out _))
            {
                var ex = new EsxiShellException(EsxiShellErrorIds.InvalidArgument, ErrorCategory.InvalidArgument,
                    $"'{HostKeyFingerprint}' is not a SHA256 host key fingerprint. Copy it as ssh-keygen -l prints it, e.g. SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s.");
                ThrowTerminatingError(ex.ToErrorRecord(HostKeyFingerprint));
            }
            if (HostKeyFingerprint != null && Targets.Count > 1)
                WriteWarning($"-HostKeyFingerprint pins one key but {Targets.Count} hosts were given: hosts with other keys will be refused.");
            // -StartSshService (the shared host parameter): here the service outlives the command,
            // tied to the session opened over it; Disconnect-EsxiShell stops it again.
            KeepStartedSshWithSessions();
            if (StartSshService) StartSshForSessions(Targets, Force);
            base.EndProcessing();
            SshOnDemand.BindToSessions();
        }

        // -WhatIf opens no session either: a connect can record a host key (-TrustNewHostKey).
        private protected override bool ShouldProcessHost(HostTarget target)
            => !SshOnDemand.Declined(target.Name) && (!IsWhatIf() || ShouldProcess(target.Name, "Open an SSH session"));

        private bool IsWhatIf()
            => MyInvocation.BoundParameters.TryGetValue("WhatIf", out var w) ? LanguagePrimitives.IsTrue(w) : LanguagePrimitives.IsTrue(GetVariableValue("WhatIfPreference"));

        private protected override ConnectOptions CreateConnectOptions(HostTarget target)
        {
            var endpoint = _endpoints.TryGetValue(target, out var e) ? e : new KeyValuePair<string?, int>(Address, Port);
            return new ConnectOptions
            {
                Address = endpoint.Key,
                Port = endpoint.Value,
                HostKeyFingerprint = HostKeyFingerprint,
                TrustNewHostKey = TrustNewHostKey.IsPresent,
                KnownHostsPath = KnownHostsPath == null ? null : GetUnresolvedProviderPathFromPSPath(KnownHostsPath),
                ConnectTimeout = TimeSpan.FromSeconds(ConnectTimeoutSeconds),
                KeyPassphrase = KeyPassphrase,
                Force = Force.IsPresent,
            };
        }

        private protected override IEsxiShell AcquireShell(EsxiShellResolver resolver, HostTarget target, PSCredential? credential, string? keyFilePath, ConnectOptions options, CancellationToken cancellationToken)
        {
            var hasSecret = credential != null || keyFilePath != null;
            var existing = target.Session ?? resolver.Store.Find(target.Name);
            if (!hasSecret && (existing == null || existing.IsClosed || options.Force))
                throw new EsxiShellException(EsxiShellErrorIds.InvalidArgument, ErrorCategory.InvalidArgument,
                    $"No credential for '{target.Name}': pass -Credential (e.g. -Credential root) or -KeyFilePath. The command never prompts when PowerShell runs non-interactively.");
            var session = resolver.Connect(target, credential, keyFilePath, options, cancellationToken, out var opened);
            _opened[target.Name] = opened;
            return session.Shell;
        }

        private readonly ConcurrentDictionary<string, bool> _opened = new ConcurrentDictionary<string, bool>(StringComparer.OrdinalIgnoreCase);

        private protected override void ProcessHost(HostTarget target, IEsxiShell shell, IOutputSink sink, CancellationToken cancellationToken)
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
                var wanted = _endpoints.TryGetValue(target, out var e) ? e : new KeyValuePair<string?, int>(Address, Port);
                var wantedAddress = wanted.Key ?? target.Name;
                if (target.Session == null && (!string.Equals(wantedAddress, session.Address, StringComparison.OrdinalIgnoreCase) || wanted.Value != session.Port))
                    sink.WriteWarning($"{session.VMHost}: an existing session to {KnownHostsStore.HostField(session.Address, session.Port)} is reused, not {KnownHostsStore.HostField(wantedAddress, wanted.Value)}. Use -Force to connect to the new endpoint.");
            }
            sink.WriteObject(session);
        }
    }
}
