using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using MtvRemediation.Infrastructure;
using Renci.SshNet;
using Renci.SshNet.Common;

namespace MtvRemediation.Esxi
{
    /// <summary>
    /// <see cref="IEsxiShell"/> over one SSH.NET <see cref="SshClient"/>: one TCP connection and one
    /// login per host, many commands (each its own channel). Re-opens the connection when it has
    /// dropped, checking that the host still presents the key it presented at first.
    /// Thread-safe: commands may run from any thread; connects are serialized.
    /// </summary>
    internal sealed class SshEsxiShell : IEsxiShell, IDisposable
    {
        private static readonly Encoding Utf8 = new UTF8Encoding(false);

        private readonly object _gate = new object();
        private readonly SshConnectSpec _spec;
        private volatile SshClient? _client;
        private volatile bool _disposed;
        private int _connectCount;

        internal SshEsxiShell(SshConnectSpec spec)
        {
            _spec = spec ?? throw new ArgumentNullException(nameof(spec));
        }

        /// <summary>
        /// Creates a shell for <paramref name="hostName"/> (not connected yet: call
        /// <see cref="EnsureConnected"/>). Validates options and loads the key file.
        /// </summary>
        /// <exception cref="EsxiShellException">Bad options or an unreadable key file.</exception>
        public static SshEsxiShell Create(string hostName, PSCredential? credential, string? keyFilePath, ConnectOptions options)
        {
            return new SshEsxiShell(SshConnectSpec.Create(hostName, credential, keyFilePath, options ?? new ConnectOptions()));
        }

        public string HostName => _spec.HostName;
        public string Address => _spec.Address;
        public int Port => _spec.Port;
        public string User => _spec.User;

        /// <summary><c>SHA256:...</c> of the key the host presented (null before the first connect).</summary>
        public string? HostKeyFingerprint { get; private set; }

        /// <summary>Key type the host presented, e.g. <c>ssh-ed25519</c>.</summary>
        public string? HostKeyType { get; private set; }

        /// <summary>Negotiated key exchange of the current connection.</summary>
        public string? KeyExchangeAlgorithm { get; private set; }

        /// <summary>When the current connection was established (UTC).</summary>
        public DateTime ConnectedAtUtc { get; private set; }

        /// <summary>Handshakes made so far (1 + reconnects).</summary>
        public int ConnectCount => Volatile.Read(ref _connectCount);

        /// <summary>True when the last connect recorded the host key in the known-hosts file.</summary>
        public bool RecordedHostKey { get; private set; }

        public bool IsConnected
        {
            get
            {
                var c = _client;
                return !_disposed && c != null && c.IsConnected;
            }
        }

        internal bool IsDisposed => _disposed;

        /// <summary>
        /// True when the current connection still answers: a no-op command (<c>:</c>) on it ends
        /// within <paramref name="timeout"/>. Never reconnects. <see cref="IsConnected"/> trusts the
        /// socket, and a peer that vanished without closing it (a dropped VPN, a host reset, a hung
        /// sshd) looks connected until a keepalive or a command fails. A connection that does not
        /// answer is dropped, so the next command reconnects instead of waiting on it. Costs one
        /// channel and a no-op on the host: a few ms on a warm connection.
        /// </summary>
        public async Task<bool> AnswersAsync(TimeSpan timeout, CancellationToken cancellationToken)
        {
            var client = _client;
            if (_disposed || client == null || !client.IsConnected) return false;
            SshCommand cmd;
            Task exec;
            try
            {
                cmd = client.CreateCommand(":", Utf8);
                // On a worker: opening the channel waits for the peer synchronously, longer than we wait.
                exec = Task.Run(() => cmd.ExecuteAsync(CancellationToken.None));
            }
            catch (Exception ex) when (ex is SshException || ex is ObjectDisposedException || ex is InvalidOperationException)
            {
                DropConnection(client);
                return false;
            }
            using (var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                timer.CancelAfter(timeout);
                var stop = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
                using (timer.Token.Register(() => stop.TrySetResult(true)))
                {
                    if (await Task.WhenAny(exec, stop.Task).ConfigureAwait(false) != exec)
                    {
                        Abandon(cmd, exec, null);
                        cancellationToken.ThrowIfCancellationRequested();
                        DropConnection(client);
                        return false;
                    }
                }
            }
            try
            {
                await exec.ConfigureAwait(false);
                return true;
            }
            catch (Exception ex) when (ex is SshException || ex is ObjectDisposedException || ex is InvalidOperationException)
            {
                DropConnection(client);
                return false;
            }
            finally
            {
                cmd.Dispose();
            }
        }

