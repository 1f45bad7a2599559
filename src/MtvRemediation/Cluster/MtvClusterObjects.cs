using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text.RegularExpressions;
using MtvRemediation.Diagnosis;

namespace MtvRemediation.Cluster
{
    /// <summary>
    /// Turns MTV objects as <c>oc get -o json</c> prints them into <see cref="MtvClusterFinding"/>s.
    /// Shapes from kubev2v/forklift at v2.10.4 and v2.12.0: Migration.status.vms[] and
    /// Plan.status.migration.vms[] are plan.VMStatus (pkg/apis/forklift/v1beta1/plan/vm.go: ref.Ref's
    /// id/name inline, phase, pipeline[] of Step {name, phase, error {phase, reasons[]}, tasks[]},
    /// error); a copy step's error is <c>populator pod failed for PVC %s. Please check the pod logs</c>
    /// (pkg/controller/plan/migration.go), copied into the VM's error by ReflectPipeline.
    /// VSphereXcopyVolumePopulator (pkg/apis/forklift/v1beta1/vsphere_xcopy_volumepopulator.go):
    /// spec.vmId, spec.vmdkPath, spec.migrationHost (5.0), status.progress; xcopyUsed from 2.12.2, vibVersion from 2.12.4, result
    /// ("success"/"failure", the populator's completion label) on release-2.12
    /// (docs/field-sources.md#1-the-failure-in-mtv). A DiskTransfer task's annotations.xcopyUsed (v2.12.5)
    /// is an informational disk finding. Events (<c>oc get events -o json</c>): only the
    /// PopulatorFailed warning on a PVC is read.
    /// </summary>
    internal static class MtvClusterObjects
    {
        public const string PopulatorPodFailed = "PopulatorPodFailed";
        public const string MigrationError = "MigrationError";
        public const string PopulatorFailed = "PopulatorFailed";
        public const string CopyOffloadDisk = "CopyOffloadDisk";

        private static readonly Regex PodFailed = new Regex(@"populator pod failed for PVC (?<pvc>[0-9A-Za-z-]+)", RegexOptions.CultureInvariant);

        // The populator controller's Warning event on the PVC, reason PopulatorFailed: "VSphere xcopy
        // populator failed (no retry): Please check the logs of the populator pod, <ns>/<pod>" from
        // 2.10.4 on, "Populator failed after few (3) attempts: ..." on 2.9.x
        // (pkg/lib-volume-populator/populator-machinery/controller.go).
        private static readonly Regex EventPod = new Regex(@"logs of the populator pod, (?<ns>[^/\s]+)/(?<pod>populate-(?<pvc>[0-9A-Za-z-]+))", RegexOptions.CultureInvariant);

        /// <summary>Findings from every object in <paramref name="json"/> (Lists are unrolled); unknown kinds are reported in <paramref name="skipped"/>.</summary>
        public static List<MtvClusterFinding> Read(string json, List<string> skipped)
        {
            var findings = new List<MtvClusterFinding>();
            foreach (var doc in MiniJson.ParseAll(json)) Visit(doc, findings, skipped);
            return findings;
        }

        private static void Visit(object? doc, List<MtvClusterFinding> findings, List<string> skipped)
        {
            if (doc is List<object?> array) { foreach (var d in array) Visit(d, findings, skipped); return; }
            if (!(doc is Dictionary<string, object?> obj)) { skipped.Add("a JSON value that is not an object"); return; }
            var kind = Str(obj, "kind") ?? "";
            if (obj.TryGetValue("items", out var items) && items is List<object?> list) { foreach (var i in list) Visit(i, findings, skipped); return; }
            var meta = Obj(obj, "metadata");
            var ns = Str(meta, "namespace");
            var name = Str(meta, "name");
            var where = $"{kind} {(ns != null ? ns + "/" : "")}{name}";
            switch (kind)
            {
                case "Migration":
                    ReadVms(Arr(Obj(obj, "status"), "vms"), "status.vms", kind, ns, name, where, findings);
                    break;
                case "Plan":
                    ReadVms(Arr(Obj(Obj(obj, "status"), "migration"), "vms"), "status.migration.vms", kind, ns, name, where, findings);
                    break;
                case "VSphereXcopyVolumePopulator":
                    findings.Add(ReadPopulator(obj, ns, name, where));
                    break;
                case "Event" when Str(obj, "reason") == PopulatorFailed:
                    findings.Add(ReadPopulatorFailedEvent(obj, ns, name, where));
                    break;
                case "Event":
                    skipped.Add($"{where} (reason {Str(obj, "reason") ?? "none"})");
                    break;
                default:
                    skipped.Add(kind.Length == 0 ? "an object without kind" : $"{where} (kind {kind})");
                    break;
            }
        }

