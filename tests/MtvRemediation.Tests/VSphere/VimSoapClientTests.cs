using System;
using System.Linq;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using System.Xml.Linq;
using MtvRemediation.VSphere;
using Xunit;

namespace MtvRemediation.Tests.VSphere
{
    public class VimSoapClientTests
    {
        private static readonly XNamespace V = "urn:vim25";
        private static readonly XNamespace Xsi = "http://www.w3.org/2001/XMLSchema-instance";

        private static (VimSoapClient Client, CannedSoapHandler Handler) Create(Func<XElement, (HttpStatusCode, string, string?)> respond)
        {
            var handler = new CannedSoapHandler((req, _) =>
                req.Name.LocalName == "RetrieveServiceContent"
                    ? (HttpStatusCode.OK, CannedSoapHandler.Envelope(CannedSoapHandler.ServiceContent), null)
                    : respond(req));
            return (new VimSoapClient(new Uri("https://vc.example/sdk"), false, handler), handler);
        }

        [Fact]
        public async Task Login_keeps_the_session_cookie_and_sends_it_on_later_calls()
        {
            var (client, handler) = Create(req => req.Name.LocalName == "Login"
                ? (HttpStatusCode.OK, CannedSoapHandler.Envelope("<LoginResponse xmlns=\"urn:vim25\"><returnval><key>k</key><userName>VSPHERE.LOCAL\\admin</userName></returnval></LoginResponse>"),
                    "vmware_soap_session=\"52a1\"; Path=/; HttpOnly; Secure;")
                : (HttpStatusCode.OK, CannedSoapHandler.Envelope("<LogoutResponse xmlns=\"urn:vim25\"></LogoutResponse>"), null));
            await client.RetrieveServiceContentAsync(CancellationToken.None);
            var user = await client.LoginAsync("admin", "s3cret", CancellationToken.None);
            await client.LogoutAsync(CancellationToken.None);

            Assert.Equal("VSPHERE.LOCAL\\admin", user);
            Assert.Equal(3, client.RoundTrips);
            Assert.Null(handler.Requests[1].Cookie);
            Assert.Equal("vmware_soap_session=\"52a1\"", handler.Requests[2].Cookie);
            // After RetrieveServiceContent the server's own API version is used.
            Assert.Equal("\"urn:vim25/7.0.3.0\"", handler.Requests[2].SoapAction);
            var login = handler.Requests[1].Request;
            Assert.Equal("SessionManager", login.Element(V + "_this")!.Attribute("type")!.Value);
            Assert.Equal("admin", login.Element(V + "userName")!.Value);
        }

        [Fact]
        public void CookieFromSecret_quotes_a_bare_PowerCLI_secret()
        {
            Assert.Equal("vmware_soap_session=\"abc\"", VimSoapClient.CookieFromSecret("abc"));
            Assert.Equal("vmware_soap_session=\"abc\"", VimSoapClient.CookieFromSecret("\"abc\""));
        }

        [Fact]
        public async Task Soap_fault_becomes_typed_exception_with_fault_name_from_xsi_type_any_prefix()
        {
            var (client, _) = Create(_ => (HttpStatusCode.InternalServerError, CannedSoapHandler.Envelope(
                "<soapenv:Fault><faultcode>ServerFaultCode</faultcode><faultstring>The attempted operation cannot be performed in the current state (Powered off).</faultstring>" +
                "<detail><InvalidPowerStateFault xmlns=\"urn:vim25\" XMLSchema-instance:type=\"InvalidPowerState\"><requestedState>poweredOn</requestedState><existingState>poweredOff</existingState></InvalidPowerStateFault></detail></soapenv:Fault>"), null));
            await client.RetrieveServiceContentAsync(CancellationToken.None);
            var ex = await Assert.ThrowsAsync<VimFaultException>(() => client.InvokeAsync(VimXml.E("ShutdownGuest", VimXml.Ref("_this", new MoRef("VirtualMachine", "vm-1"))), CancellationToken.None));
            Assert.Equal("InvalidPowerState", ex.FaultName);
            Assert.Equal("VIFault.InvalidPowerState", ex.ErrorId);
            Assert.Equal("ShutdownGuest", ex.Method);
            Assert.Contains("current state", ex.Message);
        }

