using System;
using System.IO;

namespace MtvRemediation.Tests.Esxi
{
    /// <summary>Real public keys made by ssh-keygen (once per test run), as SSH wire-format blobs.</summary>
    internal static class TestKeys
    {
        private static readonly Lazy<(byte[] A, byte[] B, byte[] Rsa)> Keys = new Lazy<(byte[], byte[], byte[])>(() =>
        {
            var dir = Directory.CreateTempSubdirectory("mtvkeys").FullName;
            try
            {
                return (Make(dir, "a", "ed25519"), Make(dir, "b", "ed25519"), Make(dir, "r", "rsa"));
            }
            finally
            {
                Directory.Delete(dir, true);
            }
        });

        public static byte[] Ed25519A => Keys.Value.A;
        public static byte[] Ed25519B => Keys.Value.B;
        public static byte[] Rsa => Keys.Value.Rsa;

        private static byte[] Make(string dir, string name, string type)
        {
            var path = Path.Combine(dir, name);
            var r = LocalShell.Tool("ssh-keygen", "-q", "-t", type, "-N", "", "-f", path);
            if (r.Exit != 0) throw new InvalidOperationException("ssh-keygen failed");
            return Convert.FromBase64String(File.ReadAllText(path + ".pub").Split(' ')[1]);
        }
    }
}
