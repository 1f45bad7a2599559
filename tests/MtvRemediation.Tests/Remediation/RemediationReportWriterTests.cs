using System.Collections.Generic;
using System.Diagnostics;
using System.IO.Compression;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Text.RegularExpressions;
using System;
using MtvRemediation.Diagnosis;
using MtvRemediation.Runbook;
using S = MtvRemediation.Tests.Remediation.CloneFailureLogSamples;
using Xunit;

namespace MtvRemediation.Tests.Remediation
{
    public class RemediationReportWriterTests
    {
        // Names as hostile as vSphere allows: markup, quotes, ampersands, a script and an event handler.
        internal const string HostileVM = "<script>alert('pwned')</script> \"db01\" & <img src=x onerror=alert(1)>";
        internal const string HostileHost = "esx01'\"><b>bold</b>&amp;";

        internal static RemediationReport SampleReport()
        {
            var ioFinding = Finding(HostileHost, S.WrapperIoError, 4, "DiskIoError", 255);
            var ctkFinding = Finding(HostileHost, S.WrapperCtk, 5, "ChangeTrackerInvalid", null);
            var xcopy = Finding(HostileHost, S.WrapperXcopyFalse, 3, "XcopyNotUsed", null);
            xcopy.Occurrences = 4211;
            return new RemediationReport
            {
                Title = "MTV wave 3 <remediation>",
                Servers = { "vcenter.example.com" },
                Parameters = { "VM: 2 VM(s)", "PowerOff: True", "ReportPath: /srv/reports <wave 3>" },
                GeneratedAt = new DateTime(2026, 11, 25, 10, 30, 0, DateTimeKind.Utc),
                Hosts =
                {
                    new RemediationHostSummary
                    {
                        VMHost = HostileHost,
                        LogStatusBefore = "Critical", LogSizeBytesBefore = 49_807_360, UsedPercentBefore = 100, FreeBytesBefore = 0,
                        LogStatusAfter = "Healthy", LogSizeBytesAfter = 0, UsedPercentAfter = 3.5, FreeBytesAfter = 48_234_496,
                        Actions = new[] { "Archived /var/log/vmkfstools-wrapper.log to [vsanDatastore] logs/esx01-wrapper.log.gz", "Truncated /var/log/vmkfstools-wrapper.log in place", "Registered rotation cron (every 10 min, keep 5 MiB)", "Restarted hostd and vpxa" },
                        Findings = new[] { xcopy, ioFinding, ctkFinding },
                        Outcome = RemediationOutcome.Remediated,
                        LogArchive = "/srv/reports/esx01_vmkfstools-wrapper.log_20261125T103000Z.gz",
                        FinalState = "/var 3.5% used; rotation cron registered; hostd and vpxa running",
                    },
                    new RemediationHostSummary
                    {
                        VMHost = "esx02.lab.local",
                        LogStatusBefore = "Healthy", LogSizeBytesBefore = 1_024, UsedPercentBefore = 8, FreeBytesBefore = 44_000_000,
                        Outcome = RemediationOutcome.Healthy,
                        FinalState = "Healthy; nothing to do",
                    },
                    new RemediationHostSummary
                    {
                        VMHost = "esx03.lab.local",
                        LogStatusBefore = "Critical", LogSizeBytesBefore = 50_331_648, UsedPercentBefore = 100, FreeBytesBefore = 0,
                        Actions = new[] { "Truncation failed: permission denied" },
                        Outcome = RemediationOutcome.Failed,
                        FinalState = "/var still 100% used; log not truncated",
                    },
                },
                VMs =
                {
                    new RemediationVMSummary
                    {
                        VM = HostileVM, VMHost = HostileHost, CbtEnabledBefore = true, CbtEnabledAfter = true,
                        PowerStateBefore = "PoweredOn", PowerStateAfter = "PoweredOn",
                        DeletedCtkFiles = new[] { "[vsanDatastore] db01/db01-ctk.vmdk", "[vsanDatastore] db01/db01_1-ctk.vmdk" },
                        Actions = new[] { "Powered off (guest shutdown)", "Disabled CBT", "Deleted 2 ctk files", "Enabled CBT", "Powered on" },
                        Outcome = RemediationOutcome.Remediated,
                        FinalState = "PoweredOn, CBT enabled, 1 ctk per disk",
                    },
                    new RemediationVMSummary
                    {
                        VM = "app02", VMHost = "esx03.lab.local", CbtEnabledBefore = true, CbtEnabledAfter = false,
                        PowerStateBefore = "PoweredOn", PowerStateAfter = "PoweredOff",
                        Actions = new[] { "Powered off", "Disabled CBT", "Enable CBT failed: task timed out" },
                        Outcome = RemediationOutcome.Failed,
                        FinalState = "PoweredOff with CBT disabled: run Reset-VMChangeTracking -VM app02 again",
                    },
                },
                Findings = { Finding(null, S.KlogCtk, 17, "ChangeTrackerInvalid", null, "InputObject") },
            };
        }

