# Crontab edit, step 2: append the next piece "$2" (RemoteOps.PrintfChunks) to the temp file "$1".
[ -f "$1" ] || exit 6
# The format is the data: octal escapes, no conversion specifiers.
# shellcheck disable=SC2059
printf "$2" >> "$1"
