// A vSAN datastore for the lab: vcsim 0.24 models only local and NAS datastores
// (simulator/host_datastore_system.go: CreateLocalDatastore sets summary.type "OTHER" and
// summary.url to the backing directory). What the module reads of a datastore is its name,
// browser, summary.type and summary.url, so the lab's vsanDatastore is a datastore vcsim creates
// like its own LocalDS_<i> (a local directory mounted on every cluster host, which vcsim's
// FileManager, datastore browser and VM file code use through info.url), with the two summary
// fields a real vSAN datastore reports:
//
//   - summary.type "vsan": the HostFileSystemVolumeFileSystemType value for vSAN (vSphere API
//     reference; govmomi 0.24 vim25/types/enum.go HostFileSystemVolumeFileSystemTypeVsan).
//   - summary.url "ds:///vmfs/volumes/vsan:<16 hex>-<16 hex>/": the form real vSAN datastores
//     report (kubernetes-sigs/vsphere-csi-driver's e2e tests check DatastoreUrl for the prefix
//     "ds:///vmfs/volumes/vsan:"; OpenShift and CSI documentation show whole URLs such as
//     ds:///vmfs/volumes/vsan:52c842f232751e0d-3253aadeac21ca82/).
//
// VMs on vSAN live in a namespace object whose directory is named by the object's UUID, and the
// VM's files are addressed through it: "[vsanDatastore] 59427457-6c5a-a917-7997-0200103eedbc/test.vmdk",
// with a friendly-name symbolic link to that directory (kubernetes/kubernetes, the vSphere cloud
// provider's vclib/virtualmachine.go, GetVirtualDiskUUIDByPath). The lab's vSAN VMs are created
// that way: vmPathName and disks under a UUID directory, plus the name link.
//
// Not modelled (unverified or not needed; tests/lab/README.md): info stays vcsim's LocalDatastoreInfo
// with info.url the backing directory; the namespace directory is a plain directory, not an object;
// whether a -ctk.vmdk on vSAN is a plain file in the namespace or an object of its own, and so what
// DeleteDatastoreFile_Task really does to it, is not known (docs/field-sources.md#6-changed-block-tracking): the lab deletes a plain
// file, and /ctl/vsan-keep-on-delete makes a delete report success while the file stays (tasks.go hands the request to vsanKeepRewrite) (the failure
// the module must detect by listing). The datastore is not bind-mounted into the lab's ESXi chroots.
package main

