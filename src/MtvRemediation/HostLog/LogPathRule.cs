using System.Linq;
using System.Management.Automation;
using MtvRemediation.Esxi;
using MtvRemediation.Infrastructure;

namespace MtvRemediation.HostLog
{
    /// <summary>What the log-path rule (Scripts/logpath.sh, <c>logpath_kind</c>) found at a path.</summary>
    internal enum LogPathKind
    {
        RegularFile = 0,
        Missing = 1,
        Symlink = 2,
        NotRegularFile = 3,
        Unknown = -1,
    }

    /// <summary>
    /// The C# side of the module's one log-path rule. The rule itself is shell (logpath.sh), run on
    /// the host by the probe, the clear, the archive and the rotation cron job; this class reads its
    /// answers, words the refusal and hands the cron job the same function text.
    /// </summary>
    internal static class LogPathRule
    {
        /// <summary>Exit status of the clear's scripts when the rule refuses the path.</summary>
        public const int RefusedExitStatus = 9;

        /// <summary>Exit status of the clear's scripts when nothing is at the path (rotated away).</summary>
        public const int MissingExitStatus = 4;

        /// <summary>The <c>logpath_kind</c> function as one line of shell, for the cron job's command.</summary>
        public static string FunctionLine { get; } = RemoteScript.Raw("logpath.sh").Split('\n')
            .Single(l => l.StartsWith("logpath_kind()", System.StringComparison.Ordinal)).Trim();

        public static LogPathKind ParseKind(string text)
        {
            var v = RemoteOps.ParseLong(text);
            return v >= 0 && v <= 3 ? (LogPathKind)(int)v.Value : LogPathKind.Unknown;
        }

        public static string Describe(LogPathKind kind) => kind switch
        {
            LogPathKind.Symlink => "a symbolic link",
            LogPathKind.NotRegularFile => "not a regular file (a directory, fifo or device)",
            LogPathKind.Missing => "missing",
            _ => "of an unknown kind",
        };

        /// <summary>The refusal: the module truncates, measures and archives only a regular file at the log path itself.</summary>
        public static RemediationException Refused(string host, string path, LogPathKind kind, string? linkTarget, bool changedNothing)
        {
            var target = kind == LogPathKind.Symlink && !string.IsNullOrEmpty(linkTarget) ? $" (to '{linkTarget}')" : string.Empty;
            return new RemediationException(HostRemediationErrorIds.LogPathRefused,
                kind == LogPathKind.Symlink ? ErrorCategory.SecurityError : ErrorCategory.InvalidType,
                $"{path} on '{host}' is {Describe(kind)}{target}; the module only measures, archives or truncates a regular file at the log path itself, never what a link points to." +
                (changedNothing ? " Nothing was changed." : string.Empty),
                "Look at the path on the host (ls -l). If the wrapper really logs elsewhere, pass that file as -LogPath; remove a link that should not be there.");
        }
    }
}
