using System;
using MtvRemediation.VSphere;

namespace MtvRemediation
{
    /// <summary>
    /// A vCenter/ESXi API session: our own login (Connect-MtvVIServer -Server) or a PowerCLI
    /// session adopted through its cookie. The session secret is never exposed.
    /// </summary>
    public sealed class VIConnection
    {
        internal VIConnection(VSphereClient client, string server, int port, string user, bool adopted, string? adoptedKey)
        {
            Client = client;
            Server = server;
            Port = port;
            User = user;
            client.UserName = user;
            AdoptedFromPowerCli = adopted;
            AdoptedKey = adoptedKey;
            var sc = client.Soap.ServiceContent;
            ProductLine = sc?.ProductLine ?? "";
            ApiVersion = sc?.ApiVersion ?? "";
            InstanceUuid = sc?.InstanceUuid ?? "";
            IsConnected = true;
        }

        public string Server { get; }
        public int Port { get; }
        public string User { get; }
        public Uri ServiceUri => Client.Soap.ServiceUri;

        /// <summary>vpx for vCenter, embeddedEsx for a host.</summary>
        public string ProductLine { get; }
        public string ApiVersion { get; }
        public string InstanceUuid { get; }
        public bool IsConnected { get; internal set; }
        public bool AdoptedFromPowerCli { get; }

        /// <summary>True when adopted implicitly from $global:DefaultVIServer(s) rather than by Connect-MtvVIServer.</summary>
        public bool AutoAdopted { get; internal set; }

        /// <summary>SOAP round trips sent on this session so far (for benchmarks and diagnostics).</summary>
        public long RoundTrips => Client.Soap.RoundTrips;

        /// <summary>SOAP round trips so far per method name (a snapshot; a method, so it stays out of the default views).</summary>
        public System.Collections.Generic.IDictionary<string, long> GetRoundTripsByMethod() => Client.Soap.RoundTripsByMethod();

        public bool CertificateCheckSkipped => Client.Soap.SkipCertificateCheck;

        internal VSphereClient Client { get; }

        /// <summary>Service URL plus a hash of the adopted secret: identifies the PowerCLI session without holding it in clear.</summary>
        internal string? AdoptedKey { get; }

        public override string ToString() => Port == 443 ? Server : $"{Server}:{Port}";
    }
}
