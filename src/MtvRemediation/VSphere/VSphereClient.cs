using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using System.Xml.Linq;
using static MtvRemediation.VSphere.VimXml;

namespace MtvRemediation.VSphere
{
    /// <summary><see cref="IVSphereClient"/> over one <see cref="VimSoapClient"/> session.</summary>
    internal sealed class VSphereClient : IVSphereClient
    {
        internal static readonly string[] VmPaths =
        {
            "name", "runtime.powerState", "runtime.host", "guest.toolsRunningStatus", "config.changeTrackingEnabled",
            "config.hardware.device", "config.extraConfig", "config.template", "snapshot",
        };

        private readonly VimSoapClient _soap;
        private readonly SemaphoreSlim _dcGate = new SemaphoreSlim(1, 1);
        private Dictionary<MoRef, MoRef>? _datacenterOfDatastore;

        public VSphereClient(VimSoapClient soap, string server)
        {
            _soap = soap;
            Server = server;
        }

        public string Server { get; }

        /// <summary>The session's vCenter user (set by the connection that owns the client).</summary>
        public string UserName { get; internal set; } = "";

        public VimSoapClient Soap => _soap;

        public TimeSpan TaskTimeout { get; set; } = TimeSpan.FromMinutes(10);

        public async Task<IReadOnlyList<VmInfo>> GetVmsAsync(IReadOnlyCollection<MoRef> vms, CancellationToken ct)
        {
            if (vms.Count == 0) return Array.Empty<VmInfo>();
            IReadOnlyList<ObjectContent> contents;
            try
            {
                contents = await _soap.RetrievePropertiesAsync(VimSoapClient.PropertySpecFor("VirtualMachine", VmPaths), vms.Select(v => VimSoapClient.ObjectSpec(v)), ct).ConfigureAwait(false);
            }
            catch (VimFaultException ex) when (ex.FaultName == "ManagedObjectNotFound" && vms.Count > 1)
            {
                // One stale reference fails the whole batch: read one by one to keep the rest.
                var list = new List<ObjectContent>();
                foreach (var vm in vms)
                {
                    try { list.AddRange(await _soap.RetrievePropertiesAsync(VimSoapClient.PropertySpecFor("VirtualMachine", VmPaths), new[] { VimSoapClient.ObjectSpec(vm) }, ct).ConfigureAwait(false)); }
                    catch (VimFaultException inner) when (inner.FaultName == "ManagedObjectNotFound") { }
                }
                contents = list;
            }
            catch (VimFaultException ex) when (ex.FaultName == "ManagedObjectNotFound")
            {
                return Array.Empty<VmInfo>();
            }

            var infos = contents.Select(ParseVm).ToList();

            // Second batch: names of hosts and datastores the VMs reference (one call for all of them).
            var hosts = infos.Where(i => !i.Host.IsEmpty).Select(i => i.Host).Distinct().ToList();
            var dss = infos.SelectMany(i => i.Disks).Where(d => !d.DatastoreMoRef.IsEmpty).Select(d => d.DatastoreMoRef).Distinct().ToList();
            var hostNames = new Dictionary<MoRef, string>();
            var dsInfos = new Dictionary<MoRef, DatastoreInfo>();
            if (hosts.Count + dss.Count > 0)
            {
                var related = await _soap.RetrievePropertiesAsync(
                    new[] { VimSoapClient.PropertySpecFor("HostSystem", "name"), VimSoapClient.PropertySpecFor("Datastore", "name", "browser", "summary.url", "summary.type") },
                    hosts.Concat(dss).Select(r => VimSoapClient.ObjectSpec(r)), ct).ConfigureAwait(false);
                var dcMap = await GetDatacenterMapAsync(ct).ConfigureAwait(false);
                foreach (var oc in related)
                {
                    if (oc.Obj.Type == "HostSystem") hostNames[oc.Obj] = oc.Get("name")?.Value ?? oc.Obj.Value;
                    else if (oc.Obj.Type == "Datastore")
                    {
                        var browser = oc.Get("browser");
                        dsInfos[oc.Obj] = new DatastoreInfo
                        {
                            MoRef = oc.Obj,
                            Name = oc.Get("name")?.Value ?? "",
                            Browser = browser == null ? default : ParseRef(browser),
                            Url = oc.Get("summary.url")?.Value ?? "",
                            Type = oc.Get("summary.type")?.Value ?? "",
                            Datacenter = dcMap.TryGetValue(oc.Obj, out var dc) ? dc : default,
                        };
                    }
                }
            }
            foreach (var i in infos)
            {
                if (!i.Host.IsEmpty && hostNames.TryGetValue(i.Host, out var hn)) i.HostName = hn;
                foreach (var d in i.Disks)
                {
                    if (!d.DatastoreMoRef.IsEmpty && dsInfos.TryGetValue(d.DatastoreMoRef, out var ds))
                    {
                        i.Datastores[ds.MoRef] = ds;
                        if (d.Datastore.Length == 0) d.Datastore = ds.Name;
                    }
                }
            }
            return infos;
        }

