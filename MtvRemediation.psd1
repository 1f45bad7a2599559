@{
    RootModule           = 'MtvRemediation.dll'
    ModuleVersion        = '0.1.0'
    GUID                 = '62981688-5589-48bf-9402-d97b7e2ce44a'
    Author               = 'MtvRemediation contributors'
    CompanyName          = 'MtvRemediation'
    Copyright            = '(c) MtvRemediation contributors. MIT License.'
    Description          = 'Remediates OpenShift MTV (Forklift) vSphere/vSAN disk clone failures: vmkfstools-wrapper log filling /var on ESXi, invalid Changed Block Tracking (CBT), rotation cron and management agent restarts. Works beside VMware PowerCLI and reuses its sessions.'
    PowerShellVersion    = '5.1'
    CompatiblePSEditions = @('Desktop', 'Core')
    DotNetFrameworkVersion = '4.7.2'
    # One entry per line, so branches adding cmdlets merge cleanly.
    FormatsToProcess     = @(
        'Formats/EsxiShell.Format.ps1xml'
        'Formats/VSphere.Format.ps1xml'
        'Formats/Diagnosis.Format.ps1xml'
        'Formats/HostRemediation.Format.ps1xml'
        'Formats/Runbook.Format.ps1xml'
    )
    CmdletsToExport      = @(
        'Connect-EsxiShell'
        'Get-EsxiShell'
        'Disconnect-EsxiShell'
        'Connect-MtvVIServer'
        'Disconnect-MtvVIServer'
        'Get-MtvVIServer'
        'Get-VMChangeTracking'
        'Reset-VMChangeTracking'
        'Get-MtvPendingOperation'
        'Resume-MtvPendingOperation'
        'Find-MtvCloneFailure'
        'ConvertFrom-MtvClusterObject'
        'Get-VmkfstoolsWrapper'
        'Remove-VmkfstoolsWrapperTaskDirectory'
        'Test-VmkfstoolsLogSpace'
        'Clear-VmkfstoolsWrapperLog'
        'Register-LogRotationCron'
        'Get-LogRotationCron'
        'Unregister-LogRotationCron'
        'Restart-EsxiAgents'
        'Invoke-MtvRemediation'
        'Test-MtvWaveReadiness'
        'Set-EsxiDiskMaxLun'
        'Set-EsxiHostdTmpMemory'
        'Restore-EsxiHostdTmpMemory'
        'Complete-MtvWave'
    )
    FunctionsToExport    = @()
    AliasesToExport      = @()
    VariablesToExport    = @()
    PrivateData          = @{
        PSData = @{
            Tags         = @('VMware', 'vSphere', 'ESXi', 'vSAN', 'CBT', 'MTV', 'Forklift', 'OpenShift', 'Migration', 'PSEdition_Desktop', 'PSEdition_Core', 'Linux', 'Windows', 'MacOS')
            LicenseUri   = 'https://opensource.org/licenses/MIT'
            ProjectUri   = 'https://github.com/mtvremediation/MtvRemediation'
            ReleaseNotes = 'See CHANGELOG.md in the module folder or https://github.com/mtvremediation/MtvRemediation/blob/main/CHANGELOG.md'
        }
    }
}
