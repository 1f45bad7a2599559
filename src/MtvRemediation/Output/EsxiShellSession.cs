using System;
using MtvRemediation.Esxi;

namespace MtvRemediation
{
    /// <summary>
    /// An ESXi shell (SSH) session kept in the current runspace. Live view: IsConnected and
    /// ConnectedAt follow the underlying connection, which host cmdlets reuse and re-open.
    /// </summary>
    public sealed class EsxiShellSession
    {
        internal EsxiShellSession(int id, SshEsxiShell shell)
        {
            Id = id;
            Shell = shell;
            shell.Session = this;
        }

        /// <summary>Session id, unique in this runspace.</summary>
        public int Id { get; }

        /// <summary>Host name as in the inventory (what -VMHost matches).</summary>
        public string VMHost => Shell.HostName;

        /// <summary>SSH address actually connected to.</summary>
        public string Address => Shell.Address;

        public int Port => Shell.Port;

        public string User => Shell.User;

        /// <summary>Fingerprint of the host key the host presented: <c>SHA256:...</c>.</summary>
        public string? HostKeyFingerprint => Shell.HostKeyFingerprint;

        /// <summary>Host key type, e.g. ssh-ed25519.</summary>
        public string? HostKeyType => Shell.HostKeyType;

        /// <summary>Negotiated key exchange algorithm.</summary>
        public string? KeyExchange => Shell.KeyExchangeAlgorithm;

        public bool IsConnected => !IsClosed && Shell.IsConnected;

        /// <summary>When the current connection was opened (local time).</summary>
        public DateTime ConnectedAt => Shell.ConnectedAtUtc.ToLocalTime();

        /// <summary>Number of SSH handshakes this session made (1 + transparent reconnects).</summary>
        public int ConnectCount => Shell.ConnectCount;

        /// <summary>True when Connect-EsxiShell -StartSshService started the host's SSH service for this session; closing it stops the service again.</summary>
        public bool SshServiceStarted { get; internal set; }

        internal SshEsxiShell Shell { get; }

        internal bool IsClosed => Shell.IsDisposed;

        public override string ToString() => $"{VMHost} (#{Id}, {User}@{KnownHostsStore.HostField(Address, Port)})";
    }
}
