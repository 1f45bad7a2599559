#!/usr/bin/env bash
# The MtvRemediation test lab: vcsim + BusyBox-chroot "ESXi hosts" behind real OpenSSH.
# Usage: lab.sh start [--hosts N] [--var-mb N] | stop | status | <knob> ...   (see README.md)
# Runs as root. One instance per repository checkout (named from its real path).
set -euo pipefail

LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO=$(cd "$LAB_DIR/../.." && pwd -P)
INSTANCE="mtvlab-$(printf '%s' "$REPO" | sha1sum | cut -c1-8)"
BASE="/srv/$INSTANCE"              # root-owned, not under /tmp: sshd's ChrootDirectory demands it
OUT="$REPO/out/lab"
STATE="${MTVLAB_STATE:-$OUT/lab.json}"
VCSIM_BIN="$OUT/vcsim"
ENVFILE="$BASE/lab.env"            # shell-readable state for lab.sh itself
LAB_USER="$INSTANCE"               # uid-0 alias account (see README: why uid 0)
DEFAULT_HOSTS=3
MAX_HOSTS=64

die() { echo "lab: $*" >&2; exit 1; }
log() { echo "lab: $*" >&2; }

need_root() { [ "$(id -u)" -eq 0 ] || die "must run as root (it creates mounts, users and chroots)"; }

lock() {
  mkdir -p "$OUT"
  exec 9>"$OUT/.lock"
  flock -w 300 9 || die "another lab.sh holds $OUT/.lock"
}

pid_alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }

# Kill one pid (TERM, then KILL after a grace period).
kill_pid() {
  local pid=$1 i
  pid_alive "$pid" || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for i in $(seq 1 50); do pid_alive "$pid" || return 0; sleep 0.05; done
  kill -KILL "$pid" 2>/dev/null || true
}

# ---------------------------------------------------------------------------------------------
# vcsim

build_vcsim() {
  local src="$LAB_DIR/vcsim/main.go" stamp="$OUT/vcsim.sha1" sum
  sum=$( (sha1sum "$src"; go version) | sha1sum | cut -c1-40)
  if [ -x "$VCSIM_BIN" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$sum" ]; then return 0; fi
  log "building vcsim (govmomi from /usr/share/gocode, GOPATH mode)"
  local gp; gp=$(mktemp -d)
  if ! (cd "$LAB_DIR/vcsim" && GOPATH="$gp:/usr/share/gocode" GO111MODULE=off GOFLAGS= go build -o "$VCSIM_BIN.new" main.go); then
    rm -rf "$gp"; die "vcsim build failed"
  fi
  rm -rf "$gp"
  mv -f "$VCSIM_BIN.new" "$VCSIM_BIN"
  echo "$sum" > "$stamp"
}

start_vcsim() {
  local nhosts=$1 standalone=1 cluster
  cluster=$(( nhosts - standalone )); [ "$cluster" -ge 3 ] || cluster=3
  mkdir -p "$BASE/vcsim/tmp"
  rm -f "$BASE/vcsim/inventory.json" "$BASE/vcsim/inventory.tsv"
  # TMPDIR: vcsim creates its datastore directories there.
  TMPDIR="$BASE/vcsim/tmp" VCSIM_LAB_PASSWORD="$VC_PASSWORD" setsid "$VCSIM_BIN" \
    -standalone-hosts "$standalone" -cluster-hosts "$cluster" -vms-per-host "${MTVLAB_VMS_PER_HOST:-2}" \
    -datastores "${MTVLAB_DATASTORES:-1}" \
    -out "$BASE/vcsim/inventory.json" -tsv "$BASE/vcsim/inventory.tsv" \
    </dev/null >"$BASE/vcsim/vcsim.log" 2>&1 9>&- &
  VCSIM_PID=$!
  echo "$VCSIM_PID" > "$BASE/vcsim/vcsim.pid"
  local i
  for i in $(seq 1 300); do
    [ -s "$BASE/vcsim/inventory.tsv" ] && return 0
    pid_alive "$VCSIM_PID" || { cat "$BASE/vcsim/vcsim.log" >&2; die "vcsim exited during start"; }
    sleep 0.05
  done
  die "vcsim did not become ready (see $BASE/vcsim/vcsim.log)"
}

tsv_get() { awk -F'\t' -v k="$1" '$1 == k { print $2 }' "$BASE/vcsim/inventory.tsv"; }

# ---------------------------------------------------------------------------------------------
# state

write_env() {
  {
    printf 'NHOSTS=%q\nVCSIM_PID=%q\nVC_PASSWORD=%q\nCTL_URL=%q\n' "$NHOSTS" "$VCSIM_PID" "$VC_PASSWORD" "$CTL_URL"
  } > "$ENVFILE.tmp"
  chmod 600 "$ENVFILE.tmp"; mv -f "$ENVFILE.tmp" "$ENVFILE"
}

load_env() { [ -f "$ENVFILE" ] || return 1; . "$ENVFILE"; }

json_str() { # JSON string literal
  local s=$1
  s=${s//\\/\\\\}; s=${s//\"/\\\"}; s=${s//$'\t'/\\t}; s=${s//$'\n'/\\n}
  printf '"%s"' "$s"
}

write_state() {
  mkdir -p "$(dirname "$STATE")"
  {
    printf '{\n'
    printf '  "schemaVersion": 1,\n'
    printf '  "instance": %s,\n' "$(json_str "$INSTANCE")"
    printf '  "repo": %s,\n' "$(json_str "$REPO")"
    printf '  "base": %s,\n' "$(json_str "$BASE")"
    printf '  "startedAt": %s,\n' "$(json_str "$(date -u +%Y-%m-%dT%H:%M:%SZ)")"
    printf '  "vcsim": '; sed 's/^/  /; 1s/^  //' "$BASE/vcsim/inventory.json"; printf ',\n'
    printf '  "hosts": ['
    write_hosts_json
    printf ']\n}\n'
  } > "$STATE.tmp"
  chmod 600 "$STATE.tmp"; mv -f "$STATE.tmp" "$STATE"
}

write_hosts_json() { :; }

# ---------------------------------------------------------------------------------------------
# commands

is_running() {
  load_env 2>/dev/null || return 1
  pid_alive "$VCSIM_PID" || return 1
  [ -f "$STATE" ] || return 1
  hosts_running
}

hosts_running() { return 0; }

cmd_start() {
  need_root
  local want=""
  while [ $# -gt 0 ]; do
    case $1 in
      --hosts) want=$2; shift 2;;
      --hosts=*) want=${1#*=}; shift;;
      --var-mb) export MTVLAB_VAR_MB=$2; shift 2;;
      *) die "start: unknown option $1";;
    esac
  done
  [ -n "$want" ] || want=${MTVLAB_HOSTS:-$DEFAULT_HOSTS}
  [[ $want =~ ^[0-9]+$ ]] && [ "$want" -ge 1 ] && [ "$want" -le $MAX_HOSTS ] || die "--hosts must be 1..$MAX_HOSTS"
  lock
  if is_running && [ "$NHOSTS" = "$want" ]; then
    log "already running ($INSTANCE, $NHOSTS hosts)"; print_summary; return 0
  fi
  do_stop quiet
  local t0=$SECONDS
  command -v go >/dev/null && command -v /usr/sbin/sshd >/dev/null && [ -x /bin/busybox ] || bash "$LAB_DIR/install-prereqs.sh"
  build_vcsim
  mkdir -p "$BASE"; chmod 755 "$BASE"
  NHOSTS=$want
  VC_PASSWORD=$(head -c 18 /dev/urandom | base64 | tr '+/' 'xy')
  start_vcsim "$NHOSTS"
  CTL_URL=$(tsv_get ctl)
  write_env
  start_hosts
  write_env
  write_state
  log "started in $((SECONDS - t0)) s"
  print_summary
}

