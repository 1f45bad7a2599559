// Disk.MaxLUN in each host's OptionManager (configManager.advancedOption). vcsim 0.24 gives every
// host an OptionManager over esx.Setting (simulator/host_system.go), a list captured from an ESX
// host that has no Disk.MaxLUN, and every host shares that one list. The lab gives each host a
// list of its own with Disk.MaxLUN at ESXi's default, 1024 (Broadcom KB 342823: default 1024,
// maximum 16384), so that QueryOptions and UpdateOptions read and change one host only.
// /ctl/option?host=<name>&key=Disk.MaxLUN&value=<n> sets it as UpdateOptions would; /ctl/reset
// puts every host back to 1024.
package main

import (
	"net/http"
	"strconv"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

const maxLunKey = "Disk.MaxLUN"
const maxLunDefault = int64(1024)

// hostOptionManager: the host's OptionManager from vcsim's registry, or nil.
func hostOptionManager(h *simulator.HostSystem) *simulator.OptionManager {
	var ref *types.ManagedObjectReference
	simulator.Map.WithLock(h, func() { ref = h.ConfigManager.AdvancedOption })
	if ref == nil {
		return nil
	}
	om, _ := simulator.Map.Get(*ref).(*simulator.OptionManager)
	return om
}

// addMaxLun gives every host its own option list with Disk.MaxLUN at the default.
func addMaxLun() {
	for _, e := range simulator.Map.All("HostSystem") {
		om := hostOptionManager(e.(*simulator.HostSystem))
		if om == nil {
			continue
		}
		simulator.Map.WithLock(om, func() {
			own := make([]types.BaseOptionValue, 0, len(om.Setting)+1)
			for _, s := range om.Setting {
				if s.GetOptionValue().Key != maxLunKey {
					v := *s.GetOptionValue()
					own = append(own, &v)
				}
			}
			om.Setting = append(own, &types.OptionValue{Key: maxLunKey, Value: maxLunDefault})
		})
	}
}

// setHostOption sets one existing option of one host (false: no such host or option).
func setHostOption(host, key string, value int64) bool {
	for _, e := range simulator.Map.All("HostSystem") {
		h := e.(*simulator.HostSystem)
		if h.Name != host {
			continue
		}
		om := hostOptionManager(h)
		if om == nil {
			return false
		}
		found := false
		simulator.Map.WithLock(om, func() {
			for _, s := range om.Setting {
				if o := s.GetOptionValue(); o.Key == key {
					o.Value = value
					found = true
				}
			}
		})
		return found
	}
	return false
}

func resetMaxLun() {
	for _, e := range simulator.Map.All("HostSystem") {
		setHostOption(e.(*simulator.HostSystem).Name, maxLunKey, maxLunDefault)
	}
}

// option?host=DC0_H0&key=Disk.MaxLUN&value=8
func optionCtl(w http.ResponseWriter, r *http.Request) {
	v, err := strconv.ParseInt(r.FormValue("value"), 10, 64)
	if err != nil {
		bad(w, "value must be an integer")
		return
	}
	if !setHostOption(r.FormValue("host"), r.FormValue("key"), v) {
		bad(w, "no host %q with option %q", r.FormValue("host"), r.FormValue("key"))
		return
	}
	reply(w, http.StatusOK, map[string]interface{}{"host": r.FormValue("host"), "key": r.FormValue("key"), "value": v})
}
