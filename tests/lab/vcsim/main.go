// vcsim for the MtvRemediation test lab: govmomi's vCenter simulator (Debian's govmomi 0.24.2
// source, built in GOPATH mode by lab.sh) with a configurable inventory, an inventory document
// for the test harness, and /ctl endpoints for fault injection.
//
// /ctl endpoints are served both on the simulator's TLS server and on a plain-HTTP loopback
// listener (BusyBox wget inside the simulated ESXi hosts has no usable TLS for this).
package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"flag"
	"fmt"
	"io/ioutil"
	"log"
	"math/rand"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/vmware/govmomi"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/simulator/esx"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

var (
	standalone   = flag.Int("standalone-hosts", 1, "standalone hosts (DC0_H<i>)")
	clusterHosts = flag.Int("cluster-hosts", 3, "hosts in cluster DC0_C0 (DC0_C0_H<i>); 0 = no cluster")
	vmsPerHost   = flag.Int("vms-per-host", 2, "minimum VMs on every host")
	datastores   = flag.Int("datastores", 1, "local datastores (LocalDS_<i>), mounted on every host")
	user         = flag.String("user", "administrator@vsphere.local", "user name written to the inventory document (vcsim accepts any)")
	password     = flag.String("password", os.Getenv("VCSIM_LAB_PASSWORD"), "password written to the inventory document (vcsim accepts any; default $VCSIM_LAB_PASSWORD)")
	outFile      = flag.String("out", "", "write the inventory JSON document here (atomically)")
	tsvFile      = flag.String("tsv", "", "also write 'host<TAB>name<TAB>moref' and 'datastore<TAB>name<TAB>dir' lines here (for lab.sh)")
	taskTimes    = flag.String("task-times", os.Getenv("MTVLAB_TASK_TIMES"), "run *_Task methods asynchronously: 'PowerOnVM_Task=3000,*=50' (run ms[+queue ms]; default $MTVLAB_TASK_TIMES; tasks.go)")
	vsanVMs      = flag.Int("vsan-vms", 1, "powered-on VMs on vsanDatastore, the cluster's vSAN datastore (0 = no vSAN datastore; vsan.go)")
	serviceHook  = flag.String("service-hook", "", "lab.sh path: TSM-SSH Start/Stop/RefreshServices run 'bash <hook> ssh-service <host> start|stop|status'")
)

// ctl is the fault-injection state. Every mutation of simulator objects goes through
// simulator.Map.WithLock so it serialises with the SOAP handlers.
type ctl struct {
	mu      sync.Mutex
	model   *simulator.Model
	reverts map[string]*time.Timer // host name -> pending revert to connected
}

