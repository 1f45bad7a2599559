using System;

namespace MtvRemediation.VSphere
{
    /// <summary>
    /// A vSphere API fault (SOAP fault, or a task that ended in error). <see cref="FaultName"/> is the
    /// vim25 type name (e.g. <c>InvalidPowerState</c>, <c>FileNotFound</c>, <c>MethodDisabled</c>)
    /// so callers and error ids can be stable (<c>VIFault.&lt;FaultName&gt;</c>).
    /// </summary>
    public class VimFaultException : Exception
    {
        public VimFaultException(string faultName, string message, string? method = null)
            : base(BuildMessage(faultName, message, method))
        {
            FaultName = string.IsNullOrEmpty(faultName) ? "Unknown" : faultName;
            ServerMessage = message ?? "";
            Method = method;
        }

        /// <summary>vim25 fault type name without namespace prefix.</summary>
        public string FaultName { get; }

        /// <summary>The server's own message text (faultstring or localizedMessage).</summary>
        public string ServerMessage { get; }

        /// <summary>The vim25 method that failed, when known.</summary>
        public string? Method { get; }

        /// <summary>Stable error id for PowerShell error records.</summary>
        public string ErrorId => "VIFault." + FaultName;

        private static string BuildMessage(string faultName, string message, string? method)
        {
            var where = method == null ? "" : $" in {method}";
            var text = string.IsNullOrWhiteSpace(message) ? "(no message from the server)" : message.Trim();
            return $"vSphere fault {faultName}{where}: {text}";
        }
    }

    /// <summary>The session cookie is no longer valid (NotAuthenticated): the session expired or was logged out.</summary>
    public sealed class VISessionExpiredException : VimFaultException
    {
        public VISessionExpiredException(string server, string message, string? method)
            : base("NotAuthenticated", message, method)
        {
            Server = server;
        }

        public string Server { get; }
    }

    /// <summary>A transport-level failure: non-SOAP HTTP error, TLS failure, unreachable server.</summary>
    public sealed class VimTransportException : Exception
    {
        public VimTransportException(string message, Exception? inner = null) : base(message, inner) { }
    }
}
