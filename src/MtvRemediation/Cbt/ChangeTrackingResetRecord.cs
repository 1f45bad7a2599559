using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace MtvRemediation.Cbt
{
    /// <summary>How far an interrupted reset got, as its record says (the record is rewritten at each phase change it rides on).</summary>
    internal enum ResetPhase
    {
        /// <summary>Written with the disable of a VM that was on, before its power-off (the disable applies at its next power-on): it may still run, be off, or be in KB 2139574's cycle; a re-run that finds it running must power it off.</summary>
        PowerOff,

        /// <summary>Written with the disable of a VM that was off: CBT off, -ctk.vmdk files being deleted, KB 2139574's power cycle under way.</summary>
        CbtOff,

        /// <summary>Written with the enable: CBT on again; only the power-on to the original state is left.</summary>
        PowerOn,
    }

    /// <summary>
    /// The durable record of a CBT reset in progress, kept in the VM's own configuration on vCenter
    /// (extraConfig key <see cref="Key"/>) so that any later run, from any workstation, finds it with
    /// the VM's properties it reads anyway. It is written before the first change and removed (empty
    /// value) after the last; the CBT reconfigures carry it, so only a VM that is powered on again at
    /// the end pays a reconfigure of its own: its removal after that power-on. Not a guestinfo.* key: the guest
    /// can set those itself. vSphere replaces a key given again and removes one given empty
    /// (VirtualMachineConfigSpec.extraConfig; privilege VirtualMachine.Config.AdvancedConfig).
    /// Sources: docs/field-sources.md#6-changed-block-tracking.
    /// </summary>
    internal sealed class ChangeTrackingResetRecord
    {
        public const string Key = "mtvremediation.cbtReset";
        private const string Version = "v1";

        public ChangeTrackingResetRecord(ResetPhase phase, string originalPowerState, string vCenterUser, string workstation, DateTime startedUtc)
        {
            Phase = phase;
            OriginalPowerState = originalPowerState;
            VCenterUser = vCenterUser;
            Workstation = workstation;
            StartedUtc = startedUtc;
        }

        public ResetPhase Phase { get; }

        /// <summary>vim25 power state before the reset began (poweredOn or poweredOff): the state to end in.</summary>
        public string OriginalPowerState { get; }

        /// <summary>The vCenter user of the run that wrote it: power events by this user after <see cref="StartedUtc"/> are the run's own.</summary>
        public string VCenterUser { get; }

        public string Workstation { get; }
        public DateTime StartedUtc { get; }

        public ChangeTrackingResetRecord At(ResetPhase phase) => new ChangeTrackingResetRecord(phase, OriginalPowerState, VCenterUser, Workstation, StartedUtc);

        /// <summary>One line of key=value fields, each value percent-escaped: <c>v1;phase=CbtOff;from=poweredOn;user=...;host=...;at=2026-12-06T16:00:00Z</c>.</summary>
        public string Format() => string.Join(";", new[]
        {
            Version,
            "phase=" + Phase,
            "from=" + OriginalPowerState,
            "user=" + Uri.EscapeDataString(VCenterUser),
            "host=" + Uri.EscapeDataString(Workstation),
            "at=" + StartedUtc.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
        });

        /// <summary>Reads a record; null for an empty value, a value of another version, or one missing a field (it is then shown, never acted on).</summary>
        public static ChangeTrackingResetRecord? TryParse(string? value)
        {
            if (string.IsNullOrWhiteSpace(value)) return null;
            var parts = value!.Split(';');
            if (parts[0] != Version) return null;
            var fields = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var p in parts.Skip(1))
            {
                var eq = p.IndexOf('=');
                if (eq > 0) fields[p.Substring(0, eq)] = Uri.UnescapeDataString(p.Substring(eq + 1));
            }
            if (!fields.TryGetValue("phase", out var phaseText) || !Enum.TryParse<ResetPhase>(phaseText, false, out var phase) || !Enum.IsDefined(typeof(ResetPhase), phase)) return null;
            if (!fields.TryGetValue("from", out var from) || (from != "poweredOn" && from != "poweredOff")) return null;
            if (!fields.TryGetValue("at", out var at) || !DateTime.TryParseExact(at, "yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var started)) return null;
            fields.TryGetValue("user", out var user);
            fields.TryGetValue("host", out var host);
            return new ChangeTrackingResetRecord(phase, from, user ?? "", host ?? "", started);
        }

        /// <summary>For messages: "a reset started 2026-12-06 16:00:00Z by alice@vsphere.local on WS01 (phase CbtOff, VM was PoweredOn)".</summary>
        public string Describe() =>
            string.Format(CultureInfo.InvariantCulture, "a CBT reset started {0:yyyy-MM-dd HH:mm:ss}Z by {1}{2} (stopped in phase {3}; the VM was {4} before it)",
                StartedUtc, VCenterUser.Length == 0 ? "an unknown user" : VCenterUser, Workstation.Length == 0 ? "" : " on " + Workstation, Phase,
                ChangeTrackingEngine.PowerCliPowerState(OriginalPowerState));
    }
}
