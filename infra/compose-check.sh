#!/usr/bin/env bash
# Validates docker-compose.yml without a Docker engine: Debian's
# docker-compose 1.29.2 parses and checks the file (`config -q`), installing
# it first if missing. Exit 0 = valid.
EIP_NAME=compose
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
command -v docker-compose >/dev/null || apt_ensure docker-compose
cd "$EIP_REPO_DIR"
# The file requires its secrets from the environment (and refuses to render
# without them): validation fills in placeholders for those not set.
for v in INFLUX_TOKEN INFLUX_PASSWORD CONSOLE_SESSION_SECRET INGEST_MQTT_PASSWORD RULES_MQTT_PASSWORD SPARING_SECRET; do
  export "$v=${!v:-compose-check-placeholder}"
done
export CONSOLE_USERS_FILE=${CONSOLE_USERS_FILE:-/dev/null} MQTT_CREDENTIALS_FILE=${MQTT_CREDENTIALS_FILE:-/dev/null}
export SPARING_URL=${SPARING_URL:-https://sparing.invalid/} SISPEK_URL=${SISPEK_URL:-https://sispek.invalid/}
docker-compose -f docker-compose.yml config -q
log "docker-compose.yml is valid ($(docker-compose version --short))"
