using System;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Net;
using MtvRemediation.Esxi;
using MtvRemediation.Infrastructure;
using Renci.SshNet;
using Xunit;

namespace MtvRemediation.Tests.Esxi
{
    public sealed class SshConnectSpecTests : IDisposable
    {
        private const string Secret = "S3cr3t-pa55-NEVER-SHOWN";
        private readonly string _dir = Directory.CreateTempSubdirectory("mtvspec").FullName;

        public void Dispose() => Directory.Delete(_dir, true);

        private static PSCredential Cred(string user, string password) => new PSCredential(user, new NetworkCredential("", password).SecurePassword);

        private string NewKey(string passphrase, string format = "RFC4716")
        {
            var path = Path.Combine(_dir, Guid.NewGuid().ToString("N"));
            var args = format == "PEM"
                ? new[] { "-q", "-t", "rsa", "-b", "2048", "-m", "PEM", "-N", passphrase, "-f", path }
                : new[] { "-q", "-t", "ed25519", "-N", passphrase, "-f", path };
            Assert.Equal(0, LocalShell.Tool("ssh-keygen", args).Exit);
            return path;
        }

        [Fact]
        public void Password_is_offered_as_password_and_keyboard_interactive()
        {
            using var spec = SshConnectSpec.Create("esx01", Cred("root", Secret), null, new ConnectOptions { Address = "127.0.0.1", Port = 2201 });
            Assert.Equal("root", spec.User);
            Assert.Equal("127.0.0.1", spec.Address);
            Assert.Equal(2201, spec.Port);
            Assert.Equal(new[] { "password", "keyboard-interactive" }, spec.CreateAuthenticationMethods().Select(m => m.Name));
        }

        [Fact]
        public void Address_defaults_to_the_host_name_and_port_to_22()
        {
            using var spec = SshConnectSpec.Create("esx01.lab", Cred("root", Secret), null, new ConnectOptions());
            Assert.Equal("esx01.lab", spec.Address);
            Assert.Equal(22, spec.Port);
        }

        [Theory]
        [InlineData("RFC4716")]
        [InlineData("PEM")]
        public void Encrypted_key_takes_its_passphrase_from_the_credential_which_is_then_not_a_login_password(string format)
        {
            var key = NewKey("passphrase1", format);
            using var spec = SshConnectSpec.Create("esx01", Cred("admin", "passphrase1"), key, new ConnectOptions());
            Assert.Equal("admin", spec.User);
            Assert.Equal(new[] { "publickey" }, spec.CreateAuthenticationMethods().Select(m => m.Name));
        }

        [Fact]
        public void KeyPassphrase_frees_the_credential_password_for_a_login_fallback()
        {
            var key = NewKey("passphrase2");
            var options = new ConnectOptions { KeyPassphrase = new NetworkCredential("", "passphrase2").SecurePassword };
            using var spec = SshConnectSpec.Create("esx01", Cred("root", Secret), key, options);
            Assert.Equal(new[] { "publickey", "password", "keyboard-interactive" }, spec.CreateAuthenticationMethods().Select(m => m.Name));
        }

        [Fact]
        public void Key_without_credential_logs_in_as_root()
        {
            var key = NewKey("");
            using var spec = SshConnectSpec.Create("esx01", null, key, new ConnectOptions());
            Assert.Equal("root", spec.User);
        }

        [Fact]
        public void Encrypted_key_without_passphrase_says_how_to_pass_it()
        {
            var key = NewKey("passphrase3");
            var ex = Assert.Throws<EsxiShellException>(() => SshConnectSpec.Create("esx01", null, key, new ConnectOptions()));
            Assert.Equal(EsxiShellErrorIds.KeyFileInvalid, ex.ErrorId);
            Assert.Contains("-KeyPassphrase", ex.Message);
        }

        [Fact]
        public void Wrong_passphrase_is_a_key_error_without_the_secret()
        {
            var key = NewKey("passphrase4", "PEM");
            var ex = Assert.Throws<EsxiShellException>(() => SshConnectSpec.Create("esx01", Cred("root", Secret), key, new ConnectOptions()));
            Assert.Equal(EsxiShellErrorIds.KeyFileInvalid, ex.ErrorId);
            Assert.DoesNotContain(Secret, ex.ToString());
        }

        [Fact]
        public void Missing_key_file_and_bad_pin_and_no_credential_have_ids()
        {
            Assert.Equal(EsxiShellErrorIds.KeyFileInvalid,
                Assert.Throws<EsxiShellException>(() => SshConnectSpec.Create("esx01", null, Path.Combine(_dir, "nope"), new ConnectOptions())).ErrorId);
            Assert.Equal(EsxiShellErrorIds.InvalidArgument,
                Assert.Throws<EsxiShellException>(() => SshConnectSpec.Create("esx01", Cred("root", Secret), null, new ConnectOptions { HostKeyFingerprint = "MD5:aa:bb" })).ErrorId);
            Assert.Equal(EsxiShellErrorIds.InvalidArgument,
                Assert.Throws<EsxiShellException>(() => SshConnectSpec.Create("esx01", null, null, new ConnectOptions())).ErrorId);
        }

        [Fact]
        public void Pin_is_normalized()
        {
            using var spec = SshConnectSpec.Create("esx01", Cred("root", Secret), null,
                new ConnectOptions { HostKeyFingerprint = "5u7srldVXqWJtcdx+r1ms8F62wE38QhwHmfAVjWera8=" });
            Assert.Equal("SHA256:5u7srldVXqWJtcdx+r1ms8F62wE38QhwHmfAVjWera8", spec.PinnedFingerprint);
        }

        [Fact]
        public void Keyboard_interactive_answers_password_prompts_with_the_password()
        {
            using var spec = SshConnectSpec.Create("esx01", Cred("root", Secret), null, new ConnectOptions());
            var kbd = spec.CreateAuthenticationMethods().OfType<KeyboardInteractiveAuthenticationMethod>().Single();
            var prompts = new[]
            {
                new Renci.SshNet.Common.AuthenticationPrompt(0, false, "Password: "),
                new Renci.SshNet.Common.AuthenticationPrompt(1, true, "Login: "),
            };
            var raise = typeof(KeyboardInteractiveAuthenticationMethod).GetField("AuthenticationPrompt", System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic)!;
            var handler = (EventHandler<Renci.SshNet.Common.AuthenticationPromptEventArgs>)raise.GetValue(kbd)!;
            handler(kbd, new Renci.SshNet.Common.AuthenticationPromptEventArgs("root", "", "", prompts));
            Assert.Equal(Secret, prompts[0].Response);
            Assert.Equal("root", prompts[1].Response);
        }

        [Fact]
        public void Kex_order_prefers_cheap_and_post_quantum_and_drops_sha1()
        {
            var info = new ConnectionInfo("127.0.0.1", 22, "root", new NoneAuthenticationMethod("root"));
            SshAlgorithms.Apply(info);
            var names = info.KeyExchangeAlgorithms.Keys.ToList();
            Assert.Equal("mlkem768x25519-sha256", names[0]);
            Assert.Equal("curve25519-sha256", names[1]);
            Assert.True(names.IndexOf("ecdh-sha2-nistp256") < names.IndexOf("sntrup761x25519-sha512"));
            Assert.DoesNotContain(names, n => n.EndsWith("sha1", StringComparison.Ordinal));
        }
    }
}