import (
	"bytes"
	"context"
	"fmt"
	"html"
	"io/ioutil"
	"log"
	"math/rand"
	"net/http"
	"net/url"
	"os"
	"path"
	"regexp"
	"strings"
	"sync"

	"github.com/vmware/govmomi"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

const vsanDatastoreName = "vsanDatastore"

// hex returns n random lower-case hex digits (math/rand is seeded: stable run to run).
func hex(n int) string {
	const digits = "0123456789abcdef"
	b := make([]byte, n)
	for i := range b {
		b[i] = digits[rand.Intn(16)]
	}
	return string(b)
}

// addVsan creates vsanDatastore on every cluster host and `vms` powered-on VMs on it, on the last
// cluster host (outside the default 3-host lab's SSH hosts; on a bigger lab it is one of them).
func addVsan(u *url.URL, vms int) error {
	if vms <= 0 {
		return nil
	}
	ctx := context.Background()
	u2 := *u
	u2.User = url.UserPassword("lab", "lab")
	c, err := govmomi.NewClient(ctx, &u2, true)
	if err != nil {
		return err
	}
	defer func() { _ = c.Logout(ctx) }()

	var hosts []*simulator.HostSystem
	for _, e := range simulator.Map.All("HostSystem") {
		h := e.(*simulator.HostSystem)
		var inCluster bool
		simulator.Map.WithLock(h, func() { inCluster = h.Parent != nil && h.Parent.Type == "ClusterComputeResource" })
		if inCluster {
			hosts = append(hosts, h)
		}
	}
	if len(hosts) == 0 {
		return nil // no cluster, no vSAN
	}
	dir, err := ioutil.TempDir("", "govcsim-DC0-"+vsanDatastoreName+"-")
	if err != nil {
		return err
	}
	// As simulator.Model.createLocalDatastore does for LocalDS_<i>: one CreateLocalDatastore per host.
	for _, h := range hosts {
		dss, err := object.NewHostSystem(c.Client, h.Reference()).ConfigManager().DatastoreSystem(ctx)
		if err != nil {
			return err
		}
		if _, err := dss.CreateLocalDatastore(ctx, vsanDatastoreName, dir); err != nil {
			return err
		}
	}
	dsURL := fmt.Sprintf("ds:///vmfs/volumes/vsan:52%s-%s/", hex(14), hex(16))
	for _, e := range simulator.Map.All("Datastore") {
		ds := e.(*simulator.Datastore)
		simulator.Map.WithLock(ds, func() {
			if ds.Name == vsanDatastoreName {
				ds.Summary.Type = string(types.HostFileSystemVolumeFileSystemTypeVsan)
				ds.Summary.Url = dsURL
			}
		})
	}

	host := hosts[len(hosts)-1]
	var parent types.ManagedObjectReference
	simulator.Map.WithLock(host, func() { parent = *host.Parent })
	pool, err := object.NewClusterComputeResource(c.Client, parent).ResourcePool(ctx)
	if err != nil {
		return err
	}
	folders, err := object.NewDatacenter(c.Client, simulator.Map.Any("Datacenter").Reference()).Folders(ctx)
	if err != nil {
		return err
	}
	for i := 0; i < vms; i++ {
		name := fmt.Sprintf("vsan_VM%d", i)
		uuid := fmt.Sprintf("%s-%s-%s-%s-%s", hex(8), hex(4), hex(4), hex(4), hex(12))
		if err := createVsanVM(ctx, folders, pool, object.NewHostSystem(c.Client, host.Reference()), name, uuid); err != nil {
			return err
		}
		// The friendly name ESXi shows beside the namespace directory.
		if err := os.Symlink(uuid, path.Join(dir, name)); err != nil {
			return err
		}
	}
	return nil
}

func createVsanVM(ctx context.Context, folders *object.DatacenterFolders, pool *object.ResourcePool, host *object.HostSystem, name, uuid string) error {
	home := fmt.Sprintf("[%s] %s", vsanDatastoreName, uuid)
	return createVMAt(ctx, folders, pool, host, name, home+"/"+name+".vmx", home+"/"+name+".vmdk")
}

// ---- /ctl/vsan-keep-on-delete: the unverified vSAN delete, as a fault -----------------------

// vsanKeep: file names (base names, e.g. vsan_VM0-ctk.vmdk) whose DeleteDatastoreFile_Task on
// vsanDatastore reports success but leaves the file, once each. This is the failure the module's
// verify-by-listing exists for (what hostd does with a -ctk.vmdk on vSAN is unverified:
// docs/field-sources.md#6-changed-block-tracking); it is a fault injection, not a claim that vSAN
// behaves so.
var vsanKeep = struct {
	sync.Mutex
	names map[string]bool
}{names: map[string]bool{}}

// vsanKeepCtl: ?file=<name>[,<name>] adds names, ?clear=1 empties the list; answers the list.
func vsanKeepCtl(w http.ResponseWriter, r *http.Request) {
	vsanKeep.Lock()
	defer vsanKeep.Unlock()
	if r.FormValue("clear") != "" {
		vsanKeep.names = map[string]bool{}
	}
	for _, f := range strings.Split(r.FormValue("file"), ",") {
		if f = strings.TrimSpace(f); f != "" {
			if strings.Contains(f, "/") {
				bad(w, "file is a base name (e.g. vsan_VM0-ctk.vmdk)")
				return
			}
			vsanKeep.names[f] = true
		}
	}
	reply(w, http.StatusOK, map[string]interface{}{"keep": keysOf(vsanKeep.names)})
}

func keysOf(m map[string]bool) []string {
	out := []string{}
	for k := range m {
		out = append(out, k)
	}
	return out
}

func vsanKeepReset() {
	vsanKeep.Lock()
	vsanKeep.names = map[string]bool{}
	vsanKeep.Unlock()
}

// takeVsanKeep reports whether this delete is to be kept (and forgets the name: once each).
func takeVsanKeep(dsPath string) bool {
	var p object.DatastorePath
	if !p.FromString(dsPath) || p.Datastore != vsanDatastoreName {
		return false
	}
	vsanKeep.Lock()
	defer vsanKeep.Unlock()
	name := path.Base(p.Path)
	if vsanKeep.names[name] {
		delete(vsanKeep.names, name)
		log.Printf("vsan-keep-on-delete: %s reported deleted, kept", dsPath)
		return true
	}
	return false
}

// vsanKeepRewrite: a DeleteDatastoreFile_Task request for a name on the keep list is pointed at a
// copy of the file (<file>.lab-keep, which no *.vmdk listing shows): vcsim's own FileManager then
// deletes the copy and the task succeeds, while the file itself stays. The body is unchanged for
// every other request.
func vsanKeepRewrite(body []byte) []byte {
	vsanKeep.Lock()
	empty := len(vsanKeep.names) == 0
	vsanKeep.Unlock()
	if empty || !bytes.Contains(body, []byte("DeleteDatastoreFile_Task")) {
		return body
	}
	m := reDeleteName.FindSubmatchIndex(body)
	if m == nil {
		return body
	}
	name := html.UnescapeString(string(body[m[2]:m[3]]))
	if !takeVsanKeep(name) {
		return body
	}
	var p object.DatastorePath
	p.FromString(name)
	var dir string
	for _, e := range simulator.Map.All("Datastore") {
		ds := e.(*simulator.Datastore)
		simulator.Map.WithLock(ds, func() {
			if ds.Name == p.Datastore {
				dir = ds.Info.GetDatastoreInfo().Url
			}
		})
	}
	src := path.Join(dir, p.Path)
	data, err := ioutil.ReadFile(src)
	if err != nil {
		log.Printf("vsan-keep-on-delete: %v (the delete goes ahead)", err)
		return body
	}
	if err := ioutil.WriteFile(src+".lab-keep", data, 0600); err != nil {
		log.Printf("vsan-keep-on-delete: %v (the delete goes ahead)", err)
		return body
	}
	out := append([]byte{}, body[:m[2]]...)
	out = append(out, []byte(html.EscapeString(name+".lab-keep"))...)
	return append(out, body[m[3]:]...)
}

var reDeleteName = regexp.MustCompile(`<(?:[A-Za-z0-9_]+:)?name[^>]*>([^<]*)</(?:[A-Za-z0-9_]+:)?name>`)

func vsanKeepPending() bool {
	vsanKeep.Lock()
	defer vsanKeep.Unlock()
	return len(vsanKeep.names) > 0
}
