using System;
using System.Linq;
using System.Text.RegularExpressions;

namespace MtvRemediation.Wrapper
{
    /// <summary>The interpreter of the wrapper payload <c>/opt/redhat/vmkfstools-wrapper</c>.</summary>
    internal enum WrapperLanguage
    {
        /// <summary>No payload on the host.</summary>
        None,
        /// <summary>VIB 0.1.x and 0.2.0 (MTV 2.9, 2.10): <c>#!/bin/python</c>, logs to its own file.</summary>
        Python,
        /// <summary>VIB 0.3.x (MTV 2.11 and later): <c>vmkfstools_wrapper.sh</c>, <c>#!/bin/sh</c>, logs through syslog only.</summary>
        Shell,
        /// <summary>A payload whose interpreter line is neither.</summary>
        Unknown,
    }

    /// <summary>
    /// The payload as <c>Scripts/wrapper-payload.sh</c> prints it (interpreter line, then the
    /// SCRIPT_VERSION line), and the one rule that tells its generation from it. Used by the
    /// wrapper inventory and by the clear/rotation pre-check alike. Sources: kubev2v/forklift
    /// <c>vmkfstools_wrapper.py</c> at v2.10.4 (<c>#!/bin/python</c>) and <c>vmkfstools_wrapper.sh</c>
    /// (<c>#!/bin/sh</c>, read at SCRIPT_VERSION 0.3.1; other 0.3.x releases unverified, so any
    /// shell named on the <c>#!</c> line counts); docs/field-sources.md#2-the-vmkfstools-wrapper.
    /// </summary>
    internal sealed class WrapperPayload
    {
        private static readonly Regex VersionLine = new Regex(@"^SCRIPT_VERSION\s*=\s*[""']([^""']+)[""']", RegexOptions.CultureInvariant);
        private static readonly string[] ShellInterpreters = { "sh", "ash", "bash", "dash", "ksh" };

        public static readonly WrapperPayload Missing = new WrapperPayload(WrapperLanguage.None, null, null);

        private WrapperPayload(WrapperLanguage language, string? interpreterLine, string? scriptVersion)
        {
            Language = language;
            InterpreterLine = interpreterLine;
            ScriptVersion = scriptVersion;
        }

        public WrapperLanguage Language { get; }
        public string? InterpreterLine { get; }

        /// <summary>The value of SCRIPT_VERSION (0.2.0's Python says 0.0.5; 0.1.1 has none).</summary>
        public string? ScriptVersion { get; }

        /// <summary>Parses the section printed by <c>wrapper_payload</c> (empty: no payload).</summary>
        public static WrapperPayload Parse(string? section)
        {
            var lines = (section ?? "").Replace("\r\n", "\n").Split('\n');
            // The last split element is what follows the final newline: present only if the script printed something.
            if (lines.Length < 2 && lines[0].Length == 0) return Missing;
            var first = lines[0];
            string? version = null;
            foreach (var l in lines.Skip(1))
            {
                var m = VersionLine.Match(l.Trim());
                if (m.Success) { version = m.Groups[1].Value; break; }
            }
            return new WrapperPayload(LanguageOf(first), first, version);
        }

        /// <summary>
        /// The interpreter named by a <c>#!</c> line (through <c>/usr/bin/env</c> too), options
        /// ignored: <c>#!/bin/sh</c> and <c>#!/bin/sh -e</c> are Shell, <c>#!/bin/python</c> Python.
        /// </summary>
        public static WrapperLanguage LanguageOf(string? interpreterLine)
        {
            if (interpreterLine == null) return WrapperLanguage.None;
            var line = interpreterLine.Trim();
            if (!line.StartsWith("#!", StringComparison.Ordinal)) return WrapperLanguage.Unknown;
            var words = line.Substring(2).Split(new[] { ' ', '\t' }, StringSplitOptions.RemoveEmptyEntries);
            if (words.Length == 0) return WrapperLanguage.Unknown;
            var interpreter = BaseName(words[0]);
            if (interpreter == "env") interpreter = BaseName(words.Skip(1).FirstOrDefault(w => !w.StartsWith("-", StringComparison.Ordinal)) ?? "");
            if (interpreter.StartsWith("python", StringComparison.Ordinal)) return WrapperLanguage.Python;
            return ShellInterpreters.Contains(interpreter, StringComparer.Ordinal) ? WrapperLanguage.Shell : WrapperLanguage.Unknown;
        }

        private static string BaseName(string path)
        {
            var slash = path.LastIndexOf('/');
            return slash < 0 ? path : path.Substring(slash + 1);
        }
    }
}
