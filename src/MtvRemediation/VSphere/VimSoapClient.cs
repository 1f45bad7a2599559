using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Net.Security;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using System.Xml;
using System.Xml.Linq;
using static MtvRemediation.VSphere.VimXml;

namespace MtvRemediation.VSphere
{
    /// <summary>What RetrieveServiceContent returns that we use.</summary>
    internal sealed class ServiceContentInfo
    {
        public MoRef RootFolder { get; internal set; }
        public MoRef PropertyCollector { get; internal set; }
        public MoRef ViewManager { get; internal set; }
        public MoRef SessionManager { get; internal set; }
        public MoRef FileManager { get; internal set; }
        public MoRef TaskManager { get; internal set; }
        public MoRef EventManager { get; internal set; }

        /// <summary>Empty on a server without custom attributes.</summary>
        public MoRef CustomFieldsManager { get; internal set; }
        public string ProductLine { get; internal set; } = "";
        public string ApiVersion { get; internal set; } = "";
        public string FullName { get; internal set; } = "";
        public string InstanceUuid { get; internal set; } = "";
    }

    /// <summary>One object returned by RetrievePropertiesEx: its reference and the properties asked for.</summary>
    internal sealed class ObjectContent
    {
        public ObjectContent(MoRef obj, IReadOnlyDictionary<string, XElement> properties, IReadOnlyList<string> missing)
        {
            Obj = obj;
            Properties = properties;
            Missing = missing;
        }

        public MoRef Obj { get; }

        /// <summary>Property path to its <c>val</c> element (absent properties are simply not present).</summary>
        public IReadOnlyDictionary<string, XElement> Properties { get; }

        /// <summary>Property paths the server could not read (missingSet), e.g. for lack of privilege.</summary>
        public IReadOnlyList<string> Missing { get; }

        public XElement? Get(string path) => Properties.TryGetValue(path, out var v) ? v : null;
    }

    /// <summary>
    /// A small vim25 SOAP client over HttpClient: one per vCenter session, thread-safe, with the
    /// session cookie sent explicitly (so an adopted PowerCLI cookie and our own login work the
    /// same way) and a count of HTTP round trips for the benchmarks.
    /// </summary>
    internal sealed class VimSoapClient : IDisposable
    {
        private const string InitialVersion = "6.5";
        private readonly HttpClient _http;
        private long _roundTrips;
        private readonly System.Collections.Concurrent.ConcurrentDictionary<string, long> _roundTripsByMethod =
            new System.Collections.Concurrent.ConcurrentDictionary<string, long>(StringComparer.Ordinal);
        private string? _cookie;
        private string _apiVersion = InitialVersion;
        private TaskWatcher? _taskWatcher;

        /// <summary>
        /// This session waits for tasks by polling TaskInfo with a growing sleep (100 ms doubling to
        /// 2 s) instead of the PropertyCollector: what a server without a TaskManager gets, and the
        /// task-wait benchmark's baseline (set on that benchmark's own session only).
        /// </summary>
        internal bool WaitByPolling { get; set; }

        /// <summary>The session's task waiter (CreateFilter + WaitForUpdatesEx).</summary>
        internal TaskWatcher TaskWatcher => LazyInitializer.EnsureInitialized(ref _taskWatcher, () => new TaskWatcher(this))!;

        public VimSoapClient(Uri serviceUri, bool skipCertificateCheck, TimeSpan? timeout = null)
            : this(serviceUri, skipCertificateCheck, CreateHandler(skipCertificateCheck), timeout)
        {
        }

