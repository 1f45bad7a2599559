// extraConfig as vSphere applies it. The vSphere API reference for VirtualMachineConfigSpec
// (vmware/pyvmomi docs/vim/vm/ConfigSpec.rst, extraConfig): "If the key is already present, it
// will be reset with the new value provided. Otherwise, a new option is added. Keys with empty
// values will be removed." vcsim 0.24 (simulator/virtual_machine.go applyExtraConfig) appends
// every option instead, so a key set twice is listed twice and an empty value never removes it.
// After every ReconfigVM_Task this handler rewrites the VM's extraConfig to vSphere's result:
// one option per key (the last value given wins, at the key's first position), none empty.
package main

import (
	"bytes"
	"io/ioutil"
	"net/http"
	"strings"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

type extraConfigSemantics struct{ inner http.Handler }

func (h extraConfigSemantics) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/sdk" {
		h.inner.ServeHTTP(w, r)
		return
	}
	body, err := ioutil.ReadAll(r.Body)
	_ = r.Body.Close()
	r.Body = ioutil.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	h.inner.ServeHTTP(w, r)
	if err != nil || !bytes.Contains(body, []byte("ReconfigVM_Task")) {
		return
	}
	m, t := reMethod.FindSubmatch(body), reThis.FindSubmatch(body)
	if m == nil || t == nil || string(m[1]) != "ReconfigVM_Task" {
		return
	}
	ref := types.ManagedObjectReference{Type: string(t[1]), Value: strings.TrimSpace(string(t[2]))}
	if vm, ok := simulator.Map.Get(ref).(*simulator.VirtualMachine); ok {
		simulator.Map.WithLock(vm, func() { normalizeExtraConfig(vm) })
	}
}

func normalizeExtraConfig(vm *simulator.VirtualMachine) {
	if vm.Config == nil {
		return
	}
	last := map[string]types.BaseOptionValue{}
	var order []string
	for _, o := range vm.Config.ExtraConfig {
		k := o.GetOptionValue().Key
		if _, seen := last[k]; !seen {
			order = append(order, k)
		}
		last[k] = o
	}
	out := make([]types.BaseOptionValue, 0, len(order))
	for _, k := range order {
		if s, isString := last[k].GetOptionValue().Value.(string); isString && s == "" {
			continue
		}
		out = append(out, last[k])
	}
	if len(out) == len(vm.Config.ExtraConfig) {
		return
	}
	vm.Config.ExtraConfig = out
	simulator.Map.Update(vm, []types.PropertyChange{{Name: "config.extraConfig", Val: out}})
}
