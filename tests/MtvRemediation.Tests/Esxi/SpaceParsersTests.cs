using System.Linq;
using MtvRemediation.Esxi;
using Xunit;

namespace MtvRemediation.Tests.Esxi
{
    public class SpaceParsersTests
    {
        private const string Vdf =
            "Tardisk                  Space      Used\n" +
            "sb.v00                    139M      139M\n" +
            "s.v00                     341M      341M\n" +
            "-----\n" +
            "Ramdisk                   1k-blocks      Used Available Use% Mounted on\n" +
            "root                          32768      2720     30048   8% --\n" +
            "etc                           28672       280     28392   0% --\n" +
            "var                           49152     49152         0 100% --\n" +
            "tmp                          262144     11728    250416   4% --\n" +
            "hostdstats                  1175552     16676   1158876   1% --\n";

        private const string VdfHuman =
            "Ramdisk                   Size      Used Available Use% Mounted on\n" +
            "root                       32M        3M       28M  10% --\n" +
            "var                        48M      520K       47M   1% --\n" +
            "tmp                       256M      255M      364K  99% --\n";

        // Real output on record (sources in SpaceParsers' comment): vdf -h on an ESXi 6.x host whose
        // /tmp a packet capture had filled, verbatim.
        private const string RealVdfHuman =
            "Ramdisk                   Size      Used Available Use% Mounted on\n" +
            "root                       32M        3M       28M  10% --\n" +
            "etc                        28M        5M       22M  19% --\n" +
            "opt                        32M        4K       31M   0% --\n" +
            "var                        48M      520K       47M   1% --\n" +
            "tmp                       256M      255M      364K  99% --\n";

        [Fact]
        public void Real_vdf_h_output_parses_every_ramdisk_as_rounded_sizes()
        {
            var all = SpaceParsers.ParseTables(RealVdfHuman);
            Assert.Equal(new[] { "root", "etc", "opt", "var", "tmp" }, all.Select(e => e.Name));
            var tmp = all.Single(e => e.Name == "tmp");
            Assert.Equal(256L << 20, tmp.SizeBytes);
            Assert.Equal(364L << 10, tmp.FreeBytes);
            Assert.False(tmp.Exact);
            Assert.All(all, e => Assert.Equal(string.Empty, e.MountPoint));
        }

        // ESXi 5.x df -h, verbatim (ervikrant06.wordpress.com, 2014).
        private const string RealEsxiDfHuman =
            "Filesystem   Size   Used Available Use% Mounted on\n" +
            "VMFS-5      29.8G  10.7G     19.0G  36% /vmfs/volumes/ISCSIDataStore-2\n" +
            "VMFS-5      19.8G   4.2G     15.5G  21% /vmfs/volumes/ISCSIDatastore-1\n" +
            "VMFS-5      19.8G   1.0G     18.7G   5% /vmfs/volumes/LocalDataStore-1\n" +
            "vfat       249.7M 157.8M     91.9M  63% /vmfs/volumes/e848f979-a81f576c-bb22-bc4cffa55d54\n";

        [Fact]
        public void Real_esxi_df_h_output_names_the_type_and_the_volume()
        {
            var all = SpaceParsers.ParseTables(RealEsxiDfHuman);
            Assert.Equal(4, all.Count);
            var local = SpaceParsers.FindVolumeFor(all, "/vmfs/volumes/LocalDataStore-1/log")!;
            Assert.Equal("VMFS-5", local.Name);
            Assert.Equal((long)System.Math.Round(19.8 * (1L << 30)), local.SizeBytes);
            Assert.False(local.Exact);
            Assert.Equal("vfat", SpaceParsers.FindVolumeFor(all, "/vmfs/volumes/e848f979-a81f576c-bb22-bc4cffa55d54")!.Name);
        }

        // ESXi's plain df: the header on record (the blog masks the numbers; these rows use its
        // types and its layout), in both spellings of the column: "Available" and the blog's "Avalable".
        [Theory]
        [InlineData("Filesystem         Bytes         Used    Available Use% Mounted on")]
        [InlineData("Filesystem         Bytes         Used     Avalable Use% Mounted on")]
        public void Esxi_df_in_bytes_is_exact(string header)
        {
            var text = header + "\n" +
                "VMFS-6     32480690176  1549795328  30930894848   5% /vmfs/volumes/datastore1\n" +
                "vfat        4293591040    94175232   4199415808   2% /vmfs/volumes/5b1a7e1c-1f5a8d42-6b3e-000c29d1a2b3\n";
            var all = SpaceParsers.ParseTables(text);
            Assert.Equal(2, all.Count);
            var ds = all.Single(e => e.Name == "VMFS-6");
            Assert.True(ds.Exact);
            Assert.Equal(32480690176L, ds.SizeBytes);
            Assert.Equal(30930894848L, ds.FreeBytes);
        }

