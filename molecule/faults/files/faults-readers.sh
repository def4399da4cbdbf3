#!/usr/bin/env bash
# Installed on the primary by molecule/faults/verify.yml.
#   faults-readers TABLE STOPFILE SHAS
# Reads the lmdb table TABLE in a loop until STOPFILE exists, as Postfix's
# processes do while the table is rewritten, and counts every wrong answer.
# The 201 keys user20001, user20401, ... user99601 and user100000@big.test
# are in every version of the table (A: a<N>, B: b<N>, C: A with c<N> for
# every 10,000th key); SHAS holds the sha256 of each complete source. Per
# round:
#   - one postmap -q - looks up all 201 keys: each must be found (a miss is
#     counted) with one of its versions' values (another value is counted);
#     a missing, empty, truncated or half-built index fails most of them;
#   - the source must be one of the complete sources (sha256).
# (Not postmap -s: Postfix's sequential access to an lmdb table spans
# several transactions, so a listing made while postmap -i or -d updates
# the table in place mixes both states; lookups do not.)
# Prints one JSON object with the counts and the first problems seen.
set -u
table=$1 stop=$2 shas=$3
keys=$(mktemp)
{ seq 20001 400 99601; echo 100000; } | sed 's/.*/user&@big.test/' > "$keys"
total=$(wc -l < "$keys")
rounds=0 misses=0 wrong=0 failed=0 partial_source=0 problems=""
note() { [ ${#problems} -lt 2000 ] && problems="$problems $1;"; }
while [ ! -e "$stop" ]; do
  rounds=$((rounds + 1))
  if ! out=$(postmap -q - "lmdb:$table" < "$keys" 2>&1); then
    failed=$((failed + 1)); note "round $rounds postmap -q failed: $(echo "$out" | head -n 1)"
  fi
  # found and wrong, from the key<TAB>value lines
  read -r found bad first <<<"$(printf '%s\n' "$out" | awk -F'\t' '
    NF == 2 && $1 ~ /^user[0-9]+@big\.test$/ {
      found++; n = substr($1, 5, index($1, "@") - 5)
      if ($2 != "a" n && $2 != "b" n && !(n % 10000 == 0 && $2 == "c" n)) { bad++; if (!first) first = $1 "=" $2 }
    }
    END { print found + 0, bad + 0, (first ? first : "-") }')"
  if [ "$found" -ne "$total" ]; then
    misses=$((misses + total - found)); note "round $rounds $((total - found)) of $total keys missing"
  fi
  if [ "$bad" -ne 0 ]; then
    wrong=$((wrong + bad)); note "round $rounds $bad other values, e.g. $first"
  fi
  sum=$(sha256sum < "$table" 2>/dev/null | cut -d' ' -f1)
  if ! grep -qx "$sum" "$shas"; then
    partial_source=$((partial_source + 1)); note "round $rounds source sha256 ${sum:-missing}"
  fi
  sleep 0.05  # about 15 rounds a second: the module and the other tests need the cores too
done
rm -f "$keys"
printf '{"rounds": %d, "keys": %d, "lookups": %d, "misses": %d, "wrong": %d, "failed": %d, "partial_source": %d, "problems": "%s"}\n' \
  "$rounds" "$total" "$((rounds * total))" "$misses" "$wrong" "$failed" "$partial_source" \
  "$(printf '%s' "$problems" | tr -c '[:alnum:] =;:@._/-' ' ')"
