using System.Management.Automation;
using System.Threading;
using MtvRemediation.Diagnosis;
using MtvRemediation.Esxi;
using MtvRemediation.Infrastructure;
using MtvRemediation.Wrapper;

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
        private string? _clusterVib;

        protected override string ProgressActivity => "Reading the vmkfstools-wrapper inventory";

        /// <summary>The cluster's MTV version (e.g. <c>2.12.5</c>): hosts whose VIB is older than the one it ships are flagged (VibOutdated) with a warning.</summary>
        [Parameter]
        [ValidatePattern(@"^[vV]?[0-9]+\.[0-9]+(\.[0-9]+)?$")]
        public string? MtvVersion { get; set; }

        protected override void BeginProcessing()
        {
            base.BeginProcessing();
            if (MtvVersion != null) _clusterVib = MtvVibVersions.Shipped(MtvVibVersions.Parse(MtvVersion)!);
        }

        private protected override void ProcessHost(HostTarget target, IEsxiShell shell, IOutputSink sink, CancellationToken ct)
        {
            var read = HostDiagnosisReader.Read(shell, new HostDiagnosisRequest { Inventory = true }, ct);
            var info = HostDiagnosis.Required(read.Wrapper, read.WrapperError);
            if (_clusterVib != null)
            {
                info.ClusterVibVersion = _clusterVib;
                info.VibOutdated = MtvVibVersions.IsOlder(info.VibVersion, _clusterVib);
                if (info.VibOutdated == true)
                    sink.WriteWarning($"{info.VMHost}: vmkfstools-wrapper VIB {info.VibVersion} is older than {_clusterVib}, the one MTV {MtvVersion} ships. MTV 2.11.6 and later no longer install the VIB: update it on the host (forklift's vib-installer).");
            }
            sink.WriteObject(info);
        }
    }
}
