# ESXi's crond reload: kill the crond in the pid file "$1", wait for it to exit,
# start BusyBox crond ("$2" the busybox binary), wait for a new live pid in the pid file; print it
# and remove the reload-pending record "$3" (crond has read the crontab now).
# BusyBox crond runs jobs with $SHELL, so it is pinned to /bin/sh (root's shell on ESXi).
# Sources: docs/field-sources.md#4-cron-on-esxi.
p=$1
old=$(cat "$p" 2>/dev/null)
# A killed crond can linger as a zombie until its parent reaps it: where /proc exists, a zombie counts as gone.
if [ -n "$old" ] && kill "$old" 2>/dev/null; then
  i=0
  while kill -0 "$old" 2>/dev/null && [ "$(cut -d' ' -f3 "/proc/$old/stat" 2>/dev/null)" != Z ] && [ $i -lt 50 ]; do
    sleep 0.1 2>/dev/null || sleep 1; i=$((i+1))
  done
fi
SHELL=/bin/sh "$2" crond </dev/null >/dev/null 2>&1
i=0
while [ $i -lt 50 ]; do
  new=$(cat "$p" 2>/dev/null)
  if [ -n "$new" ] && [ "$new" != "$old" ] && kill -0 "$new" 2>/dev/null; then rm -f "$3"; echo "$new"; exit 0; fi
  sleep 0.1 2>/dev/null || sleep 1; i=$((i+1))
done
echo "old=$old new=$new" >&2
exit 8