        /// <summary>For tests: a client over any message handler.</summary>
        internal VimSoapClient(Uri serviceUri, bool skipCertificateCheck, HttpMessageHandler handler, TimeSpan? timeout = null)
        {
            ServiceUri = serviceUri ?? throw new ArgumentNullException(nameof(serviceUri));
            if (!serviceUri.IsAbsoluteUri || (serviceUri.Scheme != Uri.UriSchemeHttps && serviceUri.Scheme != Uri.UriSchemeHttp))
            {
                handler.Dispose();
                throw new ArgumentException($"'{serviceUri}' is not an http(s) service URL like https://vcenter.example/sdk.", nameof(serviceUri));
            }
            _http = new HttpClient(handler, disposeHandler: true) { Timeout = timeout ?? TimeSpan.FromMinutes(5) };
            SkipCertificateCheck = skipCertificateCheck;
        }

        private static HttpMessageHandler CreateHandler(bool skipCertificateCheck)
        {
            var handler = new HttpClientHandler { UseCookies = false, AllowAutoRedirect = false };
            if (skipCertificateCheck)
            {
                try
                {
                    handler.ServerCertificateCustomValidationCallback = (_, _, _, _) => true;
                }
                catch (PlatformNotSupportedException ex)
                {
                    // Old .NET Framework builds of System.Net.Http lack the per-handler callback; we
                    // refuse rather than switch off validation process-wide through ServicePointManager.
                    handler.Dispose();
                    throw new VimTransportException(
                        "-SkipCertificateCheck is not supported by this .NET runtime's HttpClientHandler. " +
                        "Install .NET Framework 4.7.2 or later, use PowerShell 7, or trust the server's certificate.", ex);
                }
            }
            return handler;
        }

        public Uri ServiceUri { get; }

        public bool SkipCertificateCheck { get; }

        /// <summary>HTTP requests sent so far (each SOAP call is one round trip).</summary>
        public long RoundTrips => Interlocked.Read(ref _roundTrips);

        /// <summary>Round trips so far per SOAP method (a snapshot), e.g. to prove that property reads are batched.</summary>
        public System.Collections.Generic.IDictionary<string, long> RoundTripsByMethod() =>
            new System.Collections.Generic.SortedDictionary<string, long>(_roundTripsByMethod, StringComparer.Ordinal);

        public ServiceContentInfo? ServiceContent { get; private set; }

        /// <summary>True once a cookie is held (after Login or adoption).</summary>
        public bool HasSession => _cookie != null;

        /// <summary>The session cookie to send, e.g. <c>vmware_soap_session="..."</c>. Never logged.</summary>
        internal void SetSessionCookie(string cookie) => _cookie = cookie;

        /// <summary>The current cookie (tests hand it to a second client the way PowerCLI's secret is handed over).</summary>
        internal string? SessionCookie => _cookie;

        /// <summary>Cookie header form of a PowerCLI SessionSecret (the value is sent quoted, as PowerCLI does).</summary>
        public static string CookieFromSecret(string sessionSecret)
        {
            var s = sessionSecret.Trim();
            if (s.StartsWith("vmware_soap_session=", StringComparison.Ordinal)) return s;
            if (!s.StartsWith("\"", StringComparison.Ordinal)) s = "\"" + s + "\"";
            return "vmware_soap_session=" + s;
        }

        public async Task<ServiceContentInfo> RetrieveServiceContentAsync(CancellationToken ct)
        {
            var body = await InvokeAsync(E("RetrieveServiceContent", Ref("_this", new MoRef("ServiceInstance", "ServiceInstance"))), ct).ConfigureAwait(false);
            var rv = body.Child("returnval") ?? throw new VimTransportException("RetrieveServiceContent returned no content.");
            MoRef R(string n) { var e = rv.Child(n); return e == null ? default : ParseRef(e); }
            var about = rv.Child("about");
            var sc = new ServiceContentInfo
            {
                RootFolder = R("rootFolder"),
                PropertyCollector = R("propertyCollector"),
                ViewManager = R("viewManager"),
                SessionManager = R("sessionManager"),
                FileManager = R("fileManager"),
                TaskManager = R("taskManager"),
                EventManager = R("eventManager"),
                CustomFieldsManager = R("customFieldsManager"),
                ProductLine = about?.ChildValue("productLineId") ?? "",
                ApiVersion = about?.ChildValue("apiVersion") ?? "",
                FullName = about?.ChildValue("fullName") ?? "",
                InstanceUuid = about?.ChildValue("instanceUuid") ?? "",
            };
            if (!string.IsNullOrEmpty(sc.ApiVersion)) _apiVersion = sc.ApiVersion;
            ServiceContent = sc;
            return sc;
        }

