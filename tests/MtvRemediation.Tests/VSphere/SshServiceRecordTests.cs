using System;
using System.Diagnostics;
using System.Xml.Linq;
using MtvRemediation.VSphere;
using Xunit;
using static MtvRemediation.VSphere.VimXml;

namespace MtvRemediation.Tests.VSphere
{
    /// <summary>The record of SSH on demand: its text form, which run it belongs to, and reading it from a host's values.</summary>
    public class SshServiceRecordTests
    {
        private static readonly DateTime At = new DateTime(2026, 12, 6, 15, 40, 0, DateTimeKind.Utc);

        [Fact]
        public void Format_and_parse_round_trip_values_with_spaces_and_separators()
        {
            var r = new SshServiceRecord(At, "VSPHERE.LOCAL\\Admin Istrator", "ws 01=x", 4242, "abc123");
            var text = r.Format();
            Assert.Equal("startedAt=2026-12-06T15:40:00Z user=VSPHERE.LOCAL%5CAdmin%20Istrator workstation=ws%2001%3Dx pid=4242 run=abc123", text);
            var back = SshServiceRecord.Parse(text)!;
            Assert.Equal(At, back.StartedAtUtc);
            Assert.Equal(DateTimeKind.Utc, back.StartedAtUtc.Kind);
            Assert.Equal("VSPHERE.LOCAL\\Admin Istrator", back.User);
            Assert.Equal("ws 01=x", back.Workstation);
            Assert.Equal(4242, back.ProcessId);
            Assert.Equal("abc123", back.Run);
        }

        [Theory]
        [InlineData(null)]
        [InlineData("")]
        [InlineData("   ")]
        [InlineData("someone else's note")]
        [InlineData("startedAt=yesterday pid=1")]
        [InlineData("startedAt=2026-12-06T15:40:00Z pid=-1")]
        [InlineData("user=x pid=1")]
        public void A_cleared_or_foreign_value_is_no_record(string? value) => Assert.Null(SshServiceRecord.Parse(value));

        [Fact]
        public void A_record_of_this_process_belongs_to_a_live_run_only_while_that_run_is_live()
        {
            var r = SshServiceRecord.ForThisProcess("u", "run1");
            Assert.False(r.IsOfEndedRun(DateTime.UtcNow, run => run == "run1"));
            Assert.True(r.IsOfEndedRun(DateTime.UtcNow, _ => false));
        }

        [Fact]
        public void A_record_of_a_process_that_is_gone_on_this_workstation_is_of_an_ended_run()
        {
            using var p = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!;
            p.WaitForExit();
            var r = new SshServiceRecord(DateTime.UtcNow.AddMinutes(-1), "u", Environment.MachineName, p.Id, "x");
            Assert.True(r.IsOfEndedRun(DateTime.UtcNow, _ => true));
        }

        [Fact]
        public void A_live_process_is_a_live_run_unless_it_started_after_the_record_pid_reuse()
        {
            using var p = Process.Start(new ProcessStartInfo("sleep", "10") { UseShellExecute = false })!;
            try
            {
                var started = p.StartTime.ToUniversalTime();
                Assert.False(new SshServiceRecord(started.AddSeconds(2), "u", Environment.MachineName, p.Id, "x").IsOfEndedRun(DateTime.UtcNow, _ => false));
                Assert.True(new SshServiceRecord(started.AddMinutes(-5), "u", Environment.MachineName, p.Id, "x").IsOfEndedRun(DateTime.UtcNow, _ => false));
            }
            finally { p.Kill(); }
        }

        [Fact]
        public void A_record_from_another_workstation_counts_as_ended_only_after_a_day()
        {
            var r = new SshServiceRecord(At, "u", "elsewhere-" + Guid.NewGuid().ToString("N"), 1, "x");
            Assert.False(r.IsOfEndedRun(At.AddHours(23), _ => true));
            Assert.True(r.IsOfEndedRun(At.AddHours(25), _ => true));
        }

        [Fact]
        public void The_last_value_of_the_field_counts_and_an_empty_one_clears_it()
        {
            XElement Value(int key, string value) => E("CustomFieldValue", Type("CustomFieldStringValue"), E("key", key), E("value", value));
            var record = new SshServiceRecord(At, "u", "w", 1, "r").Format();
            var values = E("val", Value(101, "other attribute"), Value(202, record));
            Assert.Equal(1, SshServiceRecords.Find(values, 202)!.ProcessId);
            Assert.Null(SshServiceRecords.Find(values, 101));
            Assert.Null(SshServiceRecords.Find(values, null));
            values.Add(Value(202, "")); // vcsim 0.24 appends; vCenter replaces: either way the last one is the truth
            Assert.Null(SshServiceRecords.Find(values, 202));
        }

        [Fact]
        public void The_pending_operation_names_the_host_the_run_and_the_command_that_stops_it()
        {
            var record = new SshServiceRecord(At, "administrator@vsphere.local", "ws01", 4242, "r");
            var op = SshServiceRecords.ToPendingOperation("vc01", "esx'01", record, ended: true);
            Assert.Equal("SshServiceStarted", op.Kind);
            Assert.Equal("esx'01", op.Target);
            Assert.Equal("vc01", op.Server);
            Assert.Equal(At, op.Since);
            Assert.Equal("administrator@vsphere.local on ws01 (process 4242)", op.StartedBy);
            Assert.Equal("Test-VmkfstoolsLogSpace -VMHost 'esx''01' -Credential <credential> -StartSshService", op.ResumeCommand);
            Assert.Contains(SshServiceRecord.FieldName, op.RecordLocation);
        }
    }
}