        /// <summary>
        /// The names of hosts given by moRef, in one round trip per host at most (a host vCenter no
        /// longer knows is left out): the host a clone ran on, as MTV names it, to the name SSH reaches.
        /// </summary>
        public async Task<IReadOnlyDictionary<MoRef, string>> GetHostNamesAsync(IReadOnlyCollection<MoRef> hosts, CancellationToken ct)
        {
            var names = new Dictionary<MoRef, string>();
            foreach (var host in hosts.Distinct())
            {
                try
                {
                    foreach (var oc in await _soap.RetrievePropertiesAsync(VimSoapClient.PropertySpecFor("HostSystem", "name"), new[] { VimSoapClient.ObjectSpec(host) }, ct).ConfigureAwait(false))
                        if (oc.Get("name")?.Value is string name && name.Length > 0) names[oc.Obj] = name;
                }
                catch (VimFaultException ex) when (ex.FaultName == "ManagedObjectNotFound") { }
            }
            return names;
        }

        /// <summary>Datastore -> datacenter, read once per session (DeleteDatastoreFile_Task needs the datacenter on vCenter).</summary>
        private async Task<Dictionary<MoRef, MoRef>> GetDatacenterMapAsync(CancellationToken ct)
        {
            var map = _datacenterOfDatastore;
            if (map != null) return map;
            await _dcGate.WaitAsync(ct).ConfigureAwait(false);
            try
            {
                if (_datacenterOfDatastore != null) return _datacenterOfDatastore;
                map = new Dictionary<MoRef, MoRef>();
                foreach (var dc in await _soap.RetrieveAllAsync("Datacenter", new[] { "datastore" }, ct).ConfigureAwait(false))
                {
                    var list = dc.Get("datastore");
                    if (list == null) continue;
                    foreach (var r in list.Elements()) map[ParseRef(r)] = dc.Obj;
                }
                _datacenterOfDatastore = map;
                return map;
            }
            finally { _dcGate.Release(); }
        }

