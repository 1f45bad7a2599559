using System;
using System.Management.Automation;
using MtvRemediation.Infrastructure;

namespace MtvRemediation.VSphere
{
    /// <summary>
    /// A vSphere API fault (SOAP fault, or a task that ended in error). <see cref="FaultName"/> is the
    /// vim25 type name (e.g. <c>InvalidPowerState</c>, <c>FileNotFound</c>, <c>MethodDisabled</c>)
    /// so callers and error ids can be stable (<c>VIFault.&lt;FaultName&gt;</c>).
    /// </summary>
    internal class VimFaultException : MtvException
    {
        public VimFaultException(string faultName, string message, string? method = null)
            : this(ErrorIds.VimFaultPrefix + Normalize(faultName), faultName, message, method)
        {
        }

        protected VimFaultException(string errorId, string faultName, string message, string? method)
            : base(errorId, CategoryFor(Normalize(faultName)), BuildMessage(faultName, message, method))
        {
            FaultName = Normalize(faultName);
            ServerMessage = message ?? "";
            Method = method;
        }

        /// <summary>vim25 fault type name without namespace prefix.</summary>
        public string FaultName { get; }

        /// <summary>The server's own message text (faultstring or localizedMessage).</summary>
        public string ServerMessage { get; }

        /// <summary>The vim25 method that failed, when known.</summary>
        public string? Method { get; }

        private static string Normalize(string faultName) => string.IsNullOrEmpty(faultName) ? "Unknown" : faultName;

        private static string BuildMessage(string faultName, string message, string? method)
        {
            var where = method == null ? "" : $" in {method}";
            var text = string.IsNullOrWhiteSpace(message) ? "(no message from the server)" : message.Trim();
            return $"vSphere fault {faultName}{where}: {text}";
        }

        /// <summary>The PowerShell category of a vim25 fault.</summary>
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

    /// <summary>The session cookie is no longer valid (NotAuthenticated): the session expired or was logged out.</summary>
    internal sealed class VISessionExpiredException : VimFaultException
    {
        public VISessionExpiredException(string server, string message, string? method)
            : base(VIErrorIds.SessionExpired, "NotAuthenticated", message, method)
        {
            Server = server;
            Next = NextCommand.ConnectVCenter;
            NextTarget = server;
        }

        public string Server { get; }
    }

    /// <summary>A transport-level failure: non-SOAP HTTP error, TLS failure, unreachable server.</summary>
    internal sealed class VimTransportException : MtvException
    {
        public VimTransportException(string message, Exception? inner = null)
            : base(VIErrorIds.TransportError, ErrorCategory.ConnectionError, message, null, inner) { }
    }
}
