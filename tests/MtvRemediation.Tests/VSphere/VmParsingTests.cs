using System.Collections.Generic;
using System.Linq;
using System.Xml.Linq;
using MtvRemediation.VSphere;
using Xunit;

namespace MtvRemediation.Tests.VSphere
{
    public class VmParsingTests
    {
        // A VM as vcsim returns it: XMLSchema-instance prefix, PVSCSI + SATA controllers, a snapshot tree.
        private const string VmObject =
            "<objects xmlns=\"urn:vim25\" xmlns:XMLSchema-instance=\"http://www.w3.org/2001/XMLSchema-instance\"><obj type=\"VirtualMachine\">vm-57</obj>" +
            "<propSet><name>name</name><val XMLSchema-instance:type=\"xsd:string\">web [01] db</val></propSet>" +
            "<propSet><name>runtime.powerState</name><val XMLSchema-instance:type=\"VirtualMachinePowerState\">poweredOn</val></propSet>" +
            "<propSet><name>runtime.host</name><val XMLSchema-instance:type=\"ManagedObjectReference\" type=\"HostSystem\">host-21</val></propSet>" +
            "<propSet><name>guest.toolsRunningStatus</name><val XMLSchema-instance:type=\"xsd:string\">guestToolsRunning</val></propSet>" +
            "<propSet><name>config.changeTrackingEnabled</name><val XMLSchema-instance:type=\"xsd:boolean\">true</val></propSet>" +
            "<propSet><name>config.extraConfig</name><val XMLSchema-instance:type=\"ArrayOfOptionValue\"><OptionValue XMLSchema-instance:type=\"OptionValue\"><key>scsi0:0.ctkEnabled</key><value XMLSchema-instance:type=\"xsd:string\">TRUE</value></OptionValue>" +
            "<OptionValue XMLSchema-instance:type=\"OptionValue\"><key>govcsim</key><value XMLSchema-instance:type=\"xsd:string\">TRUE</value></OptionValue></val></propSet>" +
            "<propSet><name>snapshot</name><val XMLSchema-instance:type=\"VirtualMachineSnapshotInfo\"><currentSnapshot type=\"VirtualMachineSnapshot\">snapshot-2</currentSnapshot>" +
            "<rootSnapshotList><snapshot type=\"VirtualMachineSnapshot\">snapshot-1</snapshot><name>a</name><childSnapshotList><snapshot type=\"VirtualMachineSnapshot\">snapshot-2</snapshot><name>b</name></childSnapshotList></rootSnapshotList></val></propSet>" +
            "<propSet><name>config.hardware.device</name><val XMLSchema-instance:type=\"ArrayOfVirtualDevice\">" +
            "<VirtualDevice XMLSchema-instance:type=\"ParaVirtualSCSIController\"><key>1000</key><busNumber>0</busNumber></VirtualDevice>" +
            "<VirtualDevice XMLSchema-instance:type=\"VirtualAHCIController\"><key>15000</key><busNumber>1</busNumber></VirtualDevice>" +
            "<VirtualDevice XMLSchema-instance:type=\"VirtualDisk\"><key>2000</key><deviceInfo><label>Hard disk 1</label></deviceInfo><backing XMLSchema-instance:type=\"VirtualDiskFlatVer2BackingInfo\"><fileName>[ds 1] web [01] db/web [01] db.vmdk</fileName><datastore type=\"Datastore\">datastore-11</datastore></backing><controllerKey>1000</controllerKey><unitNumber>0</unitNumber></VirtualDevice>" +
            "<VirtualDevice XMLSchema-instance:type=\"VirtualDisk\"><key>16000</key><backing XMLSchema-instance:type=\"VirtualDiskRawDiskMappingVer1BackingInfo\"><fileName>[ds2] rdm/rdm.vmdk</fileName><datastore type=\"Datastore\">datastore-12</datastore><compatibilityMode>physicalMode</compatibilityMode></backing><controllerKey>15000</controllerKey><unitNumber>3</unitNumber></VirtualDevice>" +
            "</val></propSet></objects>";

        [Fact]
        public void Parses_a_vcsim_VM_by_namespace_not_prefix()
        {
            var oc = VimSoapClient.ParseObjectContent(XElement.Parse(VmObject));
            var vm = VSphereClient.ParseVm(oc);

            Assert.Equal("web [01] db", vm.Name);
            Assert.Equal("poweredOn", vm.PowerState);
            Assert.Equal(new MoRef("HostSystem", "host-21"), vm.Host);
            Assert.True(vm.ToolsRunning);
            Assert.True(vm.ChangeTrackingEnabled);
            Assert.Equal(2, vm.SnapshotCount);
            Assert.Equal("TRUE", vm.CtkExtraConfig["scsi0:0.ctkEnabled"]);
            Assert.False(vm.CtkExtraConfig.ContainsKey("govcsim"));

            Assert.Equal(2, vm.Disks.Count);
            var d = vm.Disks[0];
            Assert.Equal("[ds 1] web [01] db/web [01] db.vmdk", d.FileName);
            Assert.Equal("ds 1", d.Datastore);
            Assert.Equal(new MoRef("Datastore", "datastore-11"), d.DatastoreMoRef);
            Assert.Equal("scsi0:0.ctkEnabled", d.CtkEnabledKey);
            Assert.False(d.IsPhysicalRdm);
            Assert.Equal("sata1:3.ctkEnabled", vm.Disks[1].CtkEnabledKey);
            Assert.True(vm.Disks[1].IsPhysicalRdm);
        }

        [Fact]
        public void Absent_changeTrackingEnabled_and_snapshot_mean_off_and_zero()
        {
            // vcsim leaves both properties out until they are set.
            var oc = new ObjectContent(new MoRef("VirtualMachine", "vm-1"), new Dictionary<string, XElement>(), new List<string>());
            var vm = VSphereClient.ParseVm(oc);
            Assert.False(vm.ChangeTrackingEnabled);
            Assert.Equal(0, vm.SnapshotCount);
            Assert.Empty(vm.Disks);
        }
    }
}
