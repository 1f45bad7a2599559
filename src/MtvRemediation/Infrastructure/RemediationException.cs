using System;
using System.Management.Automation;
using MtvRemediation.Infrastructure;

namespace MtvRemediation.Infrastructure
{
    /// <summary>A per-host or per-VM failure of a remediation engine (ids: <see cref="HostRemediationErrorIds"/>, <see cref="RunbookErrorIds"/>).</summary>
    internal sealed class RemediationException : MtvException
    {
        public RemediationException(string errorId, ErrorCategory category, string message, string? recommendedAction = null, Exception? inner = null)
            : base(errorId, category, message, recommendedAction, inner)
        {
        }
    }
}
