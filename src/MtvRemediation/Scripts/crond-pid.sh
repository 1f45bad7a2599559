# The live crond's pid from the pid file "$1" (an empty line when it is not running), then "stale"
# when the crontab "$2" changed after that crond started: ESXi's crond is reloaded to read a change
# (docs/field-sources.md#4-cron-on-esxi), so a change written by a run that died before its reload
# is not active yet. The record "$3" says so: our edits write it before their rename and a reload
# that succeeded removes it. A crontab newer than the pid file says so too (an edit by hand, or by
# 0.1.0, which wrote no record): BusyBox crond writes its pid file once, at start (the same on ESXi
# is unverified), and `find -newer` compares whole seconds, so this check alone misses a change in
# the second crond started.
p=$(cat "$1" 2>/dev/null)
if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then
  echo "$p"
  if [ -e "$3" ] || [ -n "$(find "$2" -newer "$1" 2>/dev/null)" ]; then echo stale; fi
else
  echo
fi
exit 0
