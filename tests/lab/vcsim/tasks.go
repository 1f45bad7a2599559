// Asynchronous tasks, as vCenter runs them: vcsim 0.24 finishes every *_Task method before the
// call returns (simulator/task.go: Task.Run). vCenter queues a task, runs it for seconds and
// reports progress (vSphere API reference, TaskInfo: state queued -> running -> success|error,
// progress 0-100, queueTime/startTime/completeTime). For the methods given a time here, the SOAP
// call returns a queued Task at once; the method itself runs inside vcsim (its real effects,
// events and faults) when the task's time has passed, and the Task's info follows it.
//
// Methods without a time, calls that fault before a task exists on vCenter too (MethodDisabled,
// no session), and /ctl/fail-next keep vcsim's own synchronous behaviour.
package main

import (
	"bytes"
	"context"
	"fmt"
	"io/ioutil"
	"log"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
	"github.com/vmware/govmomi/vim25/xml"
)

// taskTime is how long one method's task stays queued and then running.
type taskTime struct {
	QueueMs int `json:"queueMs"`
	RunMs   int `json:"runMs"`
}

// asyncTasks wraps the simulator's HTTP handler.
type asyncTasks struct {
	inner http.Handler

	mu       sync.Mutex
	times    map[string]taskTime // SOAP method name (PowerOnVM_Task) or "*" -> time
	defaults map[string]taskTime // from -task-times, restored by /ctl/reset
	started  int
	finished int
	hidden   map[types.ManagedObjectReference]bool // vcsim's own inner tasks (not shown)
	async    []*simulator.Task                     // every asynchronous task, oldest first
}

var taskManagerRef = types.ManagedObjectReference{Type: "TaskManager", Value: "TaskManager"}

// parseTaskTimes reads "PowerOnVM_Task=3000,PowerOffVM_Task=2000+500,*=50" (run ms, optional
// +queue ms); "*" applies to every *_Task method without its own entry.
func parseTaskTimes(s string) (map[string]taskTime, error) {
	out := map[string]taskTime{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		kv := strings.SplitN(part, "=", 2)
		if len(kv) != 2 || (kv[0] != "*" && !strings.HasSuffix(kv[0], "_Task")) {
			return nil, fmt.Errorf("task time %q: want Method_Task=runMs[+queueMs]", part)
		}
		t, err := parseTaskTime(kv[1])
		if err != nil {
			return nil, fmt.Errorf("task time %q: %v", part, err)
		}
		out[kv[0]] = t
	}
	return out, nil
}

func parseTaskTime(v string) (taskTime, error) {
	var t taskTime
	run, queue := v, "0"
	if i := strings.Index(v, "+"); i >= 0 {
		run, queue = v[:i], v[i+1:]
	}
	var err error
	if t.RunMs, err = strconv.Atoi(run); err != nil || t.RunMs < 0 {
		return t, fmt.Errorf("run ms must be a non-negative integer")
	}
	if t.QueueMs, err = strconv.Atoi(queue); err != nil || t.QueueMs < 0 {
		return t, fmt.Errorf("queue ms must be a non-negative integer")
	}
	return t, nil
}

func newAsyncTasks(inner http.Handler, defaults map[string]taskTime) *asyncTasks {
	a := &asyncTasks{inner: inner, defaults: defaults, hidden: map[types.ManagedObjectReference]bool{}}
	a.reset()
	return a
}

func (a *asyncTasks) reset() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.times = map[string]taskTime{}
	for k, v := range a.defaults {
		a.times[k] = v
	}
}

func (a *asyncTasks) timeFor(method string) (taskTime, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !strings.HasSuffix(method, "_Task") {
		return taskTime{}, false
	}
	t, ok := a.times[method]
	if !ok {
		t, ok = a.times["*"]
	}
	return t, ok && t.RunMs+t.QueueMs > 0
}

func (a *asyncTasks) anyTimes() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.times) > 0
}

func (a *asyncTasks) snapshot() map[string]interface{} {
	a.mu.Lock()
	defer a.mu.Unlock()
	times := map[string]taskTime{}
	for k, v := range a.times {
		times[k] = v
	}
	return map[string]interface{}{"taskTimes": times, "asyncStarted": a.started, "asyncFinished": a.finished}
}