func main() {
	flag.Parse()
	log.SetFlags(log.LstdFlags | log.Lmicroseconds)
	rand.Seed(1) // vcsim places cluster VMs on random hosts: keep it deterministic run to run

	m := simulator.VPX()
	m.Host = *standalone
	m.ClusterHost = *clusterHosts
	if *clusterHosts == 0 {
		m.Cluster = 0
	}
	m.Datastore = *datastores
	m.Machine = *vmsPerHost
	if err := m.Create(); err != nil {
		log.Fatalf("create model: %v", err)
	}
	simulator.Map.AddHandler(ctkOnPowerOn{})
	addHostServiceSystems(*serviceHook)
	addMaxLun()
	defer m.Remove()

	m.Service.TLS = new(tls.Config)
	m.Service.Listen = &url.URL{Host: "127.0.0.1:0"}

	times, err := parseTaskTimes(*taskTimes)
	if err != nil {
		log.Fatalf("-task-times: %v", err)
	}
	tasks = newAsyncTasks(nil, times)
	c := &ctl{model: m, reverts: map[string]*time.Timer{}}
	mux := http.NewServeMux()
	c.register(func(p string, h func(http.ResponseWriter, *http.Request)) {
		m.Service.HandleFunc(p, h)
		mux.HandleFunc(p, h)
	})

	s := m.Service.NewServer()
	defer s.Close()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatalf("ctl listen: %v", err)
	}
	go func() { _ = http.Serve(ln, mux) }()

	if err := topUpVMs(s.URL); err != nil {
		log.Fatalf("create VMs: %v", err)
	}
	if err := addVsan(s.URL, *vsanVMs); err != nil {
		log.Fatalf("vSAN datastore: %v", err)
	}
	// Inventory is built: from here on *_Task methods run as vCenter's do (tasks.go).
	tasks.inner = extraConfigSemantics{inner: s.Server.Config.Handler}
	s.Server.Config.Handler = tasks

	doc := inventory(s.URL, "http://"+ln.Addr().String())
	if *outFile != "" {
		b, _ := json.MarshalIndent(doc, "", "  ")
		tmp := *outFile + ".tmp"
		if err := ioutil.WriteFile(tmp, b, 0600); err != nil {
			log.Fatal(err)
		}
		if err := os.Rename(tmp, *outFile); err != nil {
			log.Fatal(err)
		}
	}
	if *tsvFile != "" {
		var b strings.Builder
		fmt.Fprintf(&b, "url\t%s\nctl\t%s\n", doc["url"], doc["ctlUrl"])
		for _, h := range doc["hosts"].([]hostDoc) {
			fmt.Fprintf(&b, "host\t%s\t%s\n", h.Name, h.MoRef)
		}
		for _, d := range doc["datastores"].([]dsDoc) {
			if d.Type == "vsan" {
				continue // not mounted in the lab's ESXi chroots (vsan.go)
			}
			fmt.Fprintf(&b, "datastore\t%s\t%s\n", d.Name, d.Dir)
		}
		if err := ioutil.WriteFile(*tsvFile+".tmp", []byte(b.String()), 0600); err != nil {
			log.Fatal(err)
		}
		if err := os.Rename(*tsvFile+".tmp", *tsvFile); err != nil {
			log.Fatal(err)
		}
	}
	log.Printf("vcsim ready: %s (ctl %s)", doc["url"], doc["ctlUrl"])

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	<-sig
	log.Printf("vcsim stopping")
}

// topUpVMs gives every host at least vmsPerHost VMs: vcsim puts cluster VMs on random cluster
// hosts, so cluster hosts get extra VMs named <host>_VM<i>, created and powered on like vcsim's own.
func topUpVMs(u *url.URL) error {
	ctx := context.Background()
	u2 := *u
	u2.User = url.UserPassword("lab", "lab")
	c, err := govmomi.NewClient(ctx, &u2, true)
	if err != nil {
		return err
	}
	defer func() { _ = c.Logout(ctx) }()

	for _, e := range simulator.Map.All("HostSystem") {
		h := e.(*simulator.HostSystem)
		var hostName string
		var count int
		var parent types.ManagedObjectReference
		simulator.Map.WithLock(h, func() {
			hostName = h.Name
			count = len(h.Vm)
			parent = *h.Parent
		})
		if parent.Type != "ClusterComputeResource" || count >= *vmsPerHost {
			continue
		}
		cluster := object.NewClusterComputeResource(c.Client, parent)
		pool, err := cluster.ResourcePool(ctx)
		if err != nil {
			return err
		}
		dc := simulator.Map.Any("Datacenter")
		folders, err := object.NewDatacenter(c.Client, dc.Reference()).Folders(ctx)
		if err != nil {
			return err
		}
		host := object.NewHostSystem(c.Client, h.Reference())
		for i := 0; count < *vmsPerHost; i++ {
			name := fmt.Sprintf("%s_VM%d", hostName, i)
			if err := createVM(ctx, folders, pool, host, name); err != nil {
				return err
			}
			count++
		}
	}
	return nil
}

func createVM(ctx context.Context, folders *object.DatacenterFolders, pool *object.ResourcePool, host *object.HostSystem, name string) error {
	return createVMAt(ctx, folders, pool, host, name, "[LocalDS_0]", "[LocalDS_0] "+path.Join(name, "disk1.vmdk"))
}

