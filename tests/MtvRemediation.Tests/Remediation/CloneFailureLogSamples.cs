namespace MtvRemediation.Tests.Remediation
{
    /// <summary>
    /// Log lines as the real components write them (kubev2v/forklift; tests/fixtures/mtv/README.md
    /// names every source): the 2.10 Python wrapper's file log (path checks, 'about to run', the
    /// per-poll vsish and XCOPY lines: never a failure), the 2.9 SSH method's secure log (its
    /// 'Status check for task' dict holds exitCode and vmkfstools' stderr), the 0.3.x wrapper's own
    /// free-space message, and the populator pod's klog (2.10: printf-style; 2.12: structured).
    /// </summary>
    internal static class CloneFailureLogSamples
    {
        public const string WrapperStart = "2026-11-25 09:59:58,004 - INFO - about to run trap 'echo -n $? > /tmp/vmkfstools-wrapper-5d0e2f5a-7c1b-4e8e-9d55-3b1a6c1f0e21/exitcode' EXIT;/bin/vmkfstools -i /vmfs/volumes/vsanDatastore/db01/db01.vmdk -d rdm:/vmfs/devices/disks/naa.600a098038304437415d4b6a59684a52 /vmfs/volumes/vsanDatastore/db01/db01.vmdk-rdmdisk-40213";
        public const string WrapperVsish = "2026-11-25 10:00:03,117 - INFO - vshish stats CompletedProcess(args=['vsish', '-r', '-e', 'cat', '/storage/scsifw/devices/naa.600a098038304437415d4b6a59684a52/stats'], returncode=0, stdout='cloneWriteOps:0x0000000000000000\\n', stderr='')";
        public const string WrapperXcopyFalse = "2026-11-25 10:00:03,118 - INFO - XCOPY used: False, clone write ops: 0";
        public const string WrapperXcopyTrue = "2026-11-25 10:00:03,118 - INFO - XCOPY used: True, clone write ops: 1216";
        public const string WrapperIoError = "2026-11-25 10:03:12,456 - INFO - Status check for task 5d0e2f5a-7c1b-4e8e-9d55-3b1a6c1f0e21: {'taskId': '5d0e2f5a-7c1b-4e8e-9d55-3b1a6c1f0e21', 'pid': 40213, 'exitCode': '255', 'lastLine': 'Clone: 37% done.', 'stdErr': 'Failed to clone disk: Input/output error (327689).\\n', 'operation': 'status'}";
        public const string WrapperCtk = "2026-11-25 10:04:00,001 - INFO - Status check for task 9a3c51d0-2b7e-4f16-8c4d-70e2b1f5a6c9: {'taskId': '9a3c51d0-2b7e-4f16-8c4d-70e2b1f5a6c9', 'pid': 40377, 'exitCode': '255', 'lastLine': 'Clone: 12% done.', 'stdErr': 'Failed to clone disk: Invalid change tracker error code (7228).\\n', 'operation': 'status'}";
        public const string WrapperExit1 = "2026-11-25 10:06:30,250 - INFO - Status check for task 0b4d8e61-3f2a-4c9b-a7e5-16d0c2f9b8a3: {'taskId': '0b4d8e61-3f2a-4c9b-a7e5-16d0c2f9b8a3', 'pid': 40512, 'exitCode': '1', 'lastLine': 'Clone: 0% done.', 'stdErr': '', 'operation': 'status'}";
        public const string WrapperExit0 = "2026-11-25 10:07:00,000 - INFO - Status check for task 5d0e2f5a-7c1b-4e8e-9d55-3b1a6c1f0e21: {'taskId': '5d0e2f5a-7c1b-4e8e-9d55-3b1a6c1f0e21', 'pid': 40213, 'exitCode': '0', 'lastLine': 'Clone: 100% done.', 'stdErr': '', 'operation': 'status'}";
        // The 0.3.x wrapper's answer when it cannot create the task directory (xml_output message), and Python's errno text.
        public const string WrapperFreeSpaceLow = "Error running subprocess: free space is low: check /var/log/vmkernel.log for more details";
        public const string WrapperEnospc = "OSError: [Errno 28] No space left on device: '/tmp/vmkfstools-wrapper-5d0e2f5a-7c1b-4e8e-9d55-3b1a6c1f0e21'";

        public const string KlogXcopy = "I1125 10:00:00.203077       1 vsphere-xcopy-volume-populator.go:212]  xcopy used reported: 0";
        public const string KlogXcopyUsed = "I1125 10:00:00.203077       1 vsphere-xcopy-volume-populator.go:212]  xcopy used reported: 1";
        public const string KlogIoError = "F1125 10:03:12.456789       1 vsphere-xcopy-volume-populator.go:222] clone task failed with exit code 255, stderr: Failed to clone disk: Input/output error (327689).";
        public const string KlogCtk = "I1125 10:04:00.000001       1 vsphere-xcopy-volume-populator.go:220] channel quit clone task failed with exit code 255, stderr: Failed to clone disk: Invalid change tracker error code (7228).";

        public const string StructuredXcopy = "I1125 10:00:05.123000       1 vsphere-copy-offload-populator.go:245] \"xcopy\" logger=\"copy-offload.xcopy.clone\" pvc=\"web02-disk-0-pvc\" source_vmdk=\"[ontap-vmfs01] web02/web02.vmdk\" xcopyUsed=0";
        public const string StructuredXcopyUsed = "I1125 10:00:05.123000       1 vsphere-copy-offload-populator.go:245] \"xcopy\" logger=\"copy-offload.xcopy.clone\" pvc=\"web02-disk-0-pvc\" source_vmdk=\"[ontap-vmfs01] web02/web02.vmdk\" xcopyUsed=1";
        public const string StructuredIoError = "E1125 10:03:12.456000       1 vsphere-copy-offload-populator.go:251] \"copy-offload failed\" err=\"clone task failed with exit code 255, stderr: Failed to clone disk: Input/output error (327689).\" logger=\"copy-offload\" pvc=\"web02-disk-0-pvc\" source_vmdk=\"[ontap-vmfs01] web02/web02.vmdk\"";
        // A vSAN source: v2.12.5 stops at the adapter lookup (remote_esxcli.go:171, vmware/client.go:166,
        // logged by vsphere-copy-offload-populator.go:271); v2.12.3 drops that error and logs the empty
        // list (remote_esxcli.go:159, klog's JSON of a nil slice), as 2.11.1-2.12.3 all do.
        public const string StructuredNotVmfs = "E1202 06:12:09.731004       1 vsphere-copy-offload-populator.go:271] \"copy-offload failed\" err=\"failed to get active adapters for datastore vsanDatastore: could not determine underlying device for datastore vsanDatastore (likely not VMFS)\" logger=\"copy-offload\" pvc=\"web03-disk-0-pvc\" source_vmdk=\"[vsanDatastore] web03/web03.vmdk\"";
        public const string StructuredNotVmfsFatal = "F1202 06:12:19.732511       1 vsphere-copy-offload-populator.go:284] failed to get active adapters for datastore vsanDatastore: could not determine underlying device for datastore vsanDatastore (likely not VMFS)";
        public const string StructuredNoAdapters = "I1202 06:12:09.702118       1 remote_esxcli.go:159] \"Datastore active adapters\" logger=\"copy-offload.xcopy.setup\" datastore=\"vsanDatastore\" activeAdapters=null";
        public const string StructuredAdapters = "I1202 06:12:09.702118       1 remote_esxcli.go:159] \"Datastore active adapters\" logger=\"copy-offload.xcopy.setup\" datastore=\"ontap-vmfs01\" activeAdapters=[{\"Name\":\"vmhba64\",\"Id\":\"iqn.1998-01.com.vmware:esx01-4f2a\",\"Driver\":\"iscsi_vmk\"}]";

        // ESXi's syslog (vmsyslogd) with the 0.3.x wrapper's `logger -t vmkfstools-wrapper -p INFO`
        // lines (user.info, PRI 14): ESXi 8 "In(14)" with milliseconds and "+" on the further lines
        // of a multi-line message, ESXi 7 whole seconds without severity (docs/field-sources.md
        // section 3: VMware "ESXi 8.0 Log File Formats", Broadcom KB 421596).
        public const string Esxi8SyslogXcopy = "2026-11-25T10:00:03.118Z In(14) vmkfstools-wrapper[30012]: XCOPY used: false";
        public const string Esxi8SyslogContinuation = "2026-11-25T10:00:03.118Z In(14)+ vmkfstools-wrapper[30012]: -rw-r--r--    1 root     root            64 Nov 25 10:00 err";
        public const string Esxi7SyslogXcopy = "2026-11-25T10:00:03Z vmkfstools-wrapper[30012]: XCOPY used: false";

        // oc logs --timestamps puts the kubelet's RFC 3339 time in front of each line.
        public const string OcTimestamped = "2026-11-25T10:04:00.123456789Z I1125 10:04:00.123456       1 vsphere-xcopy-volume-populator.go:220] channel quit clone task failed with exit code 255, stderr: Failed to clone disk: Invalid change tracker error code (7228).";
    }
}
