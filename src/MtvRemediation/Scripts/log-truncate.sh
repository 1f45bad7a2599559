# Clear-VmkfstoolsWrapperLog: truncate the log "$1" in place (same inode: the wrapper's open
# descriptor keeps working) and write back the first piece "$3" of the kept tail in the same
# command. "$2": the size the log must still have ("" = do not check). Exit 3: the log changed
# size (fetch again); 4: nothing there; 9: refused by the log-path rule; 5: truncation failed.
# @include logpath.sh
# @include filesize.sh
logpath_kind "$1"; k=$?
[ $k = 1 ] && exit 4
[ $k = 0 ] || { echo "logpath_kind $k" >&2; exit 9; }
if [ -n "$2" ] && [ "$(filesize "$1")" -ne "$2" ]; then exit 3; fi
: > "$1" || exit 5
[ -z "$3" ] && exit 0
# The format is the data: RemoteOps.PrintfChunks' octal escapes, no conversion specifiers.
# shellcheck disable=SC2059
printf "$3" >> "$1"
