using System;
using System.Collections.Generic;
using System.IO;
using System.Security.Cryptography;
using System.Text;
using System.Threading;

namespace MtvRemediation.Esxi
{
    /// <summary>What a known-hosts lookup found for a presented host key.</summary>
    internal enum HostKeyStatus
    {
        /// <summary>The presented key is recorded for this host.</summary>
        Known,
        /// <summary>Nothing recorded for this host and key type.</summary>
        Unknown,
        /// <summary>Other keys (of any type) are recorded for this host, not this one: possible man-in-the-middle.</summary>
        Changed,
        /// <summary>The key is marked <c>@revoked</c>.</summary>
        Revoked,
    }

    /// <summary>Result of <see cref="KnownHostsStore.Check"/>.</summary>
    internal sealed class HostKeyCheck
    {
        internal HostKeyCheck(HostKeyStatus status, string? recordedFingerprint, int lineNumber, IReadOnlyList<string> otherKeyTypes)
        {
            Status = status;
            RecordedFingerprint = recordedFingerprint;
            LineNumber = lineNumber;
            OtherKeyTypes = otherKeyTypes;
        }

        public HostKeyStatus Status { get; }

        /// <summary>For <see cref="HostKeyStatus.Changed"/>: the fingerprint on record.</summary>
        public string? RecordedFingerprint { get; }

        /// <summary>1-based line of the matching (or conflicting) entry; 0 when none.</summary>
        public int LineNumber { get; }

        /// <summary>Key types recorded for this host other than the presented one.</summary>
        public IReadOnlyList<string> OtherKeyTypes { get; }
    }

    /// <summary>
    /// A known-hosts file in OpenSSH format, so admins can read it, diff it and edit it with
    /// <c>ssh-keygen -R</c>. Reads understand plain and hashed (<c>|1|salt|hash</c>) host fields,
    /// wildcard patterns, negation and the <c>@revoked</c> marker; writes append plain
    /// <c>host</c> / <c>[host]:port</c> entries under a lock file so parallel runspaces and
    /// processes never interleave or lose lines.
    /// </summary>
    internal sealed class KnownHostsStore
    {
        /// <summary>Environment variable that overrides <see cref="DefaultPath"/> (tests, shared jump hosts).</summary>
        public const string PathEnvironmentVariable = "MTV_KNOWN_HOSTS";

        private static readonly TimeSpan LockTimeout = TimeSpan.FromSeconds(15);

        public KnownHostsStore(string path)
        {
            if (string.IsNullOrWhiteSpace(path)) throw new ArgumentException("A known-hosts path is required.", nameof(path));
            FilePath = System.IO.Path.GetFullPath(path);
        }

        /// <summary>The file this store reads and appends to.</summary>
        public string FilePath { get; }

        /// <summary>
        /// <c>$env:MTV_KNOWN_HOSTS</c> when set, else <c>~/.ssh/mtvremediation_known_hosts</c>
        /// (kept apart from the user's own known_hosts so our trust decisions never change what
        /// plain ssh accepts, yet in the same format and place admins look).
        /// </summary>
        public static string DefaultPath
        {
            get
            {
                var env = Environment.GetEnvironmentVariable(PathEnvironmentVariable);
                if (!string.IsNullOrWhiteSpace(env)) return env!;
                var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
                if (string.IsNullOrEmpty(home)) home = Environment.GetEnvironmentVariable("HOME") ?? ".";
                return System.IO.Path.Combine(home, ".ssh", "mtvremediation_known_hosts");
            }
        }