        // Forgets a connection that stopped answering (if it is still the current one); its
        // disposal may wait on the dead peer, so it runs on the thread pool.
        private void DropConnection(SshClient client)
        {
            lock (_gate)
            {
                if (!ReferenceEquals(_client, client)) return;
                _client = null;
            }
            ThreadPool.QueueUserWorkItem(_ => { try { client.Dispose(); } catch { /* the peer is gone */ } });
        }

        /// <summary>The session object that owns this shell (set by the store).</summary>
        internal EsxiShellSession? Session { get; set; }

        /// <summary>
        /// Connects when not connected (first use, or the connection dropped). Blocking: call it on a
        /// worker thread, never while holding a pipeline-thread lock.
        /// </summary>
        /// <exception cref="EsxiShellException">Host key refused, login failed, unreachable, timeout.</exception>
        /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
        public void EnsureConnected(CancellationToken cancellationToken)
        {
            if (IsConnected) return;
            lock (_gate)
            {
                ThrowIfDisposed();
                if (IsConnected) return;
                var old = _client;
                _client = null;
                old?.Dispose();
                var client = Open(cancellationToken);
                if (_disposed)
                {
                    client.Dispose();
                    ThrowIfDisposed();
                }
                _client = client;
            }
        }

        private SshClient Open(CancellationToken cancellationToken)
        {
            var verifier = new HostKeyVerifier(_spec.HostName, _spec.Address, _spec.Port, _spec.KnownHosts,
                _spec.PinnedFingerprint, _spec.TrustNewHostKey, HostKeyFingerprint, _spec.KnownHostsPathGiven)
            {
                LoginHint = _spec.KeyFilePath != null
                    ? "-KeyFilePath " + HostKeyVerifier.PsQuote(_spec.KeyFilePath)
                    : "-Credential " + HostKeyVerifier.PsQuote(_spec.User),
            };
            var methods = _spec.CreateAuthenticationMethods();
            var info = new ConnectionInfo(_spec.Address, _spec.Port, _spec.User, methods) { Timeout = _spec.ConnectTimeout };
            SshAlgorithms.Apply(info);
            var client = new SshClient(info);
            client.HostKeyReceived += verifier.OnHostKeyReceived;
            using var timeout = new CancellationTokenSource(_spec.ConnectTimeout);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
            try
            {
                client.ConnectAsync(linked.Token).GetAwaiter().GetResult();
            }
            catch (Exception ex)
            {
                client.Dispose();
                foreach (var m in methods) (m as IDisposable)?.Dispose();
                throw TranslateConnectFailure(ex, verifier, methods, cancellationToken);
            }
            // Keepalives notice a dead peer between commands and keep idle NAT/firewall state alive.
            client.KeepAliveInterval = TimeSpan.FromSeconds(30);
            HostKeyFingerprint = verifier.PresentedFingerprint;
            HostKeyType = verifier.PresentedKeyType;
            RecordedHostKey = verifier.Recorded;
            KeyExchangeAlgorithm = client.ConnectionInfo.CurrentKeyExchangeAlgorithm;
            ConnectedAtUtc = DateTime.UtcNow;
            Interlocked.Increment(ref _connectCount);
            return client;
        }

