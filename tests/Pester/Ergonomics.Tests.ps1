# Admin ergonomics (issue 15, points 2-7) against the lab: SSH on demand through vCenter's
# HostServiceSystem, output that exports (CSV, JSON), the report's files, completers, PowerCLI
# habits (Connect-MtvVIServer -User/-Password, jobs), and the small console fixes.

BeforeDiscovery {
    Import-Module (Join-Path $PSScriptRoot '../lab/Lab.psm1') -Force
    $script:NoLab = try { $null -eq (Get-MtvLab) } catch { $true }
}

BeforeAll {
    $ErrorActionPreference = 'Stop'
    $script:ManifestPath = if ($env:MTV_MODULE_PATH) { $env:MTV_MODULE_PATH } else { Join-Path $PSScriptRoot '../../out/MtvRemediation/0.1.0/MtvRemediation.psd1' }
    Import-Module $ManifestPath -Force
    Import-Module (Join-Path $PSScriptRoot '../lab/Lab.psm1') -Force
    $script:Lab = Get-MtvLab
    $script:VcUri = [uri]$Lab.vcsim.url
    $script:VcCred = [pscredential]::new($Lab.vcsim.user, (ConvertTo-SecureString ([string]$Lab.vcsim.password) -AsPlainText -Force))
    $script:SshCred = [pscredential]::new($Lab.ssh.user, (ConvertTo-SecureString $Lab.ssh.password -AsPlainText -Force))
    $script:KnownHosts = $Lab.ssh.knownHostsFile
    $script:TempDir = Join-Path ([IO.Path]::GetTempPath()) ("mtv-ergo-" + [guid]::NewGuid().ToString('N'))
    New-Item -ItemType Directory $TempDir | Out-Null
    # Lab hosts as pipeline input (Name, Address, Port bind by property name).
    function Get-Endpoint([string[]] $Name) { @($Lab.hosts | Where-Object name -In $Name | ForEach-Object { [pscustomobject]@{ Name = $_.name; Address = $_.address; Port = [int]$_.port } }) }
    function Connect-LabVCenter { Connect-MtvVIServer -Server $VcUri.Host -Port $VcUri.Port -Credential $VcCred -SkipCertificateCheck -WarningAction SilentlyContinue }
}

AfterAll {
    Get-EsxiShell | Disconnect-EsxiShell -Confirm:$false
    Get-MtvVIServer | Disconnect-MtvVIServer -Confirm:$false
    foreach ($h in @($Lab.hosts)) { Start-LabSshd $h.name }
    Remove-Item $TempDir -Recurse -Force -ErrorAction SilentlyContinue
}

Describe 'SSH on demand through vCenter (Connect-EsxiShell -StartSshService)' -Tag Lab -Skip:$NoLab {
    BeforeAll {
        $script:Off = $Lab.hosts[0].name
        $script:On = $Lab.hosts[1].name
    }
    BeforeEach {
        Get-EsxiShell | Disconnect-EsxiShell -Confirm:$false
        Get-MtvVIServer | Disconnect-MtvVIServer -Confirm:$false
        Start-LabSshd $On
        # SSH switched off behind vCenter's back (as at the DCUI): RefreshServices must see it.
        Stop-LabSshd $Off
    }
    AfterEach { Start-LabSshd $Off }

    It 'a host whose TSM-SSH is stopped refuses connections (the lab gate)' {
        Get-LabSshService $Off | Should -Be 'stopped'
        Get-Endpoint $Off | Connect-EsxiShell -Credential $SshCred -KnownHostsPath $KnownHosts -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -BeLike 'EsxiShellConnectFailed*'
    }

    It 'starts SSH where it is stopped, leaves it where it runs, and stops only its own on Disconnect' {
        Connect-LabVCenter | Out-Null
        $s = @(Get-Endpoint $Off, $On | Connect-EsxiShell -Credential $SshCred -KnownHostsPath $KnownHosts -StartSshService)
        $s.Count | Should -Be 2
        ($s | Where-Object VMHost -EQ $Off).SshServiceStarted | Should -BeTrue
        ($s | Where-Object VMHost -EQ $On).SshServiceStarted | Should -BeFalse
        Get-LabSshService $Off | Should -Be 'running'
        Get-EsxiShell | Disconnect-EsxiShell -Confirm:$false
        Get-LabSshService $Off | Should -Be 'stopped' -Because 'the session that started it is closed'
        Get-LabSshService $On | Should -Be 'running' -Because 'SSH was already running there'
    }

    It '-WhatIf starts nothing and opens no session' {
        Connect-LabVCenter | Out-Null
        $before = Get-LabSshdLoginCount $On
        Get-Endpoint $Off, $On | Connect-EsxiShell -Credential $SshCred -KnownHostsPath $KnownHosts -StartSshService -WhatIf | Should -BeNullOrEmpty
        Get-LabSshService $Off | Should -Be 'stopped'
        @(Get-EsxiShell).Count | Should -Be 0
        Get-LabSshdLoginCount $On | Should -Be $before
    }

    It 'without a vCenter connection it says so and connects nothing' {
        { Get-Endpoint $Off | Connect-EsxiShell -Credential $SshCred -KnownHostsPath $KnownHosts -StartSshService } |
            Should -Throw -ErrorId 'SshServiceNoVCenter*'
        Get-LabSshService $Off | Should -Be 'stopped'
        @(Get-EsxiShell).Count | Should -Be 0
    }

    It 'a host vCenter does not know gets its own error and is still connected as asked' {
        Connect-LabVCenter | Out-Null
        $s = @(@(Get-Endpoint $On) + [pscustomobject]@{ Name = 'no-such-esx'; Address = '127.0.0.1'; Port = [int]$Lab.hosts[1].port } | Connect-EsxiShell -Credential $SshCred -KnownHostsPath $KnownHosts -StartSshService -ErrorVariable err -ErrorAction SilentlyContinue)
        # 'no-such-esx' is another name for the same lab sshd: its SSH runs, only vCenter does not know it.
        @($s.VMHost | Sort-Object) | Should -Be @(@($On, 'no-such-esx') | Sort-Object)
        $s.SshServiceStarted | Should -Not -Contain $true
        @($err | Where-Object { $_.FullyQualifiedErrorId -like 'SshServiceHostNotFound*' }).Count | Should -Be 1
    }
}
