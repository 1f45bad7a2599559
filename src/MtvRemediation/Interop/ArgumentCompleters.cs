using System;
using System.Collections;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;
using System.Threading;
using MtvRemediation.Esxi;
using MtvRemediation.HostLog;
using MtvRemediation.Infrastructure;
using MtvRemediation.VSphere;

namespace MtvRemediation.Interop
{
    /// <summary>
    /// Tab completion as PowerCLI users expect it. Completers run on the pipeline thread of the
    /// runspace that asks (TabExpansion2), so the per-runspace stores are the caller's. vCenter
    /// look-ups are one container-view read per connection, cached for <see cref="CacheTime"/> and
    /// bounded by <see cref="LookupTimeout"/>: a slow or dead vCenter makes Tab answer without its
    /// names, never hang the console.
    /// </summary>
    internal static class CompletionSupport
    {
        public static readonly TimeSpan CacheTime = TimeSpan.FromSeconds(30);
        public static readonly TimeSpan LookupTimeout = TimeSpan.FromSeconds(3);

        // (connection, managed object type) -> names and when they were read
        private static readonly ConcurrentDictionary<(VIConnection, string), (DateTime At, string[] Names)> Cache =
            new ConcurrentDictionary<(VIConnection, string), (DateTime, string[])>();

        /// <summary>Names of every object of <paramref name="type"/> (HostSystem, VirtualMachine) in the live connections.</summary>
        public static IEnumerable<string> InventoryNames(string type)
        {
            foreach (var c in VIConnectionStore.Current.GetAll().Where(c => c.IsConnected))
            {
                var key = (c, type);
                if (Cache.TryGetValue(key, out var hit) && DateTime.UtcNow - hit.At < CacheTime)
                {
                    foreach (var n in hit.Names) yield return n;
                    continue;
                }
                string[] names;
                try
                {
                    using var cts = new CancellationTokenSource(LookupTimeout);
                    names = c.Client.Soap.RetrieveAllAsync(type, new[] { "name" }, cts.Token).GetAwaiter().GetResult()
                        .Select(o => o.Get("name")?.Value).Where(n => !string.IsNullOrEmpty(n)).Select(n => n!).ToArray();
                }
                catch (Exception ex) when (ex is VimFaultException || ex is VimTransportException || ex is OperationCanceledException || ex is TimeoutException)
                {
                    continue; // no names from this vCenter now; Tab still offers the rest
                }
                Cache[key] = (DateTime.UtcNow, names);
                foreach (var n in names) yield return n;
            }
        }

        /// <summary>Distinct values starting with the typed word (wildcards allowed), each quoted when it needs it.</summary>
        public static IEnumerable<CompletionResult> Complete(string wordToComplete, IEnumerable<string> values, CompletionResultType type = CompletionResultType.ParameterValue)
        {
            var typed = (wordToComplete ?? string.Empty).Trim('\'', '"');
            var pattern = new WildcardPattern(typed + "*", WildcardOptions.IgnoreCase);
            return values.Where(v => pattern.IsMatch(v))
                .Distinct(StringComparer.OrdinalIgnoreCase)
                .OrderBy(v => v, StringComparer.OrdinalIgnoreCase)
                .Select(v => new CompletionResult(Quote(v), v, type, v));
        }

        /// <summary>Single-quotes a value that the parser would split or expand (spaces, $, quotes, brackets...).</summary>
        internal static string Quote(string value)
        {
            var plain = value.Length > 0 && value.All(ch => char.IsLetterOrDigit(ch) || ch == '.' || ch == '-' || ch == '_' || ch == '/' || ch == ':');
            return plain ? value : PowerShellQuote.Literal(value);
        }
    }

    /// <summary>-VMHost: hosts with an open ESXi shell session first, then the vCenter inventory's hosts.</summary>
    internal sealed class VMHostCompleter : IArgumentCompleter
    {
        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
        {
            var sessions = EsxiSessionStore.ForCurrentRunspace().GetAll().Select(s => s.VMHost).ToList();
            var fromSessions = CompletionSupport.Complete(wordToComplete, sessions).ToList();
            var inventory = CompletionSupport.Complete(wordToComplete, CompletionSupport.InventoryNames("HostSystem"))
                .Where(r => !fromSessions.Any(s => string.Equals(s.ListItemText, r.ListItemText, StringComparison.OrdinalIgnoreCase)));
            return fromSessions.Concat(inventory).ToList();
        }
    }

    /// <summary>-VM: VM names from the vCenter inventory (cached briefly).</summary>
    internal sealed class VMCompleter : IArgumentCompleter
    {
        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
            => CompletionSupport.Complete(wordToComplete, CompletionSupport.InventoryNames("VirtualMachine")).ToList();
    }

    /// <summary>-Server: the vCenter connections of this runspace.</summary>
    internal sealed class VIServerCompleter : IArgumentCompleter
    {
        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
            => CompletionSupport.Complete(wordToComplete, VIConnectionStore.Current.GetAll().Where(c => c.IsConnected).Select(c => c.Server)).ToList();
    }

    /// <summary>
    /// -LogPath: the wrapper logs MTV writes, the VIB's and the SSH method's
    /// (docs/field-sources.md#2-the-vmkfstools-wrapper).
    /// </summary>
    internal sealed class WrapperLogPathCompleter : IArgumentCompleter
    {
        internal static readonly string[] KnownLogs = { LogSpaceOptions.DefaultLogPath, LogSpaceOptions.DefaultSecureLogPath };

        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
            => CompletionSupport.Complete(wordToComplete, KnownLogs).ToList();
    }

    /// <summary>-Agent: the ESXi management agents Restart-EsxiAgents knows how to restart.</summary>
    internal sealed class EsxiAgentCompleter : IArgumentCompleter
    {
        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
            => CompletionSupport.Complete(wordToComplete, new[] { "hostd", "vpxa" }).ToList();
    }
}
