using MtvRemediation.Wave;
using Xunit;

namespace MtvRemediation.Tests.Wave
{
    /// <summary>After the wave: SSH is stopped only where a record says this module started it.</summary>
    public class WaveCompletionTests
    {
        [Fact]
        public void SSH_this_session_started_is_stopped()
        {
            var d = WaveCompletion.DecideSsh(new SshFacts { Running = true, StartedHere = true, RecordedBy = "me" });
            Assert.Equal(SshGiveBackAction.Stop, d.Action);
            Assert.Contains("this session", d.Text);
        }

        [Fact]
        public void SSH_an_ended_run_started_is_stopped_and_a_live_run_keeps_it()
        {
            Assert.Equal(SshGiveBackAction.Stop, WaveCompletion.DecideSsh(new SshFacts { Running = true, RecordedBy = "alice on ws01", RecordedRunEnded = true }).Action);
            var live = WaveCompletion.DecideSsh(new SshFacts { Running = true, RecordedBy = "alice on ws01" });
            Assert.Equal(SshGiveBackAction.Leave, live.Action);
            Assert.Contains("may still be working (alice on ws01)", live.Text);
        }

        [Fact]
        public void SSH_without_a_record_is_never_stopped()
        {
            var running = WaveCompletion.DecideSsh(new SshFacts { Running = true, RecordedRunEnded = true });
            Assert.Equal(SshGiveBackAction.Leave, running.Action);
            Assert.Contains("no record says this module started it", running.Text);
            Assert.Equal(SshGiveBackAction.Leave, WaveCompletion.DecideSsh(new SshFacts { Running = false }).Action);
        }

        [Fact]
        public void SSH_whose_policy_is_on_stays_running_and_only_its_record_is_cleared()
        {
            var d = WaveCompletion.DecideSsh(new SshFacts { Running = true, PolicyOn = true, RecordedBy = "alice", RecordedRunEnded = true });
            Assert.Equal(SshGiveBackAction.ClearRecord, d.Action);
            Assert.Contains("stays running", d.Text);
            Assert.Equal(SshGiveBackAction.Leave, WaveCompletion.DecideSsh(new SshFacts { Running = true, PolicyOn = true, StartedHere = true }).Action);
        }

        [Fact]
        public void A_record_of_SSH_already_stopped_is_cleared_and_nothing_is_stopped()
        {
            var d = WaveCompletion.DecideSsh(new SshFacts { Running = false, RecordedBy = "alice", RecordedRunEnded = true });
            Assert.Equal(SshGiveBackAction.ClearRecord, d.Action);
        }

        [Fact]
        public void SSH_not_read_is_left_with_the_reason()
        {
            var d = WaveCompletion.DecideSsh(new SshFacts { Unread = "no vCenter connection", Running = true, StartedHere = true });
            Assert.Equal(SshGiveBackAction.Leave, d.Action);
            Assert.Contains("not checked: no vCenter connection", d.Text);
        }
    }
}
