using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Threading;
using MtvRemediation.Infrastructure;
using MtvRemediation.Interop;
using MtvRemediation.VSphere;

namespace MtvRemediation.Commands
{
    /// <summary>
    /// Base for cmdlets that talk to vCenter: resolves <c>-Server</c> (ours first, then PowerCLI's
    /// default connections, adopted through their session cookie) on the pipeline thread.
    /// </summary>
    public abstract class VSphereCmdlet : MtvCmdlet
    {
        /// <summary>Connection(s) to use: VIConnection, PowerCLI VIServer, or server name.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(VIServerCompleter))]
        public object[]? Server { get; set; }

        private VIConnectionStore? _store;

        /// <summary>This runspace's connections, captured on the pipeline thread (worker threads have no default runspace).</summary>
        private protected VIConnectionStore Store => _store ??= VIConnectionStore.Current;

        protected override void BeginProcessing()
        {
            _store = VIConnectionStore.Current;
            base.BeginProcessing();
        }

        /// <summary>
        /// The connections to act on. Writes non-terminating errors for inputs that cannot be used and
        /// terminates when none is left. Must run on the pipeline thread (reads PowerShell variables).
        /// </summary>
        /// <param name="required">False: without -Server and without any connection, return none instead of terminating (for a command that also has work without vCenter).</param>
        protected IReadOnlyList<VIConnection> ResolveConnections(bool required = true)
        {
            var store = Store;
            var result = new List<VIConnection>();
            // -Server items that cannot be used: written after the loop, so that when none is left
            // the last one terminates the command instead of a second, generic "not connected".
            var problems = new List<ErrorRecord>();
            if (Server != null && Server.Length > 0)
            {
                foreach (var item in Server)
                {
                    var value = PSObjectProperties.Unwrap(item);
                    if (value is VIConnection c)
                    {
                        if (c.IsConnected) result.Add(c);
                        else problems.Add(VIErrors.Record(null, VIErrorIds.ServerNotConnected, ErrorCategory.ConnectionError, item, $"The connection to {c.Server} is closed.", NextCommand.ConnectVCenter, c.Server));
                        continue;
                    }
                    var viServer = VIServerInput.TryParse(value);
                    if (viServer != null)
                    {
                        // Used for this call only (like PowerCLI's -Server): it does not become our default.
                        var adopted = AdoptPowerCli(viServer, item, auto: true);
                        if (adopted != null) result.Add(adopted);
                        continue;
                    }
                    var name = value?.ToString() ?? "";
                    var matches = store.GetAll().Where(x => x.IsConnected && VMResolver.ServerMatches(x, name, null)).ToList();
                    if (matches.Count == 0)
                    {
                        var pc = ReadPowerCliDefaults().FirstOrDefault(p => p.IsConnected && string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase));
                        var adopted = pc == null ? null : AdoptPowerCli(pc, item, auto: true);
                        if (adopted != null) matches.Add(adopted);
                    }
                    if (matches.Count == 0)
                        problems.Add(VIErrors.Record(null, VIErrorIds.ServerNotConnected, ErrorCategory.ConnectionError, item, $"Not connected to {name}. Log in to it, or connect PowerCLI to it.", NextCommand.ConnectVCenter, name));
                    result.AddRange(matches);
                }
            }
            else
            {
                result.AddRange(store.GetAll().Where(x => x.IsConnected && !x.AutoAdopted));
                if (result.Count == 0)
                {
                    foreach (var pc in ReadPowerCliDefaults().Where(p => p.IsConnected))
                    {
                        var adopted = AdoptPowerCli(pc, pc, auto: true);
                        if (adopted != null) result.Add(adopted);
                    }
                }
            }

            var distinct = result.Distinct().ToList();
            for (var i = 0; i < problems.Count; i++)
            {
                if (distinct.Count == 0 && i == problems.Count - 1) ThrowTerminatingError(problems[i]);
                WriteError(problems[i]);
            }
            if (distinct.Count == 0 && !required && problems.Count == 0) return distinct;
            if (distinct.Count == 0)
            {
                ThrowTerminatingError(VIErrors.Record(null, VIErrorIds.ServerNotConnected, ErrorCategory.ConnectionError, Server,
                    "Not connected to any vCenter. Log in, or connect PowerCLI with Connect-VIServer (its session is adopted automatically).", NextCommand.ConnectVCenter));
            }
            return distinct;
        }

