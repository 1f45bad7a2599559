using System;
using System.Collections.Generic;
using System.IO;
using System.Management.Automation;
using System.Net;
using System.Runtime.InteropServices;
using System.Security;
using MtvRemediation.Infrastructure;
using Renci.SshNet;
using Renci.SshNet.Common;

namespace MtvRemediation.Esxi
{
    /// <summary>
    /// Everything needed to (re)open one host's SSH connection. Kept by the session so a dropped
    /// connection can be re-established without asking again; secrets stay in SecureString /
    /// loaded key objects and are turned into plain text only inside <see cref="CreateAuthenticationMethods"/>.
    /// </summary>
    internal sealed class SshConnectSpec : IDisposable
    {
        public const string DefaultUser = "root";

        private readonly SecureString? _password;
        private readonly List<PrivateKeyFile> _keys;

        private SshConnectSpec(string hostName, string address, int port, string user, SecureString? password, List<PrivateKeyFile> keys,
            string? pinned, bool trustNew, KnownHostsStore knownHosts, TimeSpan connectTimeout, string? keyFilePath, bool knownHostsPathGiven)
        {
            KnownHostsPathGiven = knownHostsPathGiven;
            HostName = hostName;
            Address = address;
            Port = port;
            User = user;
            _password = password;
            _keys = keys;
            PinnedFingerprint = pinned;
            TrustNewHostKey = trustNew;
            KnownHosts = knownHosts;
            ConnectTimeout = connectTimeout;
            KeyFilePath = keyFilePath;
        }

        public string HostName { get; }
        public string Address { get; }
        public int Port { get; }
        public string User { get; }
        public string? PinnedFingerprint { get; }
        public bool TrustNewHostKey { get; }
        public KnownHostsStore KnownHosts { get; }
        public TimeSpan ConnectTimeout { get; }
        public string? KeyFilePath { get; }
        public bool KnownHostsPathGiven { get; }
        public bool HasPassword => _password != null;
        public bool HasKey => _keys.Count > 0;

        /// <summary>
        /// Validates inputs and loads the key file. Credential rules: the user name comes from
        /// <paramref name="credential"/> (default root). Without a key file its password is the login
        /// password (offered as password and keyboard-interactive). With a key file and no
        /// <see cref="ConnectOptions.KeyPassphrase"/>, the credential's password is the key's passphrase
        /// and is never sent to the server; with both, the credential's password is also a login fallback.
        /// </summary>
        public static SshConnectSpec Create(string hostName, PSCredential? credential, string? keyFilePath, ConnectOptions options)
        {
            var address = string.IsNullOrWhiteSpace(options.Address) ? hostName : options.Address!.Trim();
            var port = options.Port ?? 22;
            if (port < 1 || port > 65535)
                throw new EsxiShellException(EsxiShellErrorIds.InvalidArgument, ErrorCategory.InvalidArgument, $"Port {port} is not a valid TCP port (1-65535).");
            string? pinned = null;
            if (options.HostKeyFingerprint != null)
            {
                if (!HostKeyFingerprint.TryNormalize(options.HostKeyFingerprint, out var normalized))
                    throw new EsxiShellException(EsxiShellErrorIds.InvalidArgument, ErrorCategory.InvalidArgument,
                        $"'{options.HostKeyFingerprint}' is not a SHA256 host key fingerprint. Use the form ssh and ssh-keygen -l print, e.g. SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s.");
                pinned = normalized;
            }

            var user = credential?.UserName;
            if (string.IsNullOrEmpty(user)) user = DefaultUser;

            var keys = new List<PrivateKeyFile>();
            SecureString? password = credential?.Password;
            if (!string.IsNullOrEmpty(keyFilePath))
            {
                var passphrase = options.KeyPassphrase ?? credential?.Password;
                keys.Add(LoadKey(keyFilePath!, passphrase));
                if (options.KeyPassphrase == null) password = null; // the credential carried the passphrase
            }
            if (password != null && password.Length == 0) password = null;
            if (password == null && keys.Count == 0)
                throw new EsxiShellException(EsxiShellErrorIds.InvalidArgument, ErrorCategory.InvalidArgument,
                    $"No credential for '{hostName}': pass -Credential (user root and its password) or -KeyFilePath.");

            var knownHosts = new KnownHostsStore(string.IsNullOrWhiteSpace(options.KnownHostsPath) ? KnownHostsStore.DefaultPath : options.KnownHostsPath!);
            var timeout = options.ConnectTimeout <= TimeSpan.Zero ? ConnectOptions.DefaultConnectTimeout : options.ConnectTimeout;
            return new SshConnectSpec(hostName, address, port, user!, password?.Copy(), keys, pinned, options.TrustNewHostKey, knownHosts, timeout,
                string.IsNullOrEmpty(keyFilePath) ? null : Path.GetFullPath(keyFilePath), !string.IsNullOrWhiteSpace(options.KnownHostsPath));
        }

