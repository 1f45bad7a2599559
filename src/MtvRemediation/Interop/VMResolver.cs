using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Threading;
using System.Threading.Tasks;
using MtvRemediation.Infrastructure;
using MtvRemediation.Interop;
using MtvRemediation.VSphere;

namespace MtvRemediation.Interop
{
    /// <summary>A VM resolved to the connection it lives on and its freshly read state.</summary>
    internal sealed class VmTarget
    {
        public VmTarget(VIConnection connection, VmInfo vm, VMInput input)
        {
            Connection = connection;
            Vm = vm;
            Input = input;
        }

        public VIConnection Connection { get; }
        public VmInfo Vm { get; }
        public VMInput Input { get; }
    }

    /// <summary>
    /// Turns -VM inputs into VMs: names (exact first, then wildcards) through one inventory name read
    /// per connection, references through the connection their Uid names, then ONE batched
    /// property read per connection for every VM. An input that cannot be resolved comes back with
    /// its error, and with the connection when that connection's failure is the cause.
    /// </summary>
    internal static class VMResolver
    {
        public static async Task<(List<VmTarget> Targets, List<(VMInput Input, MtvException Error, VIConnection? FailedConnection)> Errors)> ResolveAsync(
            IReadOnlyList<VMInput> inputs, IReadOnlyList<VIConnection> connections, CancellationToken ct)
        {
            var errors = new List<(VMInput Input, MtvException Error, VIConnection? FailedConnection)>();
            var candidates = new List<(VMInput Input, VIConnection Conn, MoRef Ref)>();
            var names = new Dictionary<VIConnection, IReadOnlyList<(MoRef MoRef, string Name)>>();
            // A connection that fails (expired session, unreachable) fails only the inputs that needed it.
            var failed = new Dictionary<VIConnection, MtvException>();

            await ResolveDisksAsync(inputs.Where(i => i.DiskPath != null).ToList(), connections, candidates, errors, failed, ct).ConfigureAwait(false);
            foreach (var input in inputs.Where(i => i.DiskPath == null))
            {
                if (input.MoRef is MoRef moRef)
                {
                    var conns = connections;
                    if (input.ServerHost != null)
                    {
                        conns = connections.Where(c => ServerMatches(c, input.ServerHost, input.ServerPort)).ToList();
                        if (conns.Count == 0)
                        {
                            errors.Add((input, new MtvException(VIErrorIds.ServerNotConnected, ErrorCategory.ConnectionError,
                                $"VM '{input}' belongs to server {input.ServerHost}, which is not connected here. Log in to it (or adopt a PowerCLI session to it) and retry.")
                            { Next = NextCommand.ConnectVCenter, NextTarget = input.ServerHost }, null));
                            continue;
                        }
                    }
                    foreach (var c in conns) candidates.Add((input, c, moRef));
                    continue;
                }

                var name = input.Name ?? "";
                var found = false;
                foreach (var c in connections)
                {
                    if (failed.ContainsKey(c)) continue;
                    if (!names.TryGetValue(c, out var list))
                    {
                        try { list = await c.Client.GetAllVmNamesAsync(ct).ConfigureAwait(false); }
                        catch (Exception ex) when (IsConnectionFailure(ex))
                        {
                            failed[c] = AsError(ex);
                            continue;
                        }
                        names[c] = list;
                    }
                    var exact = list.Where(v => string.Equals(v.Name, name, StringComparison.OrdinalIgnoreCase)).ToList();
                    var matches = exact;
                    if (exact.Count == 0 && WildcardPattern.ContainsWildcardCharacters(name))
                    {
                        var pattern = new WildcardPattern(name, WildcardOptions.IgnoreCase);
                        matches = list.Where(v => pattern.IsMatch(v.Name)).ToList();
                    }
                    foreach (var m in matches.OrderBy(m => m.Name, StringComparer.OrdinalIgnoreCase)) candidates.Add((input, c, m.MoRef));
                    found |= matches.Count > 0;
                }
                if (!found && connections.All(c => failed.ContainsKey(c)))
                {
                    var c = connections.First();
                    errors.Add((input, failed[c], c));
                }
                else if (!found)
                {
                    errors.Add((input, new MtvException(VIErrorIds.VMNotFound, ErrorCategory.ObjectNotFound,
                        $"No VM named '{name}' was found on {string.Join(", ", connections.Select(c => c.Server))}. Check the name (Get-VM), or use -Server to pick the vCenter that has it."), null));
                }
            }

            // One batched read per connection for every candidate VM.
            var infos = new Dictionary<(VIConnection, MoRef), VmInfo>();
            foreach (var group in candidates.GroupBy(c => c.Conn))
            {
                if (failed.ContainsKey(group.Key)) continue;
                var refs = group.Select(g => g.Ref).Distinct().ToList();
                try
                {
                    foreach (var vm in await group.Key.Client.GetVmsAsync(refs, ct).ConfigureAwait(false)) infos[(group.Key, vm.MoRef)] = vm;
                }
                catch (Exception ex) when (IsConnectionFailure(ex))
                {
                    failed[group.Key] = AsError(ex);
                }
            }

            var targets = new List<VmTarget>();
            // Two connections to the same vCenter must not act twice on one VM: dedupe by instance.
            var seen = new HashSet<(string, MoRef)>();
            foreach (var byInput in candidates.GroupBy(c => c.Input))
            {
                var input = byInput.Key;
                var hits = byInput.Where(c => infos.ContainsKey((c.Conn, c.Ref))).ToList();
                // A reference without a server hint may exist on several vCenters: keep the ones whose name agrees.
                if (input.MoRef != null && input.ServerHost == null && hits.Select(h => h.Conn).Distinct().Count() > 1 && input.Name != null)
                    hits = hits.Where(h => string.Equals(infos[(h.Conn, h.Ref)].Name, input.Name, StringComparison.OrdinalIgnoreCase)).ToList();
                var failedConn = byInput.Select(c => c.Conn).FirstOrDefault(c => failed.ContainsKey(c));
                if (hits.Count == 0 && failedConn != null)
                {
                    errors.Add((input, failed[failedConn], failedConn));
                    continue;
                }
                if (hits.Count == 0)
                {
                    errors.Add((input, new MtvException(VIErrorIds.VMNotFound, ErrorCategory.ObjectNotFound,
                        $"VM '{input}' ({input.MoRef}) was not found on {string.Join(", ", byInput.Select(c => c.Conn.Server).Distinct())}; it may have been removed or unregistered. Refresh the object (Get-VM) and retry."), null));
                    continue;
                }
                foreach (var h in hits)
                {
                    if (seen.Add((InstanceKey(h.Conn), h.Ref))) targets.Add(new VmTarget(h.Conn, infos[(h.Conn, h.Ref)], input));
                }
            }
            return (targets, errors);
        }

