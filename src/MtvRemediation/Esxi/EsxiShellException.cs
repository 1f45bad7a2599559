using System;
using System.Management.Automation;
using System.Net.Sockets;
using MtvRemediation.Infrastructure;
using Renci.SshNet.Common;

namespace MtvRemediation.Esxi
{
    /// <summary>A failure of the ESXi shell layer (connect, host key, authentication, remote command); ids: <see cref="EsxiShellErrorIds"/>.</summary>
    internal sealed class EsxiShellException : MtvException
    {
        public EsxiShellException(string errorId, ErrorCategory category, string message, string? recommendedAction = null, Exception? inner = null)
            : base(errorId, category, message, recommendedAction, inner)
        {
        }

        /// <summary>For HostKeyUnknown: the key the host presented, so that many new hosts can be answered with one summary.</summary>
        public UnknownHostKey? UnknownKey { get; set; }

        /// <summary>
        /// Several hosts with unknown keys as ONE error (a first connection to new hosts is one
        /// decision): each host with its endpoint and key to compare, and the one command that
        /// records them all; <paramref name="then"/> says what follows it (e.g. run the command again).
        /// </summary>
        public static EsxiShellException UnknownHostKeys(System.Collections.Generic.IReadOnlyList<(string Host, UnknownHostKey Key)> unknown, string trustAll, string then = "")
        {
            var hosts = string.Join(Environment.NewLine, System.Linq.Enumerable.Select(unknown, u => $"  {u.Host} ({u.Key.Endpoint}): {u.Key.Key}"));
            return new EsxiShellException(EsxiShellErrorIds.HostKeyUnknown, ErrorCategory.SecurityError,
                $"The SSH host keys of {unknown.Count} hosts are not known; nothing was sent to them:{Environment.NewLine}{hosts}{Environment.NewLine}" +
                "Compare each fingerprint with the host's own (on ESXi: 'for k in /etc/ssh/ssh_host_*_key.pub; do ssh-keygen -lf $k; done'), " +
                $"then record them all with one command: {trustAll}{then}",
                trustAll);
        }
    }

    /// <summary>A host key not yet known: where it was presented, what it is, and how the user logs in (never a secret).</summary>
    internal sealed class UnknownHostKey
    {
        public UnknownHostKey(string endpoint, string key, string loginHint)
        {
            Endpoint = endpoint;
            Key = key;
            LoginHint = loginHint;
        }

        /// <summary>address or [address]:port, as known_hosts names it.</summary>
        public string Endpoint { get; }

        /// <summary>Key type and SHA256 fingerprint.</summary>
        public string Key { get; }
        public string LoginHint { get; }
    }

    /// <summary>Which exceptions mean the SSH transport failed (the SSH library's and the socket's), for the one translation into host errors.</summary>
    internal static class EsxiShellFailures
    {
        /// <summary>
        /// True for what the SSH connection throws when it breaks (the shell translates most of it
        /// itself; this catches the rest). Not for programming errors or local file errors.
        /// </summary>
        public static bool IsTransportFailure(Exception ex) =>
            ex is SshException || ex is SocketException || ex is ObjectDisposedException ||
            (ex is AggregateException agg && agg.InnerExceptions.Count == 1 && IsTransportFailure(agg.InnerExceptions[0]));
    }
}
