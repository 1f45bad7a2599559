# Register/Unregister/Get-LogRotationCron: mode, owner, size and md5 of the crontab "$1" (read
# under the lock; the bytes follow with cat). "missing" when there is none. Exit 2: something that
# is not a regular file is there (a directory: a later mv would write into it).
f=$1
if [ -f "$f" ] && [ ! -L "$f" ]; then
  stat -c '%a %u:%g %s' "$f" && md5sum < "$f"
elif [ -e "$f" ] || [ -L "$f" ]; then
  echo "$f exists but is not a regular file" >&2; exit 2
else
  echo missing
fi
