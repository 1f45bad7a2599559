<#
.SYNOPSIS
    Test-only stand-ins for VMware PowerCLI objects, and raw vim25 SOAP helpers for the lab's vcsim.

.DESCRIPTION
    PowerCLI cannot be installed here. These functions build objects with PowerCLI's real type names
    and property shapes (VIServerImpl, UniversalVirtualMachineImpl, their Deserialized. forms) so the
    module's duck typing is exercised the way PowerCLI objects would exercise it. The VIServer
    carries a REAL vcsim session: the cookie comes from a raw SOAP Login sent here, independent of
    the module under test. The raw helpers also set up and check lab state (create VMs, snapshots,
    power operations, property reads) without going through the code being tested.
    Dot-source this file; the lab's state and /ctl endpoints come from tests/lab/Lab.psm1.
#>

$script:SoapNs = @{ soapenv = 'http://schemas.xmlsoap.org/soap/envelope/'; v = 'urn:vim25' }

function ConvertTo-XmlText([string] $Text) { [System.Security.SecurityElement]::Escape($Text) }

# One SOAP request to vcsim. Returns the first element of the Body (or throws with the fault text).
function Invoke-VcsimSoap {
    param(
        [Parameter(Mandatory)] [string] $Url,
        [Parameter(Mandatory)] [string] $Body,
        [string] $Cookie,
        [switch] $PassThruResponse
    )
    $envelope = '<?xml version="1.0" encoding="utf-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" ' +
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema"><soapenv:Body>' + $Body + '</soapenv:Body></soapenv:Envelope>'
    $headers = @{ SOAPAction = '"urn:vim25/6.5"' }
    if ($Cookie) { $headers.Cookie = $Cookie }
    $resp = Invoke-WebRequest -Uri $Url -Method Post -Body $envelope -ContentType 'text/xml; charset=utf-8' -Headers $headers -SkipCertificateCheck -SkipHttpErrorCheck
    [xml] $xml = $resp.Content
    $fault = $xml.SelectSingleNode('//soapenv:Fault', (New-VcsimNsManager $xml))
    if ($fault) { throw "SOAP fault: $($fault.faultstring)" }
    $first = $xml.SelectSingleNode('/soapenv:Envelope/soapenv:Body/*', (New-VcsimNsManager $xml))
    if ($PassThruResponse) { return [pscustomobject]@{ Element = $first; Response = $resp } }
    $first
}

function New-VcsimNsManager([xml] $Xml) {
    $ns = [System.Xml.XmlNamespaceManager]::new($Xml.NameTable)
    foreach ($k in $script:SoapNs.Keys) { $ns.AddNamespace($k, $script:SoapNs[$k]) }
    , $ns   # the manager is enumerable: keep PowerShell from unrolling it
}

function Get-VcsimServiceContent([string] $Url) {
    $sc = Invoke-VcsimSoap -Url $Url -Body '<RetrieveServiceContent xmlns="urn:vim25"><_this type="ServiceInstance">ServiceInstance</_this></RetrieveServiceContent>'
    $sc.returnval
}

<#
    Raw SOAP Login. Returns Url, Cookie (as sent back by the server) and Secret (the cookie value
    without quotes: what PowerCLI exposes as VIServer.SessionSecret).
#>
function New-VcsimSoapSession {
    param([Parameter(Mandatory)] $Lab)
    $url = $Lab.vcsim.url
    $sc = Get-VcsimServiceContent $url
    $user = ConvertTo-XmlText $Lab.vcsim.user
    $pw = ConvertTo-XmlText ([string]$Lab.vcsim.password + '')
    if (-not $pw) { $pw = 'x' }
    $r = Invoke-VcsimSoap -Url $url -PassThruResponse -Body "<Login xmlns=`"urn:vim25`"><_this type=`"SessionManager`">$($sc.sessionManager.'#text')</_this><userName>$user</userName><password>$pw</password></Login>"
    $setCookie = @($r.Response.Headers['Set-Cookie'])[0]
    $cookie = ($setCookie -split ';')[0].Trim()
    $secret = ($cookie -replace '^vmware_soap_session=', '').Trim('"')
    [pscustomobject]@{ Url = $url; Cookie = $cookie; Secret = $secret; ServiceContent = $sc; User = $Lab.vcsim.user }
}

