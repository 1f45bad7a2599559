# Crontab edit, step 3: check the temp file "$1" (length "$3", md5 "$4"), then check that the
# crontab "$2" is still the one we read ("$5": its md5, or "missing"), and only then rename the
# temp file over it (atomic: crond never sees a half-written crontab). Exit 6: the temp file is
# not what we sent; exit 10: the crontab changed since we read it (an admin or another tool):
# nothing is replaced, so their edit is never overwritten. The re-check runs right before the mv
# (the lock keeps other MtvRemediation runs out; other editors could only slip into that instant).
t=$1 f=$2
[ "$(wc -c < "$t")" -eq "$3" ] || exit 6
[ "$(md5sum < "$t" | cut -d' ' -f1)" = "$4" ] || exit 6
if [ "$5" = missing ]; then
  if [ -e "$f" ] || [ -L "$f" ]; then exit 10; fi
else
  [ "$(md5sum < "$f" 2>/dev/null | cut -d' ' -f1)" = "$5" ] || exit 10
fi
mv -f "$t" "$f"
