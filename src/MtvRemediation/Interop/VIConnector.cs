using System;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using MtvRemediation.Interop;
using MtvRemediation.VSphere;

namespace MtvRemediation.Interop
{
    /// <summary>Opens vCenter sessions: by login, or by adopting a PowerCLI session cookie.</summary>
    internal static class VIConnector
    {
        public static Uri BuildServiceUri(string server, int port)
        {
            var host = server.Contains(":") && !server.StartsWith("[", StringComparison.Ordinal) ? $"[{server}]" : server;
            return new UriBuilder(Uri.UriSchemeHttps, host, port, "/sdk").Uri;
        }

        public static async Task<VIConnection> LoginAsync(string server, int port, NetworkCredential credential, bool skipCertificateCheck, CancellationToken ct)
        {
            var soap = new VimSoapClient(BuildServiceUri(server, port), skipCertificateCheck);
            try
            {
                await soap.RetrieveServiceContentAsync(ct).ConfigureAwait(false);
                var user = string.IsNullOrEmpty(credential.Domain) ? credential.UserName : $"{credential.Domain}\\{credential.UserName}";
                var reported = await soap.LoginAsync(user, credential.Password, ct).ConfigureAwait(false);
                return new VIConnection(new VSphereClient(soap, server), server, port, reported, adopted: false, adoptedKey: null);
            }
            catch
            {
                soap.Dispose();
                throw;
            }
        }

        /// <summary>
        /// Reuses a PowerCLI session: its SessionSecret becomes our <c>vmware_soap_session</c>
        /// cookie, and SessionManager.currentSession confirms the server still knows it.
        /// </summary>
        public static async Task<VIConnection> AdoptAsync(VIServerInput viServer, bool skipCertificateCheck, CancellationToken ct)
        {
            if (string.IsNullOrEmpty(viServer.SessionSecret))
                throw new ArgumentException($"The PowerCLI connection to {viServer.Name} carries no SessionSecret; it cannot be shared. Log in to {viServer.Name} with a credential instead.");
            viServer.EnsureEncryptedServiceUri();
            var uri = viServer.ServiceUri ?? BuildServiceUri(viServer.Name, viServer.Port);
            var soap = new VimSoapClient(uri, skipCertificateCheck);
            try
            {
                await soap.RetrieveServiceContentAsync(ct).ConfigureAwait(false);
                soap.SetSessionCookie(VimSoapClient.CookieFromSecret(viServer.SessionSecret!));
                var user = await soap.GetCurrentSessionUserAsync(ct).ConfigureAwait(false);
                if (string.IsNullOrEmpty(user))
                    throw new VISessionExpiredException(viServer.Name, $"The PowerCLI session to {viServer.Name} is no longer valid on the server.", "SessionManager.currentSession");
                var conn = new VIConnection(new VSphereClient(soap, viServer.Name), viServer.Name, uri.Port, user!, adopted: true, adoptedKey: AdoptedKey(uri, viServer.SessionSecret!));
                return conn;
            }
            catch
            {
                soap.Dispose();
                throw;
            }
        }

        /// <summary>Identity of an adopted session without keeping the secret readable: URL plus SHA-256 of the secret.</summary>
        public static string AdoptedKey(Uri serviceUri, string secret)
        {
            using var sha = SHA256.Create();
            var hash = sha.ComputeHash(Encoding.UTF8.GetBytes(secret.Trim().Trim('"')));
            return serviceUri.GetLeftPart(UriPartial.Path).ToLowerInvariant() + "#" + BitConverter.ToString(hash).Replace("-", "");
        }

    }
}
