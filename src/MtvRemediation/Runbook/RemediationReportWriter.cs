using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net;
using System.Runtime.InteropServices;
using System.Text;
using MtvRemediation.Diagnosis;
using MtvRemediation.Esxi;
using MtvRemediation.Infrastructure;

namespace MtvRemediation.Runbook
{
    /// <summary>
    /// Writes a <see cref="RemediationReport"/> as one self-contained HTML page (inline CSS, no
    /// scripts, no external resources, every value HTML-encoded, and a Content-Security-Policy that
    /// forbids scripts should anything slip through) and as JSON with the same data.
    /// </summary>
    internal static class RemediationReportWriter
    {
        private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

        /// <summary>Writes <paramref name="htmlPath"/> and, when given, <paramref name="jsonPath"/> (UTF-8, no BOM).</summary>
        public static void Save(RemediationReport report, string htmlPath, string? jsonPath = null)
        {
            if (report == null) throw new ArgumentNullException(nameof(report));
            WriteFile(htmlPath, w => WriteHtml(report, w));
            if (!string.IsNullOrEmpty(jsonPath)) WriteFile(jsonPath!, w => WriteJson(report, w));
        }

        public static string ToHtml(RemediationReport report)
        {
            var sw = new StringWriter(Inv);
            WriteHtml(report, sw);
            return sw.ToString();
        }

        public static string ToJson(RemediationReport report)
        {
            var sw = new StringWriter(Inv);
            WriteJson(report, sw);
            return sw.ToString();
        }

        internal static void WriteFile(string path, Action<TextWriter> write) => OwnerOnlyFile.WriteReplacing(path, write);

        // ---------------------------------------------------------------- HTML