        private ServiceContentInfo Sc => ServiceContent ?? throw new InvalidOperationException("RetrieveServiceContent has not been called.");

        /// <summary>Logs in; returns the user name the server reports. The password is only ever put in the request body.</summary>
        public async Task<string> LoginAsync(string user, string password, CancellationToken ct)
        {
            var req = E("Login", Ref("_this", Sc.SessionManager), E("userName", user), E("password", password));
            var (body, cookie) = await SendAsync(req, captureCookie: true, ct).ConfigureAwait(false);
            if (cookie == null) throw new VimTransportException($"{ServiceUri.Host} accepted the login but sent no session cookie.");
            _cookie = cookie;
            return body.Child("returnval")?.ChildValue("userName") ?? user;
        }

        public async Task LogoutAsync(CancellationToken ct)
        {
            if (_cookie == null) return;
            try { await InvokeAsync(E("Logout", Ref("_this", Sc.SessionManager)), ct).ConfigureAwait(false); }
            finally { _cookie = null; }
        }

        /// <summary>SessionManager.currentSession: the user name when the cookie is valid, else null.</summary>
        public async Task<string?> GetCurrentSessionUserAsync(CancellationToken ct)
        {
            var objs = await RetrievePropertiesAsync(
                PropertySpecFor("SessionManager", "currentSession"),
                new[] { ObjectSpec(Sc.SessionManager) }, ct).ConfigureAwait(false);
            var session = objs.FirstOrDefault()?.Get("currentSession");
            return session?.ChildValue("userName");
        }

        // ---- Property collector ----------------------------------------------------------

        public static XElement PropertySpecFor(string type, params string[] paths) =>
            E("propSet", E("type", type), E("all", "false"), paths.Select(p => E("pathSet", p)));

        public static XElement ObjectSpec(MoRef obj, bool skip = false, params XElement[] selectSet) =>
            E("objectSet", Ref("obj", obj), E("skip", Bool(skip)), selectSet);

        /// <summary>Traverse a ContainerView's <c>view</c> property: every object the view holds.</summary>
        public static XElement ContainerViewTraversal() =>
            E("selectSet", Type("TraversalSpec"), E("name", "traverseView"), E("type", "ContainerView"), E("path", "view"), E("skip", "false"));

        /// <summary>
        /// One RetrievePropertiesEx for many objects, following the continuation token so large
        /// inventories come back in pages without losing objects.
        /// </summary>
        public async Task<IReadOnlyList<ObjectContent>> RetrievePropertiesAsync(IEnumerable<XElement> propSets, IEnumerable<XElement> objectSets, CancellationToken ct)
        {
            var spec = E("specSet", propSets.Cast<object>().Concat(objectSets).ToArray());
            var req = E("RetrievePropertiesEx", Ref("_this", Sc.PropertyCollector), spec, E("options"));
            var body = await InvokeAsync(req, ct).ConfigureAwait(false);
            var results = new List<ObjectContent>();
            var rv = body.Child("returnval");
            while (rv != null)
            {
                results.AddRange(rv.Children("objects").Select(ParseObjectContent));
                var token = rv.ChildValue("token");
                if (string.IsNullOrEmpty(token)) break;
                var more = await InvokeAsync(E("ContinueRetrievePropertiesEx", Ref("_this", Sc.PropertyCollector), E("token", token)), ct).ConfigureAwait(false);
                rv = more.Child("returnval");
            }
            return results;
        }