        /// <summary>
        /// Inputs that name a disk (<c>/vmfs/volumes/&lt;datastore name or UUID&gt;/folder/file.vmdk</c>): the VM whose
        /// disk is backed by that file, found by one read of every VM's devices and the datastores' URLs per connection.
        /// </summary>
        private static async Task ResolveDisksAsync(IReadOnlyList<VMInput> inputs, IReadOnlyList<VIConnection> connections,
            List<(VMInput Input, VIConnection Conn, MoRef Ref)> candidates, List<(VMInput Input, MtvException Error, VIConnection? FailedConnection)> errors,
            Dictionary<VIConnection, MtvException> failed, CancellationToken ct)
        {
            if (inputs.Count == 0) return;
            var found = new HashSet<VMInput>();
            foreach (var c in connections)
            {
                if (failed.ContainsKey(c)) continue;
                try
                {
                    var volumes = await c.Client.GetDatastoreNamesByVolumeAsync(ct).ConfigureAwait(false);
                    var wanted = new Dictionary<string, List<VMInput>>(StringComparer.Ordinal);
                    foreach (var input in inputs)
                    {
                        var path = ToDatastorePath(input.DiskPath!, volumes);
                        if (path == null) continue;
                        if (!wanted.TryGetValue(path, out var list)) wanted[path] = list = new List<VMInput>();
                        list.Add(input);
                    }
                    if (wanted.Count == 0) continue;
                    foreach (var (moRef, _, disk) in await c.Client.FindVmsByDiskAsync(wanted.Keys, ct).ConfigureAwait(false))
                        foreach (var input in wanted[disk])
                        {
                            candidates.Add((input, c, moRef));
                            found.Add(input);
                        }
                }
                catch (Exception ex) when (IsConnectionFailure(ex))
                {
                    failed[c] = AsError(ex);
                }
            }
            foreach (var input in inputs.Where(i => !found.Contains(i)))
                errors.Add((input, new MtvException(VIErrorIds.VMNotFound, ErrorCategory.ObjectNotFound,
                    $"No VM with the disk {input.DiskPath} was found on {string.Join(", ", connections.Select(c => c.Server))}: the finding names a disk whose VM is not registered there (or the disk is a clone's target). Pass the VM by name instead."), null));
        }

        /// <summary>/vmfs/volumes/&lt;name or UUID&gt;/folder/file.vmdk as vCenter names the file: [name] folder/file.vmdk (null: not a known datastore).</summary>
        internal static string? ToDatastorePath(string esxiPath, IReadOnlyDictionary<string, string> datastoreByVolume)
        {
            const string prefix = "/vmfs/volumes/";
            if (!esxiPath.StartsWith(prefix, StringComparison.Ordinal)) return null;
            var rest = esxiPath.Substring(prefix.Length);
            var slash = rest.IndexOf('/');
            if (slash <= 0 || !datastoreByVolume.TryGetValue(rest.Substring(0, slash), out var name)) return null;
            return $"[{name}] {rest.Substring(slash + 1)}";
        }

        private static bool IsConnectionFailure(Exception ex) => ex is VimFaultException || ex is VimTransportException || ex is TimeoutException;

        // Faults and transport errors are MtvExceptions already; a timeout gets the id VIErrors gives it.
        private static MtvException AsError(Exception ex) =>
            ex as MtvException ?? new MtvException(VIErrorIds.OperationTimeout, ErrorCategory.OperationTimeout, ex.Message, null, ex);

        private static string InstanceKey(VIConnection c) =>
            c.InstanceUuid.Length > 0 ? c.InstanceUuid : c.ServiceUri.GetLeftPart(UriPartial.Authority).ToLowerInvariant();

        public static bool ServerMatches(VIConnection c, string host, int? port)
        {
            var hostOk = string.Equals(c.Server, host, StringComparison.OrdinalIgnoreCase)
                || string.Equals(c.ServiceUri.Host, host, StringComparison.OrdinalIgnoreCase);
            return hostOk && (port == null || port == c.ServiceUri.Port || port == c.Port);
        }
    }
}
