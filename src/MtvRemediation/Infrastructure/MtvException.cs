using System;
using System.Management.Automation;

namespace MtvRemediation.Infrastructure
{
    /// <summary>
    /// The one error model of the module: every failure that reaches a user is an MtvException
    /// (shell, host remediation, vSphere faults and transport, runbook, cmdlet arguments) carrying
    /// a stable id from <see cref="ErrorIds"/>' table, a category and a message that says what to
    /// do next. Engines phrase the next step without naming a cmdlet; when running the same
    /// command again is part of it (<see cref="RerunCompletes"/>), the cmdlet names itself in
    /// <see cref="ToErrorRecord(object?, string?)"/>. Messages never contain secrets.
    /// </summary>
    /// <remarks>
    /// Public so scripts can catch it (<c>catch [MtvRemediation.Infrastructure.MtvException]</c>) and
    /// read ErrorId, Category and RecommendedAction; the kinds derived from it and its construction
    /// are internal.
    /// </remarks>
    public class MtvException : Exception
    {
        internal MtvException(string errorId, ErrorCategory category, string message, string? recommendedAction = null, Exception? inner = null)
            : base(message, inner)
        {
            ErrorId = errorId;
            Category = category;
            RecommendedAction = recommendedAction;
        }

        public string ErrorId { get; }
        public ErrorCategory Category { get; }

        /// <summary>The next step (names no cmdlet), also shown as ErrorDetails.RecommendedAction.</summary>
        public string? RecommendedAction { get; }

        /// <summary>Running the same command again, once the cause is fixed, completes the work.</summary>
        public bool RerunCompletes { get; internal set; }

        /// <summary>
        /// An ErrorRecord with this error's id and category, targeting <paramref name="target"/>;
        /// <paramref name="commandName"/> (the cmdlet writing it) completes a re-run hint.
        /// </summary>
        internal ErrorRecord ToErrorRecord(object? target, string? commandName = null)
        {
            var record = new ErrorRecord(this, ErrorId, Category, target);
            var rerun = RerunCompletes ? $" Then run {commandName ?? "the command"} again." : string.Empty;
            if (RecommendedAction != null || rerun.Length > 0)
            {
                record.ErrorDetails = new ErrorDetails(Message + rerun)
                {
                    RecommendedAction = ((RecommendedAction ?? string.Empty) + rerun).Trim(),
                };
            }
            return record;
        }
    }
}
