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
    . (Join-Path $PSScriptRoot '../tools/InternalTypes.ps1')
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
        # Advice that points somewhere: the refusal names the switch that fixes it, and no parameter the command lacks.
        "$($err[0])" | Should -Match 'SSH \(service TSM-SSH\) is probably stopped.*-StartSshService starts it'
        "$($err[0])" | Should -Not -Match '-Address/-Port'
        "$($err[0])" | Should -Match 'Connect-EsxiShell -VMHost .* -Address <management IP or DNS name>'
    }

    It 'starts SSH where it is stopped, leaves it where it runs, and stops only its own on Disconnect' {
        Connect-LabVCenter | Out-Null
        # Read as each row arrives (what a console shows), not after the command has ended.
        $asWritten = @{}
        $s = @(Get-Endpoint $Off, $On | Connect-EsxiShell -Credential $SshCred -KnownHostsPath $KnownHosts -StartSshService |
            ForEach-Object { $asWritten[$_.VMHost] = $_.SshServiceStarted; $_ })
        $s.Count | Should -Be 2
        $asWritten[$Off] | Should -BeTrue
        $asWritten[$On] | Should -BeFalse
        ($s | Where-Object VMHost -EQ $Off).SshServiceStarted | Should -BeTrue
        ($s | Where-Object VMHost -EQ $On).SshServiceStarted | Should -BeFalse
        Get-LabSshService $Off | Should -Be 'running'
        Get-EsxiShell | Disconnect-EsxiShell -Confirm:$false
        Get-LabSshService $Off | Should -Be 'stopped' -Because 'the session that started it is closed'
        Get-LabSshService $On | Should -Be 'running' -Because 'SSH was already running there'
    }

    It 'stops the SSH it started on Disconnect-EsxiShell -All after a reconnect to vCenter (the old connection is closed)' {
        Connect-LabVCenter | Out-Null
        $s = @(Get-Endpoint $Off | Connect-EsxiShell -Credential $SshCred -KnownHostsPath $KnownHosts -StartSshService)
        $s[0].SshServiceStarted | Should -BeTrue
        Connect-LabVCenter | Out-Null   # a reconnect replaces (and closes) the connection that started SSH
        Disconnect-EsxiShell -All -Confirm:$false -ErrorVariable err -ErrorAction SilentlyContinue
        $err | Should -BeNullOrEmpty
        Get-LabSshService $Off | Should -Be 'stopped' -Because 'the live connection to the same vCenter stops it'
        Get-MtvVIServer | Disconnect-MtvVIServer -Confirm:$false
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
        $s = @(@(Get-Endpoint $On) + [pscustomobject]@{ Name = 'no-such-esx'; Address = $Lab.hosts[1].address; Port = [int]$Lab.hosts[1].port } | Connect-EsxiShell -Credential $SshCred -KnownHostsPath $KnownHosts -StartSshService -ErrorVariable err -ErrorAction SilentlyContinue)
        # 'no-such-esx' is another name for the same lab sshd: its SSH runs, only vCenter does not know it.
        @($s.VMHost | Sort-Object) | Should -Be @(@($On, 'no-such-esx') | Sort-Object)
        $s.SshServiceStarted | Should -Not -Contain $true
        @($err | Where-Object { $_.FullyQualifiedErrorId -like 'SshServiceHostNotFound*' }).Count | Should -Be 1
    }
}

