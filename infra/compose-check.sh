#!/usr/bin/env bash
# Validates docker-compose.yml without a Docker engine: Debian's
# docker-compose 1.29.2 parses and checks the file (`config -q`), installing
# it first if missing. Exit 0 = valid.
EIP_NAME=compose
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
command -v docker-compose >/dev/null || apt_ensure docker-compose
cd "$EIP_REPO_DIR"
# The file needs INFLUX_TOKEN etc. only at run time; defaults are in the file.
docker-compose -f docker-compose.yml config -q
log "docker-compose.yml is valid ($(docker-compose version --short))"