        private static CloneFailureFinding Finding(string? host, string line, long n, string sig, int? exit, string? source = null)
        {
            var s = CloneFailureSignatures.Get(sig);
            return new CloneFailureFinding
            {
                Source = source ?? host + ":/var/log/vmkfstools-wrapper.log",
                VMHost = host,
                Path = host == null ? null : "/var/log/vmkfstools-wrapper.log",
                LineNumber = n,
                Timestamp = LogTimestamp.Parse(line, new DateTime(2026, 11, 25, 12, 0, 0, DateTimeKind.Utc)),
                Signature = sig,
                ExitCode = exit,
                Line = line,
                Cause = s.Cause,
                Remediation = s.Remediation,
            };
        }

        [Fact]
        public void Html_encodes_every_value_and_has_no_script_or_external_resource()
        {
            var html = RemediationReportWriter.ToHtml(SampleReport());

            Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("<img", html, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("<b>bold", html);
            Assert.Contains("&lt;script&gt;alert(&#39;pwned&#39;)&lt;/script&gt; &quot;db01&quot; &amp; &lt;img src=x onerror=alert(1)&gt;", html);
            Assert.Contains("esx01&#39;&quot;&gt;&lt;b&gt;bold&lt;/b&gt;&amp;amp;", html);
            Assert.Contains("<title>MTV wave 3 &lt;remediation&gt;</title>", html);
            // Self-contained: no sources or URLs, links only to archives beside the report (file name
            // only); a CSP forbids scripts even if encoding were missed.
            Assert.DoesNotMatch(new Regex(@"\bsrc\s*=", RegexOptions.IgnoreCase), html.Replace("src=x", ""));
            Assert.Equal(new[] { "esx01_vmkfstools-wrapper.log_20261125T103000Z.gz" },
                Regex.Matches(html, "href=\"([^\"]*)\"").Select(m => m.Groups[1].Value).ToArray());
            Assert.DoesNotContain("http://", html);
            Assert.DoesNotContain("https://", html);
            Assert.Contains("Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'", html);
        }

        [Fact]
        public void Html_shows_before_and_after_per_host_and_vm()
        {
            var html = RemediationReportWriter.ToHtml(SampleReport());
            Assert.Contains("100%<span class=\"arrow\">&rarr;</span>3.5%", html);
            Assert.Contains("47.5 MiB<span class=\"arrow\">&rarr;</span>0 B", html);
            Assert.Contains("8%<span class=\"arrow\">&rarr;</span>?", html); // no after-state recorded
            Assert.Contains("enabled<span class=\"arrow\">&rarr;</span>disabled", html);
            Assert.Contains("PoweredOn<span class=\"arrow\">&rarr;</span>PoweredOff", html);
            Assert.Contains("<code>[vsanDatastore] db01/db01_1-ctk.vmdk</code>", html);
            Assert.Contains("XcopyNotUsed&nbsp;&times;4211", html);
            Assert.Contains("<span class=\"badge Failed\">Failed</span>", html);
            Assert.Contains("<span class=\"badge Remediated\">Remediated</span>", html);
            Assert.Contains("<tr><th>vCenter</th><td>vcenter.example.com</td></tr>", html);
            Assert.Contains("<tr><th>ReportPath</th><td><code>/srv/reports &lt;wave 3&gt;</code></td></tr>", html);
            Assert.Equal(4, Regex.Matches(html, "<table class=\"(findings|hosts|vms)\">").Count); // hosts, VMs, findings of esx01 and of the pod
        }

        [Fact]
        public void Json_round_trips_the_same_data_including_hostile_names()
        {
            var report = SampleReport();
            var json = RemediationReportWriter.ToJson(report);
            Assert.DoesNotContain("<", json); // escaped as \u003c: safe to embed in HTML too

            using var doc = JsonDocument.Parse(json);
            var root = doc.RootElement;
            Assert.Equal("2026-11-25T10:30:00.0000000Z", root.GetProperty("GeneratedAt").GetString());
            var hosts = root.GetProperty("Hosts");
            Assert.Equal(3, hosts.GetArrayLength());
            Assert.Equal(HostileHost, hosts[0].GetProperty("VMHost").GetString());
            Assert.Equal(100, hosts[0].GetProperty("LogSpaceBefore").GetProperty("VarUsedPercent").GetDouble());
            Assert.Equal(3.5, hosts[0].GetProperty("LogSpaceAfter").GetProperty("VarUsedPercent").GetDouble());
            Assert.Equal(JsonValueKind.Null, hosts[1].GetProperty("LogSpaceAfter").ValueKind);
            Assert.Equal(4, hosts[0].GetProperty("Actions").GetArrayLength());
            Assert.Equal(0, hosts[1].GetProperty("Actions").GetArrayLength());
            var f = hosts[0].GetProperty("Findings")[1];
            Assert.Equal("DiskIoError", f.GetProperty("Signature").GetString());
            Assert.Equal(255, f.GetProperty("ExitCode").GetInt32());
            Assert.Equal(S.WrapperIoError, f.GetProperty("Line").GetString());
            Assert.Equal("2026-11-25T10:03:12.4560000Z", f.GetProperty("Timestamp").GetString());
            Assert.Equal(4211, hosts[0].GetProperty("Findings")[0].GetProperty("Occurrences").GetInt64());
            Assert.Equal("Failed", hosts[2].GetProperty("Outcome").GetString());
            Assert.Equal("Remediated", hosts[0].GetProperty("Outcome").GetString());
            Assert.EndsWith("_20261125T103000Z.gz", hosts[0].GetProperty("LogArchive").GetString());
            Assert.Equal("vcenter.example.com", root.GetProperty("Servers")[0].GetString());
            Assert.Equal("PowerOff: True", root.GetProperty("Parameters")[1].GetString());
            var vm = root.GetProperty("VMs")[0];
            Assert.Equal(HostileVM, vm.GetProperty("VM").GetString());
            Assert.True(vm.GetProperty("CbtEnabledBefore").GetBoolean());
            Assert.Equal("[vsanDatastore] db01/db01-ctk.vmdk", vm.GetProperty("DeletedCtkFiles")[0].GetString());
            Assert.False(root.GetProperty("VMs")[1].GetProperty("CbtEnabledAfter").GetBoolean());
            Assert.Equal(JsonValueKind.Null, root.GetProperty("Findings")[0].GetProperty("VMHost").ValueKind);
        }

        [Fact]
        public void Empty_report_is_valid_html_and_json()
        {
            var report = new RemediationReport { GeneratedAt = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc) };
            var html = RemediationReportWriter.ToHtml(report);
            Assert.Contains("No hosts in this run.", html);
            Assert.Contains("No clone failure lines were found.", html);
            using var doc = JsonDocument.Parse(RemediationReportWriter.ToJson(report));
            Assert.Equal(0, doc.RootElement.GetProperty("VMs").GetArrayLength());
        }

