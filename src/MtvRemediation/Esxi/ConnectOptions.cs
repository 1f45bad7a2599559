using System;
using System.Security;

namespace MtvRemediation.Esxi
{
    /// <summary>
    /// How to open an ESXi shell session, beyond credentials. Plain data so cmdlets, engines and
    /// tests build it the same way.
    /// </summary>
    internal sealed class ConnectOptions
    {
        /// <summary>Default time for the TCP connect, key exchange and login together.</summary>
        public static readonly TimeSpan DefaultConnectTimeout = TimeSpan.FromSeconds(15);

        /// <summary>SSH address when the inventory name is not it (null: the host name).</summary>
        public string? Address { get; set; }

        /// <summary>SSH port (null: 22).</summary>
        public int? Port { get; set; }

        /// <summary>Pinned fingerprint (<c>SHA256:...</c>): the presented key must match it.</summary>
        public string? HostKeyFingerprint { get; set; }

        /// <summary>Record an unknown host key (trust on first use, explicitly asked for).</summary>
        public bool TrustNewHostKey { get; set; }

        /// <summary>Known-hosts file (null: <see cref="KnownHostsStore.DefaultPath"/>).</summary>
        public string? KnownHostsPath { get; set; }

        public TimeSpan ConnectTimeout { get; set; } = DefaultConnectTimeout;

        /// <summary>Passphrase of the key file, when it is not carried by the credential.</summary>
        public SecureString? KeyPassphrase { get; set; }

        /// <summary>Open a new connection even when a live session for the host exists.</summary>
        public bool Force { get; set; }

        public ConnectOptions Clone() => (ConnectOptions)MemberwiseClone();
    }
}
