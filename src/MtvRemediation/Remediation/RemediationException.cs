using System;
using System.Management.Automation;

namespace MtvRemediation.Remediation
{
    /// <summary>Stable FullyQualifiedErrorIds of the host remediation cmdlets.</summary>
    public static class HostRemediationErrorIds
    {
        public const string LogSpaceCheckFailed = "LogSpaceCheckFailed";
        public const string LogClearFailed = "LogClearFailed";
        public const string ArchiveFailed = "ArchiveFailed";
        public const string ArchiveVerificationFailed = "ArchiveVerificationFailed";
        public const string CrontabLocked = "CrontabLocked";
        public const string CrontabReadFailed = "CrontabReadFailed";
        public const string CrontabWriteFailed = "CrontabWriteFailed";
        public const string CrondReloadFailed = "CrondReloadFailed";
        public const string AgentRestartFailed = "AgentRestartFailed";
        public const string AgentRestartTimeout = "AgentRestartTimeout";
        public const string VMHostUnreachable = "VMHostUnreachable";
        public const string InvalidArgument = "HostRemediationInvalidArgument";
    }

    /// <summary>A per-host failure with a stable id, a category and a message that says what to do next.</summary>
    public sealed class RemediationException : Exception
    {
        public RemediationException(string errorId, ErrorCategory category, string message, string? recommendedAction = null, Exception? inner = null)
            : base(message, inner)
        {
            ErrorId = errorId;
            Category = category;
            RecommendedAction = recommendedAction;
        }

        public string ErrorId { get; }
        public ErrorCategory Category { get; }
        public string? RecommendedAction { get; }

        public ErrorRecord ToErrorRecord(object? target)
        {
            var record = new ErrorRecord(this, ErrorId, Category, target);
            if (RecommendedAction != null) record.ErrorDetails = new ErrorDetails(Message) { RecommendedAction = RecommendedAction };
            return record;
        }
    }
}
