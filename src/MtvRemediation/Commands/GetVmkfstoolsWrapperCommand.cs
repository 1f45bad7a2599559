using System.Management.Automation;
using System.Threading;
using MtvRemediation.Diagnosis;
using MtvRemediation.Esxi;
using MtvRemediation.Infrastructure;

namespace MtvRemediation.Commands
{
    /// <summary>
    /// Get-VmkfstoolsWrapper: which MTV vmkfstools-wrapper generation each host runs, where it logs,
    /// which clone methods are set up, and the clone task directories it left in /tmp. Read-only.
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "VmkfstoolsWrapper", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(VmkfstoolsWrapperInfo))]
    public sealed class GetVmkfstoolsWrapperCommand : EsxiHostCmdletBase
    {
        protected override string ProgressActivity => "Reading the vmkfstools-wrapper inventory";

        private protected override void ProcessHost(HostTarget target, IEsxiShell shell, IOutputSink sink, CancellationToken ct)
        {
            var read = HostDiagnosisReader.Read(shell, new HostDiagnosisRequest { Inventory = true }, ct);
            sink.WriteObject(HostDiagnosis.Required(read.Wrapper, read.WrapperError));
        }
    }
}