        private static void ReadVms(List<object?>? vms, string path, string kind, string? ns, string? objName, string where, List<MtvClusterFinding> findings)
        {
            if (vms == null) return;
            for (var v = 0; v < vms.Count; v++)
            {
                if (!(vms[v] is Dictionary<string, object?> vm)) continue;
                var seen = new HashSet<string>(StringComparer.Ordinal);
                var vmPath = $"{path}[{v}]";
                var phase = Str(vm, "phase");
                void Add(Dictionary<string, object?>? error, string at, string? stepPhase)
                {
                    var reasons = Arr(error, "reasons");
                    if (reasons == null) return;
                    for (var r = 0; r < reasons.Count; r++)
                    {
                        if (!(reasons[r] is string reason) || !seen.Add(reason)) continue;
                        findings.Add(FromReason(kind, ns, objName, vm, reason, stepPhase ?? phase, $"{where} {at}.error.reasons[{r}]"));
                    }
                }
                var pipeline = Arr(vm, "pipeline");
                if (pipeline != null)
                {
                    for (var s = 0; s < pipeline.Count; s++)
                    {
                        if (!(pipeline[s] is Dictionary<string, object?> step)) continue;
                        var stepAt = $"{vmPath}.pipeline[{s}]({Str(step, "name")})";
                        var stepPhase = $"{Str(step, "name")} {Str(step, "phase")}".Trim();
                        Add(Obj(step, "error"), stepAt, stepPhase);
                        var tasks = Arr(step, "tasks");
                        if (tasks == null) continue;
                        for (var t = 0; t < tasks.Count; t++)
                        {
                            if (!(tasks[t] is Dictionary<string, object?> task)) continue;
                            var taskAt = $"{stepAt}.tasks[{t}]({Str(task, "name")})";
                            Add(Obj(task, "error"), taskAt, stepPhase);
                            if (Str(Obj(task, "annotations"), "xcopyUsed") is string xcopyUsed)
                                findings.Add(FromXcopyAnnotation(kind, ns, objName, vm, task, xcopyUsed, stepPhase, $"{where} {taskAt}.annotations.xcopyUsed"));
                        }
                    }
                }
                Add(Obj(vm, "error"), vmPath, null);
            }
        }

        private static MtvClusterFinding FromReason(string kind, string? ns, string? objName, Dictionary<string, object?> vm, string reason, string? phase, string source)
        {
            var f = new MtvClusterFinding
            {
                Kind = kind, Namespace = ns, ObjectName = objName,
                Name = Str(vm, "name"), MoRef = Str(vm, "id"), Phase = phase, Reason = reason, Source = source,
            };
            var pod = PodFailed.Match(reason);
            var signature = CloneFailureSignatures.Classify(reason, out _);
            if (signature != null && !signature.Frequent)
            {
                f.Signature = signature.Name; f.Cause = signature.Cause; f.Remediation = signature.Remediation;
            }
            else if (pod.Success)
            {
                f.Signature = PopulatorPodFailed;
                f.Pvc = pod.Groups["pvc"].Value;
                f.PopulatorPod = "populate-" + f.Pvc;
                f.Cause = "The disk's populator pod failed; its log says why (a 'clone task failed with exit code ..., stderr: ...' line). The Migration does not carry that text.";
                f.Remediation = $"oc logs -n {ns ?? "<namespace>"} {f.PopulatorPod} | Find-MtvCloneFailure; Find-MtvCloneFailure -VMHost <the VM's host> (task directories); then Invoke-MtvRemediation";
            }
            else
            {
                f.Signature = MigrationError;
                f.Cause = "The migration recorded this error for the VM.";
                f.Remediation = "Read the reason; for disk copy failures check the populator pod log with Find-MtvCloneFailure.";
            }
            return f;
        }