function Remove-VcsimSoapSession($Session) {
    Invoke-VcsimSoap -Url $Session.Url -Cookie $Session.Cookie -Body "<Logout xmlns=`"urn:vim25`"><_this type=`"SessionManager`">$($Session.ServiceContent.sessionManager.'#text')</_this></Logout>" | Out-Null
}

# SessionManager.currentSession user name through a raw request ($null when the cookie is not valid).
function Get-VcsimCurrentSessionUser($Session, [string] $Cookie = $Session.Cookie) {
    $sm = $Session.ServiceContent.sessionManager.'#text'
    $r = Invoke-VcsimSoap -Url $Session.Url -Cookie $Cookie -Body "<RetrievePropertiesEx xmlns=`"urn:vim25`"><_this type=`"PropertyCollector`">$($Session.ServiceContent.propertyCollector.'#text')</_this><specSet><propSet><type>SessionManager</type><pathSet>currentSession</pathSet></propSet><objectSet><obj type=`"SessionManager`">$sm</obj></objectSet></specSet><options/></RetrievePropertiesEx>"
    $val = $r.returnval.objects.propSet.val
    if ($val) { $val.userName } else { $null }
}

# Number of sessions vcsim holds (SessionManager.sessionList).
function Get-VcsimSessionCount($Session) {
    $sm = $Session.ServiceContent.sessionManager.'#text'
    $p = Get-VcsimProperty $Session 'SessionManager' $sm 'sessionList'
    @($p['sessionList'].UserSession).Count
}

# Reads properties of one object through raw SOAP; returns a hashtable path -> XmlElement.
function Get-VcsimProperty($Session, [string] $Type, [string] $MoRef, [string[]] $Path) {
    $paths = ($Path | ForEach-Object { "<pathSet>$(ConvertTo-XmlText $_)</pathSet>" }) -join ''
    $r = Invoke-VcsimSoap -Url $Session.Url -Cookie $Session.Cookie -Body "<RetrievePropertiesEx xmlns=`"urn:vim25`"><_this type=`"PropertyCollector`">$($Session.ServiceContent.propertyCollector.'#text')</_this><specSet><propSet><type>$Type</type>$paths</propSet><objectSet><obj type=`"$Type`">$(ConvertTo-XmlText $MoRef)</obj></objectSet></specSet><options/></RetrievePropertiesEx>"
    $h = @{}
    foreach ($p in @($r.returnval.objects.propSet)) { if ($p) { $h[$p.name] = $p.val } }
    $h
}

# Calls a *_Task method and returns its TaskInfo after it finished (vcsim finishes tasks before replying).
function Invoke-VcsimTask($Session, [string] $Method, [string] $ThisType, [string] $This, [string] $Arguments = '') {
    $r = Invoke-VcsimSoap -Url $Session.Url -Cookie $Session.Cookie -Body "<$Method xmlns=`"urn:vim25`"><_this type=`"$ThisType`">$(ConvertTo-XmlText $This)</_this>$Arguments</$Method>"
    $task = $r.returnval.'#text'
    for ($i = 0; $i -lt 100; $i++) {
        $info = (Get-VcsimProperty $Session 'Task' $task 'info')['info']
        if ($info.state -in 'success', 'error') { return $info }
        Start-Sleep -Milliseconds 50
    }
    throw "$Method task $task did not finish"
}

