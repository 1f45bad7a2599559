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

        [Fact]
        public void Vdf_ramdisks_are_read_in_exact_bytes_and_mapped_to_mount_points()
        {
            var all = SpaceParsers.ParseTables(Vdf);
            Assert.Equal(5, all.Count); // tardisks have no Use% column and are skipped
            var var = Assert.Single(all, e => e.Name == "var");
            Assert.Equal("/var", var.MountPoint);
            Assert.Equal(49152L * 1024, var.SizeBytes);
            Assert.Equal(49152L * 1024, var.UsedBytes);
            Assert.Equal(0, var.FreeBytes);
            Assert.True(var.Exact);
            Assert.Equal("/", all.Single(e => e.Name == "root").MountPoint);
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
        [InlineData("/tmp/vmkfstools-wrapper-1", "tmp")]
        [InlineData("/variable", "root")]   // a prefix of a name is not a mount match
        [InlineData("/opt/redhat", "root")]
        public void Longest_mount_point_prefix_wins(string path, string expected)
        {
            Assert.Equal(expected, SpaceParsers.FindVolumeFor(SpaceParsers.ParseTables(Vdf), path)!.Name);
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
    }
}
