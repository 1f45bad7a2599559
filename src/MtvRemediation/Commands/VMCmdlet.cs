using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using MtvRemediation.Infrastructure;
using MtvRemediation.Interop;

namespace MtvRemediation.Commands
{
    /// <summary>
    /// Base for cmdlets taking <c>-VM</c>: inputs are collected from the pipeline and resolved at the
    /// end in one batched read per connection (so 100 piped VMs cost the same few reads as one).
    /// </summary>
    public abstract class VMCmdlet : VSphereCmdlet
    {
        private readonly List<VMInput> _inputs = new List<VMInput>();

        /// <summary>VM names (wildcards allowed), PowerCLI VM objects (live or deserialized), or MtvRemediation results.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
        [ValidateNotNullOrEmpty]
        [Alias("Name")]
        [ArgumentCompleter(typeof(VMCompleter))]
        public object[] VM { get; set; } = Array.Empty<object>();

        protected override void ProcessRecord()
        {
            foreach (var v in VM)
            {
                if (v == null) continue;
                if (VMInput.TryParse(v, out var input, out var problem)) _inputs.Add(input!);
                else WriteError(VIErrors.Record(null, VIErrorIds.InvalidVMInput, ErrorCategory.InvalidArgument, v, problem!));
            }
        }

        /// <summary>Resolves every collected input; writes VMNotFound/VIServerNotConnected errors for the rest.</summary>
        private protected IReadOnlyList<VmTarget> ResolveTargets() => ResolveTargets(null);

        /// <param name="unmatched">Also receives each input that resolved to no VM, with its error record.</param>
        private protected IReadOnlyList<VmTarget> ResolveTargets(List<(VMInput Input, ErrorRecord Error)>? unmatched)
        {
            if (_inputs.Count == 0) return Array.Empty<VmTarget>();
            var connections = ResolveConnections();
            var (targets, errors) = VMResolver.ResolveAsync(_inputs, connections, CancelToken).GetAwaiter().GetResult();
            foreach (var (input, error, failedConnection) in errors)
            {
                var record = failedConnection != null ? ErrorFor(error, input.Original, failedConnection) : error.ToErrorRecord(input.Original);
                WriteError(record);
                unmatched?.Add((input, record));
            }
            return targets;
        }
    }
}
