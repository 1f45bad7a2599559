#!/bin/sh
# Lab stand-in for /etc/init.d/hostd and /etc/init.d/vpxa: one real background process per agent
# (pid in /var/run/vmware/<agent>.pid) so 'status' is truthful. Like the real agents, a started
# agent needs a while before it serves requests (HOSTD_READY_MS; /var/run/vmware/<agent>.serving
# appears then, and vim-cmd answers for hostd). The restart tells the lab's vCenter (vcsim
# /ctl/hostd, tests/lab/vcsim/hostd.go) when the agent stopped and when it serves again; vCenter
# keeps the host connected for HOSTD_LAG_MS, then shows it notResponding for at least
# HOSTD_DOWN_MS, then connected once the agent serves
# (docs/field-sources.md#5-management-agents).
. /usr/lib/vmware/lab/common.sh
agent=$1 action=$2
pidfile=/var/run/vmware/$agent.pid

running() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }

do_start() {
  mkdir -p /var/run/vmware
  # hostd loads the esxcli plugins present when it starts (a VIB's namespace appears only then).
  if [ "$agent" = hostd ]; then
    for f in /usr/lib/vmware/esxcli/ext/*.xml; do [ -f "$f" ] && echo "${f##*/}"; done > /etc/vmware/lab-esxcli-loaded
  fi
  rm -f "/var/run/vmware/$agent.serving"
  setsid /usr/lib/vmware/lab/agentd "$agent" </dev/null >/dev/null 2>&1 &
  echo $! > "$pidfile"
  echo "$agent started."
}

do_stop() {
  if running; then
    pid=$(cat "$pidfile")
    echo "watchdog-$agent: Terminating watchdog process with PID $pid"
    kill "$pid" 2>/dev/null
    i=0; while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do usleep 20000; i=$((i + 1)); done
    rm -f "$pidfile" "/var/run/vmware/$agent.serving"
    echo "$agent stopped."
  else
    rm -f "$pidfile" "/var/run/vmware/$agent.serving"
    echo "$agent is not running."
  fi
}

vcenter_stopped() {
  [ -n "${CTL_URL:-}" ] && [ -n "${HOST_NAME:-}" ] || return 0
  wget -q -O /dev/null "$CTL_URL/ctl/hostd?host=$HOST_NAME&event=stopped&lag=${HOSTD_LAG_MS:-0}&down=${HOSTD_DOWN_MS:-3000}" 2>/dev/null || true
}

lab_slow
case $action in
  start) if running; then echo "$agent is already running."; else do_start; fi;;
  stop) vcenter_stopped; do_stop;;
  restart) vcenter_stopped; do_stop; do_start;;
  status) if running; then echo "$agent is running."; else echo "$agent is not running."; exit 3; fi;;
  *) echo "Usage: /etc/init.d/$agent {start|stop|restart|status}" >&2; exit 1;;
esac
