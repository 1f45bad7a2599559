# Take the crontab edit lock "$1" (mkdir is atomic) for owner token "$2"; a lock older than "$3"
# seconds is left over by a dead client and taken over. Prints acquired, stale-taken or busy.
l=$1
if mkdir "$l" 2>/dev/null; then echo "$2" > "$l/owner" 2>/dev/null; echo acquired; exit 0; fi
now=$(date +%s); m=$(stat -c %Y "$l" 2>/dev/null || echo "$now")
if [ $((now - m)) -gt "$3" ]; then
  mv "$l" "$l.stale.$$" 2>/dev/null && rm -rf "$l.stale.$$"
  if mkdir "$l" 2>/dev/null; then echo "$2" > "$l/owner" 2>/dev/null; echo stale-taken; exit 0; fi
fi
echo busy
