// /ctl/delete-fault: a DeleteDatastoreFile_Task that fails the way vCenter reports a file it could
// not delete. The vSphere API reference (FileManager.DeleteDatastoreFile_Task, "Faults") lists
// CannotDeleteFile ("Thrown if the delete operation on the file fails") beside FileFault,
// FileNotFound, InvalidDatastore and InvalidDatastorePath; the task ends in error with that fault
// and the file stays. vcsim raises CannotDeleteFile only when os.RemoveAll fails (simulator/
// file_manager.go), which a root lab cannot arrange everywhere (chattr +i needs a file system that
// supports it), so the lab answers the named deletes itself (tasks.go hands the request here).
package main

import (
	"bytes"
	"html"
	"log"
	"net/http"
	"strings"
	"sync"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

// deleteFault: base names (e.g. disk1-ctk.vmdk) whose next DeleteDatastoreFile_Task fails with
// CannotDeleteFile and leaves the file, on any datastore, once each.
var deleteFault = struct {
	sync.Mutex
	names map[string]bool
}{names: map[string]bool{}}

// deleteFaultCtl: ?file=<name>[,<name>] adds names, ?clear=1 empties the list; answers the list.
func deleteFaultCtl(w http.ResponseWriter, r *http.Request) {
	deleteFault.Lock()
	defer deleteFault.Unlock()
	if r.FormValue("clear") != "" {
		deleteFault.names = map[string]bool{}
	}
	for _, f := range strings.Split(r.FormValue("file"), ",") {
		if f = strings.TrimSpace(f); f != "" {
			if strings.Contains(f, "/") {
				bad(w, "file is a base name (e.g. disk1-ctk.vmdk)")
				return
			}
			deleteFault.names[f] = true
		}
	}
	reply(w, http.StatusOK, map[string]interface{}{"fail": keysOf(deleteFault.names)})
}

func deleteFaultReset() {
	deleteFault.Lock()
	deleteFault.names = map[string]bool{}
	deleteFault.Unlock()
}

// takeDeleteFault reports whether this delete is to fail (and forgets the name: once each).
func takeDeleteFault(dsPath string) bool {
	var p object.DatastorePath
	if !p.FromString(dsPath) {
		return false
	}
	name := p.Path[strings.LastIndex(p.Path, "/")+1:]
	deleteFault.Lock()
	defer deleteFault.Unlock()
	if deleteFault.names[name] {
		delete(deleteFault.names, name)
		return true
	}
	return false
}

func deleteFaultPending() bool {
	deleteFault.Lock()
	defer deleteFault.Unlock()
	return len(deleteFault.names) > 0
}

// serveDeleteFault answers a DeleteDatastoreFile_Task request for a name on the list with a task
// that ends in CannotDeleteFile, the file untouched, and reports whether it did. Anything else
// (another method, another name, no valid session) is left to vcsim.
func (a *asyncTasks) serveDeleteFault(w http.ResponseWriter, r *http.Request, body []byte) bool {
	if !bytes.Contains(body, []byte("DeleteDatastoreFile_Task")) {
		return false
	}
	m, t, n := reMethod.FindSubmatch(body), reThis.FindSubmatch(body), reDeleteName.FindSubmatch(body)
	if m == nil || t == nil || n == nil || string(m[1]) != "DeleteDatastoreFile_Task" {
		return false
	}
	this := types.ManagedObjectReference{Type: string(t[1]), Value: strings.TrimSpace(string(t[2]))}
	name := html.UnescapeString(string(n[1]))
	if !a.acceptsAsync(r, this, "DeleteDatastoreFile_Task") || !takeDeleteFault(name) {
		return false
	}
	log.Printf("delete-fault: %s fails with CannotDeleteFile, kept", name)
	task := simulator.CreateTask(this, "deleteDatastoreFile", func(*simulator.Task) (types.AnyType, types.BaseMethodFault) {
		return nil, &types.CannotDeleteFile{FileFault: types.FileFault{File: name}}
	})
	writeTaskResponse(w, "DeleteDatastoreFile_Task", task.Run())
	return true
}
