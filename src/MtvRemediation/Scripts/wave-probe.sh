# Test-MtvWaveReadiness: the wrapper inventory and the host's readiness facts in one command
# (one SSH round trip beside the space probe). $1 as for wrapper-inventory.sh.
# Sections after the inventory's (HostReadinessFacts parses them):
#   @@esxcli    'ok' then the rows of 'esxcli esxcli command list' in the vmkfstools namespace,
#               or 'failed <first line of its output>': whether hostd loaded the wrapper's plugin
#   @@hostdtmp  'group <id>' then 'vsish -e get /sched/groups/<id>/memAllocation' as printed;
#               'novsish' or 'nogroup' when it cannot be read (hostd-tmp-group.sh)
#   @@hostdtmprecord  Set-EsxiHostdTmpMemory's record, when a raise is to be put back
#   @@polls     bytes<TAB>lines of the Python wrapper's log and how many of them are its per-poll
#               'XCOPY used: ' line (vmkfstools_wrapper.py@v2.10.4), to size the growth per poll
# @include wrapper-inventory.sh
# @include hostd-tmp-group.sh
echo @@esxcli
if out=$(esxcli esxcli command list 2>&1); then
  echo ok
  printf '%s\n' "$out" | grep '^vmkfstools ' | head -n 20
else
  echo "failed $(printf '%s\n' "$out" | head -n 1 | head -c 300)"
fi
echo @@hostdtmp
group=$(hostd_tmp_group); found=$?
if [ $found = 2 ]; then
  echo novsish
elif [ $found != 0 ]; then
  echo nogroup
else
  echo "group $group"
  vsish -e get "/sched/groups/$group/memAllocation" 2>&1 | head -n 40
fi
# Set-EsxiHostdTmpMemory's record of the value before its raise (HostdTmpMemory.RecordPath).
echo @@hostdtmprecord
[ -f /var/run/mtvremediation-hostd-tmp ] && head -n 41 /var/run/mtvremediation-hostd-tmp
echo @@polls
log=/var/log/vmkfstools-wrapper.log
if logpath_kind "$log"; then
  printf '%s\t%s\n' "$(stat -c %s "$log" 2>/dev/null || wc -c < "$log")" "$(grep -c -F 'XCOPY used: ' "$log")"
fi
echo @@readiness-end
