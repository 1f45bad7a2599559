# Clear-VmkfstoolsWrapperLog: append the next piece "$2" of the kept tail to the log "$1",
# only while the path still passes the log-path rule (exit 9 otherwise).
# @include logpath.sh
logpath_kind "$1" || { echo "logpath_kind $?" >&2; exit 9; }
# The format is the data: RemoteOps.PrintfChunks' octal escapes, no conversion specifiers.
# shellcheck disable=SC2059
printf "$2" >> "$1"
