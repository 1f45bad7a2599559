using System;
using System.Management.Automation;
using MtvRemediation.Infrastructure;
using Renci.SshNet.Common;

namespace MtvRemediation.Esxi
{
    /// <summary>
    /// Decides whether to trust the key a server presents. Runs inside SSH.NET's
    /// HostKeyReceived event, i.e. on an SSH.NET worker thread: it only computes and records a
    /// decision (and appends to the known-hosts file when asked to); it never writes to a
    /// PowerShell stream. The caller turns <see cref="Rejection"/> into the error after Connect.
    /// </summary>
    internal sealed class HostKeyVerifier
    {
        private readonly string _hostName;
        private readonly string _address;
        private readonly int _port;
        private readonly KnownHostsStore _store;
        private readonly string? _pinned;
        private readonly bool _trustNew;
        private readonly string? _sessionFingerprint;

        /// <summary>How the user logs in, for the commands the errors suggest (never a secret).</summary>
        public string LoginHint { get; set; } = "-Credential <credential>";

        /// <param name="sessionFingerprint">On reconnect: the key this session already trusted; any other key is refused.</param>
        private readonly bool _knownHostsPathGiven;

        public HostKeyVerifier(string hostName, string address, int port, KnownHostsStore store, string? pinned, bool trustNew, string? sessionFingerprint, bool knownHostsPathGiven = false)
        {
            _knownHostsPathGiven = knownHostsPathGiven;
            _hostName = hostName;
            _address = address;
            _port = port;
            _store = store;
            _pinned = pinned;
            _trustNew = trustNew;
            _sessionFingerprint = sessionFingerprint;
        }

        /// <summary>SHA256 fingerprint of the presented key (set once the event ran).</summary>
        public string? PresentedFingerprint { get; private set; }

        public string? PresentedKeyType { get; private set; }

        /// <summary>Why the key was refused; null when it was accepted or never seen.</summary>
        public EsxiShellException? Rejection { get; private set; }

        /// <summary>True when this connection added the key to the known-hosts file.</summary>
        public bool Recorded { get; private set; }

        public void OnHostKeyReceived(object? sender, HostKeyEventArgs e)
        {
            try
            {
                e.CanTrust = Decide(e.HostKey);
            }
            catch (ArgumentException ex)
            {
                // A host name that cannot be a known-hosts entry (HostField): refuse, never record it.
                Rejection ??= new EsxiShellException(EsxiShellErrorIds.InvalidArgument, ErrorCategory.InvalidArgument,
                    $"The SSH host key of '{_hostName}' was not checked: {ex.Message} Nothing was sent to the host.", null, ex);
                e.CanTrust = false;
            }
            catch (Exception ex)
            {
                // Never let an exception escape into SSH.NET's thread; refuse instead.
                Rejection ??= new EsxiShellException(EsxiShellErrorIds.ConnectFailed, ErrorCategory.ReadError,
                    $"Could not check the SSH host key of '{_hostName}' against '{_store.FilePath}': {ex.Message} Fix the file's permissions or pass -KnownHostsPath.", null, ex);
                e.CanTrust = false;
            }
        }

