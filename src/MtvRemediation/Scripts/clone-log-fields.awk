# Opens the main rule of clone-log-scan.awk and clone-log-repeats.awk (included at their top): a
# `grep -n` line is split into its number n and text t, and with -Since (awk variable since,
# 'yyyy-MM-dd HH:mm:ss') a line whose leading timestamp is older is skipped. The leading forms:
# the Python wrappers' "2026-11-25 10:00:00,123 - ...", ESXi 8's syslog "2026-11-25T10:00:00.123Z
# In(14) ..." (every line of a multi-line message has its own, marked "In(14)+") and ESXi 7's
# "2026-11-25T10:00:00Z prog[pid]: ..." (docs/field-sources.md section 3). A line without one is kept.
{ i = index($0, ":"); n = substr($0, 1, i - 1); t = substr($0, i + 1)
  if (since != "") { ts = substr(t, 1, 19); sub(/T/, " ", ts)
    if (ts ~ /^[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] [0-9][0-9]:[0-9][0-9]:[0-9][0-9]$/ && ts < since) next }
