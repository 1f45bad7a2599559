# Set-EsxiHostdTmpMemory / Restore-EsxiHostdTmpMemory: forklift's runtime raise of the hostd-tmp
# group's memory max (tweak-esxi-mem.sh, v2.12.5: vsish -e set /sched/groups/<id>/memAllocation
# max=<KB>; lost at reboot), with the previous value kept on the host in a record written BEFORE
# the change, so that the restore after the wave works from any workstation, even when the client
# that raised it died. The record lives on a ramdisk (/var/run), gone at reboot like the raise.
# $1 read|raise|restore, $2 the record's path, $3 the max in KB (raise: the new value; restore: the
# recorded previous value, checked by the caller). Sections (HostdTmpMemory parses them):
#   @@group (then the id) | @@nogroup | @@novsish
#   @@before      'vsish -e get .../memAllocation' as printed
#   @@record      the record: 'group <id>', then the memAllocation output before the first raise
#   @@after       the same read after the change
#   @@failed      (then what failed)
# @include hostd-tmp-group.sh
mode=$1 record=$2 kb=${3:-}
group=$(hostd_tmp_group); found=$?
if [ $found = 2 ]; then echo @@novsish; exit 0; fi
if [ $found != 0 ]; then echo @@nogroup; exit 0; fi
printf '@@group\n%s\n' "$group"
node=/sched/groups/$group/memAllocation
before=$(vsish -e get "$node" 2>&1 | head -n 40)
echo @@before
printf '%s\n' "$before"
case $mode in
  raise)
    # The first raise keeps the value to put back; a second one must not replace it.
    if [ ! -f "$record" ]; then
      if ! { echo "group $group"; printf '%s\n' "$before"; } > "$record.tmp" || ! mv -f "$record.tmp" "$record"; then
        printf '@@failed\nwriting %s\n' "$record"; exit 1
      fi
    fi
    vsish -e set "$node" "max=$kb" >/dev/null 2>&1 || { printf '@@failed\nvsish -e set %s max=%s\n' "$node" "$kb"; exit 1; };;
  restore)
    [ -f "$record" ] || { echo @@record; exit 0; }
    vsish -e set "$node" "max=$kb" >/dev/null 2>&1 || { printf '@@failed\nvsish -e set %s max=%s\n' "$node" "$kb"; exit 1; }
    rm -f "$record" || { printf '@@failed\nremoving %s\n' "$record"; exit 1; };;
esac
echo @@record
[ -f "$record" ] && head -n 41 "$record"
echo @@after
vsish -e get "$node" 2>&1 | head -n 40
echo @@end
