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
# ESXi hosts: BusyBox chroot on tmpfs ramdisks behind one real sshd each

ROOT_MB=${MTVLAB_ROOT_MB:-32}
TMP_MB=${MTVLAB_TMP_MB:-256}
HOSTD_DOWN_MS=${MTVLAB_HOSTD_DOWN_MS:-3000}
TEMPLATE="$BASE/template"          # the chroot image, copied into each host's root ramdisk
TEMPLATE_VAR="$BASE/template-var"  # pristine /var (also what reset-host restores)
KEYS="$OUT/keys"
BB=/usr/lib/vmware/busybox/bin/busybox

# Run a command inside a host's chroot as its root (== the lab account, which is a uid-0 alias).
in_chroot() {
  local root=$1; shift
  env -i PATH=/bin:/sbin:/usr/bin HOME=/ USER=root LOGNAME=root SHELL=/bin/sh TERM=dumb \
    chroot "$root" "$@" 9>&-
}

build_template() {
  rm -rf "$TEMPLATE" "$TEMPLATE_VAR"
  mkdir -p "$TEMPLATE" "$TEMPLATE_VAR"
  cp -a "$LAB_DIR/esxi/." "$TEMPLATE/"
  local T=$TEMPLATE
  mkdir -p "$T/usr/lib/vmware/busybox/bin" "$T/dev" "$T/proc" "$T/tmp" "$T/vmfs/volumes" \
    "$T/etc/vmware" "$T/etc/ssh/keys-root" "$T/scratch" "$T/usr/sbin"
  chmod 1777 "$T/tmp"
  cp /bin/busybox "$T$BB"
  local a
  for a in $(/bin/busybox --list); do
    [ -e "$T/bin/$a" ] || ln -s "$BB" "$T/bin/$a"
  done
  ln -sfn ../bin "$T/usr/bin"
  mknod -m 666 "$T/dev/null" c 1 3; mknod -m 666 "$T/dev/zero" c 1 5
  mknod -m 666 "$T/dev/random" c 1 8; mknod -m 666 "$T/dev/urandom" c 1 9
  mknod -m 666 "$T/dev/tty" c 5 0; mknod -m 666 "$T/dev/full" c 1 7
  # uid 0 twice: 'root' (what ESXi has; crond looks the crontab owner up by file name) and the
  # lab login alias (what sshd authenticated). getpwuid(0) answers 'root', as on ESXi.
  printf 'root:x:0:0:Administrator:/:/bin/sh\n%s:x:0:0:MtvRemediation lab login:/:/bin/sh\nnobody:x:99:99:Nobody:/:/bin/false\n' "$LAB_USER" > "$T/etc/passwd"
  printf 'root:x:0:\nnobody:x:99:\n' > "$T/etc/group"
  printf '127.0.0.1 localhost\n' > "$T/etc/hosts"
  # /var lives on its own ramdisk: keep its pristine content apart.
  mv "$T/var/." "$TEMPLATE_VAR/" 2>/dev/null || cp -a "$T/var/." "$TEMPLATE_VAR/"
  rm -rf "$T/var"; mkdir -p "$T/var"
  local V=$TEMPLATE_VAR
  mkdir -p "$V/log" "$V/run/vmware" "$V/tmp" "$V/lock" "$V/spool/cron/crontabs" "$V/core"
  chmod 0444 "$V/spool/cron/crontabs/root"   # ESXi ships it read-only (scripts chmod +w, edit, chmod -w)
  : > "$V/log/hostd.log"; : > "$V/log/vpxa.log"; : > "$V/log/syslog.log"
  printf '%s cpu0:2097152)Boot Successful (lab)\n' "$(date -u +%Y-%m-%dT%H:%M:%S.000Z)" > "$V/log/vmkernel.log"
  : > "$V/log/vmkfstools-wrapper.log"
}

# Pristine /var with a little wrapper log history, generated by the host's own generator.
seed_var() {
  local R=$1
  in_chroot "$R" /opt/redhat/vmkfstools-wrapper/lab-log-gen 2048 >/dev/null 2>&1 || true
}