        [Fact]
        public void Save_writes_both_files_and_replaces_old_ones()
        {
            var dir = Directory.CreateTempSubdirectory("mtv-report-").FullName;
            try
            {
                var html = Path.Combine(dir, "report.html");
                var json = Path.Combine(dir, "report.json");
                File.WriteAllText(html, "old");
                RemediationReportWriter.Save(SampleReport(), html, json);
                Assert.StartsWith("<!DOCTYPE html>", File.ReadAllText(html));
                using var _ = JsonDocument.Parse(File.ReadAllText(json));
                Assert.Equal(2, Directory.GetFiles(dir).Length); // no temp files left behind
            }
            finally { Directory.Delete(dir, true); }
        }

        [Fact]
        public void Save_makes_owner_only_files_and_replaces_by_rename_never_deleting_first()
        {
            var dir = Directory.CreateTempSubdirectory("mtv-report-").FullName;
            try
            {
                var html = Path.Combine(dir, "report.html");
                File.WriteAllText(html, "old report");
                File.SetUnixFileMode(html, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
                // A reader that opened the old report keeps reading the old bytes: the new one is renamed over it.
                using var reader = new FileStream(html, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                RemediationReportWriter.Save(SampleReport(), html, Path.Combine(dir, "report.json"));
                Assert.Equal("old report", new StreamReader(reader).ReadToEnd());
                foreach (var f in Directory.GetFiles(dir))
                    Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(f));
                Assert.StartsWith("<!DOCTYPE html>", File.ReadAllText(html));
                Assert.Equal(2, Directory.GetFiles(dir).Length);
            }
            finally { Directory.Delete(dir, true); }
        }

        /// <summary>
        /// Renders the report in headless Chromium: the DOM has the tables and the hostile names as
        /// text (not elements), and the screenshot has real content (many non-white pixels, colours).
        /// Needs the chromium package (tests/lab/install-prereqs.sh).
        /// </summary>
        [Fact]
        public void Report_renders_in_headless_chromium()
        {
            var chromium = new[] { "/usr/bin/chromium", "/usr/bin/chromium-browser" }.FirstOrDefault(File.Exists)
                ?? throw new InvalidOperationException("chromium is not installed: run tests/lab/install-prereqs.sh");
            var dir = Directory.CreateTempSubdirectory("mtv-report-render-").FullName;
            try
            {
                var html = Path.Combine(dir, "report.html");
                RemediationReportWriter.Save(SampleReport(), html, Path.Combine(dir, "report.json"));
                var url = new Uri(html).AbsoluteUri;

                var dom = RunChromium(chromium, dir, "--dump-dom", url);
                Assert.Contains("<table class=\"hosts\">", dom);
                Assert.Contains("<table class=\"vms\">", dom);
                Assert.Equal(2, Regex.Matches(dom, "<table class=\"findings\">").Count);
                Assert.DoesNotContain("<script", dom, StringComparison.OrdinalIgnoreCase);
                Assert.DoesNotContain("<img", dom, StringComparison.OrdinalIgnoreCase);
                Assert.Contains("&lt;script&gt;alert('pwned')&lt;/script&gt;", dom); // text, not an element

                var png = Path.Combine(dir, "report.png");
                RunChromium(chromium, dir, "--screenshot=" + png, "--window-size=1280,900", url);
                var keep = Environment.GetEnvironmentVariable("MTV_REPORT_SCREENSHOT");
                if (!string.IsNullOrEmpty(keep)) { File.Copy(png, keep, overwrite: true); File.Copy(html, Path.ChangeExtension(keep, ".html"), overwrite: true); }
                var (width, height, nonWhite, colours) = PngStats(File.ReadAllBytes(png));
                Assert.Equal(1280, width);
                Assert.Equal(900, height);
                Assert.True(nonWhite > width * height / 20, $"only {nonWhite} non-white pixels of {width * height}");
                Assert.True(colours >= 8, $"only {colours} distinct colours");
            }
            finally { Directory.Delete(dir, true); }
        }

        // A wave as the change board sees it: 12 hosts (3 freed and given the rotation job, 9 that
        // only got the job), 25 VMs (12 power-cycled, the rest healthy), each with its findings.
        internal static RemediationReport WaveReport()
        {
            var start = new DateTime(2026, 11, 25, 22, 0, 0, DateTimeKind.Utc);
            var report = new RemediationReport
            {
                GeneratedAt = start,
                Operator = "alice on admin01 (vCenter user administrator@vsphere.local)",
                ChangeTicket = "CHG0012345",
                Servers = { "vcenter.example.com" },
                Parameters = { "VM: 25 VM(s)", "PowerOff: True", "RegisterLogRotation: True" },
            };
            for (var h = 0; h < 12; h++)
            {
                var freed = h < 3;
                report.Hosts.Add(new RemediationHostSummary
                {
                    VMHost = $"esx{h:00}.dc1.example.com",
                    LogStatusBefore = freed ? "Critical" : "Healthy", LogSizeBytesBefore = freed ? 49_807_360 : 20_480, UsedPercentBefore = freed ? 100 : 12,
                    LogStatusAfter = "Healthy", LogSizeBytesAfter = freed ? 0 : 20_480, UsedPercentAfter = freed ? 3 : 12,
                    Actions = freed
                        ? new[] { $"Truncated /var/log/vmkfstools-wrapper.log in place: 47.5 MiB -> 0 bytes; /var 100% -> 3% used", "Registered the temporary rotation cron job (*/5 * * * *, max 4 MB); crond reloaded (pid 2101)" }
                        : new[] { "Registered the temporary rotation cron job (*/5 * * * *, max 4 MB); crond reloaded (pid 2101)" },
                    LogCleared = freed, RotationCronAdded = true, RotationCronRegistered = true,
                    Findings = new[] { Finding($"esx{h:00}.dc1.example.com", S.WrapperCtk, 5, "ChangeTrackerInvalid", null) },
                    StartedAt = start.AddSeconds(5), FinishedAt = start.AddSeconds(9),
                    Outcome = RemediationOutcome.Remediated,
                    FinalState = "/var 3% used (Healthy), log 0 bytes; rotation cron registered",
                });
            }
            for (var v = 0; v < 25; v++)
            {
                var cycled = v < 12;
                var off = start.AddSeconds(20 + v);
                report.VMs.Add(new RemediationVMSummary
                {
                    VM = $"app{v:00}-prod", VMHost = $"esx{v % 12:00}.dc1.example.com",
                    PowerStateBefore = "PoweredOn", PowerStateAfter = "PoweredOn", CbtEnabledBefore = true, CbtEnabledAfter = true,
                    Diagnosis = cycled ? "a clone failed with 7228 (ChangeTrackerInvalid) on its host" : "CBT enabled, configuration consistent",
                    Actions = cycled ? new[] { "Shut down the guest OS (VMware Tools)", "Disabled CBT", "Deleted 1 ctk file", "Powered on with CBT disabled", "Powered off again (PowerOffVM_Task)", "Enabled CBT", "Powered on (original power state restored)", "Checked: each of the 1 disk(s) has its own -ctk.vmdk" } : Array.Empty<string>(),
                    DeletedCtkFiles = cycled ? new[] { $"[ds1] app{v:00}-prod/app{v:00}-prod-ctk.vmdk" } : Array.Empty<string>(),
                    CbtReset = cycled,
                    StartedAt = cycled ? off.AddSeconds(-30) : null, PoweredOffAt = cycled ? off : null,
                    PoweredOnAt = cycled ? off.AddSeconds(95) : null, FinishedAt = cycled ? off.AddSeconds(100) : null,
                    Outcome = cycled ? RemediationOutcome.Remediated : RemediationOutcome.Healthy,
                    FinalState = "PoweredOn, CBT enabled, 1 ctk file(s), configuration consistent",
                });
            }
            return report;
        }

        [Fact]
        public void Wave_report_is_one_line_per_item_with_times_downtime_operator_ticket_and_honest_counts()
        {
            var html = RemediationReportWriter.ToHtml(WaveReport());
            var vmRows = Regex.Match(html, "<table class=\"vms\">.*?<tbody>(.*?)</tbody>", RegexOptions.Singleline).Groups[1].Value;
            Assert.Equal(25, Regex.Matches(vmRows, "<tr>").Count);
            // One line each: the steps folded, the times and the downtime in cells of their own.
            Assert.Equal(25, Regex.Matches(vmRows, "<details><summary>").Count);
            Assert.Contains("<td class=\"time\">22:00:20</td><td class=\"time\">22:01:55</td>", vmRows); // down, up
            Assert.Contains("<td class=\"num downtime\">1 min 35 s</td>", vmRows);
            Assert.Contains("<strong class=\"ticket\">CHG0012345</strong>", html);
            Assert.Contains("<strong class=\"operator\">alice on admin01 (vCenter user administrator@vsphere.local)</strong>", html);
            // What each host got, never "12 of 12 remediated" for hosts that only got the job.
            Assert.DoesNotMatch("(?i)hosts remediated", html);
            Assert.Contains("<span class=\"n\">3</span> <span class=\"l\">of 12</span> <span class=\"l\">hosts: /var freed (log truncated)</span>", html);
            Assert.Contains("<span class=\"n\">12</span> <span class=\"l\">of 12</span> <span class=\"l\">hosts: rotation job added</span>", html);
            Assert.Contains("<span class=\"n\">12</span> <span class=\"l\">of 25</span> <span class=\"l\">VMs: taken down (longest 1 min 35 s, total 19 min 00 s)</span>", html);
            Assert.Equal(9, Regex.Matches(html, "<td>rotation job added</td>").Count);
            Assert.Equal(3, Regex.Matches(html, "<td>log truncated, rotation job added</td>").Count);
            // Printable: a print style sheet; no fixed width that cuts a table.
            Assert.Contains("@media print", html);
            Assert.DoesNotMatch(@"(?<!-)width:\s*\d{3,}px", html);

            using var doc = JsonDocument.Parse(RemediationReportWriter.ToJson(WaveReport()));
            var vm = doc.RootElement.GetProperty("VMs")[0];
            Assert.Equal(95, vm.GetProperty("DowntimeSeconds").GetDouble());
            Assert.Equal("2026-11-25T22:00:20.0000000Z", vm.GetProperty("PoweredOffAt").GetString());
            Assert.Equal("CHG0012345", doc.RootElement.GetProperty("ChangeTicket").GetString());
            Assert.False(doc.RootElement.GetProperty("Hosts")[5].GetProperty("LogCleared").GetBoolean());
            Assert.True(doc.RootElement.GetProperty("Hosts")[5].GetProperty("RotationCronAdded").GetBoolean());
        }

        /// <summary>Printed by Chromium (A4 landscape, the report's print style): a 25-VM, 12-host wave fits on two pages.</summary>
        [Fact]
        public void Wave_report_prints_on_two_pages()
        {
            var chromium = new[] { "/usr/bin/chromium", "/usr/bin/chromium-browser" }.FirstOrDefault(File.Exists)
                ?? throw new InvalidOperationException("chromium is not installed: run tests/lab/install-prereqs.sh");
            var dir = Directory.CreateTempSubdirectory("mtv-report-print-").FullName;
            try
            {
                var html = Path.Combine(dir, "report.html");
                RemediationReportWriter.Save(WaveReport(), html);
                var pdf = Path.Combine(dir, "report.pdf");
                RunChromium(chromium, dir, "--no-pdf-header-footer", "--print-to-pdf=" + pdf, new Uri(html).AbsoluteUri);
                var text = System.Text.Encoding.Latin1.GetString(File.ReadAllBytes(pdf));
                var pages = Regex.Matches(text, @"/Type\s*/Page(?!s)").Count;
                Assert.InRange(pages, 1, 2);
            }
            finally { Directory.Delete(dir, true); }
        }

        private static string RunChromium(string chromium, string dir, params string[] args)
        {
            var psi = new ProcessStartInfo(chromium) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in new[] { "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                         "--disable-background-networking", "--disable-component-update", "--disable-sync",
                         "--user-data-dir=" + Path.Combine(dir, "profile-" + Guid.NewGuid().ToString("N")) })
                psi.ArgumentList.Add(a);
            foreach (var a in args) psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            var stderr = p.StandardError.ReadToEndAsync();
            var stdout = p.StandardOutput.ReadToEnd();
            if (!p.WaitForExit(60_000)) { p.Kill(true); throw new TimeoutException("chromium did not finish in 60 s"); }
            Assert.True(p.ExitCode == 0, $"chromium exit {p.ExitCode}: {stderr.Result}");
            return stdout;
        }

