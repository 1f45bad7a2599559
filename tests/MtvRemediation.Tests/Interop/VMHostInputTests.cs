using System.Collections;
using System.Management.Automation;
using System.Net;
using MtvRemediation.Esxi;
using MtvRemediation.Interop;
using Xunit;

namespace MtvRemediation.Tests.Interop
{
    public class VMHostInputTests
    {
        private static PSObject PowerCliVMHost(string name, string id, bool deserialized = false)
        {
            // The shape PowerCLI's VMHostImpl shows to PowerShell: type name chain plus properties.
            var o = new PSObject();
            o.TypeNames.Clear();
            var prefix = deserialized ? "Deserialized." : string.Empty;
            o.TypeNames.Add(prefix + "VMware.VimAutomation.ViCore.Impl.V1.Inventory.VMHostImpl");
            o.TypeNames.Add(prefix + "System.Object");
            o.Properties.Add(new PSNoteProperty("Name", name));
            o.Properties.Add(new PSNoteProperty("Id", id));
            o.Properties.Add(new PSNoteProperty("ConnectionState", "Connected"));
            return o;
        }

        private static PSObject PowerCliVM(string name, object vmHost, string vmHostId)
        {
            var o = new PSObject();
            o.TypeNames.Insert(0, "VMware.VimAutomation.ViCore.Impl.V1.VM.UniversalVirtualMachineImpl");
            o.Properties.Add(new PSNoteProperty("Name", name));
            o.Properties.Add(new PSNoteProperty("Id", "VirtualMachine-vm-1013"));
            o.Properties.Add(new PSNoteProperty("VMHost", vmHost));
            o.Properties.Add(new PSNoteProperty("VMHostId", vmHostId));
            return o;
        }

        private static HostTarget Target(object? input)
        {
            Assert.True(VMHostInput.TryGetTarget(input, out var target, out var problem), problem);
            return target!;
        }

        [Fact]
        public void String_is_the_host_name()
        {
            var t = Target(" esx01.lab ");
            Assert.Equal("esx01.lab", t.Name);
            Assert.Null(t.Session);
        }

        [Theory]
        [InlineData(false)]
        [InlineData(true)]
        public void PowerCLI_VMHost_live_or_deserialized(bool deserialized)
        {
            var t = Target(PowerCliVMHost("esx01.lab", "HostSystem-host-61", deserialized));
            Assert.Equal("esx01.lab", t.Name);
            Assert.Equal("HostSystem-host-61", t.VMHostId);
        }

        [Fact]
        public void VM_object_yields_its_host_not_its_own_name()
        {
            var t = Target(PowerCliVM("vm1", PowerCliVMHost("esx02.lab", "HostSystem-host-88"), "HostSystem-host-88"));
            Assert.Equal("esx02.lab", t.Name);
            Assert.Equal("HostSystem-host-88", t.VMHostId);

            var s = Target(PowerCliVM("vm1", "esx03.lab", "HostSystem-host-90"));
            Assert.Equal("esx03.lab", s.Name);
        }

        [Fact]
        public void Result_objects_and_hashtables_with_VMHost_or_Name()
        {
            var result = new PSObject();
            result.Properties.Add(new PSNoteProperty("VMHost", "esx04.lab"));
            result.Properties.Add(new PSNoteProperty("Status", "Full"));
            Assert.Equal("esx04.lab", Target(result).Name);
            Assert.Equal("esx05.lab", Target(new Hashtable { ["vmhost"] = "esx05.lab" }).Name);
            var named = new PSObject();
            named.Properties.Add(new PSNoteProperty("Name", "esx06.lab"));
            Assert.Equal("esx06.lab", Target(named).Name);
        }

        [Fact]
        public void Session_binds_to_that_exact_session()
        {
            var shell = SshEsxiShell.Create("esx07.lab", new PSCredential("root", new NetworkCredential("", "x").SecurePassword), null, new ConnectOptions());
            var session = new EsxiShellSession(5, shell);
            var t = Target(new PSObject(session));
            Assert.Same(session, t.Session);
            Assert.Equal("esx07.lab", t.Name);
            shell.Dispose();
        }

        [Fact]
        public void Unusable_input_is_refused_with_the_reason()
        {
            Assert.False(VMHostInput.TryGetTarget(42, out _, out var problem));
            Assert.Contains("System.Int32", problem);
            Assert.False(VMHostInput.TryGetTarget("  ", out _, out problem));
            Assert.Equal("The -VMHost value is an empty string.", problem);
            Assert.False(VMHostInput.TryGetTarget(null, out _, out problem));
            Assert.Equal("The -VMHost value is null.", problem);
        }
    }
}
