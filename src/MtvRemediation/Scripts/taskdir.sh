# taskdir_id NAME: true when NAME (what follows /tmp/vmkfstools-wrapper-) is a task id. The
# wrappers name task directories by a UUID, hex digits and dashes (docs/field-sources.md#2-the-vmkfstools-wrapper);
# any other name is not a task's, and a newline, tab or '@@' in it would break the lines of our output.
taskdir_id() { case $1 in ''|*[!0-9a-fA-F-]*) return 1;; esac; }