# Where lab VMs are created: the standalone host's pool and the datacenter's VM folder.
# The lab vCenter's login (lab.json; vcsim accepts any pair, 'lab' when the state has no password).
function Get-LabVCenterCredential($Lab) {
    $password = if ($Lab.vcsim.password) { [string]$Lab.vcsim.password } else { 'lab' }
    [pscredential]::new($Lab.vcsim.user, (ConvertTo-SecureString $password -AsPlainText -Force))
}

function Get-VcsimPlacement($Session, $Lab, [string] $HostName) {
    # -HostName: that host (and its cluster's or its own pool); default the first standalone host.
    $hostDoc = if ($HostName) { @($Lab.vcsim.hosts | Where-Object name -EQ $HostName)[0] } else { @($Lab.vcsim.hosts | Where-Object { -not $_.cluster })[0] }
    if (-not $hostDoc) { $hostDoc = @($Lab.vcsim.hosts)[0] }
    $parent = (Get-VcsimProperty $Session 'HostSystem' $hostDoc.moref 'parent')['parent']
    # GetAttribute('type') without a namespace: vcsim also sends XMLSchema-instance:type on val.
    $pool = (Get-VcsimProperty $Session $parent.GetAttribute('type') $parent.'#text' 'resourcePool')['resourcePool'].'#text'
    $dcName = 'DC0'
    $idx = $Session.ServiceContent.searchIndex.'#text'
    $dc = (Invoke-VcsimSoap -Url $Session.Url -Cookie $Session.Cookie -Body "<FindByInventoryPath xmlns=`"urn:vim25`"><_this type=`"SearchIndex`">$idx</_this><inventoryPath>$dcName</inventoryPath></FindByInventoryPath>").returnval.'#text'
    $vmFolder = (Get-VcsimProperty $Session 'Datacenter' $dc 'vmFolder')['vmFolder'].'#text'
    [pscustomobject]@{ Host = $hostDoc.moref; HostName = $hostDoc.name; Pool = $pool; VmFolder = $vmFolder; Datastore = @($Lab.vcsim.datastores)[0] }
}

<#
    Creates a VM with one (or more) disks on the lab's first datastore through a raw CreateVM_Task,
    powered off unless -PowerOn; -DiskNames names the disks' files (default disk1.vmdk, disk2.vmdk ...).
    Returns Name, MoRef, Dir (the local folder backing its datastore folder).
#>
function New-VcsimVM($Session, $Placement, [string] $Name, [int] $Disks = 1, [switch] $PowerOn, [string] $LastDiskFolder, [string[]] $DiskNames) {
    if ($DiskNames) { $Disks = $DiskNames.Count }
    $ds = $Placement.Datastore.name
    $n = ConvertTo-XmlText $Name
    $devices = '<deviceChange><operation>add</operation><device xsi:type="ParaVirtualSCSIController"><key>-100</key><busNumber>0</busNumber><sharedBus>noSharing</sharedBus></device></deviceChange>'
    # -LastDiskFolder: the last disk lives in another folder of the datastore (created here first).
    if ($LastDiskFolder) { $null = New-Item -ItemType Directory -Force -Path (Join-Path $Placement.Datastore.dir $LastDiskFolder) }
    for ($i = 0; $i -lt $Disks; $i++) {
        # disk1.vmdk, disk2.vmdk ... as vcsim names its own VMs' disks
        $folder = if ($LastDiskFolder -and $i -eq $Disks - 1) { $LastDiskFolder } else { $Name }
        $disk = if ($DiskNames) { $DiskNames[$i] } else { "disk$($i + 1).vmdk" }
        $file = ConvertTo-XmlText ("[$ds] $folder/$disk")
        $devices += "<deviceChange><operation>add</operation><fileOperation>create</fileOperation><device xsi:type=`"VirtualDisk`"><key>-$(101 + $i)</key><backing xsi:type=`"VirtualDiskFlatVer2BackingInfo`"><fileName>$file</fileName><diskMode>persistent</diskMode></backing><controllerKey>-100</controllerKey><unitNumber>$i</unitNumber><capacityInKB>1024</capacityInKB></device></deviceChange>"
    }
    $config = "<config><name>$n</name><guestId>otherGuest</guestId><files><vmPathName>[$(ConvertTo-XmlText $ds)]</vmPathName></files>$devices</config><pool type=`"ResourcePool`">$($Placement.Pool)</pool><host type=`"HostSystem`">$($Placement.Host)</host>"
    $info = Invoke-VcsimTask $Session 'CreateVM_Task' 'Folder' $Placement.VmFolder $config
    if ($info.state -ne 'success') { throw "CreateVM_Task for '$Name' failed: $($info.error.localizedMessage)" }
    $moref = $info.result.'#text'
    if ($PowerOn) { Invoke-VcsimTask $Session 'PowerOnVM_Task' 'VirtualMachine' $moref | Out-Null }
    [pscustomobject]@{ Name = $Name; MoRef = $moref; Dir = Join-Path $Placement.Datastore.dir $Name; HostName = $Placement.HostName; HostMoRef = $Placement.Host }
}

<#
    Where vSAN VMs are created: a cluster host (vsanDatastore is mounted on the cluster's hosts
    only, tests/lab/vcsim/vsan.go), its cluster's pool, and the vSAN datastore's lab.json entry.
#>
function Get-VcsimVsanPlacement($Session, $Lab) {
    $ds = @($Lab.vcsim.datastores | Where-Object type -EQ 'vsan')[0]
    if (-not $ds) { throw 'The lab has no vSAN datastore (vcsim -vsan-vms 0?).' }
    $hostDoc = @($Lab.vcsim.hosts | Where-Object { $_.cluster })[-1]
    $p = Get-VcsimPlacement $Session $Lab
    $parent = (Get-VcsimProperty $Session 'HostSystem' $hostDoc.moref 'parent')['parent']
    $pool = (Get-VcsimProperty $Session $parent.GetAttribute('type') $parent.'#text' 'resourcePool')['resourcePool'].'#text'
    [pscustomobject]@{ Host = $hostDoc.moref; HostName = $hostDoc.name; Pool = $pool; VmFolder = $p.VmFolder; Datastore = $ds }
}

<#
    Creates a VM on vsanDatastore as vSAN lays it out: its files in a directory named by the
    namespace object's UUID ("[vsanDatastore] <uuid>/<name>.vmdk"), and a friendly-name link to
    that directory (kubernetes/kubernetes vSphere cloud provider, vclib/virtualmachine.go). The
    UUID is a random one of the same form. Returns Name, MoRef, Dir (the UUID directory), Uuid, Link.
#>
function New-VcsimVsanVM($Session, $Placement, [string] $Name, [switch] $PowerOn) {
    $ds = $Placement.Datastore.name
    $uuid = [guid]::NewGuid().ToString()
    $nsDir = "[$ds] $uuid"
    $n = ConvertTo-XmlText $Name
    $file = ConvertTo-XmlText "$nsDir/$Name.vmdk"
    $devices = '<deviceChange><operation>add</operation><device xsi:type="ParaVirtualSCSIController"><key>-100</key><busNumber>0</busNumber><sharedBus>noSharing</sharedBus></device></deviceChange>' +
        "<deviceChange><operation>add</operation><fileOperation>create</fileOperation><device xsi:type=`"VirtualDisk`"><key>-101</key><backing xsi:type=`"VirtualDiskFlatVer2BackingInfo`"><fileName>$file</fileName><diskMode>persistent</diskMode></backing><controllerKey>-100</controllerKey><unitNumber>0</unitNumber><capacityInKB>1024</capacityInKB></device></deviceChange>"
    $config = "<config><name>$n</name><guestId>otherGuest</guestId><files><vmPathName>$(ConvertTo-XmlText "$nsDir/$Name.vmx")</vmPathName></files>$devices</config><pool type=`"ResourcePool`">$($Placement.Pool)</pool><host type=`"HostSystem`">$($Placement.Host)</host>"
    $info = Invoke-VcsimTask $Session 'CreateVM_Task' 'Folder' $Placement.VmFolder $config
    if ($info.state -ne 'success') { throw "CreateVM_Task for '$Name' failed: $($info.error.localizedMessage)" }
    $moref = $info.result.'#text'
    if ($PowerOn) { Invoke-VcsimTask $Session 'PowerOnVM_Task' 'VirtualMachine' $moref | Out-Null }
    $link = Join-Path $Placement.Datastore.dir $Name
    if (-not (Test-Path -LiteralPath $link)) { $null = New-Item -ItemType SymbolicLink -Path $link -Target $uuid }
    [pscustomobject]@{ Name = $Name; MoRef = $moref; Dir = Join-Path $Placement.Datastore.dir $uuid; Uuid = $uuid; Link = $link; HostName = $Placement.HostName; HostMoRef = $Placement.Host }
}

function Remove-VcsimVM($Session, $Vm) {
    $state = (Get-VcsimProperty $Session 'VirtualMachine' $Vm.MoRef 'runtime.powerState')['runtime.powerState'].'#text'
    if ($state -eq 'poweredOn') { Invoke-VcsimTask $Session 'PowerOffVM_Task' 'VirtualMachine' $Vm.MoRef | Out-Null }
    Invoke-VcsimTask $Session 'Destroy_Task' 'VirtualMachine' $Vm.MoRef | Out-Null
    if ($Vm.PSObject.Properties['Link'] -and $Vm.Link) { Remove-Item -LiteralPath $Vm.Link -Force -ErrorAction SilentlyContinue }
}

function Get-VcsimVMState($Session, $Vm) {
    $p = Get-VcsimProperty $Session 'VirtualMachine' $Vm.MoRef 'runtime.powerState', 'config.changeTrackingEnabled', 'config.extraConfig'
    $extra = @{}
    foreach ($o in @($p['config.extraConfig'].OptionValue)) { if ($o) { $extra[$o.key] = $o.value.'#text' } }
    [pscustomobject]@{
        PowerState = $p['runtime.powerState'].'#text'
        Cbt        = ($p['config.changeTrackingEnabled'].'#text' -eq 'true')
        ExtraConfig = $extra
    }
}

function Set-VcsimVMPower($Session, $Vm, [ValidateSet('On', 'Off')] [string] $State) {
    $cur = (Get-VcsimVMState $Session $Vm).PowerState
    if ($State -eq 'On' -and $cur -ne 'poweredOn') { Invoke-VcsimTask $Session 'PowerOnVM_Task' 'VirtualMachine' $Vm.MoRef | Out-Null }
    if ($State -eq 'Off' -and $cur -ne 'poweredOff') { Invoke-VcsimTask $Session 'PowerOffVM_Task' 'VirtualMachine' $Vm.MoRef | Out-Null }
}

function Set-VcsimVMCbt($Session, $Vm, [bool] $Enabled) {
    $v = if ($Enabled) { 'true' } else { 'false' }
    Invoke-VcsimTask $Session 'ReconfigVM_Task' 'VirtualMachine' $Vm.MoRef "<spec><changeTrackingEnabled>$v</changeTrackingEnabled></spec>" | Out-Null
}

function New-VcsimSnapshot($Session, $Vm, [string] $Name = 'before-migration') {
    Invoke-VcsimTask $Session 'CreateSnapshot_Task' 'VirtualMachine' $Vm.MoRef "<name>$(ConvertTo-XmlText $Name)</name><memory>false</memory><quiesce>false</quiesce>" | Out-Null
}

function Remove-VcsimSnapshots($Session, $Vm) {
    Invoke-VcsimTask $Session 'RemoveAllSnapshots_Task' 'VirtualMachine' $Vm.MoRef | Out-Null
}

# ---- PowerCLI-shaped objects -----------------------------------------------------------------

function New-PSObjectWithTypes([string[]] $TypeNames, [System.Collections.IDictionary] $Properties) {
    $o = [pscustomobject]$Properties
    $o.PSObject.TypeNames.Clear()
    foreach ($t in $TypeNames) { $o.PSObject.TypeNames.Add($t) }
    $o
}

<#
    A VIServer as Connect-VIServer returns it (VMware.VimAutomation.ViCore.Impl.V1.VIServerImpl),
    holding a real vcsim session secret.
#>
function New-PowerCliVIServer($Session, [bool] $IsConnected = $true) {
    $uri = [uri]$Session.Url
    New-PSObjectWithTypes @(
        'VMware.VimAutomation.ViCore.Impl.V1.VIServerImpl'
        'VMware.VimAutomation.ViCore.Types.V1.VIServer'
        'VMware.VimAutomation.Types.VIConnection'
        'System.Object'
    ) ([ordered]@{
        IsConnected   = $IsConnected
        Id            = "/VIServer=$($Session.User)@$($uri.Host):$($uri.Port)/"
        ServiceUri    = $uri
        SessionSecret = $Session.Secret
        Name          = $uri.Host
        Port          = $uri.Port
        SessionId     = $Session.Secret
        User          = $Session.User
        Uid           = "/VIServer=$($Session.User)@$($uri.Host):$($uri.Port)/"
        Version       = '6.5'
        Build         = '5973321'
        ProductLine   = 'vpx'
        InstanceUuid  = $Session.ServiceContent.about.instanceUuid
        RefCount      = 1
        ExtensionData = 'VMware.Vim.ServiceInstance'
    })
}

<#
    A VM as Get-VM returns it (UniversalVirtualMachineImpl): Name, Id, Uid naming the server,
    PowerState, VMHost/VMHostId, ExtensionData.MoRef. -User may hold SSO names with '@'.
#>
function New-PowerCliVM($Vm, [string] $ServerUrl, [string] $User = 'administrator@vsphere.local', [string] $PowerState = 'PoweredOff') {
    $uri = [uri]$ServerUrl
    $moref = New-PSObjectWithTypes @('VMware.Vim.ManagedObjectReference', 'System.Object') ([ordered]@{ Type = 'VirtualMachine'; Value = $Vm.MoRef })
    $ext = New-PSObjectWithTypes @('VMware.Vim.VirtualMachine', 'VMware.Vim.ManagedEntity', 'System.Object') ([ordered]@{ MoRef = $moref; Name = $Vm.Name })
    New-PSObjectWithTypes @(
        'VMware.VimAutomation.ViCore.Impl.V1.VM.UniversalVirtualMachineImpl'
        'VMware.VimAutomation.ViCore.Impl.V1.Inventory.VirtualMachineImpl'
        'VMware.VimAutomation.ViCore.Impl.V1.Inventory.InventoryItemImpl'
        'VMware.VimAutomation.ViCore.Types.V1.Inventory.VirtualMachine'
        'System.Object'
    ) ([ordered]@{
        Name          = $Vm.Name
        PowerState    = $PowerState
        NumCpu        = 1
        MemoryGB      = 0.03125
        VMHost        = $Vm.HostName
        VMHostId      = "HostSystem-$($Vm.HostMoRef)"
        Id            = "VirtualMachine-$($Vm.MoRef)"
        Uid           = "/VIServer=$User@$($uri.Host):$($uri.Port)/VirtualMachine=VirtualMachine-$($Vm.MoRef)/"
        ExtensionData = $ext
    })
}

# What a PowerCLI object looks like after a job or remoting boundary (Deserialized.* type names).
function ConvertTo-Deserialized($InputObject) {
    [System.Management.Automation.PSSerializer]::Deserialize([System.Management.Automation.PSSerializer]::Serialize($InputObject, 2))
}
