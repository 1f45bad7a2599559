using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;

// The one table of FullyQualifiedErrorIds (before the ",<command>" PowerShell appends). Grouped by
// area, all in this namespace: every area raises ids and Infrastructure depends on no other
// namespace of the module, so the table closes no cycle. about_MtvRemediation lists them all (a
// Pester gate compares). One id per failure kind: an unreachable host is always
// EsxiShellConnectFailed, whichever cmdlet met it; a remote command that did not answer in time,
// EsxiShellCommandTimeout.

namespace MtvRemediation.Infrastructure
{
    /// <summary>Every error id of the module, and the ids that belong to no single area.</summary>
    /// <remarks>
    /// Public: the ids are the module's contract with scripts (FullyQualifiedErrorId), and
    /// <see cref="All"/> is the table the about topic is checked against (ErrorIds.Tests.ps1).
    /// </remarks>
    public static class ErrorIds
    {
        /// <summary>A bug surfaced as one item's error instead of ending the process.</summary>
        public const string UnexpectedError = "UnexpectedError";

        /// <summary>vSphere faults: "VIFault." + the vim25 fault type name (VIFault.InvalidPowerState, ...).</summary>
        public const string VimFaultPrefix = "VIFault.";

        /// <summary>Every constant id of the tables below (VIFault.* is a pattern, listed by its prefix).</summary>
        public static IReadOnlyList<string> All()
        {
            var tables = new[]
            {
                typeof(ErrorIds), typeof(EsxiShellErrorIds), typeof(HostRemediationErrorIds), typeof(RunbookErrorIds),
                typeof(ChangeTrackingErrorIds), typeof(CloneFailureErrorIds), typeof(VIErrorIds),
                typeof(WrapperErrorIds), typeof(SshServiceErrorIds), typeof(WaveErrorIds),
            };
            return tables.SelectMany(t => t.GetFields(BindingFlags.Public | BindingFlags.Static))
                .Where(f => f.IsLiteral && f.FieldType == typeof(string))
                .Select(f => (string)f.GetRawConstantValue()!)
                .Distinct(StringComparer.Ordinal)
                .ToList();
        }
    }
    /// <summary>The ESXi shell layer and every host fan-out: connect, host key, authentication, remote command.</summary>
    internal static class EsxiShellErrorIds
    {
        public const string HostKeyUnknown = "EsxiShellHostKeyUnknown";
        public const string HostKeyChanged = "EsxiShellHostKeyChanged";
        public const string HostKeyMismatch = "EsxiShellHostKeyMismatch";
        public const string HostKeyRevoked = "EsxiShellHostKeyRevoked";
        public const string AuthenticationFailed = "EsxiShellAuthenticationFailed";

        /// <summary>The host cannot be reached over SSH (refused, reset, lost): the one id for an unreachable host.</summary>
        public const string ConnectFailed = "EsxiShellConnectFailed";
        public const string ConnectTimeout = "EsxiShellConnectTimeout";

        /// <summary>A remote command did not answer within its timeout.</summary>
        public const string CommandTimeout = "EsxiShellCommandTimeout";
        public const string CommandFailed = "EsxiShellCommandFailed";
        public const string HostUnresolved = "EsxiShellHostUnresolved";

