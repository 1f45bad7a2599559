namespace MtvRemediation.Tests.Remediation
{
    /// <summary>
    /// Log lines in the shapes FIELD-FACTS describes: the 2.9/2.10 Python wrapper
    /// (<c>YYYY-MM-DD HH:MM:SS,mmm - LEVEL - message</c>), klog from the older populator, and the
    /// newer populator's structured (JSON / logfmt) logs.
    /// </summary>
    internal static class CloneFailureLogSamples
    {
        public const string WrapperStart = "2026-11-25 09:59:58,004 - INFO - clone task 5d0e2f5a-7c1b-4e8e-9d55-3b1a6c1f0e21 started: source=/vmfs/volumes/vsanDatastore/db01/db01.vmdk target=naa.600a098038304437415d4b6a59684a52";
        public const string WrapperVsish = "2026-11-25 10:00:03,117 - DEBUG - vsish -e get /storage/scsifw/devices/naa.600a098038304437415d4b6a59684a52/stats: {   successful cmds:4461   blocks read:0   blocks written:38912   read ops:0   write ops:1216 }";
        public const string WrapperXcopyFalse = "2026-11-25 10:00:03,118 - INFO - XCOPY used: False, clone write ops: 1216";
        public const string WrapperXcopyTrue = "2026-11-25 10:00:03,118 - INFO - XCOPY used: True, clone write ops: 1216";
        public const string WrapperIoError = "2026-11-25 10:03:12,456 - ERROR - clone task failed with exit code 255, stderr: Failed to clone disk: Input/output error (327689).";
        public const string WrapperCtk = "2026-11-25 10:04:00,001 - ERROR - Failed to clone disk: Invalid change tracker error code (7228).";
        public const string WrapperExit1 = "2026-11-25 10:06:30,250 - ERROR - clone task failed with exit code 1, stderr: Failed to clone disk: The file specified is not a virtual disk (15).";
        public const string WrapperEnospc = "2026-11-25 10:05:00,000 - ERROR - could not write /tmp/vmkfstools-wrapper-5d0e2f5a/out: [Errno 28] No space left on device";
        public const string WrapperFreeSpaceLow = "2026-11-25 10:05:01,000 - WARNING - /var free space is low: 0 KB available";
        public const string WrapperExit0 = "2026-11-25 10:07:00,000 - INFO - clone task 5d0e2f5a-7c1b-4e8e-9d55-3b1a6c1f0e21 finished with exit code 0";

        public const string KlogXcopy = "I1125 10:00:00.000000       1 vmkfstools.go:123] xcopy used reported: 0";
        public const string KlogXcopyUsed = "I1125 10:00:00.000000       1 vmkfstools.go:123] xcopy used reported: 1";
        public const string KlogIoError = "E1125 10:03:12.456789       1 populator.go:88] clone task failed with exit code 255, stderr: Failed to clone disk: Input/output error (327689).";
        public const string KlogCtk = "E1125 10:04:00.000001       1 populator.go:88] Failed to clone disk: Invalid change tracker error code (7228).";

        public const string JsonXcopy = "{\"level\":\"info\",\"ts\":\"2026-11-25T10:00:05.123Z\",\"logger\":\"vsphere-xcopy-volume-populator\",\"msg\":\"clone progress\",\"xcopyUsed\": false,\"progress\":12}";
        public const string JsonXcopyEpoch = "{\"level\":\"info\",\"ts\":1764064805.5,\"msg\":\"task status\",\"xcopyUsed\":false}";
        public const string JsonXcopyTrue = "{\"level\":\"info\",\"ts\":\"2026-11-25T10:00:05.123Z\",\"msg\":\"clone progress\",\"xcopyUsed\":true}";
        public const string JsonExit = "{\"level\":\"error\",\"ts\":\"2026-11-25T10:03:12.456Z\",\"msg\":\"clone failed\",\"exitCode\":255,\"stderr\":\"Failed to clone disk: Input/output error (327689).\"}";
        public const string LogfmtXcopy = "time=\"2026-11-25T10:00:05Z\" level=info msg=\"clone progress\" xcopyUsed=false";
        public const string OcTimestamped = "2026-11-25T10:04:00.123456789Z E1125 10:04:00.123456       1 populator.go:88] Failed to clone disk: Invalid change tracker error code (7228).";
    }
}
