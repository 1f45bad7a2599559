using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Threading;
using MtvRemediation.Esxi;
using MtvRemediation.Infrastructure;
using MtvRemediation.Interop;

namespace MtvRemediation.Commands
{
    /// <summary>
    /// The parameters every host-facing cmdlet shares, declared once: cmdlets compose them as
    /// dynamic parameters (<see cref="IDynamicParameters"/>) through <see cref="HostFanOut"/>, so
    /// host cmdlets, Find-MtvCloneFailure -VMHost and Invoke-MtvRemediation bind the same
    /// -Credential, -KeyFilePath and -ThrottleLimit with the same validation and default.
    /// Public: it is the object GetDynamicParameters hands PowerShell, which binds its properties.
    /// </summary>
    public sealed class HostConnectionParameters
    {
        /// <summary>Opens a session on demand for hosts without one (user root and its password).</summary>
        [Parameter]
        [Credential]
        public PSCredential? Credential { get; set; }

        /// <summary>Private key file for hosts without a session (OpenSSH or PEM format).</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? KeyFilePath { get; set; }

        /// <summary>Maximum number of hosts (and VMs) worked on at once.</summary>
        [Parameter]
        [ValidateRange(1, 1024)]
        public int ThrottleLimit { get; set; } = HostFanOut.DefaultThrottleLimit;

        /// <summary>
        /// With a vCenter connection: start the SSH service (TSM-SSH) on the hosts that need a new
        /// session and have it stopped; it is stopped again when the session that needed it closes
        /// (Connect-EsxiShell: at Disconnect-EsxiShell; every other command: when it ends).
        /// </summary>
        [Parameter]
        public SwitchParameter StartSshService { get; set; }
    }

    /// <summary>
    /// The one host fan-out, used by composition: collects -VMHost inputs (each host once),
    /// resolves each host's shell on a worker (the runspace's session, re-opened if dropped, or
    /// opened on demand with -Credential/-KeyFilePath), runs the work on up to -ThrottleLimit hosts
    /// at once through <see cref="MtvCmdlet.RunParallel{T}"/> (live output and progress; a stop
    /// cancels the rest and names the hosts not touched), and turns every per-host failure into
    /// one error record with one id per failure kind (<see cref="RemoteOps.AsHostFailure"/>).
    /// </summary>
    internal sealed class HostFanOut
    {
        /// <summary>
        /// Hosts worked on at once by default. Each host costs one dedicated thread that mostly
        /// waits on the network (handshakes, remote commands, vCenter tasks), not CPU; 32 covers a
        /// typical cluster or migration wave in one round while bounding sockets and threads.
        /// </summary>
        public const int DefaultThrottleLimit = 32;

        private readonly MtvCmdlet _cmdlet;
        private readonly List<HostTarget> _targets = new List<HostTarget>();
        private readonly HashSet<string> _seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);

        public HostFanOut(MtvCmdlet cmdlet)
        {
            _cmdlet = cmdlet;
            Ssh = new SshServiceOnDemand(cmdlet);
        }

        /// <summary>The bound -Credential/-KeyFilePath/-ThrottleLimit/-StartSshService (the cmdlet's dynamic parameters).</summary>
        public HostConnectionParameters Parameters { get; } = new HostConnectionParameters();

        /// <summary>-StartSshService's record for this command (what it started, what was declined).</summary>
        public SshServiceOnDemand Ssh { get; }

        /// <summary>
        /// False for Connect-EsxiShell, which ties a started SSH service to the session it opens.
        /// True (default): the service lives as long as the command (<see cref="EndSshOnDemand"/>).
        /// </summary>
        public bool SshForCommandOnly { get; set; } = true;

        private const string GiveBackAtCommandEnd = "it is stopped again when this command ends (the session opened over it is closed then)";

        /// <summary>
        /// -StartSshService, pipeline thread: starts SSH where it is stopped on the hosts of
        /// <paramref name="hosts"/> without a live session (each host once per command). Run does
        /// this itself; Invoke-MtvRemediation calls it for the hosts of its VMs.
        /// </summary>
        public void EnsureSshOnDemand(IEnumerable<HostTarget> hosts, CancellationToken ct, bool force = false, string giveBack = GiveBackAtCommandEnd)
        {
            if (Parameters.StartSshService) Ssh.StartWhereStopped(hosts, force, giveBack, ct);
        }

        /// <summary>The command's end (pipeline thread): closes the sessions opened over SSH this command started, then stops it.</summary>
        public void EndSshOnDemand()
        {
            if (SshForCommandOnly) Ssh.StopStarted();
        }

