# ESXi shell sessions (issue 3): Connect-/Get-/Disconnect-EsxiShell and the SSH engine under every
# host cmdlet, against the lab's real sshd "ESXi hosts". Host cmdlet behaviour (reuse, on-demand
# connect, fan-out, Ctrl+C) is exercised through a test-only cmdlet derived from EsxiHostCmdletBase
# (EsxiShellTestCmdlet.cs), compiled here against the built module.

BeforeDiscovery {
    $script:LabState = if ($env:MTVLAB_STATE) { $env:MTVLAB_STATE } else { Join-Path $PSScriptRoot '../../out/lab/lab.json' }
    $script:LabUp = Test-Path $LabState
    $script:LabHostCount = 0
    $script:LabHasKey = $false
    if ($LabUp) {
        $discovered = Get-Content $LabState -Raw | ConvertFrom-Json
        $script:LabHostCount = @($discovered.hosts).Count
        $script:LabHasKey = [bool]$discovered.ssh.keyFile -and [bool]$discovered.ssh.keyFilePem
    }
    # Quotes, $(), backticks, ;, newlines, spaces, globs, options, non-ASCII.
    $script:Hostile = @(
        "it's", "'", "''", '"quoted"', '$(touch /tmp/pwned-subst)', '`touch /tmp/pwned-backtick`',
        'a; touch /tmp/pwned-semicolon', "line1`ntouch /tmp/pwned-newline`n", 'a && touch /tmp/pwned-and || true',
        'a | touch /tmp/pwned-pipe', 'spaces   inside ', ' lead', "tab`there", 'back\slash\', '$HOME ${PATH} $1 $@',
        'glob * ? [a-z]', '~root', '-n', '--', '[LocalDS_0] VM''s "disk" $(1).vmdk', 'ünïcødé ✓ 日本', '>out <in &bg #c !h', ''
    ) | ForEach-Object { @{ Value = $_; Label = ($_ -replace "`n", '\n' -replace "`t", '\t') } }
}

