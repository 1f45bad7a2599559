# Invoke-MtvRemediation end to end on the lab: the scene (a host's /var full of wrapper log, a
# failed clone task directory holding the 7228 stderr, a VM with a stale ctk file, CBT on) is set up and read back WITHOUT the module
# (tests/lab/RunbookScene.ps1: chroot, raw SOAP, the datastore directory), so every assertion on
# lab state is independent of the code under test.

BeforeDiscovery {
    Import-Module (Join-Path $PSScriptRoot '../lab/Lab.psm1') -Force
    $script:NoLab = try { $null -eq (Get-MtvLab) } catch { $true }
}

BeforeAll {
    # PNG decoder for the screenshot check (8-bit RGB/RGBA, all filter types).
    if (-not ('MtvRunbookTests.Png' -as [type])) {
        Add-Type -TypeDefinition @'
using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
namespace MtvRunbookTests {
    public sealed class PngStats { public int Width; public int Height; public long NonWhite; public int Colours; public long Green; }
    public static class Png {
        public static PngStats Stats(byte[] png) {
            int width = 0, height = 0, channels = 0;
            var idat = new MemoryStream();
            for (var pos = 8; pos < png.Length;) {
                var len = (png[pos] << 24) | (png[pos + 1] << 16) | (png[pos + 2] << 8) | png[pos + 3];
                var type = System.Text.Encoding.ASCII.GetString(png, pos + 4, 4);
                if (type == "IHDR") {
                    width = (png[pos + 8] << 24) | (png[pos + 9] << 16) | (png[pos + 10] << 8) | png[pos + 11];
                    height = (png[pos + 12] << 24) | (png[pos + 13] << 16) | (png[pos + 14] << 8) | png[pos + 15];
                    if (png[pos + 16] != 8) throw new InvalidDataException("bit depth " + png[pos + 16]);
                    channels = png[pos + 17] == 2 ? 3 : png[pos + 17] == 6 ? 4 : throw new InvalidDataException("colour type " + png[pos + 17]);
                }
                else if (type == "IDAT") idat.Write(png, pos + 8, len);
                pos += 12 + len;
            }
            idat.Position = 0;
            var raw = new MemoryStream();
            using (var z = new ZLibStream(idat, CompressionMode.Decompress)) z.CopyTo(raw);
            var data = raw.ToArray();
            var stride = width * channels;
            var prev = new byte[stride];
            var cur = new byte[stride];
            var result = new PngStats { Width = width, Height = height };
            var colours = new HashSet<int>();
            for (var y = 0; y < height; y++) {
                var off = y * (stride + 1);
                var filter = data[off];
                for (var x = 0; x < stride; x++) {
                    int a = x >= channels ? cur[x - channels] : 0, b = prev[x], c = x >= channels ? prev[x - channels] : 0;
                    int v = data[off + 1 + x];
                    switch (filter) {
                        case 1: v += a; break;
                        case 2: v += b; break;
                        case 3: v += (a + b) / 2; break;
                        case 4: { int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c); v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c; break; }
                    }
                    cur[x] = (byte)v;
                }
                for (var x = 0; x < width; x++) {
                    int r = cur[x * channels], g = cur[x * channels + 1], bl = cur[x * channels + 2];
                    if (r < 245 || g < 245 || bl < 245) result.NonWhite++;
                    if (g > 100 && g > r + 40 && g > bl + 20) result.Green++;
                    colours.Add((r << 16) | (g << 8) | bl);
                }
                var t = prev; prev = cur; cur = t;
            }
            result.Colours = colours.Count;
            return result;
        }
    }
}
'@
    }
}

