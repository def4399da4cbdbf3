#!/usr/bin/env bash
# Installed on the primary by molecule/faults/verify.yml.
#   faults-killer DELAY    wait for the vhosting.postfix.lookup_table module
#                          process, let it run DELAY seconds, kill -9 it
#   faults-killer +DELAY   the same, DELAY counted from the moment the module
#                          made its private directory next to the table (it
#                          then writes the new source, runs postmap, renames)
#   faults-killer watch    print the module's lifetime and when it made its
#                          private directory, in ms (-1: it made none)
#   faults-killer @FILE    kill -9 the module as soon as FILE exists
# A kill prints "killed PID postmap=yes|no workspace=yes|no" (whether the
# module's postmap child ran and its own private directory existed at that
# moment), or "finished" when the module ended first. The module is the
# python process that runs AnsiballZ_lookup_table.py (not the /bin/sh -c
# around it) with the data next to it: the action plugin first runs the
# module as a probe (is the table still what this request gave?), and only
# when that misses transfers the data into the same temporary directory and
# runs the module again. That second process is the one found (by its
# command line) and killed by its PID only. When the control node still has
# the table's previous source (its cache), the probe itself carries the
# changed lines (lookup_table_delta next to it) and is the process that
# rewrites the table: that one is found and killed then.
set -u
shopt -s nullglob
pattern='^/usr/bin/python3 .*AnsiballZ_lookup_table\.py'
workspaces() { local dirs=(/etc/postfix/.faults-big.*.vhtmp); echo "${#dirs[@]}"; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
module_pid() {
  local pid script
  for pid in $(pgrep -f "$pattern"); do
    script=$(tr '\0' '\n' < "/proc/$pid/cmdline" 2>/dev/null | grep -m1 'AnsiballZ_lookup_table\.py$') || continue
    if [ -e "$(dirname "$script")/lookup_table_entries" ] || [ -e "$(dirname "$script")/lookup_table_delta" ]; then
      echo "$pid"
      return 0
    fi
  done
  return 1
}
deadline=$((SECONDS + 60))
until pid=$(module_pid); do
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "no module process within 60 s"
    exit 1
  fi
  sleep 0.005
done
start=$(now_ms)
# Private directories left by earlier kills are there already; the module
# makes its own after it compared the tables.
before=$(workspaces)
case "$1" in
  watch)
    made=-1
    while kill -0 "$pid" 2>/dev/null; do
      if [ "$made" -lt 0 ] && [ "$(workspaces)" -gt "$before" ]; then
        made=$(( $(now_ms) - start ))
      fi
      sleep 0.002
    done
    echo "$(( $(now_ms) - start )) $made"
    exit 0
    ;;
  @*)
    until [ -e "${1#@}" ]; do
      if ! kill -0 "$pid" 2>/dev/null; then
        echo finished
        exit 0
      fi
      sleep 0.002
    done
    delay=0
    ;;
  +*)
    until [ "$(workspaces)" -gt "$before" ]; do
      if ! kill -0 "$pid" 2>/dev/null; then
        echo finished
        exit 0
      fi
      sleep 0.002
    done
    delay=${1#+}
    ;;
  *) delay=$1 ;;
esac
sleep "$delay"
postmap=no
pgrep -P "$pid" -x postmap >/dev/null && postmap=yes
if ! kill -9 "$pid" 2>/dev/null; then
  echo finished
  exit 0
fi
workspace=no
[ "$(workspaces)" -gt "$before" ] && workspace=yes
echo "killed $pid postmap=$postmap workspace=$workspace"