        // The ramdisk list's layout is unverified: "Mount Point" last (the lab's stand-in) or
        // somewhere in the middle must give the same map.
        [Fact]
        public void Ramdisk_list_finds_the_mount_point_wherever_its_column_is()
        {
            const string mountInTheMiddle =
                "Ramdisk Name  System  Mount Point                  Reserved  Maximum     Used\n" +
                "------------  ------  ---------------------------  --------  ----------  --------\n" +
                "root          true    /                            0 KiB     32768 KiB   2040 KiB\n" +
                "var           true    /var                         0 KiB     49152 KiB   520 KiB\n" +
                "tmp           true    /tmp                         0 KiB     262144 KiB  11728 KiB\n" +
                "hostdstats    true    /var/lib/vmware/hostd/stats  0 KiB     1078272 KiB 16676 KiB\n";
            var middle = SpaceParsers.ParseRamdiskMounts(mountInTheMiddle);
            var last = SpaceParsers.ParseRamdiskMounts(RamdiskList);
            foreach (var name in new[] { "var", "tmp", "hostdstats" }) Assert.Equal(last[name], middle[name]);
            Assert.False(middle.ContainsKey("root"));
            Assert.Equal(3, middle.Count);
        }

        [Fact]
        public void Vdf_ramdisks_are_read_in_exact_bytes_without_a_mount_point()
        {
            var all = SpaceParsers.ParseTables(Vdf);
            Assert.Equal(5, all.Count); // tardisks have no Use% column and are skipped
            var var = Assert.Single(all, e => e.Name == "var");
            Assert.Equal(string.Empty, var.MountPoint); // vdf prints "--": the mount point comes from the ramdisk list
            Assert.Equal(49152L * 1024, var.SizeBytes);
            Assert.Equal(49152L * 1024, var.UsedBytes);
            Assert.Equal(0, var.FreeBytes);
            Assert.True(var.Exact);
            // root never becomes "/": it would hold every path.
            Assert.Equal(string.Empty, all.Single(e => e.Name == "root").MountPoint);
            Assert.Null(SpaceParsers.FindVolumeFor(all, "/var/log"));
        }

        // The lab's stand-in for 'localcli system visorfs ramdisk list' (the real layout is unverified).
        private const string RamdiskList =
            "Ramdisk Name  System Include in Coredumps Reserved  Maximum      Used      Peak Used Free  Reserved Free Maximum Inodes Allocated Inodes Used Inodes Mount Point\n" +
            "------------  ------ -------------------- --------- ------------ --------- --------- ----- ------------- -------------- ---------------- ----------- ---------------------------\n" +
            "root          true   true                 0 KiB     32768 KiB    2040 KiB  2040 KiB  93 %  93 %          8192           8192             331         /\n" +
            "etc           true   true                 0 KiB     28672 KiB    576 KiB   576 KiB   97 %  97 %          4096           1024             555         /etc\n" +
            "var           true   true                 0 KiB     49152 KiB    520 KiB   520 KiB   98 %  98 %          8192           8192             20          /var\n" +
            "tmp           true   true                 0 KiB     262144 KiB   11728 KiB 11728 KiB 95 %  95 %          8192           8192             9           /tmp\n" +
            "hostdstats    true   true                 0 KiB     1078272 KiB  16676 KiB 16676 KiB 98 %  98 %          8192           8192             9           /var/lib/vmware/hostd/stats\n" +
            "odd           true   true                 0 KiB     1024 KiB     0 KiB     0 KiB     100 % 100 %         8192           8192             9           --\n";