Describe 'Invoke-MtvRemediation on the lab' -Tag Lab -Skip:$NoLab {
    BeforeAll {
        $manifestPath = if ($env:MTV_MODULE_PATH) { $env:MTV_MODULE_PATH } else { Join-Path $PSScriptRoot '../../out/MtvRemediation/0.1.0/MtvRemediation.psd1' }
        Import-Module $manifestPath -Force
        . (Join-Path $PSScriptRoot '../lab/RunbookScene.ps1')
        . (Join-Path $PSScriptRoot 'HelpExample.ps1')

        Connect-RunbookLab
        $scene = Set-RunbookScene
        $vmName = $scene.Vm.name
        $hostName = $scene.Host.name
        $ctkDs = $scene.Vm.disks[0] -replace '\.vmdk$', '-ctk.vmdk'   # '[LocalDS_0] VM/disk1-ctk.vmdk'
        $reportDir = Join-Path ([System.IO.Path]::GetTempPath()) "mtv-runbook-$PID"
        if (Test-Path $reportDir) { Remove-Item $reportDir -Recurse -Force }
        $params = @{ VM = $vmName; PowerOff = $true; Force = $true; RegisterLogRotation = $true }

        # A declined plan: both rows say so, and the scene (VM, log, crontab, ctk files) is as it was.
        function Assert-DeclinedAndUnchanged($Output, $Before) {
            $s = Split-Summary $Output
            $s.VM[0].Result | Should -Be 'Declined'
            $s.Host[0].Result | Should -Be 'Declined'
            $after = Get-RunbookSceneState $scene
            $after.PowerState | Should -Be 'poweredOn'
            $after.LogBytes | Should -Be $Before.LogBytes
            $after.Crontab | Should -BeExactly $Before.Crontab
            $after.CtkFiles | Should -Be $Before.CtkFiles
        }
        function Split-Summary($Output) {
            [pscustomobject]@{
                Host = @($Output | Where-Object { $_ -is [MtvRemediation.RemediationHostSummary] })
                VM   = @($Output | Where-Object { $_ -is [MtvRemediation.RemediationVMSummary] })
            }
        }
    }

    AfterAll {
        if ($scene) { Reset-LabHost $scene.Host.name }
        $null = Invoke-LabVcsimCtl 'ctk-on-power-on' @{ enabled = 0 }
        Get-EsxiShell | Disconnect-EsxiShell
        Get-MtvVIServer | Disconnect-MtvVIServer
        if ($reportDir -and (Test-Path $reportDir)) { Remove-Item $reportDir -Recurse -Force }
        $chromeProfile = Join-Path ([System.IO.Path]::GetTempPath()) "mtv-chromium-$PID"
        if (Test-Path $chromeProfile) { Remove-Item $chromeProfile -Recurse -Force }
    }

    Context 'in order: plan, run, re-run, report' {
        It 'the help example for the lab scene runs as written' {
            $example = Get-HelpExample -Cmdlet Invoke-MtvRemediation -Title "the lab's scene"
            $example.Code | Should -Match ([regex]::Escape($vmName)) -Because 'the example names the lab scene''s VM'
            $out = Invoke-HelpExample $example 6>$null
            (Split-Summary $out).VM[0].Result | Should -Be 'Planned'
            (Split-Summary $out).Host[0].Result | Should -Be 'Planned'
        }

        It '-WhatIf prints the full plan and changes nothing on the lab' {
            $before = Get-RunbookSceneState $scene
            $before.VarUsePercent | Should -BeGreaterOrEqual 99
            $before.Lines7228 | Should -Be 1
            $before.CtkFiles.Count | Should -Be 1

            $log = Join-Path ([System.IO.Path]::GetTempPath()) "mtv-runbook-whatif-$PID.txt"
            Start-Transcript -Path $log -Force | Out-Null
            try { $out = Invoke-MtvRemediation @params -RestartAgents -ReportPath $reportDir -WhatIf } finally { Stop-Transcript | Out-Null }
            $text = (Get-Content $log -Raw) -replace '\s+', ' '
            Remove-Item $log

            # The plan's table (the one the confirmation offers): a row per host and VM, the power-off counted.
            $text | Should -Match ([regex]::Escape('1 CBT reset, 1 VM powered off (1 hard); 1 log cleared; 1 rotation job registered; agents restarted on 1 host.'))
            $text | Should -Match ([regex]::Escape("$hostName log cleared (16.0 MiB; /var 100% used), rotation registered, agents restarted"))
            $text | Should -Match ([regex]::Escape(" $vmName CBT reset with power-off (hard), then on again, 1 task directory removed"))
            $text | Should -Match ([regex]::Escape("Write the remediation report"))
            # Each action's full sentence is in the rows' Plan.
            $plan = ($out.Plan -join ' | ')
            $plan | Should -Match ([regex]::Escape('Truncate /var/log/vmkfstools-wrapper.log in place (16.0 MiB; /var 100% used, Critical)'))
            $plan | Should -Match ([regex]::Escape("Add a temporary cron job to root's crontab"))
            $plan | Should -Match ([regex]::Escape('Restart the management agent(s) hostd, then vpxa'))
            $plan | Should -Match ([regex]::Escape("delete $ctkDs"))
            $plan | Should -Match 'disable CBT \(changeTrackingEnabled=false[^)]*\) while the VM still runs[^;]*; if the VM cannot be powered off, CBT is put back; power off hard \(VMware Tools is not running\); delete'
            $plan | Should -Match 'enable CBT \(changeTrackingEnabled=true[^)]*\); power on'
            $plan | Should -Match 'then remove the failed clone task directory /tmp/vmkfstools-wrapper-'

            $s = Split-Summary $out
            $s.Host.Count | Should -Be 1
            $s.Host[0].Result | Should -Be 'Planned'
            $s.Host[0].Plan.Count | Should -Be 3
            $s.Host[0].Actions.Count | Should -Be 0
            $s.VM.Count | Should -Be 1
            $s.VM[0].Result | Should -Be 'Planned'
            $s.VM[0].Diagnosis | Should -Match '\(7228\)'

            $after = Get-RunbookSceneState $scene
            $after.LogBytes | Should -Be $before.LogBytes
            $after.Lines7228 | Should -Be 1
            $after.Crontab | Should -BeExactly $before.Crontab
            $after.PowerState | Should -Be 'poweredOn'
            $after.Cbt | Should -BeTrue
            $after.CtkFiles | Should -Be $before.CtkFiles
            Test-Path $reportDir | Should -BeFalse
        }

        It '-Confirm offers the whole plan once, as a table with the power-off counted; declined, nothing changes' {
            if (-not ('MtvRemediation.TestHost.ScriptedHost' -as [type])) { Add-Type -Path (Join-Path $PSScriptRoot 'ScriptedHost.cs') }
            $before = Get-RunbookSceneState $scene
            # A host that answers the prompts from a script and records them: one answer, No.
            $ui = [MtvRemediation.TestHost.ScriptedHost]::new([string[]]@('No'))
            $rs = [runspacefactory]::CreateRunspace($ui)
            $rs.Open()
            $ps = [powershell]::Create()
            try {
                $ps.Runspace = $rs
                $null = $ps.AddScript({
                        param($m, $sceneScript, $vm)
                        Import-Module $m
                        . $sceneScript
                        Connect-RunbookLab
                        Invoke-MtvRemediation -VM $vm -PowerOff -Force -RegisterLogRotation -Confirm -WarningAction SilentlyContinue
                    }).AddArgument($manifestPath).AddArgument((Join-Path $PSScriptRoot '../lab/RunbookScene.ps1')).AddArgument($vmName)
                $out = @($ps.Invoke())
                $failures = @($ps.Streams.Error | ForEach-Object { "$_" })
            }
            finally { $ps.Dispose(); $rs.Dispose() }
            $failures | Should -BeNullOrEmpty -Because 'a second prompt would find no answer left'
            $prompts = @($ui.Prompts)
            $prompts.Count | Should -Be 1 -Because 'the whole plan is one confirmation'
            $prompts[0] | Should -Match ([regex]::Escape('1 CBT reset, 1 VM powered off (1 hard); 1 log cleared; 1 rotation job registered'))
            $prompts[0] | Should -Match ([regex]::Escape("$hostName ") + ' +log cleared \(16\.0 MiB; /var 100% used\), rotation registered')
            $prompts[0] | Should -Match ([regex]::Escape(" $vmName ") + ' +CBT reset with power-off \(hard\)')
            $prompts[0] | Should -Match ([regex]::Escape('Carry out this plan? 1 running VM will be powered off.'))
            Assert-DeclinedAndUnchanged $out $before
        }

        It 'a "Yes to All" given to an SSH start (-StartSshService) does not carry over to the plan: the plan is still asked' {
            if (-not ('MtvRemediation.TestHost.ScriptedHost' -as [type])) { Add-Type -Path (Join-Path $PSScriptRoot 'ScriptedHost.cs') }
            $before = Get-RunbookSceneState $scene
            # Yes to All to the first question (starting SSH on the scene's host), No to the plan.
            $ui = [MtvRemediation.TestHost.ScriptedHost]::new([string[]]@('Yes to All', 'No'))
            $rs = [runspacefactory]::CreateRunspace($ui)
            $rs.Open()
            $ps = [powershell]::Create()
            try {
                $ps.Runspace = $rs
                $null = $ps.AddScript({
                        param($m, $sceneScript, $vm, $hostName)
                        Import-Module $m
                        . $sceneScript
                        Connect-RunbookLab
                        # SSH stopped on the host (as at the DCUI) and its session dropped: the run needs SSH started.
                        Stop-LabSshd $hostName
                        $null = Disconnect-LabSshSession $hostName
                        $deadline = [DateTime]::UtcNow.AddSeconds(10)
                        while ((Get-EsxiShell -VMHost $hostName).IsConnected -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 100 }
                        Invoke-MtvRemediation -VM $vm -PowerOff -Force -RegisterLogRotation -StartSshService -Confirm -WarningAction SilentlyContinue
                        Get-LabSshService $hostName
                    }).AddArgument($manifestPath).AddArgument((Join-Path $PSScriptRoot '../lab/RunbookScene.ps1')).AddArgument($vmName).AddArgument($hostName)
                $out = @($ps.Invoke())
                $failures = @($ps.Streams.Error | ForEach-Object { "$_" })
            }
            finally {
                $ps.Dispose(); $rs.Dispose()
                Start-LabSshd $hostName
                Connect-RunbookLab
            }
            $failures | Should -BeNullOrEmpty
            $prompts = @($ui.Prompts)
            $prompts.Count | Should -Be 2 -Because 'the plan is asked although the SSH start was answered with Yes to All'
            $prompts[0] | Should -Match 'Start the SSH service'
            $prompts[1] | Should -Match ([regex]::Escape('Carry out this plan? 1 running VM will be powered off.'))
            $out[-1] | Should -Be 'stopped' -Because 'the SSH this run started is stopped again'
            Assert-DeclinedAndUnchanged $out $before
        }

        It 'remediates end to end: /var freed (archive first), rotation job, CBT reset, healthy after-state, verified' {
            $crontabBefore = (Get-RunbookSceneState $scene).Crontab
            $errs = $null
            $out = Invoke-MtvRemediation @params -Confirm:$false -ReportPath $reportDir -ChangeTicket 'CHG-LAB-1' -ErrorVariable errs
            @($errs).Count | Should -Be 0
            $s = Split-Summary $out

            $h = $s.Host[0]
            $h.Result | Should -Be 'Remediated'
            $h.LogStatusBefore | Should -Be 'Critical'
            $h.LogStatusAfter | Should -Be 'Healthy'
            $h.FindingCounts | Should -Contain 'ChangeTrackerInvalid: 1'
            $h.RotationCronRegistered | Should -BeTrue
            $h.LogArchive | Should -Exist
            # The archive holds the whole log as it was, up to its last poll line.
            $gz = [System.IO.Compression.GZipStream]::new([System.IO.File]::OpenRead($h.LogArchive), [System.IO.Compression.CompressionMode]::Decompress)
            $ms = [System.IO.MemoryStream]::new(); $gz.CopyTo($ms); $gz.Dispose()
            $ms.Length | Should -Be $h.LogSizeBytesBefore
            [System.Text.Encoding]::UTF8.GetString($ms.ToArray()) | Should -Match 'XCOPY used: False, clone write ops: 0\s*$'

            $v = $s.VM[0]
            $v.Result | Should -Be 'Remediated'
            $v.DeletedCtkFiles | Should -Be @($ctkDs)
            $v.PowerStateAfter | Should -Be 'PoweredOn'
            $v.CbtEnabledAfter | Should -BeTrue
            $v.CbtHealthyAfter | Should -BeTrue
            $v.Actions[0] | Should -Match '^Disabled CBT .* while the VM runs'
            $v.Actions[1] | Should -Match 'Powered off'
            $v.Actions | Should -Contain 'Powered on (original power state restored; ESXi creates new -ctk.vmdk files as the disks open)'
            $v.Actions[-2] | Should -Match '^Checked: each of the 1 disk'   # KB 2139574: one ctk per disk, after the power-on
            # The 7228 evidence is answered: its task directory goes, so a re-run does not reset again.
            $v.Actions[-1] | Should -Match '^Removed the failed clone task directory /tmp/vmkfstools-wrapper-'
            # The change board's line: when the reset ran, when the VM went down and came up, for how long.
            $v.StartedAt | Should -Not -BeNullOrEmpty
            $v.PoweredOffAt | Should -BeGreaterOrEqual $v.StartedAt
            $v.PoweredOnAt | Should -BeGreaterThan $v.PoweredOffAt
            $v.FinishedAt | Should -BeGreaterOrEqual $v.PoweredOnAt
            $v.Downtime | Should -Be ($v.PoweredOnAt - $v.PoweredOffAt)
            $h.LogCleared | Should -BeTrue
            $h.RotationCronAdded | Should -BeTrue
            $h.AgentsRestarted | Should -BeFalse

            # The lab, read without the module.
            $after = Get-RunbookSceneState $scene
            $after.VarUsePercent | Should -BeLessThan 10
            $after.Lines7228 | Should -Be 0
            $after.CronLines | Should -Be 1
            # Every line of the original crontab is still there, in order; ours was added.
            ($after.Crontab -split "`n" | Where-Object { $_ -notmatch 'vmkfstools-wrapper\.log' }) -join "`n" | Should -BeExactly $crontabBefore
            $after.PowerState | Should -Be 'poweredOn'
            $after.Cbt | Should -BeTrue
            $after.CtkFiles.Count | Should -Be 1
            $after.CtkFiles[0] | Should -Not -Match 'stale'   # a new one, created by the power-on
        }

        It 'is idempotent: a re-run finds nothing to do and changes nothing' {
            $before = Get-RunbookSceneState $scene
            $errs = $null
            $out = Invoke-MtvRemediation @params -Confirm:$false -ErrorVariable errs
            @($errs).Count | Should -Be 0
            $s = Split-Summary $out
            $s.Host[0].Result | Should -Be 'Healthy'
            $s.Host[0].Actions.Count | Should -Be 0
            $s.VM[0].Result | Should -Be 'Healthy'
            $s.VM[0].Actions.Count | Should -Be 0
            $after = Get-RunbookSceneState $scene
            $after.Crontab | Should -BeExactly $before.Crontab
            $after.CtkFiles | Should -Be $before.CtkFiles
            $after.PowerState | Should -Be 'poweredOn'
            $after.LogBytes | Should -Be $before.LogBytes
        }

        It 'wrote the HTML and JSON report with the same data' {
            $html = @(Get-ChildItem $reportDir -Filter 'mtv-remediation-*.html')
            $json = @(Get-ChildItem $reportDir -Filter 'mtv-remediation-*.json')
            $html.Count | Should -Be 1
            $json.Count | Should -Be 1
            $html[0].BaseName | Should -Be $json[0].BaseName
            $data = Get-Content $json[0].FullName -Raw | ConvertFrom-Json
            $data.Hosts.Count | Should -Be 1
            $data.Hosts[0].VMHost | Should -Be $hostName
            $data.Hosts[0].LogSpaceBefore.Status | Should -Be 'Critical'
            $data.Hosts[0].LogSpaceAfter.Status | Should -Be 'Healthy'
            $data.Hosts[0].Outcome | Should -Be 'Remediated' -Because 'the report says what the console says'
            $data.VMs[0].VM | Should -Be $vmName
            $data.VMs[0].DeletedCtkFiles | Should -Be @($ctkDs)
            $data.VMs[0].CbtEnabledAfter | Should -BeTrue
            $data.ChangeTicket | Should -Be 'CHG-LAB-1'
            $data.Operator | Should -Match ([regex]::Escape([Environment]::UserName))
            $data.VMs[0].DowntimeSeconds | Should -BeGreaterThan 0
            $text = Get-Content $html[0].FullName -Raw
            $text | Should -Match ([regex]::Escape($vmName))
            $text | Should -Not -Match '<script'
            # One stamp for the run's files, and the report links the archive beside it.
            $stamp = $html[0].BaseName -replace '^mtv-remediation-', ''
            $archive = Split-Path -Leaf $data.Hosts[0].LogArchive
            $archive | Should -BeLike "*_$stamp.gz"
            Join-Path $reportDir $archive | Should -Exist
            $text | Should -Match ([regex]::Escape('href="' + [uri]::EscapeDataString($archive) + '"'))
            $html[0].UnixFileMode | Should -Be ([System.IO.UnixFileMode]'UserRead, UserWrite')
        }

        It 'the HTML report opens in headless chromium and shows the host and VM tables' {
            $chromium = @('/usr/bin/chromium', '/usr/bin/chromium-browser') | Where-Object { Test-Path $_ } | Select-Object -First 1
            $chromium | Should -Not -BeNullOrEmpty -Because 'tests/lab/install-prereqs.sh installs chromium'
            $html = (Get-ChildItem $reportDir -Filter 'mtv-remediation-*.html')[0].FullName
            $url = [System.Uri]::new($html, [System.UriKind]::Absolute).AbsoluteUri   # a [uri] cast of a Unix path is relative
            $chromeProfile = Join-Path ([System.IO.Path]::GetTempPath()) "mtv-chromium-$PID"   # not inside the served folder: chromium aborts the load then
            $common = @('--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
                '--disable-component-update', '--disable-sync', "--user-data-dir=$chromeProfile")
            $errFile = Join-Path ([System.IO.Path]::GetTempPath()) "mtv-chromium-$PID.err"
            $dom = (& $chromium @common '--dump-dom' $url 2>$errFile) -join "`n"
            $LASTEXITCODE | Should -Be 0
            $dom | Should -Match '<table class="hosts">' -Because "chromium said: $((Get-Content $errFile | Where-Object { $_ -notmatch "dbus" }) -join " | ")"
            Remove-Item $errFile -ErrorAction SilentlyContinue
            $dom | Should -Match '<table class="vms">'
            $dom | Should -Match ([regex]::Escape($hostName))
            $dom | Should -Match ([regex]::Escape($vmName))

            $png = Join-Path $reportDir 'report.png'
            & $chromium @common "--screenshot=$png" '--window-size=1280,900' $url 2>$null | Out-Null
            $LASTEXITCODE | Should -Be 0
            if ($env:MTV_REPORT_SCREENSHOT) { Copy-Item $png $env:MTV_REPORT_SCREENSHOT -Force }
            $stats = [MtvRunbookTests.Png]::Stats([System.IO.File]::ReadAllBytes($png))
            $stats.Width | Should -Be 1280
            $stats.Height | Should -Be 900
            # Tables and badges: lots of non-white pixels, and the status colours.
            $stats.NonWhite | Should -BeGreaterThan (1280 * 900 / 10)
            $stats.Colours | Should -BeGreaterOrEqual 16
            $stats.Green | Should -BeGreaterThan 50    # the "Succeeded" badges
        }
    }

    Context 'a standalone reset that answers a finding' {
        It 'Reset-VMChangeTracking -Finding removes the answered task directory (the runbook''s record), so the next runbook run does not power-cycle the VM again' {
            $scene = Set-RunbookScene
            (Get-RunbookSceneState $scene).Lines7228 | Should -Be 1
            $found = @(Find-MtvCloneFailure -VMHost $hostName -ErrorAction Stop | Where-Object Signature -EQ 'ChangeTrackerInvalid')
            $found.Path | Should -Match '^/tmp/vmkfstools-wrapper-' -Because 'the scene''s evidence is a failed task directory'

            $r = Reset-VMChangeTracking -VM $vmName -Finding $found -PowerOff -Force -Confirm:$false -ErrorAction Stop
            $r.Succeeded | Should -BeTrue
            $r.Steps[-1] | Should -Match '^Removed the failed clone task directory /tmp/vmkfstools-wrapper-'
            (Get-RunbookSceneState $scene).Lines7228 | Should -Be 0

            $next = Split-Summary (Invoke-MtvRemediation -VM $vmName -PowerOff -Force -WhatIf 6>$null)
            $next.VM[0].Result | Should -Be 'Healthy' -Because 'the 7228 it answered is recorded as answered, as the runbook records it'
            $next.VM[0].Plan.Count | Should -Be 0
        }

        It 'a 7228 finding piped into Reset-VMChangeTracking resolves to its VM and is answered the same way' {
            $scene = Set-RunbookScene
            (Get-RunbookSceneState $scene).Lines7228 | Should -Be 1
            $r = Find-MtvCloneFailure -VMHost $hostName -ErrorAction Stop | Where-Object Signature -EQ 'ChangeTrackerInvalid' |
                Reset-VMChangeTracking -PowerOff -Force -Confirm:$false -ErrorAction Stop
            $r.VM | Should -Be $vmName
            $r.Succeeded | Should -BeTrue
            $r.Steps[-1] | Should -Match '^Removed the failed clone task directory /tmp/vmkfstools-wrapper-'
            (Get-RunbookSceneState $scene).Lines7228 | Should -Be 0
            (Split-Summary (Invoke-MtvRemediation -VM $vmName -PowerOff -Force -WhatIf 6>$null)).VM[0].Result | Should -Be 'Healthy'
        }
    }

    Context 'agent restarts and a refused VM' {
        It 'restarts hostd then vpxa when asked, waits for vCenter, and refuses a powered-on VM without -PowerOff' {
            $other = Get-LabVM | Where-Object { $_.host -ne $hostName -and $_.host -in @((Get-LabHost).name) } | Select-Object -First 1
            $raw = New-VcsimSoapSession -Lab (Get-MtvLab)
            try { $stateBefore = Get-VcsimVMState $raw ([pscustomobject]@{ MoRef = $other.moref }) } finally { Remove-VcsimSoapSession $raw }
            $stateBefore.PowerState | Should -Be 'poweredOn'
            $pidBefore = Invoke-LabHost $other.host 'cat /var/run/vmware/hostd.pid'
            # A reason for a reset (CBT merely disabled is none): a stale ctk file beside its disk.
            $staleCtk = @(Get-CtkPath $other)
            foreach ($c in $staleCtk) { Set-Content -LiteralPath $c -Value 'stale change tracking file (refusal test)' }

            $errs = $null
            try { $out = Invoke-MtvRemediation -VM $other.name -RestartAgents -Confirm:$false -ErrorVariable errs -ErrorAction SilentlyContinue -WarningAction SilentlyContinue }
            finally { foreach ($c in $staleCtk) { Remove-Item -LiteralPath $c -ErrorAction SilentlyContinue } }
            $s = Split-Summary $out
            $s.Host[0].VMHost | Should -Be $other.host
            $s.Host[0].Result | Should -Be 'Remediated'
            $s.Host[0].Actions.Count | Should -Be 2
            $s.Host[0].AgentsRestarted | Should -BeTrue -Because 'both agents came back'
            $s.Host[0].LogCleared | Should -BeFalse
            $s.Host[0].Actions[0] | Should -Match '^Restarted hostd .*running'
            $s.Host[0].Actions[1] | Should -Match '^Restarted vpxa .*running'
            $s.VM[0].Result | Should -Be 'Refused'
            @($errs | ForEach-Object FullyQualifiedErrorId) | Should -Contain 'VMPoweredOn,MtvRemediation.Commands.InvokeMtvRemediationCommand'

            (Invoke-LabHost $other.host '/etc/init.d/hostd status') | Should -Match 'hostd is running'
            (Invoke-LabHost $other.host 'cat /var/run/vmware/hostd.pid') | Should -Not -Be $pidBefore
            $raw = New-VcsimSoapSession -Lab (Get-MtvLab)
            try {
                $stateAfter = Get-VcsimVMState $raw ([pscustomobject]@{ MoRef = $other.moref })
                $conn = Get-VcsimProperty $raw 'HostSystem' $other.hostMoref 'runtime.connectionState'
            }
            finally { Remove-VcsimSoapSession $raw }
            $stateAfter.PowerState | Should -Be $stateBefore.PowerState
            $stateAfter.Cbt | Should -Be $stateBefore.Cbt
            $conn['runtime.connectionState'].'#text' | Should -Be 'connected'
        }
    }

    Context 'a host that cannot be reached' {
        It 'reports the host''s EsxiShellNotConnected (the id every host cmdlet gives) and still resets the VM''s CBT' {
            # A VM on another host whose session is closed (no -Credential: nothing opens one),
            # CBT disabled with a stale ctk file: unhealthy.
            $vm = Get-LabVM | Where-Object { $_.host -ne $hostName } | Select-Object -Last 1
            Get-EsxiShell | Where-Object VMHost -EQ $vm.host | Disconnect-EsxiShell
            $raw = New-VcsimSoapSession -Lab (Get-MtvLab)
            try {
                Set-VcsimVMPower $raw ([pscustomobject]@{ MoRef = $vm.moref }) 'Off'
                Set-VcsimVMCbt $raw ([pscustomobject]@{ MoRef = $vm.moref }) $false
            }
            finally { Remove-VcsimSoapSession $raw }
            $ctk = Join-Path (Split-Path $vm.localDir -Parent) (($vm.disks[0] -replace '^\[[^\]]*\]\s*', '') -replace '\.vmdk$', '-ctk.vmdk')
            Set-Content -LiteralPath $ctk -Value 'stale'

            $errs = $null
            try { $out = Invoke-MtvRemediation -VM $vm.name -Confirm:$false -ErrorVariable errs -ErrorAction SilentlyContinue }
            finally {
                # Back as the lab started it (powered on, CBT off) for the other test files.
                $raw = New-VcsimSoapSession -Lab (Get-MtvLab)
                try {
                    Set-VcsimVMCbt $raw ([pscustomobject]@{ MoRef = $vm.moref }) $false
                    Set-VcsimVMPower $raw ([pscustomobject]@{ MoRef = $vm.moref }) 'On'
                }
                finally { Remove-VcsimSoapSession $raw }
            }
            $ids = @($errs | ForEach-Object FullyQualifiedErrorId)
            $ids | Should -Contain 'EsxiShellNotConnected,MtvRemediation.Commands.InvokeMtvRemediationCommand'
            ($errs | Where-Object FullyQualifiedErrorId -Like 'EsxiShellNotConnected*').TargetObject | Should -Be $vm.host
            $s = Split-Summary $out
            $s.Host[0].Result | Should -Be 'Failed'
            $s.Host[0].FinalState | Should -Match 'not reached'
            $s.VM[0].Result | Should -Be 'Remediated'
            $s.VM[0].CbtHealthyAfter | Should -BeTrue
            $s.VM[0].PowerStateAfter | Should -Be 'PoweredOff'
            $s.VM[0].DeletedCtkFiles.Count | Should -Be 1
            Test-Path -LiteralPath $ctk | Should -BeFalse
        }
    }
}

