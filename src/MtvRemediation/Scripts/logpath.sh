# The one rule for what a log path may be: the probe, the clear, the archive and the rotation
# cron job all decide through logpath_kind, so they can never disagree about a path (the wrapper
# inventory reads a task directory's files by it too).
# A log is a regular file AT the path. The directories on the way may be symlinks (ESXi 7/8:
# /var/log -> /scratch/log -> /vmfs/volumes/<OSDATA uuid>/log, install guide "system storage");
# the last component may not: `stat -c %s` measures a link as itself while `[ -f ]`, `tail`,
# `dd <` and `: >` follow it, so a link there (to a VMDK descriptor, /etc/passwd) would be
# reported healthy and then damaged. The link test comes first: `[ -e ]` follows links.
# Returns 0 regular file, 1 nothing there, 2 symlink, 3 anything else (directory, fifo, device).
# One line on purpose: the cron job's command carries this very text on its crontab line.
logpath_kind() { if [ -L "$1" ]; then return 2; elif [ ! -e "$1" ]; then return 1; elif [ -f "$1" ]; then return 0; else return 3; fi; }
