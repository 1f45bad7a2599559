using System;
using System.IO;
using MtvRemediation.Esxi;
using Xunit;

namespace MtvRemediation.Tests.Esxi
{
    public class HostKeyFingerprintTests
    {
        [Theory]
        [InlineData("ed25519")]
        [InlineData("rsa")]
        [InlineData("ecdsa")]
        public void Matches_what_ssh_keygen_prints(string type)
        {
            var dir = Directory.CreateTempSubdirectory("mtvfp").FullName;
            try
            {
                var key = Path.Combine(dir, "k");
                var gen = LocalShell.Tool("ssh-keygen", "-q", "-t", type, "-N", "", "-f", key);
                Assert.Equal(0, gen.Exit);
                var pub = File.ReadAllText(key + ".pub").Split(' ');
                var blob = Convert.FromBase64String(pub[1]);
                var printed = LocalShell.Tool("ssh-keygen", "-l", "-E", "sha256", "-f", key + ".pub").Stdout.Split(' ')[1];

                Assert.Equal(printed, HostKeyFingerprint.Compute(blob));
                Assert.Equal(pub[0], HostKeyFingerprint.KeyTypeOf(blob));
            }
            finally
            {
                Directory.Delete(dir, true);
            }
        }

        [Theory]
        [InlineData("SHA256:5u7srldVXqWJtcdx+r1ms8F62wE38QhwHmfAVjWera8")]
        [InlineData("sha256:5u7srldVXqWJtcdx+r1ms8F62wE38QhwHmfAVjWera8")]
        [InlineData("5u7srldVXqWJtcdx+r1ms8F62wE38QhwHmfAVjWera8")]
        [InlineData("5u7srldVXqWJtcdx+r1ms8F62wE38QhwHmfAVjWera8=")]
        [InlineData("  SHA256:5u7srldVXqWJtcdx+r1ms8F62wE38QhwHmfAVjWera8 ")]
        public void Normalizes_the_forms_admins_paste(string input)
        {
            Assert.True(HostKeyFingerprint.TryNormalize(input, out var n));
            Assert.Equal("SHA256:5u7srldVXqWJtcdx+r1ms8F62wE38QhwHmfAVjWera8", n);
        }

        [Theory]
        [InlineData(null)]
        [InlineData("")]
        [InlineData("SHA256:")]
        [InlineData("SHA256:tooShort")]
        [InlineData("MD5:3b:2f:8a:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd")]
        [InlineData("3b:2f:8a:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd")]
        [InlineData("SHA256:5u7srldVXqWJtcdx+r1ms8F62wE38QhwHmfAVjWer!8")]
        public void Refuses_anything_else(string? input)
        {
            Assert.False(HostKeyFingerprint.TryNormalize(input, out _));
        }

        [Fact]
        public void KeyTypeOf_rejects_garbage()
        {
            Assert.Throws<FormatException>(() => HostKeyFingerprint.KeyTypeOf(new byte[] { 0, 0 }));
            Assert.Throws<FormatException>(() => HostKeyFingerprint.KeyTypeOf(new byte[] { 0x7f, 0, 0, 1, 65 }));
        }
    }
}
