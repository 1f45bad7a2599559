using System;
using System.Globalization;
using System.Text.RegularExpressions;

namespace MtvRemediation.Diagnosis
{
    /// <summary>
    /// Reads the timestamp of a log line in the shapes the clone logs use. ESXi and the populator
    /// log in UTC, so times without a zone are taken as UTC; results are UTC DateTimes.
    /// </summary>
    internal static class LogTimestamp
    {
        // [0-9], not \d: .NET's \d matches every Unicode digit (e.g. U+0D6A), which int/long.Parse then reject.
        // Python logging in the 2.9/2.10 wrapper: "2026-11-25 10:00:00,123 - ERROR - ...".
        // ESXi syslog / oc logs --timestamps / RFC 3339: "2026-11-25T10:00:00.123456789Z ...".
        private static readonly Regex IsoAtStart = new Regex(
            @"^\s*(?<d>[0-9]{4}-[0-9]{2}-[0-9]{2})[T ](?<t>[0-9]{2}:[0-9]{2}:[0-9]{2})(?:[.,](?<f>[0-9]{1,9}))?(?<z>Z|[+-][0-9]{2}:?[0-9]{2})?",
            RegexOptions.CultureInvariant | RegexOptions.Compiled);

        // klog: "I1125 10:00:00.000000       1 file.go:123] msg" (no year).
        private static readonly Regex Klog = new Regex(
            @"^\s*[IWEF](?<mo>[0-9]{2})(?<dd>[0-9]{2}) (?<t>[0-9]{2}:[0-9]{2}:[0-9]{2})(?:\.(?<f>[0-9]{1,9}))?\s",
            RegexOptions.CultureInvariant | RegexOptions.Compiled);

        // Structured logs, JSON (zap/logr) or logfmt: "ts":"2026-...", "ts":1764064800.123,
        // "time":..., "timestamp":..., time="2026-..." ts=2026-...
        private static readonly Regex StructuredTs = new Regex(
            @"(?:""(?:ts|time|timestamp)""\s*:|\b(?:ts|time|timestamp)=)\s*(?:""(?<s>[^""]+)""|(?<n>[0-9]{9,11}(?:\.[0-9]+)?)\b|(?<s>[0-9]{4}-[0-9]{2}-[0-9]{2}T[^\s,}]+))",
            RegexOptions.CultureInvariant | RegexOptions.Compiled);

        /// <summary>The line's timestamp in UTC, or null when it has none we recognise.</summary>
        /// <param name="now">Reference time for klog lines, which carry no year.</param>
        public static DateTime? Parse(string line, DateTime now)
        {
            if (string.IsNullOrEmpty(line)) return null;
            var m = IsoAtStart.Match(line);
            if (m.Success) return FromIso(m.Groups["d"].Value, m.Groups["t"].Value, m.Groups["f"].Value, m.Groups["z"].Value);

            m = Klog.Match(line);
            if (m.Success) return FromKlog(m, now);

            m = StructuredTs.Match(line);
            if (m.Success)
            {
                if (m.Groups["n"].Success)
                {
                    var seconds = double.Parse(m.Groups["n"].Value, CultureInfo.InvariantCulture);
                    return new DateTime(1970, 1, 1, 0, 0, 0, DateTimeKind.Utc).AddTicks((long)(seconds * TimeSpan.TicksPerSecond));
                }
                var iso = IsoAtStart.Match(m.Groups["s"].Value);
                if (iso.Success) return FromIso(iso.Groups["d"].Value, iso.Groups["t"].Value, iso.Groups["f"].Value, iso.Groups["z"].Value);
            }
            return null;
        }

        private static DateTime? FromIso(string date, string time, string fraction, string zone)
        {
            if (!DateTime.TryParseExact(date + " " + time, "yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture,
                    DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var value))
                return null;
            value = DateTime.SpecifyKind(value, DateTimeKind.Utc).AddTicks(FractionTicks(fraction));
            if (zone.Length > 0 && zone != "Z")
            {
                var sign = zone[0] == '-' ? -1 : 1;
                var digits = zone.Substring(1).Replace(":", "");
                var offset = new TimeSpan(int.Parse(digits.Substring(0, 2), CultureInfo.InvariantCulture),
                    int.Parse(digits.Substring(2, 2), CultureInfo.InvariantCulture), 0);
                value = value.AddTicks(-sign * offset.Ticks);
            }
            return value;
        }

        private static DateTime? FromKlog(Match m, DateTime now)
        {
            var month = int.Parse(m.Groups["mo"].Value, CultureInfo.InvariantCulture);
            var day = int.Parse(m.Groups["dd"].Value, CultureInfo.InvariantCulture);
            if (month < 1 || month > 12) return null;
            var nowUtc = now.Kind == DateTimeKind.Local ? now.ToUniversalTime() : now;
            // No year in klog: take the latest year that does not put the line more than a day ahead of now.
            for (var year = nowUtc.Year; year >= nowUtc.Year - 1; year--)
            {
                if (day > DateTime.DaysInMonth(year, month)) continue;
                if (!TimeSpan.TryParseExact(m.Groups["t"].Value, @"hh\:mm\:ss", CultureInfo.InvariantCulture, out var tod)) return null;
                var value = new DateTime(year, month, day, 0, 0, 0, DateTimeKind.Utc).Add(tod).AddTicks(FractionTicks(m.Groups["f"].Value));
                if (value <= nowUtc.AddDays(1)) return value;
            }
            return null;
        }

        // ".123" -> 1 230 000 ticks; nanosecond digits beyond tick precision are dropped.
        private static long FractionTicks(string fraction)
        {
            if (string.IsNullOrEmpty(fraction)) return 0;
            var seven = fraction.Length > 7 ? fraction.Substring(0, 7) : fraction.PadRight(7, '0');
            return long.Parse(seven, CultureInfo.InvariantCulture);
        }
    }
}
