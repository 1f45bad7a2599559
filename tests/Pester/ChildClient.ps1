# A client that can be killed like a laptop's or a scheduled job's (dot-source it): a child
# `dotnet pwsh` running $Script from the repository root (where the tool manifest is), its output
# and errors redirected. A test kills it with Kill($true) (SIGKILL: it cleans nothing up). The
# script reads what it needs from the lab itself: no secret is ever on a command line.
function Start-ChildPwsh([Parameter(Mandatory)][string] $Script) {
    $psi = [Diagnostics.ProcessStartInfo]::new('dotnet')
    foreach ($a in 'pwsh', '-NoProfile', '-NonInteractive', '-Command', $Script) { $psi.ArgumentList.Add($a) }
    $psi.WorkingDirectory = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path
    $psi.RedirectStandardOutput = $true
    $psi.RedirectStandardError = $true
    [Diagnostics.Process]::Start($psi)
}
