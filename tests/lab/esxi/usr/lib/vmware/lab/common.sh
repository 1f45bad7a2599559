# Sourced by the lab's ESXi stand-ins. /etc/vmware/lab.conf is written per host by lab.sh.
[ -f /etc/vmware/lab.conf ] && . /etc/vmware/lab.conf
# 'lab.sh slow <ms>': every stub call takes this long, like a distant host. (read, not $(cat):
# no process of its own, see tests/bench.)
lab_slow() {
  local ms=
  [ -f /etc/vmware/lab-slow-ms ] || return 0
  read -r ms < /etc/vmware/lab-slow-ms
  case $ms in ''|0|*[!0-9]*) return 0;; esac
  usleep $((ms * 1000))
}
