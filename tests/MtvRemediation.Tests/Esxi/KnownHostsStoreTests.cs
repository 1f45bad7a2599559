using System;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using MtvRemediation.Esxi;
using Xunit;

namespace MtvRemediation.Tests.Esxi
{
    public sealed class KnownHostsStoreTests : IDisposable
    {
        private readonly string _dir = Directory.CreateTempSubdirectory("mtvkh").FullName;
        private string FilePath => Path.Combine(_dir, "sub", "known_hosts");

        public void Dispose() => Directory.Delete(_dir, true);

        [Fact]
        public void Unknown_until_added_then_known_and_written_in_openssh_form()
        {
            var store = new KnownHostsStore(FilePath);
            Assert.Equal(HostKeyStatus.Unknown, store.Check("127.0.0.1", 2201, TestKeys.Ed25519A).Status);

            store.Add("127.0.0.1", 2201, TestKeys.Ed25519A);

            Assert.Equal(HostKeyStatus.Known, store.Check("127.0.0.1", 2201, TestKeys.Ed25519A).Status);
            Assert.Equal(HostKeyStatus.Unknown, store.Check("127.0.0.1", 2202, TestKeys.Ed25519A).Status);
            var line = File.ReadAllLines(FilePath).Single();
            Assert.Equal("[127.0.0.1]:2201 ssh-ed25519 " + Convert.ToBase64String(TestKeys.Ed25519A), line);
        }

        [Fact]
        public void Port_22_uses_the_bare_host_name_lowercased()
        {
            Assert.Equal("esx01.lab", KnownHostsStore.HostField("ESX01.Lab", 22));
            Assert.Equal("[esx01.lab]:2222", KnownHostsStore.HostField("esx01.lab", 2222));
        }

        [Fact]
        public void OpenSSH_finds_our_entries()
        {
            var store = new KnownHostsStore(FilePath);
            store.Add("127.0.0.1", 2201, TestKeys.Ed25519A);
            store.Add("esx02.lab", 22, TestKeys.Rsa);
            var found = LocalShell.Tool("ssh-keygen", "-F", "[127.0.0.1]:2201", "-f", FilePath);
            Assert.Equal(0, found.Exit);
            Assert.Contains(Convert.ToBase64String(TestKeys.Ed25519A), found.Stdout);
            Assert.Equal(0, LocalShell.Tool("ssh-keygen", "-F", "esx02.lab", "-f", FilePath).Exit);
        }

        [Fact]
        public void A_different_key_of_the_same_type_is_changed_with_line_and_recorded_fingerprint()
        {
            Directory.CreateDirectory(Path.GetDirectoryName(FilePath)!);
            File.WriteAllText(FilePath, "# comment\n\n[127.0.0.1]:2201 ssh-ed25519 " + Convert.ToBase64String(TestKeys.Ed25519A) + "\n");
            var check = new KnownHostsStore(FilePath).Check("127.0.0.1", 2201, TestKeys.Ed25519B);
            Assert.Equal(HostKeyStatus.Changed, check.Status);
            Assert.Equal(3, check.LineNumber);
            Assert.Equal(HostKeyFingerprint.Compute(TestKeys.Ed25519A), check.RecordedFingerprint);
        }

        [Fact]
        public void A_known_host_presenting_a_key_of_another_type_is_changed()
        {
            // Issue 11: a man in the middle can offer an RSA key to a client that knows the host's ed25519 key.
            var store = new KnownHostsStore(FilePath);
            store.Add("127.0.0.1", 2201, TestKeys.Ed25519A);
            var check = store.Check("127.0.0.1", 2201, TestKeys.Rsa);
            Assert.Equal(HostKeyStatus.Changed, check.Status);
            Assert.Equal(1, check.LineNumber);
            Assert.Equal(HostKeyFingerprint.Compute(TestKeys.Ed25519A), check.RecordedFingerprint);
            Assert.Equal(new[] { "ssh-ed25519" }, check.OtherKeyTypes);
            // Either key on record (several types for one host, as ssh-keyscan records them) is known.
            store.Add("127.0.0.1", 2202, TestKeys.Rsa);
            File.AppendAllText(FilePath, "[127.0.0.1]:2202 ssh-ed25519 " + Convert.ToBase64String(TestKeys.Ed25519A) + "\n");
            Assert.Equal(HostKeyStatus.Known, store.Check("127.0.0.1", 2202, TestKeys.Ed25519A).Status);
            Assert.Equal(HostKeyStatus.Known, store.Check("127.0.0.1", 2202, TestKeys.Rsa).Status);
        }

        [Theory]
        [InlineData("evil,*")]
        [InlineData("*")]
        [InlineData("!esx01")]
        [InlineData("esx0?")]
        [InlineData("esx01 ssh-rsa")]
        [InlineData("[esx01]:22")]
        [InlineData("|1|abc|def")]
        public void Host_names_that_would_be_patterns_are_refused_and_nothing_is_written(string name)
        {
            var store = new KnownHostsStore(FilePath);
            var ex = Assert.Throws<ArgumentException>(() => store.Add(name, 22, TestKeys.Ed25519A));
            Assert.Contains("known-hosts", ex.Message);
            Assert.Throws<ArgumentException>(() => store.Check(name, 2201, TestKeys.Ed25519A));
            Assert.False(File.Exists(FilePath) && File.ReadAllText(FilePath).Length > 0);
        }