// createVMAt creates a powered-on VM with one 1 MiB disk: vmPathName is where its files go (a
// datastore, or a .vmx path), diskPath its disk's datastore path.
func createVMAt(ctx context.Context, folders *object.DatacenterFolders, pool *object.ResourcePool, host *object.HostSystem, name, vmPathName, diskPath string) error {
	nic := esx.EthernetCard
	config := types.VirtualMachineConfigSpec{
		Name:    name,
		GuestId: string(types.VirtualMachineGuestOsIdentifierOtherGuest),
		Files:   &types.VirtualMachineFileInfo{VmPathName: vmPathName},
	}
	var devices object.VirtualDeviceList
	scsi, _ := devices.CreateSCSIController("pvscsi")
	ide, _ := devices.CreateIDEController()
	cdrom, _ := devices.CreateCdrom(ide.(*types.VirtualIDEController))
	disk := devices.CreateDisk(scsi.(types.BaseVirtualController), types.ManagedObjectReference{}, diskPath)
	disk.CapacityInKB = 1024
	devices = append(devices, scsi, cdrom, disk, &nic)
	config.DeviceChange, _ = devices.ConfigSpec(types.VirtualDeviceConfigSpecOperationAdd)

	task, err := folders.VmFolder.CreateVM(ctx, config, pool, host)
	if err != nil {
		return err
	}
	info, err := task.WaitForResult(ctx, nil)
	if err != nil {
		return err
	}
	vm := object.NewVirtualMachine(host.Client(), info.Result.(types.ManagedObjectReference))
	t, err := vm.PowerOn(ctx)
	if err != nil {
		return err
	}
	return t.Wait(ctx)
}

type hostDoc struct {
	Name    string `json:"name"`
	MoRef   string `json:"moref"`
	Cluster string `json:"cluster"`
}

type dsDoc struct {
	Name  string `json:"name"`
	MoRef string `json:"moref"`
	Type  string `json:"type"` // summary.type: OTHER for vcsim's local datastores, vsan for vsanDatastore
	URL   string `json:"url"`  // summary.url
	Dir   string `json:"dir"`  // the backing directory (info.url, what vcsim's file code uses)
}

