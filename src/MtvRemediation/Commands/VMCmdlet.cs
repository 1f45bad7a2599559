using System;
using System.Management.Automation;
using MtvRemediation.Interop;

namespace MtvRemediation.Commands
{
    /// <summary>
    /// Base for cmdlets taking <c>-VM</c>: inputs are collected from the pipeline and resolved at the
    /// end in one batched read per connection (so 100 piped VMs cost the same few reads as one;
    /// <see cref="VSphereCmdlet.ResolveTargets"/>).
    /// </summary>
    public abstract class VMCmdlet : VSphereCmdlet
    {
        /// <summary>VM names (wildcards allowed), PowerCLI VM objects (live or deserialized), or MtvRemediation results.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
        [ValidateNotNullOrEmpty]
        [Alias("Name")]
        [ArgumentCompleter(typeof(VMCompleter))]
        public object[] VM { get; set; } = Array.Empty<object>();

        protected override void ProcessRecord()
        {
            foreach (var v in VM) AddVMInput(v);
        }
    }
}
