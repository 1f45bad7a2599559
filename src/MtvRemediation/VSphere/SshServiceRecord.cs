using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Threading;
using System.Xml.Linq;
using MtvRemediation.Infrastructure;
using static MtvRemediation.VSphere.VimXml;

namespace MtvRemediation.VSphere
{
    /// <summary>
    /// The durable record of SSH on demand: "this module started TSM-SSH on this host at T for
    /// vCenter user U, from process P on workstation W". It is written before StartService and
    /// cleared after StopService, so a run that dies in between (a killed client, a session that
    /// ends without Disconnect-EsxiShell) leaves it behind for any later run to find.
    /// <para>
    /// Where it lives: a custom attribute of the HostSystem on vCenter (CustomFieldsManager). It must
    /// exist before SSH runs, and before SSH runs the only way to the host is vCenter: a file on the
    /// host (/var/run) could be written only after the start and a first login, leaving exactly the
    /// window the record exists to close. vCenter is also where every later run, from any
    /// workstation, already looks (HostServiceSystem), and admins see the attribute in the client.
    /// A reboot returns TSM-SSH to its policy and leaves the record: a record whose SSH is stopped is
    /// simply cleared.
    /// </para>
    /// <para>
    /// The window that remains: whether the run that wrote it has ended is known only on its own
    /// workstation (its process and runspace). A record from another workstation counts as ended
    /// only after <see cref="ForeignRunLifetime"/>; until then SSH started by a killed run there
    /// stays running, listed by <see cref="SshServiceRecords.ReadPending"/>.
    /// </para>
    /// </summary>
    internal sealed class SshServiceRecord
    {
        /// <summary>The custom attribute's name (on HostSystem objects).</summary>
        public const string FieldName = "mtvremediation.sshServiceStarted";

        /// <summary>No command of this module keeps SSH a day: a record from another workstation older than that is of an ended run.</summary>
        public static readonly TimeSpan ForeignRunLifetime = TimeSpan.FromHours(24);

        public SshServiceRecord(DateTime startedAtUtc, string user, string workstation, int processId, string run)
        {
            StartedAtUtc = startedAtUtc;
            User = user;
            Workstation = workstation;
            ProcessId = processId;
            Run = run;
        }

        public DateTime StartedAtUtc { get; }

        /// <summary>The vCenter user of the connection that started SSH.</summary>
        public string User { get; }

        public string Workstation { get; }
        public int ProcessId { get; }

        /// <summary>The id of the runspace's SSH-on-demand state that started it (<see cref="SshServiceController"/>).</summary>
        public string Run { get; }

        /// <summary>A record for a start by this process now.</summary>
        public static SshServiceRecord ForThisProcess(string user, string run)
        {
            using var self = Process.GetCurrentProcess();
            return new SshServiceRecord(DateTime.UtcNow, user, Environment.MachineName, self.Id, run);
        }

        /// <summary><c>startedAt=2026-12-06T15:40:00Z user=... workstation=... pid=... run=...</c>, values URI-escaped.</summary>
        public string Format() => string.Join(" ",
            "startedAt=" + StartedAtUtc.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
            "user=" + Uri.EscapeDataString(User),
            "workstation=" + Uri.EscapeDataString(Workstation),
            "pid=" + ProcessId.ToString(CultureInfo.InvariantCulture),
            "run=" + Uri.EscapeDataString(Run));

        /// <summary>The record in an attribute value, or null for an empty (cleared) or foreign value.</summary>
        public static SshServiceRecord? Parse(string? value)
        {
            if (string.IsNullOrWhiteSpace(value)) return null;
            var fields = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var part in value!.Split(new[] { ' ' }, StringSplitOptions.RemoveEmptyEntries))
            {
                var eq = part.IndexOf('=');
                if (eq <= 0) return null;
                fields[part.Substring(0, eq)] = Uri.UnescapeDataString(part.Substring(eq + 1));
            }
            if (!fields.TryGetValue("startedAt", out var at) || !fields.TryGetValue("pid", out var pid)
                || !DateTime.TryParseExact(at, "yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var startedAt)
                || !int.TryParse(pid, NumberStyles.None, CultureInfo.InvariantCulture, out var processId))
                return null;
            return new SshServiceRecord(startedAt, fields.TryGetValue("user", out var u) ? u : "",
                fields.TryGetValue("workstation", out var w) ? w : "", processId, fields.TryGetValue("run", out var r) ? r : "");
        }

        /// <summary>
        /// True when the run that wrote the record has ended: on this workstation, when its process is
        /// gone (or the pid now names a younger process) or, in this process, when its runspace has
        /// closed; from elsewhere, only once it is older than <see cref="ForeignRunLifetime"/>.
        /// </summary>
        public bool IsOfEndedRun(DateTime nowUtc, Func<string, bool> runIsLiveHere)
        {
            if (!string.Equals(Workstation, Environment.MachineName, StringComparison.OrdinalIgnoreCase))
                return nowUtc - StartedAtUtc > ForeignRunLifetime;
            using var self = Process.GetCurrentProcess();
            if (ProcessId == self.Id) return !runIsLiveHere(Run);
            try
            {
                using var p = Process.GetProcessById(ProcessId);
                // The record is written after its process started; a process that started later reuses the pid.
                return p.StartTime.ToUniversalTime() > StartedAtUtc.AddSeconds(1);
            }
            catch (ArgumentException) { return true; }            // no such process
            catch (InvalidOperationException) { return true; }    // it exited meanwhile
            catch (Exception) { return false; }                   // not ours to inspect: assume it lives
        }

