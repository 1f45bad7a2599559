using System;
using System.Management.Automation;
using System.Threading;
using MtvRemediation.Infrastructure;

namespace MtvRemediation.Esxi
{
    /// <summary>
    /// How host cmdlets get a shell: the runspace's live session for the host (re-opened if the
    /// connection dropped), or a new one opened on demand with -Credential/-KeyFilePath and
    /// kept for the rest of the runspace. Create it on the pipeline thread, use it from workers.
    /// </summary>
    internal sealed class EsxiShellResolver
    {
        public EsxiShellResolver(EsxiSessionStore store)
        {
            Store = store ?? throw new ArgumentNullException(nameof(store));
        }

        /// <summary>A resolver over the current runspace's store (call on the pipeline thread).</summary>
        public static EsxiShellResolver ForCurrentRunspace() => new EsxiShellResolver(EsxiSessionStore.ForCurrentRunspace());

        public EsxiSessionStore Store { get; }

        /// <summary>Resolves a host by its inventory name.</summary>
        public IEsxiShell Resolve(string hostName, PSCredential? credential, string? keyFilePath, ConnectOptions? options, CancellationToken cancellationToken)
            => Resolve(new HostTarget(hostName, hostName), credential, keyFilePath, options, cancellationToken);

        /// <summary>
        /// A connected shell for <paramref name="target"/>: its bound session, else the live session
        /// for the host name, else a new session when a credential or key file is given.
        /// </summary>
        /// <exception cref="EsxiShellException">No session and no credential (EsxiShellNotConnected), or the connect failed.</exception>
        public IEsxiShell Resolve(HostTarget target, PSCredential? credential, string? keyFilePath, ConnectOptions? options, CancellationToken cancellationToken)
        {
            if (target is null) throw new ArgumentNullException(nameof(target));
            if (target.Session != null)
            {
                if (target.Session.IsClosed)
                    throw new EsxiShellException(EsxiShellErrorIds.NotConnected, ErrorCategory.ResourceUnavailable,
                        $"Session {target.Session.Id} for '{target.Name}' was closed. Connect to the host again.")
                    { Next = NextCommand.ConnectShell, NextTarget = target.Name };
                target.Session.Shell.EnsureConnected(cancellationToken);
                return target.Session.Shell;
            }
            lock (Store.LockFor(target.Name))
            {
                var existing = Store.Find(target.Name);
                if (existing != null && !existing.IsClosed)
                {
                    existing.Shell.EnsureConnected(cancellationToken);
                    return existing.Shell;
                }
                if (credential == null && string.IsNullOrEmpty(keyFilePath))
                    throw new EsxiShellException(EsxiShellErrorIds.NotConnected, ErrorCategory.ConnectionError,
                        $"There is no ESXi shell session for '{target.Name}'. Open one first, or pass -Credential (or -KeyFilePath) to this command.")
                    { Next = NextCommand.ConnectShell, NextTarget = target.Name };
                return OpenLocked(target.Name, credential, keyFilePath, options ?? new ConnectOptions(), cancellationToken).Shell;
            }
        }

        /// <summary>
        /// What Connect-EsxiShell does: the live session for the host if there is one (unless
        /// <see cref="ConnectOptions.Force"/>), else a new connection. Returns the session and
        /// whether it is new.
        /// </summary>
        public EsxiShellSession Connect(HostTarget target, PSCredential? credential, string? keyFilePath, ConnectOptions options, CancellationToken cancellationToken, out bool opened)
        {
            if (target is null) throw new ArgumentNullException(nameof(target));
            if (options is null) throw new ArgumentNullException(nameof(options));
            lock (Store.LockFor(target.Name))
            {
                var existing = target.Session ?? Store.Find(target.Name);
                if (existing != null && !existing.IsClosed && !options.Force)
                {
                    existing.Shell.EnsureConnected(cancellationToken);
                    opened = false;
                    return existing;
                }
                opened = true;
                return OpenLocked(target.Name, credential, keyFilePath, options, cancellationToken);
            }
        }

        private EsxiShellSession OpenLocked(string hostName, PSCredential? credential, string? keyFilePath, ConnectOptions options, CancellationToken cancellationToken)
        {
            var shell = SshEsxiShell.Create(hostName, credential, keyFilePath, options);
            try
            {
                shell.EnsureConnected(cancellationToken);
            }
            catch
            {
                shell.Dispose();
                throw;
            }
            return Store.Add(shell);
        }
    }
}