        internal static VmInfo ParseVm(ObjectContent oc)
        {
            var vm = new VmInfo { MoRef = oc.Obj, Name = oc.Get("name")?.Value ?? oc.Obj.Value };
            vm.MissingProperties.AddRange(oc.Missing);
            vm.PowerState = oc.Get("runtime.powerState")?.Value ?? "";
            var host = oc.Get("runtime.host");
            if (host != null) vm.Host = ParseRef(host);
            vm.ToolsRunningStatus = oc.Get("guest.toolsRunningStatus")?.Value ?? "";
            vm.ChangeTrackingEnabled = string.Equals(oc.Get("config.changeTrackingEnabled")?.Value?.Trim(), "true", StringComparison.OrdinalIgnoreCase);
            vm.IsTemplate = string.Equals(oc.Get("config.template")?.Value?.Trim(), "true", StringComparison.OrdinalIgnoreCase);
            var snap = oc.Get("snapshot");
            if (snap != null) vm.SnapshotCount = snap.Descendants().Count(e => e.Name == Vim + "rootSnapshotList" || e.Name == Vim + "childSnapshotList");

            var extra = oc.Get("config.extraConfig");
            if (extra != null)
            {
                foreach (var ov in extra.Elements())
                {
                    var key = ov.ChildValue("key");
                    if (key != null && key.EndsWith(".ctkEnabled", StringComparison.OrdinalIgnoreCase)) vm.CtkExtraConfig[key] = ov.ChildValue("value") ?? "";
                    else if (key == VmInfo.ResetRecordKey) vm.ResetRecordValue = ov.ChildValue("value");
                }
            }

            var devices = oc.Get("config.hardware.device");
            if (devices != null)
            {
                var all = devices.Elements().ToList();
                var controllers = new Dictionary<int, (string Kind, int Bus)>();
                foreach (var d in all)
                {
                    var kind = ControllerKind(XsiType(d) ?? "");
                    var key = d.ChildInt("key");
                    var bus = d.ChildInt("busNumber");
                    if (kind != null && key != null && bus != null) controllers[key.Value] = (kind, bus.Value);
                }
                foreach (var d in all.Where(e => XsiType(e) == "VirtualDisk"))
                {
                    var backing = d.Child("backing");
                    var file = backing?.ChildValue("fileName") ?? "";
                    var disk = new VmDiskInfo
                    {
                        Key = d.ChildInt("key") ?? 0,
                        Label = d.Child("deviceInfo")?.ChildValue("label") ?? "",
                        FileName = file,
                        UnitNumber = d.ChildInt("unitNumber") ?? -1,
                        IsPhysicalRdm = backing != null && (XsiType(backing) ?? "").StartsWith("VirtualDiskRawDiskMapping", StringComparison.Ordinal)
                            && backing.ChildValue("compatibilityMode") == "physicalMode",
                    };
                    var dsRef = backing?.Child("datastore");
                    if (dsRef != null) disk.DatastoreMoRef = ParseRef(dsRef);
                    if (DatastorePath.TryParse(file, out var p)) disk.Datastore = p!.Datastore;
                    var ck = d.ChildInt("controllerKey");
                    if (ck != null && controllers.TryGetValue(ck.Value, out var c))
                    {
                        disk.ControllerKind = c.Kind;
                        disk.BusNumber = c.Bus;
                    }
                    vm.Disks.Add(disk);
                }
            }
            return vm;
        }

        /// <summary>extraConfig device prefix for a controller's xsi:type, or null when it is not a disk controller.</summary>
        internal static string? ControllerKind(string xsiType)
        {
            switch (xsiType)
            {
                case "ParaVirtualSCSIController":
                case "VirtualLsiLogicController":
                case "VirtualLsiLogicSASController":
                case "VirtualBusLogicController":
                case "VirtualSCSIController":
                    return "scsi";
                case "VirtualAHCIController":
                case "VirtualSATAController":
                    return "sata";
                case "VirtualNVMEController":
                    return "nvme";
                case "VirtualIDEController":
                    return "ide";
                default:
                    return null;
            }
        }

        public async Task<(string PowerState, bool ChangeTrackingEnabled)> GetVmStateAsync(MoRef vm, CancellationToken ct)
        {
            var objs = await _soap.RetrievePropertiesAsync(VimSoapClient.PropertySpecFor("VirtualMachine", "runtime.powerState", "config.changeTrackingEnabled"), new[] { VimSoapClient.ObjectSpec(vm) }, ct).ConfigureAwait(false);
            var o = objs.FirstOrDefault();
            var power = o?.Get("runtime.powerState")?.Value;
            if (string.IsNullOrEmpty(power)) throw await MissingObjectAsync(vm, ct).ConfigureAwait(false);
            var cbt = string.Equals(o!.Get("config.changeTrackingEnabled")?.Value?.Trim(), "true", StringComparison.OrdinalIgnoreCase);
            return (power!, cbt);
        }

        public async Task<IReadOnlyDictionary<MoRef, (string PowerState, bool ChangeTrackingEnabled)>> GetVmStatesAsync(IReadOnlyCollection<MoRef> vms, CancellationToken ct)
        {
            var states = new Dictionary<MoRef, (string, bool)>();
            if (vms.Count == 0) return states;
            IReadOnlyList<ObjectContent> objs;
            try
            {
                objs = await _soap.RetrievePropertiesAsync(VimSoapClient.PropertySpecFor("VirtualMachine", "runtime.powerState", "config.changeTrackingEnabled"), vms.Select(v => VimSoapClient.ObjectSpec(v)), ct).ConfigureAwait(false);
            }
            catch (VimFaultException ex) when (ex.FaultName == "ManagedObjectNotFound")
            {
                return states; // one stale reference fails the batch: the callers read one by one
            }
            foreach (var o in objs)
            {
                var power = o.Get("runtime.powerState")?.Value;
                if (string.IsNullOrEmpty(power)) continue;
                states[o.Obj] = (power!, string.Equals(o.Get("config.changeTrackingEnabled")?.Value?.Trim(), "true", StringComparison.OrdinalIgnoreCase));
            }
            return states;
        }

