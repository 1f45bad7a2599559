using System;
using System.IO;
using System.Management.Automation;
using System.Net.Sockets;
using System.Threading;
using MtvRemediation.Esxi;
using MtvRemediation.Infrastructure;
using Renci.SshNet.Common;
using Xunit;

namespace MtvRemediation.Tests.Remediation
{
    /// <summary>
    /// The one translation of what a host's work throws (RemoteOps.AsHostFailure), used by the
    /// engines' remote calls and by the host fan-out alike: one id per failure kind.
    /// </summary>
    public class HostFailureTests
    {
        [Fact]
        public void Our_own_errors_keep_their_id()
        {
            var own = new EsxiShellException(EsxiShellErrorIds.NotConnected, ErrorCategory.ConnectionError, "no session");
            Assert.Same(own, RemoteOps.AsHostFailure(own, "esx01", CancellationToken.None));
        }

        [Fact]
        public void A_timeout_is_EsxiShellCommandTimeout_with_the_shells_text()
        {
            var timeout = new TimeoutException("The command on 'esx01' did not finish within 1 s and was stopped: true");
            var failure = RemoteOps.AsHostFailure(timeout, "esx01", CancellationToken.None);
            Assert.Equal(EsxiShellErrorIds.CommandTimeout, failure!.ErrorId);
            Assert.Equal(ErrorCategory.OperationTimeout, failure.Category);
            Assert.Equal(timeout.Message, failure.Message);
            Assert.NotNull(failure.RecommendedAction);
        }

        [Theory]
        [InlineData("ssh")]
        [InlineData("socket")]
        public void A_transport_failure_is_EsxiShellConnectFailed_naming_the_host(string kind)
        {
            Exception ex = kind == "ssh" ? new SshConnectionException("An established connection was aborted.") : new SocketException((int)SocketError.ConnectionReset);
            var failure = RemoteOps.AsHostFailure(ex, "esx01", CancellationToken.None);
            Assert.Equal(EsxiShellErrorIds.ConnectFailed, failure!.ErrorId);
            Assert.Equal(ErrorCategory.ConnectionError, failure.Category);
            Assert.StartsWith("Host 'esx01' cannot be reached over SSH: ", failure.Message);
        }

        [Fact]
        public void Cancellation_programming_errors_and_local_file_errors_pass_through()
        {
            using var cancelled = new CancellationTokenSource();
            cancelled.Cancel();
            Assert.Null(RemoteOps.AsHostFailure(new OperationCanceledException(), "esx01", CancellationToken.None));
            Assert.Null(RemoteOps.AsHostFailure(new TimeoutException("stopped"), "esx01", cancelled.Token));
            Assert.Null(RemoteOps.AsHostFailure(new ArgumentException("bug"), "esx01", CancellationToken.None));
            Assert.Null(RemoteOps.AsHostFailure(new IOException("disk full"), "esx01", CancellationToken.None));
        }
    }
}
