<#
.SYNOPSIS
    Builds MAML help (MtvRemediation.dll-Help.xml) from docs/en-US/<Cmdlet>.md and the compiled cmdlets.

.DESCRIPTION
    The markdown holds the words (synopsis, description, examples, parameter descriptions, inputs,
    outputs, notes) in platyPS layout; the compiled module supplies the facts (parameter types,
    positions, mandatory, pipeline binding, parameter sets), so the two cannot drift apart.
    Runs in a child process so the module under build is not left loaded in the build session.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $DocsPath,
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string] $OutFile,
    [switch] $InProcess
)

$ErrorActionPreference = 'Stop'

if (-not $InProcess) {
    # Under 'dotnet pwsh' the process is dotnet: start the child the same way.
    $exe = (Get-Process -Id $PID).Path
    $pre = @()
    if ([System.IO.Path]::GetFileNameWithoutExtension($exe) -eq 'dotnet') { $pre = @((Join-Path $PSHOME 'pwsh.dll')) }
    & $exe @pre -NoProfile -NonInteractive -File $PSCommandPath -DocsPath $DocsPath -ModulePath $ModulePath -OutFile $OutFile -InProcess
    if ($LASTEXITCODE -ne 0) { throw "Help build failed (exit $LASTEXITCODE)." }
    return
}

# The always-present common parameters stay out of the help ([<CommonParameters>] stands for them);
# -WhatIf and -Confirm are listed like PowerShell's own help does, where a cmdlet supports them.
$CommonParameters = [System.Management.Automation.PSCmdlet]::CommonParameters
$OptionalCommon = @{
    WhatIf  = 'Shows what would happen if the cmdlet runs. Nothing is changed, and nothing is connected to that could change.'
    Confirm = 'Prompts you for confirmation before each change.'
}

function Read-HelpMarkdown([string] $Path) {
    $doc = [ordered]@{ Synopsis = ''; Description = ''; Examples = @(); Parameters = @{}; Inputs = @(); Outputs = @(); Notes = ''; Links = @() }
    $section = ''; $sub = $null; $buffer = [System.Collections.Generic.List[string]]::new()
    $inFence = $false

    $flush = {
        $text = ($buffer -join "`n").Trim()
        switch ($section) {
            'SYNOPSIS' { $doc.Synopsis = $text }
            'DESCRIPTION' { $doc.Description = $text }
            'NOTES' { $doc.Notes = $text }
            'EXAMPLES' { if ($sub) { $doc.Examples += , @{ Title = $sub; Body = $text } } }
            'PARAMETERS' { if ($sub) { $doc.Parameters[$sub.TrimStart('-')] = $text } }
            'INPUTS' { if ($sub) { $doc.Inputs += , @{ Type = $sub; Text = $text } } }
            'OUTPUTS' { if ($sub) { $doc.Outputs += , @{ Type = $sub; Text = $text } } }
            'RELATED LINKS' { $doc.Links = @($buffer | Where-Object { $_.Trim() } | ForEach-Object { $_.Trim().TrimStart('-', '*', ' ') }) }
        }
        $buffer.Clear()
    }

    foreach ($line in (Get-Content -LiteralPath $Path)) {
        if ($line -match '^```') { $inFence = -not $inFence; $buffer.Add($line); continue }
        if (-not $inFence -and $line -match '^## (.+)$') { & $flush; $section = $Matches[1].Trim().ToUpperInvariant(); $sub = $null; continue }
        if (-not $inFence -and $line -match '^### (.+)$') { & $flush; $sub = $Matches[1].Trim(); continue }
        if (-not $inFence -and $line -match '^# ') { continue }
        $buffer.Add($line)
    }
    & $flush
    return $doc
}

