using System;
using System.Globalization;
using System.Management.Automation;

namespace MtvRemediation.Interop
{
    /// <summary>
    /// A PowerCLI VIServer (<c>$global:DefaultVIServer</c>, <c>Connect-VIServer</c> output), read by
    /// property names: Name, Port, User, ServiceUri, SessionSecret, IsConnected, ProductLine, Version.
    /// </summary>
    internal sealed class VIServerInput
    {
        public string Name { get; private set; } = "";
        public int Port { get; private set; } = 443;
        public string? User { get; private set; }
        public Uri? ServiceUri { get; private set; }

        /// <summary>The session cookie value. Never printed.</summary>
        internal string? SessionSecret { get; private set; }
        public bool IsConnected { get; private set; }
        public string? ProductLine { get; private set; }

        /// <summary>True for objects that look like a PowerCLI VIServer (type name or the ServiceUri+SessionSecret shape).</summary>
        public static bool LooksLikeVIServer(object? value)
        {
            if (value == null) return false;
            var ps = PSObject.AsPSObject(value);
            if (PSObjectProperties.HasTypeNameEnding(ps, "ViCore.Impl.V1.VIServerImpl", "ViCore.Types.V1.VIServer")) return true;
            return PSObjectProperties.Get(ps, "SessionSecret") != null && PSObjectProperties.Get(ps, "ServiceUri") != null;
        }

        public static VIServerInput? TryParse(object? value)
        {
            if (!LooksLikeVIServer(value)) return null;
            var ps = PSObject.AsPSObject(value!);
            var input = new VIServerInput
            {
                Name = PSObjectProperties.GetString(ps, "Name") ?? "",
                User = PSObjectProperties.GetString(ps, "User"),
                SessionSecret = PSObjectProperties.GetString(ps, "SessionSecret"),
                ProductLine = PSObjectProperties.GetString(ps, "ProductLine"),
            };
            var port = PSObjectProperties.Get(ps, "Port");
            if (port != null && int.TryParse(Convert.ToString(port, CultureInfo.InvariantCulture), NumberStyles.Integer, CultureInfo.InvariantCulture, out var p)) input.Port = p;
            var uri = PSObjectProperties.Get(ps, "ServiceUri");
            if (uri is Uri u) input.ServiceUri = u;
            else if (uri != null && Uri.TryCreate(Convert.ToString(uri, CultureInfo.InvariantCulture), UriKind.Absolute, out var parsed)) input.ServiceUri = parsed;
            var connected = PSObjectProperties.Get(ps, "IsConnected");
            input.IsConnected = connected is bool b ? b : string.Equals(Convert.ToString(connected, CultureInfo.InvariantCulture), "True", StringComparison.OrdinalIgnoreCase);
            if (input.Name.Length == 0 && input.ServiceUri != null) input.Name = input.ServiceUri.Host;
            return input;
        }

        /// <summary>
        /// Refuses a ServiceUri that is not https: adopting the session sends its cookie (the
        /// SessionSecret) in every request, and over http:// it would travel in clear text.
        /// </summary>
        /// <exception cref="ArgumentException">The ServiceUri's scheme is not https.</exception>
        public void EnsureEncryptedServiceUri()
        {
            if (ServiceUri == null || string.Equals(ServiceUri.Scheme, Uri.UriSchemeHttps, StringComparison.OrdinalIgnoreCase)) return;
            throw new ArgumentException(
                $"The PowerCLI connection to {Name} uses {ServiceUri.Scheme}://{ServiceUri.Authority}: its session cookie would be sent unencrypted, so it is not reused. " +
                $"Connect PowerCLI over https (Connect-VIServer {Name} -Protocol https), or log in without PowerCLI.");
        }

        public override string ToString() => Name;
    }
}
