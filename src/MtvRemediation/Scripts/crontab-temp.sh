# Crontab edit, step 1: create the temp file "$1" empty, already with the crontab's final mode
# "$2" and owner "$3", so no moment exists where it has other permissions. A dot in its name:
# BusyBox crond skips such files, so it never loads the half-written temp file.
(umask 077 && : > "$1") || exit 7
chmod "$2" "$1" || exit 7
chown "$3" "$1" 2>/dev/null
exit 0
