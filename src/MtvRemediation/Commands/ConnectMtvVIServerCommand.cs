using System;
using System.Linq;
using System.Management.Automation;
using System.Security;
using MtvRemediation.Infrastructure;
using MtvRemediation.Interop;
using MtvRemediation.VSphere;

namespace MtvRemediation.Commands
{
    /// <summary>
    /// Opens a vCenter/ESXi API session (own login), or adopts a PowerCLI connection through its
    /// session cookie. The connection becomes the default for this runspace's VM cmdlets.
    /// </summary>
    [Cmdlet(VerbsCommunications.Connect, "MtvVIServer", DefaultParameterSetName = LoginSet)]
    [OutputType(typeof(VIConnection))]
    public sealed class ConnectMtvVIServerCommand : MtvCmdlet
    {
        private const string LoginSet = "Login";
        private const string AdoptSet = "Adopt";
        private const string UserSet = "User";

        [Parameter(Mandatory = true, Position = 0, ParameterSetName = LoginSet)]
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = UserSet)]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(VIServerCompleter))]
        public string Server { get; set; } = "";

        [Parameter(Mandatory = true, ParameterSetName = LoginSet)]
        [Credential]
        [ValidateNotNull]
        public PSCredential Credential { get; set; } = PSCredential.Empty;

        /// <summary>User name, as Connect-VIServer -User (with -Password).</summary>
        [Parameter(Mandatory = true, ParameterSetName = UserSet)]
        [ValidateNotNullOrEmpty]
        public string User { get; set; } = "";

        /// <summary>Password for -User: a SecureString, or plain text as PowerCLI users type it (kept as a SecureString).</summary>
        [Parameter(Mandatory = true, ParameterSetName = UserSet)]
        [ValidateNotNull]
        [SecureStringTransformation]
        public SecureString Password { get; set; } = new SecureString();

        [Parameter(ParameterSetName = LoginSet)]
        [Parameter(ParameterSetName = UserSet)]
        [ValidateRange(1, 65535)]
        public int Port { get; set; } = 443;

        /// <summary>A PowerCLI VIServer (Connect-VIServer output, $global:DefaultVIServer).</summary>
        [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = AdoptSet)]
        [ValidateNotNull]
        public object VIServer { get; set; } = null!;

        [Parameter]
        public SwitchParameter SkipCertificateCheck { get; set; }

        protected override void ProcessRecord()
        {
            var store = VIConnectionStore.Current;
            if (ParameterSetName == AdoptSet)
            {
                Adopt(store);
                return;
            }

            if (!VIConnector.TryParseServer(Server, Port, out var server, out var port, out var problem))
            {
                WriteError(VIErrors.Record(null, VIErrorIds.ServerInputInvalid, ErrorCategory.InvalidArgument, Server, problem!));
                return;
            }
            var credential = ParameterSetName == UserSet ? new PSCredential(User, Password).GetNetworkCredential() : Credential.GetNetworkCredential();
            if (string.IsNullOrEmpty(credential.UserName))
            {
                WriteError(VIErrors.Record(null, VIErrorIds.CredentialMissingUser, ErrorCategory.InvalidArgument, Server, "The credential has no user name. Pass -Credential (Get-Credential) with a vCenter user."));
                return;
            }
            if (SkipCertificateCheck) WriteWarning($"Certificate validation for {server} is off (-SkipCertificateCheck): the connection can be intercepted. Use it only in a lab or after verifying the server another way.");
            try
            {
                WriteVerbose($"Logging in to https://{server}:{port}/sdk as {credential.UserName}.");
                var conn = VIConnector.LoginAsync(server, port, credential, SkipCertificateCheck, CancelToken).GetAwaiter().GetResult();
                // One own session per server and port: a reconnect replaces (and logs out) the old one.
                foreach (var old in store.GetAll().Where(c => !c.AdoptedFromPowerCli && c.Port == port && string.Equals(c.Server, server, StringComparison.OrdinalIgnoreCase)))
                {
                    store.Remove(old);
                    VIConnectionStore.CloseQuietly(old);
                }
                store.Add(conn);
                WriteObject(conn);
            }
            catch (VimFaultException ex) when (ex.FaultName == "InvalidLogin")
            {
                WriteError(VIErrors.Record(ex, VIErrorIds.InvalidLogin, ErrorCategory.AuthenticationError, Server,
                    $"{server} refused the user name or password for {credential.UserName}. Check the credential (Get-Credential) and retry."));
            }
            catch (Exception ex) when (ex is VimFaultException || ex is VimTransportException || ex is ArgumentException)
            {
                WriteError(VIErrors.FromException(ex, Server, Server));
            }
        }

        private void Adopt(VIConnectionStore store)
        {
            var input = VIServerInput.TryParse(VIServer);
            if (input == null)
            {
                WriteError(VIErrors.Record(null, VIErrorIds.ServerInputInvalid, ErrorCategory.InvalidArgument, VIServer,
                    "-VIServer expects a PowerCLI connection (Connect-VIServer output or $global:DefaultVIServer) with ServiceUri and SessionSecret."));
                return;
            }
            if (!input.IsConnected)
            {
                WriteError(VIErrors.Record(null, VIErrorIds.ServerNotConnected, ErrorCategory.ConnectionError, VIServer,
                    $"The PowerCLI connection to {input.Name} is not connected. Run Connect-VIServer {input.Name} first, or log in without PowerCLI.",
                    NextCommand.ConnectVCenter, input.Name));
                return;
            }
            if (SkipCertificateCheck) WriteWarning($"Certificate validation for {input.Name} is off (-SkipCertificateCheck).");
            try
            {
                var conn = VIConnector.AdoptAsync(input, SkipCertificateCheck, CancelToken).GetAwaiter().GetResult();
                var existing = store.FindAdopted(conn.AdoptedKey!);
                if (existing != null) store.Remove(existing);
                store.Add(conn);
                WriteObject(conn);
            }
            catch (Exception ex) when (ex is VimFaultException || ex is VimTransportException || ex is ArgumentException)
            {
                var id = ex is VISessionExpiredException ? VIErrorIds.SessionExpired : ex is ArgumentException ? VIErrorIds.ServerInputInvalid : VIErrorIds.ServerAdoptionFailed;
                var cat = ex is VISessionExpiredException ? ErrorCategory.AuthenticationError : ex is ArgumentException ? ErrorCategory.InvalidArgument : ErrorCategory.ConnectionError;
                WriteError(VIErrors.Record(ex, id, cat, VIServer, $"Cannot reuse the PowerCLI session to {input.Name}: {ex.Message}",
                    ex is ArgumentException ? NextCommand.ConnectVCenter : NextCommand.None, input.Name));
            }
        }
    }
}
