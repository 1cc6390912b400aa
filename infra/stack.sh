#!/usr/bin/env bash
# up|down|status [mosquitto|kafka|influxdb ...] (default: all three).
# Delegates to infra/<server>/<server>.sh, one server after the other.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
all=(mosquitto kafka influxdb)

usage() { echo "usage: $0 up|down|status [mosquitto|kafka|influxdb ...]" >&2; exit 2; }
cmd=${1:-}; shift || true
case $cmd in up | down | status) ;; *) usage ;; esac
servers=("$@")
((${#servers[@]})) || servers=("${all[@]}")
for s in "${servers[@]}"; do
  [[ -x $here/$s/$s.sh ]] || { echo "unknown server: $s" >&2; usage; }
done
# Stop in reverse order of start (services would see the broker go last).
if [[ $cmd == down ]]; then
  for ((i = ${#servers[@]} - 1; i >= 0; i--)); do "$here/${servers[i]}/${servers[i]}.sh" down; done
  exit 0
fi
rc=0
for s in "${servers[@]}"; do
  if [[ $cmd == up ]]; then
    start=$SECONDS
    "$here/$s/$s.sh" up
    echo "[$s] up took $((SECONDS - start))s" >&2
  else
    "$here/$s/$s.sh" status || rc=1
  fi
done
exit $rc