        /// <summary>No session for the host and no -Credential/-KeyFilePath to open one.</summary>
        public const string NotConnected = "EsxiShellNotConnected";
        public const string SessionNotFound = "EsxiShellSessionNotFound";
        public const string KeyFileInvalid = "EsxiShellKeyFileInvalid";
        public const string InvalidArgument = "EsxiShellInvalidArgument";
    }
    /// <summary>The host remediation engines (log space, log clear, cron rotation, agent restarts).</summary>
    internal static class HostRemediationErrorIds
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
        public const string InvalidArgument = "HostRemediationInvalidArgument";
        public const string LogPathRefused = "LogPathRefused";
        public const string LogWriteBackFailed = "LogWriteBackFailed";
        public const string CrontabChangedMeanwhile = "CrontabChangedMeanwhile";
    }

    /// <summary>Invoke-MtvRemediation (besides the ids of the engines it reuses, which keep theirs).</summary>
    internal static class RunbookErrorIds
    {
        public const string HostDiagnosisFailed = "RunbookHostDiagnosisFailed";
        public const string VMDiagnosisFailed = "RunbookVMDiagnosisFailed";
        public const string VMHostUnknown = "RunbookVMHostUnknown";
        public const string VerifyFailed = "RunbookVerifyFailed";
        public const string ReportFailed = "RunbookReportFailed";
        public const string InvalidReportPath = "RunbookInvalidReportPath";
    }

    /// <summary>CBT resets: refusals (nothing changed) and failed resets.</summary>
    internal static class ChangeTrackingErrorIds
    {
        public const string VMIsTemplate = "VMIsTemplate";
        public const string DatastoreNotSearchable = "DatastoreNotSearchable";
        public const string VMHasSnapshots = "VMHasSnapshots";
        public const string VMSuspended = "VMSuspended";
        public const string VMPoweredOn = "VMPoweredOn";
        public const string VMToolsNotRunning = "VMToolsNotRunning";
        public const string ResetFailed = "ChangeTrackingResetFailed";
    }

    /// <summary>Resume-MtvPendingOperation: items it cannot act on (nothing is changed for them).</summary>
    internal static class PendingErrorIds
    {
        public const string UnknownKind = "PendingOperationUnknownKind";
        public const string ItemIncomplete = "PendingOperationIncomplete";
        public const string StillInUse = "PendingOperationStillInUse";
        public const string ResumeFailed = "PendingOperationResumeFailed";
    }

    /// <summary>Find-MtvCloneFailure.</summary>
    internal static class CloneFailureErrorIds
    {
        public const string NoSource = "CloneFailureNoSource";
        public const string InvalidLogPath = "CloneFailureInvalidLogPath";
        public const string FileUnreadable = "CloneFailureFileUnreadable";
        public const string PathNotFound = "CloneFailurePathNotFound";
        public const string PathNotFile = "CloneFailurePathNotFile";
        public const string PathIsDirectory = "CloneFailurePathIsDirectory";
        public const string HostScanFailed = "CloneFailureHostScanFailed";
        public const string HostScanTimeout = "CloneFailureHostScanTimeout";
        public const string HostParameterWithoutVMHost = "CloneFailureHostParameterWithoutVMHost";
    }
    /// <summary>vCenter connections, VM resolution and the vim25 client (faults: <see cref="ErrorIds.VimFaultPrefix"/>).</summary>
    internal static class VIErrorIds
    {
        public const string SessionExpired = "VISessionExpired";
        public const string TransportError = "VITransportError";
        public const string OperationTimeout = "VIOperationTimeout";
        public const string UnexpectedError = "VIUnexpectedError";
        public const string ServerNotConnected = "VIServerNotConnected";
        public const string ServerAdoptionFailed = "VIServerAdoptionFailed";
        public const string ServerInputInvalid = "VIServerInputInvalid";
        public const string CredentialMissingUser = "VICredentialMissingUser";
        public const string InvalidLogin = "VIInvalidLogin";
        public const string InvalidVMInput = "InvalidVMInput";
        public const string VMNotFound = "VMNotFound";
    }
    /// <summary>Error ids of the wrapper inventory, task directory and cluster object cmdlets.</summary>
    internal static class WrapperErrorIds
    {
        public const string InventoryFailed = "WrapperInventoryFailed";
        public const string LogNotApplicable = "WrapperLogNotApplicable";
        public const string TaskRemoveFailed = "WrapperTaskRemoveFailed";
        public const string TaskDirectoryInvalid = "WrapperTaskDirectoryInvalid";
        public const string ClusterObjectUnreadable = "MtvClusterObjectUnreadable";
        public const string ClusterObjectNotFound = "MtvClusterObjectNotFound";
        public const string ClusterObjectInvalidJson = "MtvClusterObjectInvalidJson";
        public const string ClusterObjectTooLarge = "MtvClusterObjectTooLarge";
    }
    /// <summary>Stable error ids of SSH on demand (Connect-EsxiShell -StartSshService, Disconnect-EsxiShell).</summary>
    internal static class SshServiceErrorIds
    {
        public const string NoVCenter = "SshServiceNoVCenter";
        public const string HostNotFound = "SshServiceHostNotFound";
        public const string StartFailed = "SshServiceStartFailed";
        public const string StopFailed = "SshServiceStopFailed";
    }
    /// <summary>Error ids of the wave readiness and its fixes (Test-MtvWaveReadiness, Set-EsxiDiskMaxLun, Set/Restore-EsxiHostdTmpMemory).</summary>
    internal static class WaveErrorIds
    {
        public const string HostNotFound = "WaveHostNotFound";
        public const string DiskMaxLunUnreadable = "DiskMaxLunUnreadable";
        public const string DiskMaxLunRefused = "DiskMaxLunRefused";
        public const string DiskMaxLunChangeFailed = "DiskMaxLunChangeFailed";
        public const string HostdTmpUnreadable = "HostdTmpUnreadable";
        public const string HostdTmpChangeFailed = "HostdTmpChangeFailed";
        public const string InvalidReportPath = "WaveInvalidReportPath";
        public const string ReportFailed = "WaveReportFailed";
    }
}