ensure_account() {
  if ! getent passwd "$LAB_USER" >/dev/null; then
    useradd -o -u 0 -g 0 -M -N -d / -s /bin/sh -c "MtvRemediation lab login ($REPO)" "$LAB_USER" \
      || die "useradd $LAB_USER failed"
  fi
  printf '%s:%s\n' "$LAB_USER" "$SSH_PASSWORD" | chpasswd || die "chpasswd failed"
}

ensure_keys() {
  mkdir -p "$KEYS"; chmod 700 "$KEYS"
  rm -f "$KEYS"/id_*
  ssh-keygen -q -t ed25519 -N '' -C "mtvlab@$INSTANCE" -f "$KEYS/id_ed25519"
  ssh-keygen -q -t rsa -b 2048 -m PEM -N '' -C "mtvlab-pem@$INSTANCE" -f "$KEYS/id_rsa_pem"
  cat "$KEYS/id_ed25519.pub" "$KEYS/id_rsa_pem.pub" > "$BASE/authorized_keys"
  chmod 644 "$BASE/authorized_keys"
}

used_ports() { ss -Htln 2>/dev/null | awk '{ n = split($4, a, ":"); print a[n] }'; }

write_sshd_config() {
  local HD=$1 port=$2
  cat > "$HD/sshd_config" <<CFG
# sshd for lab host $(basename "$HD") ($INSTANCE): loopback only, ESXi-like authentication.
Port $port
ListenAddress 127.0.0.1
AddressFamily inet
HostKey $HD/ssh_host_ed25519_key
PidFile $HD/sshd.pid
UsePAM yes
KbdInteractiveAuthentication yes
PasswordAuthentication no
PubkeyAuthentication yes
PermitRootLogin yes
AllowUsers $LAB_USER
AuthorizedKeysFile $BASE/authorized_keys
StrictModes yes
ChrootDirectory $HD/root
Subsystem sftp internal-sftp
UseDNS no
PrintMotd no
PrintLastLog no
X11Forwarding no
AllowTcpForwarding no
PermitTunnel no
MaxStartups 200:30:400
MaxSessions 64
MaxAuthTries 6
LoginGraceTime 30
LogLevel INFO
CFG
}

start_sshd() { # HD -> sets PORT; retries on port collisions
  local HD=$1 try port used
  used=" $(used_ports | tr '\n' ' ') "
  for try in 1 2 3 4 5 6 7 8; do
    port=$(( 20000 + (RANDOM * 32768 + RANDOM) % 40000 ))
    case $used in *" $port "*) continue;; esac
    write_sshd_config "$HD" "$port"
    if /usr/sbin/sshd -f "$HD/sshd_config" -E "$HD/sshd.log" 9>&- </dev/null >/dev/null 2>&1; then
      PORT=$port; return 0
    fi
  done
  return 1
}

start_daemons() { # agents + crond inside the chroot, as on a booted ESXi
  local R=$1
  in_chroot "$R" /etc/init.d/hostd start >/dev/null 2>&1
  in_chroot "$R" /etc/init.d/vpxa start >/dev/null 2>&1
  in_chroot "$R" "$BB" crond -c /var/spool/cron/crontabs -L /dev/null </dev/null >/dev/null 2>&1
}

