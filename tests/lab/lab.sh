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
MAX_HOSTS=96

die() { echo "lab: $*" >&2; exit 1; }
log() { echo "lab: $*" >&2; }

need_root() { [ "$(id -u)" -eq 0 ] || die "must run as root (it creates mounts, users and chroots)"; }

lock() {
  mkdir -p "$OUT"
  exec 9>"$OUT/.lock"
  flock -w 300 9 || die "another lab.sh holds $OUT/.lock"
}

# A zombie counts as dead: daemons are re-parented to pid 1, which may reap them only seconds later.
pid_alive() {
  [ -n "${1:-}" ] || return 1
  local st
  st=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  st=${st##*) }
  [ "${st%% *}" != Z ]
}

# True when pid is alive and its command line contains the given text (guards against a pid
# file naming a pid that was since reused by an unrelated process).
pid_is() {
  pid_alive "${1:-}" || return 1
  tr '\0' ' ' < "/proc/$1/cmdline" 2>/dev/null | grep -qF -- "$2"
}

# Kill pids (TERM, then KILL after a grace period), all at once.
kill_pid() {
  local pids=() p i
  for p in "$@"; do pid_alive "$p" && pids+=("$p"); done
  [ ${#pids[@]} -gt 0 ] || return 0
  kill -TERM "${pids[@]}" 2>/dev/null || true
  for i in $(seq 1 60); do
    local alive=()
    for p in "${pids[@]}"; do pid_alive "$p" && alive+=("$p"); done
    [ ${#alive[@]} -gt 0 ] || return 0
    pids=("${alive[@]}")
    sleep 0.05
  done
  kill -KILL "${pids[@]}" 2>/dev/null || true
}

# ---------------------------------------------------------------------------------------------
# vcsim

build_vcsim() {
  local stamp="$OUT/vcsim.sha1" sum
  sum=$( (cat "$LAB_DIR"/vcsim/*.go | sha1sum; go version) | sha1sum | cut -c1-40)
  if [ -x "$VCSIM_BIN" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$sum" ]; then return 0; fi
  log "building vcsim (govmomi from /usr/share/gocode, GOPATH mode)"
  local gp; gp=$(mktemp -d)
  if ! (cd "$LAB_DIR/vcsim" && GOPATH="$gp:/usr/share/gocode" GO111MODULE=off GOFLAGS= go build -o "$VCSIM_BIN.new" .); then
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
    -datastores "${MTVLAB_DATASTORES:-1}" -vsan-vms "${MTVLAB_VSAN_VMS:-1}" \
    -out "$BASE/vcsim/inventory.json" -tsv "$BASE/vcsim/inventory.tsv" -service-hook "$LAB_DIR/lab.sh" \
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
TMP_MB=${MTVLAB_TMP_MB:-256}   # ESXi's tmp ramdisk is 256M
HOSTD_DOWN_MS=${MTVLAB_HOSTD_DOWN_MS:-3000}
HOSTD_LAG_MS=${MTVLAB_HOSTD_LAG_MS:-2000}     # vCenter shows a host whose agent stopped connected this long
HOSTD_READY_MS=${MTVLAB_HOSTD_READY_MS:-1000} # a started agent serves requests after this long
TEMPLATE="$BASE/template"          # the chroot image, copied into each host's root ramdisk
TEMPLATE_VAR="$BASE/template-var"  # pristine /var (also what reset-host restores)
KEYS="$OUT/keys"
BB=/usr/lib/vmware/busybox/bin/busybox

# Run a command inside a host's chroot as its root (== the lab account, which is a uid-0 alias).
in_chroot() {
  local root=$1; shift
  env -i PATH=/bin:/sbin:/usr/bin HOME=/ USER=root LOGNAME=root SHELL=/bin/sh TERM=dumb \
    "$(command -v chroot)" "$root" "$@" 9>&-
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
  in_chroot "$R" /usr/lib/vmware/lab/wrapper-gen 2.10 >/dev/null 2>&1 || true
  in_chroot "$R" /usr/lib/vmware/lab/lab-log-gen 2048 >/dev/null 2>&1 || true
}

ensure_account() {
  if ! getent passwd "$LAB_USER" >/dev/null; then
    local msg
    msg=$(useradd -o -u 0 -g 0 -M -N -d / -s /bin/sh -c "MtvRemediation lab login ($INSTANCE)" "$LAB_USER" 2>&1) \
      || die "useradd $LAB_USER failed: $msg"
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
  # where ESXi keeps root's keys (informational: sshd reads the copy outside the chroot)
  install -m 0600 "$BASE/authorized_keys" "$TEMPLATE/etc/ssh/keys-root/authorized_keys"
}

write_sshd_config() {
  local HD=$1 addr=$2
  cat > "$HD/sshd_config" <<CFG
# sshd for lab host $(basename "$HD") ($INSTANCE): loopback only, ESXi-like authentication.
Port $SSH_PORT
ListenAddress $addr
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

# Addresses: each lab host is reached as an admin reaches ESXi, on port 22 of its own address
# 127.0.0.N (all of 127/8 is loopback; 127.0.0.1 stays the machine's own). Every lab instance on
# the machine (other checkouts too) claims addresses under ONE machine-wide lock. An address is
# taken while any lab's host directory claims it (file 'addr': its sshd may be stopped by a test,
# and the address must stay its own) or anything listens on its port 22.
ADDR_LOCK=/run/lock/mtvlab-addresses.lock
SSH_PORT=22

addr_listening() { ss -Htln "src = $1:$SSH_PORT" 2>/dev/null | grep -q .; }

# Claims the lowest free address for each host dir given (a dir that already has one gets
# another: its old address stays counted as taken until the new one is written).
claim_addresses() {
  mkdir -p "$(dirname "$ADDR_LOCK")"
  (
    flock -w 120 8 || { echo "lab: address lock $ADDR_LOCK busy" >&2; exit 1; }
    local taken n=2 HDx
    taken=$( { cat /srv/mtvlab-*/*/addr 2>/dev/null; ss -Htln "sport = :$SSH_PORT" 2>/dev/null | awk '{ sub(/:[0-9]+$/, "", $4); print $4 }'; } | sort -u)
    for HDx in "$@"; do
      while [ $n -le 254 ] && grep -qxF "127.0.0.$n" <<<"$taken"; do n=$((n + 1)); done
      [ $n -le 254 ] || { echo "lab: no free address left in 127.0.0.2-127.0.0.254 (other labs on this machine claim the rest: /srv/mtvlab-*/*/addr); stop a lab you no longer use" >&2; exit 1; }
      echo "127.0.0.$n" > "$HDx/addr"
      n=$((n + 1))
    done
  ) 8>"$ADDR_LOCK"
}

start_sshd() { # HD: sshd on the host's claimed address; true once it is proven listening there
  local HD=$1 addr
  addr=$(cat "$HD/addr")
  write_sshd_config "$HD" "$addr"
  rm -f "$HD/sshd.pid"
  /usr/sbin/sshd -f "$HD/sshd_config" -E "$HD/sshd.log" 8>&- 9>&- </dev/null >/dev/null 2>&1 || return 1
  wait_sshd_bound "$HD" "$addr" && return 0
  kill_pid "$(cat "$HD/sshd.pid" 2>/dev/null)"
  return 1
}

# sshd daemonises before it binds, so its exit status says nothing about the address: a host that
# cannot bind (something else listens there) moves to a newly claimed address, twice at most.
start_sshd_claimed() { # HD
  local HD=$1 try
  for try in 1 2 3; do
    start_sshd "$HD" && return 0
    claim_addresses "$HD" || return 1
  done
  return 1
}

# True once this host's own sshd (pid file, config) is alive and its address is listening.
wait_sshd_bound() {
  local HD=$1 addr=$2 i p
  for i in $(seq 1 100); do
    p=$(cat "$HD/sshd.pid" 2>/dev/null)
    if [ -n "$p" ]; then
      pid_is "$p" "$HD/sshd_config" || return 1     # it died: the bind failed
      addr_listening "$addr" && return 0
    fi
    sleep 0.02
  done
  return 1
}

# After start: each recorded address must present that host's own key (ssh-keyscan); a host that
# does not (another listener won the address) gets a new address. Returns non-zero if one still fails.
verify_host_keys() {
  local HDx want got round bad
  for round in 1 2 3; do
    bad=0
    for HDx in $(host_dirs); do
      . "$HDx/host.env"
      want=$(cut -d' ' -f2 "$HDx/ssh_host_ed25519_key.pub")
      got=$(ssh-keyscan -T 5 -t ed25519 -p "$SSH_PORT" "$H_ADDR" 2>/dev/null | awk '{ print $3 }')
      [ "$got" = "$want" ] && continue
      bad=1
      log "host $H_NAME: $H_ADDR does not present its key; moving it to a new address"
      kill_pid "$(cat "$HDx/sshd.pid" 2>/dev/null)"
      claim_addresses "$HDx" && start_sshd_claimed "$HDx" || continue
      write_host_env "$HDx" "$H_INDEX" "$H_NAME" "$H_MOREF"
    done
    [ $bad -eq 0 ] && return 0
  done
  return 1
}

start_daemons() { # agents + crond inside the chroot, as on a booted ESXi
  local R=$1
  in_chroot "$R" /etc/init.d/hostd start >/dev/null 2>&1
  in_chroot "$R" /etc/init.d/vpxa start >/dev/null 2>&1
  in_chroot "$R" "$BB" crond -c /var/spool/cron/crontabs -L /dev/null </dev/null >/dev/null 2>&1
}

write_host_env() { # HD index name moref
  printf 'H_INDEX=%q\nH_NAME=%q\nH_MOREF=%q\nH_ADDR=%q\n' "$2" "$3" "$4" "$(cat "$1/addr")" > "$1/host.env"
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
  local ds dsname dsdir uuid
  : > "$R/etc/vmware/lab-volumes"   # what the df stand-in lists: "<type> <mount point>"
  # A datastore as ESXi shows it: its volume at /vmfs/volumes/<uuid> (the same on every host) and
  # the label a symbolic link to it; df names it by label (docs/field-sources.md section 3).
  while IFS=$'\t' read -r _ dsname dsdir; do
    uuid=$(osdata_uuid "$INSTANCE/$dsname")
    mkdir -p "$R/vmfs/volumes/$uuid"
    mount --bind "$dsdir" "$R/vmfs/volumes/$uuid"
    ln -sfn "$uuid" "$R/vmfs/volumes/$dsname"
    printf 'VMFS-6 /vmfs/volumes/%s\n' "$dsname" >> "$R/etc/vmware/lab-volumes"
  done < <(awk -F'\t' '$1 == "datastore"' "$BASE/vcsim/inventory.tsv")
  printf 'HOST_NAME=%s\nCTL_URL=%s\nHOSTD_DOWN_MS=%s\nHOSTD_LAG_MS=%s\nHOSTD_READY_MS=%s\n' "$name" "$CTL_URL" "$HOSTD_DOWN_MS" "$HOSTD_LAG_MS" "$HOSTD_READY_MS" > "$R/etc/vmware/lab.conf"
  printf '%s\n' "$name" > "$R/etc/hostname"
  # The ESXi version the host's syslog stand-in writes the line form of (vmsyslog): a comma list
  # by host index, else 8.0 on even and 7.0 on odd indexes, so every lab of 2+ hosts has both.
  local versions esxi
  IFS=, read -r -a versions <<<"${MTVLAB_ESXI:-}"
  esxi=${versions[$idx]:-}; [ -n "$esxi" ] || { esxi=8.0; [ $((idx % 2)) = 1 ] && esxi=7.0; }
  case $esxi in 7.0|8.0) ;; *) die "MTVLAB_ESXI: 7.0 or 8.0 per host";; esac
  echo "$esxi" > "$R/etc/vmware/lab-esxi"
  seed_var "$R"
  ssh-keygen -q -t ed25519 -N '' -C "$name" -f "$HD/ssh_host_ed25519_key"
  : > "$HD/sshd.log"
  start_sshd_claimed "$HD" || { echo "sshd failed for $name on $(cat "$HD/addr"):$SSH_PORT (see $HD/sshd.log)" >&2; return 1; }
  start_daemons "$R"
  write_host_env "$HD" "$idx" "$name" "$moref"
  local layouts layout
  IFS=, read -r -a layouts <<<"${MTVLAB_LAYOUTS:-}"
  layout=${layouts[$idx]:-ramdisk}
  [ "$layout" = ramdisk ] || apply_layout "$HD" "$layout"
}

# ---------------------------------------------------------------------------------------------
# storage layouts: where the host's /var/log really lives (docs/field-sources.md#3-esxi-shell-and-storage)
#   ramdisk   the lab default: /var/log a directory on the "var" ramdisk (a log on a visorfs
#             ramdisk, as on hosts without persistent scratch before 7.0)
#   osdata    ESXi 7.0/8.0 ("system storage", symbolic links table): /scratch -> /vmfs/volumes/<uuid>,
#             the ESX-OSData volume (VMFS-L; df calls it VFFS), /var/log -> /scratch/log,
#             /vmfs/volumes/OSDATA-<uuid> -> <uuid>. The volume is a tmpfs of $MTVLAB_OSDATA_MB MiB.
#   degraded  ESXi 7.0/8.0 without persistent storage: /scratch -> /tmp/scratch on the tmp ramdisk,
#             /var/log -> /scratch/log
#   datastore scratch configured on a host's local datastore (KB 1033696: the configured location
#             comes first): /scratch -> /vmfs/volumes/datastore1/.locker-<host>, datastore1 -> <uuid>,
#             a VMFS-6 volume df lists by its label (a tmpfs of $MTVLAB_OSDATA_MB MiB), /var/log -> /scratch/log
# Only /var/log and /scratch are links here; /var/run and /var/tmp stay on the var ramdisk.

osdata_uuid() { printf '%s' "$1" | sha1sum | sed -E 's/^(.{8})(.{8})(.{4})(.{12}).*/\1-\2-\3-\4/'; }

# The volume a layout puts /scratch on: the OSDATA volume, or the host's datastore1.
layout_uuid() { # HD layout
  case $2 in datastore) osdata_uuid "$(basename "$1")/datastore1";; *) osdata_uuid "$(basename "$1")";; esac
}

