using System.Linq;
using System.Management.Automation;
using System.Threading;
using System.Threading.Tasks;
using MtvRemediation.Infrastructure;
using MtvRemediation.VSphere;

namespace MtvRemediation.Wave
{
    /// <summary>
    /// The Disk.MaxLUN change (Set-EsxiDiskMaxLun, Invoke-MtvRemediation -Preflight): through
    /// vCenter's host OptionManager, refused at or below the highest LUN number the host uses (those
    /// LUNs would disappear after the next rescan), read back after the change.
    /// </summary>
    internal static class DiskMaxLun
    {
        /// <summary>
        /// Before asking: the change as it would be made (<see cref="DiskMaxLunChange.Changed"/> false;
        /// a Note when the value is already set, so there is nothing to ask). Throws
        /// <see cref="RemediationException"/> when Disk.MaxLUN was not read or the value is refused.
        /// </summary>
        public static DiskMaxLunChange Check(string hostName, string server, HostLunState state, int value)
        {
            if (state.MaxLun == null)
                throw new RemediationException(WaveErrorIds.DiskMaxLunUnreadable, ErrorCategory.ReadError,
                    $"{hostName}: Disk.MaxLUN could not be read ({state.MaxLunProblem}); nothing was changed.");
            var current = state.MaxLun.Value;
            if (state.HighestLun is int highest && value <= highest)
                throw new RemediationException(WaveErrorIds.DiskMaxLunRefused, ErrorCategory.InvalidArgument,
                    $"{hostName}: Disk.MaxLUN {value} would hide LUN {highest}, which the host uses (LUN numbers at or above Disk.MaxLUN are invisible after a rescan); nothing was changed.",
                    $"Give a value above {highest}.");
            return new DiskMaxLunChange
            {
                VMHost = hostName, Server = server, PreviousValue = current, Value = current, HighestLunInUse = state.HighestLun,
                Note = current == value ? "Already set; nothing was changed." : null,
            };
        }

        /// <summary>The action's text, for the confirmation.</summary>
        public static string Describe(DiskMaxLunChange change, int value) =>
            $"Set Disk.MaxLUN from {change.PreviousValue} to {value} through vCenter {change.Server} (rescan the storage adapters or reboot the host afterwards)";

        /// <summary>Sets the value and reads it back into <paramref name="change"/>.</summary>
        public static async Task ApplyAsync(VimSoapClient soap, HostLunState state, DiskMaxLunChange change, int value, CancellationToken ct)
        {
            await HostLunSettings.SetMaxLunAsync(soap, state, value, ct).ConfigureAwait(false);
            var after = (await HostLunSettings.ReadAsync(soap, new[] { state.Host }, ct).ConfigureAwait(false)).Single();
            change.Value = after.MaxLun ?? value;
            change.Changed = change.Value != change.PreviousValue;
            change.Note = "Rescan the host's storage adapters, or reboot the host (recommended, KB 342823), before the wave's LUNs are presented.";
        }
    }
}