        [Fact]
        public async Task NotAuthenticated_fault_is_reported_as_session_expiry()
        {
            var (client, _) = Create(_ => (HttpStatusCode.InternalServerError, CannedSoapHandler.Envelope(
                "<soapenv:Fault><faultcode>ServerFaultCode</faultcode><faultstring>The session is not authenticated.</faultstring>" +
                "<detail><NotAuthenticatedFault xmlns=\"urn:vim25\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"NotAuthenticated\"><object type=\"Folder\">group-d1</object><privilegeId>System.View</privilegeId></NotAuthenticatedFault></detail></soapenv:Fault>"), null));
            await client.RetrieveServiceContentAsync(CancellationToken.None);
            var ex = await Assert.ThrowsAsync<VISessionExpiredException>(() => client.GetCurrentSessionUserAsync(CancellationToken.None));
            Assert.Equal("vc.example", ex.Server);
        }

        [Fact]
        public async Task Non_soap_http_error_is_a_transport_error_naming_the_status()
        {
            var (client, _) = Create(_ => (HttpStatusCode.ServiceUnavailable, "<html>down</html>", null));
            await client.RetrieveServiceContentAsync(CancellationToken.None);
            var ex = await Assert.ThrowsAsync<VimTransportException>(() => client.GetCurrentSessionUserAsync(CancellationToken.None));
            Assert.Contains("503", ex.Message);
        }

        [Fact]
        public async Task RetrievePropertiesEx_follows_the_continuation_token()
        {
            var (client, handler) = Create(req =>
            {
                if (req.Name.LocalName == "RetrievePropertiesEx")
                    return (HttpStatusCode.OK, CannedSoapHandler.Envelope("<RetrievePropertiesExResponse xmlns=\"urn:vim25\"><returnval><token>t1</token>" +
                        "<objects><obj type=\"VirtualMachine\">vm-1</obj><propSet><name>name</name><val XMLSchema-instance:type=\"xsd:string\">a</val></propSet></objects></returnval></RetrievePropertiesExResponse>"), null);
                Assert.Equal("t1", req.Element(V + "token")!.Value);
                return (HttpStatusCode.OK, CannedSoapHandler.Envelope("<ContinueRetrievePropertiesExResponse xmlns=\"urn:vim25\"><returnval>" +
                    "<objects><obj type=\"VirtualMachine\">vm-2</obj><propSet><name>name</name><val XMLSchema-instance:type=\"xsd:string\">b</val></propSet>" +
                    "<missingSet><path>config.hardware.device</path><fault><fault XMLSchema-instance:type=\"NoPermission\"></fault></fault></missingSet></objects></returnval></ContinueRetrievePropertiesExResponse>"), null);
            });
            await client.RetrieveServiceContentAsync(CancellationToken.None);
            var objs = await client.RetrievePropertiesAsync(VimSoapClient.PropertySpecFor("VirtualMachine", "name"),
                new[] { VimSoapClient.ObjectSpec(new MoRef("VirtualMachine", "vm-1")), VimSoapClient.ObjectSpec(new MoRef("VirtualMachine", "vm-2")) }, CancellationToken.None);

            Assert.Equal(new[] { "a", "b" }, objs.Select(o => o.Get("name")!.Value));
            Assert.Equal("vm-2", objs[1].Obj.Value);
            Assert.Equal(new[] { "config.hardware.device" }, objs[1].Missing);
            // One request naming both objects, then one continuation.
            var spec = handler.Requests[1].Request.Element(V + "specSet")!;
            Assert.Equal(2, spec.Elements(V + "objectSet").Count());
            Assert.Equal(3, client.RoundTrips);
        }