setup_host() { # index name moref
  local idx=$1 name=$2 moref=$3
  local HD="$BASE/$name" R="$BASE/$name/root"
  mkdir -p "$R"; chmod 755 "$HD"
  mount -t tmpfs -o "size=${ROOT_MB}m,mode=755" "$INSTANCE" "$R"
  cp -a "$TEMPLATE/." "$R/"
  mount -t tmpfs -o "size=${VAR_MB}m,mode=755" "$INSTANCE" "$R/var"
  cp -a "$TEMPLATE_VAR/." "$R/var/"
  mount -t tmpfs -o "size=${TMP_MB}m,mode=1777" "$INSTANCE" "$R/tmp"
  mount -t proc proc "$R/proc"
  local ds dsname dsdir
  while IFS=$'\t' read -r _ dsname dsdir; do
    mkdir -p "$R/vmfs/volumes/$dsname"
    mount --bind "$dsdir" "$R/vmfs/volumes/$dsname"
  done < <(awk -F'\t' '$1 == "datastore"' "$BASE/vcsim/inventory.tsv")
  printf 'HOST_NAME=%s\nCTL_URL=%s\nHOSTD_DOWN_MS=%s\n' "$name" "$CTL_URL" "$HOSTD_DOWN_MS" > "$R/etc/vmware/lab.conf"
  printf '%s\n' "$name" > "$R/etc/hostname"
  seed_var "$R"
  ssh-keygen -q -t ed25519 -N '' -C "$name" -f "$HD/ssh_host_ed25519_key"
  : > "$HD/sshd.log"
  PORT=
  start_sshd "$HD" || { echo "no free port / sshd failed for $name" >&2; return 1; }
  start_daemons "$R"
  printf 'H_INDEX=%q\nH_NAME=%q\nH_MOREF=%q\nH_PORT=%q\n' "$idx" "$name" "$moref" "$PORT" > "$HD/host.env"
}

start_hosts() {
  build_template
  ensure_account
  ensure_keys
  [ -d /run/sshd ] || { mkdir -p /run/sshd; chmod 755 /run/sshd; }   # sshd's privsep dir (distro standard)
  mapfile -t HOSTLINES < <(awk -F'\t' '$1 == "host" { print $2 "\t" $3 }' "$BASE/vcsim/inventory.tsv" | head -n "$NHOSTS")
  [ "${#HOSTLINES[@]}" -ge "$NHOSTS" ] || die "vcsim has fewer hosts than $NHOSTS"
  local i name moref pids=() failed=0
  for i in "${!HOSTLINES[@]}"; do
    IFS=$'\t' read -r name moref <<<"${HOSTLINES[$i]}"
    mkdir -p "$BASE/$name"
    ( setup_host "$i" "$name" "$moref" ) >"$BASE/$name/setup.log" 2>&1 &
    pids+=($!)
  done
  for i in "${!pids[@]}"; do
    wait "${pids[$i]}" || { failed=1; IFS=$'\t' read -r name moref <<<"${HOSTLINES[$i]}"; log "host $name failed:"; cat "$BASE/$name/setup.log" >&2; }
  done
  [ $failed -eq 0 ] || die "host setup failed"
  # known_hosts for plain OpenSSH clients
  : > "$OUT/known_hosts"
  for i in "${!HOSTLINES[@]}"; do
    IFS=$'\t' read -r name moref <<<"${HOSTLINES[$i]}"
    . "$BASE/$name/host.env"
    printf '[127.0.0.1]:%s %s\n' "$H_PORT" "$(cut -d' ' -f1,2 "$BASE/$name/ssh_host_ed25519_key.pub")" >> "$OUT/known_hosts"
  done
}

