using System;
using System.IO;
using System.Runtime.InteropServices;

namespace MtvRemediation.Infrastructure
{
    /// <summary>
    /// Creates local files only their owner can read (0600 on Unix): wrapper logs and their tails
    /// hold datastore paths, VM and host names an admin may consider private. The mode is set
    /// while the new file is still empty, before any byte is written. On Windows the file inherits
    /// the ACL of its directory (the user's profile by default).
    /// </summary>
    internal static class OwnerOnlyFile
    {
        private const int OwnerReadWrite = 0x180; // 0600

        /// <summary>A new file (fails if it exists) opened for writing, mode 0600 on Unix.</summary>
        public static FileStream CreateNew(string path)
        {
            var fs = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
            try
            {
                if (!RuntimeInformation.IsOSPlatform(OSPlatform.Windows) && chmod(path, OwnerReadWrite) != 0)
                    throw new IOException($"Cannot make '{path}' readable by its owner only (chmod 600 failed, errno {Marshal.GetLastWin32Error()}).");
                return fs;
            }
            catch
            {
                fs.Dispose();
                try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
                throw;
            }
        }

        /// <summary>
        /// Writes a report file whole: to a new owner-only temp file beside it, then renamed over it,
        /// so a reader never sees half a report and an old one stays whole until the new one
        /// replaces it (no delete first).
        /// </summary>
        public static void WriteReplacing(string path, Action<TextWriter> write)
        {
            var full = Path.GetFullPath(path);
            var temp = Path.Combine(Path.GetDirectoryName(full)!, "." + Path.GetFileName(full) + ".tmp-" + Guid.NewGuid().ToString("N").Substring(0, 8));
            try
            {
                using (var fs = CreateNew(temp))
                using (var w = new StreamWriter(fs, new System.Text.UTF8Encoding(false)))
                    write(w);
                if (File.Exists(full)) File.Replace(temp, full, null); // rename(2) on Unix: atomic
                else File.Move(temp, full);
            }
            finally
            {
                if (File.Exists(temp)) File.Delete(temp);
            }
        }

        /// <summary>A file-name part from a host or log name: letters, digits, '.', '-' and '_' kept, anything else '_'.</summary>
        public static string SafeName(string name)
        {
            var sb = new System.Text.StringBuilder(name.Length);
            foreach (var c in name) sb.Append(char.IsLetterOrDigit(c) || c == '.' || c == '-' || c == '_' ? c : '_');
            return sb.ToString();
        }

        /// <summary>
        /// <paramref name="baseName"/> + <paramref name="extension"/> in <paramref name="directory"/>,
        /// or with -1, -2... when that file (or its .partial) exists: a re-run in the same second
        /// never overwrites, nor fails on, an earlier run's file.
        /// </summary>
        public static string UniquePath(string directory, string baseName, string extension)
        {
            var candidate = Path.Combine(directory, baseName + extension);
            for (var i = 1; File.Exists(candidate) || File.Exists(candidate + ".partial"); i++)
                candidate = Path.Combine(directory, baseName + "-" + i.ToString(System.Globalization.CultureInfo.InvariantCulture) + extension);
            return candidate;
        }

        private const int OwnerOnlyDirectory = 0x1C0; // 0700

        /// <summary>
        /// The user's own directory for files the module keeps locally (the -KeepLastLines tail
        /// until it is written back): under the user's local application data, never a shared
        /// temporary path another user could create first. Mode 0700 on Unix; a link is refused.
        /// </summary>
        public static string PrivateDirectory(string name)
        {
            var root = Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.Create);
            if (string.IsNullOrEmpty(root)) root = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
            var path = Path.Combine(root, "MtvRemediation", name);
            Directory.CreateDirectory(path);
            foreach (var dir in new[] { Path.Combine(root, "MtvRemediation"), path })
            {
                if ((File.GetAttributes(dir) & FileAttributes.ReparsePoint) != 0)
                    throw new IOException($"'{dir}' is a link; the module keeps its local files only in a directory of its own.");
                if (!RuntimeInformation.IsOSPlatform(OSPlatform.Windows) && chmod(dir, OwnerOnlyDirectory) != 0)
                    throw new IOException($"Cannot make '{dir}' private to its owner (chmod 700 failed, errno {Marshal.GetLastWin32Error()}).");
            }
            return path;
        }

        [DllImport("libc", SetLastError = true)]
#pragma warning disable IDE1006 // libc's name
        private static extern int chmod(string path, int mode);
#pragma warning restore IDE1006
    }
}