        /// <summary>Decodes an 8-bit RGB/RGBA PNG and counts non-white pixels and distinct colours.</summary>
        private static (int Width, int Height, long NonWhite, int Colours) PngStats(byte[] png)
        {
            Assert.True(png.Length > 8 && png[1] == 'P' && png[2] == 'N' && png[3] == 'G', "not a PNG");
            int width = 0, height = 0, channels = 0;
            var idat = new MemoryStream();
            for (var pos = 8; pos < png.Length;)
            {
                var len = (png[pos] << 24) | (png[pos + 1] << 16) | (png[pos + 2] << 8) | png[pos + 3];
                var type = System.Text.Encoding.ASCII.GetString(png, pos + 4, 4);
                if (type == "IHDR")
                {
                    width = (png[pos + 8] << 24) | (png[pos + 9] << 16) | (png[pos + 10] << 8) | png[pos + 11];
                    height = (png[pos + 12] << 24) | (png[pos + 13] << 16) | (png[pos + 14] << 8) | png[pos + 15];
                    Assert.Equal(8, png[pos + 16]);
                    channels = png[pos + 17] switch { 2 => 3, 6 => 4, var t => throw new InvalidOperationException("PNG colour type " + t) };
                }
                else if (type == "IDAT") idat.Write(png, pos + 8, len);
                pos += 12 + len;
            }
            idat.Position = 0;
            var raw = new MemoryStream();
            using (var z = new ZLibStream(idat, CompressionMode.Decompress)) z.CopyTo(raw);
            var data = raw.ToArray();
            var stride = width * channels;
            var prev = new byte[stride];
            var cur = new byte[stride];
            long nonWhite = 0;
            var colours = new HashSet<int>();
            for (var y = 0; y < height; y++)
            {
                var off = y * (stride + 1);
                var filter = data[off];
                for (var x = 0; x < stride; x++)
                {
                    int a = x >= channels ? cur[x - channels] : 0, b = prev[x], c = x >= channels ? prev[x - channels] : 0;
                    var v = data[off + 1 + x];
                    cur[x] = (byte)(filter switch
                    {
                        0 => v,
                        1 => v + a,
                        2 => v + b,
                        3 => v + ((a + b) >> 1),
                        4 => v + Paeth(a, b, c),
                        _ => throw new InvalidOperationException("PNG filter " + filter),
                    });
                }
                for (var x = 0; x < stride; x += channels)
                {
                    var rgb = (cur[x] << 16) | (cur[x + 1] << 8) | cur[x + 2];
                    if (rgb != 0xFFFFFF) nonWhite++;
                    if (colours.Count < 1000) colours.Add(rgb);
                }
                (prev, cur) = (cur, prev);
            }
            return (width, height, nonWhite, colours.Count);
        }

        private static int Paeth(int a, int b, int c)
        {
            int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
            return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
        }
    }
}