BeforeAll {
    $ErrorActionPreference = 'Stop'
    $manifest = if ($env:MTV_MODULE_PATH) { $env:MTV_MODULE_PATH } else { Join-Path $PSScriptRoot '../../out/MtvRemediation/0.1.0/MtvRemediation.psd1' }
    Import-Module $manifest -Force
    $script:ModulePath = (Get-Module MtvRemediation).Path

    # The test cmdlet: compiled once per process (a type cannot be added twice) under the name the
    # module's InternalsVisibleTo grants, since it derives from EsxiHostCmdletBase's internal seam.
    . (Join-Path $PSScriptRoot '../tools/InternalTypes.ps1')
    $script:TestCmdletAssembly = Import-MtvTestAssembly -Path (Join-Path $PSScriptRoot 'EsxiShellTestCmdlet.cs')
    Import-Module -Assembly $TestCmdletAssembly -Force

    $script:LabState = if ($env:MTVLAB_STATE) { $env:MTVLAB_STATE } else { Join-Path $PSScriptRoot '../../out/lab/lab.json' }
    $script:OldKnownHosts = $env:MTV_KNOWN_HOSTS
    $script:TempDir = Join-Path ([IO.Path]::GetTempPath()) ("mtv-esxishell-" + [guid]::NewGuid().ToString('N'))
    New-Item -ItemType Directory $TempDir | Out-Null
    # Host cmdlets that connect on demand use the default store: point it at a scratch file.
    $env:MTV_KNOWN_HOSTS = Join-Path $TempDir 'default_known_hosts'

    function New-KnownHostsPath { Join-Path $TempDir ("kh-" + [guid]::NewGuid().ToString('N')) }

    if (Test-Path $LabState) {
        Import-Module (Join-Path $PSScriptRoot '../lab/Lab.psm1') -Force
        $state = Get-MtvLab
        $script:Lab = [pscustomobject]@{
            Hosts      = @($state.hosts | ForEach-Object {
                    [pscustomobject]@{ Name = $_.name; Address = $_.address; Port = [int]$_.port; SshdLog = $_.sshdLog }
                })
            Credential = [pscredential]::new($state.ssh.user, (ConvertTo-SecureString $state.ssh.password -AsPlainText -Force))
            Password   = $state.ssh.password
            KeyFile    = $state.ssh.keyFile
            KeyFilePem = $state.ssh.keyFilePem
            KnownHosts = $state.ssh.knownHostsFile
        }
        $script:H1 = $Lab.Hosts[0]
        $script:H2 = $Lab.Hosts[1]
        # The changed-key test gives this host a new key for good: the last one, which others rarely use.
        $script:HRekey = $Lab.Hosts[-1]
    }

    # Logins the host's sshd accepted so far (one line per successful authentication). sshd writes
    # the line a moment after the client is in, so by default wait until the log is quiet.
    function Get-AcceptedLogins($LabHost, [switch] $NoSettle) {
        $count = { @(Select-String -LiteralPath $LabHost.SshdLog -Pattern '^Accepted ').Count }
        $n = & $count
        if ($NoSettle) { return $n }
        $deadline = [DateTime]::UtcNow.AddSeconds(3)
        while ([DateTime]::UtcNow -lt $deadline) {
            Start-Sleep -Milliseconds 250
            $again = & $count
            if ($again -eq $n) { return $n }
            $n = $again
        }
        return $n
    }

    # The host key fingerprint as OpenSSH's own tools see it, independent of our code.
    function Get-TrueFingerprint($LabHost) {
        $scan = ssh-keyscan -t ed25519 -p $LabHost.Port $LabHost.Address 2>$null
        ($scan | ssh-keygen -lf - | Select-Object -First 1).Split(' ')[1]
    }

    # A dropped connection is noticed by SSH.NET's reader thread a moment later.
    # How known_hosts names a host: bare on port 22, [address]:port otherwise (sshd(8), SSH_KNOWN_HOSTS FILE FORMAT).
    function Get-KnownHostsField($LabHost) { if ($LabHost.Port -eq 22) { "$($LabHost.Address)" } else { "[$($LabHost.Address)]:$($LabHost.Port)" } }

    function Wait-Disconnected($Session) {
        $deadline = [DateTime]::UtcNow.AddSeconds(5)
        while ($Session.IsConnected -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 50 }
    }

    function Connect-LabHost($LabHost, [string] $KnownHosts, [switch] $Force) {
        Connect-EsxiShell -VMHost $LabHost.Name -Address $LabHost.Address -Port $LabHost.Port -Credential $Lab.Credential `
            -TrustNewHostKey -KnownHostsPath $KnownHosts -Force:$Force
    }
}

AfterAll {
    Get-EsxiShell | Disconnect-EsxiShell -Confirm:$false
    $env:MTV_KNOWN_HOSTS = $OldKnownHosts
    Remove-Item $TempDir -Recurse -Force -ErrorAction SilentlyContinue
}

Describe 'Connect-EsxiShell input checks (no lab needed)' {
    It 'refuses -Address with several hosts, terminating with EsxiShellInvalidArgument' {
        { 'a', 'b' | Connect-EsxiShell -Address 127.0.0.1 -Credential ([pscredential]::new('root', (ConvertTo-SecureString 'x' -AsPlainText -Force))) } |
            Should -Throw -ErrorId 'EsxiShellInvalidArgument,MtvRemediation.Commands.ConnectEsxiShellCommand'
    }

    It 'refuses an MD5 or malformed fingerprint' {
        { Connect-EsxiShell -VMHost a -HostKeyFingerprint 'MD5:11:22:33' -Credential ([pscredential]::new('root', (ConvertTo-SecureString 'x' -AsPlainText -Force))) } |
            Should -Throw -ErrorId 'EsxiShellInvalidArgument,MtvRemediation.Commands.ConnectEsxiShellCommand'
    }

    It 'without credential says how to pass one instead of prompting' {
        Connect-EsxiShell -VMHost nohost.invalid -ErrorVariable e -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $e[0].FullyQualifiedErrorId | Should -Be 'EsxiShellInvalidArgument,MtvRemediation.Commands.ConnectEsxiShellCommand'
        $e[0].Exception.Message | Should -Match '-Credential'
    }

    It 'a host cmdlet without session or credential writes EsxiShellNotConnected per host and goes on' {
        $out = 'nohost1.invalid', 'nohost2.invalid' | Invoke-MtvTestShellCommand -ErrorVariable e -ErrorAction SilentlyContinue
        $out | Should -BeNullOrEmpty
        $e.Count | Should -Be 2
        $e | ForEach-Object { $_.FullyQualifiedErrorId | Should -Be 'EsxiShellNotConnected,MtvRemediation.Tests.InvokeMtvTestShellCommand' }
        ($e | ForEach-Object TargetObject) | Sort-Object | Should -Be @('nohost1.invalid', 'nohost2.invalid')
    }

    It 'an unresolvable -VMHost object is EsxiShellHostUnresolved' {
        Invoke-MtvTestShellCommand -VMHost 42 -ErrorVariable e -ErrorAction SilentlyContinue
        $e[0].FullyQualifiedErrorId | Should -Be 'EsxiShellHostUnresolved,MtvRemediation.Tests.InvokeMtvTestShellCommand'
    }

    It 'a closed port is EsxiShellConnectFailed with what to check' {
        $probe = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0); $probe.Start()
        $port = $probe.LocalEndpoint.Port; $probe.Stop()   # now nothing listens there
        Connect-EsxiShell -VMHost closed -Address 127.0.0.1 -Port $port -Credential ([pscredential]::new('root', (ConvertTo-SecureString 'x' -AsPlainText -Force))) `
            -KnownHostsPath (New-KnownHostsPath) -ErrorVariable e -ErrorAction SilentlyContinue
        $e[0].FullyQualifiedErrorId | Should -Be 'EsxiShellConnectFailed,MtvRemediation.Commands.ConnectEsxiShellCommand'
        $e[0].CategoryInfo.Category | Should -Be 'ConnectionError'
        $e[0].Exception.Message | Should -Match 'TSM-SSH'
    }

    It 'a peer that never speaks SSH times out with EsxiShellConnectTimeout' {
        $silent = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0); $silent.Start()   # accepts, says nothing
        try {
            $sw = [Diagnostics.Stopwatch]::StartNew()
            Connect-EsxiShell -VMHost silent -Address 127.0.0.1 -Port $silent.LocalEndpoint.Port -ConnectTimeoutSeconds 2 `
                -Credential ([pscredential]::new('root', (ConvertTo-SecureString 'x' -AsPlainText -Force))) `
                -KnownHostsPath (New-KnownHostsPath) -ErrorVariable e -ErrorAction SilentlyContinue
            $sw.Elapsed.TotalSeconds | Should -BeLessThan 6
            $e[0].FullyQualifiedErrorId | Should -Be 'EsxiShellConnectTimeout,MtvRemediation.Commands.ConnectEsxiShellCommand'
            $e[0].CategoryInfo.Category | Should -Be 'OperationTimeout'
        }
        finally { $silent.Stop() }
    }

    It 'Get-EsxiShell of an unknown id or name is EsxiShellSessionNotFound, wildcards are quiet' {
        Get-EsxiShell -Id 99999 -ErrorVariable e -ErrorAction SilentlyContinue
        $e[0].FullyQualifiedErrorId | Should -Be 'EsxiShellSessionNotFound,MtvRemediation.Commands.GetEsxiShellCommand'
        Get-EsxiShell -VMHost 'nohost-*' -ErrorVariable e2 -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $e2.Count | Should -Be 0
    }
}

