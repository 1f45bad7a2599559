using System.Diagnostics;
using System.IO;

namespace MtvRemediation.Tests.Esxi
{
    /// <summary>Runs text through a real local POSIX shell (BusyBox ash like ESXi when present, else /bin/sh).</summary>
    internal static class LocalShell
    {
        public static string[] Shell
        {
            get
            {
                if (File.Exists("/bin/busybox")) return new[] { "/bin/busybox", "sh" };
                return new[] { "/bin/sh" };
            }
        }

        public static bool Available => File.Exists("/bin/busybox") || File.Exists("/bin/sh");

        /// <summary>sh -c TEXT in <paramref name="workDir"/>; returns raw stdout bytes and the exit code.</summary>
        public static (byte[] Stdout, int Exit) Run(string text, string workDir)
        {
            var shell = Shell;
            var psi = new ProcessStartInfo(shell[0]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = workDir };
            for (var i = 1; i < shell.Length; i++) psi.ArgumentList.Add(shell[i]);
            psi.ArgumentList.Add("-c");
            psi.ArgumentList.Add(text);
            using var p = Process.Start(psi)!;
            using var ms = new MemoryStream();
            p.StandardOutput.BaseStream.CopyTo(ms);
            p.StandardError.ReadToEnd();
            p.WaitForExit();
            return (ms.ToArray(), p.ExitCode);
        }

        public static (string Stdout, int Exit) Tool(string file, params string[] args)
        {
            var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in args) psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            var o = p.StandardOutput.ReadToEnd();
            p.StandardError.ReadToEnd();
            p.WaitForExit();
            return (o, p.ExitCode);
        }
    }
}
