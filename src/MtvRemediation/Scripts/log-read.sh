# Clear-VmkfstoolsWrapperLog: bytes of the log for the archive, its hash and the kept tail.
# "$1" log, "$2" offset in MiB, "$3" whole MiB to read, "$4" bytes after them, "$5" what to do
# with them: "" (raw), gzip, sha256sum, md5sum, or tail-bytes ("$6" lines: the size of the last
# "$6" lines). Two dd reads from one descriptor, whole MiBs then the rest: BusyBox `head -c`
# copies in small pieces (1.6 s per 512 MiB here, dd 0.4 s), and dd's iflag=count_bytes is too
# new for every ESXi build. A file that shrank meanwhile yields fewer bytes (the caller checks).
# Exit 4: nothing there; exit 9: refused by the log-path rule.
# @include logpath.sh
logpath_kind "$1"; k=$?
[ $k = 1 ] && exit 4
[ $k = 0 ] || { echo "logpath_kind $k" >&2; exit 9; }
read_range() {
  dd bs=1048576 skip="$1" count="$2" 2>/dev/null
  if [ "$3" -gt 0 ]; then dd bs="$3" count=1 2>/dev/null; fi
}
case $5 in
  gzip) read_range "$2" "$3" "$4" < "$1" | gzip -c;;
  sha256sum) read_range "$2" "$3" "$4" < "$1" | sha256sum;;
  md5sum) read_range "$2" "$3" "$4" < "$1" | md5sum;;
  tail-bytes) read_range "$2" "$3" "$4" < "$1" | tail -n "$6" | wc -c;;
  *) read_range "$2" "$3" "$4" < "$1";;
esac
