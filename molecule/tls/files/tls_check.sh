#!/bin/sh
# tls_check.sh HOST PORT smtp|implicit NAME CAFILE
# Connects (STARTTLS for smtp, TLS from the first byte otherwise) asking for
# NAME by SNI, verifies the chain against CAFILE and that the certificate is
# valid for NAME; prints "serial=... names=DNS:..." of the certificate served
# (its subjectAltName: newer CAs, pebble 2.6 among them, leave the subject empty).
# Exits non-zero (saying why) when the handshake or the verification fails.
set -eu
host=$1 port=$2 mode=$3 name=$4 ca=$5
set -- -connect "$host:$port" -servername "$name" -CAfile "$ca" -verify_return_error -verify_hostname "$name"
if [ "$mode" = smtp ]; then
  set -- "$@" -starttls smtp
fi
if ! out=$(openssl s_client "$@" </dev/null 2>&1); then
  echo "TLS to $host:$port for $name did not verify:" >&2
  printf '%s\n' "$out" | grep -iE 'verify|error|alert' | head -5 >&2
  exit 1
fi
cert=$(printf '%s\n' "$out" | openssl x509)
serial=$(printf '%s\n' "$cert" | openssl x509 -noout -serial)
names=$(printf '%s\n' "$cert" | openssl x509 -noout -ext subjectAltName | sed -n 's/^ *//; s/, /,/g; /^DNS:/p')
echo "$serial names=$names"
