using System;
using System.Management.Automation;
using MtvRemediation.Infrastructure;

namespace MtvRemediation.Esxi
{
    /// <summary>Stable error ids of the ESXi shell layer (FullyQualifiedErrorId prefixes).</summary>
    public static class EsxiShellErrorIds
    {
        public const string HostKeyUnknown = "EsxiShellHostKeyUnknown";
        public const string HostKeyChanged = "EsxiShellHostKeyChanged";
        public const string HostKeyMismatch = "EsxiShellHostKeyMismatch";
        public const string HostKeyRevoked = "EsxiShellHostKeyRevoked";
        public const string AuthenticationFailed = "EsxiShellAuthenticationFailed";
        public const string ConnectFailed = "EsxiShellConnectFailed";
        public const string ConnectTimeout = "EsxiShellConnectTimeout";
        public const string CommandTimeout = "EsxiShellCommandTimeout";
        public const string CommandFailed = "EsxiShellCommandFailed";
        public const string HostUnresolved = "EsxiShellHostUnresolved";
        public const string NotConnected = "EsxiShellNotConnected";
        public const string KeyFileInvalid = "EsxiShellKeyFileInvalid";
        public const string InvalidArgument = "EsxiShellInvalidArgument";
    }

    /// <summary>A failure of the ESXi shell layer (connect, host key, authentication, remote command).</summary>
    public sealed class EsxiShellException : MtvException
    {
        public EsxiShellException(string errorId, ErrorCategory category, string message, string? recommendedAction = null, Exception? inner = null)
            : base(errorId, category, message, recommendedAction, inner)
        {
        }
    }
}