        public Task<IReadOnlyList<ObjectContent>> RetrievePropertiesAsync(XElement propSet, IEnumerable<XElement> objectSets, CancellationToken ct) =>
            RetrievePropertiesAsync(new[] { propSet }, objectSets, ct);

        internal static ObjectContent ParseObjectContent(XElement oc)
        {
            var obj = ParseRef(oc.Child("obj")!);
            var props = new Dictionary<string, XElement>(StringComparer.Ordinal);
            foreach (var p in oc.Children("propSet"))
            {
                var name = p.ChildValue("name");
                var val = p.Child("val");
                if (name != null && val != null) props[name] = val;
            }
            var missing = oc.Children("missingSet").Select(m => m.ChildValue("path") ?? "").ToList();
            return new ObjectContent(obj, props, missing);
        }

        public async Task<MoRef> CreateContainerViewAsync(string type, CancellationToken ct)
        {
            var req = E("CreateContainerView", Ref("_this", Sc.ViewManager), Ref("container", Sc.RootFolder), E("type", type), E("recursive", "true"));
            var body = await InvokeAsync(req, ct).ConfigureAwait(false);
            return ParseRef(body.Child("returnval")!);
        }

        public async Task DestroyViewAsync(MoRef view, CancellationToken ct)
        {
            await InvokeAsync(E("DestroyView", Ref("_this", view)), ct).ConfigureAwait(false);
        }

        /// <summary>Reads one property of every object of <paramref name="type"/> in the inventory through a ContainerView.</summary>
        public async Task<IReadOnlyList<ObjectContent>> RetrieveAllAsync(string type, string[] paths, CancellationToken ct)
        {
            var view = await CreateContainerViewAsync(type, ct).ConfigureAwait(false);
            try
            {
                return await RetrievePropertiesAsync(PropertySpecFor(type, paths), new[] { ObjectSpec(view, true, ContainerViewTraversal()) }, ct).ConfigureAwait(false);
            }
            finally
            {
                try { await DestroyViewAsync(view, CancellationToken.None).ConfigureAwait(false); } catch (VimFaultException) { /* views die with the session anyway */ }
            }
        }

        // ---- Tasks ------------------------------------------------------------------------

        /// <summary>Calls a *_Task method and returns the Task reference.</summary>
        public async Task<MoRef> StartTaskAsync(XElement request, CancellationToken ct)
        {
            var body = await InvokeAsync(request, ct).ConfigureAwait(false);
            var rv = body.Child("returnval") ?? throw new VimTransportException($"{request.Name.LocalName} returned no task.");
            return ParseRef(rv);
        }

        /// <summary>
        /// Waits until the task succeeds (returns the result element, or null) or fails (throws the
        /// task's fault), through the session's <see cref="VSphere.TaskWatcher"/>; TimeoutException
        /// after <paramref name="timeout"/>, OperationCanceledException on <paramref name="ct"/>.
        /// </summary>
        public async Task<XElement?> WaitForTaskAsync(MoRef task, string method, TimeSpan timeout, CancellationToken ct) =>
            (await WaitForTaskCoreAsync(task, method, timeout, null, null, ct).ConfigureAwait(false)).Result;

        private async Task<(XElement? Result, ObjectContent? AlsoRead)> WaitForTaskCoreAsync(MoRef task, string method, TimeSpan timeout, MoRef? alsoRead, string[]? alsoReadPaths, CancellationToken ct)
        {
            // A server without a TaskManager in its ServiceContent has no recentTask to follow: poll.
            if (WaitByPolling || ServiceContent == null || ServiceContent.TaskManager.IsEmpty)
                return await PollTaskAsync(task, method, timeout, alsoRead, alsoReadPaths, ct).ConfigureAwait(false);
            var info = await TaskWatcher.WaitAsync(task, method, timeout, ct).ConfigureAwait(false);
            return (ResultOrThrow(info, method), null);
        }