        // The vSphere builder copies the populator CR's status.xcopyUsed into the DiskTransfer task of
        // the disk (task name = the disk's file, builder.go PopulatorOffloadInfo@v2.12.5).
        private static MtvClusterFinding FromXcopyAnnotation(string kind, string? ns, string? objName, Dictionary<string, object?> vm, Dictionary<string, object?> task, string xcopyUsed, string? phase, string source) =>
            new MtvClusterFinding
            {
                Kind = kind, Namespace = ns, ObjectName = objName,
                Name = Str(vm, "name"), MoRef = Str(vm, "id"), Disk = Str(task, "name"), Phase = phase, XcopyUsed = xcopyUsed, Source = source,
                Signature = CopyOffloadDisk,
                Cause = "A disk MTV copies with the vSphere copy-offload populator (xcopyUsed " + xcopyUsed + (xcopyUsed == "0" ? ": the array did not offload the copy" : "") + "): not a failure by itself.",
                Remediation = "None (informational)",
            };

        private static MtvClusterFinding ReadPopulator(Dictionary<string, object?> obj, string? ns, string? name, string where)
        {
            var spec = Obj(obj, "spec");
            var status = Obj(obj, "status");
            var f = new MtvClusterFinding
            {
                Kind = "VSphereXcopyVolumePopulator", Namespace = ns, ObjectName = name,
                MoRef = Str(spec, "vmId"), Disk = Str(spec, "vmdkPath"),
                VMHostId = Str(spec, "migrationHost") is string host ? "HostSystem-" + host : null,
                Progress = Str(status, "progress"), XcopyUsed = Str(status, "xcopyUsed"), VibVersion = Str(status, "vibVersion"), Result = Str(status, "result"),
                Source = where + " spec",
            };
            if (string.Equals(f.Result, "failure", StringComparison.OrdinalIgnoreCase))
            {
                f.Signature = PopulatorFailed;
                f.Source = where + " status.result";
                f.Cause = "The copy-offload populator finished this disk with result 'failure'"
                          + (f.VMHostId != null ? $" on the migration host {f.VMHostId} (the StorageMap's choice, not necessarily the VM's own host)." : ".");
                f.Remediation = $"oc logs -n {ns ?? "<namespace>"} <its populate-<pvcUID> pod> | Find-MtvCloneFailure; then Invoke-MtvRemediation"
                                + (f.VMHostId != null ? $" (the host's evidence is on {f.VMHostId})" : "");
            }
            else
            {
                f.Signature = CopyOffloadDisk;
                f.Cause = "A disk MTV copies with the vSphere copy-offload populator (progress " + (f.Progress ?? "?") + ")"
                          + (f.XcopyUsed != null ? ", xcopyUsed " + f.XcopyUsed : "") + ": not a failure by itself.";
                f.Remediation = "None (informational)";
            }
            return f;
        }

        private static MtvClusterFinding ReadPopulatorFailedEvent(Dictionary<string, object?> obj, string? ns, string? name, string where)
        {
            var message = Str(obj, "message");
            var pod = EventPod.Match(message ?? "");
            var f = new MtvClusterFinding
            {
                Kind = "Event", Namespace = pod.Success ? pod.Groups["ns"].Value : ns, ObjectName = name,
                Signature = PopulatorFailed, Reason = message, Source = where + " reason PopulatorFailed",
                Pvc = pod.Success ? pod.Groups["pvc"].Value : Str(Obj(obj, "involvedObject"), "uid"),
                PopulatorPod = pod.Success ? pod.Groups["pod"].Value : null,
                Cause = "The populator controller gave up on the populator pod of PVC " + (Str(Obj(obj, "involvedObject"), "name") ?? "?")
                        + " (MTV does not retry a failed copy-offload populator); the pod's log says why.",
            };
            f.Remediation = $"oc logs -n {f.Namespace ?? "<namespace>"} {f.PopulatorPod ?? "<its populate-<pvcUID> pod>"} | Find-MtvCloneFailure; then Invoke-MtvRemediation";
            return f;
        }

