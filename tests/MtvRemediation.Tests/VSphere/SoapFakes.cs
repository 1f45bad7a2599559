using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using System.Xml.Linq;

namespace MtvRemediation.Tests.VSphere
{
    /// <summary>
    /// Answers SOAP requests with canned vim25 responses (written the way vcsim writes them) and
    /// records every request, for envelope and parser tests that need no server.
    /// </summary>
    internal sealed class CannedSoapHandler : HttpMessageHandler
    {
        private readonly Func<XElement, HttpRequestMessage, (HttpStatusCode, string, string?)> _respond;

        public CannedSoapHandler(Func<XElement, HttpRequestMessage, (HttpStatusCode Status, string Body, string? SetCookie)> respond)
        {
            _respond = respond;
        }

        public List<(XElement Request, string? Cookie, string? SoapAction)> Requests { get; } = new List<(XElement, string?, string?)>();

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var text = await request.Content!.ReadAsStringAsync(cancellationToken);
            var doc = XDocument.Parse(text);
            var body = doc.Root!.Element(XName.Get("Body", "http://schemas.xmlsoap.org/soap/envelope/"))!.Elements().First();
            request.Headers.TryGetValues("Cookie", out var cookies);
            request.Headers.TryGetValues("SOAPAction", out var actions);
            Requests.Add((body, cookies?.FirstOrDefault(), actions?.FirstOrDefault()));
            var (status, xml, setCookie) = _respond(body, request);
            var resp = new HttpResponseMessage(status) { Content = new StringContent(xml, Encoding.UTF8, "text/xml") };
            if (setCookie != null) resp.Headers.TryAddWithoutValidation("Set-Cookie", setCookie);
            return resp;
        }

        /// <summary>Wraps a response body the way vcsim does (XMLSchema-instance prefix for xsi).</summary>
        public static string Envelope(string inner) =>
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><soapenv:Envelope xmlns:soapenc=\"http://schemas.xmlsoap.org/soap/encoding/\" " +
            "xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\" xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" " +
            "xmlns:XMLSchema-instance=\"http://www.w3.org/2001/XMLSchema-instance\"><soapenv:Body>" + inner + "</soapenv:Body></soapenv:Envelope>";

        public const string ServiceContent =
            "<RetrieveServiceContentResponse xmlns=\"urn:vim25\"><returnval><rootFolder type=\"Folder\">group-d1</rootFolder>" +
            "<propertyCollector type=\"PropertyCollector\">propertyCollector</propertyCollector><viewManager type=\"ViewManager\">ViewManager</viewManager>" +
            "<about><name>VMware vCenter Server</name><fullName>VMware vCenter Server 7.0.3</fullName><apiVersion>7.0.3.0</apiVersion><productLineId>vpx</productLineId><instanceUuid>abc</instanceUuid></about>" +
            "<sessionManager type=\"SessionManager\">SessionManager</sessionManager><fileManager type=\"FileManager\">FileManager</fileManager></returnval></RetrieveServiceContentResponse>";
    }
}
