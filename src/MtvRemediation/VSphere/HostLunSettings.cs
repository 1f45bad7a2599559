using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using System.Xml.Linq;
using static MtvRemediation.VSphere.VimXml;

namespace MtvRemediation.VSphere
{
    /// <summary>A host's Disk.MaxLUN and the LUN numbers it sees, as vCenter reports them.</summary>
    internal sealed class HostLunState
    {
        public HostLunState(MoRef host) { Host = host; }

        public MoRef Host { get; }
        public string Name { get; internal set; } = "";

        /// <summary>The host's OptionManager (configManager.advancedOption).</summary>
        public MoRef? OptionManager { get; internal set; }

        /// <summary>Disk.MaxLUN; null when it could not be read (<see cref="MaxLunProblem"/>).</summary>
        public long? MaxLun { get; internal set; }
        public string? MaxLunProblem { get; internal set; }

        /// <summary>The highest LUN number in config.storageDevice.scsiTopology; null when the host reports none.</summary>
        public int? HighestLun { get; internal set; }
        public int LunCount { get; internal set; }
    }

    /// <summary>
    /// Disk.MaxLUN through vCenter (Broadcom KB 342823; forklift's copy-offload README
    /// "Troubleshooting"): LUN numbers at or above it stay invisible to the host after a rescan.
    /// Read through each host's OptionManager (<c>QueryOptions</c>), with the LUN numbers of
    /// <c>config.storageDevice.scsiTopology</c> (HostScsiTopologyLun.lun) read for every host in
    /// one property read: one round trip for the hosts plus one per host.
    /// </summary>
    internal static class HostLunSettings
    {
        public const string MaxLunKey = "Disk.MaxLUN";

        public static async Task<IReadOnlyList<HostLunState>> ReadAsync(VimSoapClient soap, IReadOnlyCollection<MoRef> hosts, CancellationToken ct)
        {
            var states = hosts.Distinct().ToDictionary(h => h, h => new HostLunState(h));
            if (states.Count == 0) return Array.Empty<HostLunState>();
            var read = await soap.RetrievePropertiesAsync(
                VimSoapClient.PropertySpecFor("HostSystem", "name", "configManager.advancedOption", "config.storageDevice.scsiTopology"),
                states.Keys.Select(h => VimSoapClient.ObjectSpec(h)), ct).ConfigureAwait(false);
            foreach (var o in read)
            {
                if (!states.TryGetValue(o.Obj, out var s)) continue;
                s.Name = o.Get("name")?.Value ?? "";
                if (o.Get("configManager.advancedOption") is XElement om) s.OptionManager = ParseRef(om);
                var luns = LunNumbers(o.Get("config.storageDevice.scsiTopology"));
                s.LunCount = luns.Count;
                s.HighestLun = luns.Count == 0 ? (int?)null : luns.Max();
            }
            foreach (var s in states.Values)
            {
                if (s.OptionManager == null) { s.MaxLunProblem = "vCenter returned no configManager.advancedOption for the host"; continue; }
                try
                {
                    var body = await soap.InvokeAsync(E("QueryOptions", Ref("_this", s.OptionManager.Value), E("name", MaxLunKey)), ct).ConfigureAwait(false);
                    var option = body.Children("returnval").FirstOrDefault(r => r.ChildValue("key") == MaxLunKey);
                    var text = option?.ChildValue("value");
                    if (text != null && long.TryParse(text.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v)) s.MaxLun = v;
                    else s.MaxLunProblem = option == null ? $"QueryOptions returned no {MaxLunKey}" : $"{MaxLunKey} is not a number: '{text}'";
                }
                catch (VimFaultException ex)
                {
                    s.MaxLunProblem = $"QueryOptions({MaxLunKey}) failed: {ex.Message}";
                }
            }
            return states.Values.ToList();
        }

        /// <summary>
        /// The hosts of <paramref name="names"/> in this vCenter's inventory (one container-view read),
        /// by the name as given; names vCenter does not know are absent.
        /// </summary>
        public static async Task<IReadOnlyDictionary<string, MoRef>> FindHostsAsync(VimSoapClient soap, IReadOnlyCollection<string> names, CancellationToken ct)
        {
            var all = await soap.RetrieveAllAsync("HostSystem", new[] { "name" }, ct).ConfigureAwait(false);
            var found = new Dictionary<string, MoRef>(StringComparer.OrdinalIgnoreCase);
            foreach (var wanted in names)
            {
                var match = all.FirstOrDefault(h => h.Get("name")?.Value is string n && VCenterHostConnectionStateSource.SameHost(n, wanted));
                if (match != null) found[wanted] = match.Obj;
            }
            return found;
        }

        /// <summary>UpdateOptions of Disk.MaxLUN on the host's OptionManager (an integer option: xsd:long).</summary>
        public static async Task SetMaxLunAsync(VimSoapClient soap, HostLunState state, long value, CancellationToken ct)
        {
            var om = state.OptionManager ?? throw new InvalidOperationException("The host's OptionManager was not read.");
            var change = E("changedValue", Type("OptionValue"), E("key", MaxLunKey),
                new XElement(Vim + "value", Type("xsd:long"), value.ToString(CultureInfo.InvariantCulture)));
            await soap.InvokeAsync(E("UpdateOptions", Ref("_this", om), change), ct).ConfigureAwait(false);
        }

        // HostScsiTopology: adapter[] > target[] > lun[] (HostScsiTopologyLun) > lun (the number).
        private static List<int> LunNumbers(XElement? topology)
        {
            var list = new List<int>();
            if (topology == null) return list;
            foreach (var lun in topology.Descendants(Vim + "lun"))
                if (lun.Parent?.Name == Vim + "lun" && int.TryParse(lun.Value.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var n))
                    list.Add(n);
            return list;
        }
    }
}
