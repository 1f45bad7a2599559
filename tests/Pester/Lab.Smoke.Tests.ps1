#Requires -Version 7.2
# Proves the lab is real: real sshd (key and keyboard-interactive auth, pinned host keys), real
# ramdisks that fill up, real crond, real vcsim over SOAP with working fault injection.
# Uses plain tools (OpenSSH client, Invoke-WebRequest), not the module under test.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../lab/Lab.psm1') -Force
    $script:Lab = Get-MtvLab
    $script:Work = Join-Path ([System.IO.Path]::GetTempPath()) "lab-smoke-$PID"
    New-Item -ItemType Directory -Force $script:Work | Out-Null

    function script:New-KnownHosts([object] $HostEntry, [string] $KeyLine = $HostEntry.hostKey) {
        $f = Join-Path $script:Work "known_hosts-$($HostEntry.name)-$([guid]::NewGuid().ToString('n'))"
        # known_hosts names a host on port 22 without brackets (sshd(8), SSH_KNOWN_HOSTS FILE FORMAT).
        $hostField = if ($HostEntry.port -eq 22) { $HostEntry.address } else { "[$($HostEntry.address)]:$($HostEntry.port)" }
        Set-Content -Path $f -Value "$hostField $KeyLine"
        return $f
    }

    # OpenSSH client with the lab key; returns output lines and leaves $LASTEXITCODE.
    function script:Invoke-LabSsh([object] $HostEntry, [string] $Command, [string] $KnownHosts = (New-KnownHosts $HostEntry)) {
        & ssh -i $HostEntry.keyFile -o "UserKnownHostsFile=$KnownHosts" -o StrictHostKeyChecking=yes `
            -o BatchMode=yes -o PreferredAuthentications=publickey -o ConnectTimeout=10 -o LogLevel=ERROR `
            -p $HostEntry.port "$($HostEntry.user)@$($HostEntry.address)" $Command 2>&1
    }

    # Keyboard-interactive through SSH_ASKPASS: the secret travels in the environment, never in a file.
    function script:Invoke-LabSshKbd([object] $HostEntry, [string] $Secret, [string] $Command, [string] $Method = 'keyboard-interactive') {
        $askpass = Join-Path $script:Work 'askpass.sh'
        if (-not (Test-Path $askpass)) {
            Set-Content -Path $askpass -Value "#!/bin/sh`nprintf '%s\n' `"`$LAB_ASKPASS_SECRET`""
            & chmod 700 $askpass
        }
        $kh = New-KnownHosts $HostEntry
        $env:LAB_ASKPASS_SECRET = $Secret
        $env:SSH_ASKPASS = $askpass; $env:SSH_ASKPASS_REQUIRE = 'force'; $env:DISPLAY = ':0'
        try {
            & bash -c 'exec setsid -w ssh "$@" </dev/null' ssh -o "UserKnownHostsFile=$kh" -o StrictHostKeyChecking=yes `
                -o "PreferredAuthentications=$Method" -o PubkeyAuthentication=no -o NumberOfPasswordPrompts=1 `
                -o ConnectTimeout=10 -o LogLevel=ERROR -p $HostEntry.port "$($HostEntry.user)@$($HostEntry.address)" $Command 2>&1
        }
        finally {
            Remove-Item Env:LAB_ASKPASS_SECRET, Env:SSH_ASKPASS, Env:SSH_ASKPASS_REQUIRE, Env:DISPLAY -ErrorAction SilentlyContinue
        }
    }

    # Raw vim25 SOAP call; returns the response as XmlDocument (faults too: HTTP 500 with a body).
    function script:Invoke-Soap([string] $Body, [Microsoft.PowerShell.Commands.WebRequestSession] $Session) {
        $envelope = '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:urn="urn:vim25"><soapenv:Body>' + $Body + '</soapenv:Body></soapenv:Envelope>'
        $r = Invoke-WebRequest -Uri $script:Lab.vcsim.url -Method Post -Body $envelope -ContentType 'text/xml; charset=utf-8' `
            -Headers @{ SOAPAction = 'urn:vim25/7.0' } -WebSession $Session -SkipCertificateCheck -SkipHttpErrorCheck
        $doc = $null
        if ($r.Content) { $doc = [xml]$r.Content }   # not $(...): an XmlDocument would be enumerated
        [pscustomobject]@{ Status = [int]$r.StatusCode; Xml = $doc }
    }

    # Always an array (an XmlElement alone would be enumerated/indexed as its children).
    function script:Select-Local([xml] $Xml, [string] $Name) {
        , @($Xml.SelectNodes("//*[local-name()='$Name']"))
    }

    function script:New-VcSession {
        $s = [Microsoft.PowerShell.Commands.WebRequestSession]::new()
        $sc = Invoke-Soap '<urn:RetrieveServiceContent><urn:_this type="ServiceInstance">ServiceInstance</urn:_this></urn:RetrieveServiceContent>' $s
        $sm = (Select-Local $sc.Xml 'sessionManager')[0].InnerText
        $pc = (Select-Local $sc.Xml 'propertyCollector')[0].InnerText
        $user = [System.Security.SecurityElement]::Escape($script:Lab.vcsim.user)
        $pw = [System.Security.SecurityElement]::Escape($script:Lab.vcsim.password)
        $login = Invoke-Soap "<urn:Login><urn:_this type=`"SessionManager`">$sm</urn:_this><urn:userName>$user</urn:userName><urn:password>$pw</urn:password></urn:Login>" $s
        [pscustomobject]@{ Web = $s; PropertyCollector = $pc; Login = $login }
    }

    function script:Get-VcProperty([object] $Vc, [string] $Type, [string] $MoRef, [string[]] $Path) {
        $paths = ($Path | ForEach-Object { "<urn:pathSet>$_</urn:pathSet>" }) -join ''
        $r = Invoke-Soap ("<urn:RetrievePropertiesEx><urn:_this type=`"PropertyCollector`">$($Vc.PropertyCollector)</urn:_this>" +
            "<urn:specSet><urn:propSet><urn:type>$Type</urn:type>$paths</urn:propSet>" +
            "<urn:objectSet><urn:obj type=`"$Type`">$MoRef</urn:obj></urn:objectSet></urn:specSet><urn:options/></urn:RetrievePropertiesEx>") $Vc.Web
        $props = @{}
        foreach ($p in (Select-Local $r.Xml 'propSet')) {
            $props[$p.SelectSingleNode("*[local-name()='name']").InnerText] = $p.SelectSingleNode("*[local-name()='val']").InnerText
        }
        $props
    }
}