        // A VM always has runtime.powerState: an answer without it must not read as "CBT off". vcsim answers
        // RetrieveProperties on a dead session with empty objects (vCenter faults NotAuthenticated).
        private async Task<Exception> MissingObjectAsync(MoRef obj, CancellationToken ct)
        {
            if (await _soap.GetCurrentSessionUserAsync(ct).ConfigureAwait(false) == null)
                return new VISessionExpiredException(_soap.ServiceUri.Host,
                    $"The vCenter session to {_soap.ServiceUri.Host} is no longer valid (expired or logged out); log in again.", "RetrieveProperties");
            return new VimFaultException("ManagedObjectNotFound", $"The server did not return {obj.Value}; it may have been deleted.", "RetrieveProperties");
        }

        public async Task<IReadOnlyList<DatastoreFile>> SearchFolderAsync(DatastoreInfo datastore, string folder, string matchPattern, CancellationToken ct)
        {
            var folderPath = folder.Trim('/').Length == 0 ? $"[{datastore.Name}]" : $"[{datastore.Name}] {folder.Trim('/')}";
            // No query: a plain FileInfo per match (a VmDiskFileQuery would hide -ctk and -flat files).
            // vcsim needs matchPattern, and FileQueryFlags' first three fields are required by the schema.
            var req = E("SearchDatastore_Task", Ref("_this", datastore.Browser), E("datastorePath", folderPath),
                E("searchSpec",
                    E("details", E("fileType", "false"), E("fileSize", "true"), E("modification", "false"), E("fileOwner", "false")),
                    E("matchPattern", matchPattern)));
            XElement? result;
            try
            {
                result = await _soap.RunTaskAsync(req, TaskTimeout, ct).ConfigureAwait(false);
            }
            catch (VimFaultException ex) when (ex.FaultName == "FileNotFound")
            {
                return Array.Empty<DatastoreFile>();
            }
            if (result == null) return Array.Empty<DatastoreFile>();
            var found = new List<DatastoreFile>();
            foreach (var f in result.Children("file"))
            {
                var name = f.ChildValue("path");
                if (string.IsNullOrEmpty(name)) continue;
                found.Add(new DatastoreFile(DatastorePath.Combine(datastore.Name, folder, name!), f.ChildLong("fileSize")));
            }
            return found;
        }

        /// <summary>
        /// Files matching <paramref name="matchPattern"/> in <paramref name="root"/> and every folder
        /// below it, in one SearchDatastoreSubFolders_Task: folder (as in a datastore path, no
        /// leading or trailing '/') -> its files. A folder the answer does not name is absent (the
        /// caller searches it on its own). vcsim writes folderPath as "[ds]/folder", vCenter as
        /// "[ds] folder/": both parse to the same folder.
        /// </summary>
        public async Task<IReadOnlyDictionary<string, IReadOnlyList<DatastoreFile>>> SearchSubFoldersAsync(DatastoreInfo datastore, string root, string matchPattern, CancellationToken ct)
        {
            var rootPath = root.Trim('/').Length == 0 ? $"[{datastore.Name}]" : $"[{datastore.Name}] {root.Trim('/')}";
            var req = E("SearchDatastoreSubFolders_Task", Ref("_this", datastore.Browser), E("datastorePath", rootPath),
                E("searchSpec",
                    E("details", E("fileType", "false"), E("fileSize", "true"), E("modification", "false"), E("fileOwner", "false")),
                    E("matchPattern", matchPattern)));
            var found = new Dictionary<string, IReadOnlyList<DatastoreFile>>(StringComparer.Ordinal);
            XElement? result;
            try
            {
                result = await _soap.RunTaskAsync(req, TaskTimeout, ct).ConfigureAwait(false);
            }
            catch (VimFaultException ex) when (ex.FaultName == "FileNotFound")
            {
                return found;
            }
            if (result == null) return found;
            foreach (var r in result.Elements())
            {
                if (!DatastorePath.TryParse(r.ChildValue("folderPath"), out var fp) || fp!.Datastore != datastore.Name) continue;
                var folder = fp.Path.Trim('/');
                var files = new List<DatastoreFile>();
                foreach (var f in r.Children("file"))
                {
                    var name = f.ChildValue("path");
                    if (string.IsNullOrEmpty(name)) continue;
                    files.Add(new DatastoreFile(DatastorePath.Combine(datastore.Name, folder, name!), f.ChildLong("fileSize")));
                }
                found[folder] = files;
            }
            return found;
        }

