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

        [Fact]
        public void An_edit_made_after_the_read_is_never_overwritten()
        {
            var tab = Path.Combine(_root, "root");
            File.WriteAllText(tab, "0 * * * * /bin/true\n");
            var readMd5 = LogRotationCronEngine.Md5(File.ReadAllBytes(tab));
            File.AppendAllText(tab, "5 * * * * /bin/admin-edit\n"); // someone edits meanwhile
            var content = Encoding.UTF8.GetBytes("new\n");
            var temp = Path.Combine(_root, "root.mtv-tmp.2");
            File.WriteAllBytes(temp, content);
            var r = Run("crontab-replace.sh", temp, tab, content.Length.ToString(), LogRotationCronEngine.Md5(content), readMd5);
            Assert.Equal(10, r.ExitStatus);
            Assert.Equal("0 * * * * /bin/true\n5 * * * * /bin/admin-edit\n", File.ReadAllText(tab));

            // Unchanged since the read: replaced.
            var now = LogRotationCronEngine.Md5(File.ReadAllBytes(tab));
            Assert.Equal(0, Run("crontab-replace.sh", temp, tab, content.Length.ToString(), LogRotationCronEngine.Md5(content), now).ExitStatus);
            Assert.Equal("new\n", File.ReadAllText(tab));
        }

        [Fact]
        public void A_crontab_that_appeared_after_reading_none_is_not_overwritten()
        {
            var tab = Path.Combine(_root, "root");
            File.WriteAllText(tab, "appeared\n");
            var temp = Path.Combine(_root, "root.mtv-tmp.3");
            File.WriteAllText(temp, "x\n");
            Assert.Equal(10, Run("crontab-replace.sh", temp, tab, "2", LogRotationCronEngine.Md5(Encoding.UTF8.GetBytes("x\n")), "missing").ExitStatus);
            Assert.Equal("appeared\n", File.ReadAllText(tab));
        }
    }
}