apply_layout() { # HD layout
  local HD=$1 layout=$2 R=$1/root cur uuid logdir locker
  cur=$(cat "$R/etc/vmware/lab-layout" 2>/dev/null || echo ramdisk)
  locker=.locker-$(basename "$HD")
  # Back to the ramdisk layout first: the log files move with every change.
  if [ "$cur" != ramdisk ]; then
    uuid=$(layout_uuid "$HD" "$cur")
    case $cur in
      osdata) logdir=$R/vmfs/volumes/$uuid/log;;
      degraded) logdir=$R/tmp/scratch/log;;
      datastore) logdir=$R/vmfs/volumes/$uuid/$locker/log;;
    esac
    rm -f "$R/var/log"; mkdir -p "$R/var/log"
    [ -d "$logdir" ] && cp -a "$logdir/." "$R/var/log/" 2>/dev/null
    rm -rf "$R/tmp/scratch"
    rm -f "$R/scratch" "$R/vmfs/volumes/OSDATA-$uuid" "$R/vmfs/volumes/datastore1"; mkdir -p "$R/scratch"
    if mountpoint -q "$R/vmfs/volumes/$uuid"; then umount "$R/vmfs/volumes/$uuid" || umount -l "$R/vmfs/volumes/$uuid"; fi
    rmdir "$R/vmfs/volumes/$uuid" 2>/dev/null || true
    sed -i "\|/vmfs/volumes/$uuid\$|d; \|/vmfs/volumes/datastore1\$|d" "$R/etc/vmware/lab-volumes"
  fi
  uuid=$(layout_uuid "$HD" "$layout")
  case $layout in
    ramdisk) ;;
    osdata|datastore)
      mkdir -p "$R/vmfs/volumes/$uuid"
      mount -t tmpfs -o "size=${MTVLAB_OSDATA_MB:-64}m,mode=755" "$INSTANCE" "$R/vmfs/volumes/$uuid"
      rmdir "$R/scratch" 2>/dev/null || rm -rf "$R/scratch"
      if [ "$layout" = osdata ]; then
        ln -sfn "$uuid" "$R/vmfs/volumes/OSDATA-$uuid"
        printf 'VFFS /vmfs/volumes/%s\n' "$uuid" >> "$R/etc/vmware/lab-volumes"
        logdir=$R/vmfs/volumes/$uuid/log
        ln -sfn "/vmfs/volumes/$uuid" "$R/scratch"
      else
        ln -sfn "$uuid" "$R/vmfs/volumes/datastore1"
        printf 'VMFS-6 /vmfs/volumes/datastore1\n' >> "$R/etc/vmware/lab-volumes"
        logdir=$R/vmfs/volumes/$uuid/$locker/log
        ln -sfn "/vmfs/volumes/datastore1/$locker" "$R/scratch"
      fi
      mkdir -p "$logdir";;
    degraded)
      mkdir -p "$R/tmp/scratch/log"
      logdir=$R/tmp/scratch/log
      rmdir "$R/scratch" 2>/dev/null || rm -rf "$R/scratch"; ln -sfn /tmp/scratch "$R/scratch";;
    *) die "layout: ramdisk|osdata|degraded|datastore";;
  esac
  if [ "$layout" != ramdisk ]; then
    cp -a "$R/var/log/." "$logdir/"
    rm -rf "$R/var/log"; ln -s /scratch/log "$R/var/log"
  fi
  echo "$layout" > "$R/etc/vmware/lab-layout"
}

