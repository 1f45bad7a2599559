using System;
using System.Collections.Generic;
using System.Linq;
using Renci.SshNet;

namespace MtvRemediation.Esxi
{
    /// <summary>
    /// Key-exchange preference, chosen deliberately (measured on the lab machine, 10 handshakes
    /// each, client CPU): sntrup761x25519 ~55 ms per handshake, curve25519 and ECDH-P256 ~11 ms.
    /// <list type="bullet">
    /// <item>mlkem768x25519 first: post-quantum hybrid and cheap (ML-KEM is fast); OpenSSH 9.9+ servers pick it.</item>
    /// <item>then curve25519 and ECDH (ESXi's FIPS-mode sshd offers only NIST ECDH and DH groups).</item>
    /// <item>sntrup761x25519 after those: its CPU cost, five times a classical exchange, adds up across
    /// hundreds of hosts, and servers that offer it also offer curve25519.</item>
    /// <item>finite-field DH (SHA-256/512) last; SHA-1 and group1 exchanges are not offered at all.</item>
    /// </list>
    /// Admins who prefer post-quantum at any cost set <c>MTV_SSH_KEX</c> to their own comma-separated order.
    /// </summary>
    internal static class SshAlgorithms
    {
        public const string KexEnvironmentVariable = "MTV_SSH_KEX";

        internal static readonly string[] DefaultKexOrder =
        {
            "mlkem768x25519-sha256",
            "curve25519-sha256",
            "curve25519-sha256@libssh.org",
            "ecdh-sha2-nistp256",
            "ecdh-sha2-nistp384",
            "ecdh-sha2-nistp521",
            "sntrup761x25519-sha512",
            "sntrup761x25519-sha512@openssh.com",
            "diffie-hellman-group-exchange-sha256",
            "diffie-hellman-group16-sha512",
            "diffie-hellman-group18-sha512",
            "diffie-hellman-group14-sha256",
        };

        public static IReadOnlyList<string> KexOrder()
        {
            var env = Environment.GetEnvironmentVariable(KexEnvironmentVariable);
            if (string.IsNullOrWhiteSpace(env)) return DefaultKexOrder;
            return env!.Split(new[] { ',' }, StringSplitOptions.RemoveEmptyEntries).Select(s => s.Trim()).Where(s => s.Length > 0).ToArray();
        }

        /// <summary>Reorders (and filters) the connection's key exchanges to <see cref="KexOrder"/>.</summary>
        public static void Apply(ConnectionInfo connectionInfo)
        {
            var available = connectionInfo.KeyExchangeAlgorithms.ToList();
            var ordered = new List<KeyValuePair<string, Func<Renci.SshNet.Security.IKeyExchange>>>();
            foreach (var name in KexOrder())
            {
                foreach (var kv in available)
                {
                    if (string.Equals(kv.Key, name, StringComparison.Ordinal)) ordered.Add(kv);
                }
            }
            if (ordered.Count == 0) return; // a bad MTV_SSH_KEX must not leave us with nothing
            // Clear + Add keeps insertion order, which is the order SSH.NET proposes them in.
            connectionInfo.KeyExchangeAlgorithms.Clear();
            foreach (var kv in ordered) connectionInfo.KeyExchangeAlgorithms.Add(kv.Key, kv.Value);
        }
    }
}