// /ctl/task-time?method=PowerOnVM_Task&ms=3000[&queueMs=200]: ms=0 and queueMs=0 removes the
// entry (vcsim's synchronous task again); method=* sets the time of every other *_Task method.
// Without parameters it only reports the current times. /ctl/reset restores the -task-times.
func (a *asyncTasks) ctl(w http.ResponseWriter, r *http.Request) {
	method := r.FormValue("method")
	if method != "" {
		if method != "*" && !strings.HasSuffix(method, "_Task") {
			bad(w, "method must be a *_Task method name or *")
			return
		}
		t, err := parseTaskTime(r.FormValue("ms") + "+" + valueOr(r.FormValue("queueMs"), "0"))
		if err != nil {
			bad(w, "%v", err)
			return
		}
		a.mu.Lock()
		if t.RunMs+t.QueueMs == 0 {
			delete(a.times, method)
		} else {
			a.times[method] = t
		}
		a.mu.Unlock()
	}
	reply(w, http.StatusOK, a.snapshot())
}

func valueOr(v, d string) string {
	if v == "" {
		return d
	}
	return v
}

var (
	reMethod = regexp.MustCompile(`<(?:[A-Za-z0-9_]+:)?Body[^>]*>\s*<(?:[A-Za-z0-9_]+:)?([A-Za-z0-9_]+)[\s>]`)
	reThis   = regexp.MustCompile(`<(?:[A-Za-z0-9_]+:)?_this[^>]*type="([^"]+)"[^>]*>([^<]+)<`)
	reTask   = regexp.MustCompile(`<returnval[^>]*type="Task"[^>]*>([^<]+)<`)
)

func (a *asyncTasks) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost && r.URL.Path == "/sdk" && vsanKeepPending() {
		body, err := ioutil.ReadAll(r.Body)
		_ = r.Body.Close()
		if err == nil {
			body = vsanKeepRewrite(body) // the /ctl/vsan-keep-on-delete fault (vsan.go)
		}
		r.Body = ioutil.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
	}
	if r.Method == http.MethodPost && r.URL.Path == "/sdk" && simulator.StatusSDK == http.StatusOK && deleteFaultPending() {
		body, err := ioutil.ReadAll(r.Body)
		_ = r.Body.Close()
		if err == nil && a.serveDeleteFault(w, r, body) { // the /ctl/delete-fault fault (deletefault.go)
			return
		}
		r.Body = ioutil.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
	}
	if r.Method != http.MethodPost || r.URL.Path != "/sdk" || simulator.StatusSDK != http.StatusOK || !a.anyTimes() {
		a.inner.ServeHTTP(w, r)
		return
	}
	body, err := ioutil.ReadAll(r.Body)
	_ = r.Body.Close()
	r.Body = ioutil.NopCloser(bytes.NewReader(body))
	if err != nil {
		a.inner.ServeHTTP(w, r)
		return
	}
	m := reMethod.FindSubmatch(body)
	t := reThis.FindSubmatch(body)
	if m == nil || t == nil {
		a.inner.ServeHTTP(w, r)
		return
	}
	method := string(m[1])
	this := types.ManagedObjectReference{Type: string(t[1]), Value: strings.TrimSpace(string(t[2]))}
	timing, ok := a.timeFor(method)
	if !ok || !a.acceptsAsync(r, this, method) {
		a.inner.ServeHTTP(w, r)
		return
	}

	task := simulator.CreateTask(this, internalMethod(method), nil)
	simulator.Map.WithLock(task, func() {
		if e, ok := simulator.Map.Get(this).(mo.Entity); ok {
			task.Info.EntityName = e.Entity().Name
		}
	})
	a.mu.Lock()
	a.started++
	a.async = append(a.async, task)
	a.mu.Unlock()
	go a.run(task, timing, r, body)

	writeTaskResponse(w, method, task.Self)
}

// writeTaskResponse answers a *_Task call with its Task, as vCenter does.
func writeTaskResponse(w http.ResponseWriter, method string, task types.ManagedObjectReference) {
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+
		`<soapenv:Envelope xmlns:soapenc="http://schemas.xmlsoap.org/soap/encoding/" xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">`+
		`<soapenv:Body><%sResponse xmlns="urn:vim25"><returnval type="Task">%s</returnval></%sResponse></soapenv:Body></soapenv:Envelope>`,
		method, task.Value, method)
}

