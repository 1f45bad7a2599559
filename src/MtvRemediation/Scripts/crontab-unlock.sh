# Release the crontab edit lock "$1" if it is still ours (token "$2"): a stale takeover may have
# given it to someone else. An empty owner file is ours too: on a full /var the mkdir succeeds
# but writing the token does not.
l=$1
o=$(cat "$l/owner" 2>/dev/null)
if [ "$o" = "$2" ] || [ -z "$o" ]; then rm -rf "$l"; fi
