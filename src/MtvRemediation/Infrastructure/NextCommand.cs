namespace MtvRemediation.Infrastructure
{
    /// <summary>
    /// A next step that another command of the module performs, named by what it does: engines set
    /// it on an <see cref="MtvException"/> (<see cref="MtvException.Next"/>) instead of writing a
    /// cmdlet name into their text; the cmdlet layer (Commands/ErrorRecords.cs) names the cmdlet
    /// when it writes the error, as it names itself for <see cref="MtvException.RerunCompletes"/>.
    /// </summary>
    internal enum NextCommand
    {
        None,
        /// <summary>Open an ESXi shell session to the host (<see cref="MtvException.NextTarget"/>).</summary>
        ConnectShell,
        /// <summary>Open the host's session at an address given by hand (<see cref="MtvException.NextTarget"/>).</summary>
        ConnectShellByAddress,
        /// <summary>Open a new session to the host in place of the current one.</summary>
        ReconnectShell,
        /// <summary>Show the host's ESXi shell session.</summary>
        ShowShell,
        /// <summary>Check the host's wrapper log and the space on /var.</summary>
        CheckLogSpace,
        /// <summary>Free /var by clearing the wrapper log.</summary>
        ClearWrapperLog,
        /// <summary>List the wrapper's installations and clone task directories on the host.</summary>
        ListWrapper,
        /// <summary>List the clone task directories, then remove the answered ones.</summary>
        RemoveWrapperTaskDirectories,
        /// <summary>Show the vCenter connections.</summary>
        ShowVCenter,
        /// <summary>Log in to the vCenter server (<see cref="MtvException.NextTarget"/>).</summary>
        ConnectVCenter,
        /// <summary>Adopt PowerCLI's session to a server whose certificate is not trusted.</summary>
        AdoptVCenterWithoutCertificateCheck,
        /// <summary>Close the host's ESXi shell session, stopping SSH where the module started it.</summary>
        DisconnectShell,
        /// <summary>Register the temporary log rotation job on the host.</summary>
        RegisterLogRotation,
        /// <summary>Restart the host's management agents (hostd, vpxa).</summary>
        RestartAgents,
        /// <summary>Raise the host's Disk.MaxLUN through vCenter (the value: <see cref="MtvException.NextTarget"/>'s argument).</summary>
        SetDiskMaxLun,
        /// <summary>Raise the host's hostd-tmp memory limit for the wave (the value in MB: the argument).</summary>
        SetHostdTmpMemory,
        /// <summary>Put the hostd-tmp memory limit recorded on the host back after the wave.</summary>
        RestoreHostdTmpMemory,
        /// <summary>Remove the host's log rotation job.</summary>
        UnregisterLogRotation,
        /// <summary>Reset the VM's CBT (which finishes an interrupted reset).</summary>
        ResetChangeTracking,
        /// <summary>Same, powering the running VM off first.</summary>
        ResetChangeTrackingWithPowerOff,
        /// <summary>Show the VM's CBT state.</summary>
        ShowChangeTracking,
    }
}
