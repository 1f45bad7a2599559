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
        /// <summary>
        /// Reads -Server: a host name or address, or an https URL of the server (its host, its port
        /// when it names one, and no path but /sdk). Anything else, an http:// URL included (the
        /// vSphere API is served over HTTPS), is refused with the reason and nothing is sent.
        /// </summary>
        public static bool TryParseServer(string server, int port, out string host, out int usePort, out string? problem)
        {
            host = server.Trim();
            usePort = port;
            problem = null;
            if (host.Contains("://"))
            {
                if (!Uri.TryCreate(host, UriKind.Absolute, out var uri))
                {
                    problem = $"-Server '{server}' is not a valid URL; give the server's host name or address, like vcenter.example.com.";
                    return false;
                }
                if (uri.Scheme != Uri.UriSchemeHttps)
                {
                    problem = $"-Server '{server}' uses {uri.Scheme}: the vSphere API is served over HTTPS only. Give the host name ({uri.Host}); https and /sdk are implied.";
                    return false;
                }
                if (uri.AbsolutePath != "/" && !string.Equals(uri.AbsolutePath.TrimEnd('/'), "/sdk", StringComparison.OrdinalIgnoreCase))
                {
                    problem = $"-Server '{server}' names the path {uri.AbsolutePath}; the vSphere API is at /sdk. Give the host name ({uri.Host}).";
                    return false;
                }
                host = uri.Host.Trim('[', ']');
                if (!uri.IsDefaultPort) usePort = uri.Port;
                return true;
            }
            if (Uri.CheckHostName(host.Trim('[', ']')) == UriHostNameType.Unknown)
            {
                problem = $"-Server '{server}' is not a host name or address; give the server's name or address, like vcenter.example.com or 192.0.2.10.";
                return false;
            }
            return true;
        }

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