        [Fact]
        public void Ramdisk_list_maps_names_to_mount_points_without_root()
        {
            var map = SpaceParsers.ParseRamdiskMounts(RamdiskList);
            Assert.Equal("/var", map["var"]);
            Assert.Equal("/var/lib/vmware/hostd/stats", map["hostdstats"]);
            Assert.False(map.ContainsKey("root")); // mounted at "/": it would hold every path
            Assert.False(map.ContainsKey("odd"));  // no mount point given
            Assert.Empty(SpaceParsers.ParseRamdiskMounts("Error: Unknown command or namespace system visorfs ramdisk list\n"));
        }

        [Fact]
        public void Vdf_h_sizes_are_parsed_but_marked_inexact()
        {
            var tmp = SpaceParsers.ParseTables(VdfHuman).Single(e => e.Name == "tmp");
            Assert.Equal(256L << 20, tmp.SizeBytes);
            Assert.Equal(364L << 10, tmp.FreeBytes);
            Assert.False(tmp.Exact);
        }

        [Theory]
        [InlineData("/var/log", "var")]
        [InlineData("/var", "var")]
        [InlineData("/var/lib/vmware/hostd/stats/x", "hostdstats")]
        [InlineData("/tmp/vmkfstools-wrapper-1", "tmp")]
        [InlineData("/variable", null)]   // a prefix of a name is not a mount match
        [InlineData("/opt/redhat", null)] // only root would hold it: no answer rather than root's numbers
        public void Longest_mount_point_prefix_wins(string path, string? expected)
        {
            var mounts = SpaceParsers.ParseRamdiskMounts(RamdiskList);
            var entries = SpaceParsers.ParseTables(Vdf).Where(e => mounts.ContainsKey(e.Name))
                .Select(e => new SpaceEntry(e.Name, mounts[e.Name], e.SizeBytes, e.UsedBytes, e.FreeBytes, e.Exact));
            Assert.Equal(expected, SpaceParsers.FindVolumeFor(entries, path)?.Name);
        }

        [Fact]
        public void Esxi_df_in_bytes_parses()
        {
            const string df =
                "Filesystem            Bytes           Used      Available Use% Mounted on\n" +
                "VMFS-6         270553174016   186969083904    83584090112  70% /vmfs/volumes/datastore1\n" +
                "VFFS             4294967296       16384000     4278583296   1% /vmfs/volumes/5f2a1b3c-1d2e3f40-5a6b-001122334455\n";
            var rows = SpaceParsers.ParseTables(df);
            Assert.Equal(2, rows.Count);
            var os = SpaceParsers.FindVolumeFor(rows, "/vmfs/volumes/5f2a1b3c-1d2e3f40-5a6b-001122334455/log")!;
            Assert.Equal("VFFS", os.Name);
            Assert.Equal(4294967296L, os.SizeBytes);
            Assert.True(os.Exact);
        }

        [Fact]
        public void Df_k_busybox_and_wrapped_posix_rows_parse()
        {
            const string busybox =
                "Filesystem           1K-blocks      Used Available Use% Mounted on\n" +
                "tmpfs                    16384     16384         0 100% /var\n";
            var e = Assert.Single(SpaceParsers.ParseTables(busybox));
            Assert.Equal("/var", e.MountPoint);
            Assert.Equal(16384L * 1024, e.SizeBytes);
            Assert.Equal(0, e.FreeBytes);

            const string wrapped =
                "Filesystem     1K-blocks  Used Available Use% Mounted on\n" +
                "/vmfs/volumes/5f2a1b3c-aaaaaaaa-bbbb-001122334455\n" +
                "                 4175872 1048576   3127296  26% /vmfs/volumes/OSDATA-5f2a\n";
            var w = Assert.Single(SpaceParsers.ParseTables(wrapped));
            Assert.Equal("/vmfs/volumes/OSDATA-5f2a", w.MountPoint);
            Assert.Equal(1048576L * 1024, w.UsedBytes);
        }

        [Fact]
        public void Stat_f_counts_blocks_exactly()
        {
            var e = SpaceParsers.ParseStatFs("4096 4096 0 0\n", "/var/log")!;
            Assert.Equal(4096L * 4096, e.SizeBytes);
            Assert.Equal(4096L * 4096, e.UsedBytes);
            Assert.Equal(0, e.FreeBytes);
            Assert.Null(SpaceParsers.ParseStatFs("stat: can't read file system information", "/x"));
        }

