using System;
using System.Diagnostics;
using System.Linq;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;
using MtvRemediation.VSphere;
using Xunit;
using static MtvRemediation.VSphere.VimXml;

namespace MtvRemediation.Tests.VSphere
{
    /// <summary>
    /// The PropertyCollector task waiter against the lab's vcsim with asynchronous tasks
    /// (tests/lab/vcsim/tasks.go). Only DeleteDatastoreFile_Task of files that do not exist is
    /// slowed down, so no other test's timing or state changes.
    /// </summary>
    [Collection("LabTaskTimes")]
    public class TaskWatcherTests
    {
        private const string Method = "DeleteDatastoreFile_Task";

        private static async Task SetTaskTimeAsync(int runMs, int queueMs = 0)
        {
            var ctl = LabVcsim.Vcsim!.Value.GetProperty("ctlUrl").GetString();
            using var http = new HttpClient();
            var resp = await http.PostAsync($"{ctl}/ctl/task-time?method={Method}&ms={runMs}&queueMs={queueMs}", null);
            resp.EnsureSuccessStatusCode();
        }

        private static string MissingFile()
        {
            var ds = LabVcsim.Vcsim!.Value.GetProperty("datastores")[0].GetProperty("name").GetString();
            return $"[{ds}] lab-no-such-folder/{Guid.NewGuid():N}-ctk.vmdk";
        }

        private static MoRef Datacenter(VimSoapClient c) =>
            c.RetrieveAllAsync("Datacenter", new[] { "name" }, CancellationToken.None).GetAwaiter().GetResult().First().Obj;

        private static System.Xml.Linq.XElement DeleteRequest(VimSoapClient c, MoRef dc) =>
            E("DeleteDatastoreFile_Task", Ref("_this", c.ServiceContent!.FileManager), E("name", MissingFile()), Ref("datacenter", dc));

        [LabFact]
        public async Task A_queued_then_running_task_is_waited_for_without_polling_and_its_fault_arrives_typed()
        {
            using var c = await LabVcsim.LoginAsync();
            var dc = Datacenter(c);
            await SetTaskTimeAsync(1200, 300);
            try
            {
                var task = await c.StartTaskAsync(DeleteRequest(c, dc), CancellationToken.None);
                var first = (await c.RetrievePropertiesAsync(VimSoapClient.PropertySpecFor("Task", "info.state"), new[] { VimSoapClient.ObjectSpec(task) }, CancellationToken.None)).Single();
                Assert.Equal("queued", first.Get("info.state")!.Value); // vCenter's first state, now the lab's too

                var before = c.RoundTripsByMethod();
                var sw = Stopwatch.StartNew();
                var ex = await Assert.ThrowsAsync<VimFaultException>(() => c.WaitForTaskAsync(task, Method, TimeSpan.FromSeconds(30), CancellationToken.None));
                sw.Stop();
                Assert.Equal("FileNotFound", ex.FaultName);
                Assert.InRange(sw.Elapsed.TotalSeconds, 1.3, 5);
                var after = c.RoundTripsByMethod();
                long Delta(string m) => (after.TryGetValue(m, out var a) ? a : 0) - (before.TryGetValue(m, out var b) ? b : 0);
                Assert.Equal(0, Delta("RetrievePropertiesEx")); // no polling
                Assert.Equal(1, Delta("CreateFilter"));
                Assert.InRange(Delta("WaitForUpdatesEx"), 1, 6); // initial state, running, error: no sleep loop

                // The filter goes away when nobody waits (about a second later).
                var deadline = DateTime.UtcNow.AddSeconds(10);
                while (c.TaskWatcher.FiltersDestroyed < c.TaskWatcher.FiltersCreated && DateTime.UtcNow < deadline) await Task.Delay(100);
                Assert.Equal(c.TaskWatcher.FiltersCreated, c.TaskWatcher.FiltersDestroyed);
            }
            finally { await SetTaskTimeAsync(0); }
        }

        [LabFact]
        public async Task Ten_parallel_tasks_share_one_filter_and_few_waits()
        {
            using var c = await LabVcsim.LoginAsync();
            var dc = Datacenter(c);
            await SetTaskTimeAsync(1000);
            try
            {
                var before = c.RoundTrips;
                var sw = Stopwatch.StartNew();
                var waits = Enumerable.Range(0, 10).Select(async _ =>
                {
                    var t = await c.StartTaskAsync(DeleteRequest(c, dc), CancellationToken.None);
                    var ex = await Assert.ThrowsAsync<VimFaultException>(() => c.WaitForTaskAsync(t, Method, TimeSpan.FromSeconds(30), CancellationToken.None));
                    Assert.Equal("FileNotFound", ex.FaultName);
                }).ToArray();
                await Task.WhenAll(waits);
                sw.Stop();
                Assert.InRange(sw.Elapsed.TotalSeconds, 0.9, 5);
                // 10 starts + collector/filter + a handful of shared waits; polling would need about 50.
                Assert.InRange(c.RoundTrips - before, 10, 22);
            }
            finally { await SetTaskTimeAsync(0); }
        }

        [LabFact]
        public async Task A_wait_times_out_and_cancels()
        {
            using var c = await LabVcsim.LoginAsync();
            var dc = Datacenter(c);
            await SetTaskTimeAsync(4000);
            try
            {
                var t1 = await c.StartTaskAsync(DeleteRequest(c, dc), CancellationToken.None);
                var sw = Stopwatch.StartNew();
                var timeout = await Assert.ThrowsAsync<TimeoutException>(() => c.WaitForTaskAsync(t1, Method, TimeSpan.FromSeconds(1), CancellationToken.None));
                Assert.Contains("did not finish within 1 s", timeout.Message);
                Assert.InRange(sw.Elapsed.TotalSeconds, 0.9, 3);

                var t2 = await c.StartTaskAsync(DeleteRequest(c, dc), CancellationToken.None);
                using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));
                sw.Restart();
                await Assert.ThrowsAnyAsync<OperationCanceledException>(() => c.WaitForTaskAsync(t2, Method, TimeSpan.FromSeconds(30), cts.Token));
                Assert.InRange(sw.Elapsed.TotalSeconds, 0.4, 2.5);
            }
            finally { await SetTaskTimeAsync(0); }
        }
    }
}