cmd_layout() { # layout <host> [ramdisk|osdata|degraded|datastore]: the host's storage layout (no argument: print it)
  resolve_host "${1:-}"
  if [ -z "${2:-}" ]; then cat "$R/etc/vmware/lab-layout" 2>/dev/null || echo ramdisk; return 0; fi
  apply_layout "$HD" "$2"
}

start_hosts() {
  build_template
  ensure_account
  ensure_keys
  [ -d /run/sshd ] || { mkdir -p /run/sshd; chmod 755 /run/sshd; }   # sshd's privsep dir (distro standard)
  mapfile -t HOSTLINES < <(awk -F'\t' '$1 == "host" { print $2 "\t" $3 }' "$BASE/vcsim/inventory.tsv" | head -n "$NHOSTS")
  [ "${#HOSTLINES[@]}" -ge "$NHOSTS" ] || die "vcsim has fewer hosts than $NHOSTS"
  local i name moref pids=() failed=0 dirs=()
  for i in "${!HOSTLINES[@]}"; do
    IFS=$'\t' read -r name moref <<<"${HOSTLINES[$i]}"
    mkdir -p "$BASE/$name"; dirs+=("$BASE/$name")
  done
  claim_addresses "${dirs[@]}" || die "no addresses for the hosts"
  for i in "${!HOSTLINES[@]}"; do
    IFS=$'\t' read -r name moref <<<"${HOSTLINES[$i]}"
    ( setup_host "$i" "$name" "$moref" ) >"$BASE/$name/setup.log" 2>&1 &
    pids+=($!)
  done
  for i in "${!pids[@]}"; do
    wait "${pids[$i]}" || { failed=1; IFS=$'\t' read -r name moref <<<"${HOSTLINES[$i]}"; log "host $name failed:"; cat "$BASE/$name/setup.log" >&2; }
  done
  [ $failed -eq 0 ] || die "host setup failed"
  verify_host_keys || die "a host's address does not present its host key"
  write_known_hosts
  add_host_names
}

