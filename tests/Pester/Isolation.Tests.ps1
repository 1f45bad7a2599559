# Dependency isolation (issue 7): on PowerShell 7 our SSH.NET and its dependencies live in the
# "MtvRemediation" AssemblyLoadContext, so another module's SSH.NET (Posh-SSH) or BouncyCastle
# (PowerCLI) loaded before or after us does not break either. The other module is played by
# tests/fixtures/ConflictingSshNet: an assembly also named Renci.SshNet (2020.0.2.0, another API).
# Each order runs in a fresh pwsh process: load contexts cannot be unloaded from this one.

BeforeDiscovery {
    $script:LabUp = Test-Path (Join-Path $PSScriptRoot '../../out/lab/lab.json')
    if ($env:MTVLAB_STATE) { $script:LabUp = Test-Path $env:MTVLAB_STATE }
    $script:IsCore = $PSVersionTable.PSEdition -eq 'Core'
}

Describe 'SSH.NET isolation from another module''s SSH.NET' -Tag Lab, Isolation -Skip:(-not ($LabUp -and $IsCore)) {
    BeforeAll {
        $manifestPath = if ($env:MTV_MODULE_PATH) { $env:MTV_MODULE_PATH } else { Join-Path $PSScriptRoot '../../out/MtvRemediation/0.1.0/MtvRemediation.psd1' }
        $script:ManifestPath = (Resolve-Path $manifestPath).Path
        $script:FixtureOut = Join-Path ([IO.Path]::GetTempPath()) ("mtv-conflicting-sshnet-" + [guid]::NewGuid().ToString('N').Substring(0, 8))
        & dotnet build (Join-Path $PSScriptRoot '../fixtures/ConflictingSshNet/ConflictingSshNet.csproj') -o $FixtureOut --nologo -v quiet | Out-Null
        if ($LASTEXITCODE -ne 0) { throw "building the ConflictingSshNet fixture failed (exit $LASTEXITCODE)" }
        $script:ConflictingDll = Join-Path $FixtureOut 'Renci.SshNet.dll'

        Import-Module (Join-Path $PSScriptRoot '../lab/Lab.psm1') -Force
        $lab = Get-MtvLab
        $h = @($lab.hosts)[0]
        $script:Target = @{ Name = $h.name; Address = $h.address; Port = [int]$h.port; User = $h.user; Password = $h.password; KnownHosts = $lab.ssh.knownHostsFile }

        # Under 'dotnet pwsh' this process is dotnet: start children the same way (as build.ps1 does).
        $script:PwshExe = (Get-Process -Id $PID).Path
        $script:PwshArgs = @()
        if ([IO.Path]::GetFileNameWithoutExtension($PwshExe) -eq 'dotnet') { $script:PwshArgs = @((Join-Path $PSHOME 'pwsh.dll')) }

        # The child: loads the conflicting assembly before or after importing the module, connects to a
        # lab host, runs a command through a host cmdlet, and reports where each Renci.SshNet lives.
        $script:ChildScript = Join-Path $FixtureOut 'child.ps1'
        Set-Content -LiteralPath $ChildScript -Value @'
param($Order, $ManifestPath, $ConflictingDll, $TargetJson)
$ErrorActionPreference = 'Stop'
$t = $TargetJson | ConvertFrom-Json
$cred = [pscredential]::new($t.User, (ConvertTo-SecureString $t.Password -AsPlainText -Force))
$report = [ordered]@{}
if ($Order -eq 'ConflictingFirst') { $other = [Reflection.Assembly]::LoadFrom($ConflictingDll) }
Import-Module $ManifestPath
if ($Order -eq 'ConflictingFirst') {
    # The other module keeps working before we touch SSH ...
    $report.OtherBefore = ([Renci.SshNet.SshClient]::new()).Version
}
$s = Connect-EsxiShell -VMHost $t.Name -Address $t.Address -Port $t.Port -Credential $cred -KnownHostsPath $t.KnownHosts
$report.Connected = $s.IsConnected
$report.LogPath = (Test-VmkfstoolsLogSpace -VMHost $t.Name).LogPath
if ($Order -eq 'ConflictingAfter') { $other = [Reflection.Assembly]::LoadFrom($ConflictingDll) }
# ... and after: its own type, from its own assembly.
$report.OtherAfter = ([Renci.SshNet.SshClient]::new()).Version
$report.OtherVersion = $other.GetName().Version.ToString()
$report.OtherContext = [System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext($other).Name
# Ours still works after the other one is loaded: a second command, and a fresh connection.
Disconnect-EsxiShell -VMHost $t.Name
$report.Reconnected = (Connect-EsxiShell -VMHost $t.Name -Address $t.Address -Port $t.Port -Credential $cred -KnownHostsPath $t.KnownHosts).IsConnected
$report.SecondCommand = (Test-VmkfstoolsLogSpace -VMHost $t.Name).VMHost
$ours = [System.AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -eq 'Renci.SshNet' -and $_ -ne $other }
$report.OurVersions = @($ours | ForEach-Object { $_.GetName().Version.ToString() })
$report.OurContexts = @($ours | ForEach-Object { [System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext($_).Name })
$report.DescribedContext = [MtvRemediation.Infrastructure.ModuleLifetime]::DescribeLoadContext(($ours | Select-Object -First 1).GetType('Renci.SshNet.SshClient'))
$bc = [System.AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -eq 'BouncyCastle.Cryptography' }
$report.BouncyCastleContexts = @($bc | ForEach-Object { [System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext($_).Name })
Get-EsxiShell | Disconnect-EsxiShell
$report | ConvertTo-Json -Compress
'@

        function Invoke-Child([string] $Order) {
            $json = $Target | ConvertTo-Json -Compress
            $out = & $PwshExe @PwshArgs -NoProfile -NonInteractive -File $ChildScript $Order $ManifestPath $ConflictingDll $json 2>&1
            if ($LASTEXITCODE -ne 0) { throw "child pwsh ($Order) failed with exit code ${LASTEXITCODE}:`n$($out | Out-String)" }
            ($out | Select-Object -Last 1) | ConvertFrom-Json
        }
    }

    AfterAll {
        if ($script:FixtureOut -and (Test-Path $FixtureOut)) { Remove-Item $FixtureOut -Recurse -Force }
    }

    It '<_>: both SSH.NETs work, ours and its BouncyCastle in the MtvRemediation context' -ForEach 'ConflictingFirst', 'ConflictingAfter' {
        $r = Invoke-Child $_
        if ($_ -eq 'ConflictingFirst') { $r.OtherBefore | Should -Be 'conflicting-2020' }
        $r.Connected | Should -BeTrue
        $r.LogPath | Should -Be '/var/log/vmkfstools-wrapper.log'
        $r.OtherAfter | Should -Be 'conflicting-2020'
        $r.OtherVersion | Should -Be '2020.0.2.0'
        $r.OtherContext | Should -Be 'Default'
        $r.Reconnected | Should -BeTrue
        $r.SecondCommand | Should -Be $Target.Name
        @($r.OurVersions).Count | Should -Be 1
        $r.OurVersions[0] | Should -BeLike '2026.*'
        @($r.OurContexts) | Should -Be @('MtvRemediation')
        $r.DescribedContext | Should -Match '"MtvRemediation"'
        @($r.BouncyCastleContexts) | Should -Be @('MtvRemediation')
    }
}