        public async Task DeleteFileAsync(DatastorePath file, MoRef datacenter, CancellationToken ct)
        {
            var sc = _soap.ServiceContent!;
            var req = E("DeleteDatastoreFile_Task", Ref("_this", sc.FileManager), E("name", file.ToString()),
                datacenter.IsEmpty ? null : Ref("datacenter", datacenter));
            await _soap.RunTaskAsync(req, TaskTimeout, ct).ConfigureAwait(false);
        }

        public async Task<(string PowerState, bool ChangeTrackingEnabled)?> SetChangeTrackingAsync(MoRef vm, bool enabled, IReadOnlyList<string> ctkEnabledKeys, ExtraConfigValue? also, CancellationToken ct)
        {
            // VirtualMachineConfigSpec is an XML sequence: extraConfig comes before changeTrackingEnabled.
            var extra = ctkEnabledKeys.Select(k => Option(k, Bool(enabled))).ToList();
            if (also != null) extra.Add(Option(also.Key, also.Value));
            var req = E("ReconfigVM_Task", Ref("_this", vm),
                E("spec", extra, E("changeTrackingEnabled", Bool(enabled))));
            return VmState(await _soap.RunTaskReadingAsync(req, vm, VmStatePaths, TaskTimeout, ct).ConfigureAwait(false));
        }

        public async Task SetExtraConfigAsync(MoRef vm, ExtraConfigValue value, CancellationToken ct)
        {
            var req = E("ReconfigVM_Task", Ref("_this", vm), E("spec", Option(value.Key, value.Value)));
            await _soap.RunTaskAsync(req, TaskTimeout, ct).ConfigureAwait(false);
        }

        private static XElement Option(string key, string value) =>
            E("extraConfig", Type("OptionValue"), E("key", key), new XElement(Vim + "value", Type("xsd:string"), value));

        public async Task<IReadOnlyList<VmPowerEvent>> GetPowerEventsAsync(MoRef vm, DateTime sinceUtc, CancellationToken ct)
        {
            var em = _soap.ServiceContent?.EventManager ?? default;
            if (em.IsEmpty) return Array.Empty<VmPowerEvent>();
            // vCenter filters by time too; vcsim 0.24 ignores EventFilterSpec.time, so the time is also checked here.
            // Sources: docs/field-sources.md#6-changed-block-tracking.
            var req = E("QueryEvents", Ref("_this", em),
                E("filter",
                    E("entity", Ref("entity", vm), E("recursion", "self")),
                    E("time", E("beginTime", sinceUtc.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture))),
                    E("eventTypeId", "VmPoweredOnEvent"), E("eventTypeId", "VmPoweredOffEvent")));
            var body = await _soap.InvokeAsync(req, ct).ConfigureAwait(false);
            var events = new List<VmPowerEvent>();
            foreach (var rv in body.Elements(Vim + "returnval"))
            {
                var type = (string?)rv.Attribute(Xsi + "type") ?? "";
                if (type.IndexOf(':') >= 0) type = type.Substring(type.IndexOf(':') + 1);
                if (type != "VmPoweredOnEvent" && type != "VmPoweredOffEvent") continue;
                if (!DateTime.TryParse(rv.ChildValue("createdTime"), System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AdjustToUniversal, out var time)) continue;
                if (time < sinceUtc) continue;
                events.Add(new VmPowerEvent(time, type == "VmPoweredOnEvent" ? "poweredOn" : "poweredOff", rv.ChildValue("userName") ?? ""));
            }
            return events.OrderBy(e => e.TimeUtc).ToList();
        }

