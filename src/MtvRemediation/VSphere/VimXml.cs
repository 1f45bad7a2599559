using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Xml.Linq;

namespace MtvRemediation.VSphere
{
    /// <summary>
    /// Envelope building and namespace-aware parsing for vim25 SOAP. Elements are matched by
    /// namespace URI, never by prefix: vcsim writes <c>XMLSchema-instance:type</c> where vCenter
    /// writes <c>xsi:type</c>, and both mean the same attribute.
    /// </summary>
    internal static class VimXml
    {
        public static readonly XNamespace Soap = "http://schemas.xmlsoap.org/soap/envelope/";
        public static readonly XNamespace Vim = "urn:vim25";
        public static readonly XNamespace Xsi = "http://www.w3.org/2001/XMLSchema-instance";
        public static readonly XNamespace Xsd = "http://www.w3.org/2001/XMLSchema";

        /// <summary>Wraps a request element in a SOAP envelope, declaring the prefixes vCenter expects.</summary>
        public static XDocument Envelope(XElement request)
        {
            return new XDocument(
                new XDeclaration("1.0", "utf-8", null),
                new XElement(Soap + "Envelope",
                    new XAttribute(XNamespace.Xmlns + "soapenv", Soap.NamespaceName),
                    new XAttribute(XNamespace.Xmlns + "xsi", Xsi.NamespaceName),
                    new XAttribute(XNamespace.Xmlns + "xsd", Xsd.NamespaceName),
                    new XElement(Soap + "Body", request)));
        }

        /// <summary>A vim25 element; null content is skipped so optional fields can be passed inline.</summary>
        public static XElement E(string name, params object?[] content) =>
            new XElement(Vim + name, content.Where(c => c != null).ToArray());

        /// <summary>A managed object reference element: <c>&lt;name type="T"&gt;value&lt;/name&gt;</c>.</summary>
        public static XElement Ref(string name, MoRef moRef) =>
            new XElement(Vim + name, new XAttribute("type", moRef.Type), moRef.Value);

        /// <summary>The xsi:type attribute for polymorphic elements (values use the vim25 default namespace).</summary>
        public static XAttribute Type(string typeName) => new XAttribute(Xsi + "type", typeName);

        public static string Bool(bool value) => value ? "true" : "false";

        /// <summary>The xsi:type of an element without any prefix, or null.</summary>
        public static string? XsiType(XElement e)
        {
            var a = e.Attribute(Xsi + "type");
            if (a == null) return null;
            var v = a.Value;
            var colon = v.IndexOf(':');
            return colon >= 0 ? v.Substring(colon + 1) : v;
        }

        public static MoRef ParseRef(XElement e)
        {
            var type = (string?)e.Attribute("type") ?? XsiType(e) ?? "";
            return new MoRef(type, e.Value.Trim());
        }

        public static XElement? Child(this XElement e, string name) => e.Element(Vim + name);

        public static IEnumerable<XElement> Children(this XElement e, string name) => e.Elements(Vim + name);

        public static string? ChildValue(this XElement e, string name) => e.Element(Vim + name)?.Value;

        public static bool? ChildBool(this XElement e, string name)
        {
            var v = e.Element(Vim + name)?.Value;
            if (v == null) return null;
            return string.Equals(v.Trim(), "true", StringComparison.OrdinalIgnoreCase) || v.Trim() == "1";
        }

        public static int? ChildInt(this XElement e, string name)
        {
            var v = e.Element(Vim + name)?.Value;
            if (v == null) return null;
            return int.TryParse(v.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var i) ? i : (int?)null;
        }

        public static long? ChildLong(this XElement e, string name)
        {
            var v = e.Element(Vim + name)?.Value;
            if (v == null) return null;
            return long.TryParse(v.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var i) ? i : (long?)null;
        }
    }
}
