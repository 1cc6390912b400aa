#!/bin/bash
# Run once by the influxdb:2 image after its DOCKER_INFLUXDB_INIT_* setup
# (mounted into /docker-entrypoint-initdb.d by docker-compose.yml): the
# second bucket that infra/influxdb/influxdb.sh creates for the local server.
set -euo pipefail
influx bucket create --name "${DOCKER_INFLUXDB_INIT_BUCKET}_downsampled" \
  --org "$DOCKER_INFLUXDB_INIT_ORG" --token "$DOCKER_INFLUXDB_INIT_ADMIN_TOKEN" --retention 0
