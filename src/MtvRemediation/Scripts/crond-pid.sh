# The live crond's pid from the pid file "$1" (an empty line when it is not running), then "stale"
# when the crontab "$2" changed after that crond started: ESXi's crond is reloaded to read a change
# (docs/field-sources.md#4-cron-on-esxi), so a change written by a run that died before its reload
# is not active yet. BusyBox crond writes its pid file once, at start; that ESXi's does the same is
# unverified (were it rewritten later, a stale crontab would read as loaded: the reload is missed).
p=$(cat "$1" 2>/dev/null)
if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then
  echo "$p"
  if [ -n "$(find "$2" -newer "$1" 2>/dev/null)" ]; then echo stale; fi
else
  echo
fi
exit 0
