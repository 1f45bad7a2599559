# Clear-VmkfstoolsWrapperLog: everything from byte "$2" (1-based) to the end of the log "$1":
# the part to keep. tail -c +N seeks on a regular file. Exit 4: nothing there; exit 9: refused.
# @include logpath.sh
logpath_kind "$1"; k=$?
[ $k = 1 ] && exit 4
[ $k = 0 ] || { echo "logpath_kind $k" >&2; exit 9; }
tail -c +"$2" "$1"