Describe 'Known hosts file shared by processes (no lab needed)' {
    It 'three processes recording keys at once lose and duplicate nothing' {
        $kh = New-KnownHostsPath
        $keys = 1..6 | ForEach-Object {
            $k = Join-Path $TempDir "key$_"
            ssh-keygen -q -t ed25519 -N '' -f $k | Out-Null
            (Get-Content "$k.pub").Split(' ')[1]
        }
        $jobs = 1..3 | ForEach-Object {
            Start-Job -ArgumentList $ModulePath, $kh, $keys -ScriptBlock {
                param($Module, $Path, $Keys)
                Import-Module $Module
                # KnownHostsStore is internal: reached through the module's assembly.
                $store = (Get-Module MtvRemediation).ImplementingAssembly.GetType('MtvRemediation.Esxi.KnownHostsStore', $true)
                # Every process records the same 6 host keys on 20 ports: 120 distinct entries in all.
                foreach ($port in 2201..2220) {
                    $blob = [Convert]::FromBase64String($Keys[$port % 6])
                    [Activator]::CreateInstance($store, @($Path)).Add('127.0.0.1', $port, $blob)
                }
            }
        }
        $jobs | Wait-Job -Timeout 120 | Receive-Job -ErrorAction Stop
        $jobs | Remove-Job -Force
        $lines = Get-Content $kh
        $lines.Count | Should -Be 20
        @($lines | Sort-Object -Unique).Count | Should -Be 20
        foreach ($port in 2201..2220) {
            ssh-keygen -F "[127.0.0.1]:$port" -f $kh | Out-String | Should -Match ([regex]::Escape($keys[$port % 6]))
        }
        Test-Path "$kh.lock" | Should -BeFalse
    }
}

