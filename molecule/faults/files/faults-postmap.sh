#!/usr/bin/env bash
# Installed on the primary by molecule/faults/tasks/killed.yml as
# /usr/local/sbin/postmap (before /usr/sbin in PATH) for one run of the
# lookup_table module, then removed: a postmap -d (the removals of an
# in-place update) runs for real, then says so in /run/faults-window and
# waits, so that the module can be killed exactly between its postmap -d and
# its postmap -i. Anything else is the real postmap.
if [ "${1:-}" = -d ]; then
  /usr/sbin/postmap "$@"
  rc=$?
  touch /run/faults-window
  sleep 5
  exit "$rc"
fi
exec /usr/sbin/postmap "$@"
