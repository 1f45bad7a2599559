using MtvRemediation.VSphere;
using Xunit;

namespace MtvRemediation.Tests.VSphere
{
    public class DatastorePathTests
    {
        [Theory]
        [InlineData("[LocalDS_0] DC0_H0_VM0/disk1.vmdk", "LocalDS_0", "DC0_H0_VM0", "disk1.vmdk")]
        [InlineData("[ds 1] web [01] db/web [01] db.vmdk", "ds 1", "web [01] db", "web [01] db.vmdk")]
        [InlineData("[vsanDatastore] 5f1c-ab/vm_1.vmdk", "vsanDatastore", "5f1c-ab", "vm_1.vmdk")]
        [InlineData("[ds] top.vmdk", "ds", "", "top.vmdk")]
        [InlineData("[ds] new\nline/new\nline.vmdk", "ds", "new\nline", "new\nline.vmdk")]
        public void Splits_datastore_folder_and_file(string text, string ds, string folder, string file)
        {
            var p = DatastorePath.Parse(text);
            Assert.Equal(ds, p.Datastore);
            Assert.Equal(folder, p.Folder);
            Assert.Equal(file, p.FileName);
            Assert.Equal(text, p.ToString());
        }

        [Theory]
        [InlineData("disk1.vmdk", "disk1-ctk.vmdk")]
        [InlineData("web [01] db_1.vmdk", "web [01] db_1-ctk.vmdk")]
        [InlineData("a.b.VMDK", "a.b-ctk.vmdk")]
        public void Ctk_name_is_derived_from_the_descriptor(string disk, string ctk)
        {
            Assert.Equal(ctk, DatastorePath.CtkFileNameFor(disk));
        }

        [Theory]
        [InlineData("disk1-ctk.vmdk", "disk1.vmdk")]
        [InlineData("disk1-flat.vmdk", null)]
        [InlineData("-ctk.vmdk", null)]
        public void Descriptor_of_a_ctk_file(string ctk, string? disk)
        {
            Assert.Equal(disk, DatastorePath.DiskFileNameForCtk(ctk));
        }

        [Fact]
        public void Rejects_paths_without_a_datastore()
        {
            Assert.False(DatastorePath.TryParse("/vmfs/volumes/x/disk.vmdk", out _));
            Assert.False(DatastorePath.TryParse("[] x.vmdk", out _));
        }
    }
}