start_hosts() { :; }

print_summary() {
  load_env || return 0
  echo "MtvRemediation lab '$INSTANCE' is running"
  echo "  vcsim:  $(tsv_get url)  (ctl $CTL_URL)"
  echo "  hosts:  $NHOSTS"
  echo "  state:  $STATE"
}

do_stop() {
  local quiet=${1:-}
  # 1. sshd listeners and their session children, 2. everything chrooted under $BASE, 3. vcsim.
  stop_hosts
  if [ -f "$BASE/vcsim/vcsim.pid" ]; then kill_pid "$(cat "$BASE/vcsim/vcsim.pid")"; fi
  # Mounts: deepest first; never rm while anything is mounted below $BASE.
  if [ -d "$BASE" ]; then
    local m
    while read -r m; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done \
      < <(findmnt -rn -o TARGET | awk -v b="$BASE/" 'index($0, b) == 1' | awk '{ print length($0) " " $0 }' | sort -rn | cut -d' ' -f2-)
    if findmnt -rn -o TARGET | awk -v b="$BASE/" 'index($0, b) == 1' | grep -q .; then
      die "mounts remain under $BASE; not removing it"
    fi
    rm -rf --one-file-system "$BASE"
  fi
  if getent passwd "$LAB_USER" >/dev/null; then userdel "$LAB_USER" >/dev/null 2>&1 || die "userdel $LAB_USER failed"; fi
  rm -rf "$OUT/keys"
  rm -f "$STATE" "$STATE.tmp"
  [ -n "$quiet" ] || log "stopped ($INSTANCE)"
}

stop_hosts() { :; }

cmd_stop() { need_root; lock; do_stop; }

cmd_status() {
  if is_running; then print_summary; else echo "MtvRemediation lab '$INSTANCE' is not running"; fi
}

main() {
  local cmd=${1:-status}; shift || true
  case $cmd in
    start) cmd_start "$@";;
    stop) cmd_stop "$@";;
    status) cmd_status "$@";;
    -h|--help|help) sed -n '2,5p' "$0";;
    *) die "unknown command '$cmd' (start|stop|status|...; see tests/lab/README.md)";;
  esac
}

main "$@"