AfterAll {
    if ($script:Lab) {
        Invoke-LabVcsimCtl reset | Out-Null
        Reset-LabHost ($script:Lab.hosts | Select-Object -First 2).name
    }
    if ($script:Work) { Remove-Item $script:Work -Recurse -Force -ErrorAction SilentlyContinue }
}

Describe 'Lab ESXi hosts' -Tag Smoke, Lab {
    BeforeAll {
        $script:H0 = $script:Lab.hosts[0]
        $script:H1 = $script:Lab.hosts[1]
        Reset-LabHost $script:H0.name, $script:H1.name
        # Register a 1-minute cron job now, the ESXi way (chmod, append, restart crond); the last
        # test checks it fired, so the wait overlaps the other tests.
        $script:CronPidBefore = Invoke-LabSsh $script:H1 'cat /var/run/crond.pid'
        $script:CronOut = Invoke-LabSsh $script:H1 (
            'chmod +w /var/spool/cron/crontabs/root && ' +
            'echo "* * * * * echo fired >> /tmp/cron-smoke" >> /var/spool/cron/crontabs/root && ' +
            'chmod -w /var/spool/cron/crontabs/root && kill $(cat /var/run/crond.pid) && ' +
            '/usr/lib/vmware/busybox/bin/busybox crond && sleep 0.2 && cat /var/run/crond.pid')
        $script:CronRegisteredAt = Get-Date
    }

    It 'accepts the lab key over a real sshd, pins the host key, and counts the login' {
        $before = Get-LabSshdLoginCount $script:H0.name
        $out = Invoke-LabSsh $script:H0 'echo hello; id -u; cat /etc/hostname'
        $LASTEXITCODE | Should -Be 0
        $out | Should -Be @('hello', '0', $script:H0.name)
        Get-LabSshdLoginCount $script:H0.name | Should -Be ($before + 1)
        # the fingerprint in lab.json is the one sshd presents
        (& ssh-keygen -lf $script:H0.hostKeyFile) -split ' ' | Select-Object -Index 1 | Should -Be $script:H0.hostKeyFingerprint
    }

    It 'logs one line per remote command once its sshd runs at VERBOSE (sshd-log), none at INFO' {
        $commands = { @(Select-String -LiteralPath $script:H0.sshdLog -Pattern '^Starting session: command for ').Count }
        $before = & $commands
        $null = Invoke-LabSsh $script:H0 'true'
        & $commands | Should -Be $before
        Set-LabSshdLogLevel Verbose $script:H0.name
        try {
            $logins = Get-LabSshdLoginCount $script:H0.name
            $out = Invoke-LabSsh $script:H0 'echo verbose'
            $LASTEXITCODE | Should -Be 0
            $out | Should -Be 'verbose'
            & $commands | Should -Be ($before + 1)
            Get-LabSshdLoginCount $script:H0.name | Should -Be ($logins + 1)
        }
        finally { Set-LabSshdLogLevel Info $script:H0.name }
        $null = Invoke-LabSsh $script:H0 'true'
        & $commands | Should -Be ($before + 1)
    }

    It 'refuses a connection whose host key does not match the pinned one' {
        $other = New-KnownHosts $script:H0 $script:H1.hostKey
        $out = Invoke-LabSsh $script:H0 'true' $other
        $LASTEXITCODE | Should -Be 255
        ($out -join "`n") | Should -Match 'Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED'
    }

    It 'offers keyboard-interactive with the lab password and refuses plain password auth' {
        $out = Invoke-LabSshKbd $script:H0 $script:H0.password 'echo kbd-ok'
        $LASTEXITCODE | Should -Be 0
        $out | Should -Contain 'kbd-ok'

        $null = Invoke-LabSshKbd $script:H0 'wrong-password' 'echo no'
        $LASTEXITCODE | Should -Be 255

        $out = Invoke-LabSshKbd $script:H0 $script:H0.password 'echo no' -Method password
        $LASTEXITCODE | Should -Be 255
        ($out -join "`n") | Should -Match 'Permission denied \(publickey,keyboard-interactive\)'
    }

    It 'reports a /var filled to 100% as 100% in vdf (byte-exact and -h), and frees it on truncation' {
        $usage = Set-LabVarFill $script:H0.name 100
        $usage.AvailableKB | Should -Be 0

        $vdf = Invoke-LabSsh $script:H0 'vdf'
        $LASTEXITCODE | Should -Be 0
        $vdf | Should -Contain '-----'
        $row = ($vdf | Where-Object { $_ -match '^var\s' }) -split '\s+'
        [long]$row[1] | Should -Be $usage.SizeKB
        [long]$row[3] | Should -Be 0
        $row[4] | Should -Be '100%'

        (Invoke-LabSsh $script:H0 'vdf -h' | Where-Object { $_ -match '^var\s' }) | Should -Match '\s100% --$'
        # (appending a few bytes can still land in a file's last, partly used page)
        $null = Invoke-LabSsh $script:H0 'head -c 65536 /dev/zero >> /var/log/hostd.log'
        $LASTEXITCODE | Should -Not -Be 0 -Because 'a full ramdisk refuses writes'

        $null = Invoke-LabSsh $script:H0 ': > /var/log/vmkfstools-wrapper.log'
        $LASTEXITCODE | Should -Be 0
        $row = (Invoke-LabSsh $script:H0 'vdf /var/log/vmkfstools-wrapper.log' | Where-Object { $_ -match '^var\s' }) -split '\s+'
        [int]($row[4].TrimEnd('%')) | Should -BeLessThan 5
    }

    It 'writes MTV 2.10 wrapper log lines and leaves failed task directories where the wrapper does' {
        Add-LabWrapperLog $script:H0.name 20000 | Should -BeGreaterThan 20000
        $tail = Invoke-LabSsh $script:H0 'tail -n 2 /var/log/vmkfstools-wrapper.log'
        $tail[0] | Should -Match '^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} - INFO - vshish stats CompletedProcess\(args=\[''vsish'', ''-r'', ''-e'', ''cat'', ''/storage/scsifw/devices/naa\.[0-9a-f]+/stats''\], returncode=0, stdout=''cloneWriteOps:0x0{16}\\n'', stderr=''''\)$'
        $tail[1] | Should -Match '^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} - INFO - XCOPY used: False, clone write ops: 0$'
        (Invoke-LabSsh $script:H0 'grep -c "7228\|327689" /var/log/vmkfstools-wrapper.log') | Should -Be '0' -Because 'the 2.10 wrapper never logs the clone failure'
        { Add-LabWrapperLog $script:H0.name 100 -Failure 7228 } | Should -Throw '*task*'
        $dir = @(New-LabWrapperTaskDir $script:H0.name 1 -Failure 327689)[0]
        (Invoke-LabSsh $script:H0 "cat $dir/exitcode; echo; cat $dir/err") | Should -Be @('255', 'Failed to clone disk: Input/output error (327689).')
    }

    It 'restarts hostd with ESXi''s texts, keeps status truthful, and flips the host in vCenter' {
        $vc = New-VcSession
        $before = (Invoke-LabSsh $script:H0 'cat /var/run/vmware/hostd.pid')
        $out = Invoke-LabSsh $script:H0 '/etc/init.d/hostd restart'
        $out[0] | Should -Be "watchdog-hostd: Terminating watchdog process with PID $before"
        $out[1..2] | Should -Be @('hostd stopped.', 'hostd started.')
        # vCenter notices late: still connected right after, notResponding after the lab's lag
        # (docs/field-sources.md#5-management-agents).
        $deadline = (Get-Date).AddSeconds(15)
        do { Start-Sleep -Milliseconds 100; $state = (Get-VcProperty $vc HostSystem $script:H0.moref 'runtime.connectionState')['runtime.connectionState'] }
        until ($state -eq 'notResponding' -or (Get-Date) -gt $deadline)
        $state | Should -Be 'notResponding'
        Invoke-LabSsh $script:H0 '/etc/init.d/hostd status' | Should -Be 'hostd is running.'
        Invoke-LabSsh $script:H0 '/etc/init.d/hostd stop; /etc/init.d/hostd status' | Select-Object -Last 1 | Should -Be 'hostd is not running.'
        # A stopped hostd keeps the host notResponding; once it serves again vCenter shows it connected.
        Invoke-LabSsh $script:H0 '/etc/init.d/hostd start' | Should -Be 'hostd started.'
        $deadline = (Get-Date).AddSeconds(15)
        do { Start-Sleep -Milliseconds 250; $state = (Get-VcProperty $vc HostSystem $script:H0.moref 'runtime.connectionState')['runtime.connectionState'] }
        until ($state -eq 'connected' -or (Get-Date) -gt $deadline)
        $state | Should -Be 'connected'
    }

    It 'runs a registered crontab job (real BusyBox crond)' {
        $script:CronOut | Select-Object -Last 1 | Should -Not -Be $script:CronPidBefore -Because 'crond was restarted with a new pid'
        $deadline = $script:CronRegisteredAt.AddSeconds(75)
        do {
            $fired = Invoke-LabHost $script:H1.name 'cat /tmp/cron-smoke 2>/dev/null' -AllowFailure
            if ($fired) { break }
            Start-Sleep -Seconds 1
        } until ((Get-Date) -gt $deadline)
        $fired | Should -Match 'fired'
    }
}

Describe 'Lab vcsim' -Tag Smoke, Lab {
    BeforeAll {
        Invoke-LabVcsimCtl reset | Out-Null
        $script:Vm = $script:Lab.vcsim.vms | Where-Object host -EQ $script:Lab.hosts[0].name | Select-Object -First 1
    }
    AfterEach { Invoke-LabVcsimCtl reset | Out-Null }

    It 'logs in over SOAP and reads VM properties' {
        $vc = New-VcSession
        $vc.Login.Status | Should -Be 200
        $p = Get-VcProperty $vc VirtualMachine $script:Vm.moref @('name', 'runtime.powerState')
        $p['name'] | Should -Be $script:Vm.name
        $p['runtime.powerState'] | Should -Be 'poweredOn'
    }

    It 'has at least two VMs on every lab host, with their files on the datastore directory' {
        foreach ($h in $script:Lab.hosts) {
            @($script:Lab.vcsim.vms | Where-Object host -EQ $h.name).Count | Should -BeGreaterOrEqual 2
        }
        Test-Path (Join-Path $script:Vm.localDir 'disk1.vmdk') | Should -BeTrue
        # the same datastore is visible inside the ESXi chroot
        $ds = $script:Vm.datastore
        Invoke-LabHost $script:Lab.hosts[0].name "ls /vmfs/volumes/$ds/$($script:Vm.name)/" | Should -Match 'disk1\.vmdk'
    }

    It 'fails exactly the next SOAP call with HTTP 500 after fail-next' {
        $vc = New-VcSession
        (Invoke-LabVcsimCtl fail-next @{ status = 500 }).failNextStatus | Should -Be 500
        $r = Invoke-Soap '<urn:RetrieveServiceContent><urn:_this type="ServiceInstance">ServiceInstance</urn:_this></urn:RetrieveServiceContent>' $vc.Web
        $r.Status | Should -Be 500
        $r = Invoke-Soap '<urn:RetrieveServiceContent><urn:_this type="ServiceInstance">ServiceInstance</urn:_this></urn:RetrieveServiceContent>' $vc.Web
        $r.Status | Should -Be 200
    }

    It 'answers MethodDisabled for a disabled method on one VM' {
        $vc = New-VcSession
        Invoke-LabVcsimCtl disable-method @{ vm = $script:Vm.name; method = 'ReconfigVM_Task' } | Out-Null
        $r = Invoke-Soap "<urn:ReconfigVM_Task><urn:_this type=`"VirtualMachine`">$($script:Vm.moref)</urn:_this><urn:spec/></urn:ReconfigVM_Task>" $vc.Web
        $r.Status | Should -Be 500
        $fault = (Select-Local $r.Xml 'detail')[0].FirstChild
        $fault.LocalName | Should -Match '^MethodDisabled'
    }

    It 'delays a method by the configured time' {
        $vc = New-VcSession
        Invoke-LabVcsimCtl delay @{ method = 'RetrievePropertiesEx'; ms = 600 } | Out-Null
        $t = Measure-Command { $null = Get-VcProperty $vc VirtualMachine $script:Vm.moref 'name' }
        $t.TotalMilliseconds | Should -BeGreaterOrEqual 600
    }
}