        private Exception TranslateConnectFailure(Exception ex, HostKeyVerifier verifier, AuthenticationMethod[] methods, CancellationToken cancellationToken)
        {
            if (verifier.Rejection != null) return verifier.Rejection;
            if (ex is AggregateException agg && agg.InnerExceptions.Count == 1) ex = agg.InnerExceptions[0];
            var endpoint = KnownHostsStore.HostField(_spec.Address, _spec.Port);
            var who = $"'{_spec.HostName}' ({endpoint})";
            if (ex is OperationCanceledException && cancellationToken.IsCancellationRequested)
                return new OperationCanceledException("Connecting was cancelled.", ex, cancellationToken);
            if (ex is OperationCanceledException || ex is SshOperationTimeoutException)
                return new EsxiShellException(EsxiShellErrorIds.ConnectTimeout, ErrorCategory.OperationTimeout,
                    $"Connecting to {who} timed out after {_spec.ConnectTimeout.TotalSeconds:0} s. Check that the host is up, that SSH (service TSM-SSH) is running and that no firewall drops the port; raise -ConnectTimeoutSeconds on slow links.", null, ex);
            if (ex is SshAuthenticationException)
            {
                var offered = methods.SelectMany(m => m.AllowedAuthentications ?? Array.Empty<string>()).Distinct(StringComparer.Ordinal).ToArray();
                var tried = string.Join(", ", methods.Select(m => m.Name));
                var offeredText = offered.Length > 0 ? string.Join(", ", offered) : "(not reported)";
                return new EsxiShellException(EsxiShellErrorIds.AuthenticationFailed, ErrorCategory.AuthenticationError,
                    $"Login to {who} as '{_spec.User}' failed. The server offered: {offeredText}; tried: {tried}. " +
                    "Check the user name and password (or key), that the account is not locked out after failed attempts, and that lockdown mode does not exclude this user.", null, ex);
            }
            if (ex is SocketException se)
            {
                if (se.SocketErrorCode == SocketError.HostNotFound || se.SocketErrorCode == SocketError.TryAgain || se.SocketErrorCode == SocketError.NoData)
                    return new EsxiShellException(EsxiShellErrorIds.HostUnresolved, ErrorCategory.ObjectNotFound,
                        $"The name '{_spec.Address}' of host '{_spec.HostName}' does not resolve to an address.",
                        "Open the host's session with its management IP or DNS name as its address.", ex)
                    { Next = NextCommand.ConnectShellByAddress, NextTarget = _spec.HostName };
                // Refused: nothing listens on the port, most often because SSH (TSM-SSH) is stopped.
                var refused = se.SocketErrorCode == SocketError.ConnectionRefused;
                return new EsxiShellException(EsxiShellErrorIds.ConnectFailed, ErrorCategory.ConnectionError,
                    $"Cannot connect to {who}: {se.Message}. " + (refused
                        ? "SSH (service TSM-SSH) is probably stopped on the host: -StartSshService starts it through vCenter for this command (and stops it again). Else check the address, the port and firewalls."
                        : "Check that SSH (service TSM-SSH) is running on the host (-StartSshService starts it through vCenter), the address, the port and firewalls."), null, ex)
                { Next = NextCommand.ConnectShellByAddress, NextTarget = _spec.HostName };
            }
            if (ex is SshException || ex is IOException || ex is ProxyException)
                return new EsxiShellException(EsxiShellErrorIds.ConnectFailed, ErrorCategory.ConnectionError,
                    $"The SSH connection to {who} failed: {ex.Message} Check that the port is an SSH service and that SSH is enabled on the host.", null, ex);
            return new EsxiShellException(EsxiShellErrorIds.ConnectFailed, ErrorCategory.ConnectionError,
                $"The SSH connection to {who} failed: {ex.GetType().Name}: {ex.Message}", null, ex);
        }