# Issue 15.6: the host cmdlets' shared -StartSshService (HostConnectionParameters): SSH is started
# for the command's own session and stopped again when the command ends. A session needs SSH when
# the runspace has none for the host (it is opened by host name: lab names resolve through
# /etc/hosts) or when its connection dropped while SSH was off: it reconnects to its endpoint.
Describe 'SSH on demand for one command (-StartSshService of the host cmdlets)' -Tag Lab -Skip:$NoLab {
    BeforeAll {
        $script:Off = $Lab.hosts[0].name
        $script:On = $Lab.hosts[1].name
        function Drop-OffSession {
            # A session opened while SSH ran, then SSH stopped (as at the DCUI) and the connection dropped.
            Get-Endpoint $Off | Connect-EsxiShell -Credential $SshCred -KnownHostsPath $KnownHosts | Out-Null
            Stop-LabSshd $Off
            Disconnect-LabSshSession $Off
            $deadline = [DateTime]::UtcNow.AddSeconds(10)
            while ((Get-EsxiShell -VMHost $Off).IsConnected -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 100 }
            (Get-EsxiShell -VMHost $Off).IsConnected | Should -BeFalse
            Get-LabSshService $Off | Should -Be 'stopped'
        }
    }
    BeforeEach {
        Get-EsxiShell | Disconnect-EsxiShell -Confirm:$false
        Get-MtvVIServer | Disconnect-MtvVIServer -Confirm:$false
        Start-LabSshd $Off
        Start-LabSshd $On
    }
    AfterEach { Start-LabSshd $Off; Get-EsxiShell | Disconnect-EsxiShell -Confirm:$false }

    It 'is one shared parameter of every host cmdlet, Find-MtvCloneFailure and Invoke-MtvRemediation' {
        foreach ($name in 'Test-VmkfstoolsLogSpace', 'Clear-VmkfstoolsWrapperLog', 'Register-LogRotationCron', 'Get-LogRotationCron',
            'Unregister-LogRotationCron', 'Restart-EsxiAgents', 'Get-VmkfstoolsWrapper', 'Remove-VmkfstoolsWrapperTaskDirectory',
            'Connect-EsxiShell', 'Find-MtvCloneFailure', 'Invoke-MtvRemediation') {
            $p = (Get-Command $name).Parameters['StartSshService']
            $p | Should -Not -BeNullOrEmpty -Because "$name composes the shared host parameters"
            $p.SwitchParameter | Should -BeTrue
        }
        (Get-Help Test-VmkfstoolsLogSpace -Parameter StartSshService).Description.Text | Should -Match 'stopped again'
    }

    It 'starts SSH for the command''s session, stops it again when the command ends, and leaves a running SSH alone' {
        Connect-LabVCenter | Out-Null
        Get-Endpoint $On | Connect-EsxiShell -Credential $SshCred -KnownHostsPath $KnownHosts | Out-Null
        Drop-OffSession
        $r = @(Test-VmkfstoolsLogSpace -VMHost $Off, $On -StartSshService -Verbose -ErrorAction Stop 4>&1)
        $results = @($r | Where-Object { $_ -isnot [System.Management.Automation.VerboseRecord] })
        $verbose = @($r | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | ForEach-Object Message)
        @($results.VMHost | Sort-Object) | Should -Be @(@($Off, $On) | Sort-Object) -Because 'the dropped session reconnected over the SSH the command started'
        ($verbose -match "^${Off}: started SSH").Count | Should -Be 1
        ($verbose -match "^${Off}: stopped SSH \(TSM-SSH\) again").Count | Should -Be 1
        ($verbose -match "^${On}: (started|stopped) SSH").Count | Should -Be 0 -Because "$On had a live session: it needed nothing"
        Get-LabSshService $Off | Should -Be 'stopped' -Because 'the command that started it has ended'
        Get-EsxiShell -VMHost $Off -ErrorAction SilentlyContinue | Should -BeNullOrEmpty -Because 'the session over the started SSH is closed with it'
        Get-LabSshService $On | Should -Be 'running'
        (Get-EsxiShell -VMHost $On).IsConnected | Should -BeTrue
    }

    It 'a host where SSH already runs is left running (its dropped session simply reconnects)' {
        Connect-LabVCenter | Out-Null
        Drop-OffSession
        Start-LabSshd $Off   # running again behind our back: RefreshServices sees it
        $r = @(Test-VmkfstoolsLogSpace -VMHost $Off -StartSshService -Verbose -ErrorAction Stop 4>&1)
        @($r | Where-Object { $_ -isnot [System.Management.Automation.VerboseRecord] }).Count | Should -Be 1
        (@($r | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | ForEach-Object Message) -match 'already running').Count | Should -Be 1
        Get-LabSshService $Off | Should -Be 'running'
        (Get-EsxiShell -VMHost $Off).IsConnected | Should -BeTrue -Because 'SSH was not ours to stop, so neither is the session'
    }

    It 'a session that reports connected but does not answer needs SSH too: it is probed, not trusted' {
        Connect-LabVCenter | Out-Null
        Get-Endpoint $Off | Connect-EsxiShell -Credential $SshCred -KnownHostsPath $KnownHosts | Out-Null
        Stop-LabSshd $Off
        try {
            Suspend-LabSshSession $Off | Should -BeGreaterOrEqual 1
            (Get-EsxiShell -VMHost $Off).IsConnected | Should -BeTrue -Because 'a silent peer keeps its socket open'
            $r = @(Test-VmkfstoolsLogSpace -VMHost $Off -StartSshService -Verbose -ErrorAction Stop 4>&1)
        }
        finally { Disconnect-LabSshSession $Off | Out-Null }
        $verbose = @($r | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | ForEach-Object Message)
        @($r | Where-Object { $_ -isnot [System.Management.Automation.VerboseRecord] }).Count | Should -Be 1
        ($verbose -match "^${Off}: session \d+ reported connected but did not answer").Count | Should -Be 1
        ($verbose -match "^${Off}: started SSH").Count | Should -Be 1
        ($verbose -match "^${Off}: stopped SSH \(TSM-SSH\) again").Count | Should -Be 1
        Get-LabSshService $Off | Should -Be 'stopped'
    }

    It 'Test-VmkfstoolsLogSpace -WhatIf says SSH would be started, starts nothing, and still reads the host that needs no start' {
        Connect-LabVCenter | Out-Null
        Get-Endpoint $On | Connect-EsxiShell -Credential $SshCred -KnownHostsPath $KnownHosts | Out-Null
        Stop-LabSshd $Off   # no session for $Off in the runspace: reading it needs SSH started
        $log = Join-Path $TempDir "whatif-ssh-$PID.txt"
        Start-Transcript -Path $log -Force | Out-Null
        try { $r = @(Test-VmkfstoolsLogSpace -VMHost $Off, $On -Credential $SshCred -StartSshService -WhatIf) } finally { Stop-Transcript | Out-Null }
        $text = (Get-Content $log -Raw) -replace '\s+', ' '
        $text | Should -Match ('What if: Performing the operation "Start the SSH service \(TSM-SSH\)[^"]*" on target "' + [regex]::Escape($Off) + '"')
        $text | Should -Not -Match ('on target "' + [regex]::Escape($On) + '"') -Because "$On has a session: reading it changes nothing"
        @($r.VMHost) | Should -Be @($On) -Because 'the read-only check still reads where it needs no change'
        Get-LabSshService $Off | Should -Be 'stopped'
        Get-EsxiShell -VMHost $Off -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }

    It 'every command that offers -StartSshService confirms it (-WhatIf, -Confirm)' {
        foreach ($c in Get-Command -Module MtvRemediation -CommandType Cmdlet | Where-Object { $_.Parameters.ContainsKey('StartSshService') }) {
            $c.Parameters.ContainsKey('WhatIf') | Should -BeTrue -Because "$($c.Name) starts a host service with -StartSshService"
            $c.Parameters.ContainsKey('Confirm') | Should -BeTrue -Because "$($c.Name) starts a host service with -StartSshService"
        }
    }

    It '-WhatIf starts nothing; without vCenter it is SshServiceNoVCenter and nothing changes' {
        Connect-LabVCenter | Out-Null
        Stop-LabSshd $Off   # no session for $Off in the runspace: it needs SSH
        Clear-VmkfstoolsWrapperLog -VMHost $Off -StartSshService -WhatIf | Should -BeNullOrEmpty
        Get-LabSshService $Off | Should -Be 'stopped'
        Get-MtvVIServer | Disconnect-MtvVIServer -Confirm:$false
        { Test-VmkfstoolsLogSpace -VMHost $Off -StartSshService } | Should -Throw -ErrorId 'SshServiceNoVCenter*'
        Get-LabSshService $Off | Should -Be 'stopped'
    }
}