        private static PrivateKeyFile LoadKey(string path, SecureString? passphrase)
        {
            var full = Path.GetFullPath(path);
            if (!File.Exists(full))
                throw new EsxiShellException(EsxiShellErrorIds.KeyFileInvalid, ErrorCategory.ObjectNotFound, $"The key file '{full}' does not exist.");
            try
            {
                var pass = passphrase == null || passphrase.Length == 0 ? null : Plain(passphrase);
                return pass == null ? new PrivateKeyFile(full) : new PrivateKeyFile(full, pass);
            }
            catch (SshPassPhraseNullOrEmptyException)
            {
                throw new EsxiShellException(EsxiShellErrorIds.KeyFileInvalid, ErrorCategory.AuthenticationError,
                    $"The key file '{full}' is encrypted: pass its passphrase with -KeyPassphrase (SecureString) or as the password of -Credential.");
            }
            catch (Exception ex) when (ex is SshException || ex is FormatException || ex is InvalidOperationException || ex is NotSupportedException || ex is System.Security.Cryptography.CryptographicException || ex is ArgumentException)
            {
                // SSH.NET's messages name the format problem, never the passphrase.
                throw new EsxiShellException(EsxiShellErrorIds.KeyFileInvalid, ErrorCategory.InvalidData,
                    $"Cannot load the private key '{full}': {ex.Message} Supported: OpenSSH ('BEGIN OPENSSH PRIVATE KEY') and PEM (RSA, EC, PKCS#8) keys; check the passphrase if the key is encrypted.", null, ex);
            }
            catch (IOException ex)
            {
                throw new EsxiShellException(EsxiShellErrorIds.KeyFileInvalid, ErrorCategory.ReadError, $"Cannot read the key file '{full}': {ex.Message}", null, ex);
            }
        }

        /// <summary>Key, then password and keyboard-interactive together (ESXi usually refuses plain password).</summary>
        public AuthenticationMethod[] CreateAuthenticationMethods()
        {
            var methods = new List<AuthenticationMethod>();
            if (_keys.Count > 0) methods.Add(new PrivateKeyAuthenticationMethod(User, _keys.ToArray()));
            if (_password != null)
            {
                var plain = Plain(_password);
                methods.Add(new PasswordAuthenticationMethod(User, plain));
                var kbd = new KeyboardInteractiveAuthenticationMethod(User);
                kbd.AuthenticationPrompt += (_, e) =>
                {
                    // Runs on SSH.NET's thread. Answer echoed "user name" prompts with the user,
                    // everything else (Password:, PIN, passcode) with the password.
                    foreach (var prompt in e.Prompts)
                    {
                        var asksUser = prompt.IsEchoed && prompt.Request.IndexOf("pass", StringComparison.OrdinalIgnoreCase) < 0;
                        prompt.Response = asksUser ? User : plain;
                    }
                };
                methods.Add(kbd);
            }
            return methods.ToArray();
        }

        public static string Plain(SecureString s)
        {
            var ptr = IntPtr.Zero;
            try
            {
                ptr = Marshal.SecureStringToGlobalAllocUnicode(s);
                return Marshal.PtrToStringUni(ptr) ?? string.Empty;
            }
            finally
            {
                if (ptr != IntPtr.Zero) Marshal.ZeroFreeGlobalAllocUnicode(ptr);
            }
        }

        public void Dispose()
        {
            _password?.Dispose();
            foreach (var k in _keys) k.Dispose();
        }
    }
}