        /// <inheritdoc />
        public Task<RemoteCommandResult> RunAsync(RemoteCommand command, TimeSpan timeout, CancellationToken cancellationToken)
            => ExecuteAsync(command, null, timeout, cancellationToken);

        /// <inheritdoc />
        public Task<RemoteCommandResult> RunStreamingAsync(RemoteCommand command, Stream stdoutSink, TimeSpan timeout, CancellationToken cancellationToken)
            => ExecuteAsync(command, stdoutSink ?? throw new ArgumentNullException(nameof(stdoutSink)), timeout, cancellationToken);

        private async Task<RemoteCommandResult> ExecuteAsync(RemoteCommand command, Stream? sink, TimeSpan timeout, CancellationToken cancellationToken)
        {
            if (command is null) throw new ArgumentNullException(nameof(command));
            if (timeout <= TimeSpan.Zero && timeout != Timeout.InfiniteTimeSpan)
                throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "A command timeout must be positive (or Timeout.InfiniteTimeSpan).");
            var unlimited = timeout == Timeout.InfiniteTimeSpan || timeout.TotalMilliseconds >= int.MaxValue;
            cancellationToken.ThrowIfCancellationRequested();
            var watch = Stopwatch.StartNew();
            var cmd = CreateCommand(command, cancellationToken);
            var abandon = false;
            try
            {
                using var timeoutCts = unlimited ? new CancellationTokenSource() : new CancellationTokenSource(timeout);
                using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeoutCts.Token);
                Task exec;
                try
                {
                    exec = cmd.ExecuteAsync(CancellationToken.None);
                }
                catch (Exception ex) when (ex is SshException || ex is ObjectDisposedException || ex is InvalidOperationException)
                {
                    throw ConnectionLost(ex);
                }
                var pumpState = new PumpState();
                Task work = exec;
                Task? pump = null;
                if (sink != null)
                {
                    var output = cmd.OutputStream;
                    pump = Task.Factory.StartNew(() => Pump(output, sink, pumpState), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
                    work = Task.WhenAll(exec, pump);
                }

                // Our own stop signal instead of ExecuteAsync(token): SSH.NET's cancellation waits
                // for the server's reply inside the Cancel() call, which would block the thread that
                // pressed Ctrl+C once per running command.
                var stop = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
                using (linked.Token.Register(() => stop.TrySetResult(true)))
                {
                    var first = await Task.WhenAny(work, stop.Task).ConfigureAwait(false);
                    if (first != work)
                    {
                        abandon = true;
                        pumpState.Abandoned = true;
                        Abandon(cmd, exec, pump);
                        if (cancellationToken.IsCancellationRequested) throw new OperationCanceledException(cancellationToken);
                        throw new TimeoutException($"The command on '{HostName}' did not finish within {timeout.TotalSeconds:0.#} s and was stopped: {Shorten(command.Display)}");
                    }
                }

                try
                {
                    await work.ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is SshConnectionException || ex is ObjectDisposedException)
                {
                    throw ConnectionLost(ex);
                }
                catch (SshException ex)
                {
                    throw new EsxiShellException(EsxiShellErrorIds.CommandFailed, ErrorCategory.ProtocolError,
                        $"The SSH channel for a command on '{HostName}' failed: {ex.Message} The session stays open; retry, or reconnect.", null, ex)
                    { Next = NextCommand.ReconnectShell, NextTarget = HostName };
                }

                string stdout;
                if (sink == null)
                {
                    using var buffer = new MemoryStream();
                    cmd.OutputStream.CopyTo(buffer);
                    stdout = Utf8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
                }
                else
                {
                    stdout = string.Empty;
                }
                var stderr = cmd.Error;
                return new RemoteCommandResult(cmd.ExitStatus ?? -1, stdout, stderr, watch.Elapsed);
            }
            finally
            {
                if (!abandon) cmd.Dispose();
            }
        }

