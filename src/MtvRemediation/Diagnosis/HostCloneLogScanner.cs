using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using MtvRemediation.Esxi;
using MtvRemediation.Infrastructure;
using MtvRemediation.Wrapper;

namespace MtvRemediation.Diagnosis
{
    /// <summary>What one host scan read and found.</summary>
    internal sealed class HostCloneLogScanResult
    {
        /// <summary>One entry per log file found on the host (empty: no wrapper log there).</summary>
        public List<CloneFailureSourceScan> Sources { get; } = new List<CloneFailureSourceScan>();

        /// <summary>Bytes of scan output received from the host (only matching lines cross the wire).</summary>
        public long BytesReceived { get; internal set; }

        public TimeSpan Duration { get; internal set; }
    }

    /// <summary>
    /// Scans the vmkfstools-wrapper logs on an ESXi host without downloading them: BusyBox
    /// <c>grep -n -F</c> runs on the host with the signatures' case-sensitive tokens, a small awk
    /// filter applies their patterns and drops lines older than -Since, the frequent XcopyNotUsed
    /// lines are de-duplicated on the host (first N sent, the rest counted, the last one sent with
    /// the count), and only that output streams back, line by line, to be classified here with the
    /// precise regexes.
    /// </summary>
    internal static class HostCloneLogScanner
    {
        /// <summary>
        /// The 2.9/2.10 wrapper logs and the 2.9 SSH method's secure log, and the syslog file that
        /// presumably receives 0.3.x's <c>logger -t vmkfstools-wrapper</c> lines (unverified); rotated
        /// or archived variants beside them are scanned too (docs/field-sources.md#2-the-vmkfstools-wrapper).
        /// </summary>
        public static readonly IReadOnlyList<string> DefaultLogPaths = new[]
        {
            WrapperInventory.WrapperLogPath,
            WrapperInventory.SecureLogPath,
            WrapperInventory.SyslogPath,
        };

        // The scan is Scripts/clone-log-scan.sh (its header: the output protocol and why a plain log
        // is read by two jobs at once); its awk programs are Scripts/clone-log-scan.awk and
        // clone-log-repeats.awk, passed to it as positional values. The signatures' patterns go
        // into the awk text as regex *literals* (BusyBox awk recompiles a regex held in a variable
        // on every match); the programs are built once from our constant signature table.
        private static readonly string AwkProgram = AllFilled(AwkText("clone-log-scan.awk")
            .Replace("@SIGNATURES_ERE@", AwkLiteral(CloneFailureSignatures.CombinedGrepPattern))
            .Replace("@FREQUENT_TOKENS_IN_T@", AwkContainsAny("t", CloneFailureSignatures.FrequentGrepTokens))
            .Replace("@FREQUENT_ERE@", AwkLiteral(CloneFailureSignatures.FrequentAwkPattern)));

        // The frequent lines with -Since (and the formatting of the first RepeatLimit ones without).
        private static readonly string RepeatsAwkProgram = AwkText("clone-log-repeats.awk");

        private static readonly string RareTokens = TokenLines(CloneFailureSignatures.RareGrepTokens);
        private static readonly string FrequentTokens = TokenLines(CloneFailureSignatures.FrequentGrepTokens);

        /// <summary>An embedded awk program with its includes, without its comment lines (they stay in the file).</summary>
        private static string AwkText(string name)
        {
            var sb = new StringBuilder();
            foreach (var line in RemoteScript.Get(name).Split('\n'))
                if (line.Length > 0 && line[0] != '#') sb.Append(line).Append('\n');
            return sb.ToString().TrimEnd('\n');
        }

        private static string AllFilled(string program)
        {
            var left = System.Text.RegularExpressions.Regex.Match(program, "@[A-Z_]+@");
            if (left.Success) throw new InvalidOperationException("The awk program keeps the placeholder " + left.Value + ": HostCloneLogScanner does not fill it.");
            return program;
        }

        private static string AwkLiteral(string ere)
        {
            if (ere.IndexOf('/') >= 0 || ere.IndexOf('\\') >= 0 || ere != ere.ToLowerInvariant())
                throw new InvalidOperationException("Signature patterns must be lower case without '/' or '\\' to be awk regex literals: " + ere);
            return ere;
        }

        private static string AwkContainsAny(string variable, IReadOnlyList<string> tokens)
        {
            var parts = new List<string>();
            foreach (var t in tokens) parts.Add("index(" + variable + ", \"" + t.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\")");
            return string.Join(" || ", parts);
        }

        // The script's grep functions take one token a line ($5, $6): a token holding a line break
        // could not be told from two.
        private static string TokenLines(IReadOnlyList<string> tokens)
        {
            if (tokens.Count == 0) throw new InvalidOperationException("The signature table has no grep tokens of a kind the host scan needs.");
            foreach (var t in tokens)
                if (t.Length == 0 || t.IndexOf('\n') >= 0 || t.IndexOf('\r') >= 0)
                    throw new InvalidOperationException("A grep token must be one non-empty line: '" + t + "'.");
            return string.Join("\n", tokens);
        }

        /// <summary>The remote scan command (exposed for tests and -Verbose): clone-log-scan.sh with its values.</summary>
        public static RemoteCommand BuildCommand(IReadOnlyList<string> logPaths, CloneFailureScanOptions options)
        {
            if (logPaths == null || logPaths.Count == 0) throw new ArgumentException("At least one log path is needed.", nameof(logPaths));
            var args = new List<string>
            {
                Math.Max(0, options.RepeatLimit).ToString(CultureInfo.InvariantCulture),
                // Seconds only: the host keeps lines of the boundary second, the client filters exactly.
                options.SinceUtc?.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) ?? "",
                AwkProgram,
                RepeatsAwkProgram,
                RareTokens,
                FrequentTokens,
            };
            foreach (var path in logPaths)
            {
                ValidateLogPath(path);
                args.Add(path);
            }
            return RemoteCommand.FromScript("clone-log-scan.sh", args.ToArray());
        }

