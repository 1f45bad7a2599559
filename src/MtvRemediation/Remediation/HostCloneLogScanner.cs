using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using MtvRemediation.Esxi;

namespace MtvRemediation.Remediation
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
        /// The 2.9/2.10 wrapper logs and the 2.9 SSH method's secure log (FIELD-FACTS 2), and the
        /// syslog file that presumably receives 0.3.x's <c>logger -t vmkfstools-wrapper</c> lines
        /// (unverified); rotated or archived variants beside them are scanned too.
        /// </summary>
        public static readonly IReadOnlyList<string> DefaultLogPaths = new[]
        {
            WrapperInventory.WrapperLogPath,
            WrapperInventory.SecureLogPath,
            WrapperInventory.SyslogPath,
        };

        // Output protocol, one record per line, tab-separated, text last so tabs in it survive:
        //   F <path>                 a log file starts
        //   M <lineno> <text>        a matching line
        //   R <count> <lineno> <text> count more frequent-signature lines; the last one (lineno 0:
        //                            the host counted them without numbering the last one)
        //   D <files>                the scan finished (absent: the command was cut short)
        //
        // A plain log file is read by two jobs at once (measured on a 1 GiB 2.10 log with 3 million
        // "XCOPY used: False" polls: 0.58 s, against 0.30 s for one `grep -c` of one string):
        //   - the rare signatures: BusyBox `grep -n -F` with their case-sensitive tokens, then awk
        //     with the signatures' ERE on the lower-cased line and the -Since check. Few lines reach
        //     awk, which skips the lines the second job owns.
        //   - the frequent XcopyNotUsed lines, by their exact spellings: the first RepeatLimit
        //     numbered (`grep -m`), then `grep -c` and the last one from the file's tail. Passing
        //     3 million lines through awk instead cost 1.3 s; numbering the last one 0.3 s more.
        //     With -Since the lines' timestamps matter, so they go through awk after all.
        // .gz rotations and -RepeatLimit 0 take one `grep | awk` pass with every token.
        // The patterns are regex *literals* in the programs: BusyBox awk recompiles a regex held
        // in a variable on every match (measured: 10 s vs 0.5 s for a million lines). The programs
        // are built once from our constant signature table.
        private const string SplitAndSince =
            "{ i = index($0, \":\"); n = substr($0, 1, i - 1); t = substr($0, i + 1)\n" +
            "  if (since != \"\") { ts = substr(t, 1, 19); sub(/T/, \" \", ts)\n" +
            "    if (ts ~ /^[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] [0-9][0-9]:[0-9][0-9]:[0-9][0-9]$/ && ts < since) next }\n";

        private static readonly string AwkProgram =
            SplitAndSince +
            "  lt = tolower(t)\n" +
            "  if (lt !~ /" + AwkLiteral(CloneFailureSignatures.CombinedGrepPattern) + "/) next\n" +
            "  if (own && (" + AwkContainsAny("t", CloneFailureSignatures.FrequentGrepTokens) + ")) next\n" +
            "  if (max > 0 && lt ~ /" + AwkLiteral(CloneFailureSignatures.FrequentAwkPattern) + "/) { c++; if (c > max) { ln = n; last = t; next } }\n" +
            "  print \"M\\t\" n \"\\t\" t }\n" +
            "END { if (max > 0 && c > max) print \"R\\t\" (c - max) \"\\t\" ln \"\\t\" last }";

        // The frequent lines with -Since (and the formatting of the first RepeatLimit ones without).
        private static readonly string RepeatsAwkProgram =
            SplitAndSince +
            "  c++; if (c <= max) print \"M\\t\" n \"\\t\" t; else { ln = n; last = t } }\n" +
            "END { if (c > max) print \"R\\t\" (c - max) \"\\t\" ln \"\\t\" last }";

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

        // Each path: the file itself, "<path>.*" (log.1, log.1.gz, archives) and for *.log the
        // ESXi-style "<stem>.<n>[.gz]". Values arrive as {0}..{3}, the grep tokens and then the
        // paths as further placeholders; everything else is constant text.
        private const string ScriptHead =
            "max={0}; since={1}; prog={2}; rprog={3}; n=0\n";
        private const string ScriptRepeats =
            "repeats() {{\n" +
            "  if [ -n \"$since\" ]; then freq -n \"$1\" | awk -v max=\"$max\" -v since=\"$since\" \"$rprog\"; return; fi\n" +
            "  first=$(freq -n -m \"$max\" \"$1\")\n" +
            "  [ -n \"$first\" ] || return 0\n" +
            "  printf '%s\\n' \"$first\" | awk -v max=\"$max\" -v since= \"$rprog\"\n" +
            "  [ \"$(printf '%s\\n' \"$first\" | grep -c '')\" -ge \"$max\" ] || return 0\n" +
            "  c=$(freq -c \"$1\")\n" +
            "  [ \"$c\" -gt \"$max\" ] || return 0\n" +
            // The last one from the last MiB (its first, partial line dropped), else the whole file.
            "  last=$(tail -c 1048576 \"$1\" | sed 1d | freq | tail -n 1)\n" +
            "  [ -n \"$last\" ] || last=$(freq \"$1\" | tail -n 1)\n" +
            "  printf 'R\\t%s\\t0\\t%s\\n' \"$((c - max))\" \"$last\"\n" +
            "}}\n" +
            "for b in ";
        private const string ScriptTail =
            "; do\n" +
            "  set -- \"$b\" \"$b\".*\n" +
            "  case \"$b\" in *.log) set -- \"$@\" \"${{b%.log}}\".[0-9]* ;; esac\n" +
            "  for f in \"$@\"; do\n" +
            "    [ -f \"$f\" ] || continue\n" +
            "    n=$((n+1))\n" +
            "    printf 'F\\t%s\\n' \"$f\"\n" +
            "    case \"$f\" in\n" +
            // A syslog file holds every program's lines: only the wrapper's (tagged vmkfstools-wrapper,
            // whatever the line format around the tag) are classified.
            "      */syslog.log|*/syslog.[0-9]*) {{ case \"$f\" in *.gz) zcat \"$f\" ;; *) cat \"$f\" ;; esac; }} | grep -n -F vmkfstools-wrapper | awk -v max=\"$max\" -v since=\"$since\" -v own=0 \"$prog\" ;;\n" +
            "      *.gz) zcat \"$f\" | all | awk -v max=\"$max\" -v since=\"$since\" -v own=0 \"$prog\" ;;\n" +
            "      *) if [ \"$max\" -gt 0 ]; then\n" +
            "           rare \"$f\" | awk -v max=0 -v since=\"$since\" -v own=1 \"$prog\" &\n" +
            "           r=$(repeats \"$f\"); wait $!\n" +
            "           [ -z \"$r\" ] || printf '%s\\n' \"$r\"\n" +
            "         else\n" +
            "           all \"$f\" | awk -v max=0 -v since=\"$since\" -v own=0 \"$prog\"\n" +
            "         fi ;;\n" +
            "    esac\n" +
            "  done\n" +
            "done\n" +
            "printf 'D\\t%s\\n' \"$n\"";

        /// <summary>The remote scan command (exposed for tests and -Verbose).</summary>
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
            };
            var template = new StringBuilder(ScriptHead);
            AppendGrepFunction(template, args, "all", "grep -n -F", CloneFailureSignatures.AllGrepTokens);
            AppendGrepFunction(template, args, "rare", "grep -n -F", CloneFailureSignatures.RareGrepTokens);
            AppendGrepFunction(template, args, "freq", "grep -F", CloneFailureSignatures.FrequentGrepTokens);
            template.Append(ScriptRepeats);
            for (var i = 0; i < logPaths.Count; i++)
            {
                ValidateLogPath(logPaths[i]);
                if (i > 0) template.Append(' ');
                template.Append('{').Append(args.Count).Append('}');
                args.Add(logPaths[i]);
            }
            template.Append(ScriptTail);
            return RemoteCommand.Format(template.ToString(), args.ToArray());
        }

        private static void AppendGrepFunction(StringBuilder template, List<string> args, string name, string grep, IReadOnlyList<string> tokens)
        {
            template.Append(name).Append("() {{ ").Append(grep).Append(' ');
            foreach (var token in tokens)
            {
                template.Append("-e {").Append(args.Count).Append("} ");
                args.Add(token);
            }
            template.Append("\"$@\"; }}\n");
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
            text = (text ?? "").Trim();
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

            public void OnLine(string line)
            {
                if (line.Length < 2 || line[1] != '\t') return;
                var body = line.Substring(2);
                switch (line[0])
                {
                    case 'F':
                        CompleteCurrent();
                        _current = new CloneFailureSourceScan(_host + ":" + body, _host, body, _options);
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