        /// <summary>The hosts collected so far, in pipeline order, each name once.</summary>
        public IReadOnlyList<HostTarget> Targets => _targets;

        /// <summary>True when -Credential, -KeyFilePath, -ThrottleLimit or -StartSshService was given.</summary>
        public bool AnyBound(InvocationInfo invocation) =>
            invocation.BoundParameters.ContainsKey(nameof(HostConnectionParameters.Credential)) ||
            invocation.BoundParameters.ContainsKey(nameof(HostConnectionParameters.KeyFilePath)) ||
            invocation.BoundParameters.ContainsKey(nameof(HostConnectionParameters.ThrottleLimit)) ||
            invocation.BoundParameters.ContainsKey(nameof(HostConnectionParameters.StartSshService));

        /// <summary>
        /// Adds one -VMHost input (pipeline thread). Returns the new target; null when the input is
        /// not a host (its error is written) or the host is already in this pipeline.
        /// </summary>
        public HostTarget? Add(object input)
        {
            if (!VMHostInput.TryGetTarget(input, out var target, out var problem))
            {
                _cmdlet.WriteError(new EsxiShellException(EsxiShellErrorIds.HostUnresolved, ErrorCategory.InvalidArgument, problem!).ToErrorRecord(input));
                return null;
            }
            if (!_seen.Add(target!.Name))
            {
                _cmdlet.WriteVerbose($"{target.Name}: already in this pipeline, skipped.");
                return null;
            }
            _targets.Add(target);
            return target;
        }

        /// <summary>
        /// How workers get a host's shell, captured on the pipeline thread (workers must not touch
        /// Runspace.DefaultRunspace). Throws <see cref="EsxiShellException"/> for a host that
        /// cannot be had.
        /// </summary>
        public ShellSource CaptureShellSource()
        {
            var keyFile = Parameters.KeyFilePath == null ? null : _cmdlet.GetUnresolvedProviderPathFromPSPath(Parameters.KeyFilePath);
            return new ShellSource(EsxiShellResolver.ForCurrentRunspace(), Parameters.Credential, keyFile);
        }

        /// <summary>
        /// Runs <paramref name="work"/> on every host of <paramref name="hosts"/>, on up to
        /// -ThrottleLimit at once, each with its shell (<paramref name="acquire"/>; default: the
        /// runspace's session or one opened on demand). A host whose shell cannot be had, and what
        /// the work throws that <see cref="RemoteOps.AsHostFailure"/> names a host failure, go to
        /// <paramref name="onFailure"/> (default: the error is written with the host's input as
        /// TargetObject).
        /// </summary>
        public void Run(
            IReadOnlyList<HostTarget> hosts,
            string activity,
            Action<HostTarget, IEsxiShell, IOutputSink, CancellationToken> work,
            Func<ShellSource, HostTarget, CancellationToken, IEsxiShell>? acquire = null,
            Action<HostTarget, MtvException, IOutputSink>? onFailure = null)
        {
            if (hosts.Count == 0) return;
            if (SshForCommandOnly && Parameters.StartSshService)
            {
                EnsureSshOnDemand(hosts, _cmdlet.Cancellation);
                hosts = hosts.Where(t => !Ssh.Declined(t.Name)).ToList();
                if (hosts.Count == 0) return;
            }
            var source = CaptureShellSource();
            acquire ??= (s, t, ct) => s.Get(t, ct);
            var commandName = _cmdlet.MyInvocation.MyCommand.Name;
            onFailure ??= (target, ex, sink) => sink.WriteError(ex.ToErrorRecord(target.InputObject, commandName));
            // The error of a host whose key is not known is held, not written (the rest of the
            // failure's handling runs as usual): new hosts are answered together after every host.
            var held = new ConcurrentQueue<(HostTarget Target, EsxiShellException Error, ErrorRecord Record)>();
            ThreadPoolTuning.EnsureMinThreads(Math.Min(Parameters.ThrottleLimit, hosts.Count));
            _cmdlet.RunParallelFor(hosts, Parameters.ThrottleLimit, activity, t => t.Name, (target, sink, ct) =>
            {
                try
                {
                    var shell = acquire(source, target, ct);
                    work(target, shell, sink, ct);
                }
                catch (Exception ex) when (RemoteOps.AsHostFailure(ex, target.Name, ct) is MtvException failure)
                {
                    onFailure(target, failure, failure is EsxiShellException { UnknownKey: not null } ? new UnknownKeyHold(sink, target, held) : sink);
                }
            });
            WriteUnknownHostKeys(held.OrderBy(u => u.Target.Name, StringComparer.OrdinalIgnoreCase).ToList(), commandName);
        }

