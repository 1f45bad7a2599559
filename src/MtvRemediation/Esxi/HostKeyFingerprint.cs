using System;
using System.Security.Cryptography;
using System.Text;

namespace MtvRemediation.Esxi
{
    /// <summary>
    /// SSH host key fingerprints in OpenSSH's form: <c>SHA256:</c> + unpadded base64 of the SHA-256
    /// of the public key blob (what <c>ssh-keygen -lf</c> and <c>ssh</c> print).
    /// </summary>
    internal static class HostKeyFingerprint
    {
        public const string Prefix = "SHA256:";

        /// <summary>Fingerprint of a public key blob (SSH wire format).</summary>
        public static string Compute(byte[] keyBlob)
        {
            if (keyBlob is null) throw new ArgumentNullException(nameof(keyBlob));
            using var sha = SHA256.Create();
            return Prefix + Convert.ToBase64String(sha.ComputeHash(keyBlob)).TrimEnd('=');
        }

        /// <summary>
        /// Normalizes user input to <c>SHA256:xxxx</c>. Accepts the value with or without the
        /// <c>SHA256:</c> prefix (any case) and with or without base64 padding, as admins copy it
        /// from ssh, ssh-keygen or the ESXi console. Returns false for anything else (MD5 hex
        /// fingerprints are refused on purpose: MD5 is not a safe pin).
        /// </summary>
        public static bool TryNormalize(string? input, out string normalized)
        {
            normalized = string.Empty;
            if (string.IsNullOrWhiteSpace(input)) return false;
            var s = input!.Trim();
            if (s.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase)) s = s.Substring(Prefix.Length);
            s = s.TrimEnd('=');
            // A SHA-256 digest is 32 bytes: 43 base64 characters without padding.
            if (s.Length != 43) return false;
            foreach (var c in s)
            {
                var ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
                if (!ok) return false;
            }
            try
            {
                if (Convert.FromBase64String(s + "=").Length != 32) return false;
            }
            catch (FormatException) { return false; }
            normalized = Prefix + s;
            return true;
        }

        /// <summary>True when two fingerprints denote the same key (inputs normalized first).</summary>
        public static bool AreEqual(string? a, string? b)
        {
            return TryNormalize(a, out var na) && TryNormalize(b, out var nb) && string.Equals(na, nb, StringComparison.Ordinal);
        }

        /// <summary>The key type named inside a public key blob, e.g. <c>ssh-ed25519</c>, <c>ssh-rsa</c>.</summary>
        public static string KeyTypeOf(byte[] keyBlob)
        {
            if (keyBlob is null) throw new ArgumentNullException(nameof(keyBlob));
            if (keyBlob.Length < 4) throw new FormatException("The host key blob is too short.");
            var len = (keyBlob[0] << 24) | (keyBlob[1] << 16) | (keyBlob[2] << 8) | keyBlob[3];
            if (len <= 0 || len > 64 || 4 + len > keyBlob.Length) throw new FormatException("The host key blob does not start with a key type.");
            return Encoding.ASCII.GetString(keyBlob, 4, len);
        }
    }
}
