# Remove-VmkfstoolsWrapperTaskDirectory: removes the named clone task directories in /tmp, each
# only if it is still a real directory (not a symlink), its task's process is gone and it is older
# than $1 seconds; checked again here, right before rm, whatever the client saw earlier.
# $1: minimum age in seconds; $2: bytes of err to report; $3...: task ids (/tmp/vmkfstools-wrapper-<id>).
# Per id: C<TAB>id<TAB>exitcode and E<TAB>id<TAB>line (err) before R<TAB>id (removed), or
# S<TAB>id<TAB>why (skipped), or F<TAB>id<TAB>error (rm failed). @@end when done.
minage=$1; errbytes=$2; shift 2
now=$(date +%s)
for id in "$@"; do
  case $id in ''|*[!0-9a-fA-F-]*) printf 'S\t%s\tnot a task id\n' "$id"; continue;; esac
  d=/tmp/vmkfstools-wrapper-$id
  if [ -L "$d" ] || [ ! -d "$d" ]; then printf 'S\t%s\tno longer a directory\n' "$id"; continue; fi
  pid=$(head -c 32 "$d/pid" 2>/dev/null | tr -cd '0-9')
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then printf 'S\t%s\trunning (pid %s)\n' "$id" "$pid"; continue; fi
  mt=$(stat -c %Y "$d" 2>/dev/null) || mt=$now
  if [ $((now - mt)) -lt "$minage" ]; then printf 'S\t%s\tnewer than the age limit\n' "$id"; continue; fi
  code=-
  [ -f "$d/exitcode" ] && code=$(head -c 32 "$d/exitcode" | tr -cd '0-9-')
  printf 'C\t%s\t%s\n' "$id" "$code"
  if [ -s "$d/err" ]; then head -c "$errbytes" "$d/err" | awk -v id="$id" '{ print "E\t" id "\t" $0 }'; fi
  if out=$(rm -rf "$d" 2>&1); then printf 'R\t%s\n' "$id"; else printf 'F\t%s\t%s\n' "$id" "$out" | head -n 1; fi
done
echo @@end
