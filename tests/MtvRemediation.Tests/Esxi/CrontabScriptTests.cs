using System;
using System.IO;
using System.Text;
using System.Threading;
using MtvRemediation.Esxi;
using MtvRemediation.HostLog;
using MtvRemediation.Tests.Remediation;
using Xunit;

namespace MtvRemediation.Tests.Esxi
{
    /// <summary>The crontab edit's remote steps (Scripts/crontab-*.sh) against a real BusyBox ash (issue 11).</summary>
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public sealed class CrontabScriptTests : IDisposable
    {
        private readonly string _root = Directory.CreateTempSubdirectory("mtv-crontab-").FullName;
        private readonly BusyboxShell _shell = new BusyboxShell("esx-test");

        public void Dispose() => Directory.Delete(_root, true);

        private RemoteCommandResult Run(string script, params string[] args) =>
            _shell.RunAsync(RemoteCommand.FromScript(script, args), TimeSpan.FromSeconds(20), CancellationToken.None).GetAwaiter().GetResult();

        [Fact]
        public void The_temp_file_has_the_final_mode_before_any_byte_is_written()
        {
            var temp = Path.Combine(_root, "root.mtv-tmp.1");
            var r = Run("crontab-temp.sh", temp, "444", "0:0");
            Assert.Equal(0, r.ExitStatus);
            Assert.Equal(0, new FileInfo(temp).Length);
            Assert.Equal("444", Convert.ToString((int)File.GetUnixFileMode(temp), 8));
        }

        private RemoteCommandResult Replace(string temp, string tab, byte[] content, byte[] read) =>
            Run("crontab-replace.sh", temp, tab, content.Length.ToString(), LogRotationCronEngine.Md5(content), LogRotationCronEngine.Md5(read), read.Length.ToString(), Path.Combine(_root, ".reload-pending"));

        [Fact]
        public void Lines_appended_after_the_read_are_appended_to_the_new_crontab()
        {
            var tab = Path.Combine(_root, "root");
            File.WriteAllText(tab, "0 * * * * /bin/true\n");
            var read = File.ReadAllBytes(tab);
            File.AppendAllText(tab, "5 * * * * /bin/admin-edit\n"); // someone appends meanwhile
            var content = Encoding.UTF8.GetBytes("0 * * * * /bin/true\nnew\n");
            var temp = Path.Combine(_root, "root.mtv-tmp.2");
            File.WriteAllBytes(temp, content);
            Assert.Equal(0, Replace(temp, tab, content, read).ExitStatus);
            Assert.Equal("0 * * * * /bin/true\nnew\n5 * * * * /bin/admin-edit\n", File.ReadAllText(tab));
            Assert.Equal(new[] { tab }, Directory.GetFiles(_root, "root*"));
        }

        [Fact]
        public void A_crontab_rewritten_after_the_read_is_put_back_and_never_overwritten()
        {
            var tab = Path.Combine(_root, "root");
            File.WriteAllText(tab, "0 * * * * /bin/true\n");
            var read = File.ReadAllBytes(tab);
            File.WriteAllText(tab, "5 * * * * /bin/admin-rewrite\n"); // someone rewrites it meanwhile (vi writes in place)
            var content = Encoding.UTF8.GetBytes("new\n");
            var temp = Path.Combine(_root, "root.mtv-tmp.2");
            File.WriteAllBytes(temp, content);
            Assert.Equal(10, Replace(temp, tab, content, read).ExitStatus);
            Assert.Equal("5 * * * * /bin/admin-rewrite\n", File.ReadAllText(tab));
            Assert.Equal(new[] { tab }, Directory.GetFiles(_root, "root*"));

            // Unchanged since the read: replaced.
            File.WriteAllBytes(temp, content);
            Assert.Equal(0, Replace(temp, tab, content, File.ReadAllBytes(tab)).ExitStatus);
            Assert.Equal("new\n", File.ReadAllText(tab));
        }

        [Fact]
        public void A_crontab_that_appeared_after_reading_none_is_not_overwritten()
        {
            var tab = Path.Combine(_root, "root");
            File.WriteAllText(tab, "appeared\n");
            var temp = Path.Combine(_root, "root.mtv-tmp.3");
            File.WriteAllText(temp, "x\n");
            Assert.Equal(10, Run("crontab-replace.sh", temp, tab, "2", LogRotationCronEngine.Md5(Encoding.UTF8.GetBytes("x\n")), "missing", "0", Path.Combine(_root, ".reload-pending")).ExitStatus);
            Assert.Equal("appeared\n", File.ReadAllText(tab));
        }
    }
}
