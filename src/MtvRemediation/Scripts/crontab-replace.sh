# Crontab edit, step 3: check the temp file "$1" (length "$3", md5 "$4"), then put it in place of
# the crontab "$2", which was read as "$6" bytes with md5 "$5" ("missing": there was none).
# "$7" is the host's reload-pending record (CronPaths.ReloadPending), written before the rename.
# Others may write the crontab meanwhile, and none of their bytes may be lost: an admin's vi or
# `echo >>` writes the file in place. fd 3-5 keep the file that the rename replaces (the rename
# is atomic: crond never sees a half-written or missing crontab); after it, what was replaced is
# compared with what was read. Bytes appended meanwhile are appended to ours; a crontab rewritten
# meanwhile goes back in place of ours, followed by anything appended to ours since (exit 10).
# Not covered: a writer that renames its own file over the crontab in the instant between the
# open and the rename (how ESXi's `crontab -e` writes is unverified).
# Exit 6: the temp file is not what we sent; exit 10: not replaced, the other edit is kept;
# exit 9: ours is in place and the rewritten crontab could not be put back (no room on /var).
trap '' HUP INT TERM PIPE   # a client that dies mid-way must not stop the host between the steps
t=$1 f=$2
[ "$(wc -c < "$t")" -eq "$3" ] || exit 6
[ "$(md5sum < "$t" | cut -d' ' -f1)" = "$4" ] || exit 6
touch "$7" 2>/dev/null
if [ "$5" = missing ]; then
  if [ -e "$f" ] || [ -L "$f" ]; then exit 10; fi
  mv -f "$t" "$f"
  exit
fi
exec 3<"$f" 4<"$f" 5<"$f"
mv -f "$t" "$f" || exit 7
settle() { sleep 0.05 2>/dev/null || sleep 1; }   # a write begun on the old file before the rename ends
settle
if [ "$(head -c "$6" <&3 | md5sum | cut -d' ' -f1)" = "$5" ]; then
  tail -c +$(($6 + 1)) <&4 >> "$f"
  exit 0
fi
exec 6<"$f"
b=$f.mtv-back.$$
if ! { cp -p "$f" "$b" && cat <&5 > "$b" && mv -f "$b" "$f"; }; then rm -f "$b"; exit 9; fi
settle
tail -c +$(($3 + 1)) <&6 >> "$f"
exit 10
