# hostd_tmp_group: the id of the hostd-tmp resource group, found as forklift's tweak-esxi-mem.sh
# (v2.12.5) finds it: each entry of 'vsish -e ls /sched/groups' (an id with a trailing slash) whose
# groupName is hostd-tmp. Returns 2 without vsish, 1 when no group has that name.
hostd_tmp_group() {
  command -v vsish >/dev/null 2>&1 || return 2
  for i in $(vsish -e ls /sched/groups 2>/dev/null); do
    if [ "$(vsish -e get "/sched/groups/${i}groupName" 2>/dev/null)" = hostd-tmp ]; then echo "${i%/}"; return 0; fi
  done
  return 1
}