# Splits an example body into code (first fenced block) and remarks (the rest).
function Split-Example([string] $Body) {
    $code = [System.Collections.Generic.List[string]]::new(); $remarks = [System.Collections.Generic.List[string]]::new()
    $state = 'before'
    foreach ($line in ($Body -split "`n")) {
        if ($line -match '^```') {
            if ($state -eq 'before') { $state = 'code'; continue }
            if ($state -eq 'code') { $state = 'after'; continue }
        }
        if ($state -eq 'code') { $code.Add($line) } else { $remarks.Add($line) }
    }
    return @{ Code = ($code -join "`n").TrimEnd(); Remarks = ($remarks -join "`n").Trim() }
}

function Get-Paragraphs([string] $Text) {
    if (-not $Text) { return @() }
    return @($Text -split "`n\s*`n" | ForEach-Object { ($_ -replace "`n", ' ').Trim() } | Where-Object { $_ })
}

$mamlNs = 'http://schemas.microsoft.com/maml/2004/10'
$cmdNs = 'http://schemas.microsoft.com/maml/dev/command/2004/10'
$devNs = 'http://schemas.microsoft.com/maml/dev/2004/10'

function Write-Paras($w, [string] $Text) {
    $paras = Get-Paragraphs $Text
    if (-not $paras) { $w.WriteStartElement('maml', 'para', $mamlNs); $w.WriteEndElement(); return }
    foreach ($p in $paras) { $w.WriteElementString('maml', 'para', $mamlNs, $p) }
}

function Get-TypeName([type] $Type) {
    if ($Type -eq [System.Management.Automation.SwitchParameter]) { return 'SwitchParameter' }
    $n = $Type.Name
    return $n
}

function Get-PipelineText($ParamSetInfo) {
    $kinds = @()
    if ($ParamSetInfo.ValueFromPipeline) { $kinds += 'ByValue' }
    if ($ParamSetInfo.ValueFromPipelineByPropertyName) { $kinds += 'ByPropertyName' }
    if ($kinds) { return "True ($($kinds -join ', '))" } else { return 'False' }
}

# Default values come from the compiled cmdlet: a fresh instance holds each property's initial value.
function Get-DefaultValues($Command) {
    $defaults = @{}
    $instance = try { [Activator]::CreateInstance($Command.ImplementingType) } catch { $null }
    foreach ($p in $Command.Parameters.Values) {
        if ($p.Name -in $CommonParameters -or $OptionalCommon.ContainsKey($p.Name)) { continue }
        $v = if ($instance) { try { $instance.($p.Name) } catch { $null } }
        if ($v -is [System.Management.Automation.SwitchParameter]) { $defaults[$p.Name] = 'False'; continue }
        if ($null -eq $v -or ($v -is [string] -and $v -eq '')) { continue }
        if ($v -is [System.Management.Automation.PSCredential] -or $v -is [System.Security.SecureString]) { continue }
        if ($v -is [array]) { if ($v.Count -eq 0) { continue }; $defaults[$p.Name] = ($v -join ', '); continue }
        $defaults[$p.Name] = [string]$v
    }
    return $defaults
}

function Write-Parameter($w, $Param, $SetParam, [string] $Description, [string] $Default = 'None') {
    $isSwitch = $Param.ParameterType -eq [System.Management.Automation.SwitchParameter]
    $w.WriteStartElement('command', 'parameter', $cmdNs)
    $w.WriteAttributeString('required', $SetParam.IsMandatory.ToString().ToLowerInvariant())
    $w.WriteAttributeString('variableLength', 'true')
    $w.WriteAttributeString('globbing', 'false')
    $w.WriteAttributeString('pipelineInput', (Get-PipelineText $SetParam))
    $w.WriteAttributeString('position', $(if ($SetParam.Position -ge 0) { "$($SetParam.Position)" } else { 'named' }))
    $w.WriteAttributeString('aliases', $(if ($Param.Aliases.Count) { $Param.Aliases -join ', ' } else { 'none' }))
    $w.WriteElementString('maml', 'name', $mamlNs, $Param.Name)
    $w.WriteStartElement('maml', 'description', $mamlNs); Write-Paras $w $Description; $w.WriteEndElement()
    if (-not $isSwitch) {
        $w.WriteStartElement('command', 'parameterValue', $cmdNs)
        $w.WriteAttributeString('required', 'true'); $w.WriteAttributeString('variableLength', 'false')
        $w.WriteString((Get-TypeName $Param.ParameterType)); $w.WriteEndElement()
    }
    $w.WriteStartElement('dev', 'type', $devNs); $w.WriteElementString('maml', 'name', $mamlNs, $Param.ParameterType.FullName); $w.WriteEndElement()
    $w.WriteElementString('dev', 'defaultValue', $devNs, $Default)
    $w.WriteEndElement()
}

