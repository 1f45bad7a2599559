# filesize FILE: its size in bytes. stat -c first: BusyBox `wc -c` reads the whole file (1 s per
# 512 MiB here); wc -c only where stat lacks -c. Callers check the path with logpath_kind first.
filesize() { stat -c %s "$1" 2>/dev/null || wc -c < "$1"; }
