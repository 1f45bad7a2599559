# The live crond's pid from the pid file "$1" (nothing when it is not running).
p=$(cat "$1" 2>/dev/null) && kill -0 "$p" 2>/dev/null && echo "$p"
exit 0
