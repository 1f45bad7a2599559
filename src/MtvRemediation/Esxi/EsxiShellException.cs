using System;
using System.Management.Automation;
using MtvRemediation.Infrastructure;

namespace MtvRemediation.Esxi
{
    /// <summary>A failure of the ESXi shell layer (connect, host key, authentication, remote command); ids: <see cref="EsxiShellErrorIds"/>.</summary>
    internal sealed class EsxiShellException : MtvException
    {
        public EsxiShellException(string errorId, ErrorCategory category, string message, string? recommendedAction = null, Exception? inner = null)
            : base(errorId, category, message, recommendedAction, inner)
        {
        }
    }
}