// acceptsAsync: the call would reach the method (so vCenter would return a Task): the object
// exists, the method is not disabled on it, and the session is valid (checked with a cheap
// in-process call that needs one).
func (a *asyncTasks) acceptsAsync(r *http.Request, this types.ManagedObjectReference, method string) bool {
	obj := simulator.Map.Get(this)
	if obj == nil {
		return false
	}
	if e, ok := obj.(mo.Entity); ok {
		disabled := false
		simulator.Map.WithLock(e, func() {
			for _, dm := range e.Entity().DisabledMethod {
				if dm == internalMethod(method) {
					disabled = true
				}
			}
		})
		if disabled {
			return false
		}
	}
	probe := `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>` +
		`<CurrentTime xmlns="urn:vim25"><_this type="ServiceInstance">ServiceInstance</_this></CurrentTime></soapenv:Body></soapenv:Envelope>`
	rec := a.call(r, []byte(probe))
	return rec.Code == http.StatusOK
}

func (a *asyncTasks) call(r *http.Request, body []byte) *httptest.ResponseRecorder {
	req := r.Clone(context.Background())
	req.Body = ioutil.NopCloser(bytes.NewReader(body))
	req.ContentLength = int64(len(body))
	rec := httptest.NewRecorder()
	a.inner.ServeHTTP(rec, req)
	return rec
}

func (a *asyncTasks) run(task *simulator.Task, timing taskTime, r *http.Request, body []byte) {
	update := func(changes ...types.PropertyChange) {
		simulator.Map.WithLock(task, func() { simulator.Map.Update(task, changes) })
	}
	time.Sleep(time.Duration(timing.QueueMs) * time.Millisecond)
	update(types.PropertyChange{Name: "info.startTime", Val: time.Now()},
		types.PropertyChange{Name: "info.state", Val: types.TaskInfoStateRunning},
		types.PropertyChange{Name: "info.progress", Val: int32(0)})
	// Progress in quarters while it runs; the work itself happens at the end.
	step := time.Duration(timing.RunMs) * time.Millisecond / 4
	for p := int32(25); p < 100; p += 25 {
		time.Sleep(step)
		update(types.PropertyChange{Name: "info.progress", Val: p})
	}
	time.Sleep(step)

	res, fault := a.execute(r, body)
	state := types.TaskInfoStateSuccess
	var lf interface{}
	if fault != nil {
		state = types.TaskInfoStateError
		lf = fault
	}
	update(types.PropertyChange{Name: "info.completeTime", Val: time.Now()},
		types.PropertyChange{Name: "info.state", Val: state},
		types.PropertyChange{Name: "info.progress", Val: int32(100)},
		types.PropertyChange{Name: "info.result", Val: res},
		types.PropertyChange{Name: "info.error", Val: lf})
	a.mu.Lock()
	a.finished++
	a.mu.Unlock()
}

// execute runs the method in vcsim (synchronously, as vcsim does) and returns its task's outcome.
func (a *asyncTasks) execute(r *http.Request, body []byte) (types.AnyType, *types.LocalizedMethodFault) {
	rec := a.call(r, body)
	out := rec.Body.Bytes()
	if m := reTask.FindSubmatch(out); m != nil && rec.Code == http.StatusOK {
		ref := types.ManagedObjectReference{Type: "Task", Value: strings.TrimSpace(string(m[1]))}
		inner, ok := simulator.Map.Get(ref).(*simulator.Task)
		if !ok {
			return nil, &types.LocalizedMethodFault{Fault: &types.SystemError{Reason: "lab: inner task vanished"}, LocalizedMessage: "lab: inner task vanished"}
		}
		var info types.TaskInfo
		simulator.Map.WithLock(inner, func() { info = inner.Info })
		a.hide(ref)
		if info.State == types.TaskInfoStateError && info.Error != nil {
			return nil, info.Error
		}
		return info.Result, nil
	}
	return nil, decodeFault(out)
}

// hide takes vcsim's own (already finished) task out of TaskManager.recentTask: clients see one
// task per call, as on vCenter.
func (a *asyncTasks) hide(ref types.ManagedObjectReference) {
	a.mu.Lock()
	a.hidden[ref] = true
	a.mu.Unlock()
	tm, ok := simulator.Map.Get(taskManagerRef).(*simulator.TaskManager)
	if !ok {
		return
	}
	tm.Lock() // TaskManager.PutObject takes the same lock
	defer tm.Unlock()
	var kept []types.ManagedObjectReference
	for _, t := range tm.RecentTask {
		if t != ref {
			kept = append(kept, t)
		}
	}
	simulator.Map.Update(tm, []types.PropertyChange{{Name: "recentTask", Val: kept}})
}

