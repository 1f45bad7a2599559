# Unregister's step when our Register created the crontab "$1" and it now holds nothing else:
# remove it, so it is missing again as before. It was read as "$3" bytes with md5 "$2"; what the
# rename takes away is compared with that, and a crontab written meanwhile goes back (exit 10).
# "$4" is the host's reload-pending record (CronPaths.ReloadPending), written before the rename.
trap '' HUP INT TERM PIPE   # a client that dies mid-way must not stop the host between the steps
f=$1 g=$1.mtv-gone.$$
touch "$4" 2>/dev/null
mv -f "$f" "$g" || exit 7
sleep 0.05 2>/dev/null || sleep 1   # a write begun before the rename ends
if [ "$(wc -c < "$g")" -eq "$3" ] && [ "$(md5sum < "$g" | cut -d' ' -f1)" = "$2" ]; then
  rm -f "$g"
  exit 0
fi
# Written meanwhile: it goes back; a crontab created meanwhile gets its bytes after its own.
if [ -e "$f" ]; then cat "$g" >> "$f" && rm -f "$g"; else mv -f "$g" "$f"; fi
exit 10