func inventory(u *url.URL, ctlURL string) map[string]interface{} {
	type vmDoc struct {
		Name       string   `json:"name"`
		MoRef      string   `json:"moref"`
		Host       string   `json:"host"`
		HostMoRef  string   `json:"hostMoref"`
		PowerState string   `json:"powerState"`
		VmxPath    string   `json:"vmxPath"`
		Datastore  string   `json:"datastore"`
		Disks      []string `json:"disks"`
		LocalDir   string   `json:"localDir"`
	}

	hostNames := map[types.ManagedObjectReference]string{}
	var hosts []hostDoc
	for _, e := range simulator.Map.All("HostSystem") {
		h := e.(*simulator.HostSystem)
		simulator.Map.WithLock(h, func() {
			d := hostDoc{Name: h.Name, MoRef: h.Self.Value}
			if h.Parent != nil && h.Parent.Type == "ClusterComputeResource" {
				if cl, ok := simulator.Map.Get(*h.Parent).(mo.Entity); ok {
					d.Cluster = cl.Entity().Name
				}
			}
			hostNames[h.Self] = h.Name
			hosts = append(hosts, d)
		})
	}
	// Lab host i maps to inventory host i: standalone hosts first, then cluster hosts, by name.
	sort.Slice(hosts, func(i, j int) bool {
		if (hosts[i].Cluster == "") != (hosts[j].Cluster == "") {
			return hosts[i].Cluster == ""
		}
		return hostOrder(hosts[i].Name) < hostOrder(hosts[j].Name)
	})

	var dss []dsDoc
	for _, e := range simulator.Map.All("Datastore") {
		d := e.(*simulator.Datastore)
		simulator.Map.WithLock(d, func() {
			dir := strings.TrimPrefix(d.Info.GetDatastoreInfo().Url, "file://")
			dss = append(dss, dsDoc{Name: d.Name, MoRef: d.Self.Value, Type: d.Summary.Type, URL: d.Summary.Url, Dir: dir})
		})
	}
	sort.Slice(dss, func(i, j int) bool { return dss[i].Name < dss[j].Name })
	dsDirs := map[string]string{}
	for _, d := range dss {
		dsDirs[d.Name] = d.Dir
	}

	var vms []vmDoc
	for _, e := range simulator.Map.All("VirtualMachine") {
		v := e.(*simulator.VirtualMachine)
		simulator.Map.WithLock(v, func() {
			d := vmDoc{Name: v.Name, MoRef: v.Self.Value, PowerState: string(v.Runtime.PowerState), Disks: []string{}}
			if v.Runtime.Host != nil {
				d.HostMoRef = v.Runtime.Host.Value
				d.Host = hostNames[*v.Runtime.Host]
			}
			if v.Config != nil {
				d.VmxPath = v.Config.Files.VmPathName
				if i := strings.Index(d.VmxPath, "]"); strings.HasPrefix(d.VmxPath, "[") && i > 0 {
					d.Datastore = d.VmxPath[1:i]
					if dir, ok := dsDirs[d.Datastore]; ok {
						d.LocalDir = path.Join(dir, path.Dir(strings.TrimSpace(d.VmxPath[i+1:])))
					}
				}
				for _, dev := range v.Config.Hardware.Device {
					if disk, ok := dev.(*types.VirtualDisk); ok {
						if b, ok := disk.Backing.(types.BaseVirtualDeviceFileBackingInfo); ok {
							d.Disks = append(d.Disks, b.GetVirtualDeviceFileBackingInfo().FileName)
						}
					}
				}
			}
			vms = append(vms, d)
		})
	}
	sort.Slice(vms, func(i, j int) bool { return vms[i].Name < vms[j].Name })

	clean := &url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path} // s.URL carries user:pass
	return map[string]interface{}{
		"url":        clean.String(),
		"ctlUrl":     ctlURL,
		"tlsCtlUrl":  (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: "/ctl"}).String(),
		"user":       *user,
		"password":   *password,
		"pid":        os.Getpid(),
		"hosts":      hosts,
		"datastores": dss,
		"vms":        vms,
	}
}

// hostOrder sorts DC0_C0_H2 before DC0_C0_H10.
func hostOrder(name string) string {
	i := strings.LastIndex(name, "_H")
	if i < 0 {
		return name
	}
	n, err := strconv.Atoi(name[i+2:])
	if err != nil {
		return name
	}
	return fmt.Sprintf("%s_H%06d", name[:i], n)
}

// ---- /ctl endpoints --------------------------------------------------------------------------

func (c *ctl) register(handle func(string, func(http.ResponseWriter, *http.Request))) {
	handle("/ctl/delay", c.delay)
	handle("/ctl/disable-method", c.disableMethod)
	handle("/ctl/enable-method", c.enableMethod)
	handle("/ctl/fail-next", c.failNext)
	handle("/ctl/host-state", c.hostState)
	handle("/ctl/reset", c.reset)
	handle("/ctl/state", c.state)
	handle("/ctl/ctk-on-power-on", ctkOnPowerOnCtl)
	handle("/ctl/vsan-keep-on-delete", vsanKeepCtl)
	handle("/ctl/delete-fault", deleteFaultCtl)
	handle("/ctl/option", optionCtl)
	registerVCenterRealism(handle)
}

// tasks is the asynchronous task layer (tasks.go); its ctl endpoints exist from the start.
var tasks *asyncTasks

// registerVCenterRealism: the endpoints of tasks.go (async tasks) and hostd.go (connection lag).
func registerVCenterRealism(handle func(string, func(http.ResponseWriter, *http.Request))) {
	handle("/ctl/task-time", func(w http.ResponseWriter, r *http.Request) { tasks.ctl(w, r) })
	handle("/ctl/tasks", func(w http.ResponseWriter, r *http.Request) { tasks.tasksCtl(w, r) })
	handle("/ctl/hostd", hostdCtl)
}