        [Fact]
        public void Stat_f_reports_used_as_total_minus_free_and_available_as_available()
        {
            var e = SpaceParsers.ParseStatFs("  4096\t100 40 30 \n", "/var/log")!;
            Assert.Equal("/var/log", e.Name);
            Assert.Equal("/var/log", e.MountPoint);
            Assert.Equal(100L * 4096, e.SizeBytes);
            Assert.Equal(60L * 4096, e.UsedBytes);
            Assert.Equal(30L * 4096, e.FreeBytes);
            Assert.True(e.Exact);
        }

        // Limits that a real filesystem can reach are still accepted.
        [Theory]
        [InlineData("4096 100 100 100")]            // empty: free and available equal total
        [InlineData("1 9223372036854775807 0 0")]   // the largest total that fits
        [InlineData("2 4611686018427387903 0 0")]   // total * block size just below the limit
        public void Stat_f_accepts_numbers_at_their_limits(string line)
        {
            Assert.NotNull(SpaceParsers.ParseStatFs(line, "/x"));
        }

        // Numbers no filesystem can have are a garbled (or lying) answer: no entry, never a wrong one.
        [Theory]
        [InlineData("4096 100 101 0")]              // more free than total
        [InlineData("4096 100 0 101")]              // more available than total
        [InlineData("2 4611686018427387904 0 0")]   // total * block size overflows
        [InlineData("0 100 0 0")]                   // no block size
        [InlineData("-4096 100 0 0")]
        [InlineData("4096 -100 0 0")]
        [InlineData("4096 100 x 0")]
        [InlineData("4096 100 0 1e3")]
        [InlineData("4096 100 0")]
        [InlineData("4096 100 0 0 0")]
        [InlineData("")]
        [InlineData(null)]
        public void Stat_f_rejects_impossible_answers(string? line)
        {
            Assert.Null(SpaceParsers.ParseStatFs(line!, "/x"));
        }

        // A row whose numbers cannot be true (a unit no ramdisk has, more used or available than the
        // size, a use above 100%) is dropped: the volume then has no answer rather than a wrong one.
        [Theory]
        [InlineData("tmp                       9E        1M       1M   1% --")]
        [InlineData("tmp                       256M      1M       1M 200% --")]
        [InlineData("tmp                       256M      1M       1M  x% --")]
        [InlineData("tmp                       256M      257M     1M  99% --")]
        [InlineData("tmp                       256M      1M     257M   1% --")]
        [InlineData("tmp                       256M      1M       1M   1 --")]
        [InlineData("tmp                       256M      1M       1M   1% tmp")]
        public void Vdf_h_rows_with_impossible_numbers_are_rejected(string row)
        {
            var table = "Ramdisk                   Size      Used Available Use% Mounted on\n" + row + "\n";
            Assert.Empty(SpaceParsers.ParseTables(table));
            var probe = LogSpaceProbeRejects(table);
            Assert.Null(probe);
        }

        private static SpaceEntry? LogSpaceProbeRejects(string vdfh) =>
            SpaceParsers.FindVolumeFor(SpaceParsers.ParseTables(vdfh)
                .Select(e => new SpaceEntry(e.Name, "/tmp", e.SizeBytes, e.UsedBytes, e.FreeBytes, e.Exact)), "/tmp/x");

        [Fact]
        public void A_full_volume_at_exactly_its_size_is_accepted()
        {
            var e = Assert.Single(SpaceParsers.ParseTables(
                "Ramdisk                   Size      Used Available Use% Mounted on\n" +
                "var                        48M       48M       48M 100% --\n"));
            Assert.Equal(48L << 20, e.UsedBytes);
            Assert.Equal(48L << 20, e.FreeBytes);
        }

        [Theory]
        [InlineData("12345", 12345L)]
        [InlineData("10B", 10L)]
        [InlineData("10b", 10L)]
        [InlineData("2k", 2048L)]
        [InlineData("1.5G", 3L << 29)]
        [InlineData("2T", 2L << 40)]
        [InlineData("0.5K", 512L)]
        public void Human_sizes_parse_in_bytes(string text, long expected)
        {
            Assert.True(SpaceParsers.TryParseSize(text, SpaceParsers.Unit.Human, out var bytes));
            Assert.Equal(expected, bytes);
        }