        /// <summary>Reuses the stored adoption of this PowerCLI session, or adopts it now (validated through currentSession).</summary>
        private VIConnection? AdoptPowerCli(VIServerInput input, object target, bool auto)
        {
            var store = Store;
            if (input.SessionSecret != null)
            {
                var uri = input.ServiceUri ?? VIConnector.BuildServiceUri(input.Name, input.Port);
                var existing = store.FindAdopted(VIConnector.AdoptedKey(uri, input.SessionSecret));
                if (existing != null) return existing;
            }
            // The certificate is judged as PowerCLI was told to judge it when Connect-VIServer made the session.
            var policy = PowerCliCertificateAction();
            var skip = policy != null && (policy.Value.Action == "Ignore" || policy.Value.Action == "Warn");
            if (skip)
            {
                var said = $"Certificate validation for {input.Name} is off for the reused PowerCLI session, as PowerCLI's InvalidCertificateAction is '{policy!.Value.Action}' ({policy.Value.Scope} scope, Get-PowerCLIConfiguration).";
                if (policy.Value.Action == "Warn") WriteWarning(said);
                else WriteVerbose(said);
            }
            try
            {
                WriteVerbose($"Adopting the PowerCLI session to {input.Name} (validated through SessionManager.currentSession).");
                var conn = VIConnector.AdoptAsync(input, skip, CancelToken).GetAwaiter().GetResult();
                conn.AutoAdopted = auto;
                store.Add(conn);
                return conn;
            }
            catch (Exception ex) when (ex is VimFaultException || ex is VimTransportException || ex is ArgumentException)
            {
                var next = ex is VimTransportException ? NextCommand.AdoptVCenterWithoutCertificateCheck
                    : ex is ArgumentException || ex is VISessionExpiredException ? NextCommand.ConnectVCenter : NextCommand.None;
                var followed = ex is VimTransportException
                    ? policy == null ? " PowerCLI's InvalidCertificateAction could not be read (Get-PowerCLIConfiguration), so the certificate was validated."
                    : $" PowerCLI's InvalidCertificateAction is '{policy.Value.Action}' ({policy.Value.Scope} scope), so the certificate was validated."
                    : "";
                WriteError(VIErrors.Record(ex, ex is VISessionExpiredException ? VIErrorIds.SessionExpired : VIErrorIds.ServerAdoptionFailed,
                    ex is VISessionExpiredException ? ErrorCategory.AuthenticationError : ErrorCategory.ConnectionError, target,
                    $"Cannot reuse the PowerCLI session to {input.Name}: {ex.Message}{followed}", next, input.Name));
                return null;
            }
        }

        /// <summary>
        /// PowerCLI's InvalidCertificateAction for this session: Get-PowerCLIConfiguration's rows
        /// (VMware.VimAutomation.ViCore.Types.V1.PowerCLIConfiguration: Scope Session, User or
        /// AllUsers), the narrowest scope that is not Unset. Null without PowerCLI. Pipeline thread only.
        /// Sources: docs/field-sources.md#8-powercli-objects (the value set is unverified).
        /// </summary>
        private (string Action, string Scope)? PowerCliCertificateAction()
        {
            if (InvokeCommand.GetCommand("Get-PowerCLIConfiguration", CommandTypes.All) == null) return null;
            System.Collections.ObjectModel.Collection<PSObject> rows;
            try
            {
                rows = InvokeCommand.InvokeScript("Get-PowerCLIConfiguration");
            }
            catch (RuntimeException)
            {
                return null;
            }
            foreach (var scope in new[] { "Session", "User", "AllUsers" })
            {
                var row = rows.FirstOrDefault(r => string.Equals(PSObjectProperties.GetString(r, "Scope"), scope, StringComparison.OrdinalIgnoreCase));
                var action = PSObjectProperties.GetString(row, "InvalidCertificateAction");
                if (!string.IsNullOrEmpty(action) && action != "Unset") return (action!, scope);
            }
            return null;
        }

        /// <summary>$global:DefaultVIServers (or $global:DefaultVIServer) as inputs. Pipeline thread only.</summary>
        private protected IReadOnlyList<VIServerInput> ReadPowerCliDefaults()
        {
            var list = new List<VIServerInput>();
            foreach (var name in new[] { "global:DefaultVIServers", "global:DefaultVIServer" })
            {
                var value = PSObjectProperties.Unwrap(GetVariableValue(name));
                if (value == null) continue;
                var items = LanguagePrimitives.GetEnumerable(value)?.Cast<object>() ?? new[] { value };
                foreach (var item in items)
                {
                    var parsed = VIServerInput.TryParse(item);
                    if (parsed != null) list.Add(parsed);
                }
                if (list.Count > 0) break;
            }
            return list;
        }

        private readonly List<VMInput> _vmInputs = new List<VMInput>();

        /// <summary>Collects one -VM value (pipeline thread); a value that names no VM is written as InvalidVMInput.</summary>
        private protected void AddVMInput(object? value)
        {
            if (value == null) return;
            if (VMInput.TryParse(value, out var input, out var problem)) _vmInputs.Add(input!);
            else WriteError(VIErrors.Record(null, VIErrorIds.InvalidVMInput, ErrorCategory.InvalidArgument, value, problem!));
        }

        /// <summary>Resolves every collected VM input; writes VMNotFound/VIServerNotConnected errors for the rest.</summary>
        private protected IReadOnlyList<VmTarget> ResolveTargets() => ResolveTargets(null);

        /// <param name="unmatched">Also receives each input that resolved to no VM, with its error record.</param>
        private protected IReadOnlyList<VmTarget> ResolveTargets(List<(VMInput Input, ErrorRecord Error)>? unmatched)
        {
            if (_vmInputs.Count == 0) return Array.Empty<VmTarget>();
            var connections = ResolveConnections();
            var (targets, errors) = VMResolver.ResolveAsync(_vmInputs, connections, CancelToken).GetAwaiter().GetResult();
            foreach (var (input, error, failedConnection) in errors)
            {
                var record = failedConnection != null ? ErrorFor(error, input.Original, failedConnection) : error.ToErrorRecord(input.Original);
                WriteError(record);
                unmatched?.Add((input, record));
            }
            return targets;
        }

        /// <summary>Writes an error for a failure on one item; marks the connection dead when its session expired.</summary>
        protected ErrorRecord ErrorFor(Exception ex, object? target, VIConnection? connection)
        {
            if (ex is VISessionExpiredException && connection != null) Store.MarkExpired(connection);
            return VIErrors.FromException(ex, target, connection?.Server);
        }
    }
}
