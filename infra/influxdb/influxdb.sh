#!/usr/bin/env bash
# InfluxDB 2.x OSS: up|down|status|install.
# There is no usable package (Debian ships 1.6.7, without /api/v2/write), so
# influxd is built once from its Go module and cached by version.
EIP_NAME=influxdb
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

# 2.8.0, not newer: later 2.x releases need a newer Go than the one installed.
INFLUX_VERSION=${EIP_INFLUX_VERSION:-2.8.0}
INFLUX_PORT=${EIP_INFLUX_PORT:-8086}
INFLUX_ORG=${EIP_INFLUX_ORG:-eip}
INFLUX_BUCKET=${EIP_INFLUX_BUCKET:-telemetry}
INFLUX_TOKEN=${EIP_INFLUX_TOKEN:-eip-dev-token}
INFLUX_USER=${EIP_INFLUX_USER:-eip-admin}
INFLUX_PASSWORD=${EIP_INFLUX_PASSWORD:-eip-dev-password}
INFLUX_RETENTION_SECONDS=${EIP_INFLUX_RETENTION_SECONDS:-2592000}
INFLUX_LOG_LEVEL=${EIP_INFLUX_LOG_LEVEL:-info}
INSTALL_DIR=$EIP_CACHE_DIR/influxdb-$INFLUX_VERSION
INFLUXD=$INSTALL_DIR/influxd
URL=http://127.0.0.1:$INFLUX_PORT
DATA=$(srv_dir)

find_toolchain() {
  # Go and Rust usually live outside root's non-login PATH.
  PATH=$PATH:/usr/local/go/bin:$HOME/.cargo/bin:$HOME/go/bin
  need_cmd go "install Go 1.24 or newer first (influxdb $INFLUX_VERSION needs it; Debian 12 ships 1.19)"
  need_cmd cargo "install Rust with rustup (stable toolchain; Debian 12 ships 1.63, too old) first: Flux, which influxd embeds, has a Rust part"
  need_cmd cc "a C compiler is needed for cgo and Flux"
}

# Runs one build command with its (long) output in the build log, and a
# line a minute so that CI logs show it is alive.
build_step() {
  "$@" >>"$BUILD_LOG" 2>&1 &
  local pid=$! t=0
  while kill -0 "$pid" 2>/dev/null; do
    sleep 1
    ((++t % 60)) || log "  ... still working (${t}s)"
  done
  wait "$pid" || {
    tail -n 40 "$BUILD_LOG" >&2
    die "failed: $* (full output: $BUILD_LOG)"
  }
}

do_install() {
  if [[ -x $INFLUXD ]]; then return 0; fi
  apt_ensure curl gcc libc6-dev
  find_toolchain
  local start=$SECONDS build=$INSTALL_DIR/build
  mkdir -p "$INSTALL_DIR/bin" "$build"
  BUILD_LOG=$INSTALL_DIR/build.log
  : >"$BUILD_LOG"
  log "building influxd v$INFLUX_VERSION from its Go module, a few minutes on first run (log: $BUILD_LOG)"

  # The system pkg-config cannot produce Flux's Rust library; influxdata's
  # wrapper builds it with cargo when the Go build asks for flux's cflags.
  log "  [1/3] go install influxdata/pkg-config"
  GOTOOLCHAIN=local GOBIN=$INSTALL_DIR/bin build_step go install github.com/influxdata/pkg-config@latest

  # Getting the command's package (not just the module) also records the
  # go.sum entries of everything it imports, which the build needs.
  log "  [2/3] go get github.com/influxdata/influxdb/v2@v$INFLUX_VERSION"
  cd "$build" || exit
  [[ -f go.mod ]] || GOTOOLCHAIN=local build_step go mod init eip.local/influxd-build
  GOTOOLCHAIN=local build_step go get "github.com/influxdata/influxdb/v2/cmd/influxd@v$INFLUX_VERSION"

  # RUSTUP_TOOLCHAIN=stable: Flux pins Rust 1.72 in rust-toolchain.toml, which
  # is not installed and cannot be downloaded here. The wrapper caps lints.
  log "  [3/3] go build cmd/influxd (Go part about 3 min, Rust part about 1 min on 2 cores)"
  PKG_CONFIG=$INSTALL_DIR/bin/pkg-config \
    RUSTUP_TOOLCHAIN=stable \
    RUSTC_WRAPPER=$EIP_INFRA_DIR/influxdb/rustc-wrapper.sh \
    GOTOOLCHAIN=local \
    build_step go build -o "$INFLUXD.tmp" github.com/influxdata/influxdb/v2/cmd/influxd
  mv "$INFLUXD.tmp" "$INFLUXD"
  log "built $INFLUXD in $((SECONDS - start))s"
}