        [Fact]
        public async Task Failed_task_throws_the_task_fault()
        {
            var (client, _) = Create(req => req.Name.LocalName == "ReconfigVM_Task"
                ? (HttpStatusCode.OK, CannedSoapHandler.Envelope("<ReconfigVM_TaskResponse xmlns=\"urn:vim25\"><returnval type=\"Task\">task-7</returnval></ReconfigVM_TaskResponse>"), null)
                : (HttpStatusCode.OK, CannedSoapHandler.Envelope("<RetrievePropertiesExResponse xmlns=\"urn:vim25\"><returnval><objects><obj type=\"Task\">task-7</obj><propSet><name>info</name>" +
                    "<val XMLSchema-instance:type=\"TaskInfo\"><key>task-7</key><state>error</state><error><fault XMLSchema-instance:type=\"FileLocked\"><file>x</file></fault>" +
                    "<localizedMessage>Unable to access file since it is locked</localizedMessage></error></val></propSet></objects></returnval></RetrievePropertiesExResponse>"), null));
            await client.RetrieveServiceContentAsync(CancellationToken.None);
            var ex = await Assert.ThrowsAsync<VimFaultException>(() => client.RunTaskAsync(VimXml.E("ReconfigVM_Task", VimXml.Ref("_this", new MoRef("VirtualMachine", "vm-1"))), TimeSpan.FromSeconds(5), CancellationToken.None));
            Assert.Equal("FileLocked", ex.FaultName);
            Assert.Equal("ReconfigVM_Task", ex.Method);
            Assert.Contains("locked", ex.Message);
        }

        [Fact]
        public async Task Reconfig_spec_orders_extraConfig_before_changeTrackingEnabled_and_types_values()
        {
            var (client, handler) = Create(req => req.Name.LocalName == "ReconfigVM_Task"
                ? (HttpStatusCode.OK, CannedSoapHandler.Envelope("<ReconfigVM_TaskResponse xmlns=\"urn:vim25\"><returnval type=\"Task\">task-1</returnval></ReconfigVM_TaskResponse>"), null)
                : (HttpStatusCode.OK, CannedSoapHandler.Envelope("<RetrievePropertiesExResponse xmlns=\"urn:vim25\"><returnval><objects><obj type=\"Task\">task-1</obj><propSet><name>info</name>" +
                    "<val XMLSchema-instance:type=\"TaskInfo\"><state>success</state></val></propSet></objects></returnval></RetrievePropertiesExResponse>"), null));
            await client.RetrieveServiceContentAsync(CancellationToken.None);
            var vs = new VSphereClient(client, "vc.example");
            await vs.SetChangeTrackingAsync(new MoRef("VirtualMachine", "vm-9"), false, new[] { "scsi0:0.ctkEnabled", "scsi0:1.ctkEnabled" },
                new ExtraConfigValue(VmInfo.ResetRecordKey, "v1;phase=CbtOff"), CancellationToken.None);

            var spec = handler.Requests[1].Request.Element(V + "spec")!;
            // The reset's record rides in the same reconfigure as the CBT flags (no round trip of its own).
            Assert.Equal(new[] { "extraConfig", "extraConfig", "extraConfig", "changeTrackingEnabled" }, spec.Elements().Select(e => e.Name.LocalName));
            Assert.Equal(new[] { "scsi0:0.ctkEnabled", "scsi0:1.ctkEnabled", VmInfo.ResetRecordKey }, spec.Elements(V + "extraConfig").Select(e => e.Element(V + "key")!.Value));
            Assert.Equal("v1;phase=CbtOff", spec.Elements(V + "extraConfig").Last().Element(V + "value")!.Value);
            Assert.Equal("false", spec.Element(V + "changeTrackingEnabled")!.Value);
            var first = spec.Elements(V + "extraConfig").First();
            Assert.Equal("OptionValue", first.Attribute(Xsi + "type")!.Value);
            Assert.Equal("scsi0:0.ctkEnabled", first.Element(V + "key")!.Value);
            Assert.Equal("xsd:string", first.Element(V + "value")!.Attribute(Xsi + "type")!.Value);
        }
    }
}
