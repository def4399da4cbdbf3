#!/usr/bin/env bash
# Run by molecule/faults/verify.yml on the control node:
#   kill_loop.sh INVENTORY HOST CONTAINER DATADIR KILLS LIFETIME_MS WORKSPACE_MS
# Rewrites the 100,000-entry table /etc/postfix/faults-big on HOST with the
# vhosting.postfix.lookup_table module, one ad hoc run per attempt, from the
# data files DATADIR/A.txt, B.txt and C.txt (DATADIR/shas.txt: the sha256 of
# each complete source), always to another content than the one in place,
# and kills the module with kill -9 (faults-killer on the host) until KILLS
# runs were killed. Half of the kills are spread over the module's whole
# lifetime (LIFETIME_MS, measured by a clean run), the other half over the
# part after it made its private directory (WORKSPACE_MS after its start:
# new source, postmap, renames), each half in a shuffled order. Prints one
# JSON object: attempts, kills, what was under way at each kill, and the
# target of the last run (the one that the next run must complete); it
# stops at once when the killer does not find the module (lost: 1).
set -u
inventory=$1 host=$2 container=$3 data=$4 kills_wanted=$5 lifetime_ms=$6 workspace_ms=$7
table=/etc/postfix/faults-big
half=$(( (kills_wanted + 1) / 2 ))
late_ms=$(( lifetime_ms - workspace_ms ))
[ "$workspace_ms" -lt 0 ] || [ "$late_ms" -le 0 ] && late_ms=$lifetime_ms
kills=0 lost=0 attempts=0 in_place=0 during_postmap=0 with_workspace=0 finished=0 missed=0 lines=""
while [ "$kills" -lt "$kills_wanted" ] && [ "$attempts" -lt $((kills_wanted * 4)) ]; do
  attempts=$((attempts + 1))
  current=$(podman exec "$container" sha256sum "$table" | cut -d' ' -f1)
  version=$(awk -v s="$current" '$2 == s {print $1}' "$data/shas.txt")
  # From A or C, half of the kills (two in four, one of each kind below)
  # go to the other of the two (10 values differ: the in-place update path),
  # the others to B (a full rewrite); from B to A.
  in_place_turn=$(( kills % 4 >= 2 ))
  case "$version" in
    A) target=$([ "$in_place_turn" -eq 1 ] && echo C || echo B) ;;
    C) target=$([ "$in_place_turn" -eq 1 ] && echo A || echo B) ;;
    *) target=A ;;
  esac
  case "$version$target" in AC | CA) in_place=$((in_place + 1)) ;; esac
  # Even kills: slot (k * 7) mod HALF of HALF equal slices of the lifetime;
  # odd kills: the same slices of the time after the private directory.
  # A run that ended first is tried again with half the delay.
  k=$((kills / 2))
  slot=$(( (k * 7) % half ))
  if [ $((kills % 2)) -eq 0 ]; then
    span=$lifetime_ms prefix=""
  else
    span=$late_ms prefix="+"
  fi
  delay_ms=$(( span * (2 * slot + 1) / (2 * half) ))
  [ "$missed" -gt 0 ] && delay_ms=$(( delay_ms >> missed ))
  delay=$(printf '%s%d.%03d' "$prefix" $((delay_ms / 1000)) $((delay_ms % 1000)))
  # Not pipelined: faults-killer finds the module by its AnsiballZ file.
  ansible "$host" -i "$inventory" -e ansible_pipelining=false -m vhosting.postfix.lookup_table \
    -a "path=$table type=lmdb src=$data/$target.txt format=postmap" >"$data/run-$attempts.log" 2>&1 &
  runner=$!
  result=$(podman exec "$container" /usr/local/bin/faults-killer "$delay" | tail -n 1)
  wait "$runner"
  rc=$?
  case "$result" in
    killed*)
      kills=$((kills + 1)) missed=0
      case "$result" in *postmap=yes*) during_postmap=$((during_postmap + 1)) ;; esac
      case "$result" in *workspace=yes*) with_workspace=$((with_workspace + 1)) ;; esac
      ;;
    "no module process"*) lost=1 ;;
    *) finished=$((finished + 1)) missed=$((missed + 1)) ;;
  esac
  lines="$lines\"$attempts: $version -> $target, after ${delay}s: $result (ansible rc $rc)\","
  # The killer did not recognise the module (the test is out of date, not the module wrong): stop here.
  [ "$lost" -eq 0 ] || break
done
printf '{"attempts": %d, "kills": %d, "lost": %d, "in_place": %d, "during_postmap": %d, "with_workspace": %d, "finished": %d, "last_target": "%s", "runs": [%s]}\n' \
  "$attempts" "$kills" "$lost" "$in_place" "$during_postmap" "$with_workspace" "$finished" "$target" "${lines%,}"