        private SshCommand CreateCommand(RemoteCommand command, CancellationToken cancellationToken)
        {
            for (var attempt = 0; ; attempt++)
            {
                EnsureConnected(cancellationToken);
                var client = _client;
                try
                {
                    if (client == null) throw new SshConnectionException("Client not connected.");
                    return client.CreateCommand(command.SurvivesDisconnect ? command.Text : WithHangupGuard(command.Text), Utf8);
                }
                catch (Exception ex) when (attempt == 0 && (ex is SshConnectionException || ex is ObjectDisposedException))
                {
                    // Dropped between the check and the call; nothing was sent yet: reconnect once.
                }
            }
        }

        /// <summary>
        /// Makes the remote command die with its channel. OpenSSH ignores SSH "signal" requests for
        /// commands without a terminal and sends no SIGHUP either, so a timed-out or Ctrl+C'd
        /// command would run on. A watchdog reads the channel's stdin, which reaches EOF only when
        /// the channel closes, then signals the command's process group. The command runs in a
        /// subshell with stdin from /dev/null; its stdout, stderr and exit status are untouched.
        /// </summary>
        internal static string WithHangupGuard(string commandText)
        {
            return "exec 3<&0\n" +
                   "(read -r _ <&3; kill -TERM 0) >/dev/null 2>&1 &\n" +
                   "__mtv_guard=$!\n" +
                   "(\n" + commandText + "\n) </dev/null 3<&-\n" +
                   "__mtv_status=$?\n" +
                   "kill $__mtv_guard 2>/dev/null\n" +
                   "exit $__mtv_status";
        }

        private EsxiShellException ConnectionLost(Exception ex)
        {
            return new EsxiShellException(EsxiShellErrorIds.CommandFailed, ErrorCategory.ConnectionError,
                $"The SSH connection to '{HostName}' was lost while a command ran ({ex.Message}). The command may or may not have completed on the host; check its state before retrying. The next command reconnects.", null, ex);
        }

        private sealed class PumpState
        {
            public volatile bool Abandoned;
        }

        private static void Pump(Stream from, Stream to, PumpState state)
        {
            var buffer = new byte[81920];
            int n;
            try
            {
                while ((n = from.Read(buffer, 0, buffer.Length)) > 0)
                {
                    if (state.Abandoned) return;
                    to.Write(buffer, 0, n);
                }
                to.Flush();
            }
            catch (ObjectDisposedException) when (state.Abandoned) { }
        }

        // Stop the remote command and release the channel in the background, so the caller returns now.
        private static void Abandon(SshCommand cmd, Task exec, Task? pump)
        {
            ThreadPool.QueueUserWorkItem(_ =>
            {
                try { cmd.CancelAsync(forceKill: true, millisecondsTimeout: 500); } catch { /* channel already gone */ }
                try { exec.Wait(TimeSpan.FromSeconds(2)); } catch { /* cancelled or failed: expected */ }
                try { cmd.Dispose(); } catch { /* best effort */ }
                try { pump?.Wait(TimeSpan.FromSeconds(2)); } catch { /* stream closed under it */ }
            });
        }

        private static string Shorten(string s) => s.Length <= 200 ? s : s.Substring(0, 200) + "...";

        private void ThrowIfDisposed()
        {
            if (_disposed)
                throw new EsxiShellException(EsxiShellErrorIds.NotConnected, ErrorCategory.ResourceUnavailable,
                    $"The ESXi shell session for '{HostName}' was closed (disconnected, or the module was removed). Connect to the host again.")
                { Next = NextCommand.ConnectShell, NextTarget = HostName };
        }

        /// <summary>Closes the connection. Further use throws <see cref="EsxiShellException"/> (EsxiShellNotConnected).</summary>
        public void Dispose()
        {
            if (_disposed) return;
            _disposed = true;
            var c = _client;
            _client = null;
            try { c?.Dispose(); } catch { /* closing is best effort */ }
            _spec.Dispose();
        }

        public override string ToString() => $"{HostName} ({KnownHostsStore.HostField(Address, Port)})";
    }
}
