using System;
using System.Management.Automation;

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

    /// <summary>
    /// A failure of the ESXi shell layer that carries what a cmdlet needs for a good
    /// <see cref="ErrorRecord"/>: a stable id, a category and a message that says what to do next.
    /// Messages never contain passwords or passphrases.
    /// </summary>
    public sealed class EsxiShellException : Exception
    {
        public EsxiShellException(string errorId, ErrorCategory category, string message, string? recommendedAction = null, Exception? inner = null)
            : base(message, inner)
        {
            ErrorId = errorId;
            Category = category;
            RecommendedAction = recommendedAction;
        }

        public string ErrorId { get; }
        public ErrorCategory Category { get; }

        /// <summary>The next step, also shown as ErrorDetails.RecommendedAction.</summary>
        public string? RecommendedAction { get; }

        /// <summary>An ErrorRecord with this error's id and category, targeting <paramref name="target"/>.</summary>
        public ErrorRecord ToErrorRecord(object? target)
        {
            var record = new ErrorRecord(this, ErrorId, Category, target);
            if (RecommendedAction != null)
            {
                record.ErrorDetails = new ErrorDetails(Message) { RecommendedAction = RecommendedAction };
            }
            return record;
        }
    }
}
