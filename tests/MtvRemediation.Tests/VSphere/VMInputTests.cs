using System;
using MtvRemediation.Interop;
using MtvRemediation.VSphere;
using Xunit;

namespace MtvRemediation.Tests.VSphere
{
    public class VMInputTests
    {
        [Theory]
        [InlineData("/VIServer=vsphere.local\\administrator@192.168.1.100:443/VirtualMachine=VirtualMachine-vm-1013/", "vsphere.local\\administrator", "192.168.1.100", 443, "vm-1013")]
        [InlineData("/VIServer=administrator@vsphere.local@vc01.corp.example:443/VirtualMachine=VirtualMachine-vm-7/", "administrator@vsphere.local", "vc01.corp.example", 443, "vm-7")]
        [InlineData("/VIServer=a@b@c@127.0.0.1:8989/VirtualMachine=VirtualMachine-vm-42/", "a@b@c", "127.0.0.1", 8989, "vm-42")]
        [InlineData("/VIServer=root@[::1]:443/VirtualMachine=VirtualMachine-vm-1/", "root", "::1", 443, "vm-1")]
        public void Uid_splits_the_user_from_the_right(string uid, string user, string host, int port, string vm)
        {
            Assert.True(VMInput.TryParseUid(uid, out var p));
            Assert.Equal(user, p.User);
            Assert.Equal(host, p.Host);
            Assert.Equal(port, p.Port);
            Assert.Equal(new MoRef("VirtualMachine", vm), p.MoRef);
        }

        [Fact]
        public void Uid_without_server_segment_is_rejected()
        {
            Assert.False(VMInput.TryParseUid("VirtualMachine-vm-1", out _));
        }

        [Theory]
        [InlineData("VirtualMachine-vm-1013", "VirtualMachine", "vm-1013")]
        [InlineData("HostSystem-host-88", "HostSystem", "host-88")]
        public void Id_splits_at_the_first_dash(string id, string type, string value)
        {
            Assert.True(VMInput.TryParseId(id, out var r));
            Assert.Equal(new MoRef(type, value), r);
        }

        [Theory]
        [InlineData("/vmfs/volumes/LocalDS_0/vm/disk1.vmdk", "/vmfs/volumes/LocalDS_0/vm/disk1.vmdk")]
        [InlineData("[ontap-vmfs01] web02/web02.vmdk", "/vmfs/volumes/ontap-vmfs01/web02/web02.vmdk")]
        [InlineData("[ds 1] vm 1/disk.vmdk", "/vmfs/volumes/ds 1/vm 1/disk.vmdk")]
        [InlineData("[] vm/disk.vmdk", null)]
        [InlineData("[ds]", null)]
        [InlineData("disk.vmdk", null)]
        [InlineData("", null)]
        public void A_finding_s_disk_becomes_an_esxi_path(string disk, string? expected)
        {
            Assert.Equal(expected, VMInput.EsxiDiskPath(disk));
        }

        [Fact]
        public void String_is_a_name_or_pattern()
        {
            Assert.True(VMInput.TryParse("web [01] *", out var i, out var problem));
            Assert.Null(problem);
            Assert.Equal("web [01] *", i!.Name);
            Assert.Null(i.MoRef);
        }

        // PSObject-shaped inputs (PowerCLI VMs, VIServers, our results) are tested in Pester, in a real
        // PowerShell: System.Management.Automation is not available to this test host.
    }
}