write_known_hosts() { # for plain OpenSSH clients and the module: by name and by address
  local HDx
  : > "$OUT/known_hosts.tmp"
  for HDx in $(host_dirs); do
    . "$HDx/host.env"
    printf '%s,%s %s\n' "$H_NAME" "$H_ADDR" "$(cut -d' ' -f1,2 "$HDx/ssh_host_ed25519_key.pub")" >> "$OUT/known_hosts.tmp"
  done
  mv -f "$OUT/known_hosts.tmp" "$OUT/known_hosts"
}

# Host names: a line "<address> <name> # <instance>" per host in /etc/hosts (the .NET resolver
# and OpenSSH read it), so every by-name path reaches the host as on a real network. Edited in
# place (it may be a bind mount) under the address lock; every byte not on a lab line is kept.
# A name another running lab (or any foreign line) already maps is left to it: that host is
# reachable by address only ("nameResolves": false in lab.json). Lines of a lab whose directory
# is gone (stopped without this code, machine reset) are removed.
HOSTS_FILE=${MTVLAB_HOSTS_FILE:-/etc/hosts}

edit_hosts_file() { # ["name addr" lines on stdin]: drop this lab's (and dead labs') lines, add these; prints the names added
  mkdir -p "$(dirname "$ADDR_LOCK")"
  (
    flock -w 120 8 || { echo "lab: address lock $ADDR_LOCK busy" >&2; exit 1; }
    perl -e '
      my ($file, $me) = @ARGV;
      my @add = map { [split] } grep { /\S/ } <STDIN>;
      open(my $fh, "+<", $file) or die "lab: $file: $!\n";
      my $t = do { local $/; <$fh> } // "";
      my %live = map { $_ => 1 } grep { $_ ne $me && -e "/srv/$_/lab.env" } ($t =~ / # (mtvlab-[0-9a-f]{8})(?: \+nl)?$/mg);
      my $lab = sub { my $m = shift; $m eq $me || !$live{$m} };
      $t =~ s/^[^\n]* # (mtvlab-[0-9a-f]{8})\n/$lab->($1) ? "" : $&/mge;
      # A line marked "+nl" follows the newline the lab added to a file that did not end in one:
      # at the end both go; before later lines the newline stays to separate them.
      $t =~ s/\n[^\n]* # (mtvlab-[0-9a-f]{8}) \+nl\n/!$lab->($1) ? $& : $+[0] == length($t) ? "" : "\n"/ge;
      my %mapped;
      for (split /\n/, $t) { s/#.*//; my @f = split; shift @f; $mapped{lc $_} = 1 for @f; }
      my ($out, @added) = ("");
      for my $a (@add) {
        my ($name, $addr) = @$a;
        next if $mapped{lc $name};
        $out .= "$addr $name # $me" . ($out eq "" && $t ne "" && $t !~ /\n\z/ ? " +nl" : "") . "\n";
        push @added, $name;
      }
      $out = "\n$out" if $out =~ / \+nl\n/;
      seek($fh, 0, 0); truncate($fh, 0); print $fh $t . $out; close($fh) or die "lab: $file: $!\n";
      print "$_\n" for @added;
    ' "$HOSTS_FILE" "$INSTANCE"
  ) 8>"$ADDR_LOCK"
}

add_host_names() {
  local HDx added name
  added=$(for HDx in $(host_dirs); do . "$HDx/host.env"; printf '%s %s\n' "$H_NAME" "$H_ADDR"; done | edit_hosts_file) \
    || die "could not add the host names to $HOSTS_FILE"
  for HDx in $(host_dirs); do
    . "$HDx/host.env"
    if grep -qxF -- "$H_NAME" <<<"$added"; then : > "$HDx/name-resolves"
    else log "host $H_NAME: $HOSTS_FILE already maps that name (another lab or a foreign line); reach it by address $H_ADDR"; fi
  done
}

host_dirs() { # host dirs in index order
  local f
  for f in "$BASE"/*/host.env; do [ -f "$f" ] && { . "$f"; printf '%s\t%s\n' "$H_INDEX" "$(dirname "$f")"; }; done | sort -n | cut -f2
}

hosts_running() {
  local HD n=0
  for HD in $(host_dirs); do
    pid_is "$(cat "$HD/sshd.pid" 2>/dev/null)" "$HD/sshd_config" || return 1
    n=$((n + 1))
  done
  [ "$n" -eq "$NHOSTS" ]
}

write_hosts_json() {
  local HD first=1 fp hk resolves
  for HD in $(host_dirs); do
    . "$HD/host.env"
    fp=$(ssh-keygen -lf "$HD/ssh_host_ed25519_key.pub" | awk '{ print $2 }')
    hk=$(cut -d' ' -f1,2 "$HD/ssh_host_ed25519_key.pub")
    [ $first -eq 1 ] || printf ','
    first=0
    resolves=false; [ -f "$HD/name-resolves" ] && resolves=true
    printf '\n    {"name": %s, "index": %s, "moref": %s, "address": %s, "port": %s, "nameResolves": %s,\n' \
      "$(json_str "$H_NAME")" "$H_INDEX" "$(json_str "$H_MOREF")" "$(json_str "$H_ADDR")" "$SSH_PORT" "$resolves"
    printf '     "user": %s, "password": %s,\n' "$(json_str "$LAB_USER")" "$(json_str "$SSH_PASSWORD")"
    printf '     "keyFile": %s, "keyFilePem": %s, "publicKeyFile": %s,\n' \
      "$(json_str "$KEYS/id_ed25519")" "$(json_str "$KEYS/id_rsa_pem")" "$(json_str "$KEYS/id_ed25519.pub")"
    printf '     "hostKeyFingerprint": %s, "hostKey": %s, "hostKeyFile": %s,\n' \
      "$(json_str "$fp")" "$(json_str "$hk")" "$(json_str "$HD/ssh_host_ed25519_key.pub")"
    printf '     "esxiVersion": %s,\n' "$(json_str "$(cat "$HD/root/etc/vmware/lab-esxi" 2>/dev/null)")"
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
  local f pid pids=()
  # sshd listeners and their per-connection children
  for f in "$BASE"/*/sshd.pid; do
    [ -f "$f" ] || continue
    pid=$(cat "$f")
    pid_is "$pid" "$(dirname "$f")/sshd_config" || continue
    pids+=("$pid" $(pgrep -P "$pid" 2>/dev/null || true))
  done
  kill_pid "${pids[@]}"
  # then everything still running inside the chroots
  local round
  for round in 1 2 3; do
    pids=($(chrooted_pids))
    [ ${#pids[@]} -gt 0 ] || break
    kill_pid "${pids[@]}"
  done
}

# ---------------------------------------------------------------------------------------------
# knobs (each takes a host by name, e.g. DC0_H0, or by index, e.g. 0)

resolve_host() {
  load_env || die "lab is not running"
  local arg=${1:-} HDx
  [ -n "$arg" ] || die "host name or index required"
  for HDx in $(host_dirs); do
    . "$HDx/host.env"
    if [ "$H_NAME" = "$arg" ] || [ "$H_INDEX" = "$arg" ]; then HD=$HDx; R=$HDx/root; return 0; fi
  done
  die "no lab host '$arg'"
}

cmd_exec() { # exec <host> <command...>: run in the host's chroot as its root, no SSH
  resolve_host "${1:-}"; shift
  [ $# -gt 0 ] || die "exec: command required"
  in_chroot "$R" /bin/sh -c "$*"
}

cmd_fill_var() { # fill-var <host> <percent> [--via log|file]
  resolve_host "${1:-}"; local pct=${2:-} via=log
  shift 2 || true
  while [ $# -gt 0 ]; do case $1 in --via) via=$2; shift 2;; --via=*) via=${1#*=}; shift;; *) die "fill-var: unknown option $1";; esac; done
  [[ $pct =~ ^[0-9]+$ ]] && [ "$pct" -le 100 ] || die "fill-var: percent must be 0..100"
  case $via in log|file) ;; *) die "fill-var: --via log|file";; esac
  in_chroot "$R" /usr/lib/vmware/lab/fill-var "$pct" "$via"
}

cmd_wrapper_log() { # wrapper-log <host> <bytes> [--secure [--fail 7228|327689]]: what the host's wrapper generation logs
  resolve_host "${1:-}"; local bytes=${2:-}
  shift 2 || die "wrapper-log: host and bytes"
  [[ $bytes =~ ^[0-9]+$ ]] || die "wrapper-log: bytes must be a number"
  in_chroot "$R" /usr/lib/vmware/lab/lab-log-gen "$bytes" "$@"
}

cmd_task_dirs() { # task-dirs <host> <count> [--age-days N] [--failed 7228|327689 [--orphaned]] [--running] [--vmdk PATH]: wrapper task dirs in /tmp
  resolve_host "${1:-}"; local count=${2:-} age=0 rest=()
  shift 2 || die "task-dirs: host and count"
  while [ $# -gt 0 ]; do case $1 in --age-days) age=$2; shift 2;; --age-days=*) age=${1#*=}; shift;; *) rest+=("$1"); shift;; esac; done
  [[ $count =~ ^[0-9]+$ && $age =~ ^[0-9]+$ ]] || die "task-dirs: count and --age-days must be numbers"
  in_chroot "$R" /usr/lib/vmware/lab/task-dirs "$count" "$age" "${rest[@]}"
}

cmd_wrapper() { # wrapper <host> <2.9|2.10|2.11|2.12|2.12.1|2.12.4|none> [--hostd-not-restarted]: install that MTV wrapper generation's files (reset-host: 2.10)
  resolve_host "${1:-}"
  in_chroot "$R" /usr/lib/vmware/lab/wrapper-gen "${2:-}" ${3:+"$3"}
}

cmd_hostd_downtime() { # hostd-downtime <ms> [host]: how long 'hostd restart' shows the host notResponding
  local ms=${1:-}; [[ $ms =~ ^[0-9]+$ ]] || die "hostd-downtime: milliseconds required"
  load_env || die "lab is not running"
  local dirs
  if [ -n "${2:-}" ]; then resolve_host "$2"; dirs=$HD; else dirs=$(host_dirs); fi
  for HD in $dirs; do
    sed -i "s/^HOSTD_DOWN_MS=.*/HOSTD_DOWN_MS=$ms/" "$HD/root/etc/vmware/lab.conf"
  done
}

cmd_hostd_lag() { # hostd-lag <ms> [host]: how long vCenter shows a host connected after its agent stopped
  local ms=${1:-}; [[ $ms =~ ^[0-9]+$ ]] || die "hostd-lag: milliseconds required"
  load_env || die "lab is not running"
  local dirs
  if [ -n "${2:-}" ]; then resolve_host "$2"; dirs=$HD; else dirs=$(host_dirs); fi
  for HD in $dirs; do
    sed -i "s/^HOSTD_LAG_MS=.*/HOSTD_LAG_MS=$ms/" "$HD/root/etc/vmware/lab.conf"
  done
}

sshd_pid() { # the host's sshd listener, if it is running
  local p; p=$(cat "$HD/sshd.pid" 2>/dev/null) || return 0
  if pid_is "$p" "$HD/sshd_config"; then echo "$p"; fi
}

cmd_stop_host() { # stop-host <host>: the SSH service goes down; live sessions stay (as on ESXi)
  resolve_host "${1:-}"
  kill_pid "$(sshd_pid)"; rm -f "$HD/sshd.pid"
}

cmd_start_host() { # start-host <host>: sshd up again on the same address
  resolve_host "${1:-}"
  pid_alive "$(sshd_pid)" && return 0
  /usr/sbin/sshd -f "$HD/sshd_config" -E "$HD/sshd.log" 9>&- </dev/null >/dev/null 2>&1 || die "sshd for $H_NAME failed to start ($H_ADDR:$SSH_PORT taken?)"
  # sshd daemonises before it binds: started means accepting connections (as StartService returns on ESXi)
  wait_sshd_bound "$HD" "$H_ADDR" || die "sshd for $H_NAME is not listening on $H_ADDR:$SSH_PORT (see $HD/sshd.log)"
}

cmd_ssh_service() { # ssh-service <host> start|stop|status: TSM-SSH as vcsim's HostServiceSystem sees it (its hook)
  resolve_host "${1:-}"
  case ${2:-} in
    start) cmd_start_host "$1" >/dev/null;;
    stop) cmd_stop_host "$1";;
    status) ;;
    *) die "ssh-service: start, stop or status";;
  esac
  if [ -n "$(sshd_pid)" ]; then echo running; else echo stopped; fi
}

# The sshd processes holding an established connection to the host's own address: found so
# even after stop-host, when the listener (their parent) is gone and the sessions live on.
session_pids() {
  ss -Htnp state established "src = $H_ADDR:$SSH_PORT" 2>/dev/null | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u
}

cmd_kill_sessions() { # kill-sessions <host>: drop every live SSH connection, keep the listener (if any)
  resolve_host "${1:-}"
  local p n=0
  for p in $(session_pids); do
    kill -TERM "$p" 2>/dev/null && n=$((n + 1))
    kill -CONT "$p" 2>/dev/null || true   # one that hang-sessions stopped dies only once it runs
  done
  echo "$n"
}

cmd_hang_sessions() { # hang-sessions <host>: every live SSH connection stays open but no longer answers (a dropped VPN); kill-sessions ends them
  resolve_host "${1:-}"
  local p n=0
  for p in $(session_pids); do kill -STOP "$p" 2>/dev/null && n=$((n + 1)); done
  echo "$n"
}

cmd_rekey() { # rekey <host>: new host key, sshd restarted on the same address, lab.json updated
  resolve_host "${1:-}"
  kill_pid "$(sshd_pid)"
  rm -f "$HD/ssh_host_ed25519_key" "$HD/ssh_host_ed25519_key.pub"
  ssh-keygen -q -t ed25519 -N '' -C "$H_NAME" -f "$HD/ssh_host_ed25519_key"
  /usr/sbin/sshd -f "$HD/sshd_config" -E "$HD/sshd.log" 9>&- </dev/null >/dev/null 2>&1 || die "sshd restart failed"
  wait_sshd_bound "$HD" "$H_ADDR" || die "sshd for $H_NAME is not listening on $H_ADDR:$SSH_PORT after the restart"
  write_known_hosts; write_state
  ssh-keygen -lf "$HD/ssh_host_ed25519_key.pub" | awk '{ print $2 }'
}

cmd_slow() { # slow <ms> [host]: stub commands (vdf, init scripts, esxcli) sleep this long per call
  local ms=${1:-}; [[ $ms =~ ^[0-9]+$ ]] || die "slow: milliseconds required"
  load_env || die "lab is not running"
  local dirs
  if [ -n "${2:-}" ]; then resolve_host "$2"; dirs=$HD; else dirs=$(host_dirs); fi
  for HD in $dirs; do
    if [ "$ms" -eq 0 ]; then rm -f "$HD/root/etc/vmware/lab-slow-ms"; else echo "$ms" > "$HD/root/etc/vmware/lab-slow-ms"; fi
  done
}

cmd_sshd_log() { # sshd-log INFO|VERBOSE [host]: the sshd log level (VERBOSE: one "Starting session: command" line per remote command); connections opened afterwards only
  local level=${1:-}
  case $level in INFO|VERBOSE) ;; *) die "sshd-log: INFO or VERBOSE";; esac
  load_env || die "lab is not running"
  local dirs pid heard i
  if [ -n "${2:-}" ]; then resolve_host "$2"; dirs=$HD; else dirs=$(host_dirs); fi
  for HD in $dirs; do
    grep -qx "LogLevel $level" "$HD/sshd_config" && continue
    sed -i "s/^LogLevel .*/LogLevel $level/" "$HD/sshd_config"
    pid=$(sshd_pid); [ -n "$pid" ] || continue
    # SIGHUP: sshd re-executes itself with the new configuration (same pid, live sessions kept)
    # and logs "Server listening" once it accepts connections again.
    heard=$(grep -c '^Server listening' "$HD/sshd.log" || true)
    kill -HUP "$pid"
    for i in $(seq 1 100); do
      [ "$(grep -c '^Server listening' "$HD/sshd.log" || true)" -gt "$heard" ] && break
      sleep 0.05
    done
  done
}

