# Test-MtvWaveReadiness: the wrapper inventory and the host's readiness facts in one command
# (one SSH round trip beside the space probe). $1 as for wrapper-inventory.sh.
# Sections after the inventory's (ReadinessFacts parses them):
#   @@esxcli    'ok' then the rows of 'esxcli esxcli command list' in the vmkfstools namespace,
#               or 'failed <first line of its output>': whether hostd loaded the wrapper's plugin
#   @@hostdtmp  'group <id>' then 'vsish -e get /sched/groups/<id>/memAllocation' as printed;
#               'novsish' or 'nogroup' when it cannot be read. The group is found as forklift's
#               tweak-esxi-mem.sh finds it (v2.12.5): each id of 'vsish -e ls /sched/groups'
#               (printed with a trailing slash) whose groupName is hostd-tmp.
# @include wrapper-inventory.sh
echo @@esxcli
if out=$(esxcli esxcli command list 2>&1); then
  echo ok
  printf '%s\n' "$out" | grep '^vmkfstools ' | head -n 20
else
  echo "failed $(printf '%s\n' "$out" | head -n 1 | head -c 300)"
fi
echo @@hostdtmp
if ! command -v vsish >/dev/null 2>&1; then
  echo novsish
else
  group=
  for i in $(vsish -e ls /sched/groups 2>/dev/null); do
    if [ "$(vsish -e get "/sched/groups/${i}groupName" 2>/dev/null)" = hostd-tmp ]; then group=${i%/}; break; fi
  done
  if [ -z "$group" ]; then
    echo nogroup
  else
    echo "group $group"
    vsish -e get "/sched/groups/$group/memAllocation" 2>&1 | head -n 40
  fi
fi
echo @@readiness-end