        /// <summary>
        /// OpenSSH's host field: <c>host</c> for port 22, <c>[host]:port</c> otherwise. The name must
        /// be a plain host name or address: in a known_hosts file ',' separates names and '*', '?',
        /// '!' are patterns, so a name like "evil,*" would be recorded as trust for every host.
        /// </summary>
        /// <exception cref="ArgumentException">The name holds anything but letters, digits, '.', '-', '_' and ':' (IPv6).</exception>
        public static string HostField(string host, int port)
        {
            if (string.IsNullOrWhiteSpace(host)) throw new ArgumentException("A host is required.", nameof(host));
            var h = host.Trim().ToLowerInvariant();
            foreach (var c in h)
            {
                var ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_' || c == ':';
                if (!ok)
                    throw new ArgumentException($"'{host}' is not a host name or address that can be recorded in a known-hosts file (only letters, digits, '.', '-', '_' and ':' are allowed; ',', '*', '?', '!', brackets and spaces would make it a pattern). Use the host's DNS name or IP address.", nameof(host));
            }
            if (port < 1 || port > 65535) throw new ArgumentOutOfRangeException(nameof(port), port, "A TCP port is 1-65535.");
            return port == 22 ? h : "[" + h + "]:" + port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        /// <summary>Looks up the key a server presented.</summary>
        public HostKeyCheck Check(string host, int port, byte[] keyBlob)
        {
            var lookup = HostField(host, port);
            var keyType = HostKeyFingerprint.KeyTypeOf(keyBlob);
            var keyBase64 = Convert.ToBase64String(keyBlob);
            var others = new List<string>();
            HostKeyCheck? changed = null;
            var lineNo = 0;
            foreach (var line in ReadLines())
            {
                lineNo++;
                if (!TryParse(line, out var entry)) continue;
                if (!HostMatches(entry.Hosts, lookup)) continue;
                var sameKey = string.Equals(entry.KeyBase64, keyBase64, StringComparison.Ordinal);
                if (entry.Marker == "@cert-authority") continue;
                if (entry.Marker == "@revoked")
                {
                    if (sameKey) return new HostKeyCheck(HostKeyStatus.Revoked, null, lineNo, others);
                    continue;
                }
                if (sameKey) return new HostKeyCheck(HostKeyStatus.Known, null, lineNo, others);
                // A known host presenting a key that is not on record is Changed whatever the key
                // type: a man in the middle can simply offer an RSA key to a client that knows the
                // host's ed25519 key (trust on first use must never apply to a known host).
                changed ??= new HostKeyCheck(HostKeyStatus.Changed, FingerprintOf(entry.KeyBase64), lineNo, others);
                if (!string.Equals(entry.KeyType, keyType, StringComparison.Ordinal) && !others.Contains(entry.KeyType))
                {
                    others.Add(entry.KeyType);
                }
            }
            return changed ?? new HostKeyCheck(HostKeyStatus.Unknown, null, 0, others);
        }

        /// <summary>
        /// Records a key for a host unless an identical entry exists. Safe to call from many
        /// threads and processes at once.
        /// </summary>
        public void Add(string host, int port, byte[] keyBlob)
        {
            var field = HostField(host, port);
            var keyType = HostKeyFingerprint.KeyTypeOf(keyBlob);
            var line = field + " " + keyType + " " + Convert.ToBase64String(keyBlob);
            var dir = System.IO.Path.GetDirectoryName(FilePath);
            if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
            using (AcquireLock())
            {
                // Re-check under the lock: another runspace may have recorded it meanwhile.
                if (Check(host, port, keyBlob).Status == HostKeyStatus.Known) return;
                using var fs = new FileStream(FilePath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
                var prefix = string.Empty;
                if (fs.Length > 0)
                {
                    fs.Seek(-1, SeekOrigin.End);
                    if (fs.ReadByte() != '\n') prefix = "\n";
                }
                fs.Seek(0, SeekOrigin.End);
                var bytes = Encoding.ASCII.GetBytes(prefix + line + "\n");
                fs.Write(bytes, 0, bytes.Length);
                fs.Flush(true);
            }
        }

        private IEnumerable<string> ReadLines()
        {
            string text;
            try
            {
                using var fs = new FileStream(FilePath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                using var reader = new StreamReader(fs, Encoding.UTF8);
                text = reader.ReadToEnd();
            }
            catch (FileNotFoundException) { yield break; }
            catch (DirectoryNotFoundException) { yield break; }
            foreach (var l in text.Split('\n')) yield return l.TrimEnd('\r');
        }

        // A lock file beside the store, opened exclusively: works across processes on Windows
        // and Unix alike (FileShare.None is enforced by .NET on both).
        private IDisposable AcquireLock()
        {
            var lockPath = FilePath + ".lock";
            var deadline = DateTime.UtcNow + LockTimeout;
            while (true)
            {
                try
                {
                    return new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose);
                }
                catch (IOException) when (DateTime.UtcNow < deadline)
                {
                    Thread.Sleep(25);
                }
                catch (UnauthorizedAccessException) when (DateTime.UtcNow < deadline)
                {
                    // Windows reports a file pending delete this way.
                    Thread.Sleep(25);
                }
            }
        }

        private static string? FingerprintOf(string keyBase64)
        {
            try { return HostKeyFingerprint.Compute(Convert.FromBase64String(keyBase64)); }
            catch (FormatException) { return null; }
        }

        internal struct Entry
        {
            public string? Marker;
            public string Hosts;
            public string KeyType;
            public string KeyBase64;
        }

        internal static bool TryParse(string line, out Entry entry)
        {
            entry = default;
            var t = line.Trim();
            if (t.Length == 0 || t[0] == '#') return false;
            var parts = t.Split(new[] { ' ', '\t' }, StringSplitOptions.RemoveEmptyEntries);
            var i = 0;
            if (parts.Length > 0 && parts[0].StartsWith("@", StringComparison.Ordinal))
            {
                entry.Marker = parts[0].ToLowerInvariant();
                i = 1;
            }
            if (parts.Length < i + 3) return false;
            entry.Hosts = parts[i];
            entry.KeyType = parts[i + 1];
            entry.KeyBase64 = parts[i + 2];
            return true;
        }

        /// <summary>OpenSSH host matching: comma-separated patterns, <c>*</c>/<c>?</c>, <c>!</c> negation, hashed fields.</summary>
        internal static bool HostMatches(string hostsField, string lookup)
        {
            if (hostsField.StartsWith("|1|", StringComparison.Ordinal)) return HashedMatches(hostsField, lookup);
            var matched = false;
            foreach (var raw in hostsField.Split(','))
            {
                if (raw.Length == 0) continue;
                var negate = raw[0] == '!';
                var pattern = (negate ? raw.Substring(1) : raw).ToLowerInvariant();
                if (!Wildcard(pattern, 0, lookup, 0)) continue;
                if (negate) return false;
                matched = true;
            }
            return matched;
        }

        private static bool HashedMatches(string field, string lookup)
        {
            var parts = field.Split('|');
            if (parts.Length != 4) return false;
            try
            {
                var salt = Convert.FromBase64String(parts[2]);
                var expected = Convert.FromBase64String(parts[3]);
                using var hmac = new HMACSHA1(salt);
                var actual = hmac.ComputeHash(Encoding.ASCII.GetBytes(lookup));
                if (actual.Length != expected.Length) return false;
                var diff = 0;
                for (var i = 0; i < actual.Length; i++) diff |= actual[i] ^ expected[i];
                return diff == 0;
            }
            catch (FormatException) { return false; }
        }

        private static bool Wildcard(string p, int pi, string s, int si)
        {
            while (pi < p.Length)
            {
                var c = p[pi];
                if (c == '*')
                {
                    for (var k = si; k <= s.Length; k++)
                        if (Wildcard(p, pi + 1, s, k)) return true;
                    return false;
                }
                if (si >= s.Length) return false;
                if (c != '?' && c != s[si]) return false;
                pi++;
                si++;
            }
            return si == s.Length;
        }
    }
}