Describe 'ESXi shell sessions against the lab' -Tag Lab -Skip:(-not $LabUp) {
    AfterEach {
        Get-EsxiShell | Disconnect-EsxiShell -Confirm:$false
    }

    Context 'logging in' {
        It 'keyboard-interactive: the password is answered to the Password: prompt' {
            $before = Get-AcceptedLogins $H1
            $s = Connect-LabHost $H1 (New-KnownHostsPath)
            $s.PSObject.TypeNames[0] | Should -Be 'MtvRemediation.EsxiShellSession'
            $s.VMHost | Should -Be $H1.Name
            $s.Address | Should -Be $H1.Address
            $s.Port | Should -Be $H1.Port
            $s.User | Should -Be $Lab.Credential.UserName
            $s.IsConnected | Should -BeTrue
            $s.ConnectedAt | Should -BeGreaterThan (Get-Date).AddMinutes(-1)
            $s.HostKeyFingerprint | Should -MatchExactly '^SHA256:[A-Za-z0-9+/]{43}$'
            $s.HostKeyFingerprint | Should -BeExactly (Get-TrueFingerprint $H1)
            (Get-AcceptedLogins $H1) | Should -Be ($before + 1)
            (Get-Content $H1.SshdLog | Select-String 'Accepted ' | Select-Object -Last 1) | Should -Match 'Accepted keyboard-interactive'
        }

        It 'public key: OpenSSH and PEM key files, and an encrypted key with its passphrase' -Skip:(-not $LabHasKey) {
            $user = $Lab.Credential.UserName
            $userOnly = [pscredential]::new($user, [securestring]::new())
            foreach ($key in $Lab.KeyFile, $Lab.KeyFilePem) {
                $s = Connect-EsxiShell -VMHost $H1.Name -Address $H1.Address -Port $H1.Port -KeyFilePath $key -Credential $userOnly `
                    -TrustNewHostKey -KnownHostsPath (New-KnownHostsPath) -Force
                $s.IsConnected | Should -BeTrue
                $s.User | Should -Be $user
                $null = Get-AcceptedLogins $H1
                (Get-Content $H1.SshdLog | Select-String '^Accepted ' | Select-Object -Last 1) | Should -Match "Accepted publickey for $user"
            }
            # The same key, encrypted: passphrase as a SecureString, or as the credential's password.
            $encrypted = Join-Path $TempDir 'id_encrypted'
            Copy-Item $Lab.KeyFile $encrypted
            ssh-keygen -q -p -N 'Key-Pa55phrase' -f $encrypted | Out-Null
            $pass = ConvertTo-SecureString 'Key-Pa55phrase' -AsPlainText -Force
            (Connect-EsxiShell -VMHost $H1.Name -Address $H1.Address -Port $H1.Port -KeyFilePath $encrypted -KeyPassphrase $pass -Credential $userOnly `
                -TrustNewHostKey -KnownHostsPath (New-KnownHostsPath) -Force).IsConnected | Should -BeTrue
            (Connect-EsxiShell -VMHost $H1.Name -Address $H1.Address -Port $H1.Port -KeyFilePath $encrypted -Credential ([pscredential]::new($user, $pass)) `
                -TrustNewHostKey -KnownHostsPath (New-KnownHostsPath) -Force).IsConnected | Should -BeTrue
            Connect-EsxiShell -VMHost $H1.Name -Address $H1.Address -Port $H1.Port -KeyFilePath $encrypted -Credential $userOnly `
                -TrustNewHostKey -KnownHostsPath (New-KnownHostsPath) -Force -ErrorVariable e -ErrorAction SilentlyContinue
            $e[0].FullyQualifiedErrorId | Should -Be 'EsxiShellKeyFileInvalid,MtvRemediation.Commands.ConnectEsxiShellCommand'
        }

        It 'the lab''s known_hosts file (written by OpenSSH tools) is trusted as is' {
            $s = Connect-EsxiShell -VMHost $H1.Name -Address $H1.Address -Port $H1.Port -Credential $Lab.Credential -KnownHostsPath $Lab.KnownHosts
            $s.IsConnected | Should -BeTrue
        }

        It 'wrong password: clear error with id and the offered methods, and no secret in any stream' {
            $wrong = 'Wr0ng-' + [guid]::NewGuid().ToString('N')
            $cred = [pscredential]::new($Lab.Credential.UserName, (ConvertTo-SecureString $wrong -AsPlainText -Force))
            $before = Get-AcceptedLogins $H1
            $all = Connect-EsxiShell -VMHost $H1.Name -Address $H1.Address -Port $H1.Port -Credential $cred -TrustNewHostKey `
                -KnownHostsPath (New-KnownHostsPath) -Verbose -Debug -ErrorVariable e -ErrorAction SilentlyContinue *>&1 | Out-String
            $e.Count | Should -Be 1
            $e[0].FullyQualifiedErrorId | Should -Be 'EsxiShellAuthenticationFailed,MtvRemediation.Commands.ConnectEsxiShellCommand'
            $e[0].CategoryInfo.Category | Should -Be 'AuthenticationError'
            $e[0].TargetObject | Should -Be $H1.Name
            $e[0].Exception.Message | Should -Match 'offered: .*keyboard-interactive'
            $e[0].Exception.Message | Should -Match ([regex]::Escape("as '$($Lab.Credential.UserName)'"))
            $text = $all + ($e | Out-String) + ($e[0].Exception | Format-List * -Force | Out-String)
            $text | Should -Not -Match ([regex]::Escape($wrong))
            $text | Should -Not -Match ([regex]::Escape($Lab.Password))
            (Get-AcceptedLogins $H1) | Should -Be $before
            @(Get-EsxiShell -VMHost $H1.Name -ErrorAction SilentlyContinue).Count | Should -Be 0
        }
    }

    Context 'host keys' {
        It 'unknown key: refused with its fingerprint and the command to trust it, then trusted with -TrustNewHostKey' {
            $kh = New-KnownHostsPath
            $truth = Get-TrueFingerprint $H1
            $before = Get-AcceptedLogins $H1
            Connect-EsxiShell -VMHost $H1.Name -Address $H1.Address -Port $H1.Port -Credential $Lab.Credential -KnownHostsPath $kh `
                -ErrorVariable e -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
            $e[0].FullyQualifiedErrorId | Should -Be 'EsxiShellHostKeyUnknown,MtvRemediation.Commands.ConnectEsxiShellCommand'
            $e[0].CategoryInfo.Category | Should -Be 'SecurityError'
            $e[0].Exception.Message | Should -Match ([regex]::Escape($truth))
            $e[0].Exception.Message | Should -Match ([regex]::Escape("-HostKeyFingerprint '$truth'"))
            $e[0].Exception.Message | Should -Match '-TrustNewHostKey'
            (Get-AcceptedLogins $H1) | Should -Be $before -Because 'no credential may be sent to an unverified host'
            Test-Path $kh | Should -BeFalse

            $s = Connect-EsxiShell -VMHost $H1.Name -Address $H1.Address -Port $H1.Port -Credential $Lab.Credential -KnownHostsPath $kh -TrustNewHostKey
            $s.HostKeyFingerprint | Should -Be $truth
            # Recorded in OpenSSH format: OpenSSH's own tools find it.
            ssh-keygen -F (Get-KnownHostsField $H1) -f $kh | Out-String | Should -Match 'ssh-ed25519'
            # From now on the key is known: a fresh connection needs no trust switch.
            $s2 = Connect-EsxiShell -VMHost $H1.Name -Address $H1.Address -Port $H1.Port -Credential $Lab.Credential -KnownHostsPath $kh -Force
            $s2.IsConnected | Should -BeTrue
        }

        It 'pinned fingerprint: the matching pin connects, another pin is refused' {
            $truth = Get-TrueFingerprint $H1
            $s = Connect-EsxiShell -VMHost $H1.Name -Address $H1.Address -Port $H1.Port -Credential $Lab.Credential `
                -KnownHostsPath (New-KnownHostsPath) -HostKeyFingerprint $truth.Substring(7)   # without 'SHA256:' works too
            $s.HostKeyFingerprint | Should -Be $truth

            $other = Get-TrueFingerprint $H2
            $other | Should -Not -Be $truth
            Connect-EsxiShell -VMHost $H1.Name -Address $H1.Address -Port $H1.Port -Credential $Lab.Credential -Force `
                -KnownHostsPath (New-KnownHostsPath) -HostKeyFingerprint $other -ErrorVariable e -ErrorAction SilentlyContinue
            $e[0].FullyQualifiedErrorId | Should -Be 'EsxiShellHostKeyMismatch,MtvRemediation.Commands.ConnectEsxiShellCommand'
        }

        It 'changed key (host re-keyed): always refused, even with -TrustNewHostKey, also when a live session reconnects' {
            $kh = New-KnownHostsPath
            $s = Connect-LabHost $HRekey $kh
            $old = $s.HostKeyFingerprint
            # Drop the live connection first (sessions started before a rekey outlive the old listener).
            (Disconnect-LabSshSession $HRekey.Name) | Should -BeGreaterOrEqual 1
            $new = Update-LabHostKey $HRekey.Name
            $new | Should -Not -Be $old
            $new | Should -Be (Get-TrueFingerprint $HRekey)
            $record = Get-Content -LiteralPath $kh
            $before = Get-AcceptedLogins $HRekey

            Connect-EsxiShell -VMHost $HRekey.Name -Address $HRekey.Address -Port $HRekey.Port -Credential $Lab.Credential -KnownHostsPath $kh `
                -TrustNewHostKey -Force -ErrorVariable e -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
            $e[0].FullyQualifiedErrorId | Should -Be 'EsxiShellHostKeyChanged,MtvRemediation.Commands.ConnectEsxiShellCommand'
            $e[0].CategoryInfo.Category | Should -Be 'SecurityError'
            $e[0].Exception.Message | Should -Match 'HAS CHANGED'
            $e[0].Exception.Message | Should -Match ([regex]::Escape($old))
            $e[0].Exception.Message | Should -Match ([regex]::Escape($new))
            $e[0].Exception.Message | Should -Match ([regex]::Escape("ssh-keygen -R '$(Get-KnownHostsField $HRekey)'"))
            Get-Content -LiteralPath $kh | Should -Be $record

            # The session opened before the change must not silently accept the new key on reconnect.
            Wait-Disconnected $s
            $s.IsConnected | Should -BeFalse
            Invoke-MtvTestShellCommand -VMHost $HRekey.Name -ErrorVariable e2 -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
            $e2[0].FullyQualifiedErrorId | Should -Be 'EsxiShellHostKeyChanged,MtvRemediation.Tests.InvokeMtvTestShellCommand'
            (Get-AcceptedLogins $HRekey) | Should -Be $before -Because 'no credential is sent to a host whose key changed'
        }
    }

    Context 'sessions' {
        It 'one handshake per host across many host cmdlets and a whole pipeline' {
            $kh = New-KnownHostsPath
            $s1 = Connect-LabHost $H1 $kh
            $s2 = Connect-LabHost $H2 $kh
            $b1 = Get-AcceptedLogins $H1; $b2 = Get-AcceptedLogins $H2
            1..5 | ForEach-Object { Invoke-MtvTestShellCommand -VMHost $H1.Name -Program true } | Out-Null
            $r = $H1.Name, $H2.Name, $s1, [pscustomobject]@{ VMHost = $H2.Name } | Invoke-MtvTestShellCommand -Program echo -Argument hi
            $r.Count | Should -Be 2 -Because 'the same host twice in one pipeline is worked on once'
            $r.Stdout | ForEach-Object { $_ | Should -Be "hi`n" }
            Get-EsxiShell | Invoke-MtvTestShellCommand -Program true | Out-Null
            (Get-AcceptedLogins $H1) | Should -Be $b1
            (Get-AcceptedLogins $H2) | Should -Be $b2
            (Get-EsxiShell -VMHost $H1.Name).ConnectCount | Should -Be 1
            # Connect-EsxiShell again returns the live session instead of logging in again.
            (Connect-LabHost $H1 $kh -WarningVariable w).Id | Should -Be $s1.Id
            $w.Count | Should -Be 0
            # Asking for another endpoint without -Force says the existing one is kept.
            (Connect-EsxiShell -VMHost $H1.Name -Address $H1.Address -Port ($H1.Port + 1) -Credential $Lab.Credential -KnownHostsPath $kh `
                -WarningVariable w2 -WarningAction SilentlyContinue).Id | Should -Be $s1.Id
            "$w2" | Should -Match 'Use -Force'
            (Get-AcceptedLogins $H1) | Should -Be $b1
        }

        It '-Confirm asks before opening each session: No opens nothing, Yes connects; $ConfirmPreference Medium asks too' {
            # Its own runspace, with a host that answers the confirmation prompts from a script.
            if (-not ('MtvRemediation.TestHost.ScriptedHost' -as [type])) { Add-Type -Path (Join-Path $PSScriptRoot 'ScriptedHost.cs') }
            function Invoke-Confirmed([string[]] $Answers, [scriptblock] $Script) {
                $ui = [MtvRemediation.TestHost.ScriptedHost]::new($Answers)
                $rs = [runspacefactory]::CreateRunspace($ui)
                $rs.Open()
                $ps = [powershell]::Create()
                try {
                    $ps.Runspace = $rs
                    $null = $ps.AddScript($Script).AddParameters(@{ m = $ModulePath; h = $H1; cred = $Lab.Credential; kh = (New-KnownHostsPath) })
                    $out = @($ps.Invoke())
                    [pscustomobject]@{ Sessions = $out[-1]; Prompts = @($ui.Prompts); Errors = @($ps.Streams.Error | ForEach-Object { "$_" }) }
                }
                finally { $ps.Dispose(); $rs.Dispose() }
            }
            $connect = {
                param($m, $h, $cred, $kh)
                Import-Module $m
                Connect-EsxiShell -VMHost $h.Name -Address $h.Address -Port $h.Port -Credential $cred -TrustNewHostKey -KnownHostsPath $kh -Confirm | Out-Null
                @(Get-EsxiShell).Count
            }
            $logins = Get-AcceptedLogins $H1
            $no = Invoke-Confirmed 'No' $connect
            $no.Prompts.Count | Should -Be 1
            $no.Prompts[0] | Should -Match ([regex]::Escape('"Open an SSH session" on target "' + $H1.Name + '"'))
            $no.Sessions | Should -Be 0
            $no.Errors | Should -BeNullOrEmpty
            (Get-AcceptedLogins $H1) | Should -Be $logins -Because 'a declined connect does not log in'

            $yes = Invoke-Confirmed 'Yes' $connect
            $yes.Prompts.Count | Should -Be 1
            $yes.Sessions | Should -Be 1
            $yes.Errors | Should -BeNullOrEmpty

            # Opening a session has medium impact: asked at $ConfirmPreference Medium, not at the default High.
            $preference = Invoke-Confirmed 'No' {
                param($m, $h, $cred, $kh)
                Import-Module $m
                $ConfirmPreference = 'Medium'
                Connect-EsxiShell -VMHost $h.Name -Address $h.Address -Port $h.Port -Credential $cred -TrustNewHostKey -KnownHostsPath $kh | Out-Null
                @(Get-EsxiShell).Count
            }
            $preference.Prompts.Count | Should -Be 1
            $preference.Sessions | Should -Be 0
            $default = Invoke-Confirmed @() {
                param($m, $h, $cred, $kh)
                Import-Module $m
                Connect-EsxiShell -VMHost $h.Name -Address $h.Address -Port $h.Port -Credential $cred -TrustNewHostKey -KnownHostsPath $kh | Out-Null
                @(Get-EsxiShell).Count
            }
            $default.Prompts.Count | Should -Be 0
            $default.Sessions | Should -Be 1
        }

        It 'Get-EsxiShell filters; Disconnect-EsxiShell closes by pipeline, name, id and -All' {
            $kh = New-KnownHostsPath
            $s1 = Connect-LabHost $H1 $kh
            $s2 = Connect-LabHost $H2 $kh
            @(Get-EsxiShell).Count | Should -Be 2
            (Get-EsxiShell -VMHost $H2.Name).Id | Should -Be $s2.Id
            (Get-EsxiShell -Id $s1.Id).VMHost | Should -Be $H1.Name
            (Get-EsxiShell -VMHost ($H1.Name.Substring(0, 2) + '*')).Count | Should -BeGreaterOrEqual 1
            Get-EsxiShell -VMHost $H1.Name | Disconnect-EsxiShell -Confirm:$false
            $s1.IsConnected | Should -BeFalse
            @(Get-EsxiShell).Count | Should -Be 1
            Disconnect-EsxiShell -Id $s2.Id -Confirm:$false
            $s2.IsConnected | Should -BeFalse
            Connect-LabHost $H1 $kh | Out-Null
            Disconnect-EsxiShell -VMHost $H1.Name -WhatIf
            @(Get-EsxiShell).Count | Should -Be 1 -Because '-WhatIf closes nothing'
            Disconnect-EsxiShell -All -Confirm:$false
            @(Get-EsxiShell).Count | Should -Be 0
        }

        It 'host cmdlets open a session on demand with -Credential and then reuse it' {
            # Call the resolver every host cmdlet uses with an explicit endpoint, then let the cmdlet
            # reuse what it opened (Ergonomics.Tests.ps1 opens sessions on demand by host name).
            $resolver = (Get-MtvInternalType 'MtvRemediation.Esxi.EsxiShellResolver')::ForCurrentRunspace()
            $options = [Activator]::CreateInstance((Get-MtvInternalType 'MtvRemediation.Esxi.ConnectOptions'))
            $options.Address = $H1.Address; $options.Port = $H1.Port; $options.TrustNewHostKey = $true; $options.KnownHostsPath = (New-KnownHostsPath)
            $before = Get-AcceptedLogins $H1
            $none = [Threading.CancellationToken]::None
            $shell = $resolver.Resolve($H1.Name, $Lab.Credential, $null, $options, $none)
            [object]::ReferenceEquals($shell, $resolver.Resolve($H1.Name, $Lab.Credential, $null, $options, $none)) | Should -BeTrue
            (Invoke-MtvTestShellCommand -VMHost $H1.Name -Credential $Lab.Credential -Program echo -Argument x).Stdout | Should -Be "x`n"
            (Get-EsxiShell -VMHost $H1.Name).ConnectCount | Should -Be 1
            (Get-AcceptedLogins $H1) | Should -Be ($before + 1)
        }

        It 'a host cmdlet given -Credential for a host without session really connects (name as address, port 22)' {
            Invoke-MtvTestShellCommand -VMHost 127.0.0.1 -Credential $Lab.Credential -ErrorVariable e -ErrorAction SilentlyContinue
            # No lab host listens on port 22: the attempt fails with an id (or meets an unknown key).
            $e[0].FullyQualifiedErrorId | Should -Match '^EsxiShell(ConnectFailed|HostKeyUnknown),'
            $e[0].TargetObject | Should -Be '127.0.0.1'
            @(Get-EsxiShell -VMHost 127.0.0.1 -ErrorAction SilentlyContinue).Count | Should -Be 0
        }

        It 'a dropped connection is re-opened transparently, checking the same host key' {
            $s = Connect-LabHost $H1 (New-KnownHostsPath)
            $before = Get-AcceptedLogins $H1
            (Disconnect-LabSshSession $H1.Name) | Should -BeGreaterOrEqual 1
            Wait-Disconnected $s
            $s.IsConnected | Should -BeFalse
            $r = Invoke-MtvTestShellCommand -VMHost $H1.Name -Program echo -Argument back
            $r.Stdout | Should -Be "back`n"
            $s.IsConnected | Should -BeTrue
            $s.ConnectCount | Should -Be 2
            (Get-EsxiShell).Id | Should -Be $s.Id
            (Get-AcceptedLogins $H1) | Should -Be ($before + 1)
        }

        It 'a connection lost while a command runs is EsxiShellCommandFailed; the next command reconnects' {
            $s = Connect-LabHost $H1 (New-KnownHostsPath)
            # Kill this session's sshd process from inside the command.
            Invoke-MtvTestShellCommand -VMHost $H1.Name -Script 'kill -9 $PPID' -ErrorVariable e -ErrorAction SilentlyContinue | Out-Null
            $e[0].FullyQualifiedErrorId | Should -Be 'EsxiShellCommandFailed,MtvRemediation.Tests.InvokeMtvTestShellCommand'
            $e[0].Exception.Message | Should -Match 'may or may not have completed'
            (Invoke-MtvTestShellCommand -VMHost $H1.Name -Program echo -Argument again).Stdout | Should -Be "again`n"
            $s.ConnectCount | Should -Be 2
        }

        It 'Remove-Module closes the sessions of its runspace' {
            $ps = [powershell]::Create()
            try {
                $null = $ps.AddScript({
                        param($Module, $LabHost, $Cred, $KnownHosts)
                        Import-Module $Module
                        $s = Connect-EsxiShell -VMHost $LabHost.Name -Address $LabHost.Address -Port $LabHost.Port -Credential $Cred -TrustNewHostKey -KnownHostsPath $KnownHosts
                        $was = $s.IsConnected
                        Remove-Module MtvRemediation
                        [pscustomobject]@{ Before = $was; After = $s.IsConnected }
                    }).AddArgument($ModulePath).AddArgument($H1).AddArgument($Lab.Credential).AddArgument((New-KnownHostsPath))
                $r = $ps.Invoke()
                $ps.Streams.Error | Should -BeNullOrEmpty
                $r.Before | Should -BeTrue
                $r.After | Should -BeFalse
                # Our own runspace's sessions are untouched by the other runspace's removal.
                @(Get-EsxiShell).Count | Should -Be 0
            }
            finally { $ps.Dispose() }
        }
    }

    Context 'remote execution' {
        It 'hostile argument [<Label>] reaches the remote side byte-identical' -ForEach $Hostile {
            $value = $Value
            Connect-LabHost $H1 (New-KnownHostsPath) | Out-Null
            $r = Invoke-MtvTestShellCommand -VMHost $H1.Name -Program printf -Argument '%s', $value
            $r.ExitStatus | Should -Be 0
            $r.Stdout | Should -BeExactly $value
            # Byte-exact, independent of decoding: the remote od dumps what printf received.
            $hex = Invoke-MtvTestShellCommand -VMHost $H1.Name -Template 'printf %s {0} | od -An -v -tx1' -Argument $value
            $remote = -join ($hex.Stdout -split '\s+' | Where-Object { $_ })
            $local = -join ([Text.Encoding]::UTF8.GetBytes($value) | ForEach-Object { $_.ToString('x2') })
            $remote | Should -BeExactly $local
        }

        It 'and none of them executed anything on the host' {
            Connect-LabHost $H1 (New-KnownHostsPath) | Out-Null
            $probe = Invoke-MtvTestShellCommand -VMHost $H1.Name -Script 'ls /tmp/ | grep -c pwned- || true'
            $probe.Stdout.Trim() | Should -Be '0'
            # The probe itself works: a file created on purpose is seen.
            Invoke-MtvTestShellCommand -VMHost $H1.Name -Program touch -Argument '/tmp/pwned-control' | Out-Null
            (Invoke-MtvTestShellCommand -VMHost $H1.Name -Script 'ls /tmp/ | grep -c pwned- || true').Stdout.Trim() | Should -Be '1'
            Invoke-MtvTestShellCommand -VMHost $H1.Name -Program rm -Argument '-f', '/tmp/pwned-control' | Out-Null
        }

        It 'exit status and stderr are captured' {
            Connect-LabHost $H1 (New-KnownHostsPath) | Out-Null
            $r = Invoke-MtvTestShellCommand -VMHost $H1.Name -Script 'echo out; echo err >&2; exit 7'
            $r.ExitStatus | Should -Be 7
            $r.Stdout | Should -Be "out`n"
            $r.Stderr | Should -Be "err`n"
        }

        It 'a command over its timeout is stopped, on the host too, with EsxiShellCommandTimeout; the session stays usable' {
            Connect-LabHost $H1 (New-KnownHostsPath) | Out-Null
            $marker = '/tmp/mtv-timeout-' + [guid]::NewGuid().ToString('N')
            $sw = [Diagnostics.Stopwatch]::StartNew()
            Invoke-MtvTestShellCommand -VMHost $H1.Name -Template 'sleep 3; touch {0}' -Argument $marker -TimeoutSeconds 1 -ErrorVariable e -ErrorAction SilentlyContinue
            $sw.Elapsed.TotalSeconds | Should -BeLessThan 3
            $e[0].FullyQualifiedErrorId | Should -Be 'EsxiShellCommandTimeout,MtvRemediation.Tests.InvokeMtvTestShellCommand'
            $e[0].CategoryInfo.Category | Should -Be 'OperationTimeout'
            (Invoke-MtvTestShellCommand -VMHost $H1.Name -Program echo -Argument ok).Stdout | Should -Be "ok`n"
            Start-Sleep -Seconds 3
            (Invoke-LabHost $H1.Name "test -e $marker && echo ran || echo stopped") | Should -Be 'stopped'
        }

        It 'a command marked KeepRunningIfDisconnected runs to its end after a timeout' {
            Connect-LabHost $H1 (New-KnownHostsPath) | Out-Null
            $marker = '/tmp/mtv-keep-' + [guid]::NewGuid().ToString('N')
            Invoke-MtvTestShellCommand -VMHost $H1.Name -Template 'sleep 2; touch {0}' -Argument $marker -KeepRunning -TimeoutSeconds 1 -ErrorVariable e -ErrorAction SilentlyContinue
            # The timeout really happened, while the command was still running ...
            $e[0].FullyQualifiedErrorId | Should -Be 'EsxiShellCommandTimeout,MtvRemediation.Tests.InvokeMtvTestShellCommand'
            (Invoke-LabHost $H1.Name "test -e $marker && echo ran || echo running") | Should -Be 'running'
            # ... and it still ran to its end on the host.
            $deadline = [DateTime]::UtcNow.AddSeconds(8)
            while (-not (Invoke-LabHost $H1.Name "test -e $marker && echo ran || true") -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 200 }
            (Invoke-LabHost $H1.Name "test -e $marker && echo ran || echo stopped") | Should -Be 'ran'
            Invoke-LabHost $H1.Name "rm -f $marker" | Out-Null
        }

        It 'large output streams through RunStreamingAsync' {
            Connect-LabHost $H1 (New-KnownHostsPath) | Out-Null
            $shell = (Get-MtvInternalType 'MtvRemediation.Esxi.EsxiShellResolver')::ForCurrentRunspace().Resolve($H1.Name, $null, $null, $null, [Threading.CancellationToken]::None)
            $sink = [IO.MemoryStream]::new()
            $cmd = (Get-MtvInternalType 'MtvRemediation.Esxi.RemoteCommand')::Format('head -c {0} /dev/zero | tr "\000" x', '3000000')
            $r = $shell.RunStreamingAsync($cmd, $sink, [timespan]::FromSeconds(60), [Threading.CancellationToken]::None).GetAwaiter().GetResult()
            $r.ExitStatus | Should -Be 0
            $sink.Length | Should -Be 3000000
            $r.Stdout | Should -Be ''
        }

        It 'Ctrl+C during a long remote command returns promptly' {
            $marker = '/tmp/mtv-ctrlc-' + [guid]::NewGuid().ToString('N')
            $rs = [runspacefactory]::CreateRunspace()
            $rs.Open()
            $ps = [powershell]::Create()
            $ps.Runspace = $rs
            try {
                $null = $ps.AddScript({
                        param($Module, $TestAssembly, $LabHost, $Cred, $KnownHosts, $Marker)
                        Import-Module $Module
                        Import-Module -Assembly $TestAssembly
                        Connect-EsxiShell -VMHost $LabHost.Name -Address $LabHost.Address -Port $LabHost.Port -Credential $Cred -TrustNewHostKey -KnownHostsPath $KnownHosts | Out-Null
                        'connected'
                        # The remote shell writes its pid, then becomes the sleep: proof that it runs, and what to look for after the stop.
                        Invoke-MtvTestShellCommand -VMHost $LabHost.Name -Template 'echo $$ > {0}; exec sleep 61' -Argument $Marker -TimeoutSeconds 120
                    }).AddArgument($ModulePath).AddArgument($TestCmdletAssembly).AddArgument($H1).AddArgument($Lab.Credential).AddArgument((New-KnownHostsPath)).AddArgument($marker)
                $output = [Management.Automation.PSDataCollection[psobject]]::new()
                $async = $ps.BeginInvoke([Management.Automation.PSDataCollection[psobject]]::new(), $output)
                $deadline = [DateTime]::UtcNow.AddSeconds(20)
                while ($output.Count -eq 0 -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 50 }
                $output[0] | Should -Be 'connected'
                $deadline = [DateTime]::UtcNow.AddSeconds(20)
                while (-not ($remotePid = Invoke-LabHost $H1.Name "cat $marker 2>/dev/null || true") -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 50 }
                $remotePid | Should -Match '^\d+$' -Because 'the remote command runs on the host before the stop'
                Invoke-LabHost $H1.Name "kill -0 $remotePid && echo alive" | Should -Be 'alive'
                $sw = [Diagnostics.Stopwatch]::StartNew()
                $ps.Stop()                       # what Ctrl+C does: StopProcessing
                $sw.Elapsed.TotalSeconds | Should -BeLessThan 3
                $async.IsCompleted | Should -BeTrue
                $ps.InvocationStateInfo.State | Should -Be 'Stopped'
                # ... and the remote command was stopped too, not left running on the host.
                $deadline = [DateTime]::UtcNow.AddSeconds(5)
                while ((Invoke-LabHost $H1.Name "kill -0 $remotePid 2>/dev/null && echo alive || echo gone") -ne 'gone' -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 200 }
                Invoke-LabHost $H1.Name "kill -0 $remotePid 2>/dev/null && echo alive || echo gone" | Should -Be 'gone'
            }
            finally {
                $ps.Dispose()
                $rs.Dispose()
                Invoke-LabHost $H1.Name "rm -f $marker" | Out-Null
            }
        }
    }

    Context 'parallel runspaces' {
        It 'runspaces trusting the same hosts at once record each key exactly once' {
            $kh = New-KnownHostsPath
            $targets = @($Lab.Hosts | Select-Object -First 3)
            $results = 1..4 | ForEach-Object -ThrottleLimit 4 -Parallel {
                Import-Module $using:ModulePath
                $s = @($using:targets | Connect-EsxiShell -Credential $using:Lab.Credential -TrustNewHostKey -KnownHostsPath $using:kh)
                $ok = @($s | Where-Object IsConnected).Count
                Disconnect-EsxiShell -All -Confirm:$false
                $ok
            }
            $results | Should -Be @(3, 3, 3, 3)
            $lines = @(Get-Content $kh)
            $lines.Count | Should -Be 3
            foreach ($t in $targets) { @($lines | Where-Object { $_.StartsWith("$(Get-KnownHostsField $t) ") }).Count | Should -Be 1 }
        }
    }

    Context 'many hosts' {
        It 'connects 24 hosts in parallel in one call and works on all of them at once' -Skip:($LabHostCount -lt 24) {
            $hosts = @($Lab.Hosts | Select-Object -First 24)
            $null = Get-AcceptedLogins $hosts[0]   # let earlier logins settle
            $before = @($hosts | ForEach-Object { Get-AcceptedLogins $_ -NoSettle })
            # Each pipeline object brings its own Address/Port (bound by property name).
            $sessions = @($hosts | Connect-EsxiShell -Credential $Lab.Credential -TrustNewHostKey -KnownHostsPath (New-KnownHostsPath) -ThrottleLimit 32)
            $sessions.Count | Should -Be 24
            @($sessions | Where-Object IsConnected).Count | Should -Be 24
            @($sessions.Id | Sort-Object -Unique).Count | Should -Be 24
            Start-Sleep -Milliseconds 500
            for ($i = 0; $i -lt 24; $i++) {
                (Get-AcceptedLogins $hosts[$i] -NoSettle) | Should -Be ($before[$i] + 1) -Because "$($hosts[$i].Name) logs in once"
                ($sessions | Where-Object VMHost -EQ $hosts[$i].Name).Port | Should -Be $hosts[$i].Port
            }
            # Work on all 24 at once: each command holds its worker for a second.
            $r = @(Get-EsxiShell | Invoke-MtvTestShellCommand -Script 'sleep 1; echo done' -ThrottleLimit 32)
            $r.Count | Should -Be 24
            @($r | Where-Object Stdout -EQ "done`n").Count | Should -Be 24
            @($r.ThreadId | Sort-Object -Unique).Count | Should -BeGreaterThan 12 -Because 'hosts are worked on concurrently, not one after another'
            Start-Sleep -Milliseconds 500
            for ($i = 0; $i -lt 24; $i++) { (Get-AcceptedLogins $hosts[$i] -NoSettle) | Should -Be ($before[$i] + 1) }
        }
    }
}