        [Theory]
        [InlineData("")]
        [InlineData("9E")]          // exabytes: no ramdisk or datastore on ESXi has them
        [InlineData("3P")]
        [InlineData("M")]
        [InlineData("-1M")]
        [InlineData("9999999T")]    // does not fit in a long
        [InlineData("8388608T")]    // exactly 2^63 bytes
        public void Human_sizes_that_cannot_be_true_are_refused(string text)
        {
            Assert.False(SpaceParsers.TryParseSize(text, SpaceParsers.Unit.Human, out _));
        }

        [Theory]
        [InlineData("9007199254740991", true, 9007199254740991L * 1024)]
        [InlineData("9223372036854775807", false, long.MaxValue)]
        public void Block_sizes_parse_up_to_the_largest_that_fits(string text, bool kib, long expected)
        {
            Assert.True(SpaceParsers.TryParseSize(text, kib ? SpaceParsers.Unit.KiB : SpaceParsers.Unit.Bytes, out var bytes));
            Assert.Equal(expected, bytes);
        }

        [Theory]
        [InlineData("9007199254740992", true)]   // 2^53 KiB = 2^63 bytes: overflows
        [InlineData("12M", true)]
        [InlineData("-1", false)]
        public void Block_sizes_that_overflow_or_are_not_numbers_are_refused(string text, bool kib)
        {
            Assert.False(SpaceParsers.TryParseSize(text, kib ? SpaceParsers.Unit.KiB : SpaceParsers.Unit.Bytes, out _));
        }

        // The ramdisk list's header (whatever its case) starts the rows: lines before it, its dashes
        // and a non-root ramdisk claiming "/" are left out; a trailing slash is dropped.
        [Fact]
        public void Ramdisk_list_reads_only_rows_after_its_header()
        {
            const string text =
                "var  /var-before-header\r\n" +
                "\r\n" +
                "NAME  MOUNT POINT\r\n" +
                "----  -----------\r\n" +
                "var   /var/\r\n" +
                "tmp   /tmp\r\n" +
                "odd   /\r\n" +
                "root  /root\r\n" +
                "lone\r\n";
            var map = SpaceParsers.ParseRamdiskMounts(text);
            Assert.Equal(2, map.Count);
            Assert.Equal("/var", map["var"]);
            Assert.Equal("/tmp", map["tmp"]);
        }

        [Fact]
        public void Ramdisk_list_without_a_header_gives_nothing()
        {
            Assert.Empty(SpaceParsers.ParseRamdiskMounts("var   true   /var\ntmp   true   /tmp\n"));
            Assert.Empty(SpaceParsers.ParseRamdiskMounts(string.Empty));
            Assert.Empty(SpaceParsers.ParseRamdiskMounts(null!));
        }

        // POSIX df -P names the columns 1024-blocks and Capacity; some dfs say kbytes: all KiB, exact.
        [Theory]
        [InlineData("Filesystem     1024-blocks      Used Available Capacity Mounted on")]
        [InlineData("Filesystem     kbytes           used     avail capacity Mounted on")]
        [InlineData("Filesystem     1K-blocks        Used Available Use% Mounted on")]
        public void Kib_headers_give_exact_sizes(string header)
        {
            var e = Assert.Single(SpaceParsers.ParseTables(header + "\n/dev/sda1 1000 400 600 40% /var\n"));
            Assert.Equal(1000L * 1024, e.SizeBytes);
            Assert.Equal(400L * 1024, e.UsedBytes);
            Assert.Equal(600L * 1024, e.FreeBytes);
            Assert.True(e.Exact);
        }

        // A wrapped name joins only the row right after it: a blank line or a dash line in between
        // drops it, and the orphaned numbers (five fields) are no row.
        [Theory]
        [InlineData("\n")]
        [InlineData("-----\n")]
        public void A_wrapped_name_does_not_join_a_row_across_a_break(string between)
        {
            var text = "Filesystem 1K-blocks Used Available Use% Mounted on\n/dev/long-name\n" + between
                       + "   1000 400 600 40% /var\n";
            Assert.Empty(SpaceParsers.ParseTables(text));
        }

