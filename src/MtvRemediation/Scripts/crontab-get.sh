# Get-LogRotationCron and the host read, in one round trip: the live crond's pid from the pid file
# "$1" on the first line (empty when crond is not running), then the crontab "$2" byte for byte
# (nothing when there is none). Exit 2: something that is not a regular file is at "$2".
p=$(cat "$1" 2>/dev/null) && kill -0 "$p" 2>/dev/null && printf '%s' "$p"
echo
f=$2
if [ -f "$f" ] && [ ! -L "$f" ]; then
  cat "$f"
elif [ -e "$f" ] || [ -L "$f" ]; then
  echo "$f exists but is not a regular file" >&2; exit 2
fi