# Issue 22.4: a client that dies after SSH was started on demand. The start is recorded on vCenter
# (a custom attribute of the host) before StartService; the next -StartSshService finds the record of
# the ended run and stops SSH when its own work is done.
Describe 'SSH on demand when the client dies (the durable record)' -Tag Lab -Skip:$NoLab {
    BeforeAll {
        $script:Off = $Lab.hosts[0].name
        $script:Controller = Get-MtvInternalType 'MtvRemediation.VSphere.SshServiceController'
        function Get-SshPending {
            $connections = [Collections.Generic.List[MtvRemediation.VIConnection]]::new()
            foreach ($c in @(Get-MtvVIServer)) { $connections.Add($c) }
            @($Controller::ReadPending($connections, [Threading.CancellationToken]::None) | Where-Object Target -EQ $Off)
        }

        function Invoke-KilledSshChild {
            # The child connects by host name (the name resolves to the host's address, port 22), with
            # SSH started on demand, and is killed while it holds the session.
            $child = Join-Path $TempDir "ssh-child-$PID.ps1"
            Set-Content $child @'
$ErrorActionPreference = 'Stop'
Import-Module $env:MTV_CHILD_MODULE
$vc = [pscredential]::new($env:MTV_CHILD_VC_USER, (ConvertTo-SecureString $env:MTV_CHILD_VC_PASSWORD -AsPlainText -Force))
$ssh = [pscredential]::new($env:MTV_CHILD_SSH_USER, (ConvertTo-SecureString $env:MTV_CHILD_SSH_PASSWORD -AsPlainText -Force))
Connect-MtvVIServer -Server $env:MTV_CHILD_VC_HOST -Port $env:MTV_CHILD_VC_PORT -Credential $vc -SkipCertificateCheck -WarningAction SilentlyContinue | Out-Null
$s = Connect-EsxiShell -VMHost $env:MTV_CHILD_HOST -Credential $ssh -KnownHostsPath $env:MTV_CHILD_KNOWN_HOSTS -StartSshService
"READY $PID $($s.SshServiceStarted) $($s.Address):$($s.Port)"
Start-Sleep -Seconds 600
'@
            $out = Join-Path $TempDir "ssh-child-$PID.out"
            $env:MTV_CHILD_MODULE = $ManifestPath; $env:MTV_CHILD_HOST = $Off; $env:MTV_CHILD_KNOWN_HOSTS = $KnownHosts
            $env:MTV_CHILD_VC_HOST = $VcUri.Host; $env:MTV_CHILD_VC_PORT = "$($VcUri.Port)"
            $env:MTV_CHILD_VC_USER = $VcCred.UserName; $env:MTV_CHILD_VC_PASSWORD = $VcCred.GetNetworkCredential().Password
            $env:MTV_CHILD_SSH_USER = $SshCred.UserName; $env:MTV_CHILD_SSH_PASSWORD = $SshCred.GetNetworkCredential().Password
            try {
                $proc = Start-Process dotnet -ArgumentList 'pwsh', '-NoProfile', '-NonInteractive', '-File', $child -WorkingDirectory (Join-Path $PSScriptRoot '../..') `
                    -RedirectStandardOutput $out -RedirectStandardError "$out.err" -PassThru
            }
            finally { Remove-Item Env:MTV_CHILD_* }
            $deadline = [DateTime]::UtcNow.AddSeconds(90)
            while (-not (Select-String -Path $out -Pattern '^READY' -Quiet -ErrorAction SilentlyContinue) -and -not $proc.HasExited -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 200 }
            $ready = "$(Get-Content $out -ErrorAction SilentlyContinue)"
            $ready | Should -Match '^READY \d+ True ' -Because "the child started SSH and connected by name ($(Get-Content "$out.err" -Raw -ErrorAction SilentlyContinue))"
            $ready | Should -Match (' ' + [regex]::Escape($Off) + ':22$') -Because 'the session reached the host by its name, on port 22'
            (Get-LabHost $Off).nameResolves | Should -BeTrue
            $childPid = [int]($ready -split ' ')[1]   # the pwsh process (dotnet may run it as a child of its own)
            & kill -9 $childPid
            $proc.WaitForExit(10000) | Out-Null
            $childPid
        }
    }
    BeforeEach {
        Get-EsxiShell | Disconnect-EsxiShell -Confirm:$false
        Get-MtvVIServer | Disconnect-MtvVIServer -Confirm:$false
        Stop-LabSshd $Off   # TSM-SSH off, as ESXi ships it
        Connect-LabVCenter | Out-Null
    }
    AfterEach { Start-LabSshd $Off }

    It 'a client killed (kill -9) after SSH was started leaves SSH running with its record; the next -StartSshService stops it at its end and says so' {
        $childPid = Invoke-KilledSshChild

        Get-LabSshService $Off | Should -Be 'running' -Because 'nobody stopped it'
        $pending = Get-SshPending
        $pending.Count | Should -Be 1
        $pending[0] | Should -BeOfType ([MtvRemediation.PendingOperation])
        $pending[0].Kind | Should -Be 'SshServiceStarted'
        $pending[0].StartedBy | Should -Match "\(process $childPid\)"
        $pending[0].ResumeCommand | Should -Match "-VMHost '$Off' .*-StartSshService"

        $env:MTV_KNOWN_HOSTS = $KnownHosts
        try { $r = @(Test-VmkfstoolsLogSpace -VMHost $Off -Credential $SshCred -StartSshService -Verbose -WarningVariable warn -WarningAction SilentlyContinue -ErrorAction Stop 4>&1) }
        finally { Remove-Item Env:MTV_KNOWN_HOSTS }
        @($r | Where-Object { $_ -isnot [System.Management.Automation.VerboseRecord] }).Count | Should -Be 1
        $verbose = @($r | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | ForEach-Object Message)
        @($warn | Where-Object { "$_" -match "^${Off}: SSH \(TSM-SSH\) runs because a run of this module .*process $childPid.* ended without stopping it\. This command takes it over: it is stopped again when this command ends" }).Count | Should -Be 1
        ($verbose -match "^${Off}: stopped SSH \(TSM-SSH\), which an ended run of this module had left running").Count | Should -Be 1
        Get-LabSshService $Off | Should -Be 'stopped'
        Get-SshPending | Should -BeNullOrEmpty -Because 'the record is cleared after the stop'
    }

    It 'Get-MtvPendingOperation | Resume-MtvPendingOperation stops SSH that a killed run left, through vCenter, and clears its record' {
        $childPid = Invoke-KilledSshChild
        Get-LabSshService $Off | Should -Be 'running'
        $pending = @(Get-MtvPendingOperation | Where-Object { $_.Kind -eq 'SshServiceStarted' -and $_.Target -eq $Off })
        $pending.Count | Should -Be 1
        $pending[0].VMHost | Should -Be $Off
        $pending | Resume-MtvPendingOperation -WhatIf
        Get-LabSshService $Off | Should -Be 'running' -Because '-WhatIf changes nothing'
        $done = @($pending | Resume-MtvPendingOperation -Confirm:$false -ErrorAction Stop)
        $done.Count | Should -Be 1
        $done[0].Detail | Should -Match "^Resumed: stopped SSH \(TSM-SSH\), which .*process $childPid"
        Get-LabSshService $Off | Should -Be 'stopped'
        Get-SshPending | Should -BeNullOrEmpty
    }

    It 'where the service policy is "on", SSH left by an ended run is never stopped: only the record is cleared' {
        # Raw vim25 calls (the module under test is not the tool to arrange its own input).
        $web = [Microsoft.PowerShell.Commands.WebRequestSession]::new()
        function Invoke-Vim([string] $Body) {
            $envelope = '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:urn="urn:vim25" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>' + $Body + '</soapenv:Body></soapenv:Envelope>'
            $r = Invoke-WebRequest -Uri $Lab.vcsim.url -Method Post -Body $envelope -ContentType 'text/xml; charset=utf-8' -Headers @{ SOAPAction = 'urn:vim25/7.0' } -WebSession $web -SkipCertificateCheck -SkipHttpErrorCheck
            , ([xml]$r.Content)
        }
        function Select-Text([xml] $Xml, [string] $Name) { $Xml.SelectSingleNode("//*[local-name()='$Name']").InnerText }
        $sc = Invoke-Vim '<urn:RetrieveServiceContent><urn:_this type="ServiceInstance">ServiceInstance</urn:_this></urn:RetrieveServiceContent>'
        $cfm = Select-Text $sc 'customFieldsManager'; $pc = Select-Text $sc 'propertyCollector'
        $null = Invoke-Vim "<urn:Login><urn:_this type=`"SessionManager`">$(Select-Text $sc 'sessionManager')</urn:_this><urn:userName>$($Lab.vcsim.user)</urn:userName><urn:password>$($Lab.vcsim.password)</urn:password></urn:Login>"
        $hostRef = (Get-LabHost $Off).moref
        $ss = (Select-Text (Invoke-Vim "<urn:RetrievePropertiesEx><urn:_this type=`"PropertyCollector`">$pc</urn:_this><urn:specSet><urn:propSet><urn:type>HostSystem</urn:type><urn:pathSet>configManager.serviceSystem</urn:pathSet></urn:propSet><urn:objectSet><urn:obj type=`"HostSystem`">$hostRef</urn:obj></urn:objectSet></urn:specSet><urn:options/></urn:RetrievePropertiesEx>") 'val')
        $null = Invoke-Vim "<urn:AddCustomFieldDef><urn:_this type=`"CustomFieldsManager`">$cfm</urn:_this><urn:name>mtvremediation.sshServiceStarted</urn:name><urn:moType>HostSystem</urn:moType></urn:AddCustomFieldDef>"
        $fields = Invoke-Vim "<urn:RetrievePropertiesEx><urn:_this type=`"PropertyCollector`">$pc</urn:_this><urn:specSet><urn:propSet><urn:type>CustomFieldsManager</urn:type><urn:pathSet>field</urn:pathSet></urn:propSet><urn:objectSet><urn:obj type=`"CustomFieldsManager`">$cfm</urn:obj></urn:objectSet></urn:specSet><urn:options/></urn:RetrievePropertiesEx>"
        $key = @($fields.SelectNodes("//*[local-name()='CustomFieldDef']") | Where-Object { $_.SelectSingleNode("*[local-name()='name']").InnerText -eq 'mtvremediation.sshServiceStarted' })[0].SelectSingleNode("*[local-name()='key']").InnerText
        # The record of a run on this workstation whose process has ended.
        $gone = Start-Process true -PassThru; $gone.WaitForExit()
        $record = 'startedAt={0:yyyy-MM-ddTHH:mm:ssZ} user=lab workstation={1} pid={2} run=ended' -f [DateTime]::UtcNow.AddMinutes(-1), [Environment]::MachineName, $gone.Id
        $null = Invoke-Vim "<urn:SetField><urn:_this type=`"CustomFieldsManager`">$cfm</urn:_this><urn:entity type=`"HostSystem`">$hostRef</urn:entity><urn:key>$key</urn:key><urn:value>$record</urn:value></urn:SetField>"
        $null = Invoke-Vim "<urn:UpdateServicePolicy><urn:_this type=`"HostServiceSystem`">$ss</urn:_this><urn:id>TSM-SSH</urn:id><urn:policy>on</urn:policy></urn:UpdateServicePolicy>"
        try {
            Start-LabSshd $Off
            (Get-SshPending).Count | Should -Be 1
            $env:MTV_KNOWN_HOSTS = $KnownHosts
            try { $r = @(Test-VmkfstoolsLogSpace -VMHost $Off -Credential $SshCred -StartSshService -WarningVariable warn -WarningAction SilentlyContinue -ErrorAction Stop) }
            finally { Remove-Item Env:MTV_KNOWN_HOSTS }
            $r.Count | Should -Be 1
            @($warn | Where-Object { "$_" -match "^${Off}: SSH \(TSM-SSH\) runs because a run of this module .* ended without stopping it\. Its policy is 'on', so it stays running; the record is cleared\." }).Count | Should -Be 1
            Get-LabSshService $Off | Should -Be 'running'
            Get-SshPending | Should -BeNullOrEmpty
        }
        finally {
            $null = Invoke-Vim "<urn:UpdateServicePolicy><urn:_this type=`"HostServiceSystem`">$ss</urn:_this><urn:id>TSM-SSH</urn:id><urn:policy>off</urn:policy></urn:UpdateServicePolicy>"
        }
    }

    It 'the record is written before the start and cleared after the stop (Disconnect-EsxiShell)' {
        $s = @(Connect-EsxiShell -VMHost $Off -Credential $SshCred -KnownHostsPath $KnownHosts -StartSshService)
        $s[0].SshServiceStarted | Should -BeTrue
        $pending = Get-SshPending
        $pending.Count | Should -Be 1
        $pending[0].Detail | Should -Match 'may still be working' -Because 'this run is alive'
        Get-EsxiShell | Disconnect-EsxiShell -Confirm:$false
        Get-LabSshService $Off | Should -Be 'stopped'
        Get-SshPending | Should -BeNullOrEmpty
    }
}

Describe 'Output that exports, and the console tables' -Tag Lab -Skip:$NoLab {
    BeforeAll {
        Get-EsxiShell | Disconnect-EsxiShell -Confirm:$false
        Get-MtvVIServer | Disconnect-MtvVIServer -Confirm:$false
        foreach ($h in @($Lab.hosts)) { Start-LabSshd $h.name }
        Connect-LabVCenter | Out-Null
        Get-Endpoint @($Lab.hosts.name) | Connect-EsxiShell -Credential $SshCred -KnownHostsPath $KnownHosts | Out-Null
        $script:Vm = @($Lab.vcsim.vms | Where-Object host -EQ $Lab.hosts[0].name)[0].name
        # A plan with text in every column: the host's rotation job and the VM's (refused) CBT reset.
        $script:Rows = @(Invoke-MtvRemediation -VM $Vm -PowerOff -RegisterLogRotation -WhatIf -ErrorAction SilentlyContinue 6>$null)
    }

    It 'host and VM rows export to one CSV with every row named, and no type names for collections' {
        $Rows.Kind | Should -Be @('Host', 'VM')
        $csv = $Rows | ConvertTo-Csv -NoTypeInformation
        $csv -join "`n" | Should -Not -Match 'System\.|MtvRemediation\.' -Because 'collections export as readable text'
        $back = $csv | ConvertFrom-Csv
        $back[0].Name | Should -Be $Lab.hosts[0].name
        $back[1].Name | Should -Be $Vm -Because 'the VM row keeps its name in the host row''s columns'
        $back[1].VM | Should -Be $Vm
        $back[1].Result | Should -Be $Rows[1].Result
        $back[0].Plan | Should -Be ($Rows[0].Plan -join '; ')
        $Rows[0].Plan.Count | Should -BeGreaterThan 0 -Because 'the list stays a list in the pipeline'
    }

    It 'every output type exports flat and converts to JSON without a depth warning' {
        $outputs = @(
            $Rows
            Get-EsxiShell
            Get-MtvVIServer
            Get-EsxiShell | Test-VmkfstoolsLogSpace
            Get-VMChangeTracking -VM $Vm
            Get-EsxiShell | Select-Object -First 1 | Find-MtvCloneFailure -Summary
        )
        foreach ($o in $outputs) {
            $type = $o.GetType().FullName
            ($o | ConvertTo-Csv -NoTypeInformation) -join "`n" | Should -Not -Match '"System\.[A-Za-z.`]+(\[\])?"|"MtvRemediation\.[A-Za-z.`]+\[\]"' -Because "$type exports flat"
            $w = $null
            $null = $o | ConvertTo-Json -WarningVariable w -WarningAction SilentlyContinue
            @($w).Count | Should -Be 0 -Because "$type converts to JSON at the default depth"
        }
    }

    It 'Get-EsxiShell shows whole fingerprints in 120 columns' {
        $text = Get-EsxiShell | Out-String -Width 120
        foreach ($s in Get-EsxiShell) { $text | Should -Match ([regex]::Escape($s.HostKeyFingerprint)) }
        ($text -split "`n" | Measure-Object -Maximum -Property Length).Maximum | Should -BeLessOrEqual 120
    }

    It 'the Invoke-MtvRemediation table breaks text at spaces, not inside words' {
        $text = $Rows | Format-Table | Out-String -Width 120
        ($text -split "`n" | Measure-Object -Maximum -Property Length).Maximum | Should -BeLessOrEqual 120
        # Each row in a table of its own, so a word cut in one row cannot be found whole in another's.
        foreach ($r in $Rows) {
            $own = $r | Format-Table | Out-String -Width 120
            foreach ($word in ($r.FinalState -split '\s+' | Where-Object { $_ })) {
                $own | Should -Match ([regex]::Escape($word)) -Because "'$word' of $($r.Name)'s FinalState must not be cut"
            }
        }
    }

    It 'the Invoke-MtvRemediation and Get-EsxiShell tables fit 100 columns, words whole, the port shown' {
        $longest = { param($t) ($t -split "`n" | Measure-Object -Maximum -Property Length).Maximum }
        & $longest ($Rows | Format-Table | Out-String -Width 100) | Should -BeLessOrEqual 100
        foreach ($r in $Rows) {
            # Each row in a table of its own, so a word cut in one row cannot be found whole in another's.
            $own = $r | Format-Table | Out-String -Width 100
            & $longest $own | Should -BeLessOrEqual 100
            foreach ($word in (@($r.Name, $r.Result, $r.Before, $r.FinalState) -split '\s+' | Where-Object { $_ })) {
                $own | Should -Match ([regex]::Escape($word)) -Because "'$word' of $($r.Name) must not be cut at 100 columns"
            }
        }
        $shells = Get-EsxiShell | Out-String -Width 100
        & $longest $shells | Should -BeLessOrEqual 100
        foreach ($s in Get-EsxiShell) {
            $shells | Should -Match "\s$($s.Port)\s" -Because 'the port is a column'
            $shells | Should -Match ([regex]::Escape($s.HostKeyFingerprint))
        }
    }

    It 'Before and Done are properties: they select and sort as the table shows them' {
        $vmRow = $Rows | Where-Object Kind -EQ 'VM'
        $vmRow.Before | Should -Match '^PoweredOn, CBT (on|off)'
        $hostRow = $Rows | Where-Object Kind -EQ 'Host'
        $hostRow.Before | Should -Match '^/var \d'
        ($Rows | Select-Object Name, Before, Done | ConvertTo-Csv -NoTypeInformation)[0] | Should -Be '"Name","Before","Done"'
        $Rows | ForEach-Object { $_.Done | Should -BeOfType [int] }
        @($Rows | Sort-Object Done, Before).Count | Should -Be $Rows.Count
    }
}

Describe 'Advice that points somewhere' -Tag Lab -Skip:$NoLab {
    It 'new hosts give ONE host-key error: every host with its key, and the one command that records them all' {
        Get-EsxiShell | Disconnect-EsxiShell -Confirm:$false
        $kh = Join-Path $TempDir 'first-connection-known-hosts'
        $e = $null
        $s = Get-Endpoint @($Lab.hosts.name) | Connect-EsxiShell -Credential $SshCred -KnownHostsPath $kh -ErrorVariable e -ErrorAction SilentlyContinue
        @($s).Count | Should -Be 0
        @($e).Count | Should -Be 1 -Because "$(@($Lab.hosts).Count) new hosts are one decision, not one error block each"
        $e[0].FullyQualifiedErrorId | Should -Be 'EsxiShellHostKeyUnknown,MtvRemediation.Commands.ConnectEsxiShellCommand'
        foreach ($h in $Lab.hosts) {
            $field = if ([int]$h.port -eq 22) { $h.address } else { '[{0}]:{1}' -f $h.address, $h.port }
            $e[0].Exception.Message | Should -Match ('(?m)^  {0} \({1}\): ssh-ed25519 SHA256:' -f [regex]::Escape($h.name), [regex]::Escape($field))
        }
        $command = $e[0].ErrorDetails.RecommendedAction
        $command | Should -Match '\| Connect-EsxiShell .*-TrustNewHostKey$'
        $e[0].Exception.Message | Should -Match ([regex]::Escape($command))
        Test-Path $kh | Should -BeFalse -Because 'nothing is recorded before the admin decides'

        # The command as given records every key and connects every host.
        Invoke-Expression $command
        @($s).Count | Should -Be @($Lab.hosts).Count
        (Get-Content $kh).Count | Should -Be @($Lab.hosts).Count
        Get-EsxiShell | Disconnect-EsxiShell -Confirm:$false
    }
}

Describe 'New host keys met by a host command' -Tag Lab -Skip:$NoLab {
    It 'hosts reached by name give ONE host-key error: the Connect-EsxiShell command that records them all, then the command again' {
        Get-EsxiShell | Disconnect-EsxiShell -Confirm:$false
        $names = @($Lab.hosts | Where-Object { [int]$_.port -eq 22 } | Select-Object -First 3 | ForEach-Object name)
        $names.Count | Should -Be 3 -Because 'the lab gives each host its own address on port 22, its name resolving to it'
        # An empty known_hosts for this runspace's on-demand sessions (MTV_KNOWN_HOSTS, read per connect).
        $kh = Join-Path $TempDir 'host-command-known-hosts'
        $saved = $env:MTV_KNOWN_HOSTS
        $env:MTV_KNOWN_HOSTS = $kh
        try {
            $e = $null
            $r = @(Test-VmkfstoolsLogSpace -VMHost $names -Credential $SshCred -ErrorVariable e -ErrorAction SilentlyContinue)
            $r.Count | Should -Be 0 -Because 'nothing is sent to a host whose key is not known'
            @($e).Count | Should -Be 1 -Because '3 new hosts are one decision, not one error block each'
            $e[0].FullyQualifiedErrorId | Should -Be 'EsxiShellHostKeyUnknown,MtvRemediation.Commands.TestVmkfstoolsLogSpaceCommand'
            foreach ($n in $names) { $e[0].Exception.Message | Should -Match ('(?m)^  {0} \({0}\): ssh-ed25519 SHA256:' -f [regex]::Escape($n)) }
            $command = $e[0].ErrorDetails.RecommendedAction
            # The login as a hint: the user name, never the password (PowerShell asks for it).
            $login = "-Credential '$($SshCred.UserName)'"
            $command | Should -Match ('^Connect-EsxiShell -VMHost ''[^'']+'',''[^'']+'',''[^'']+'' {0} -TrustNewHostKey$' -f [regex]::Escape($login))
            foreach ($n in $names) { $command | Should -Match ("'{0}'" -f [regex]::Escape($n)) }
            $e[0].Exception.Message | Should -Match ([regex]::Escape($command) + '; then run Test-VmkfstoolsLogSpace again')
            Test-Path $kh | Should -BeFalse -Because 'nothing is recorded before the admin decides'

            # The command as given (the credential put in) records every key; the command again then runs on those sessions.
            $s = @(Invoke-Expression $command.Replace($login, '-Credential $SshCred'))
            $s.Count | Should -Be 3
            (Get-Content $kh).Count | Should -Be 3
            @(Test-VmkfstoolsLogSpace -VMHost $names -ErrorAction Stop).Count | Should -Be 3
        }
        finally {
            $env:MTV_KNOWN_HOSTS = $saved
            Get-EsxiShell | Disconnect-EsxiShell -Confirm:$false
        }
    }
}

Describe 'The report says where it is, without a second confirmation' -Tag Lab -Skip:$NoLab {
    It 'writes report files 0600 for -ReportPath unasked, and the rows name them' {
        $dir = Join-Path $TempDir 'report'
        $vm = @($Lab.vcsim.vms | Where-Object host -EQ $Lab.hosts[0].name)[0].name
        # A runspace without a UI: any confirmation prompt would fail the command.
        $ps = [powershell]::Create()
        try {
            $null = $ps.AddScript({
                    param($m, $vc, $port, $cred, $ep, $sshCred, $kh, $vm, $dir)
                    Import-Module $m
                    Connect-MtvVIServer -Server $vc -Port $port -Credential $cred -SkipCertificateCheck -WarningAction SilentlyContinue | Out-Null
                    $ep | Connect-EsxiShell -Credential $sshCred -KnownHostsPath $kh | Out-Null
                    # -PowerOff without -Force: the lab VM (no VMware Tools) is refused; the healthy host needs nothing.
                    Invoke-MtvRemediation -VM $vm -PowerOff -ReportPath $dir
                }).AddParameters(@{ m = $ManifestPath; vc = $VcUri.Host; port = $VcUri.Port; cred = $VcCred; ep = (Get-Endpoint $Lab.hosts[0].name)
                    sshCred = $SshCred; kh = $KnownHosts; vm = $vm; dir = $dir })
            $rows = @($ps.Invoke())
            $errors = @($ps.Streams.Error)
        }
        finally { $ps.Dispose() }
        @($errors | Where-Object { $_.FullyQualifiedErrorId -notlike 'VMToolsNotRunning,*' }).FullyQualifiedErrorId | Should -BeNullOrEmpty -Because 'only the refusal, no failed prompt'
        $rows.Count | Should -Be 2
        $html = Get-Item $rows[0].ReportFile
        $json = Get-Item $rows[0].JsonReportFile
        $html.Directory.FullName | Should -Be (Get-Item $dir).FullName
        $rows[1].ReportFile | Should -Be $html.FullName
        $html.UnixFileMode | Should -Be ([System.IO.UnixFileMode]'UserRead, UserWrite')
        $json.UnixFileMode | Should -Be ([System.IO.UnixFileMode]'UserRead, UserWrite')
        @(Get-ChildItem $dir -Force).Count | Should -Be 2 -Because 'no temp file is left'
        $data = Get-Content $json -Raw | ConvertFrom-Json
        $data.Servers | Should -Be @($VcUri.Host)
        $data.Parameters | Should -Contain 'PowerOff: True'
        $data.Parameters | Should -Contain "ReportPath: $dir"
        $data.Hosts[0].Outcome | Should -Be $rows[0].Result -Because 'one word for one outcome'
        $data.VMs[0].Outcome | Should -Be $rows[1].Result
        (Get-Content $html -Raw) | Should -Match ([regex]::Escape("<tr><th>vCenter</th><td>$($VcUri.Host)</td></tr>"))
    }
}

Describe 'Completers' -Tag Lab -Skip:$NoLab {
    BeforeAll {
        Get-EsxiShell | Disconnect-EsxiShell -Confirm:$false
        Get-MtvVIServer | Disconnect-MtvVIServer -Confirm:$false
        function Complete([string] $Line) { @((TabExpansion2 -inputScript $Line -cursorColumn $Line.Length).CompletionMatches.CompletionText) }
    }

    It '-VMHost offers open sessions, then vCenter''s hosts' {
        Get-Endpoint $Lab.hosts[0].name | Connect-EsxiShell -Credential $SshCred -KnownHostsPath $KnownHosts | Out-Null
        Complete 'Test-VmkfstoolsLogSpace -VMHost DC0_' | Should -Be @($Lab.hosts[0].name) -Because 'no vCenter yet: only the session'
        $conn = Connect-LabVCenter
        $all = Complete 'Test-VmkfstoolsLogSpace -VMHost DC0_'
        $all[0] | Should -Be $Lab.hosts[0].name -Because 'sessions come first'
        $all | Should -Contain $Lab.hosts[1].name
        @($all | Where-Object { $_ -eq $Lab.hosts[0].name }).Count | Should -Be 1
        Complete 'Get-EsxiShell -VMHost DC0_' | Should -Contain $Lab.hosts[0].name
    }

    It '-VM offers vCenter''s VMs, read once and cached briefly' {
        $conn = Get-MtvVIServer | Select-Object -First 1
        $vms = @($Lab.vcsim.vms | Where-Object host -EQ $Lab.hosts[0].name).name
        $first = Complete 'Get-VMChangeTracking -VM DC0_H0_V'
        $trips = $conn.RoundTrips
        $again = Complete 'Reset-VMChangeTracking -VM DC0_H0_V'
        $again | Should -Be $first
        foreach ($v in $vms) { $first | Should -Contain $v }
        $conn.RoundTrips | Should -Be $trips -Because 'the names are cached'
    }

    It '-Server, -LogPath and -Agent offer their values' {
        Complete 'Get-VMChangeTracking -VM x -Server 127' | Should -Be @($VcUri.Host)
        Complete 'Test-VmkfstoolsLogSpace -VMHost x -LogPath /var/log/s' | Should -Be @('/var/log/secure-vmkfstools-wrapper.log')
        Complete 'Restart-EsxiAgents -VMHost x -Agent h' | Should -Be @('hostd')
    }
}

Describe 'PowerCLI habits' -Tag Lab -Skip:$NoLab {
    BeforeEach { Get-MtvVIServer | Disconnect-MtvVIServer -Confirm:$false }

    It 'Connect-MtvVIServer takes -User and -Password (plain text or SecureString) like Connect-VIServer' {
        $plain = $VcCred.GetNetworkCredential().Password
        $c = Connect-MtvVIServer -Server $VcUri.Host -Port $VcUri.Port -User $VcCred.UserName -Password $plain -SkipCertificateCheck -WarningAction SilentlyContinue
        $c.IsConnected | Should -BeTrue
        $c.User | Should -Be $VcCred.UserName
        ($c | Format-List * | Out-String) | Should -Not -Match ([regex]::Escape($plain))
        $c2 = Connect-MtvVIServer $VcUri.Host -Port $VcUri.Port -User $VcCred.UserName -Password $VcCred.Password -SkipCertificateCheck -WarningAction SilentlyContinue
        $c2.IsConnected | Should -BeTrue
    }

    It '-Name works where PowerCLI users type it' {
        Connect-LabVCenter | Out-Null
        $vm = @($Lab.vcsim.vms)[0].name
        (Get-VMChangeTracking -Name $vm).VM | Should -Be $vm
        (Get-Command Test-VmkfstoolsLogSpace).Parameters['VMHost'].Aliases | Should -Contain 'Name'
    }

    It 'Get-VMChangeTracking -Server with an unknown name writes one error that names the server' {
        Connect-LabVCenter | Out-Null
        $Error.Clear()
        try { Get-VMChangeTracking -VM DC0_H0_VM0 -Server no-such-vcenter -ErrorAction Continue 2>$null } catch { }
        @($Error).Count | Should -Be 1 -Because "not a second, generic 'Not connected to any vCenter'"
        $Error[0].FullyQualifiedErrorId | Should -BeLike 'VIServerNotConnected*'
        $Error[0].ToString() | Should -Match 'no-such-vcenter'
    }

    It 'Unregister-LogRotationCron -WhatIf names only jobs that exist' {
        Get-EsxiShell | Disconnect-EsxiShell -Confirm:$false
        Get-Endpoint $Lab.hosts[0].name, $Lab.hosts[1].name | Connect-EsxiShell -Credential $SshCred -KnownHostsPath $KnownHosts | Out-Null
        Get-EsxiShell | Unregister-LogRotationCron -Confirm:$false | Out-Null
        Register-LogRotationCron -VMHost $Lab.hosts[0].name -Confirm:$false 3>$null | Out-Null
        try {
            $log = Join-Path $TempDir "whatif-$PID.txt"
            Start-Transcript -Path $log -Force | Out-Null
            try { Get-EsxiShell | Unregister-LogRotationCron -WhatIf } finally { Stop-Transcript | Out-Null }
            $text = Get-Content $log -Raw
            $text | Should -Match ([regex]::Escape("on target `"$($Lab.hosts[0].name)`""))
            $text | Should -Not -Match ([regex]::Escape("on target `"$($Lab.hosts[1].name)`"")) -Because 'that host has no job'
            @(Get-EsxiShell -VMHost $Lab.hosts[0].name | Get-LogRotationCron).Count | Should -Be 1 -Because '-WhatIf removed nothing'
        }
        finally { Get-EsxiShell | Unregister-LogRotationCron -Confirm:$false | Out-Null }
    }

    It 'works in Start-ThreadJob and Start-Job runbooks: each job connects itself' {
        $job = {
            param($m, $vc, $port, $cred, $vm)
            Import-Module $m
            # Sessions are per runspace: nothing of the caller's is visible here.
            $before = @(Get-MtvVIServer).Count
            Connect-MtvVIServer -Server $vc -Port $port -Credential $cred -SkipCertificateCheck -WarningAction SilentlyContinue | Out-Null
            [pscustomobject]@{ Before = $before; VM = (Get-VMChangeTracking -VM $vm).VM }
        }
        Connect-LabVCenter | Out-Null
        $vm = @($Lab.vcsim.vms)[0].name
        $argsList = @($ManifestPath, $VcUri.Host, $VcUri.Port, $VcCred, $vm)
        $t = Start-ThreadJob -ScriptBlock $job -ArgumentList $argsList | Receive-Job -Wait -AutoRemoveJob
        $t.Before | Should -Be 0
        $t.VM | Should -Be $vm
        $p = Start-Job -ScriptBlock $job -ArgumentList $argsList | Receive-Job -Wait -AutoRemoveJob
        $p.Before | Should -Be 0
        $p.VM | Should -Be $vm
        @(Get-MtvVIServer).Count | Should -Be 1 -Because 'the jobs did not touch this runspace''s connections'
    }
}