host_dirs() { # host dirs in index order
  local f
  for f in "$BASE"/*/host.env; do [ -f "$f" ] && { . "$f"; printf '%s\t%s\n' "$H_INDEX" "$(dirname "$f")"; }; done | sort -n | cut -f2
}

hosts_running() {
  local HD n=0
  for HD in $(host_dirs); do
    pid_alive "$(cat "$HD/sshd.pid" 2>/dev/null)" || return 1
    n=$((n + 1))
  done
  [ "$n" -eq "$NHOSTS" ]
}

write_hosts_json() {
  local HD first=1 fp hk
  for HD in $(host_dirs); do
    . "$HD/host.env"
    fp=$(ssh-keygen -lf "$HD/ssh_host_ed25519_key.pub" | awk '{ print $2 }')
    hk=$(cut -d' ' -f1,2 "$HD/ssh_host_ed25519_key.pub")
    [ $first -eq 1 ] || printf ','
    first=0
    printf '\n    {"name": %s, "index": %s, "moref": %s, "address": "127.0.0.1", "port": %s,\n' \
      "$(json_str "$H_NAME")" "$H_INDEX" "$(json_str "$H_MOREF")" "$H_PORT"
    printf '     "user": %s, "password": %s,\n' "$(json_str "$LAB_USER")" "$(json_str "$SSH_PASSWORD")"
    printf '     "keyFile": %s, "keyFilePem": %s, "publicKeyFile": %s,\n' \
      "$(json_str "$KEYS/id_ed25519")" "$(json_str "$KEYS/id_rsa_pem")" "$(json_str "$KEYS/id_ed25519.pub")"
    printf '     "hostKeyFingerprint": %s, "hostKey": %s, "hostKeyFile": %s,\n' \
      "$(json_str "$fp")" "$(json_str "$hk")" "$(json_str "$HD/ssh_host_ed25519_key.pub")"
    printf '     "chrootPath": %s, "sshdLog": %s, "sshdPidFile": %s}' \
      "$(json_str "$HD/root")" "$(json_str "$HD/sshd.log")" "$(json_str "$HD/sshd.pid")"
  done
  printf '\n  '
}

# Every process whose root directory is inside this instance (agents, crond, session shells).
chrooted_pids() {
  local p r
  for p in /proc/[0-9]*; do
    r=$(readlink "$p/root" 2>/dev/null) || continue
    case $r in "$BASE"/*) echo "${p#/proc/}";; esac
  done
}

stop_hosts() {
  local f pid c
  for f in "$BASE"/*/sshd.pid; do
    [ -f "$f" ] || continue
    pid=$(cat "$f")
    for c in $(pgrep -P "$pid" 2>/dev/null); do kill -TERM "$c" 2>/dev/null || true; done
    kill_pid "$pid"
  done
  local round
  for round in 1 2 3; do
    pids=$(chrooted_pids)
    [ -n "$pids" ] || break
    kill -TERM $pids 2>/dev/null || true
    sleep 0.2
    pids=$(chrooted_pids)
    [ -z "$pids" ] || kill -KILL $pids 2>/dev/null || true
  done
}

# ---------------------------------------------------------------------------------------------
# state

write_env() {
  {
    printf 'NHOSTS=%q\nVCSIM_PID=%q\nVC_PASSWORD=%q\nCTL_URL=%q\nSSH_PASSWORD=%q\nVAR_MB=%q\n' \
      "$NHOSTS" "$VCSIM_PID" "$VC_PASSWORD" "$CTL_URL" "$SSH_PASSWORD" "$VAR_MB"
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
    printf '  "ssh": {"user": %s, "password": %s, "keyFile": %s, "keyFilePem": %s, "publicKeyFile": %s, "knownHostsFile": %s},\n' \
      "$(json_str "$LAB_USER")" "$(json_str "$SSH_PASSWORD")" "$(json_str "$KEYS/id_ed25519")" \
      "$(json_str "$KEYS/id_rsa_pem")" "$(json_str "$KEYS/id_ed25519.pub")" "$(json_str "$OUT/known_hosts")"
    printf '  "varMiB": %s,\n' "$VAR_MB"
    printf '  "hosts": ['
    write_hosts_json
    printf ']\n}\n'
  } > "$STATE.tmp"
  chmod 600 "$STATE.tmp"; mv -f "$STATE.tmp" "$STATE"
}

# ---------------------------------------------------------------------------------------------
# commands

is_running() {
  load_env 2>/dev/null || return 1
  pid_alive "$VCSIM_PID" || return 1
  [ -f "$STATE" ] || return 1
  hosts_running
}

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
  SSH_PASSWORD=$(head -c 18 /dev/urandom | base64 | tr '+/' 'xy')
  VAR_MB=${MTVLAB_VAR_MB:-16}
  start_vcsim "$NHOSTS"
  CTL_URL=$(tsv_get ctl)
  write_env
  start_hosts
  write_env
  write_state
  log "started in $((SECONDS - t0)) s"
  print_summary
}

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
  if getent passwd "$LAB_USER" >/dev/null; then userdel -f "$LAB_USER" >/dev/null 2>&1 || die "userdel $LAB_USER failed"; fi
  rm -rf "$OUT/keys" "$OUT/known_hosts"
  rm -f "$STATE" "$STATE.tmp"
  [ -n "$quiet" ] || log "stopped ($INSTANCE)"
}

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
