#!/bin/sh
# Lab stand-in for /etc/init.d/hostd and /etc/init.d/vpxa: one real background process per agent
# (pid in /var/run/vmware/<agent>.pid) so 'status' is truthful. 'hostd restart' flips this host
# to notResponding in vcsim for HOSTD_DOWN_MS (via the lab's /ctl endpoint), as vCenter shows.
. /usr/lib/vmware/lab/common.sh
agent=$1 action=$2
pidfile=/var/run/vmware/$agent.pid

running() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }

do_start() {
  mkdir -p /var/run/vmware
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
    rm -f "$pidfile"
    echo "$agent stopped."
  else
    rm -f "$pidfile"
    echo "$agent is not running."
  fi
}

vcenter_flip() {
  [ "$agent" = hostd ] && [ -n "${CTL_URL:-}" ] && [ -n "${HOST_NAME:-}" ] || return 0
  wget -q -O /dev/null "$CTL_URL/ctl/host-state?host=$HOST_NAME&state=notResponding&for=${HOSTD_DOWN_MS:-3000}" 2>/dev/null || true
}

lab_slow
case $action in
  start) if running; then echo "$agent is already running."; else do_start; fi;;
  stop) do_stop;;
  restart) vcenter_flip; do_stop; do_start;;
  status) if running; then echo "$agent is running."; else echo "$agent is not running."; exit 3; fi;;
  *) echo "Usage: /etc/init.d/$agent {start|stop|restart|status}" >&2; exit 1;;
esac
