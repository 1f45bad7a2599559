# Issue 25 items 1 and 3: a verdict never claims more than was read (a VM whose host evidence was
# not read is Unknown, not Healthy), and an input that matched no VM is a row of its own (output,
# CSV, JSON, report), so a scheduled run's exit-code recipe (README) catches both.

BeforeDiscovery {
    Import-Module (Join-Path $PSScriptRoot '../lab/Lab.psm1') -Force
    $script:NoLab = try { $null -eq (Get-MtvLab) } catch { $true }
}

BeforeAll {
    $manifest = if ($env:MTV_MODULE_PATH) { $env:MTV_MODULE_PATH } else { Join-Path $PSScriptRoot '../../out/MtvRemediation/0.1.0/MtvRemediation.psd1' }
    Import-Module $manifest -Force
    Import-Module (Join-Path $PSScriptRoot '../lab/Lab.psm1') -Force
    . (Join-Path $PSScriptRoot 'PowerCliFixture.ps1')
}

Describe 'Inputs that matched no VM' -Tag Lab -Skip:$NoLab {
    BeforeAll {
        $lab = Get-MtvLab
        $uri = [uri]$lab.vcsim.url
        Connect-MtvVIServer -Server $uri.Host -Port $uri.Port -Credential (Get-LabVCenterCredential $lab) -SkipCertificateCheck -WarningAction SilentlyContinue | Out-Null
        $script:Existing = @($lab.vcsim.vms)[0].name
        $script:Missing = 'app-missing{0}' -f (Get-Random -Maximum 99999)
        $script:Report = Join-Path ([IO.Path]::GetTempPath()) "mtv-inputs-$PID"
    }

    AfterAll {
        Get-MtvVIServer | Disconnect-MtvVIServer -Confirm:$false
        Remove-Item -LiteralPath $Report -Recurse -Force -ErrorAction SilentlyContinue
    }

    It 'a missing VM is a Failed row beside the others, in the output, the CSV and the JSON report, and the README recipe exits 1' {
        $r = @(Invoke-MtvRemediation -VM $Existing, $Missing -ReportPath $Report -WhatIf:$false -Confirm:$false -ErrorVariable errs -ErrorAction SilentlyContinue -WarningAction SilentlyContinue 3>$null)
        ($errs | Where-Object FullyQualifiedErrorId -Like 'VMNotFound*').Count | Should -Be 1
        $row = @($r | Where-Object { $_.Kind -eq 'VM' -and $_.Name -eq $Missing })
        $row.Count | Should -Be 1
        $row[0].Result | Should -Be 'Failed'
        $row[0].FinalState | Should -Match 'not found'
        $row[0].Errors[0] | Should -BeLike 'VMNotFound: *'
        @($r | Where-Object { $_.Kind -eq 'VM' -and $_.Name -eq $Existing }).Count | Should -Be 1

        $csv = Join-Path $Report 'rows.csv'
        $r | Export-Csv -LiteralPath $csv -NoTypeInformation
        @(Import-Csv -LiteralPath $csv | Where-Object Name -eq $Missing).Result | Should -Be 'Failed'
        $json = Get-Content -LiteralPath $r[0].JsonReportFile -Raw | ConvertFrom-Json
        @($json.VMs | Where-Object VM -eq $Missing).Outcome | Should -Be 'Failed'
        (Get-Content -LiteralPath $r[0].ReportFile -Raw) | Should -Match ([regex]::Escape($Missing))

        # The README's exit-code recipe.
        $exit = if ($r | Where-Object Result -in 'Failed', 'Partial', 'Refused') { 1 } else { 0 }
        $exit | Should -Be 1
    }

    It 'only missing VMs: still one row each, and a report' {
        $r = @(Invoke-MtvRemediation -VM $Missing -WhatIf -ErrorAction SilentlyContinue -WarningAction SilentlyContinue)
        $r.Count | Should -Be 1
        $r[0].Name | Should -Be $Missing
        $r[0].Result | Should -Be 'Failed'
    }
}

Describe 'Verdicts without evidence' -Tag Lab -Skip:$NoLab {
    BeforeAll {
        $lab = Get-MtvLab
        $uri = [uri]$lab.vcsim.url
        Get-EsxiShell | Disconnect-EsxiShell -Confirm:$false
        Connect-MtvVIServer -Server $uri.Host -Port $uri.Port -Credential (Get-LabVCenterCredential $lab) -SkipCertificateCheck -WarningAction SilentlyContinue | Out-Null
        $script:Vm = @($lab.vcsim.vms)[0]
    }
    AfterAll { Get-MtvVIServer | Disconnect-MtvVIServer -Confirm:$false }

    It 'a VM whose host has no session is Unknown (naming what was not read), never Healthy, and the exit-code recipe catches it' {
        $r = @(Invoke-MtvRemediation -VM $Vm.name -WhatIf -ErrorVariable errs -ErrorAction SilentlyContinue -WarningAction SilentlyContinue)
        ($errs | Where-Object FullyQualifiedErrorId -Like 'EsxiShellNotConnected*').Count | Should -BeGreaterThan 0
        $row = @($r | Where-Object { $_.Kind -eq 'VM' -and $_.Name -eq $Vm.name })[0]
        $row.Result | Should -Be 'Unknown'
        $row.Diagnosis | Should -Match 'not judged for 7228: no session to '
        $exit = if ($r | Where-Object Result -in 'Failed', 'Partial', 'Refused', 'Unknown') { 1 } else { 0 }
        $exit | Should -Be 1
    }
}
