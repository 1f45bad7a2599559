using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net;
using MtvRemediation.Infrastructure;

namespace MtvRemediation.Wave
{
    /// <summary>
    /// The change board's view of a readiness run: one self-contained HTML page (inline CSS, no
    /// scripts, every value HTML-encoded, a Content-Security-Policy that forbids scripts) and JSON
    /// with the same rows, written owner-only and atomically like the remediation report.
    /// </summary>
    internal static class WaveReadinessReport
    {
        private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;
        private static readonly string[] Statuses = { "Fail", "Warn", "Unknown", "Pass" };

        public sealed class Run
        {
            public DateTime GeneratedAt { get; set; }
            public List<string> Servers { get; } = new List<string>();

            /// <summary>The plans read (namespace/name, warm or cold), or empty for -VM.</summary>
            public List<string> Plans { get; } = new List<string>();
            public List<WaveReadinessCheck> Rows { get; } = new List<WaveReadinessCheck>();
        }

        /// <summary>Writes <c>mtv-wave-readiness-&lt;stamp&gt;.html</c> and <c>.json</c> in <paramref name="directory"/>; returns both paths.</summary>
        public static (string Html, string Json) Save(Run run, string directory)
        {
            Directory.CreateDirectory(directory);
            var stamp = run.GeneratedAt.ToString("yyyyMMdd-HHmmss", Inv);
            var html = OwnerOnlyFile.UniquePath(directory, "mtv-wave-readiness-" + stamp, ".html");
            var json = Path.ChangeExtension(html, ".json");
            OwnerOnlyFile.WriteReplacing(html, w => WriteHtml(run, w));
            OwnerOnlyFile.WriteReplacing(json, w => WriteJson(run, w));
            return (html, json);
        }

        private static IEnumerable<WaveReadinessCheck> Ordered(IEnumerable<WaveReadinessCheck> rows) =>
            rows.OrderBy(r => Array.IndexOf(Statuses, r.Status)).ThenBy(r => r.TargetType, StringComparer.Ordinal)
                .ThenBy(r => r.Target, StringComparer.OrdinalIgnoreCase).ThenBy(r => r.Check, StringComparer.Ordinal);

