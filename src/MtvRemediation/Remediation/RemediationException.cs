using System;
using System.Management.Automation;
using MtvRemediation.Infrastructure;

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
        public const string LogPathRefused = "LogPathRefused";
        public const string LogWriteBackFailed = "LogWriteBackFailed";
        public const string CrontabChangedMeanwhile = "CrontabChangedMeanwhile";
    }

    /// <summary>A per-host failure of a host remediation engine.</summary>
    public sealed class RemediationException : MtvException
    {
        public RemediationException(string errorId, ErrorCategory category, string message, string? recommendedAction = null, Exception? inner = null)
            : base(errorId, category, message, recommendedAction, inner)
        {
        }
    }
}