        /// <summary>"alice@vsphere.local on ws01 (process 4242) at 2026-12-06 15:40:00Z"</summary>
        public string Who => $"{User} on {Workstation} (process {ProcessId}) at {StartedAtUtc.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture)}";
    }

    /// <summary>
    /// The record's I/O on vCenter: the custom field definition (created on first write), the value
    /// on one host (SetField), and the listing as <see cref="PendingOperation"/> objects.
    /// </summary>
    internal static class SshServiceRecords
    {
        /// <summary>The HostSystem property that holds custom attribute values (ExtensibleManagedObject.value).</summary>
        public const string ValueProperty = "value";

        /// <summary>The key of the record's field definition, or null when it does not exist (and <paramref name="create"/> is false).</summary>
        public static int? FieldKey(VIConnection connection, bool create, CancellationToken ct)
        {
            var soap = connection.Client.Soap;
            var cfm = soap.ServiceContent?.CustomFieldsManager ?? default;
            if (cfm.IsEmpty)
                throw new VimTransportException($"{connection.Server} has no CustomFieldsManager (not a vCenter?): the SSH record cannot be kept there.");
            var key = ReadKey(connection, cfm, ct);
            if (key != null || !create) return key;
            try
            {
                var body = soap.InvokeAsync(E("AddCustomFieldDef", Ref("_this", cfm), E("name", SshServiceRecord.FieldName), E("moType", "HostSystem")), ct).GetAwaiter().GetResult();
                return body.Child("returnval")?.ChildInt("key") ?? ReadKey(connection, cfm, ct);
            }
            catch (VimFaultException ex) when (ex.FaultName == "DuplicateName")
            {
                return ReadKey(connection, cfm, ct); // another run created it meanwhile
            }
        }

        private static int? ReadKey(VIConnection connection, MoRef cfm, CancellationToken ct)
        {
            var fields = connection.Client.Soap.RetrievePropertiesAsync(VimSoapClient.PropertySpecFor("CustomFieldsManager", "field"),
                new[] { VimSoapClient.ObjectSpec(cfm) }, ct).GetAwaiter().GetResult().FirstOrDefault()?.Get("field");
            var def = fields?.Elements().FirstOrDefault(f => f.ChildValue("name") == SshServiceRecord.FieldName
                && (string.IsNullOrEmpty(f.ChildValue("managedObjectType")) || f.ChildValue("managedObjectType") == "HostSystem"));
            return def?.ChildInt("key");
        }

        /// <summary>Sets the record on a host ("" clears it).</summary>
        public static void Set(VIConnection connection, MoRef host, int key, string value, CancellationToken ct)
        {
            var cfm = connection.Client.Soap.ServiceContent!.CustomFieldsManager;
            connection.Client.Soap.InvokeAsync(E("SetField", Ref("_this", cfm), Ref("entity", host), E("key", key.ToString(CultureInfo.InvariantCulture)), E("value", value)), ct).GetAwaiter().GetResult();
        }

        /// <summary>
        /// The record in a host's custom attribute values. The last value with the key counts:
        /// vCenter keeps one per key; the lab's vcsim (govmomi 0.24) appends one per SetField.
        /// </summary>
        public static SshServiceRecord? Find(XElement? values, int? key)
        {
            if (values == null || key == null) return null;
            var value = values.Elements().LastOrDefault(v => v.ChildInt("key") == key)?.ChildValue("value");
            return SshServiceRecord.Parse(value);
        }

        /// <summary>
        /// Every host with a record, as <see cref="PendingOperation"/> (Kind SshServiceStarted): one
        /// field read and one host read per connection; nothing is changed.
        /// </summary>
        public static IReadOnlyList<PendingOperation> ReadPending(IReadOnlyList<VIConnection> connections, Func<string, bool> runIsLiveHere, CancellationToken ct)
        {
            var pending = new List<PendingOperation>();
            foreach (var c in connections)
            {
                var key = FieldKey(c, create: false, ct);
                if (key == null) continue;
                foreach (var host in c.Client.Soap.RetrieveAllAsync("HostSystem", new[] { "name", ValueProperty }, ct).GetAwaiter().GetResult())
                {
                    var record = Find(host.Get(ValueProperty), key);
                    var name = host.Get("name")?.Value;
                    if (record == null || name == null) continue;
                    pending.Add(ToPendingOperation(c.Server, name, record, record.IsOfEndedRun(DateTime.UtcNow, runIsLiveHere)));
                }
            }
            return pending;
        }

        public static PendingOperation ToPendingOperation(string server, string hostName, SshServiceRecord record, bool ended) => new PendingOperation
        {
            Kind = "SshServiceStarted",
            Target = hostName,
            Server = server,
            RecordLocation = $"custom attribute {SshServiceRecord.FieldName} of host {hostName} on {server}",
            Since = record.StartedAtUtc,
            StartedBy = $"{record.User} on {record.Workstation} (process {record.ProcessId})",
            Detail = ended
                ? "SSH (TSM-SSH) was started by -StartSshService of a run that ended without stopping it. The next command with -StartSshService on this host stops it when its own work is done (not where the service policy is 'on')."
                : "SSH (TSM-SSH) was started by -StartSshService of a run that may still be working; that run stops it when it ends.",
            ResumeCommand = $"Test-VmkfstoolsLogSpace -VMHost {PowerShellQuote.Literal(hostName)} -Credential <credential> -StartSshService",
        };
    }
}
