using System;
using System.Management.Automation;
using MtvRemediation.Infrastructure;
using MtvRemediation.VSphere;

namespace MtvRemediation.Commands
{
    /// <summary>
    /// vSphere failures as error records, through the one error model (<see cref="MtvException"/>):
    /// faults and transport errors are MtvExceptions already; an expired session gets the
    /// reconnect step; anything else is wrapped with a stable id. Never includes secrets.
    /// </summary>
    internal static class VIErrors
    {
        public static ErrorRecord FromException(Exception ex, object? target, string? server = null)
        {
            switch (ex)
            {
                case VISessionExpiredException expired:
                    return Record(ex, VIErrorIds.SessionExpired, ErrorCategory.AuthenticationError, target,
                        $"The vCenter session to {server ?? expired.Server} has expired or was logged out ({expired.Method}). Log in again, or reconnect PowerCLI (Connect-VIServer), and retry.",
                        NextCommand.ConnectVCenter, server ?? expired.Server);
                case MtvException known:
                    return known.ToErrorRecord(target);
                case TimeoutException:
                    return Record(ex, VIErrorIds.OperationTimeout, ErrorCategory.OperationTimeout, target, ex.Message);
                default:
                    return Record(ex, VIErrorIds.UnexpectedError, ErrorCategory.NotSpecified, target, ex.Message);
            }
        }

        /// <summary>An error record for a cmdlet-level failure (the cause, when there is one, kept as inner exception).</summary>
        public static ErrorRecord Record(Exception? ex, string errorId, ErrorCategory category, object? target, string message,
            NextCommand next = NextCommand.None, string? nextTarget = null) =>
            new MtvException(errorId, category, message, null, ex) { Next = next, NextTarget = nextTarget }.ToErrorRecord(target);
    }
}