        // A new header resets the unit: vdf's tardisk and ramdisk sections each carry their own.
        [Fact]
        public void Each_table_is_read_in_its_own_headers_unit()
        {
            var rows = SpaceParsers.ParseTables(
                "Filesystem 1K-blocks Used Available Use% Mounted on\n/dev/a 10 4 6 40% /a\n" +
                "Filesystem Size Used Available Use% Mounted on\n/dev/b 10K 4K 6K 40% /b\n" +
                "Filesystem Bytes Used Available Use% Mounted on\n/dev/c 10 4 6 40% /c\n");
            Assert.Equal(new[] { 10L * 1024, 10L * 1024, 10L }, rows.Select(r => r.SizeBytes).ToArray());
            Assert.Equal(new[] { true, false, true }, rows.Select(r => r.Exact).ToArray());
        }

        [Fact]
        public void A_mount_point_with_spaces_is_kept_whole()
        {
            var e = Assert.Single(SpaceParsers.ParseTables(
                "Filesystem Bytes Used Available Use% Mounted on\nVMFS-6 100 40 60 40% /vmfs/volumes/data store 1\n"));
            Assert.Equal("/vmfs/volumes/data store 1", e.MountPoint);
            Assert.Equal("VMFS-6", e.Name);
        }

        [Fact]
        public void Garbage_gives_no_entries()
        {
            Assert.Empty(SpaceParsers.ParseTables("sh: vdf: not found\n"));
            Assert.Empty(SpaceParsers.ParseTables(string.Empty));
        }
    }

    public class AgentStatusParserTests
    {
        [Theory]
        [InlineData("hostd", "hostd is running.\n", true)]
        [InlineData("hostd", "hostd is not running.\n", false)]
        [InlineData("vpxa", "vpxa is running.", true)]
        [InlineData("vpxa", "hostd is running.", null)]
        [InlineData("hostd", "sh: /etc/init.d/hostd: not found", null)]
        public void Status_lines(string agent, string output, bool? expected)
        {
            Assert.Equal(expected, AgentStatusParser.ParseStatus(agent, output));
        }

        [Fact]
        public void Restart_output_reports_started()
        {
            const string text = "watchdog-hostd: Terminating watchdog process with PID 2099465\nhostd stopped.\nhostd started.\n";
            Assert.True(AgentStatusParser.ReportsStarted("hostd", text));
            Assert.False(AgentStatusParser.ReportsStarted("vpxa", text));
        }

        // A row whose size, used or available column is not a number is no answer (not a zero).
        [Theory]
        [InlineData("var                        abc        0         0   0% --")]
        [InlineData("var                      49152      abc     49152   0% --")]
        [InlineData("var                      49152        0       abc   0% --")]
        public void A_row_with_a_column_that_is_not_a_size_is_left_out(string row)
        {
            var text = "Ramdisk                   1k-blocks      Used Available Use% Mounted on\n" + row + "\n" +
                       "tmp                          262144     11728    250416   4% --\n";
            var all = SpaceParsers.ParseTables(text);
            Assert.Equal(new[] { "tmp" }, all.Select(e => e.Name));
        }

        [Fact]
        public void A_row_whose_use_column_has_no_percent_sign_is_left_out()
        {
            var text = "Filesystem 1K-blocks Used Available Use% Mounted on\n" +
                       "garbled 1000 100 900 55 /vmfs/volumes/ds\n" +
                       "good 1000 100 900 10% /vmfs/volumes/ds2\n";
            Assert.Equal(new[] { "good" }, SpaceParsers.ParseTables(text).Select(e => e.Name));
        }

        [Fact]
        public void Of_two_entries_for_the_same_mount_point_the_first_listed_holds_the_path()
        {
            var text = "Filesystem 1K-blocks Used Available Use% Mounted on\n" +
                       "first 1000 100 900 10% /vmfs/volumes/ds\n" +
                       "second 2000 100 1900 5% /vmfs/volumes/ds\n";
            var found = SpaceParsers.FindVolumeFor(SpaceParsers.ParseTables(text), "/vmfs/volumes/ds/log/x.log");
            Assert.Equal("first", found!.Name);
        }

        [Fact]
        public void A_mount_point_with_a_trailing_slash_holds_the_paths_below_it()
        {
            Assert.True(SpaceParsers.Holds("/vmfs/volumes/ds/", "/vmfs/volumes/ds/log/x.log"));
            Assert.True(SpaceParsers.Holds("/vmfs/volumes/ds/", "/vmfs/volumes/ds"));
            Assert.False(SpaceParsers.Holds("/vmfs/volumes/ds/", "/vmfs/volumes/ds2/x"));
        }
    }
}
