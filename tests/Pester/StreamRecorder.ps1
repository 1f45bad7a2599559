# Shared by the streaming tests (dot-source it): runs a prepared [powershell] (script and arguments
# added) in its own runspace and records, as they arrive, each output object and each progress
# record (and, with -WithVerbose, each verbose line), with the seconds from the start. The tests read
# from it the order and timing of the results and what the progress bar said meanwhile.

<#
    Returns one event per output object and per progress record, in arrival order: T (seconds),
    Kind ('Output' or the progress record type), Object (the output object), the output object's
    $NameProperty under the name $NameAs (so a test reads $e.Host or $e.VM), Activity, Status and
    Current (the progress record's); with -WithVerbose also Kind 'Verbose' with the line in Status.
    The run must write no error; the runspace is disposed.
#>
function Watch-PowerShellStreams([powershell] $PowerShell, [string] $NameProperty, [string] $NameAs = $NameProperty, [switch] $WithVerbose) {
    $in = [System.Management.Automation.PSDataCollection[psobject]]::new()
    $in.Complete()
    $out = [System.Management.Automation.PSDataCollection[psobject]]::new()
    $events = [System.Collections.Generic.List[object]]::new()
    function Add-Event($Kind, $Object, $Record) {
        $e = [ordered]@{ T = $sw.Elapsed.TotalSeconds; Kind = $Kind; $NameAs = $(if ($Object) { $Object.$NameProperty }); Object = $Object
            Activity = $Record.Activity; Status = $Record.StatusDescription; Current = $Record.CurrentOperation }
        $events.Add([pscustomobject]$e)
    }
    $sw = [Diagnostics.Stopwatch]::StartNew()
    $async = $PowerShell.BeginInvoke($in, $out)
    $o = 0; $p = 0; $v = 0
    try {
        while ($true) {
            $finished = $async.IsCompleted
            while ($o -lt $out.Count) { Add-Event 'Output' $out[$o] $null; $o++ }
            while ($WithVerbose -and $v -lt $PowerShell.Streams.Verbose.Count) {
                Add-Event 'Verbose' $null ([pscustomobject]@{ StatusDescription = $PowerShell.Streams.Verbose[$v].Message })
                $v++
            }
            while ($p -lt $PowerShell.Streams.Progress.Count) {
                $r = $PowerShell.Streams.Progress[$p]
                Add-Event "$($r.RecordType)" $null $r
                $p++
            }
            if ($finished) { break }
            Start-Sleep -Milliseconds 20
        }
        $PowerShell.EndInvoke($async) | Out-Null
        @($PowerShell.Streams.Error | ForEach-Object { "$_" }) | Should -BeNullOrEmpty
    }
    finally { $PowerShell.Dispose() }
    $events
}
