using System;
using System.Collections.Generic;
using System.IO;
using System.Management.Automation;
using System.Text;
using MtvRemediation.Cluster;
using MtvRemediation.Infrastructure;

namespace MtvRemediation.Commands
{
    /// <summary>
    /// ConvertFrom-MtvClusterObject: MTV's Migration, Plan and VSphereXcopyVolumePopulator objects and
    /// the populator's PopulatorFailed events,
    /// as <c>oc get ... -o json</c> prints them (piped or from files), into the VMs and disks that
    /// failed, with their vSphere moRef: <c>oc get migration m -n ns -o json | ConvertFrom-MtvClusterObject | Invoke-MtvRemediation -WhatIf</c>.
    /// </summary>
    [Cmdlet(VerbsData.ConvertFrom, "MtvClusterObject", DefaultParameterSetName = InputObjectSet)]
    [OutputType(typeof(MtvClusterFinding))]
    public sealed class ConvertFromMtvClusterObjectCommand : MtvCmdlet
    {
        private const string InputObjectSet = "InputObject";
        private const string PathSet = "Path";
        private readonly StringBuilder _piped = new StringBuilder();
        private bool _pipedTooLarge;

        /// <summary>
        /// The most JSON text read as one input (characters). The whole document is parsed in
        /// memory, several times its size: a Migration of hundreds of VMs is a few MB, and an
        /// input far beyond it is refused before it is held, not parsed into gigabytes.
        /// </summary>
        internal const int MaxJsonChars = 32 * 1024 * 1024;

        /// <summary>JSON text, e.g. the lines of <c>oc get migration m -o json</c>; the whole input is read as one or more JSON documents.</summary>
        [Parameter(Mandatory = true, ParameterSetName = InputObjectSet, ValueFromPipeline = true)]
        [AllowEmptyString]
        public string[] InputObject { get; set; } = Array.Empty<string>();

        /// <summary>Files holding <c>oc get ... -o json</c> output.</summary>
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = PathSet)]
        [ValidateNotNullOrEmpty]
        public string[] Path { get; set; } = Array.Empty<string>();

        /// <summary>Also the populator CRs of disks that did not fail (CopyOffloadDisk): every disk MTV copies with the populator.</summary>
        [Parameter]
        public SwitchParameter IncludeInformational { get; set; }

        protected override void ProcessRecord()
        {
            if (ParameterSetName == InputObjectSet)
            {
                foreach (var line in InputObject)
                {
                    if (_pipedTooLarge) return;
                    if (_piped.Length + line.Length + 1 > MaxJsonChars)
                    {
                        _pipedTooLarge = true;
                        _piped.Clear();
                        WriteError(TooLarge("the pipeline", new InvalidDataException("more than " + MaxJsonChars + " characters were piped")));
                        return;
                    }
                    _piped.Append(line).Append('\n');
                }
                return;
            }
            foreach (var p in Path)
            {
                foreach (var file in ResolveFiles(p))
                {
                    string text;
                    try
                    {
                        if (new FileInfo(file).Length > MaxJsonChars)
                        {
                            WriteError(TooLarge(file, new InvalidDataException($"'{file}' is {new FileInfo(file).Length} bytes")));
                            continue;
                        }
                        text = File.ReadAllText(file);
                    }
                    catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
                    {
                        WriteError(new ErrorRecord(ex, WrapperErrorIds.ClusterObjectUnreadable, ErrorCategory.ReadError, file)
                        {
                            ErrorDetails = new ErrorDetails($"Cannot read '{file}': {ex.Message} Save the object first: oc get migration <name> -n <namespace> -o json > migration.json"),
                        });
                        continue;
                    }
                    Convert(text, file);
                }
            }
        }

        protected override void EndProcessing()
        {
            if (ParameterSetName == InputObjectSet && !_pipedTooLarge) Convert(_piped.ToString(), "the pipeline");
        }

        // Nothing of a too-large input is converted: a half-read object would name the wrong VMs.
        private static ErrorRecord TooLarge(string origin, Exception ex) =>
            new ErrorRecord(ex, WrapperErrorIds.ClusterObjectTooLarge, ErrorCategory.LimitsExceeded, origin)
            {
                ErrorDetails = new ErrorDetails($"{origin} holds more than {MaxJsonChars / (1024 * 1024)} MB of JSON; nothing of it was read. Pass one object at a time: oc get migration <name> -n <namespace> -o json"),
            };

        private IEnumerable<string> ResolveFiles(string path)
        {
            try { return GetResolvedProviderPathFromPSPath(path, out _); }
            catch (ItemNotFoundException ex)
            {
                WriteError(new ErrorRecord(ex, WrapperErrorIds.ClusterObjectNotFound, ErrorCategory.ObjectNotFound, path)
                {
                    ErrorDetails = new ErrorDetails($"No file matches '{path}'. Save the object first: oc get migration <name> -n <namespace> -o json > migration.json"),
                });
                return Array.Empty<string>();
            }
        }

        private void Convert(string text, string origin)
        {
            if (text.Trim().Length == 0) return;
            var skipped = new List<string>();
            List<MtvClusterFinding> findings;
            try { findings = MtvClusterObjects.Read(text, skipped); }
            catch (FormatException ex)
            {
                // Nothing is written for a document that is not JSON: a half-read object would name the wrong VMs.
                WriteError(new ErrorRecord(ex, WrapperErrorIds.ClusterObjectInvalidJson, ErrorCategory.InvalidData, origin)
                {
                    ErrorDetails = new ErrorDetails($"{origin} is not the JSON of MTV objects: {ex.Message} Pass the output of oc get <kind> <name> -o json (not -o yaml, not oc describe)."),
                });
                return;
            }
            foreach (var s in skipped) WriteVerbose($"{origin}: skipped {s}: not a Migration, Plan, VSphereXcopyVolumePopulator or PopulatorFailed event.");
            foreach (var f in findings)
                if (IncludeInformational || f.Signature != MtvClusterObjects.CopyOffloadDisk) WriteObject(f);
        }
    }
}