api() { # api <method> <path> [json body]: with the operator token.
  curl -fsS --max-time 10 -X "$1" -H "Authorization: Token $INFLUX_TOKEN" \
    -H 'Content-Type: application/json' ${3:+--data "$3"} "$URL$2"
}

json_get() { # json_get <js expression on d>: reads JSON from stdin.
  node -e 'let s="";process.stdin.on("data",c=>s+=c).on("end",()=>{const d=JSON.parse(s);const v=('"$1"');process.stdout.write(v==null?"":String(v))})'
}

# One-time setup of a fresh database: user, org, bucket and the known token,
# so that tests and services can use EIP_INFLUX_TOKEN without a lookup.
setup_once() {
  local allowed
  allowed=$(curl -fsS --max-time 10 "$URL/api/v2/setup" | json_get 'd.allowed')
  if [[ $allowed == true ]]; then
    log "first start: setup (user $INFLUX_USER, org $INFLUX_ORG, bucket $INFLUX_BUCKET)"
    curl -fsS --max-time 10 -X POST -H 'Content-Type: application/json' "$URL/api/v2/setup" \
      --data "{\"username\":\"$INFLUX_USER\",\"password\":\"$INFLUX_PASSWORD\",\"org\":\"$INFLUX_ORG\",\"bucket\":\"$INFLUX_BUCKET\",\"token\":\"$INFLUX_TOKEN\",\"retentionPeriodSeconds\":$INFLUX_RETENTION_SECONDS}" \
      >/dev/null
  fi
  local org_id
  if ! org_id=$(api GET "/api/v2/orgs?org=$INFLUX_ORG" | json_get 'd.orgs[0]&&d.orgs[0].id'); then
    die "the token in EIP_INFLUX_TOKEN is not accepted by this database (set up earlier with another token?); reset: $0 down && rm -rf $DATA"
  fi
  [[ -n $org_id ]] || die "org $INFLUX_ORG not found in this database; reset: $0 down && rm -rf $DATA"
  # Downsampled series (written by the aggregator) live in their own bucket.
  local b=${INFLUX_BUCKET}_downsampled
  # Listing (rather than asking by name) avoids a 404 that influxd logs as an error.
  if [[ -z $(api GET "/api/v2/buckets?orgID=$org_id&limit=100" | json_get "d.buckets.some((b) => b.name === '$b') || ''") ]]; then
    log "creating bucket $b"
    api POST /api/v2/buckets "{\"orgID\":\"$org_id\",\"name\":\"$b\",\"retentionRules\":[]}" >/dev/null
  fi
}

do_up() {
  local pid
  pid=$(running_pid influxd)
  if [[ -n $pid ]]; then
    log "already running (pid $pid) on 127.0.0.1:$INFLUX_PORT"
    return 0
  fi
  do_install
  need_cmd node "Node.js is needed to read JSON answers"
  require_free_port "$INFLUX_PORT"
  mkdir -p "$DATA"
  # influxd reads a config file from its working directory: run it from its
  # own data folder so a stray config.toml elsewhere cannot change it.
  cd "$DATA" || exit
  start_daemon "$INFLUXD" \
    --http-bind-address "127.0.0.1:$INFLUX_PORT" \
    --bolt-path "$DATA/influxd.bolt" \
    --sqlite-path "$DATA/influxd.sqlite" \
    --engine-path "$DATA/engine" \
    --reporting-disabled \
    --log-level "$INFLUX_LOG_LEVEL"
  pid=$(<"$(pid_file)")
  wait_until "$pid" "$URL/health to pass" health_pass
  setup_once
  log "ready on $URL (org $INFLUX_ORG, bucket $INFLUX_BUCKET, pid $pid, log $(log_file))"
}

health_pass() { curl -fsS --max-time 3 "$URL/health" | grep -q '"status": *"pass"'; }

do_down() { down_server influxd 30; }
do_status() { status_line influxd "$INFLUX_PORT"; }

dispatch "$@"
