# Restart-EsxiAgents: runs one management agent's ESXi init script (/etc/init.d/<agent>
# restart|status, one agent at a time, never services.sh: docs/field-sources.md#5-management-agents).
# $1 = exists | restart | status, $2 = the init script's path. The exit status is the script's.
action=$1
script=$2
case $action in
  exists) [ -x "$script" ] ;;
  restart)
    # Never cut in half (a stopped agent that is never started again): ignore the hang-up and write
    # to a file while the init script runs, so a dropped SSH connection cannot stop it half-way.
    trap '' HUP PIPE
    out=/tmp/mtvremediation-agent-restart.$$
    "$script" restart >"$out" 2>&1
    rc=$?
    cat "$out"
    rm -f "$out"
    exit "$rc" ;;
  status) "$script" status 2>&1 ;;
  *) echo "agent-init.sh: unknown action '$action'" >&2; exit 2 ;;
esac