        public async Task ShutdownGuestAsync(MoRef vm, CancellationToken ct)
        {
            await _soap.InvokeAsync(E("ShutdownGuest", Ref("_this", vm)), ct).ConfigureAwait(false);
        }

        public async Task PowerOffAsync(MoRef vm, CancellationToken ct)
        {
            await _soap.RunTaskAsync(E("PowerOffVM_Task", Ref("_this", vm)), TaskTimeout, ct).ConfigureAwait(false);
        }

        public async Task<(string PowerState, bool ChangeTrackingEnabled)?> PowerOnAsync(MoRef vm, CancellationToken ct)
        {
            return VmState(await _soap.RunTaskReadingAsync(E("PowerOnVM_Task", Ref("_this", vm)), vm, VmStatePaths, TaskTimeout, ct).ConfigureAwait(false));
        }

        private static readonly string[] VmStatePaths = { "runtime.powerState", "config.changeTrackingEnabled" };

        // The VM's power and CBT state from a read that came with a task poll; null when it did not come back.
        private static (string PowerState, bool ChangeTrackingEnabled)? VmState(ObjectContent? o)
        {
            var power = o?.Get("runtime.powerState")?.Value;
            if (string.IsNullOrEmpty(power)) return null;
            var cbt = string.Equals(o!.Get("config.changeTrackingEnabled")?.Value?.Trim(), "true", StringComparison.OrdinalIgnoreCase);
            return (power!, cbt);
        }

        /// <summary>
        /// The VMs whose virtual disks are backed by <paramref name="datastorePaths"/> (<c>[ds] folder/file.vmdk</c>):
        /// one read of every VM's devices. For a finding that names a disk, not a VM.
        /// </summary>
        public async Task<IReadOnlyList<(MoRef MoRef, string Name, string Disk)>> FindVmsByDiskAsync(IReadOnlyCollection<string> datastorePaths, CancellationToken ct)
        {
            var wanted = new HashSet<string>(datastorePaths, StringComparer.Ordinal);
            var all = await _soap.RetrieveAllAsync("VirtualMachine", new[] { "name", "config.hardware.device" }, ct).ConfigureAwait(false);
            var found = new List<(MoRef, string, string)>();
            foreach (var o in all)
            {
                var devices = o.Get("config.hardware.device");
                if (devices == null) continue;
                foreach (var d in devices.Elements().Where(e => XsiType(e) == "VirtualDisk"))
                {
                    var file = d.Child("backing")?.ChildValue("fileName");
                    if (file != null && wanted.Contains(file)) found.Add((o.Obj, o.Get("name")?.Value ?? o.Obj.Value, file));
                }
            }
            return found;
        }

        /// <summary>Datastore name by the UUID in its URL (<c>ds:///vmfs/volumes/&lt;uuid&gt;/</c>) and by its name: how an ESXi path names a datastore.</summary>
        public async Task<IReadOnlyDictionary<string, string>> GetDatastoreNamesByVolumeAsync(CancellationToken ct)
        {
            var map = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var o in await _soap.RetrieveAllAsync("Datastore", new[] { "name", "summary.url" }, ct).ConfigureAwait(false))
            {
                var name = o.Get("name")?.Value;
                if (name == null) continue;
                map[name] = name;
                var url = o.Get("summary.url")?.Value;
                var m = url == null ? null : System.Text.RegularExpressions.Regex.Match(url, @"/vmfs/volumes/([^/]+)/?$");
                if (m != null && m.Success) map[m.Groups[1].Value] = name;
            }
            return map;
        }

        /// <summary>Names of every VM in the inventory (one ContainerView read), for name and wildcard look-ups.</summary>
        public async Task<IReadOnlyList<(MoRef MoRef, string Name)>> GetAllVmNamesAsync(CancellationToken ct)
        {
            var all = await _soap.RetrieveAllAsync("VirtualMachine", new[] { "name" }, ct).ConfigureAwait(false);
            return all.Select(o => (o.Obj, o.Get("name")?.Value ?? "")).ToList();
        }

    }
}
