using System.Linq;
using MtvRemediation.Cbt;
using MtvRemediation.VSphere;
using Xunit;

namespace MtvRemediation.Tests.Remediation
{
    /// <summary>
    /// The downtime limit's scheduling in <see cref="ChangeTrackingRun"/>: which resets count and
    /// the order the workers take them in. That no more than the limit are off at once is read
    /// from vcsim's task times in tests/Pester/RunbookWave.Tests.ps1.
    /// </summary>
    public sealed class DowntimeLimitTests
    {
        // The order only keys each host by its connection; no call reaches it.
        private static readonly IVSphereClient Client = null!;

        private static ChangeTrackingResetPlan Plan(string name, string host, PowerOffMethod powerOff = PowerOffMethod.ShutdownGuest)
        {
            var vm = new VmInfo { MoRef = new MoRef("VirtualMachine", name), Name = name, HostName = host, PowerState = powerOff == PowerOffMethod.None ? "poweredOff" : "poweredOn" };
            return new ChangeTrackingResetPlan(new CtkInspection(vm), new ChangeTrackingResetOptions()) { PowerOff = powerOff };
        }

        [Fact]
        public void Under_a_limit_the_hosts_take_turns_so_waiting_workers_do_not_hold_back_other_hosts()
        {
            var plans = new[] { Plan("a1", "esx-a"), Plan("a2", "esx-a"), Plan("a3", "ESX-A"), Plan("b1", "esx-b"), Plan("b2", "esx-b"), Plan("c1", "esx-c") };

            var ordered = new ChangeTrackingRun(maxPoweredOffPerHost: 1).ScheduleOrder(plans, p => (Client, p));

            Assert.Equal(new[] { "a1", "b1", "c1", "a2", "b2", "a3" }, ordered.Select(p => p.Vm.Name).ToArray());
        }

        [Fact]
        public void Without_a_limit_the_order_is_kept()
        {
            var plans = new[] { Plan("a1", "esx-a"), Plan("a2", "esx-a"), Plan("b1", "esx-b") };

            var ordered = new ChangeTrackingRun().ScheduleOrder(plans, p => (Client, p));

            Assert.Same(plans, ordered);
        }

        [Fact]
        public void Only_a_reset_that_takes_a_running_VM_down_counts()
        {
            Assert.True(ChangeTrackingRun.PowersOff(Plan("on", "esx-a", PowerOffMethod.ShutdownGuest)));
            Assert.True(ChangeTrackingRun.PowersOff(Plan("hard", "esx-a", PowerOffMethod.HardPowerOff)));
            Assert.False(ChangeTrackingRun.PowersOff(Plan("off", "esx-a", PowerOffMethod.None)));
        }
    }
}
