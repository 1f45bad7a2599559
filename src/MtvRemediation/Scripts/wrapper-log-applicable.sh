# Clear-VmkfstoolsWrapperLog / Register-LogRotationCron pre-check: which wrapper generation is
# installed (its payload's interpreter and SCRIPT_VERSION lines: no esxcli call, which takes
# seconds on a real host), and is there a log file to act on? $1: the log path of the cmdlet.
# Prints: payload<TAB>first line<TAB>SCRIPT_VERSION line, then log<TAB>bytes (-1: no such file).
payload=/opt/redhat/vmkfstools-wrapper
first=''
ver=''
if [ -f "$payload" ]; then first=$(head -n 1 "$payload"); ver=$(grep '^SCRIPT_VERSION' "$payload" | head -n 1); fi
printf 'payload\t%s\t%s\n' "$first" "$ver"
if [ -f "$1" ]; then printf 'log\t%s\n' "$(stat -c %s "$1" 2>/dev/null || wc -c < "$1")"; else printf 'log\t-1\n'; fi
