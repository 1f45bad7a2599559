using System;
using System.Management.Automation;
using MtvRemediation.VSphere;

namespace MtvRemediation.Commands
{
    /// <summary>Maps vSphere failures to error records with stable ids and a next step. Never includes secrets.</summary>
    internal static class VIErrors
    {
        public static ErrorRecord FromException(Exception ex, object? target, string? server = null)
        {
            switch (ex)
            {
                case VISessionExpiredException expired:
                    return Record(ex, "VISessionExpired", ErrorCategory.AuthenticationError, target,
                        $"The vCenter session to {server ?? expired.Server} has expired or was logged out ({expired.Method}). Run Connect-MtvVIServer -Server {server ?? expired.Server} -Credential (Get-Credential), or reconnect PowerCLI (Connect-VIServer), and retry.");
                case VimFaultException fault:
                    return Record(ex, fault.ErrorId, CategoryFor(fault.FaultName), target, fault.Message);
                case VimTransportException:
                    return Record(ex, "VITransportError", ErrorCategory.ConnectionError, target, ex.Message);
                case TimeoutException:
                    return Record(ex, "VIOperationTimeout", ErrorCategory.OperationTimeout, target, ex.Message);
                default:
                    return Record(ex, "VIUnexpectedError", ErrorCategory.NotSpecified, target, ex.Message);
            }
        }

        public static ErrorRecord Record(Exception? ex, string id, ErrorCategory category, object? target, string message)
        {
            var exception = ex ?? new InvalidOperationException(message);
            return new ErrorRecord(exception, id, category, target)
            {
                ErrorDetails = new ErrorDetails(message),
            };
        }

        public static ErrorCategory CategoryFor(string faultName)
        {
            switch (faultName)
            {
                case "NoPermission":
                case "NotAuthenticated":
                case "InvalidLogin":
                    return ErrorCategory.PermissionDenied;
                case "FileNotFound":
                case "ManagedObjectNotFound":
                    return ErrorCategory.ObjectNotFound;
                case "InvalidArgument":
                case "InvalidDatastorePath":
                    return ErrorCategory.InvalidArgument;
                case "FileLocked":
                case "ResourceInUse":
                case "TaskInProgress":
                    return ErrorCategory.ResourceBusy;
                default:
                    return ErrorCategory.InvalidOperation;
            }
        }
    }
}
