# Sourced by the lab's ESXi stand-ins. /etc/vmware/lab.conf is written per host by lab.sh.
[ -f /etc/vmware/lab.conf ] && . /etc/vmware/lab.conf
# 'lab.sh slow <ms>': every stub call takes this long, like a distant host.
lab_slow() {
  local ms
  ms=$(cat /etc/vmware/lab-slow-ms 2>/dev/null) || return 0
  case $ms in ''|0|*[!0-9]*) return 0;; esac
  usleep $((ms * 1000))
}