        internal bool Decide(byte[] keyBlob)
        {
            var fp = HostKeyFingerprint.Compute(keyBlob);
            var keyType = HostKeyFingerprint.KeyTypeOf(keyBlob);
            PresentedFingerprint = fp;
            PresentedKeyType = keyType;
            var field = KnownHostsStore.HostField(_address, _port);

            if (_sessionFingerprint != null && !string.Equals(_sessionFingerprint, fp, StringComparison.Ordinal))
            {
                Rejection = Changed(fp, _sessionFingerprint, $"the key this session trusted when it connected");
                return false;
            }

            var check = _store.Check(_address, _port, keyBlob);
            switch (check.Status)
            {
                case HostKeyStatus.Revoked:
                    Rejection = new EsxiShellException(EsxiShellErrorIds.HostKeyRevoked, ErrorCategory.SecurityError,
                        $"The SSH host key of '{_hostName}' ({field}, {keyType} {fp}) is marked @revoked on line {check.LineNumber} of '{_store.FilePath}'. Nothing was sent to the host. Replace the host's key or remove the @revoked line if it is wrong.");
                    return false;
                case HostKeyStatus.Changed:
                    Rejection = Changed(fp, check.RecordedFingerprint, $"line {check.LineNumber} of '{_store.FilePath}'");
                    return false;
                case HostKeyStatus.Known:
                    if (_pinned != null && !string.Equals(_pinned, fp, StringComparison.Ordinal))
                    {
                        Rejection = Mismatch(fp, keyType, field);
                        return false;
                    }
                    return true;
                default:
                    if (_pinned != null)
                    {
                        if (!string.Equals(_pinned, fp, StringComparison.Ordinal))
                        {
                            Rejection = Mismatch(fp, keyType, field);
                            return false;
                        }
                        // A matching pin is an explicit decision: remember it for later sessions.
                        _store.Add(_address, _port, keyBlob);
                        Recorded = true;
                        return true;
                    }
                    if (_trustNew)
                    {
                        _store.Add(_address, _port, keyBlob);
                        Recorded = true;
                        return true;
                    }
                    var others = check.OtherKeyTypes.Count > 0
                        ? $" (keys of other types are recorded for it: {string.Join(", ", check.OtherKeyTypes)})"
                        : string.Empty;
                    Rejection = new EsxiShellException(EsxiShellErrorIds.HostKeyUnknown, ErrorCategory.SecurityError,
                        $"The SSH host key of '{_hostName}' ({field}) is not known{others}: {keyType} {fp}. Nothing was sent to the host. " +
                        $"Compare the fingerprint with the one on the host (on ESXi: 'for k in /etc/ssh/ssh_host_*_key.pub; do ssh-keygen -lf $k; done'), then pin it: " +
                        $"{ConnectHint()} -HostKeyFingerprint '{fp}'; or record it on first use: {ConnectHint()} -TrustNewHostKey. Known hosts file: '{_store.FilePath}'.",
                        $"{ConnectHint()} -HostKeyFingerprint '{fp}'")
                    { UnknownKey = new UnknownHostKey(field, keyType + " " + fp, LoginHint) };
                    return false;
            }
        }

        private string ConnectHint()
        {
            var hint = "Connect-EsxiShell -VMHost " + PsQuote(_hostName);
            if (!string.Equals(_address, _hostName, StringComparison.OrdinalIgnoreCase)) hint += " -Address " + PsQuote(_address);
            if (_port != 22) hint += " -Port " + _port.ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (_knownHostsPathGiven) hint += " -KnownHostsPath " + PsQuote(_store.FilePath);
            return hint + " " + LoginHint;
        }

        private EsxiShellException Changed(string presented, string? recorded, string where)
        {
            var field = KnownHostsStore.HostField(_address, _port);
            return new EsxiShellException(EsxiShellErrorIds.HostKeyChanged, ErrorCategory.SecurityError,
                $"WARNING: THE SSH HOST KEY OF '{_hostName}' ({field}) HAS CHANGED. Recorded: {recorded ?? "(unreadable)"} ({where}); presented now: {presented}. " +
                "Someone could be intercepting the connection (man-in-the-middle), or the host was reinstalled or its keys regenerated. Nothing was sent to the host. " +
                $"Verify the new fingerprint on the host's console; only if the change is expected, remove the old entry (ssh-keygen -R '{field}' -f '{_store.FilePath}') and connect again with -HostKeyFingerprint '{presented}'.",
                $"Verify the key on the host's console, then: ssh-keygen -R '{field}' -f '{_store.FilePath}'");
        }

        private EsxiShellException Mismatch(string presented, string keyType, string field)
        {
            return new EsxiShellException(EsxiShellErrorIds.HostKeyMismatch, ErrorCategory.SecurityError,
                $"The SSH host key of '{_hostName}' ({field}) does not match the pinned fingerprint: pinned {_pinned}, presented {keyType} {presented}. Nothing was sent to the host. " +
                "Check that -Address/-Port reach the intended host and that the pinned value was copied from that host.");
        }

        internal static string PsQuote(string s) => PowerShellQuote.Literal(s);
    }
}