        /// <summary>Absolute, one line, no glob characters (the script adds the rotated-file globs itself).</summary>
        public static void ValidateLogPath(string path)
        {
            if (string.IsNullOrEmpty(path) || path[0] != '/')
                throw new ArgumentException($"The host log path '{path}' must be absolute, like /var/log/vmkfstools-wrapper.log.", nameof(path));
            if (path.IndexOfAny(new[] { '\n', '\r', '\t', '*', '?', '[' }) >= 0)
                throw new ArgumentException($"The host log path '{path}' contains a line break, tab or wildcard; give the plain file path (rotated variants are found automatically).", nameof(path));
        }

        /// <summary>
        /// Runs the scan on <paramref name="shell"/>; findings go to <paramref name="emit"/> as the
        /// output streams in (on the shell's I/O thread: <paramref name="emit"/> must be thread-safe).
        /// </summary>
        /// <exception cref="HostCloneLogScanException">The remote scan failed or was cut short.</exception>
        public static async Task<HostCloneLogScanResult> ScanAsync(
            IEsxiShell shell,
            IReadOnlyList<string>? logPaths,
            CloneFailureScanOptions options,
            Action<CloneFailureFinding> emit,
            TimeSpan timeout,
            CancellationToken cancellationToken)
        {
            var command = BuildCommand(logPaths == null || logPaths.Count == 0 ? DefaultLogPaths : logPaths, options);
            var result = new HostCloneLogScanResult();
            var parser = new ProtocolParser(shell.HostName, options, emit, result);
            RemoteCommandResult run;
            using (var sink = new LineSplittingStream(parser.OnLine))
            {
                run = await shell.RunStreamingAsync(command, sink, timeout, cancellationToken).ConfigureAwait(false);
                sink.Complete();
                result.BytesReceived = sink.BytesWritten;
            }
            parser.CompleteCurrent();
            result.Duration = run.Duration;
            if (parser.Malformed != null)
                throw new HostCloneLogScanException(shell.HostName,
                    $"The log scan on {shell.HostName} sent {parser.Malformed}; findings may be incomplete.", result);
            if (!parser.Done)
                throw new HostCloneLogScanException(shell.HostName,
                    $"The log scan on {shell.HostName} did not finish (exit status {run.ExitStatus}); findings may be incomplete. {Trim(run.Stderr)}".Trim(), result);
            if (!string.IsNullOrWhiteSpace(run.Stderr))
                throw new HostCloneLogScanException(shell.HostName,
                    $"The log scan on {shell.HostName} reported errors; findings may be incomplete: {Trim(run.Stderr)}", result);
            return result;
        }

        private static string Trim(string text)
        {
            text = HostText.Printable((text ?? "").Trim());
            return text.Length > 500 ? text.Substring(0, 500) + "..." : text;
        }

        private sealed class ProtocolParser
        {
            private readonly string _host;
            private readonly CloneFailureScanOptions _options;
            private readonly Action<CloneFailureFinding> _emit;
            private readonly HostCloneLogScanResult _result;
            private CloneFailureSourceScan? _current;

            public ProtocolParser(string host, CloneFailureScanOptions options, Action<CloneFailureFinding> emit, HostCloneLogScanResult result)
            {
                _host = host;
                _options = options;
                _emit = emit;
                _result = result;
            }

            public bool Done { get; private set; }

            /// <summary>Why a record could not be read (the host's field encoder failed), or null.</summary>
            public string? Malformed { get; private set; }

            public void OnLine(string line)
            {
                if (line.Length < 2 || line[1] != '\t') return;
                var body = line.Substring(2);
                switch (line[0])
                {
                    case 'F':
                        CompleteCurrent();
                        string path;
                        try { path = HostField.Decode(body); }
                        catch (FormatException ex) { Malformed ??= ex.Message; return; }
                        _current = new CloneFailureSourceScan(_host + ":" + path, _host, path, _options);
                        _result.Sources.Add(_current);
                        break;
                    case 'M':
                        {
                            var tab = body.IndexOf('\t');
                            if (_current == null || tab < 0 || !long.TryParse(body.Substring(0, tab), NumberStyles.None, CultureInfo.InvariantCulture, out var n)) return;
                            var f = _current.AddNumberedLine(n, body.Substring(tab + 1));
                            if (f != null) _emit(f);
                            break;
                        }
                    case 'R':
                        {
                            var parts = body.Split(new[] { '\t' }, 3);
                            if (_current == null || parts.Length < 3
                                || !long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var count)
                                || !long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var n)) return;
                            _current.AddCountedRepeats(count, n, parts[2]);
                            break;
                        }
                    case 'D':
                        CompleteCurrent();
                        Done = true;
                        break;
                }
            }

            public void CompleteCurrent()
            {
                if (_current == null) return;
                foreach (var f in _current.Complete()) _emit(f);
                _current = null;
            }
        }
    }

    /// <summary>A host-side log scan failed; the message says what happened on which host.</summary>
    internal sealed class HostCloneLogScanException : Exception
    {
        public HostCloneLogScanException(string host, string message, HostCloneLogScanResult partialResult) : base(message)
        {
            Host = host;
            PartialResult = partialResult;
        }

        public string Host { get; }

        /// <summary>What was read before the failure (its findings were already emitted).</summary>
        public HostCloneLogScanResult PartialResult { get; }
    }
}