cmd_logins() { # logins <host>: accepted SSH logins so far (from sshd -E log)
  resolve_host "${1:-}"
  grep -cE '^Accepted [^ ]+ for ' "$HD/sshd.log" || true   # not VERBOSE's 'Accepted key ... found at'
}

cmd_vcsim_ctl() { # vcsim-ctl <endpoint> [key=value ...], e.g. vcsim-ctl host-state host=DC0_H0 state=notResponding
  load_env || die "lab is not running"
  local ep=${1:-state} q="" kv; shift || true
  for kv in "$@"; do q="$q${q:+&}$kv"; done
  /bin/busybox wget -q -O - "$CTL_URL/ctl/$ep${q:+?$q}" 9>&- || die "vcsim-ctl $ep failed"
}

# Processes in a host's chroot that are not part of a live SSH session (agents, crond, strays).
daemon_pids() {
  # Builtins only (test -ef, read): with 72 hosts the machine runs a thousand processes, and a
  # readlink or awk per process made every reset-host take tens of seconds.
  local p pid anc comm k v
  for p in /proc/[0-9]*; do
    [ "$p/root" -ef "$R" ] || continue
    pid=${p#/proc/}
    anc=$pid
    while [ -n "$anc" ] && [ "$anc" -gt 1 ]; do
      read -r comm 2>/dev/null < "/proc/$anc/comm" || break
      [ "$comm" = sshd ] && { anc=session; break; }
      k=; while read -r k v; do [ "$k" = PPid: ] && break; done 2>/dev/null < "/proc/$anc/status"
      [ "$k" = PPid: ] && anc=$v || anc=
    done
    [ "$anc" = session ] || echo "$pid"
  done
}

cmd_reset_host() { # reset-host <host>: pristine /var (log, crontab), empty /tmp, agents + crond restarted, ramdisk layout
  resolve_host "${1:-}"
  apply_layout "$HD" ramdisk
  local pids
  pids=$(daemon_pids); [ -z "$pids" ] || kill -TERM $pids 2>/dev/null || true
  sleep 0.1
  pids=$(daemon_pids); [ -z "$pids" ] || kill -KILL $pids 2>/dev/null || true
  find "$R/var" "$R/tmp" -mindepth 1 -maxdepth 1 -exec rm -rf {} + 2>/dev/null || true
  cp -a "$TEMPLATE_VAR/." "$R/var/"
  seed_var "$R"
  rm -f "$R/etc/vmware/lab-slow-ms" "$R/etc/vmware/lab-hostd-tmp"
  sed -i "s/^HOSTD_DOWN_MS=.*/HOSTD_DOWN_MS=$HOSTD_DOWN_MS/; s/^HOSTD_LAG_MS=.*/HOSTD_LAG_MS=$HOSTD_LAG_MS/" "$R/etc/vmware/lab.conf"
  cmd_start_host "$H_NAME"
  start_daemons "$R"
  /bin/busybox wget -q -O /dev/null "$CTL_URL/ctl/host-state?host=$H_NAME&state=connected" 9>&- || true
}

# ---------------------------------------------------------------------------------------------
# state

write_env() {
  {
    printf 'NHOSTS=%q\nVCSIM_PID=%q\nVC_PASSWORD=%q\nCTL_URL=%q\nSSH_PASSWORD=%q\nVAR_MB=%q\nHOSTD_DOWN_MS=%q\n' \
      "$NHOSTS" "$VCSIM_PID" "$VC_PASSWORD" "$CTL_URL" "$SSH_PASSWORD" "$VAR_MB" "$HOSTD_DOWN_MS"
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
  pid_is "$VCSIM_PID" "$BASE/vcsim/inventory.json" || return 1
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
  local v
  for v in "${MTVLAB_VAR_MB:-16}" "${MTVLAB_ROOT_MB:-32}" "${MTVLAB_TMP_MB:-256}"; do
    [[ $v =~ ^[1-9][0-9]*$ ]] || die "ramdisk sizes (--var-mb, MTVLAB_*_MB) must be positive MiB counts"
  done
  lock
  if is_running && [ "$NHOSTS" = "$want" ] && [ "${VAR_MB:-}" = "${MTVLAB_VAR_MB:-16}" ]; then
    log "already running ($INSTANCE, $NHOSTS hosts)"; print_summary; return 0
  fi
  do_stop quiet
  # A failed start cleans up after itself: callers (build.ps1) only stop labs that started.
  trap 'rc=$?; if [ $rc -ne 0 ]; then log "start failed; cleaning up"; do_stop quiet || true; fi' EXIT
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
  trap - EXIT
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
  if [ -f "$BASE/vcsim/vcsim.pid" ]; then
    local vp; vp=$(cat "$BASE/vcsim/vcsim.pid")
    if pid_is "$vp" "$BASE/vcsim/inventory.json"; then kill_pid "$vp"; fi
  fi
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
  if getent passwd "$LAB_USER" >/dev/null; then userdel -f "$LAB_USER" >/dev/null 2>&1; getent passwd "$LAB_USER" >/dev/null && die "could not remove account $LAB_USER"; fi
  rm -rf "$OUT/keys" "$OUT/known_hosts"
  rm -f "$STATE" "$STATE.tmp"
  edit_hosts_file </dev/null >/dev/null || die "could not remove this lab's lines from $HOSTS_FILE"
  [ -n "$quiet" ] || log "stopped ($INSTANCE)"
}

cmd_stop() { need_root; lock; do_stop; }

cmd_status() {
  if ! load_env 2>/dev/null || ! pid_is "$VCSIM_PID" "$BASE/vcsim/inventory.json"; then
    echo "MtvRemediation lab '$INSTANCE' is not running"; return 0
  fi
  print_summary
  local HDx up
  for HDx in $(host_dirs); do
    . "$HDx/host.env"
    up=down; pid_is "$(cat "$HDx/sshd.pid" 2>/dev/null)" "$HDx/sshd_config" && up=up
    printf '    %-12s %-15s sshd %-4s %s\n' "$H_NAME" "$H_ADDR" "$up" "$H_MOREF"
  done
}

main() {
  local cmd=${1:-status}; shift || true
  case $cmd in
    start) cmd_start "$@";;
    stop) cmd_stop "$@";;
    status) cmd_status "$@";;
    exec) cmd_exec "$@";;
    fill-var) cmd_fill_var "$@";;
    wrapper-log) cmd_wrapper_log "$@";;
    task-dirs) cmd_task_dirs "$@";;
    wrapper) cmd_wrapper "$@";;
    hostd-downtime) cmd_hostd_downtime "$@";;
    hostd-lag) cmd_hostd_lag "$@";;
    rekey) lock; cmd_rekey "$@";;
    stop-host) cmd_stop_host "$@";;
    start-host) cmd_start_host "$@";;
    kill-sessions) cmd_kill_sessions "$@";;
    hang-sessions) cmd_hang_sessions "$@";;
    ssh-service) cmd_ssh_service "$@";;
    slow) cmd_slow "$@";;
    sshd-log) cmd_sshd_log "$@";;
    logins) cmd_logins "$@";;
    vcsim-ctl) cmd_vcsim_ctl "$@";;
    reset-host) cmd_reset_host "$@";;
    layout) cmd_layout "$@";;
    -h|--help|help) sed -n '2,5p' "$0"; grep -o '^cmd_[a-z_]*() { # .*' "$0" | sed 's/^cmd_[a-z_]*() { # /  /';;
    *) die "unknown command '$cmd' (start|stop|status|...; see tests/lab/README.md)";;
  esac
}

main "$@"
