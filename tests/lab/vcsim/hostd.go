// How vCenter sees a host whose hostd restarts (vpxa heartbeats every 10 s and vCenter marks a
// host notResponding only after about 60 s without one, Broadcom KBs 323612 and 435077;
// docs/field-sources.md#5-management-agents). vcsim has no heartbeat, so the lab's
// /etc/init.d/hostd reports its own stop and the moment it serves requests again, and this model
// plays vCenter's view:
//
//	hostd stops   -> the host stays connected for `lag` ms (vCenter has not noticed yet)
//	lag passed    -> notResponding
//	hostd serving and at least `down` ms of notResponding -> connected
package main

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/vmware/govmomi/vim25/types"
)

type hostdState struct {
	gen          int // bumps on every stop, reset or manual state change: stale timers do nothing
	serving      bool
	notResponded bool
	connectAfter time.Time
	history      []hostdTransition
}

type hostdTransition struct {
	State string `json:"state"`
	At    string `json:"at"`
}

type hostdModel struct {
	mu    sync.Mutex
	hosts map[string]*hostdState
}

var hostdLag = &hostdModel{hosts: map[string]*hostdState{}}

func (m *hostdModel) host(name string) *hostdState {
	st := m.hosts[name]
	if st == nil {
		st = &hostdState{serving: true}
		m.hosts[name] = st
	}
	return st
}

// cancel forgets the pending transitions of one host ("" = every host): /ctl/reset and a
// manual /ctl/host-state take over.
func (m *hostdModel) cancel(name string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for n, st := range m.hosts {
		if name == "" || n == name {
			st.gen++
			st.serving = true
			st.notResponded = false
		}
	}
}

func (m *hostdModel) set(name string, st *hostdState, state types.HostSystemConnectionState) {
	e := findEntity("HostSystem", name)
	if e == nil {
		return
	}
	setHostState(e, state)
	st.history = append(st.history, hostdTransition{State: string(state), At: time.Now().UTC().Format(time.RFC3339Nano)})
	if len(st.history) > 20 {
		st.history = st.history[len(st.history)-20:]
	}
}

// after runs f with the lock held, if nothing newer happened to the host meanwhile.
func (m *hostdModel) after(d time.Duration, name string, gen int, f func(st *hostdState)) {
	time.AfterFunc(d, func() {
		m.mu.Lock()
		defer m.mu.Unlock()
		if st := m.hosts[name]; st != nil && st.gen == gen {
			f(st)
		}
	})
}

func (m *hostdModel) maybeConnect(name string, st *hostdState) {
	if !st.serving || !st.notResponded {
		return
	}
	wait := time.Until(st.connectAfter)
	if wait <= 0 {
		st.notResponded = false
		m.set(name, st, types.HostSystemConnectionStateConnected)
		return
	}
	m.after(wait, name, st.gen, func(st *hostdState) { m.maybeConnect(name, st) })
}

// /ctl/hostd?host=H&event=stopped&lag=ms&down=ms, /ctl/hostd?host=H&event=serving (the lab's
// init script), /ctl/hostd?host=H: the host's recent transitions.
func hostdCtl(w http.ResponseWriter, r *http.Request) {
	name := r.FormValue("host")
	if findEntity("HostSystem", name) == nil {
		reply(w, http.StatusNotFound, map[string]string{"error": "no host named " + name})
		return
	}
	ms := func(k string) (time.Duration, bool) {
		v := r.FormValue(k)
		if v == "" {
			return 0, true
		}
		n, err := strconv.Atoi(v)
		return time.Duration(n) * time.Millisecond, err == nil && n >= 0
	}
	lag, ok1 := ms("lag")
	down, ok2 := ms("down")
	if !ok1 || !ok2 {
		bad(w, "lag and down must be milliseconds")
		return
	}
	m := hostdLag
	m.mu.Lock()
	defer m.mu.Unlock()
	st := m.host(name)
	switch r.FormValue("event") {
	case "stopped":
		st.gen++
		st.serving = false
		st.notResponded = false
		st.connectAfter = time.Now().Add(lag + down)
		m.after(lag, name, st.gen, func(st *hostdState) {
			st.notResponded = true
			m.set(name, st, types.HostSystemConnectionStateNotResponding)
			m.maybeConnect(name, st)
		})
	case "serving":
		st.serving = true
		m.maybeConnect(name, st)
	case "":
	default:
		bad(w, "event must be stopped or serving")
		return
	}
	reply(w, http.StatusOK, map[string]interface{}{"host": name, "serving": st.serving, "history": st.history})
}
