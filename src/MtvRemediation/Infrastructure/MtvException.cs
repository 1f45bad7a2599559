using System;
using System.Management.Automation;

namespace MtvRemediation.Infrastructure
{
    /// <summary>
    /// The one error model of the module: every failure that reaches a user is an MtvException
    /// (shell, host remediation, vSphere faults and transport, runbook, cmdlet arguments) carrying
    /// a stable id from <see cref="ErrorIds"/>' table, a category and a message that says what to
    /// do next. Engines phrase the next step without naming a cmdlet: when running the same
    /// command again is part of it (<see cref="RerunCompletes"/>) the cmdlet names itself, and when
    /// another command of the module is (<see cref="Next"/>) the cmdlet layer names that one
    /// (Commands/ErrorRecords.cs, where ErrorRecords are made). Messages never contain secrets.
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

        /// <summary>Another command of the module that takes the next step (named by the cmdlet layer).</summary>
        internal NextCommand Next { get; set; }

        /// <summary>The host or server <see cref="Next"/> works on, when it takes one.</summary>
        internal string? NextTarget { get; set; }
    }
}