Describe 'Invoke-MtvRemediation reads the evidence of the host that cloned' -Tag Lab -Skip:$NoLab {
    BeforeAll {
        $manifestPath = if ($env:MTV_MODULE_PATH) { $env:MTV_MODULE_PATH } else { Join-Path $PSScriptRoot '../../out/MtvRemediation/0.1.0/MtvRemediation.psd1' }
        Import-Module $manifestPath -Force
        . (Join-Path $PSScriptRoot '../lab/RunbookScene.ps1')
        Connect-RunbookLab
        # The VM lives on its own host; MTV cloned it on another one (a 5.0 StorageMap's migration
        # host), where the 2.10 wrapper left the failed clone's task directory with the 7228.
        $t = Get-RunbookSceneTarget
        $script:Vm = $t.Vm
        $script:Own = $t.Host.name
        $script:Cloner = @(Get-LabHost | Where-Object name -NE $Own)[0]
        Reset-LabHost $Own, $Cloner.name
        $disk = '/vmfs/volumes/' + ($Vm.disks[0] -replace '^\[([^\]]*)\]\s*', '$1/')
        $null = New-LabWrapperTaskDir -HostName $Cloner.name -Count 1 -Failure 7228 -Vmdk $disk
        $raw = New-VcsimSoapSession -Lab (Get-MtvLab)
        try {
            # The CBT state the earlier tests left is put back afterwards (the storage layout and
            # verdict tests read this host's first VM as it was).
            $script:CbtBefore = (Get-VcsimVMState $raw ([pscustomobject]@{ MoRef = $Vm.moref })).Cbt
            Set-VcsimVMCbt $raw ([pscustomobject]@{ MoRef = $Vm.moref }) $true
        }
        finally { Remove-VcsimSoapSession $raw }
        # tests/fixtures/mtv/5.0/populators.json (main's VSphereXcopyVolumePopulator) for this VM and host.
        $cr = Get-Content (Join-Path $PSScriptRoot '../fixtures/mtv/5.0/populators.json') -Raw | ConvertFrom-Json
        $cr.items[0].spec.vmId = $Vm.moref
        $cr.items[0].spec.vmdkPath = $Vm.disks[0]
        $cr.items[0].spec.migrationHost = $Cloner.moref
        $script:Finding = @($cr | ConvertTo-Json -Depth 10 | ConvertFrom-MtvClusterObject)[0]
        function script:Split-Summary($Output) {
            [pscustomobject]@{
                Host = @($Output | Where-Object { $_ -is [MtvRemediation.RemediationHostSummary] })
                VM   = @($Output | Where-Object { $_ -is [MtvRemediation.RemediationVMSummary] })
            }
        }
    }

    AfterAll {
        $raw = New-VcsimSoapSession -Lab (Get-MtvLab)
        try { Set-VcsimVMCbt $raw ([pscustomobject]@{ MoRef = $Vm.moref }) $CbtBefore } finally { Remove-VcsimSoapSession $raw }
        Reset-LabHost $Own, $Cloner.name
        Get-EsxiShell | Disconnect-EsxiShell
        Get-MtvVIServer | Disconnect-MtvVIServer
    }

    It 'diagnoses the VM on the migration host its populator names, not on its own host' {
        $Finding.VMHostId | Should -Be "HostSystem-$($Cloner.moref)"
        $s = Split-Summary ($Finding | Invoke-MtvRemediation -PowerOff -Force -WhatIf)
        $s.Host.VMHost | Should -Be @($Cloner.name)
        $s.VM[0].VMHost | Should -Be $Own -Because 'the VM still lives on its own host'
        $s.VM[0].Result | Should -Be 'Planned'
        $s.VM[0].Diagnosis | Should -Match '\(7228\)'
        # By name the VM carries no cloning host: its own host is read, where nothing points at it.
        $byName = Split-Summary (Invoke-MtvRemediation -VM $Vm.name -PowerOff -Force -WhatIf)
        $byName.Host.VMHost | Should -Be @($Own)
        $byName.VM[0].Diagnosis | Should -Not -Match '7228'
    }

    It 'follows a 2.12 pod log''s failure to its VM (source_vmdk) and its "ESXi host"' {
        # tests/fixtures/mtv/2.12's pod log, about this VM's disk and cloned on the other host.
        $log = Get-Content (Join-Path $PSScriptRoot '../fixtures/mtv/2.12/populate-3b1f0a92-6c4d-4e8a-9f27-51d6c0e8a4b3.log') |
            ForEach-Object { $_.Replace('[ontap-vmfs01] web02/web02.vmdk', $Vm.disks[0]).Replace('HostSystem:host-2031', "HostSystem:$($Cloner.moref)") }
        $failure = @($log | Find-MtvCloneFailure | Where-Object Signature -EQ ChangeTrackerInvalid)[-1]
        $failure.Disk | Should -Be $Vm.disks[0]
        $failure.VMHostId | Should -Be "HostSystem-$($Cloner.moref)"
        $s = Split-Summary ($failure | Invoke-MtvRemediation -PowerOff -Force -WhatIf)
        $s.VM.VM | Should -Be @($Vm.name)
        $s.Host.VMHost | Should -Be @($Cloner.name)
        $s.VM[0].Diagnosis | Should -Match '\(7228\)'
    }
}