        public static void WriteHtml(Run run, TextWriter w)
        {
            const string css = @"
body { font: 14px/1.45 -apple-system, 'Segoe UI', 'Liberation Sans', Arial, sans-serif; color:#1f2328; margin:0; background:#f6f8fa; }
header { background:#24292f; color:#fff; padding:18px 28px; } header h1 { margin:0 0 4px; font-size:22px; } header p { margin:0; color:#d0d7de; }
main { padding:8px 28px 28px; } h2 { font-size:17px; margin:22px 0 8px; }
.tiles { display:flex; gap:12px; flex-wrap:wrap; margin:16px 0 4px; } .tile { background:#fff; border:1px solid #d0d7de; border-radius:6px; padding:10px 16px; min-width:120px; }
.tile .n { font-size:22px; font-weight:600; } .tile .l { color:#57606a; }
table { border-collapse:collapse; width:100%; background:#fff; border:1px solid #d0d7de; } th, td { border-bottom:1px solid #d0d7de; padding:6px 8px; text-align:left; vertical-align:top; }
th { background:#eaeef2; } td { overflow-wrap:anywhere; } code { font-family: ui-monospace, 'DejaVu Sans Mono', Consolas, monospace; font-size:12px; }
.badge { display:inline-block; padding:1px 8px; border-radius:10px; font-size:12px; font-weight:600; }
.Pass { color:#1a7f37; background:#dafbe1; } .Warn { color:#9a6700; background:#fff8c5; } .Fail { color:#cf222e; background:#ffebe9; } .Unknown { color:#57606a; background:#eaeef2; }
.empty { color:#57606a; font-style:italic; }";
            var rows = run.Rows;
            var hosts = rows.Where(r => r.TargetType == "VMHost").Select(r => r.Target).Distinct(StringComparer.OrdinalIgnoreCase).Count();
            var vms = rows.Where(r => r.TargetType == "VM").Select(r => r.Target).Distinct(StringComparer.OrdinalIgnoreCase).Count();
            w.Write("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
            w.Write("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n");
            w.Write("<title>Migration wave readiness</title>\n<style>" + css + "</style>\n</head>\n<body>\n");
            w.Write("<header>\n<h1>Migration wave readiness</h1>\n<p>Generated " + E(run.GeneratedAt.ToString("yyyy-MM-dd HH:mm:ss", Inv)) + " UTC &middot; "
                    + hosts.ToString(Inv) + " host(s) &middot; " + vms.ToString(Inv) + " VM(s)"
                    + (run.Plans.Count > 0 ? " &middot; " + E(string.Join(", ", run.Plans)) : "")
                    + (run.Servers.Count > 0 ? " &middot; vCenter " + E(string.Join(", ", run.Servers)) : "") + "</p>\n</header>\n<main>\n");
            w.Write("<div class=\"tiles\">\n");
            foreach (var s in Statuses)
                w.Write("<div class=\"tile\"><div class=\"n " + s + "\">" + rows.Count(r => r.Status == s).ToString(Inv) + "</div><div class=\"l\">" + s + "</div></div>\n");
            w.Write("</div>\n");
            Table(w, "Not ready", Ordered(rows.Where(r => r.Status != "Pass")).ToList(), "Every check passed.");
            Table(w, "Every check", Ordered(rows).ToList(), "No checks.");
            w.Write("</main>\n</body>\n</html>\n");
        }

        private static void Table(TextWriter w, string title, List<WaveReadinessCheck> rows, string empty)
        {
            w.Write("<section>\n<h2>" + E(title) + "</h2>\n");
            if (rows.Count == 0) { w.Write("<p class=\"empty\">" + E(empty) + "</p>\n</section>\n"); return; }
            w.Write("<table>\n<thead><tr><th>Target</th><th>Check</th><th>Status</th><th>Evidence</th><th>Source</th><th>Fix</th></tr></thead>\n<tbody>\n");
            foreach (var r in rows)
                w.Write("<tr><td><strong>" + E(r.Target) + "</strong><br>" + E(r.TargetType == "VM" ? "VM on " + r.VMHost : "host") + "</td><td>" + E(r.Check)
                        + "</td><td><span class=\"badge " + E(r.Status) + "\">" + E(r.Status) + "</span></td><td>" + E(r.Evidence) + "</td><td>" + E(r.Source)
                        + "</td><td><code>" + E(r.Fix) + "</code></td></tr>\n");
            w.Write("</tbody>\n</table>\n</section>\n");
        }

        public static void WriteJson(Run run, TextWriter w)
        {
            var j = new JsonOut(w);
            j.BeginObject();
            j.Prop("generatedAt", run.GeneratedAt);
            j.Name("servers"); j.Strings(run.Servers);
            j.Name("plans"); j.Strings(run.Plans);
            j.Name("counts"); j.BeginObject();
            foreach (var s in Statuses) j.Prop(s, (long)run.Rows.Count(r => r.Status == s));
            j.EndObject();
            j.Name("checks"); j.BeginArray();
            foreach (var r in Ordered(run.Rows))
            {
                j.BeginObject();
                j.Prop("check", r.Check); j.Prop("targetType", r.TargetType); j.Prop("target", r.Target); j.Prop("status", r.Status);
                j.Prop("evidence", r.Evidence); j.Prop("source", r.Source); j.Prop("fix", r.Fix);
                j.Prop("vmHost", r.VMHost); j.Prop("vm", r.VM); j.Prop("vmId", r.VMId); j.Prop("server", r.Server);
                j.EndObject();
            }
            j.EndArray();
            j.EndObject();
            w.Write("\n");
        }

        private static string E(string? text) => WebUtility.HtmlEncode(text ?? "");
    }
}
