using System;
using System.IO;
using System.Linq;
using MtvRemediation.Esxi;
using MtvRemediation.Infrastructure;
using Xunit;

namespace MtvRemediation.Tests.Esxi
{
    public sealed class HostKeyVerifierTests : IDisposable
    {
        private readonly string _dir = Directory.CreateTempSubdirectory("mtvhkv").FullName;
        private KnownHostsStore Store => new KnownHostsStore(Path.Combine(_dir, "known_hosts"));
        private static string FpA => HostKeyFingerprint.Compute(TestKeys.Ed25519A);
        private static string FpB => HostKeyFingerprint.Compute(TestKeys.Ed25519B);

        public void Dispose() => Directory.Delete(_dir, true);

        private HostKeyVerifier Verifier(string? pinned = null, bool trustNew = false, string? session = null)
            => new HostKeyVerifier("esx01", "127.0.0.1", 2201, Store, pinned, trustNew, session);

        [Fact]
        public void Unknown_key_is_refused_with_fingerprint_and_the_commands_to_trust_it()
        {
            var v = Verifier();
            Assert.False(v.Decide(TestKeys.Ed25519A));
            Assert.Equal(EsxiShellErrorIds.HostKeyUnknown, v.Rejection!.ErrorId);
            Assert.Contains(FpA, v.Rejection.Message);
            Assert.Contains($"Connect-EsxiShell -VMHost 'esx01' -Address '127.0.0.1' -Port 2201 -Credential <credential> -HostKeyFingerprint '{FpA}'", v.Rejection.Message);
            var withKey = new HostKeyVerifier("esx01", "esx01", 22, Store, null, false, null, knownHostsPathGiven: true) { LoginHint = "-KeyFilePath '/k'" };
            Assert.False(withKey.Decide(TestKeys.Ed25519A));
            Assert.Contains($"Connect-EsxiShell -VMHost 'esx01' -KnownHostsPath '{Store.FilePath}' -KeyFilePath '/k' -TrustNewHostKey", withKey.Rejection!.Message);
            Assert.Contains("-TrustNewHostKey", v.Rejection.Message);
            Assert.False(File.Exists(Store.FilePath), "refusing must not record anything");
        }

        [Fact]
        public void TrustNewHostKey_records_it_and_the_next_connection_knows_it()
        {
            var v = Verifier(trustNew: true);
            Assert.True(v.Decide(TestKeys.Ed25519A));
            Assert.True(v.Recorded);
            Assert.Null(v.Rejection);
            var again = Verifier();
            Assert.True(again.Decide(TestKeys.Ed25519A));
            Assert.False(again.Recorded);
        }

        [Fact]
        public void Matching_pin_is_accepted_and_recorded_other_pin_refused()
        {
            Assert.False(Verifier(pinned: FpB).Decide(TestKeys.Ed25519A));
            Assert.False(File.Exists(Store.FilePath));
            var v = Verifier(pinned: FpA);
            Assert.True(v.Decide(TestKeys.Ed25519A));
            Assert.Equal(HostKeyStatus.Known, Store.Check("127.0.0.1", 2201, TestKeys.Ed25519A).Status);
        }

        [Fact]
        public void Pin_that_contradicts_a_known_key_is_refused()
        {
            Store.Add("127.0.0.1", 2201, TestKeys.Ed25519A);
            var v = Verifier(pinned: FpB);
            Assert.False(v.Decide(TestKeys.Ed25519A));
            Assert.Equal(EsxiShellErrorIds.HostKeyMismatch, v.Rejection!.ErrorId);
        }

        [Fact]
        public void Changed_key_is_refused_even_with_TrustNewHostKey_or_a_matching_pin()
        {
            Store.Add("127.0.0.1", 2201, TestKeys.Ed25519A);
            foreach (var v in new[] { Verifier(), Verifier(trustNew: true), Verifier(pinned: FpB) })
            {
                Assert.False(v.Decide(TestKeys.Ed25519B));
                Assert.Equal(EsxiShellErrorIds.HostKeyChanged, v.Rejection!.ErrorId);
                Assert.Contains("HAS CHANGED", v.Rejection.Message);
                Assert.Contains(FpA, v.Rejection.Message);
                Assert.Contains(FpB, v.Rejection.Message);
                Assert.Contains("ssh-keygen -R '[127.0.0.1]:2201'", v.Rejection.Message);
            }
            Assert.Single(File.ReadAllLines(Store.FilePath));
        }

        [Fact]
        public void Reconnect_refuses_a_key_other_than_the_one_the_session_trusted()
        {
            Store.Add("127.0.0.1", 2201, TestKeys.Ed25519B);
            var v = Verifier(session: FpA);
            Assert.False(v.Decide(TestKeys.Ed25519B));
            Assert.Equal(EsxiShellErrorIds.HostKeyChanged, v.Rejection!.ErrorId);
        }

        [Fact]
        public void Revoked_key_is_refused()
        {
            File.WriteAllText(Store.FilePath, "@revoked [127.0.0.1]:2201 ssh-ed25519 " + Convert.ToBase64String(TestKeys.Ed25519A) + "\n");
            var v = Verifier(trustNew: true);
            Assert.False(v.Decide(TestKeys.Ed25519A));
            Assert.Equal(EsxiShellErrorIds.HostKeyRevoked, v.Rejection!.ErrorId);
        }
    }
}
