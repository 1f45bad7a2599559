# Clear-VmkfstoolsWrapperLog: the log's size now ("$1" the log). Exit 4: nothing there;
# exit 9: refused by the log-path rule (the kind on stderr).
# @include logpath.sh
# @include filesize.sh
logpath_kind "$1"; k=$?
[ $k = 1 ] && exit 4
[ $k = 0 ] || { echo "logpath_kind $k" >&2; exit 9; }
filesize "$1"
