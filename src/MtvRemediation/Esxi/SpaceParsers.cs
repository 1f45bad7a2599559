using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace MtvRemediation.Esxi
{
    /// <summary>One row of a df-like table (vdf, df -k) or a stat -f answer, in bytes.</summary>
    internal sealed class SpaceEntry
    {
        public SpaceEntry(string name, string mountPoint, long sizeBytes, long usedBytes, long freeBytes, bool exact)
        {
            Name = name;
            MountPoint = mountPoint;
            SizeBytes = sizeBytes;
            UsedBytes = usedBytes;
            FreeBytes = freeBytes;
            Exact = exact;
        }

        /// <summary>Filesystem or ramdisk name as the tool printed it.</summary>
        public string Name { get; }

        /// <summary>
        /// Where it is mounted; empty when the tool does not say. vdf prints "--" for every ramdisk:
        /// its mount point comes from the ramdisk list, never from its name (a "root" row taken as
        /// "/" would match every path and report the 32 MB root ramdisk). Sources:
        /// docs/field-sources.md#3-esxi-shell-and-storage.
        /// </summary>
        public string MountPoint { get; }

        public long SizeBytes { get; }
        public long UsedBytes { get; }

        /// <summary>Space available for new data (df's "Available").</summary>
        public long FreeBytes { get; }

        /// <summary>False when parsed from human-readable sizes (vdf -h): rounded, not byte-exact.</summary>
        public bool Exact { get; }
    }

    /// <summary>
    /// Parsers for the space tools ESXi offers. They read the header to learn the unit, so
    /// <c>vdf</c> (1k-blocks), <c>vdf -h</c> (human sizes) and <c>df -k</c> all parse with one routine.
    /// Real output on record (each a test in SpaceParsersTests; sources and what is unverified:
    /// docs/field-sources.md#3-esxi-shell-and-storage):
    /// <list type="bullet">
    /// <item><c>vdf -h</c> on an ESXi 6.x host, from a public blog repository's post "Capturing
    /// Network Traffic on ESXi Hosts" (pktcap-uw filling /tmp): header
    /// <c>Ramdisk Size Used Available Use% Mounted on</c>, rows like <c>tmp 256M 255M 364K 99% --</c>
    /// (also quoted in the field sources). <c>vdf</c> without -h prints blocks ("-h multiple instead of
    /// blocks", its own usage text, technodrone.cloud 2010 "ESXi has a 32mb memory footprint"), but
    /// its header is unverified: "1k-blocks", "kbytes" or "bytes" are recognised; anything else is
    /// read as rounded sizes, and the probe then prefers vdf -h.</item>
    /// <item>ESXi's <c>df</c>: header <c>Filesystem Bytes Used Available Use% Mounted on</c> with
    /// <c>VMFS-6</c> and <c>vfat</c> rows under /vmfs/volumes (mtioutput.com 2019-03-01 "ESXi ... vfat";
    /// it spells the column "Avalable", which the header test does not need). <c>df -h</c> on ESXi 5.x:
    /// <c>Filesystem Size Used Available Use% Mounted on</c>, rows like
    /// <c>VMFS-5 29.8G 10.7G 19.0G 36% /vmfs/volumes/ISCSIDataStore-2</c> and
    /// <c>vfat 249.7M 157.8M 91.9M 63% /vmfs/volumes/e848f979-...</c> (ervikrant06.wordpress.com
    /// 2014-09-09 "Understanding ESXi root disk partitions"). ESXi 7/8's name for the OSDATA
    /// volume's type in df (the lab prints VFFS) is unverified; the parser does not depend on it.</item>
    /// </list>
    /// </summary>
    internal static class SpaceParsers
    {
        /// <summary>
        /// Parses every df-like table in <paramref name="text"/>. vdf prints a tardisk section (no
        /// Use% column: skipped) and a ramdisk section; df -k prints one filesystem table. Long
        /// filesystem names that wrap onto their own line (POSIX df) are joined with the next line.
        /// </summary>
        public static IReadOnlyList<SpaceEntry> ParseTables(string text)
        {
            var result = new List<SpaceEntry>();
            if (string.IsNullOrEmpty(text)) return result;
            Unit? unit = null;
            string? pendingName = null;
            foreach (var rawLine in text.Replace("\r\n", "\n").Split('\n'))
            {
                var line = rawLine.Trim();
                if (line.Length == 0 || line.StartsWith("---", StringComparison.Ordinal)) { pendingName = null; continue; }
                var fields = line.Split(new[] { ' ', '\t' }, StringSplitOptions.RemoveEmptyEntries);
                if (IsHeader(line))
                {
                    unit = UnitFromHeader(line);
                    pendingName = null;
                    continue;
                }
                if (unit == null) continue;
                if (fields.Length == 1) { pendingName = fields[0]; continue; }
                if (pendingName != null)
                {
                    var joined = new string[fields.Length + 1];
                    joined[0] = pendingName;
                    Array.Copy(fields, 0, joined, 1, fields.Length);
                    fields = joined;
                    pendingName = null;
                }
                // name size used avail use% mounted-on...
                if (fields.Length < 6 || !fields[4].EndsWith("%", StringComparison.Ordinal)) continue;
                // One size a statement: a definite-assignment chain would keep a mutation tool from testing this method.
                if (!TryParseSize(fields[1], unit.Value, out var size)) continue;
                if (!TryParseSize(fields[2], unit.Value, out var used)) continue;
                if (!TryParseSize(fields[3], unit.Value, out var avail)) continue;
                // Numbers no volume can have (more used or available than its size, over 100% used)
                // mean a garbled or lying answer: no answer rather than a wrong one.
                if (used > size || avail > size || !IsPercent(fields[4])) continue;
                var mounted = string.Join(" ", fields, 5, fields.Length - 5);
                if (mounted == "--") mounted = string.Empty;
                else if (!mounted.StartsWith("/", StringComparison.Ordinal)) continue; // garbled row: no answer rather than a wrong one
                result.Add(new SpaceEntry(fields[0], mounted, size, used, avail, unit.Value != Unit.Human));
            }
            return result;
        }

        /// <summary>
        /// Parses the answer of <c>stat -f -c '%S %b %f %a' PATH</c>: fundamental block size, total
        /// blocks, free blocks, blocks available to non-root. Returns null if the line does not fit.
        /// </summary>
        public static SpaceEntry? ParseStatFs(string line, string path)
        {
            var f = (line ?? string.Empty).Trim().Split(new[] { ' ', '\t' }, StringSplitOptions.RemoveEmptyEntries);
            if (f.Length != 4) return null;
            if (!long.TryParse(f[0], NumberStyles.None, CultureInfo.InvariantCulture, out var bs) || bs <= 0
                || !long.TryParse(f[1], NumberStyles.None, CultureInfo.InvariantCulture, out var total)
                || !long.TryParse(f[2], NumberStyles.None, CultureInfo.InvariantCulture, out var free)
                || !long.TryParse(f[3], NumberStyles.None, CultureInfo.InvariantCulture, out var avail)) return null;
            // Numbers no filesystem can have (overflow, more free than total) mean a garbled answer.
            if (free > total || avail > total || total > long.MaxValue / bs) return null;
            return new SpaceEntry(path, path, total * bs, (total - free) * bs, avail * bs, exact: true);
        }

        /// <summary>
        /// The entry whose mount point is the longest prefix of <paramref name="path"/> (a resolved
        /// absolute path), or null. Entries without a mount point never match.
        /// </summary>
        public static SpaceEntry? FindVolumeFor(IEnumerable<SpaceEntry> entries, string path)
        {
            SpaceEntry? best = null;
            foreach (var e in entries)
            {
                if (!Holds(e.MountPoint, path)) continue;
                if (best == null || e.MountPoint.TrimEnd('/').Length > best.MountPoint.TrimEnd('/').Length) best = e;
            }
            return best;
        }

        /// <summary>True when <paramref name="path"/> lies at or below the mount point (whole components only).</summary>
        public static bool Holds(string mountPoint, string path)
        {
            if (!mountPoint.StartsWith("/", StringComparison.Ordinal)) return false;
            var mp = mountPoint.Length > 1 ? mountPoint.TrimEnd('/') : mountPoint;
            return mp == "/" || path == mp || path.StartsWith(mp + "/", StringComparison.Ordinal);
        }

        /// <summary>
        /// Ramdisk name -> mount point from <c>localcli|esxcli system visorfs ramdisk list</c>. Its
        /// layout on ESXi is UNVERIFIED: no captured output of it was found in VMware's docs and KBs
        /// or in public repositories (only `localcli system visorfs ramdisk add -n NAME -t PATH`
        /// scripts and the vdf -h table below are on record). So this reads only
        /// what any layout of that table must have: a header naming "Mount Point", the ramdisk name
        /// as the first word of a row, and its mount point as the first later word that is an
        /// absolute path (sizes and percentages never start with '/'; a path has no spaces), whether
        /// "Mount Point" is the last column or not. Rows without such a word ("--"), the header, the
        /// dashes and the <c>root</c> ramdisk (mounted at "/", it would hold every path) are left out.
        /// Nothing recognisable: empty.
        /// </summary>
        public static IReadOnlyDictionary<string, string> ParseRamdiskMounts(string text)
        {
            var map = new Dictionary<string, string>(StringComparer.Ordinal);
            if (string.IsNullOrEmpty(text)) return map;
            var sawHeader = false;
            foreach (var raw in text.Replace("\r\n", "\n").Split('\n'))
            {
                var line = raw.Trim();
                if (line.Length == 0) continue;
                if (line.IndexOf("Mount Point", StringComparison.OrdinalIgnoreCase) >= 0) { sawHeader = true; continue; }
                if (!sawHeader || line.StartsWith("-", StringComparison.Ordinal)) continue;
                var fields = line.Split(new[] { ' ', '\t' }, StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length < 2) continue;
                var name = fields[0];
                var mount = fields.Skip(1).FirstOrDefault(f => f.StartsWith("/", StringComparison.Ordinal));
                if (mount == null || mount == "/" || name == "root") continue;
                map[name] = mount.Length > 1 ? mount.TrimEnd('/') : mount;
            }
            return map;
        }

        /// <summary>"48M", "520K", "1.5G", "12345" (bytes) in the given unit.</summary>
        internal static bool TryParseSize(string text, Unit unit, out long bytes)
        {
            bytes = 0;
            if (unit != Unit.Human)
            {
                if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n)) return false;
                if (unit == Unit.KiB && n > long.MaxValue / 1024) return false;
                bytes = unit == Unit.KiB ? n * 1024 : n;
                return true;
            }
            if (text.Length == 0) return false;
            var suffix = char.ToUpperInvariant(text[text.Length - 1]);
            long mult;
            switch (suffix)
            {
                case 'B': mult = 1; break;
                case 'K': mult = 1L << 10; break;
                case 'M': mult = 1L << 20; break;
                case 'G': mult = 1L << 30; break;
                case 'T': mult = 1L << 40; break;
                default:
                    // A bare number is bytes; any other suffix (P, E: sizes no ESXi volume has) is refused.
                    if (!char.IsDigit(suffix)) return false;
                    mult = 1;
                    break;
            }
            var number = char.IsDigit(suffix) ? text : text.Substring(0, text.Length - 1);
            if (!double.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var d)) return false;
            var exact = Math.Round(d * mult);
            if (exact >= long.MaxValue) return false;   // a cast would wrap or saturate silently
            bytes = (long)exact;
            return true;
        }

        internal enum Unit { Bytes, KiB, Human }

        // "0%" to "100%".
        private static bool IsPercent(string text) =>
            int.TryParse(text.Substring(0, text.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var p) && p <= 100;

        private static bool IsHeader(string line) =>
            line.IndexOf("Use%", StringComparison.OrdinalIgnoreCase) >= 0 || line.IndexOf("Capacity", StringComparison.OrdinalIgnoreCase) >= 0
            || (line.IndexOf("Mounted on", StringComparison.OrdinalIgnoreCase) >= 0);

        private static Unit UnitFromHeader(string header)
        {
            var h = header.ToLowerInvariant();
            if (h.Contains("1k-blocks") || h.Contains("1024-blocks") || h.Contains("kbytes")) return Unit.KiB;
            if (h.Contains("bytes")) return Unit.Bytes;
            return Unit.Human; // "Size" column: vdf -h / df -h
        }
    }
}
