#!/usr/bin/env bash
# A throwaway certificate authority for local TLS listeners and the tests:
#   bash infra/dev-tls.sh <dir>
# writes, unless already there, <dir>/ca.crt (the CA clients trust),
# server.crt + server.key (for 127.0.0.1 and localhost) and client.crt +
# client.key (a client certificate, CN eip-test-client), all signed by
# <dir>/ca.key. Keys are unencrypted PKCS#8 (Mosquitto and Kafka's PEM
# keystore both read that). Development and tests only: anyone who can read
# the folder can impersonate the servers.
set -euo pipefail
dir=${1:?usage: dev-tls.sh <dir>}
command -v openssl >/dev/null || { echo "dev-tls.sh: openssl not found" >&2; exit 1; }
mkdir -p "$dir"
cd "$dir"
[[ -s ca.crt && -s server.crt && -s client.crt ]] && exit 0
umask 077
days=30
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days "$days" \
  -subj "/CN=eip-telemetry dev CA" -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
issue() { # issue <name> <subject> <extensions>
  openssl req -newkey rsa:2048 -nodes -keyout "$1.key.tmp" -out "$1.csr" -subj "$2" 2>/dev/null
  openssl pkcs8 -topk8 -nocrypt -in "$1.key.tmp" -out "$1.key"
  printf '%s\n' "$3" >"$1.ext"
  openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -out "$1.crt" -days "$days" -extfile "$1.ext" 2>/dev/null
  rm -f "$1.key.tmp" "$1.csr" "$1.ext"
}
issue server "/CN=localhost" "subjectAltName=IP:127.0.0.1,DNS:localhost
extendedKeyUsage=serverAuth"
issue client "/CN=eip-test-client" "extendedKeyUsage=clientAuth"
# Mosquitto drops privileges: the certificates are public, the keys stay private to the owner.
chmod 644 ca.crt server.crt client.crt