// decodeFault turns a SOAP fault response into the task's error (the fault as vcsim sent it).
func decodeFault(b []byte) *types.LocalizedMethodFault {
	var env struct {
		Body struct {
			Fault *soap.Fault `xml:"Fault"`
		} `xml:"Body"`
	}
	dec := xml.NewDecoder(bytes.NewReader(b))
	dec.TypeFunc = types.TypeFunc()
	if err := dec.Decode(&env); err == nil && env.Body.Fault != nil {
		if f, ok := env.Body.Fault.VimFault().(types.BaseMethodFault); ok {
			return &types.LocalizedMethodFault{Fault: f, LocalizedMessage: env.Body.Fault.String}
		}
		return &types.LocalizedMethodFault{Fault: &types.SystemError{Reason: env.Body.Fault.String}, LocalizedMessage: env.Body.Fault.String}
	}
	log.Printf("async task: undecodable response: %.200s", b)
	return &types.LocalizedMethodFault{Fault: &types.SystemError{Reason: "lab: undecodable response"}, LocalizedMessage: "lab: undecodable response"}
}

// /ctl/tasks?entity=<name or moref>: the tasks in TaskManager.recentTask, oldest first, with
// their state and times (for tests that assert what vCenter ran, in which order).
func (a *asyncTasks) tasksCtl(w http.ResponseWriter, r *http.Request) {
	filter := r.FormValue("entity")
	type taskDoc struct {
		Key          string  `json:"key"`
		Name         string  `json:"name"`
		Entity       string  `json:"entity"`
		EntityName   string  `json:"entityName"`
		State        string  `json:"state"`
		Error        string  `json:"error,omitempty"`
		QueueTime    string  `json:"queueTime"`
		StartTime    string  `json:"startTime,omitempty"`
		CompleteTime string  `json:"completeTime,omitempty"`
		Seconds      float64 `json:"seconds"`
	}
	var out []taskDoc
	// The asynchronous tasks (all of them) and vcsim's synchronous ones still in recentTask.
	seen := map[types.ManagedObjectReference]bool{}
	a.mu.Lock()
	all := append([]*simulator.Task(nil), a.async...)
	a.mu.Unlock()
	if tm, ok := simulator.Map.Get(taskManagerRef).(*simulator.TaskManager); ok {
		tm.Lock()
		recent := append([]types.ManagedObjectReference(nil), tm.RecentTask...)
		tm.Unlock()
		for _, ref := range recent {
			if t, ok := simulator.Map.Get(ref).(*simulator.Task); ok {
				all = append(all, t)
			}
		}
	}
	for _, t := range all {
		a.mu.Lock()
		hidden := a.hidden[t.Self]
		a.mu.Unlock()
		if hidden || seen[t.Self] {
			continue
		}
		seen[t.Self] = true
		var info types.TaskInfo
		simulator.Map.WithLock(t, func() { info = t.Info })
		d := taskDoc{Key: info.Key, Name: info.Name, EntityName: info.EntityName, State: string(info.State), QueueTime: info.QueueTime.UTC().Format(time.RFC3339Nano)}
		if info.Entity != nil {
			d.Entity = info.Entity.Value
		}
		if filter != "" && d.Entity != filter && d.EntityName != filter {
			if info.Entity == nil {
				continue
			}
			if en, ok := simulator.Map.Get(*info.Entity).(mo.Entity); !ok || en.Entity().Name != filter {
				continue
			}
		}
		if info.StartTime != nil {
			d.StartTime = info.StartTime.UTC().Format(time.RFC3339Nano)
		}
		if info.CompleteTime != nil {
			d.CompleteTime = info.CompleteTime.UTC().Format(time.RFC3339Nano)
			d.Seconds = info.CompleteTime.Sub(info.QueueTime).Seconds()
		}
		if info.Error != nil {
			d.Error = fmt.Sprintf("%T", info.Error.Fault)
		}
		out = append(out, d)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].QueueTime < out[j].QueueTime })
	if out == nil {
		out = []taskDoc{}
	}
	reply(w, http.StatusOK, out)
}