        // Screen and print: one line per VM and per host, the details folded (<details>; folded
        // details are not printed), tables as wide as the page and never cut at a fixed width.
        private const string Css = @"
:root { --ok:#1a7f37; --okbg:#dafbe1; --warn:#9a6700; --warnbg:#fff8c5; --bad:#cf222e; --badbg:#ffebe9; --skip:#57606a; --skipbg:#eaeef2; --line:#d0d7de; }
* { box-sizing: border-box; }
body { font: 14px/1.4 -apple-system, 'Segoe UI', 'Liberation Sans', Arial, sans-serif; color:#1f2328; margin:0; background:#f6f8fa; }
header { background:#24292f; color:#fff; padding:14px 24px; }
header h1 { margin:0 0 4px; font-size:20px; font-weight:600; }
header .meta { margin:0; color:#d0d7de; }
header .meta strong { color:#fff; }
main { padding:4px 24px 24px; }
h2 { font-size:16px; margin:18px 0 6px; }
h3 { font-size:14px; margin:10px 0 4px; }
.tiles { display:flex; gap:8px; flex-wrap:wrap; margin:12px 0 4px; }
.tile { background:#fff; border:1px solid var(--line); border-radius:6px; padding:6px 12px; }
.tile .n { font-size:18px; font-weight:600; }
.tile .l { color:#57606a; }
table { border-collapse:collapse; width:100%; table-layout:auto; background:#fff; border:1px solid var(--line); }
th, td { border-bottom:1px solid var(--line); padding:3px 6px; text-align:left; vertical-align:top; }
th { background:#eaeef2; font-weight:600; }
td { overflow-wrap:anywhere; }
tbody tr:nth-child(even) { background:#f6f8fa; }
td.num, td.time { text-align:right; white-space:nowrap; font-variant-numeric:tabular-nums; }
td.change { white-space:nowrap; }
.arrow { color:#8c959f; padding:0 3px; }
details summary { cursor:pointer; color:#0969da; white-space:nowrap; }
ul.steps { margin:2px 0; padding-left:18px; }
code, .logline { font-family: ui-monospace, 'DejaVu Sans Mono', Consolas, monospace; font-size:12px; }
.logline { white-space:pre-wrap; overflow-wrap:anywhere; }
.badge { display:inline-block; padding:0 7px; border-radius:10px; font-size:12px; font-weight:600; white-space:nowrap; }
.Healthy, .Remediated { color:var(--ok); background:var(--okbg); }
.Partial, .Refused { color:var(--warn); background:var(--warnbg); }
.Failed { color:var(--bad); background:var(--badbg); }
.Planned, .Declined, .Unknown { color:var(--skip); background:var(--skipbg); }
table.run { width:auto; }
.sig-failure { color:var(--bad); font-weight:600; }
.sig-info { color:var(--skip); }
.empty { color:#57606a; font-style:italic; }
footer { color:#57606a; padding:0 24px 16px; font-size:12px; }
@media print {
  @page { size: A4 landscape; margin: 10mm; }
  body { background:#fff; font-size:9pt; line-height:1.25; }
  header { background:none; color:#000; padding:0 0 4px; border-bottom:2px solid #000; }
  header .meta, header .meta strong { color:#000; }
  main { padding:0; }
  h2 { font-size:11pt; margin:8px 0 3px; break-after:avoid; }
  .tile { padding:2px 8px; }
  .tile .n { font-size:11pt; }
  th, td { padding:1px 4px; }
  tr { break-inside:avoid; }
  details summary { color:#000; }
  code, .logline { font-size:8pt; }
  footer { padding:4px 0 0; }
}
";

        public static void WriteHtml(RemediationReport report, TextWriter w)
        {
            if (report == null) throw new ArgumentNullException(nameof(report));
            var allFindings = report.Hosts.SelectMany(h => ReportFindings(h.Findings)).Concat(report.Findings).ToList();

            w.Write("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
            w.Write("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n");
            w.Write("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
            w.Write("<title>" + E(report.Title) + "</title>\n<style>" + Css + "</style>\n</head>\n<body>\n");

            w.Write("<header>\n<h1>" + E(report.Title) + "</h1>\n");
            if (report.Incomplete != null) w.Write("<p class=\"badge Failed\">INCOMPLETE: " + E(report.Incomplete) + "</p>\n");
            var meta = new List<string>();
            if (report.ChangeTicket != null) meta.Add("Change <strong class=\"ticket\">" + E(report.ChangeTicket) + "</strong>");
            if (report.Operator != null) meta.Add("Run by <strong class=\"operator\">" + E(report.Operator) + "</strong>");
            meta.Add("Started " + E(FormatTime(report.GeneratedAt)));
            if (report.Servers.Count > 0) meta.Add("vCenter " + E(string.Join(", ", report.Servers)));
            meta.Add(Count(report.Hosts.Count, "host") + ", " + Count(report.VMs.Count, "VM") + ", " + Count(allFindings.Count, "finding"));
            w.Write("<p class=\"meta\">" + string.Join(" &middot; ", meta) + "</p>\n</header>\n<main>\n");

            WriteTiles(report, allFindings, w);
            WriteVMTable(report, w);
            WriteHostTable(report, w);
            WriteFindings(report, w);
            WriteRun(report, w);

            w.Write("</main>\n<footer>MtvRemediation report. Times are UTC, as vCenter's tasks and the hosts' commands ended. The same data is in the JSON report.</footer>\n</body>\n</html>\n");
        }

        // What the run changed, counted by kind: an outcome word says how an item ended, not what
        // it got, so a host that only got a rotation job is never counted as a freed one.
        private static void WriteTiles(RemediationReport report, List<CloneFailureFinding> allFindings, TextWriter w)
        {
            int hosts = report.Hosts.Count, vms = report.VMs.Count;
            var down = report.VMs.Where(v => v.PoweredOffAt.HasValue).ToList();
            var downtimes = report.VMs.Where(v => v.Downtime.HasValue).Select(v => v.Downtime!.Value).ToList();
            w.Write("<div class=\"tiles\">\n");
            Tile(w, "hosts: /var freed (log truncated)", report.Hosts.Count(h => h.LogCleared), hosts);
            Tile(w, "hosts: rotation job added", report.Hosts.Count(h => h.RotationCronAdded), hosts);
            if (report.Hosts.Any(h => h.AgentsRestarted || h.Plan.Concat(h.Actions).Any(a => a.StartsWith("Restart", StringComparison.Ordinal))))
                Tile(w, "hosts: agents restarted", report.Hosts.Count(h => h.AgentsRestarted), hosts);
            Tile(w, "VMs: CBT reset", report.VMs.Count(v => v.CbtReset), vms);
            Tile(w, "VMs: taken down", down.Count, vms,
                downtimes.Count > 0 ? "longest " + Duration(downtimes.Max()) + ", total " + Duration(TimeSpan.FromTicks(downtimes.Sum(d => d.Ticks))) : null);
            foreach (var outcome in new[] { RemediationOutcome.Failed, RemediationOutcome.Partial, RemediationOutcome.Unknown, RemediationOutcome.Declined, RemediationOutcome.Refused })
            {
                var h = report.Hosts.Count(x => x.Outcome == outcome);
                var v = report.VMs.Count(x => x.Outcome == outcome);
                if (h + v > 0) Tile(w, outcome + ": " + Count(h, "host") + ", " + Count(v, "VM"), h + v, null, null, outcome);
            }
            Tile(w, "failure lines in the logs", allFindings.Where(f => !IsInformational(f)).Sum(f => f.Occurrences), null);
            w.Write("</div>\n");
        }

        private static void Tile(TextWriter w, string label, long n, int? of, string? note = null, RemediationOutcome? outcome = null)
        {
            w.Write("<div class=\"tile\"><span class=\"n" + (outcome.HasValue ? " badge " + outcome.Value : "") + "\">" + n.ToString(Inv) + "</span>"
                    + (of.HasValue ? " <span class=\"l\">of " + of.Value.ToString(Inv) + "</span>" : "")
                    + " <span class=\"l\">" + E(label) + (note != null ? " (" + E(note) + ")" : "") + "</span></div>\n");
        }

        private static void WriteRun(RemediationReport report, TextWriter w)
        {
            if (report.Servers.Count == 0 && report.Parameters.Count == 0) return;
            w.Write("<section id=\"run\">\n<details><summary>Run parameters</summary>\n<table class=\"run\">\n<tbody>\n");
            if (report.Servers.Count > 0) w.Write("<tr><th>vCenter</th><td>" + E(string.Join(", ", report.Servers)) + "</td></tr>\n");
            foreach (var p in report.Parameters)
            {
                var i = p.IndexOf(':');
                w.Write("<tr><th>" + E(i > 0 ? p.Substring(0, i) : p) + "</th><td><code>" + E(i > 0 ? p.Substring(i + 1).Trim() : "") + "</code></td></tr>\n");
            }
            w.Write("</tbody>\n</table>\n</details>\n</section>\n");
        }

        private static void WriteHostTable(RemediationReport report, TextWriter w)
        {
            w.Write("<section id=\"hosts\">\n<h2>Hosts</h2>\n");
            if (report.Hosts.Count == 0) { w.Write("<p class=\"empty\">No hosts in this run.</p>\n</section>\n"); return; }
            w.Write("<table class=\"hosts\">\n<thead><tr><th>Host</th><th>Outcome</th><th>Changed</th><th>/var used</th><th>Wrapper log</th><th>Findings</th><th>Start</th><th>End</th><th>Details</th></tr></thead>\n<tbody>\n");
            foreach (var h in report.Hosts)
            {
                w.Write("<tr><td><strong>" + E(h.VMHost) + "</strong></td>");
                w.Write("<td>" + Badge(h.Outcome) + "</td>");
                w.Write("<td>" + E(Changed(h)) + "</td>");
                w.Write("<td class=\"change\">" + Change(Percent(h.UsedPercentBefore), Percent(h.UsedPercentAfter)) + "</td>");
                w.Write("<td class=\"change\">" + Change(Bytes(h.LogSizeBytesBefore), Bytes(h.LogSizeBytesAfter)) + "</td>");
                w.Write("<td>" + FindingCounts(ReportFindings(h.Findings)) + "</td>");
                w.Write(TimeCell(h.StartedAt, report.GeneratedAt) + TimeCell(h.FinishedAt, report.GeneratedAt));
                w.Write("<td>" + Details(Lines(h), h.FinalState, h.LogArchive == null ? null : "Log archive: " + ArchiveLink(h.LogArchive)) + "</td></tr>\n");
            }
            w.Write("</tbody>\n</table>\n</section>\n");
        }

        // What the run changed on the host, in words (the outcome alone does not say).
        private static string Changed(RemediationHostSummary h)
        {
            var parts = new List<string>();
            if (h.LogCleared) parts.Add("log truncated");
            if (h.RotationCronAdded) parts.Add("rotation job added");
            if (h.AgentsRestarted) parts.Add("agents restarted");
            return parts.Count > 0 ? string.Join(", ", parts) : h.Plan.Count > 0 && h.Done == 0 ? "nothing (planned only)" : "nothing";
        }

        private static void WriteVMTable(RemediationReport report, TextWriter w)
        {
            w.Write("<section id=\"vms\">\n<h2>Virtual machines</h2>\n");
            if (report.VMs.Count == 0) { w.Write("<p class=\"empty\">No VMs in this run.</p>\n</section>\n"); return; }
            w.Write("<table class=\"vms\">\n<thead><tr><th>VM</th><th>Host</th><th>Outcome</th><th>Power</th><th>CBT</th><th>Start</th><th>Down</th><th>Up</th><th>End</th><th>Downtime</th><th>Details</th></tr></thead>\n<tbody>\n");
            foreach (var v in report.VMs)
            {
                w.Write("<tr><td><strong>" + E(v.VM) + "</strong></td><td>" + E(v.VMHost) + "</td>");
                w.Write("<td>" + Badge(v.Outcome) + "</td>");
                w.Write("<td class=\"change\">" + Change(v.PowerStateBefore, v.PowerStateAfter) + "</td>");
                w.Write("<td class=\"change\">" + Change(Cbt(v.CbtEnabledBefore), Cbt(v.CbtEnabledAfter)) + "</td>");
                w.Write(TimeCell(v.StartedAt, report.GeneratedAt) + TimeCell(v.PoweredOffAt, report.GeneratedAt) + TimeCell(v.PoweredOnAt, report.GeneratedAt) + TimeCell(v.FinishedAt, report.GeneratedAt));
                var downtime = v.Downtime.HasValue ? Duration(v.Downtime.Value) : v.PoweredOffAt.HasValue ? "still off" : "";
                w.Write("<td class=\"num downtime\">" + E(downtime) + "</td>");
                var deleted = v.DeletedCtkFiles.Count == 0 ? null
                    : "Deleted: " + string.Join(", ", v.DeletedCtkFiles.Select(f => "<code>" + E(f) + "</code>"));
                w.Write("<td>" + Details(Lines(v), v.FinalState, deleted) + "</td></tr>\n");
            }
            w.Write("</tbody>\n</table>\n</section>\n");
        }

        private static void WriteFindings(RemediationReport report, TextWriter w)
        {
            w.Write("<section id=\"findings\">\n<h2>Clone failure findings</h2>\n");
            var groups = report.Hosts.Where(h => h.Findings.Length > 0).Select(h => (Title: h.VMHost, Findings: ReportFindings(h.Findings))).ToList();
            if (report.Findings.Count > 0) groups.Add((Title: "Other sources (pod logs, files)", report.Findings));
            if (groups.Count == 0) { w.Write("<p class=\"empty\">No clone failure lines were found.</p>\n</section>\n"); return; }
            foreach (var g in groups)
            {
                w.Write("<details><summary>" + E(g.Title) + ": " + FindingCounts(g.Findings).Replace("<br>", ", ") + "</summary>\n<table class=\"findings\">\n<thead><tr><th>Time (UTC)</th><th>Signature</th><th>Source</th><th>Line</th><th>Count</th><th>Log line</th><th>Remediation</th></tr></thead>\n<tbody>\n");
                foreach (var f in g.Findings)
                {
                    w.Write("<tr><td class=\"num\">" + E(f.Timestamp.HasValue ? FormatTime(f.Timestamp.Value) : "") + "</td>");
                    w.Write("<td class=\"" + (IsInformational(f) ? "sig-info" : "sig-failure") + "\">" + E(f.Signature) + (f.ExitCode.HasValue ? " <span class=\"sig-info\">(exit " + f.ExitCode.Value.ToString(Inv) + ")</span>" : "") + "</td>");
                    // Under a host heading the host is known: show the log path; elsewhere the whole source.
                    w.Write("<td class=\"src\"><code>" + E(f.VMHost != null && f.Path != null ? f.Path : f.Source) + "</code></td><td class=\"num\">" + f.LineNumber.ToString(Inv) + "</td><td class=\"num\">" + f.Occurrences.ToString(Inv) + "</td>");
                    w.Write("<td class=\"logline\">" + E(f.Line) + "</td><td><code>" + E(f.Remediation) + "</code></td></tr>\n");
                }
                w.Write("</tbody>\n</table>\n</details>\n");
            }
            w.Write("</section>\n");
        }

        // A row's details, folded: what was done (or planned) and the errors, the final state, and
        // an extra line already in HTML (archive link, deleted files).
        private static string Details(List<string> lines, string finalState, string? extraHtml)
        {
            var count = lines.Count(l => !l.StartsWith("Diagnosis:", StringComparison.Ordinal));
            return "<details><summary>" + Count(count, "step") + "</summary>" + Steps(lines)
                   + (extraHtml != null ? "<div>" + extraHtml + "</div>" : "")
                   + "<div>Final state: " + E(finalState) + "</div></details>";
        }

        // A time of the run as HH:mm:ss (the header has the date); the date too when it differs.
        private static string TimeCell(DateTime? t, DateTime runStart)
        {
            if (!t.HasValue) return "<td class=\"time\"></td>";
            var u = t.Value.Kind == DateTimeKind.Local ? t.Value.ToUniversalTime() : t.Value;
            var start = runStart.Kind == DateTimeKind.Local ? runStart.ToUniversalTime() : runStart;
            return "<td class=\"time\">" + E(u.ToString(u.Date == start.Date ? "HH:mm:ss" : "yyyy-MM-dd HH:mm:ss", Inv)) + "</td>";
        }

        private static string Duration(TimeSpan d) =>
            d.TotalHours >= 1 ? ((int)d.TotalHours).ToString(Inv) + " h " + d.Minutes.ToString("00", Inv) + " min"
            : d.TotalMinutes >= 1 ? ((int)d.TotalMinutes).ToString(Inv) + " min " + d.Seconds.ToString("00", Inv) + " s"
            : d.TotalSeconds.ToString("0", Inv) + " s";

        // Archives are written beside the report: a relative link (file name only, percent-encoded)
        // opens them from the report wherever the folder is copied.
        private static string ArchiveLink(string? archive)
        {
            if (string.IsNullOrEmpty(archive)) return "<span class=\"empty\">none</span>";
            var name = Path.GetFileName(archive);
            return "<a href=\"" + E(Uri.EscapeDataString(name)) + "\"><code>" + E(name) + "</code></a>";
        }

        private static bool IsInformational(CloneFailureFinding f) => f.Signature == CloneFailureSignatures.XcopyNotUsed;

        private static string FindingCounts(List<CloneFailureFinding> findings)
        {
            if (findings.Count == 0) return "<span class=\"empty\">none</span>";
            var parts = findings.GroupBy(f => f.Signature).Select(g => E(g.Key) + "&nbsp;&times;" + g.Sum(f => f.Occurrences).ToString(Inv));
            return string.Join("<br>", parts);
        }

        private static string Steps(List<string> steps)
            => steps.Count == 0 ? "<span class=\"empty\">none</span>" : "<ul class=\"steps\">" + string.Concat(steps.Select(s => "<li>" + E(s) + "</li>")) + "</ul>";

        private static string Badge(RemediationOutcome outcome) => "<span class=\"badge " + outcome + "\">" + outcome + "</span>";

        private static string Change(string? before, string? after)
            => E(before ?? "?") + "<span class=\"arrow\">&rarr;</span>" + E(after ?? "?");

        private static string? Percent(double? p) => p.HasValue ? p.Value.ToString("0.#", Inv) + "%" : null;

        private static string? Cbt(bool? enabled) => enabled.HasValue ? (enabled.Value ? "enabled" : "disabled") : null;

        private static string? Bytes(long? bytes)
        {
            if (!bytes.HasValue) return null;
            double b = bytes.Value;
            string[] units = { "B", "KiB", "MiB", "GiB", "TiB" };
            var u = 0;
            while (Math.Abs(b) >= 1024 && u < units.Length - 1) { b /= 1024; u++; }
            return (u == 0 ? b.ToString("0", Inv) : b.ToString("0.#", Inv)) + " " + units[u];
        }

        private static string Count(int n, string noun) => n.ToString(Inv) + " " + noun + (n == 1 ? "" : "s");

        private static string FormatTime(DateTime t)
            => (t.Kind == DateTimeKind.Local ? t.ToUniversalTime() : t).ToString("yyyy-MM-dd HH:mm:ss", Inv) + " UTC";

        /// <summary>
        /// HTML-encodes text and attribute values (&lt; &gt; &amp; " '), host text as the console
        /// shows it (<see cref="HostText.Printable"/>: a control or a byte that is not UTF-8 as \xHH).
        /// </summary>
        private static string E(string? text) => WebUtility.HtmlEncode(HostText.Printable(text));

        // ---------------------------------------------------------------- JSON

        public static void WriteJson(RemediationReport report, TextWriter w)
        {
            if (report == null) throw new ArgumentNullException(nameof(report));
            var j = new JsonOut(w);
            j.BeginObject();
            j.Prop("Title", report.Title);
            j.Prop("Incomplete", report.Incomplete);
            j.Prop("GeneratedAt", report.GeneratedAt);
            j.Prop("Operator", report.Operator);
            j.Prop("ChangeTicket", report.ChangeTicket);
            j.Name("Servers"); j.Strings(report.Servers);
            j.Name("Parameters"); j.Strings(report.Parameters);
            j.Name("Hosts"); j.BeginArray();
            foreach (var h in report.Hosts)
            {
                j.BeginObject();
                j.Prop("VMHost", h.VMHost);
                j.Name("LogSpaceBefore"); Space(j, h.LogStatusBefore, h.LogSizeBytesBefore, h.UsedPercentBefore, h.FreeBytesBefore);
                j.Name("LogSpaceAfter"); Space(j, h.LogStatusAfter, h.LogSizeBytesAfter, h.UsedPercentAfter, h.FreeBytesAfter);
                j.Name("Actions"); j.Strings(Lines(h));
                j.Name("Findings"); Findings(j, ReportFindings(h.Findings));
                j.Prop("Outcome", h.Outcome.ToString());
                j.Prop("LogCleared", h.LogCleared);
                j.Prop("RotationCronAdded", h.RotationCronAdded);
                j.Prop("AgentsRestarted", h.AgentsRestarted);
                j.Prop("StartedAt", h.StartedAt);
                j.Prop("FinishedAt", h.FinishedAt);
                j.Prop("LogArchive", h.LogArchive);
                j.Prop("FinalState", h.FinalState);
                j.EndObject();
            }
            j.EndArray();
            j.Name("VMs"); j.BeginArray();
            foreach (var v in report.VMs)
            {
                j.BeginObject();
                j.Prop("VM", v.VM);
                j.Prop("VMHost", v.VMHost);
                j.Prop("CbtEnabledBefore", v.CbtEnabledBefore);
                j.Prop("CbtEnabledAfter", v.CbtEnabledAfter);
                j.Prop("PowerStateBefore", v.PowerStateBefore);
                j.Prop("PowerStateAfter", v.PowerStateAfter);
                j.Name("DeletedCtkFiles"); j.Strings(v.DeletedCtkFiles);
                j.Name("Actions"); j.Strings(Lines(v));
                j.Prop("CbtReset", v.CbtReset);
                j.Prop("StartedAt", v.StartedAt);
                j.Prop("PoweredOffAt", v.PoweredOffAt);
                j.Prop("PoweredOnAt", v.PoweredOnAt);
                j.Prop("FinishedAt", v.FinishedAt);
                j.Prop("DowntimeSeconds", v.Downtime?.TotalSeconds);
                j.Prop("Outcome", v.Outcome.ToString());
                j.Prop("FinalState", v.FinalState);
                j.EndObject();
            }
            j.EndArray();
            j.Name("Findings"); Findings(j, report.Findings);
            j.EndObject();
            w.Write('\n');
        }

        // A host's space before or after, as one object (null: not measured).
        private static void Space(JsonOut j, string? status, long? logBytes, double? usedPercent, long? freeBytes)
        {
            if (status == null) { j.Null(); return; }
            j.BeginObject();
            j.Prop("LogSizeBytes", logBytes);
            j.Prop("VarUsedPercent", usedPercent);
            j.Prop("VarFreeBytes", freeBytes);
            j.Prop("Status", status);
            j.EndObject();
        }

        // What a row did, as the report lists it: the actions (or, where nothing was done, the
        // plan), then the errors; a VM's diagnosis first.
        private static List<string> Lines(RemediationSummary row)
        {
            var lines = new List<string>();
            if (row is RemediationVMSummary vm) lines.Add("Diagnosis: " + vm.Diagnosis);
            lines.AddRange(row.Actions.Count > 0 ? row.Actions : row.Plan.Select(p => "Planned: " + p));
            lines.AddRange(row.Errors.Select(e => "Error: " + e));
            return lines;
        }

        // Every failure line, but of the frequent informational XcopyNotUsed lines only the last
        // one per source (it carries the count of the lines it stands for).
        private static List<CloneFailureFinding> ReportFindings(IEnumerable<CloneFailureFinding> findings)
        {
            var list = findings.ToList();
            var lastInfo = new HashSet<CloneFailureFinding>(list.Where(f => f.Signature == CloneFailureSignatures.XcopyNotUsed)
                .GroupBy(f => f.Source).Select(g => g.Last()));
            return list.Where(f => f.Signature != CloneFailureSignatures.XcopyNotUsed || lastInfo.Contains(f)).ToList();
        }

        private static void Findings(JsonOut j, List<CloneFailureFinding> findings)
        {
            j.BeginArray();
            foreach (var f in findings)
            {
                j.BeginObject();
                j.Prop("Source", f.Source);
                j.Prop("VMHost", f.VMHost);
                j.Prop("Path", f.Path);
                j.Prop("LineNumber", f.LineNumber);
                j.Prop("Timestamp", f.Timestamp);
                j.Prop("Signature", f.Signature);
                j.Prop("ExitCode", f.ExitCode);
                j.Prop("Occurrences", f.Occurrences);
                j.Prop("Line", f.Line);
                j.Prop("Cause", f.Cause);
                j.Prop("Remediation", f.Remediation);
                j.EndObject();
            }
            j.EndArray();
        }

    }
}