        [Theory]
        [InlineData("esx01.example.com")]
        [InlineData("DC0_H0")]
        [InlineData("192.168.1.10")]
        [InlineData("fe80::1")]
        public void Plain_host_names_and_addresses_are_recorded(string name)
        {
            var store = new KnownHostsStore(FilePath);
            store.Add(name, 22, TestKeys.Ed25519A);
            Assert.Equal(HostKeyStatus.Known, store.Check(name, 22, TestKeys.Ed25519A).Status);
        }

        [Fact]
        public void Hashed_entries_made_by_ssh_keygen_are_understood()
        {
            var store = new KnownHostsStore(FilePath);
            store.Add("127.0.0.1", 2201, TestKeys.Ed25519A);
            Assert.Equal(0, LocalShell.Tool("ssh-keygen", "-H", "-f", FilePath).Exit);
            Assert.StartsWith("|1|", File.ReadAllLines(FilePath).Single());

            Assert.Equal(HostKeyStatus.Known, store.Check("127.0.0.1", 2201, TestKeys.Ed25519A).Status);
            Assert.Equal(HostKeyStatus.Changed, store.Check("127.0.0.1", 2201, TestKeys.Ed25519B).Status);
            Assert.Equal(HostKeyStatus.Unknown, store.Check("127.0.0.2", 2201, TestKeys.Ed25519A).Status);
        }

        [Fact]
        public void Patterns_negation_and_revoked_marker()
        {
            var a = Convert.ToBase64String(TestKeys.Ed25519A);
            var b = Convert.ToBase64String(TestKeys.Ed25519B);
            Directory.CreateDirectory(Path.GetDirectoryName(FilePath)!);
            File.WriteAllLines(FilePath, new[]
            {
                "esx0?.lab,!esx09.lab ssh-ed25519 " + a,
                "@revoked * ssh-ed25519 " + b,
                "garbage",
            });
            var store = new KnownHostsStore(FilePath);
            Assert.Equal(HostKeyStatus.Known, store.Check("esx01.lab", 22, TestKeys.Ed25519A).Status);
            Assert.Equal(HostKeyStatus.Unknown, store.Check("esx09.lab", 22, TestKeys.Ed25519A).Status);
            Assert.Equal(HostKeyStatus.Revoked, store.Check("esx01.lab", 22, TestKeys.Ed25519B).Status);
        }

        [Fact]
        public void Adding_twice_writes_once_and_a_missing_final_newline_is_respected()
        {
            Directory.CreateDirectory(Path.GetDirectoryName(FilePath)!);
            File.WriteAllText(FilePath, "other.lab ssh-rsa " + Convert.ToBase64String(TestKeys.Rsa));
            var store = new KnownHostsStore(FilePath);
            store.Add("127.0.0.1", 2201, TestKeys.Ed25519A);
            store.Add("127.0.0.1", 2201, TestKeys.Ed25519A);
            var lines = File.ReadAllLines(FilePath);
            Assert.Equal(2, lines.Length);
            Assert.StartsWith("other.lab ssh-rsa ", lines[0]);
        }

        [Fact]
        public void Parallel_adds_from_many_writers_lose_and_tear_nothing()
        {
            // Separate store instances, as separate runspaces would have.
            // Each of 64 hosts is added twice, concurrently: 64 lines, no duplicates.
            Parallel.For(0, 128, new ParallelOptions { MaxDegreeOfParallelism = 16 }, i =>
            {
                var host = i % 64;
                new KnownHostsStore(FilePath).Add("127.0.0.1", 3000 + host, host % 2 == 0 ? TestKeys.Ed25519A : TestKeys.Rsa);
            });
            var lines = File.ReadAllLines(FilePath);
            Assert.Equal(64, lines.Length);
            Assert.Equal(64, lines.Distinct().Count());
            Assert.All(lines, l => Assert.True(KnownHostsStore.TryParse(l, out _)));
            Assert.False(File.Exists(FilePath + ".lock"));
        }

        [Fact]
        public void Default_path_honours_the_environment_override()
        {
            var old = Environment.GetEnvironmentVariable(KnownHostsStore.PathEnvironmentVariable);
            try
            {
                Environment.SetEnvironmentVariable(KnownHostsStore.PathEnvironmentVariable, FilePath);
                Assert.Equal(FilePath, KnownHostsStore.DefaultPath);
                Environment.SetEnvironmentVariable(KnownHostsStore.PathEnvironmentVariable, null);
                Assert.EndsWith(Path.Combine(".ssh", "mtvremediation_known_hosts"), KnownHostsStore.DefaultPath);
            }
            finally
            {
                Environment.SetEnvironmentVariable(KnownHostsStore.PathEnvironmentVariable, old);
            }
        }
    }
}
