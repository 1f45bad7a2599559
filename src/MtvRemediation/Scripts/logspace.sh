# Test-VmkfstoolsLogSpace's probe in one round trip ("$1" log, "$2" secure log); LogSpaceProbe.Parse
# reads the @@sections. The log is judged by the one log-path rule (logpath.sh) and measured only
# when it is a regular file. The volume is the file system that holds the log's REAL path
# (on ESXi 7/8 /var/log is a symlink into the OSDATA volume; degraded hosts keep /scratch on the
# tmp ramdisk: docs/field-sources.md#3-esxi-shell-and-storage):
#   ramdisks     localcli / esxcli system visorfs ramdisk list (name -> mount point) and vdf (sizes)
#   /vmfs/...    ESXi's df (bytes: OSDATA, datastores, vfat), then stat -f on the path
#   neither tool (not an ESXi host, e.g. the unit tests): stat -f and POSIX df -k on the path
# Every source prints its exit code: their exact formats on real ESXi are unverified, so the
# parser takes only an answer it can attribute to the path, and fails loudly otherwise.
# Few processes: at fleet scale the host's cost per probe is mostly fork+exec.
# A path or link target the host names, and df's output (datastore labels), is a field of
# field.sh: no name can start a section of its own. The ramdisk list and vdf name ESXi's own
# ramdisks and stay as printed (two processes less per field, on every host).
# @include field.sh
# @include logpath.sh
# @include filesize.sh
# @include taskdir.sh
f=$1 s=$2
echo @@logkind; logpath_kind "$f"; echo $?
echo @@log; logpath_kind "$f" && filesize "$f"
echo @@logtarget; [ -L "$f" ] && { field "$(readlink "$f")"; echo "$field"; }
echo @@securekind; logpath_kind "$s"; echo $?
echo @@secure; logpath_kind "$s" && filesize "$s"
# The log's directory may not exist yet: walk up to one that does, then resolve it. cd -P and
# $PWD are the shell's own (the same physical path as readlink -f for a directory) and cost the
# host no process; the script runs in its own subshell, so the directory change stays there.
d=${f%/*}; while [ ! -d "${d:-/}" ]; do d=${d%/*}; done; d=${d:-/}
r=$d; cd -P "$d" 2>/dev/null && r=$PWD
t=/tmp; cd -P /tmp 2>/dev/null && t=$PWD
field "$r"; echo @@resolved; echo "$field"
field "$t"; echo @@resolvedtmp; echo "$field"
echo @@ramdisks; { localcli system visorfs ramdisk list || esxcli system visorfs ramdisk list; } 2>/dev/null; k=$?; echo; echo "@@rc $k"
echo @@vdf; vdf 2>/dev/null; v=$?; echo; echo "@@rc $v"
# Only vdf -h's layout is on record (header "Ramdisk Size Used Available Use% Mounted on"); vdf's
# block header is unverified, so both: the parser takes exact rows first, rounded ones otherwise.
echo @@vdfh; vdf -h 2>/dev/null; v=$?; echo; echo "@@rc $v"
case $r in
  /vmfs/volumes/*)
    # /bin/df by its path first: a BusyBox ash built with standalone applets runs its own df for
    # a bare "df", whatever df the host installed (ESXi's prints bytes; where it lives is
    # unverified, hence the fallback). The parser reads either header.
    echo @@df; out=$({ /bin/df || df; } 2>/dev/null); a=$?; field "$out"; echo "$field"; echo "@@rc $a"
    echo @@statf; stat -f -c '%S %b %f %a' "$r" 2>/dev/null; echo "@@rc $?";;
esac
if [ $k != 0 ]; then
  echo @@statfpath; stat -f -c '%S %b %f %a' "$r" 2>/dev/null; echo "@@rc $?"
  echo @@dfkpath; df -k "$r" 2>/dev/null; echo "@@rc $?"
  echo @@statftmp; stat -f -c '%S %b %f %a' "$t" 2>/dev/null; echo "@@rc $?"
  echo @@dfktmp; df -k "$t" 2>/dev/null; echo "@@rc $?"
fi
# Task directories are counted by the task-id rule (taskdir.sh), so each line is a plain path;
# find's patterns spell the same rule (a name after the prefix, of hex digits and dashes only).
echo @@tasks; for x in /tmp/vmkfstools-wrapper-*; do taskdir_id "${x#/tmp/vmkfstools-wrapper-}" && [ -d "$x" ] && echo "$x"; done
echo @@stale; find /tmp -maxdepth 1 -type d -name 'vmkfstools-wrapper-?*' ! -name 'vmkfstools-wrapper-*[!0-9a-fA-F-]*' -mtime +5 2>/dev/null
echo @@vib; for p in /opt/redhat/vmkfstools-wrapper /usr/lib/vmware/esxcli/ext/esxcli-vmkfstools.xml; do [ -e "$p" ] && echo "$p"; done; echo "@@rc 0"
echo @@end
