# Get-VmkfstoolsWrapper: what the MTV vmkfstools-wrapper left on this host, read-only.
# $1: bytes of each task directory's err file to send (vmkfstools' stderr: the 7228/327689 text).
# Sections (WrapperInventory parses them; forklift sources in its comments). Every text that comes
# from the host (a file name, a file's content, a tool's output) is a field of field.sh: one
# field a line or a column, so no name or content can start a record or a section.
#   @@vib      one field: the wrapper's rows of 'esxcli software vib list'
#   @@payload  one field: interpreter line and SCRIPT_VERSION line of /opt/redhat/vmkfstools-wrapper
#   @@plugin   the esxcli plugin descriptor's path, when present
#   @@secure   path<TAB>version line of every SSH-method script on a datastore (by real path, once)
#   @@keys     one field: line number<TAB>command="..." option of restricted root keys that run it
#   @@logs     path<TAB>bytes<TAB>mtime of the wrapper's own log files
#   @@tasks    T<TAB>id<TAB>mtime<TAB>bytes<TAB>pid<TAB>alive<TAB>exitcode<TAB>rdmfile<TAB>err (at
#              most $1 bytes) per task directory
#   @@unrecognized  how many /tmp/vmkfstools-wrapper-* directories have no task id as their name
# @include field.sh
# @include wrapper-payload.sh
# @include logpath.sh
# @include taskdir.sh
errbytes=$1
echo @@vib
field "$({ esxcli software vib list 2>/dev/null || localcli software vib list 2>/dev/null; } | grep -F vmkfstools-wrapper)"; echo "$field"
echo @@payload
field "$(wrapper_payload)"; echo "$field"
echo @@plugin
[ -f /usr/lib/vmware/esxcli/ext/esxcli-vmkfstools.xml ] && echo /usr/lib/vmware/esxcli/ext/esxcli-vmkfstools.xml
echo @@secure
# ESXi shows a datastore twice, as its UUID directory and its label's link to it: each script once,
# by its real path, named through the label (the name an admin knows) when there is one.
seen=' '
for by in label uuid; do
  for f in /vmfs/volumes/*/secure-vmkfstools-wrapper*; do
    [ -f "$f" ] || continue
    if [ -L "${f%/*}" ]; then [ $by = label ] || continue; else [ $by = uuid ] || continue; fi
    real=$(readlink -f "$f" 2>/dev/null) || real=$f
    case $seen in *" $real "*) continue;; esac
    seen="$seen$real "
    field "$f"; path=$field
    field "$(grep '^SCRIPT_VERSION' "$f" 2>/dev/null | head -n 1)"
    printf '%s\t%s\n' "$path" "$field"
  done
done
echo @@keys
keys=
# The option's value runs to the first quote not escaped by a backslash: from 2.10 on it is a
# whole sh -c script with \" inside (pkg/lib/util/sshutils.go, RestrictedSSHCommandTemplate).
[ -f /etc/ssh/keys-root/authorized_keys ] && keys=$(grep -n 'secure-vmkfstools-wrapper' /etc/ssh/keys-root/authorized_keys | sed 's/^\([0-9]*\):\(command="[^"\\]*\(\\.[^"\\]*\)*"\).*/\1\t\2/')
[ -z "$keys" ] || { field "$keys"; echo "$field"; }
echo @@logs
for f in /var/log/vmkfstools-wrapper.log /var/log/secure-vmkfstools-wrapper.log; do
  [ -f "$f" ] || continue
  # size and mtime in one process; where stat lacks -c, the size alone (wc) and no mtime
  sm=$(stat -c '%s %Y' "$f" 2>/dev/null) || sm="$(wc -c < "$f") "
  printf '%s\t%s\t%s\n' "$f" "${sm%% *}" "${sm#* }"
done
echo @@tasks
# A task directory's files are read by the one path rule (logpath_kind 0: a regular file, not a
# link): a FIFO would block the read, a link could name any file of the host (a root-only one too).
unrecognized=0
for d in /tmp/vmkfstools-wrapper-*; do
  if [ ! -d "$d" ] || [ -L "$d" ]; then continue; fi
  id=${d#/tmp/vmkfstools-wrapper-}
  if ! taskdir_id "$id"; then unrecognized=$((unrecognized + 1)); continue; fi
  pid=
  logpath_kind "$d/pid" && pid=$(head -c 32 "$d/pid" 2>/dev/null | tr -cd '0-9')
  alive=0
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && alive=1
  code=-
  logpath_kind "$d/exitcode" && code=$(head -c 32 "$d/exitcode" | tr -cd '0-9-')
  # One stat for the directory's mtime and every file's size (a process per file is the loop's
  # main cost on a host with hundreds of task directories); wc -c where stat lacks -c.
  set --
  for f in "$d"/* ; do logpath_kind "$f" && set -- "$@" "$f"; done
  mtime='' bytes=0 k=0
  if sm=$(stat -c '%Y %s' "$d" "$@" 2>/dev/null); then
    mtime=${sm%% *}
    for w in $sm; do k=$((k + 1)); if [ $k -gt 2 ] && [ $((k % 2)) = 0 ]; then bytes=$((bytes + w)); fi; done
  else
    # A file the wrapper removed meanwhile counts nothing (an empty $(( )) operand would end the script).
    for f in "$@"; do n=$(wc -c 2>/dev/null < "$f") && bytes=$((bytes + n)); done
  fi
  rdm=
  logpath_kind "$d/rdmfile" && rdm=$(head -n 1 "$d/rdmfile" 2>/dev/null | head -c 1024)
  field "$rdm"
  # The id, the numbers (tr -cd, stat) and the field hold no tab, line break or '@'.
  printf 'T\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t' "$id" "$mtime" "$bytes" "$pid" "$alive" "$code" "$field"
  if logpath_kind "$d/err" && [ -s "$d/err" ]; then head -c "$errbytes" "$d/err" | field_encode; fi
  echo
done
echo @@unrecognized
echo "$unrecognized"
echo @@end
