#!/usr/bin/env bash
# Issue 11's lab flake, as a test: start and stop this checkout's lab N times in a row (default
# 20) and after every start check, independently of lab.sh, that each host's recorded address
# presents that host's own key (ssh-keyscan against lab.json's hostKey). Other checkouts' labs
# may run at the same time (that is the point). It stops this checkout's lab: do not run it
# while tests use the lab. Not part of build.ps1 Test (a few minutes for 20 rounds here):
#   bash tests/lab/start-repeat.sh [rounds] [--hosts N]
set -euo pipefail
LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO=$(cd "$LAB_DIR/../.." && pwd -P)
STATE="${MTVLAB_STATE:-$REPO/out/lab/lab.json}"
rounds=${1:-20}; shift || true
hosts=()
[ "${1:-}" = --hosts ] && hosts=(--hosts "$2")
fail=0
for i in $(seq 1 "$rounds"); do
  bash "$LAB_DIR/lab.sh" stop >/dev/null 2>&1 || true
  t0=$(date +%s.%N)
  if ! bash "$LAB_DIR/lab.sh" start "${hosts[@]}" >/dev/null 2>"$REPO/out/start-repeat.err"; then
    echo "round $i: start failed:"; cat "$REPO/out/start-repeat.err"; fail=$((fail + 1)); continue
  fi
  t1=$(date +%s.%N)
  bad=0 n=0
  while IFS=$'\t' read -r name addr port resolves key; do
    n=$((n + 1))
    got=$(ssh-keyscan -T 5 -t ed25519 -p "$port" "$addr" 2>/dev/null | awk '{ print $2 " " $3 }')
    if [ "$got" != "$key" ]; then echo "round $i: $name on $addr:$port presents '${got:-nothing}', not its key"; bad=1; fi
    resolved=$(getent hosts "$name" | awk '{ print $1 }')
    if [ "$resolves" = True ] && [ "$resolved" != "$addr" ]; then echo "round $i: $name resolves to '${resolved:-nothing}', not $addr"; bad=1; fi
  done < <(python3 -c 'import json,sys
for h in json.load(open(sys.argv[1]))["hosts"]: print(h["name"], h["address"], h["port"], h["nameResolves"], h["hostKey"], sep="\t")' "$STATE")
  endpoints=$(python3 -c 'import json,sys; print(len({(h["address"], h["port"]) for h in json.load(open(sys.argv[1]))["hosts"]}))' "$STATE")
  [ "$endpoints" = "$n" ] || { echo "round $i: $n hosts on only $endpoints distinct endpoints"; bad=1; }
  [ $bad -eq 0 ] || fail=$((fail + 1))
  printf 'round %2d: %d hosts, start %.1f s, %s\n' "$i" "$n" "$(echo "$t1 - $t0" | bc)" "$([ $bad -eq 0 ] && echo ok || echo FAILED)"
done
bash "$LAB_DIR/lab.sh" stop >/dev/null 2>&1 || true
echo "$((rounds - fail)) of $rounds rounds ok"
[ $fail -eq 0 ]