Import-Module $ModulePath -Force
# The help source lives in the repository the manifest names (ProjectUri).
$HelpUriBase = (Import-PowerShellDataFile $ModulePath).PrivateData.PSData.ProjectUri.TrimEnd('/') + '/blob/main/docs/en-US'
$moduleName = [System.IO.Path]::GetFileNameWithoutExtension($ModulePath)
$commands = Get-Command -Module $moduleName -CommandType Cmdlet | Sort-Object Name

$settings = [System.Xml.XmlWriterSettings]::new()
$settings.Indent = $true
$settings.Encoding = [System.Text.UTF8Encoding]::new($false)
New-Item -ItemType Directory -Force (Split-Path $OutFile) | Out-Null
$w = [System.Xml.XmlWriter]::Create($OutFile, $settings)
$w.WriteStartDocument()
$w.WriteStartElement('helpItems', 'http://msh')
$w.WriteAttributeString('schema', 'maml')
$missing = @()
foreach ($cmd in $commands) {
    $mdPath = Join-Path $DocsPath "$($cmd.Name).md"
    if (-not (Test-Path $mdPath)) { $missing += $cmd.Name; continue }
    $doc = Read-HelpMarkdown $mdPath
    $defaults = Get-DefaultValues $cmd
    foreach ($k in $OptionalCommon.Keys) { if (-not $doc.Parameters[$k]) { $doc.Parameters[$k] = $OptionalCommon[$k] } }
    $w.WriteStartElement('command', 'command', $cmdNs)
    $w.WriteAttributeString('xmlns', 'maml', $null, $mamlNs)
    $w.WriteAttributeString('xmlns', 'dev', $null, $devNs)

    $w.WriteStartElement('command', 'details', $cmdNs)
    $w.WriteElementString('command', 'name', $cmdNs, $cmd.Name)
    $w.WriteElementString('command', 'verb', $cmdNs, $cmd.Verb)
    $w.WriteElementString('command', 'noun', $cmdNs, $cmd.Noun)
    $w.WriteStartElement('maml', 'description', $mamlNs); Write-Paras $w $doc.Synopsis; $w.WriteEndElement()
    $w.WriteEndElement()

    $w.WriteStartElement('maml', 'description', $mamlNs); Write-Paras $w $doc.Description; $w.WriteEndElement()

    $w.WriteStartElement('command', 'syntax', $cmdNs)
    foreach ($set in $cmd.ParameterSets) {
        $w.WriteStartElement('command', 'syntaxItem', $cmdNs)
        $w.WriteElementString('maml', 'name', $mamlNs, $cmd.Name)
        foreach ($p in ($set.Parameters | Where-Object { $_.Name -notin $CommonParameters } | Sort-Object { if ($_.Position -ge 0) { $_.Position } else { 1000 } }, { [int]$OptionalCommon.ContainsKey($_.Name) })) {
            $param = $cmd.Parameters[$p.Name]
            Write-Parameter $w $param $p $doc.Parameters[$p.Name] $(if ($defaults.ContainsKey($p.Name)) { $defaults[$p.Name] } else { 'None' })
        }
        $w.WriteEndElement()
    }
    $w.WriteEndElement()

    $w.WriteStartElement('command', 'parameters', $cmdNs)
    foreach ($param in ($cmd.Parameters.Values | Where-Object { $_.Name -notin $CommonParameters } | Sort-Object Name)) {
        $setParam = $null
        foreach ($set in $cmd.ParameterSets) { $setParam = $set.Parameters | Where-Object Name -EQ $param.Name | Select-Object -First 1; if ($setParam) { break } }
        $text = $doc.Parameters[$param.Name]
        Write-Parameter $w $param $setParam $text $(if ($defaults.ContainsKey($param.Name)) { $defaults[$param.Name] } else { 'None' })
    }
    $w.WriteEndElement()

    $w.WriteStartElement('command', 'inputTypes', $cmdNs)
    foreach ($i in $doc.Inputs) {
        $w.WriteStartElement('command', 'inputType', $cmdNs)
        $w.WriteStartElement('dev', 'type', $devNs); $w.WriteElementString('maml', 'name', $mamlNs, $i.Type); $w.WriteEndElement()
        $w.WriteStartElement('maml', 'description', $mamlNs); Write-Paras $w $i.Text; $w.WriteEndElement()
        $w.WriteEndElement()
    }
    $w.WriteEndElement()

    $w.WriteStartElement('command', 'returnValues', $cmdNs)
    foreach ($o in $doc.Outputs) {
        $w.WriteStartElement('command', 'returnValue', $cmdNs)
        $w.WriteStartElement('dev', 'type', $devNs); $w.WriteElementString('maml', 'name', $mamlNs, $o.Type); $w.WriteEndElement()
        $w.WriteStartElement('maml', 'description', $mamlNs); Write-Paras $w $o.Text; $w.WriteEndElement()
        $w.WriteEndElement()
    }
    $w.WriteEndElement()

    $w.WriteStartElement('maml', 'alertSet', $mamlNs)
    $w.WriteStartElement('maml', 'alert', $mamlNs); Write-Paras $w $doc.Notes; $w.WriteEndElement()
    $w.WriteEndElement()

    $w.WriteStartElement('command', 'examples', $cmdNs)
    foreach ($ex in $doc.Examples) {
        $parts = Split-Example $ex.Body
        $w.WriteStartElement('command', 'example', $cmdNs)
        $w.WriteElementString('maml', 'title', $mamlNs, "-------------------------- $($ex.Title) --------------------------")
        $w.WriteElementString('dev', 'code', $devNs, $parts.Code)
        $w.WriteStartElement('dev', 'remarks', $devNs); Write-Paras $w $parts.Remarks; $w.WriteEndElement()
        $w.WriteEndElement()
    }
    $w.WriteEndElement()

    $w.WriteStartElement('command', 'relatedLinks', $cmdNs)
    # First the online version (Get-Help -Online opens it), then the markdown's links.
    $w.WriteStartElement('maml', 'navigationLink', $mamlNs)
    $w.WriteElementString('maml', 'linkText', $mamlNs, 'Online Version:'); $w.WriteElementString('maml', 'uri', $mamlNs, "$HelpUriBase/$($cmd.Name).md")
    $w.WriteEndElement()
    foreach ($l in $doc.Links) {
        $w.WriteStartElement('maml', 'navigationLink', $mamlNs)
        $w.WriteElementString('maml', 'linkText', $mamlNs, $l); $w.WriteElementString('maml', 'uri', $mamlNs, '')
        $w.WriteEndElement()
    }
    $w.WriteEndElement()

    $w.WriteEndElement() # command:command
}
$w.WriteEndElement()
$w.WriteEndDocument()
$w.Dispose()
if ($missing) { Write-Warning "No help markdown for: $($missing -join ', ') (the help gate will fail)." }
Write-Host "Help: $OutFile ($(@($commands).Count - $missing.Count) cmdlets)"
