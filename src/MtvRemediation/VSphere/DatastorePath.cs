using System;
using System.Text.RegularExpressions;

namespace MtvRemediation.VSphere
{
    /// <summary>A datastore path <c>[datastore] folder/file.vmdk</c>, split into its parts.</summary>
    internal sealed class DatastorePath
    {
        // Singleline and \z: a VM or folder name may hold a newline (vSphere allows it), and '.' or '$' would stop there.
        private static readonly Regex Pattern = new Regex(@"^\[(?<ds>[^\]]*)\]\s?(?<path>.*)\z", RegexOptions.CultureInvariant | RegexOptions.Singleline);

        private DatastorePath(string datastore, string path)
        {
            Datastore = datastore;
            Path = path;
        }

        public string Datastore { get; }

        /// <summary>Path inside the datastore, '/'-separated, no leading slash.</summary>
        public string Path { get; }

        /// <summary>Folder part of <see cref="Path"/> ("" for the datastore root).</summary>
        public string Folder
        {
            get
            {
                var i = Path.LastIndexOf('/');
                return i < 0 ? "" : Path.Substring(0, i);
            }
        }

        public string FileName
        {
            get
            {
                var i = Path.LastIndexOf('/');
                return i < 0 ? Path : Path.Substring(i + 1);
            }
        }

        /// <summary>The folder as a datastore path, e.g. <c>[ds] web 01</c>, as SearchDatastore_Task expects.</summary>
        public string FolderPath => Folder.Length == 0 ? $"[{Datastore}]" : $"[{Datastore}] {Folder}";

        public override string ToString() => $"[{Datastore}] {Path}";

        public static bool TryParse(string? text, out DatastorePath? result)
        {
            result = null;
            if (text == null) return false;
            var m = Pattern.Match(text.Trim());
            if (!m.Success || m.Groups["ds"].Value.Length == 0) return false;
            result = new DatastorePath(m.Groups["ds"].Value, m.Groups["path"].Value.TrimStart('/'));
            return true;
        }

        public static DatastorePath Parse(string text) =>
            TryParse(text, out var p) ? p! : throw new FormatException($"'{text}' is not a datastore path like '[datastore] folder/file.vmdk'.");

        public static DatastorePath Combine(string datastore, string folder, string fileName)
        {
            folder = folder.Trim('/');
            return new DatastorePath(datastore, folder.Length == 0 ? fileName : folder + "/" + fileName);
        }

        /// <summary>
        /// The change-tracking file that belongs to a disk descriptor: <c>disk1.vmdk</c> -> <c>disk1-ctk.vmdk</c>.
        /// ESXi names it after the descriptor, so this is derived, never guessed from a folder listing.
        /// </summary>
        public static string CtkFileNameFor(string diskFileName)
        {
            if (!diskFileName.EndsWith(".vmdk", StringComparison.OrdinalIgnoreCase))
                throw new ArgumentException($"'{diskFileName}' is not a .vmdk descriptor.", nameof(diskFileName));
            return diskFileName.Substring(0, diskFileName.Length - 5) + "-ctk.vmdk";
        }

        /// <summary>For <c>x-ctk.vmdk</c> the descriptor name <c>x.vmdk</c>, else null.</summary>
        public static string? DiskFileNameForCtk(string ctkFileName)
        {
            const string suffix = "-ctk.vmdk";
            if (!ctkFileName.EndsWith(suffix, StringComparison.OrdinalIgnoreCase) || ctkFileName.Length == suffix.Length) return null;
            return ctkFileName.Substring(0, ctkFileName.Length - suffix.Length) + ".vmdk";
        }
    }
}