func reply(w http.ResponseWriter, status int, v interface{}) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func bad(w http.ResponseWriter, format string, args ...interface{}) {
	reply(w, http.StatusBadRequest, map[string]string{"error": fmt.Sprintf(format, args...)})
}

// delay?method=ReconfigVM_Task&ms=2000 (ms=0 clears); delay?ms=N without method sets the global delay.
func (c *ctl) delay(w http.ResponseWriter, r *http.Request) {
	ms, err := strconv.Atoi(r.FormValue("ms"))
	if err != nil || ms < 0 {
		bad(w, "ms must be a non-negative integer")
		return
	}
	method := r.FormValue("method")
	c.mu.Lock()
	defer c.mu.Unlock()
	if method == "" {
		c.model.DelayConfig.Delay = ms
	} else {
		// Copy-on-write: the SOAP dispatcher reads MethodDelay without a lock, so never
		// mutate the map it may be reading; publish a new one instead.
		next := map[string]int{}
		for k, v := range c.model.DelayConfig.MethodDelay {
			next[k] = v
		}
		if ms == 0 {
			delete(next, method)
		} else {
			next[method] = ms
		}
		c.model.DelayConfig.MethodDelay = next
	}
	reply(w, http.StatusOK, c.snapshot())
}

// internalMethod maps a SOAP method name (ReconfigVM_Task) to vcsim's DisabledMethod name (ReconfigVMTask).
func internalMethod(m string) string {
	m = strings.Title(m)
	if strings.HasSuffix(m, "_Task") {
		m = strings.TrimSuffix(m, "_Task") + "Task"
	}
	return m
}

func findEntity(kind, name string) mo.Entity {
	for _, e := range simulator.Map.All(kind) {
		if e.Entity().Name == name || e.Reference().Value == name {
			return e
		}
	}
	return nil
}

// disable-method?vm=<name or moref>&method=ReconfigVM_Task -> MethodDisabled fault on that VM.
func (c *ctl) disableMethod(w http.ResponseWriter, r *http.Request) { c.setMethod(w, r, true) }

// enable-method?vm=<name or moref>&method=ReconfigVM_Task undoes disable-method.
func (c *ctl) enableMethod(w http.ResponseWriter, r *http.Request) { c.setMethod(w, r, false) }

func (c *ctl) setMethod(w http.ResponseWriter, r *http.Request, disable bool) {
	vmName, method := r.FormValue("vm"), r.FormValue("method")
	if vmName == "" || method == "" {
		bad(w, "vm and method are required")
		return
	}
	e := findEntity("VirtualMachine", vmName)
	if e == nil {
		reply(w, http.StatusNotFound, map[string]string{"error": "no VM named " + vmName})
		return
	}
	im := internalMethod(method)
	c.mu.Lock()
	defer c.mu.Unlock()
	simulator.Map.WithLock(e, func() {
		me := e.Entity()
		var kept []string
		for _, m := range me.DisabledMethod {
			if m != im {
				kept = append(kept, m)
			}
		}
		if disable {
			kept = append(kept, im)
		}
		me.DisabledMethod = kept
	})
	reply(w, http.StatusOK, c.snapshot())
}