        /// <summary>
        /// The Plans in <paramref name="json"/> (Lists are unrolled; other kinds go to
        /// <paramref name="skipped"/>): spec.vms[] (plan.VM's inline ref.Ref: id = the vSphere moRef,
        /// name), warm or not (spec.warm; releases with PlanSpec.type say it as type "warm", beside
        /// "cold" and "live", as tests/fixtures/mtv/2.12/plan.json) and spec.provider.source
        /// (PlanSpec, pkg/apis/forklift/v1beta1/plan.go).
        /// </summary>
        public static List<MtvPlanSpec> ReadPlans(string json, List<string> skipped)
        {
            var plans = new List<MtvPlanSpec>();
            void Visit(object? doc)
            {
                if (doc is List<object?> array) { foreach (var d in array) Visit(d); return; }
                if (!(doc is Dictionary<string, object?> obj)) { skipped.Add("a JSON value that is not an object"); return; }
                if (obj.TryGetValue("items", out var items) && items is List<object?> list) { foreach (var i in list) Visit(i); return; }
                var kind = Str(obj, "kind") ?? "";
                var meta = Obj(obj, "metadata");
                if (kind != "Plan") { skipped.Add(kind.Length == 0 ? "an object without kind" : $"{kind} {Str(meta, "name")} (not a Plan)"); return; }
                var spec = Obj(obj, "spec");
                var plan = new MtvPlanSpec
                {
                    Namespace = Str(meta, "namespace"),
                    Name = Str(meta, "name"),
                    Warm = (spec != null && spec.TryGetValue("warm", out var w) && w is bool b && b) ||
                           string.Equals(Str(spec, "type"), "warm", StringComparison.OrdinalIgnoreCase),
                    SourceProvider = Str(Obj(Obj(spec, "provider"), "source"), "name"),
                };
                foreach (var v in Arr(spec, "vms") ?? new List<object?>())
                    if (v is Dictionary<string, object?> vm && (Str(vm, "id") != null || Str(vm, "name") != null))
                        plan.Vms.Add((Str(vm, "id"), Str(vm, "name")));
                plans.Add(plan);
            }
            foreach (var doc in MiniJson.ParseAll(json)) Visit(doc);
            return plans;
        }

        private static Dictionary<string, object?>? Obj(Dictionary<string, object?>? o, string key) =>
            o != null && o.TryGetValue(key, out var v) ? v as Dictionary<string, object?> : null;

        private static List<object?>? Arr(Dictionary<string, object?>? o, string key) =>
            o != null && o.TryGetValue(key, out var v) ? v as List<object?> : null;

        private static string? Str(Dictionary<string, object?>? o, string key)
        {
            if (o == null || !o.TryGetValue(key, out var v) || v == null) return null;
            return v switch
            {
                string s => s.Length == 0 ? null : s,
                double d => d.ToString(CultureInfo.InvariantCulture),
                bool b => b ? "true" : "false",
                _ => null,
            };
        }
    }

    /// <summary>One MTV Plan as Test-MtvWaveReadiness reads it.</summary>
    internal sealed class MtvPlanSpec
    {
        public string? Namespace { get; set; }
        public string? Name { get; set; }

        /// <summary>spec.warm, or spec.type "warm": MTV needs CBT on every VM of a warm plan (VMMissingChangedBlockTracking).</summary>
        public bool Warm { get; set; }

        /// <summary>spec.provider.source.name: the vSphere provider.</summary>
        public string? SourceProvider { get; set; }

        /// <summary>spec.vms[]: the moRef (id) and the name, either may be missing.</summary>
        public List<(string? Id, string? Name)> Vms { get; } = new List<(string? Id, string? Name)>();

        public override string ToString() => $"Plan {(Namespace != null ? Namespace + "/" : "")}{Name}";
    }
}
