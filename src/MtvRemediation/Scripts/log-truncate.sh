# Clear-VmkfstoolsWrapperLog: truncate the log "$1" in place (same inode: the wrapper's open
# descriptor keeps working) and write back the first piece "$3" of the kept tail in the same
# command. "$2": the size the log must still have ("" = do not check). Exit 3: the log changed
# size (fetch again); 4: nothing there; 9: refused by the log-path rule; 5: truncation failed.
# @include logpath.sh
# @include filesize.sh
logpath_kind "$1"; k=$?
[ $k = 1 ] && exit 4
[ $k = 0 ] || { echo "logpath_kind $k" >&2; exit 9; }
# Append descriptor for the write-back, opened before the truncation (no open between it and
# the first piece, so a writer can slip its line in front of the kept tail only in that gap).
exec 4>>"$1" || exit 5
if [ -n "$2" ]; then
  # Shrunk or grown since the tail was fetched (stat forks: a writer can still append after it).
  [ "$(filesize "$1")" -ne "$2" ] && exit 3
  # The last look, without a fork: a descriptor at byte $2 must be at the end of the file. dd
  # only seeks the shared descriptor (count=0 copies nothing). Between this read and the
  # truncation there is no process start, only the shell's own few system calls; a line written
  # in that gap is still lost (sh has no compare-and-truncate), see LogClearEngine.
  exec 3<"$1" || exit 5
  dd bs=1 skip="$2" count=0 <&3 2>/dev/null || exit 5
  if IFS= read -r line <&3 || [ -n "$line" ]; then exit 3; fi
fi
# The truncation and the first piece go together even when the client dies in between.
trap '' HUP INT TERM PIPE
: > "$1" || exit 5
[ -z "$3" ] && exit 0
# The format is the data: RemoteOps.PrintfChunks' octal escapes, no conversion specifiers.
# shellcheck disable=SC2059
printf "$3" >&4