        private static XElement? ResultOrThrow(XElement info, string method)
        {
            if (info.ChildValue("state") == "success") return info.Child("result");
            var err = info.Child("error");
            var fault = err?.Child("fault");
            var name = fault == null ? "Unknown" : (XsiType(fault) ?? fault.Name.LocalName);
            var msg = err?.ChildValue("localizedMessage") ?? "";
            throw new VimFaultException(name, msg, method);
        }

        // The baseline waiter: polls the task's info; with alsoRead, every poll reads that object's
        // properties in the same RetrievePropertiesEx, and the read from the poll that saw the task
        // succeed is returned.
        private async Task<(XElement? Result, ObjectContent? AlsoRead)> PollTaskAsync(MoRef task, string method, TimeSpan timeout, MoRef? alsoRead, string[]? alsoReadPaths, CancellationToken ct)
        {
            var deadline = DateTime.UtcNow + timeout;
            var delay = TimeSpan.FromMilliseconds(100);
            var propSets = new List<XElement> { PropertySpecFor("Task", "info") };
            var objectSets = new List<XElement> { ObjectSpec(task) };
            if (alsoRead is MoRef other && alsoReadPaths != null)
            {
                propSets.Add(PropertySpecFor(other.Type, alsoReadPaths));
                objectSets.Add(ObjectSpec(other));
            }
            while (true)
            {
                var objs = await RetrievePropertiesAsync(propSets, objectSets, ct).ConfigureAwait(false);
                var info = objs.FirstOrDefault(o => o.Obj == task)?.Get("info") ?? throw new VimTransportException($"Task {task.Value} ({method}) has no info.");
                var state = info.ChildValue("state");
                if (state == "success" || state == "error")
                    return (ResultOrThrow(info, method), alsoRead is MoRef read ? objs.FirstOrDefault(o => o.Obj == read) : null);
                if (DateTime.UtcNow >= deadline)
                    throw new TimeoutException($"{method} (task {task.Value}) did not finish within {timeout.TotalSeconds:0} s; it may still be running in vCenter.");
                await Task.Delay(delay, ct).ConfigureAwait(false);
                delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 2000));
            }
        }

        /// <summary>
        /// Runs a task; with the polling baseline it also reads <paramref name="obj"/>'s
        /// <paramref name="paths"/> in the same round trips as the polls and returns them as read
        /// when the task was seen succeeded. The PropertyCollector waiter returns null (callers read
        /// the object themselves when they need its state).
        /// </summary>
        public async Task<ObjectContent?> RunTaskReadingAsync(XElement request, MoRef obj, string[] paths, TimeSpan timeout, CancellationToken ct)
        {
            var task = await StartTaskAsync(request, ct).ConfigureAwait(false);
            return (await WaitForTaskCoreAsync(task, request.Name.LocalName, timeout, obj, paths, ct).ConfigureAwait(false)).AlsoRead;
        }

        public async Task<XElement?> RunTaskAsync(XElement request, TimeSpan timeout, CancellationToken ct)
        {
            var task = await StartTaskAsync(request, ct).ConfigureAwait(false);
            return await WaitForTaskAsync(task, request.Name.LocalName, timeout, ct).ConfigureAwait(false);
        }

        // ---- Transport ----------------------------------------------------------------------

        /// <summary>Sends one request and returns the response element (first child of Body); throws typed faults.</summary>
        public async Task<XElement> InvokeAsync(XElement request, CancellationToken ct)
        {
            var (body, _) = await SendAsync(request, captureCookie: false, ct).ConfigureAwait(false);
            return body;
        }

        private async Task<(XElement Body, string? Cookie)> SendAsync(XElement request, bool captureCookie, CancellationToken ct)
        {
            var method = request.Name.LocalName;
            var envelope = Envelope(request);
            var xml = envelope.Declaration + envelope.Root!.ToString(SaveOptions.DisableFormatting);
            using var msg = new HttpRequestMessage(HttpMethod.Post, ServiceUri)
            {
                Content = new StringContent(xml, Encoding.UTF8, "text/xml"),
            };
            msg.Headers.TryAddWithoutValidation("SOAPAction", $"\"urn:vim25/{_apiVersion}\"");
            var cookie = _cookie;
            if (cookie != null) msg.Headers.TryAddWithoutValidation("Cookie", cookie);

            HttpResponseMessage resp;
            Interlocked.Increment(ref _roundTrips);
            _roundTripsByMethod.AddOrUpdate(method, 1, (_, n) => n + 1);
            try
            {
                resp = await _http.SendAsync(msg, HttpCompletionOption.ResponseContentRead, ct).ConfigureAwait(false);
            }
            catch (TaskCanceledException) when (!ct.IsCancellationRequested)
            {
                throw new VimTransportException($"{method} to {ServiceUri.Host} timed out after {_http.Timeout.TotalSeconds:0} s.");
            }
            catch (HttpRequestException ex)
            {
                throw new VimTransportException(DescribeTransportError(ex), ex);
            }

            using (resp)
            {
                var text = await resp.Content.ReadAsStringAsync().ConfigureAwait(false);
                XDocument? doc = null;
                if (!string.IsNullOrWhiteSpace(text))
                {
                    try { doc = XDocument.Parse(text); }
                    catch (XmlException) { doc = null; }
                }
                var body = doc?.Root?.Element(Soap + "Body");
                var fault = body?.Element(Soap + "Fault");
                if (fault != null) throw ParseFault(fault, method, ServiceUri.Host);
                if (!resp.IsSuccessStatusCode || body == null || body.Elements().FirstOrDefault() == null)
                {
                    throw new VimTransportException(
                        $"{method} to {ServiceUri.Host} failed: HTTP {(int)resp.StatusCode} {resp.ReasonPhrase} without a SOAP response. Check that {ServiceUri} is a vSphere SDK endpoint, then retry.");
                }
                string? newCookie = null;
                if (captureCookie && resp.Headers.TryGetValues("Set-Cookie", out var values))
                {
                    foreach (var v in values)
                    {
                        var first = v.Split(';')[0].Trim();
                        if (first.StartsWith("vmware_soap_session=", StringComparison.Ordinal)) newCookie = first;
                    }
                }
                return (body.Elements().First(), newCookie);
            }
        }

        private string DescribeTransportError(HttpRequestException ex)
        {
            for (Exception? e = ex; e != null; e = e.InnerException)
            {
                if (e is System.Security.Authentication.AuthenticationException)
                {
                    return $"The TLS certificate of {ServiceUri.Host} is not trusted ({e.Message}). Trust the certificate (add its CA to the machine's trust store), " +
                           "or pass -SkipCertificateCheck if this is a lab or you have verified the server another way.";
                }
            }
            var inner = ex.InnerException?.Message;
            return $"Cannot reach {ServiceUri}: {ex.Message}{(inner == null ? "" : " " + inner)} Check the server name, port and network path.";
        }

        /// <summary>SOAP Fault to a typed exception; the fault name comes from detail's xsi:type.</summary>
        internal static VimFaultException ParseFault(XElement fault, string method, string server)
        {
            var faultString = fault.Element("faultstring")?.Value ?? fault.Elements().FirstOrDefault(e => e.Name.LocalName == "faultstring")?.Value ?? "";
            var detail = fault.Element("detail") ?? fault.Elements().FirstOrDefault(e => e.Name.LocalName == "detail");
            var first = detail?.Elements().FirstOrDefault();
            string name = "Unknown";
            if (first != null)
            {
                name = XsiType(first) ?? first.Name.LocalName;
                if (XsiType(first) == null && name.EndsWith("Fault", StringComparison.Ordinal) && name.Length > 5) name = name.Substring(0, name.Length - 5);
            }
            if (name == "NotAuthenticated") return new VISessionExpiredException(server, faultString, method);
            return new VimFaultException(name, faultString, method);
        }

        public void Dispose() => _http.Dispose();
    }
}
