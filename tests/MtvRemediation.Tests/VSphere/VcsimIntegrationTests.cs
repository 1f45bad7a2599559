using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using MtvRemediation.VSphere;
using Xunit;

namespace MtvRemediation.Tests.VSphere
{
    /// <summary>The lab's vcsim, from out/lab/lab.json (or MTVLAB_STATE); null when the lab is not running.</summary>
    internal static class LabVcsim
    {
        private static readonly Lazy<JsonElement?> State = new Lazy<JsonElement?>(Load);

        public static JsonElement? Vcsim => State.Value;

        public static string? UnavailableReason => Vcsim == null ? "The lab is not running (no out/lab/lab.json): start it with tests/lab/lab.sh start." : null;

        private static JsonElement? Load()
        {
            var path = Environment.GetEnvironmentVariable("MTVLAB_STATE");
            if (string.IsNullOrEmpty(path))
            {
                for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
                {
                    var candidate = Path.Combine(dir.FullName, "out", "lab", "lab.json");
                    if (File.Exists(candidate)) { path = candidate; break; }
                }
            }
            if (string.IsNullOrEmpty(path) || !File.Exists(path)) return null;
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            return doc.RootElement.TryGetProperty("vcsim", out var v) ? v.Clone() : (JsonElement?)null;
        }

        public static async Task<VimSoapClient> LoginAsync()
        {
            var v = Vcsim!.Value;
            var client = new VimSoapClient(new Uri(v.GetProperty("url").GetString()!), skipCertificateCheck: true);
            await client.RetrieveServiceContentAsync(CancellationToken.None);
            var password = v.TryGetProperty("password", out var p) && p.GetString() is string s && s.Length > 0 ? s : "lab";
            await client.LoginAsync(v.GetProperty("user").GetString()!, password, CancellationToken.None);
            return client;
        }
    }

    /// <summary>Needs the lab's vcsim (see <see cref="LabTestAttribute"/>).</summary>
    public sealed class LabFactAttribute : LabTestAttribute
    {
        public LabFactAttribute() : base(LabVcsim.UnavailableReason) { }
    }

    /// <summary>The SOAP client against the lab's real vcsim (read-only: the lab's state is not changed).</summary>
    public class VcsimIntegrationTests
    {
        [LabFact]
        public async Task Login_session_and_logout_round_trip()
        {
            using var client = await LabVcsim.LoginAsync();
            Assert.Equal("vpx", client.ServiceContent!.ProductLine);
            Assert.Equal(LabVcsim.Vcsim!.Value.GetProperty("user").GetString(), await client.GetCurrentSessionUserAsync(CancellationToken.None));
            await client.LogoutAsync(CancellationToken.None);
            Assert.False(client.HasSession);
        }

        [LabFact]
        public async Task A_logged_out_cookie_is_reported_as_session_expiry()
        {
            using var first = await LabVcsim.LoginAsync();
            using var adopted = new VimSoapClient(first.ServiceUri, skipCertificateCheck: true);
            await adopted.RetrieveServiceContentAsync(CancellationToken.None);
            // Reuse the first client's session the way a PowerCLI cookie is reused, then end it.
            var secret = await GetCookieValueAsync(first);
            adopted.SetSessionCookie(VimSoapClient.CookieFromSecret(secret));
            Assert.NotNull(await adopted.GetCurrentSessionUserAsync(CancellationToken.None));
            await first.LogoutAsync(CancellationToken.None);
            await Assert.ThrowsAsync<VISessionExpiredException>(() => adopted.GetAllVmNamesAsyncFor());
        }

        private static Task<string> GetCookieValueAsync(VimSoapClient client) =>
            Task.FromResult(client.SessionCookie!.Substring("vmware_soap_session=".Length).Trim('"'));

        [LabFact]
        public async Task All_lab_VMs_are_read_in_a_constant_number_of_round_trips()
        {
            using var soap = await LabVcsim.LoginAsync();
            var client = new VSphereClient(soap, soap.ServiceUri.Host);
            var names = await client.GetAllVmNamesAsync(CancellationToken.None);
            var expected = LabVcsim.Vcsim!.Value.GetProperty("vms").EnumerateArray().Select(v => v.GetProperty("name").GetString()).ToHashSet();
            Assert.Superset(expected!, names.Select(n => n.Name).ToHashSet());

            await client.GetVmsAsync(names.Take(1).Select(n => n.MoRef).ToList(), CancellationToken.None); // warms the datacenter map
            var before = soap.RoundTrips;
            var vms = await client.GetVmsAsync(names.Select(n => n.MoRef).ToList(), CancellationToken.None);
            Assert.Equal(2, soap.RoundTrips - before); // VMs, then their hosts and datastores
            Assert.Equal(names.Count, vms.Count);
            Assert.All(vms, vm =>
            {
                Assert.NotEmpty(vm.HostName);
                Assert.NotEmpty(vm.Disks);
                Assert.All(vm.Disks, d => Assert.False(vm.Datastores[d.DatastoreMoRef].Datacenter.IsEmpty));
            });
        }

        [LabFact]
        public async Task A_vcsim_fault_is_typed_by_its_xsi_type()
        {
            using var soap = await LabVcsim.LoginAsync();
            var client = new VSphereClient(soap, soap.ServiceUri.Host);
            var ex = await Assert.ThrowsAsync<VimFaultException>(() => client.ShutdownGuestAsync(new MoRef("VirtualMachine", "vm-does-not-exist"), CancellationToken.None));
            Assert.Equal("ManagedObjectNotFound", ex.FaultName);
        }

        [LabFact]
        public async Task SearchDatastore_lists_a_lab_VM_folder()
        {
            using var soap = await LabVcsim.LoginAsync();
            var client = new VSphereClient(soap, soap.ServiceUri.Host);
            var first = (await client.GetAllVmNamesAsync(CancellationToken.None)).First();
            var vm = (await client.GetVmsAsync(new[] { first.MoRef }, CancellationToken.None)).Single();
            var disk = DatastorePath.Parse(vm.Disks[0].FileName);
            var files = await client.SearchFolderAsync(vm.Datastores[vm.Disks[0].DatastoreMoRef], disk.Folder, "*.vmdk", CancellationToken.None);
            Assert.Contains(files, f => f.Path.ToString() == disk.ToString());
        }
    }

    internal static class VimSoapClientTestExtensions
    {
        public static Task<System.Collections.Generic.IReadOnlyList<(MoRef MoRef, string Name)>> GetAllVmNamesAsyncFor(this VimSoapClient soap) =>
            new VSphereClient(soap, soap.ServiceUri.Host).GetAllVmNamesAsync(CancellationToken.None);
    }
}