// fail-next?status=500: the next /sdk call gets this HTTP status and no body.
func (c *ctl) failNext(w http.ResponseWriter, r *http.Request) {
	status := http.StatusInternalServerError
	if s := r.FormValue("status"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 200 || n > 599 {
			bad(w, "status must be an HTTP status code")
			return
		}
		status = n
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	simulator.StatusSDK = status
	reply(w, http.StatusOK, c.snapshot())
}

// host-state?host=DC0_H0&state=notResponding[&for=ms]: set runtime.connectionState; with for,
// return to connected after that many milliseconds (what the lab's hostd restart uses).
func (c *ctl) hostState(w http.ResponseWriter, r *http.Request) {
	name := r.FormValue("host")
	state := types.HostSystemConnectionState(r.FormValue("state"))
	switch state {
	case types.HostSystemConnectionStateConnected, types.HostSystemConnectionStateNotResponding, types.HostSystemConnectionStateDisconnected:
	default:
		bad(w, "state must be connected, notResponding or disconnected")
		return
	}
	forMs := 0
	if f := r.FormValue("for"); f != "" {
		n, err := strconv.Atoi(f)
		if err != nil || n < 0 {
			bad(w, "for must be milliseconds")
			return
		}
		forMs = n
	}
	e := findEntity("HostSystem", name)
	if e == nil {
		reply(w, http.StatusNotFound, map[string]string{"error": "no host named " + name})
		return
	}
	hostdLag.cancel(name) // a manual state overrides the hostd restart model
	c.mu.Lock()
	defer c.mu.Unlock()
	if t := c.reverts[name]; t != nil {
		t.Stop()
		delete(c.reverts, name)
	}
	setHostState(e, state)
	if forMs > 0 && state != types.HostSystemConnectionStateConnected {
		var t *time.Timer
		t = time.AfterFunc(time.Duration(forMs)*time.Millisecond, func() {
			c.mu.Lock()
			defer c.mu.Unlock()
			if c.reverts[name] == t {
				delete(c.reverts, name)
				setHostState(e, types.HostSystemConnectionStateConnected)
			}
		})
		c.reverts[name] = t
	}
	reply(w, http.StatusOK, c.snapshot())
}

func setHostState(e mo.Entity, state types.HostSystemConnectionState) {
	simulator.Map.WithLock(e, func() {
		simulator.Map.Update(e, []types.PropertyChange{{Name: "runtime.connectionState", Val: state}})
	})
}

// reset: no delays, no disabled methods, no pending failure, every host connected, no delete faults.
func (c *ctl) reset(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.model.DelayConfig.Delay = 0
	c.model.DelayConfig.MethodDelay = map[string]int{}
	simulator.StatusSDK = http.StatusOK
	atomic.StoreInt32(&ctkOnPowerOnEnabled, 0)
	vsanKeepReset()
	deleteFaultReset()
	tasks.reset()
	resetMaxLun()
	hostdLag.cancel("")
	for name, t := range c.reverts {
		t.Stop()
		delete(c.reverts, name)
	}
	for _, e := range simulator.Map.All("VirtualMachine") {
		simulator.Map.WithLock(e, func() { e.Entity().DisabledMethod = nil })
	}
	for _, e := range simulator.Map.All("HostSystem") {
		h := e.(*simulator.HostSystem)
		var cur types.HostSystemConnectionState
		simulator.Map.WithLock(h, func() { cur = h.Runtime.ConnectionState })
		if cur != types.HostSystemConnectionStateConnected {
			setHostState(h, types.HostSystemConnectionStateConnected)
		}
	}
	reply(w, http.StatusOK, c.snapshot())
}

// state: the current fault-injection settings and every host's connection state.
func (c *ctl) state(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	defer c.mu.Unlock()
	reply(w, http.StatusOK, c.snapshot())
}

// snapshot must be called with c.mu held.
func (c *ctl) snapshot() map[string]interface{} {
	hosts := map[string]string{}
	for _, e := range simulator.Map.All("HostSystem") {
		h := e.(*simulator.HostSystem)
		simulator.Map.WithLock(h, func() { hosts[h.Name] = string(h.Runtime.ConnectionState) })
	}
	disabled := map[string][]string{}
	for _, e := range simulator.Map.All("VirtualMachine") {
		simulator.Map.WithLock(e, func() {
			if dm := e.Entity().DisabledMethod; len(dm) > 0 {
				disabled[e.Entity().Name] = append([]string(nil), dm...)
			}
		})
	}
	md := c.model.DelayConfig.MethodDelay
	if md == nil {
		md = map[string]int{}
	}
	return map[string]interface{}{
		"delay":           c.model.DelayConfig.Delay,
		"methodDelay":     md,
		"disabledMethods": disabled,
		"failNextStatus":  simulator.StatusSDK,
		"hostStates":      hosts,
	}
}

// ctkOnPowerOn does what ESXi does and vcsim does not: when a VM with CBT enabled powers on, its
// disks are opened and each gets its <disk>-ctk.vmdk (created if missing) beside the descriptor.
// Without it a CBT reset in the lab would end with a running VM that has no ctk files. Off by
// default (tests written against plain vcsim expect no new files); /ctl/ctk-on-power-on?enabled=1
// turns it on, /ctl/reset off.
type ctkOnPowerOn struct{}

var ctkOnPowerOnEnabled int32

func ctkOnPowerOnCtl(w http.ResponseWriter, r *http.Request) {
	switch r.FormValue("enabled") {
	case "1", "true":
		atomic.StoreInt32(&ctkOnPowerOnEnabled, 1)
	case "0", "false":
		atomic.StoreInt32(&ctkOnPowerOnEnabled, 0)
	case "":
	default:
		bad(w, "enabled must be 1 or 0")
		return
	}
	reply(w, http.StatusOK, map[string]bool{"enabled": atomic.LoadInt32(&ctkOnPowerOnEnabled) == 1})
}

func (ctkOnPowerOn) Reference() types.ManagedObjectReference {
	return types.ManagedObjectReference{Type: "LabCtkOnPowerOn", Value: "lab-ctk"}
}

func (ctkOnPowerOn) PutObject(mo.Reference)                    {}
func (ctkOnPowerOn) RemoveObject(types.ManagedObjectReference) {}

func (ctkOnPowerOn) UpdateObject(obj mo.Reference, changes []types.PropertyChange) {
	if atomic.LoadInt32(&ctkOnPowerOnEnabled) == 0 {
		return
	}
	vm, ok := obj.(*mo.VirtualMachine) // handlers get the managed object itself, not the simulator wrapper
	if !ok || vm.Config == nil || vm.Config.ChangeTrackingEnabled == nil || !*vm.Config.ChangeTrackingEnabled {
		return
	}
	poweredOn := false
	for _, c := range changes {
		if c.Name == "runtime.powerState" && fmt.Sprint(c.Val) == string(types.VirtualMachinePowerStatePoweredOn) {
			poweredOn = true
		}
	}
	if !poweredOn {
		return
	}
	dirs := map[string]string{}
	for _, e := range simulator.Map.All("Datastore") {
		if ds, ok := e.(*simulator.Datastore); ok {
			dirs[ds.Name] = ds.Info.GetDatastoreInfo().Url
		}
	}
	for _, d := range vm.Config.Hardware.Device {
		disk, ok := d.(*types.VirtualDisk)
		if !ok {
			continue
		}
		fb, ok := disk.Backing.(types.BaseVirtualDeviceFileBackingInfo)
		if !ok {
			continue
		}
		var p object.DatastorePath
		if !p.FromString(fb.GetVirtualDeviceFileBackingInfo().FileName) || !strings.HasSuffix(p.Path, ".vmdk") {
			continue
		}
		dir, ok := dirs[p.Datastore]
		if !ok {
			continue
		}
		ctk := path.Join(dir, strings.TrimSuffix(p.Path, ".vmdk")+"-ctk.vmdk")
		if _, err := os.Stat(ctk); os.IsNotExist(err) {
			if err := ioutil.WriteFile(ctk, []byte("lab: change tracking file created at power-on\n"), 0600); err != nil {
				log.Printf("ctk on power-on: %v", err)
			}
		}
	}
}

// HostServiceSystem, which vcsim 0.24 lacks, after the vSphere API reference (vim.host.ServiceSystem:
// property serviceInfo = HostServiceInfo with service[] of HostService {key, label, required,
// uninstallable, running, ruleset, policy}; methods StartService, StopService, RefreshServices,
// UpdateServicePolicy; an unknown id is a NotFound fault). Keys and labels as ESXi lists them
// (TSM = "ESXi Shell", TSM-SSH = "SSH"). TSM-SSH gates the lab host's real sshd through the hook
// (lab.sh ssh-service): StopService stops the listener (new connections are refused, live sessions
// stay, as on ESXi), StartService starts it, RefreshServices reads whether it runs (lab.sh
// stop-host/start-host change it behind vCenter's back, like an admin at the DCUI).
type HostServiceSystem struct {
	mo.HostServiceSystem
	host string
	hook string
}

func addHostServiceSystems(hook string) {
	for _, e := range simulator.Map.All("HostSystem") {
		h, ok := e.(*simulator.HostSystem)
		if !ok {
			continue
		}
		s := &HostServiceSystem{host: h.Name, hook: hook}
		s.ServiceInfo.Service = []types.HostService{
			{Key: "TSM", Label: "ESXi Shell", Policy: "off", Running: false, Uninstallable: false, Required: false},
			{Key: "TSM-SSH", Label: "SSH", Policy: "off", Running: true, Ruleset: []string{"sshServer"}},
		}
		ref := simulator.Map.Put(s).Reference()
		simulator.Map.WithLock(h, func() { h.ConfigManager.ServiceSystem = &ref })
	}
}

// runHook returns the hook's trimmed output; a host the lab does not run (vcsim has more hosts
// than the lab) or no hook leaves the service flag as the only state.
func (s *HostServiceSystem) runHook(action string) (string, bool) {
	if s.hook == "" {
		return "", false
	}
	out, err := exec.Command("bash", s.hook, "ssh-service", s.host, action).CombinedOutput()
	if err != nil {
		log.Printf("service hook %s %s: %v: %s", s.host, action, err, strings.TrimSpace(string(out)))
		return "", false
	}
	return strings.TrimSpace(string(out)), true
}

func (s *HostServiceSystem) find(id string) *types.HostService {
	for i := range s.ServiceInfo.Service {
		if s.ServiceInfo.Service[i].Key == id {
			return &s.ServiceInfo.Service[i]
		}
	}
	return nil
}

func (s *HostServiceSystem) setRunning(id string, running bool) soap.HasFault {
	svc := s.find(id)
	if svc == nil {
		return &methods.StartServiceBody{Fault_: simulator.Fault("", &types.NotFound{})}
	}
	if id == "TSM-SSH" {
		action := "stop"
		if running {
			action = "start"
		}
		if _, ok := s.runHook(action); !ok && s.hook != "" && isLabHost(s.hook, s.host) {
			return &methods.StartServiceBody{Fault_: simulator.Fault("sshd "+action+" failed", &types.HostConfigFault{})}
		}
	}
	svc.Running = running
	return nil
}

// isLabHost: the hook answers status for hosts the lab runs.
func isLabHost(hook, host string) bool {
	return exec.Command("bash", hook, "ssh-service", host, "status").Run() == nil
}

func (s *HostServiceSystem) StartService(req *types.StartService) soap.HasFault {
	if f := s.setRunning(req.Id, true); f != nil {
		return f
	}
	return &methods.StartServiceBody{Res: &types.StartServiceResponse{}}
}

func (s *HostServiceSystem) StopService(req *types.StopService) soap.HasFault {
	if f := s.setRunning(req.Id, false); f != nil {
		return &methods.StopServiceBody{Fault_: f.Fault()}
	}
	return &methods.StopServiceBody{Res: &types.StopServiceResponse{}}
}

// UpdateServicePolicy sets the service's startup policy ("on", "off", "automatic") and starts or
// stops nothing (whether ESXi acts on a policy change at once is unverified).
func (s *HostServiceSystem) UpdateServicePolicy(req *types.UpdateServicePolicy) soap.HasFault {
	svc := s.find(req.Id)
	if svc == nil {
		return &methods.UpdateServicePolicyBody{Fault_: simulator.Fault("", &types.NotFound{})}
	}
	svc.Policy = req.Policy
	return &methods.UpdateServicePolicyBody{Res: &types.UpdateServicePolicyResponse{}}
}

func (s *HostServiceSystem) RefreshServices(req *types.RefreshServices) soap.HasFault {
	if out, ok := s.runHook("status"); ok {
		if svc := s.find("TSM-SSH"); svc != nil {
			svc.Running = out == "running"
		}
	}
	return &methods.RefreshServicesBody{Res: &types.RefreshServicesResponse{}}
}