        /// <summary>
        /// Connect-EsxiShell's own command that records the keys of the hosts given (it knows their
        /// endpoints and -KnownHostsPath); without it, the hosts reached at their names get the
        /// Connect-EsxiShell command that records them, then this command again.
        /// </summary>
        public Func<List<HostTarget>, string, string>? TrustAllCommand { get; set; }

        /// <summary>
        /// Hosts whose keys are not known: one host keeps its own error; several get ONE error with
        /// the one command that records them all. Without <see cref="TrustAllCommand"/>, hosts not
        /// all reached at their names on one port keep an error each.
        /// </summary>
        private void WriteUnknownHostKeys(List<(HostTarget Target, EsxiShellException Error, ErrorRecord Record)> unknown, string commandName)
        {
            if (unknown.Count == 0) return;
            var loginHint = unknown[0].Error.UnknownKey!.LoginHint;
            var ports = unknown.Select(u => EndpointPortOf(u.Target.Name, u.Error.UnknownKey!.Endpoint)).Distinct().ToList();
            var (trustAll, then) = TrustAllCommand != null ? (TrustAllCommand(unknown.Select(u => u.Target).ToList(), loginHint), "")
                : ports.Count == 1 && ports[0] >= 0 ? (ErrorRecords.TrustHostKeysCommandLine(unknown.Select(u => u.Target.Name), ports[0], null, loginHint), ErrorRecords.ThenRunAgain(commandName))
                : (null, "");
            if (unknown.Count == 1 || trustAll == null)
            {
                foreach (var u in unknown) _cmdlet.WriteError(u.Record);
                return;
            }
            var error = EsxiShellException.UnknownHostKeys(unknown.Select(u => (u.Target.Name, u.Error.UnknownKey!)).ToList(), trustAll, then);
            _cmdlet.WriteError(error.ToErrorRecord(unknown.Select(u => u.Target.Name).ToArray(), commandName));
        }

        /// <summary>A host's sink whose unknown-host-key error is held for the summary; everything else passes through.</summary>
        private sealed class UnknownKeyHold : IOutputSink
        {
            private readonly IOutputSink _sink;
            private readonly HostTarget _target;
            private readonly ConcurrentQueue<(HostTarget, EsxiShellException, ErrorRecord)> _held;

            public UnknownKeyHold(IOutputSink sink, HostTarget target, ConcurrentQueue<(HostTarget, EsxiShellException, ErrorRecord)> held)
            {
                _sink = sink;
                _target = target;
                _held = held;
            }

            public void WriteError(ErrorRecord error)
            {
                if (error.Exception is EsxiShellException { UnknownKey: not null } e) _held.Enqueue((_target, e, error));
                else _sink.WriteError(error);
            }

            public void WriteObject(object value) => _sink.WriteObject(value);
            public void WriteVerbose(string text) => _sink.WriteVerbose(text);
            public void WriteWarning(string text) => _sink.WriteWarning(text);
            public void WriteDebug(string text) => _sink.WriteDebug(text);
            public void ReportStep(string step) => _sink.ReportStep(step);
        }

        // The port a host was reached on at its own name, from its known_hosts field ("name" on 22,
        // "[name]:port" otherwise); -1 when the field names another address.
        private static int EndpointPortOf(string name, string endpoint)
        {
            if (string.Equals(endpoint, name, StringComparison.OrdinalIgnoreCase)) return 22;
            var prefix = "[" + name + "]:";
            return endpoint.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)
                && int.TryParse(endpoint.Substring(prefix.Length), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var p) ? p : -1;
        }
    }

    /// <summary>A host's shell for workers: the runspace's session, or one opened on demand.</summary>
    internal sealed class ShellSource
    {
        internal ShellSource(EsxiShellResolver resolver, PSCredential? credential, string? keyFilePath)
        {
            Resolver = resolver;
            Credential = credential;
            KeyFilePath = keyFilePath;
        }

        public EsxiShellResolver Resolver { get; }
        public PSCredential? Credential { get; }
        public string? KeyFilePath { get; }

        /// <exception cref="EsxiShellException">No session and no credential, or the connect failed.</exception>
        public IEsxiShell Get(HostTarget target, CancellationToken ct) =>
            Resolver.Resolve(target, Credential, KeyFilePath, new ConnectOptions(), ct);
    }
}
