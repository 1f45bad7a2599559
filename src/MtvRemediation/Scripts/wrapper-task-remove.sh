# Remove-VmkfstoolsWrapperTaskDirectory: removes the named clone task directories in /tmp, each
# only if it is still a real directory (not a symlink), its task's process is gone and it is older
# than $1 seconds; checked again here, right before rm, whatever the client saw earlier.
# $1: minimum age in seconds; $2: bytes of err to report; $3...: task ids (/tmp/vmkfstools-wrapper-<id>).
# Per id: C<TAB>id<TAB>exitcode and E<TAB>id<TAB>err (one field of field.sh) before R<TAB>id
# (removed), or S<TAB>id<TAB>why (skipped), or F<TAB>id<TAB>error (rm failed, a field). An id
# that is not a task id (hex digits and dashes) is printed as a field. @@end when done.
# @include field.sh
minage=$1; errbytes=$2; shift 2
now=$(date +%s)
for id in "$@"; do
  case $id in ''|*[!0-9a-fA-F-]*) field "$id"; printf 'S\t%s\tnot a task id\n' "$field"; continue;; esac
  d=/tmp/vmkfstools-wrapper-$id
  if [ -L "$d" ] || [ ! -d "$d" ]; then printf 'S\t%s\tno longer a directory\n' "$id"; continue; fi
  pid=$(head -c 32 "$d/pid" 2>/dev/null | tr -cd '0-9')
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then printf 'S\t%s\trunning (pid %s)\n' "$id" "$pid"; continue; fi
  mt=$(stat -c %Y "$d" 2>/dev/null) || mt=$now
  if [ $((now - mt)) -lt "$minage" ]; then printf 'S\t%s\tnewer than the age limit\n' "$id"; continue; fi
  code=-
  [ -f "$d/exitcode" ] && code=$(head -c 32 "$d/exitcode" | tr -cd '0-9-')
  printf 'C\t%s\t%s\n' "$id" "$code"
  if [ -s "$d/err" ]; then printf 'E\t%s\t' "$id"; head -c "$errbytes" "$d/err" | field_encode; echo; fi
  if out=$(rm -rf "$d" 2>&1); then printf 'R\t%s\n' "$id"; else field "$out"; printf 'F\t%s\t%s\n' "$id" "$field"; fi
done
echo @@end
