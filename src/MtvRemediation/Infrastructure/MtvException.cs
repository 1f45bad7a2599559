using System;
using System.Management.Automation;

namespace MtvRemediation.Infrastructure
{
    /// <summary>
    /// A failure that carries what a cmdlet needs for a good <see cref="ErrorRecord"/>: a stable
    /// id, a category and a message that says what to do next. Messages never contain secrets.
    /// </summary>
    public abstract class MtvException : Exception
    {
        protected MtvException(string errorId, ErrorCategory category, string message, string? recommendedAction, Exception? inner)
            : base(message, inner)
        {
            ErrorId = errorId;
            Category = category;
            RecommendedAction = recommendedAction;
        }

        public string ErrorId { get; }
        public ErrorCategory Category { get; }

        /// <summary>The next step, also shown as ErrorDetails.RecommendedAction.</summary>
        public string? RecommendedAction { get; }

        /// <summary>An ErrorRecord with this error's id and category, targeting <paramref name="target"/>.</summary>
        public ErrorRecord ToErrorRecord(object? target)
        {
            var record = new ErrorRecord(this, ErrorId, Category, target);
            if (RecommendedAction != null)
            {
                record.ErrorDetails = new ErrorDetails(Message) { RecommendedAction = RecommendedAction };
            }
            return record;
        }
    }
}
