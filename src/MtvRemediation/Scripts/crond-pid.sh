# The live crond's pid from the pid file "$1" (an empty line when it is not running), then "stale"
# when the crontab "$2" changed after that crond started (the pid file is written at its start):
# ESXi's crond reads the crontab when it starts, so a change written by a run that died before its
# reload is not active yet (docs/field-sources.md#4-cron-on-esxi).
p=$(cat "$1" 2>/dev/null)
if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then
  echo "$p"
  if [ -n "$(find "$2" -newer "$1" 2>/dev/null)" ]; then echo stale; fi
else
  echo
fi
exit 0
