#!/usr/bin/env bash
# Installed on the backup by molecule/faults/verify.yml.
#   faults-load SERVER STOPFILE COUNT RCPT...
# Sends COUNT messages to each RCPT (one sender process per recipient, in
# parallel) with Postfix's smtp-source, 5 messages per run, each on a
# connection of its own. Until STOPFILE exists (the converge under load has
# finished) each sender pauses 3 s after every run, so that the load lasts
# through the whole converge (up to 300 s); then it sends the rest at once.
# Any 4xx or 5xx reply, or a refused connection, makes smtp-source fail with
# a message on stderr. Prints one JSON object: start and end (epoch
# seconds), messages sent, failed runs and the errors seen.
set -u
server=$1 stop=$2 count=$3
shift 3
work=$(mktemp -d)
start=$(date +%s.%N)
for rcpt in "$@"; do
  (
    sent=0 failed=0
    while [ "$sent" -lt "$count" ]; do
      n=$((count - sent < 5 ? count - sent : 5))
      if /usr/sbin/smtp-source -m "$n" -s 1 -l 1024 -f bounces@load.test -t "$rcpt" \
           -M backup.faults.test "$server:25" 2>>"$work/$rcpt.err"; then
        sent=$((sent + n))
      else
        failed=$((failed + 1))
        [ "$failed" -ge 20 ] && break
      fi
      [ -e "$stop" ] || sleep 3
    done
    echo "$sent $failed" > "$work/$rcpt.count"
  ) &
done
wait
end=$(date +%s.%N)
sent=$(cat "$work"/*.count | awk '{s += $1} END {print s + 0}')
failed=$(cat "$work"/*.count | awk '{s += $2} END {print s + 0}')
errors=$(cat "$work"/*.err | head -c 2000 | tr -c '[:alnum:] <>=;:@._/-' ' ')
rm -rf "$work"
printf '{"start": %s, "end": %s, "sent": %d, "failed_runs": %d, "errors": "%s"}\n' "$start" "$end" "$sent" "$failed" "$errors"
