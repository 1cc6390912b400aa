#!/usr/bin/env bash
# Mosquitto 2 (Debian package): up|down|status|install.
EIP_NAME=mosquitto
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

MQTT_PORT=${EIP_MQTT_PORT:-1883}
# Optional TLS listeners (tls-listener.conf, mtls-listener.conf), off unless asked for.
TLS_PORT=${EIP_MQTT_TLS_PORT:-}
MTLS_PORT=${EIP_MQTT_MTLS_PORT:-}
REGISTRY=${EIP_PARK_REGISTRY:-$EIP_REPO_DIR/shared/parks/demo-park.json}
# A credential store (npm run mqtt:credentials) or the development template.
CREDENTIALS=${EIP_MQTT_CREDENTIALS:-${EIP_DEV_CREDENTIALS:-$EIP_INFRA_DIR/dev-credentials.json}}
DIR=$(srv_dir)
GUARD_SRC=$EIP_INFRA_DIR/mosquitto/client-id-guard.c

do_install() {
  # -dev packages and gcc: the client-id guard plugin is compiled here.
  apt_ensure mosquitto mosquitto-clients mosquitto-dev libmosquitto-dev gcc libc6-dev
  # The package starts a system broker on port 1883 (all interfaces, no
  # auth) where systemd runs; it would hold our port, so it is stopped.
  if command -v systemctl >/dev/null && systemctl is-active --quiet mosquitto 2>/dev/null; then
    log "stopping the system mosquitto service (it holds port 1883)"
    systemctl stop mosquitto || true
    systemctl disable --quiet mosquitto 2>/dev/null || true
  fi
}

# The client-id guard, built once per source version into the cache.
guard_so() {
  local sum out
  sum=$(sha256sum "$GUARD_SRC" | cut -c1-16)
  out="$EIP_CACHE_DIR/mosquitto-guard-$sum/client-id-guard.so"
  if [[ ! -f $out ]]; then
    [[ -f /usr/include/mosquitto_broker.h ]] || do_install
    mkdir -p "$(dirname "$out")"
    gcc -fPIC -shared -O2 -Wall -Wextra -Werror "$GUARD_SRC" -o "$out.tmp" >&2 || die "building $GUARD_SRC failed"
    mv "$out.tmp" "$out"
  fi
  echo "$out"
}

dynsec_so() {
  local so
  so=$(dpkg -L mosquitto 2>/dev/null | grep -m1 'mosquitto_dynamic_security\.so$' || true)
  [[ -n $so ]] || die "mosquitto_dynamic_security.so not found (Debian's mosquitto package ships it)"
  echo "$so"
}

render_ts() { (cd "$EIP_REPO_DIR" && node infra/mosquitto/render-dynsec.ts "$@"); }

# Renders mosquitto.conf and the dynamic-security file into the run dir.
# Cheap, so done on every up: a changed registry, credentials or rule takes effect.
# Returns 0 when something changed since the last render.
render() {
  mkdir -p "$DIR/data"
  need_cmd node "Node.js is needed to read the park registry and the credentials"
  [[ -f $REGISTRY ]] || die "park registry $REGISTRY not found (EIP_PARK_REGISTRY)"
  [[ -f $CREDENTIALS ]] || die "MQTT credentials $CREDENTIALS not found (EIP_MQTT_CREDENTIALS)"
  local guard block sum
  guard=$(guard_so)
  block=$(render_ts plugins "$guard" "$(dynsec_so)" "$DIR/dynamic-security.json") || die "rendering the plugin options failed"
  sed -e "s|@USER@|$(id -un)|" -e "s|@PORT@|$MQTT_PORT|" -e "s|@BIND@|127.0.0.1|" \
      -e "s|@RUN_DIR@|$DIR|g" "$EIP_INFRA_DIR/mosquitto/mosquitto.conf" |
    awk -v block="$block" '$0 == "@SECURITY@" { print block; next } { print }' >"$DIR/mosquitto.conf"
  render_tls
  # Hashes are salted, so changes are detected on the inputs, not the output.
  sum=$({ cat "$DIR/mosquitto.conf" "$REGISTRY" "$CREDENTIALS" "$EIP_REPO_DIR/shared/contracts/mqtt-acl.ts" \
            "$EIP_INFRA_DIR/mosquitto/render-dynsec.ts" "$EIP_REPO_DIR/shared/adapters/mqtt/credentials.ts"
          if [[ -d $DIR/conf.d ]]; then cat "$DIR"/conf.d/*.conf; fi; } | sha256sum | cut -c1-32)
  [[ -f $DIR/dynamic-security.json && $sum == "$(cat "$DIR/render.sum" 2>/dev/null)" ]] && return 1
  (umask 077 && render_ts dynsec "$REGISTRY" "$CREDENTIALS" "$DIR/dynamic-security.json.new") || die "rendering the accounts failed"
  mv "$DIR/dynamic-security.json.new" "$DIR/dynamic-security.json"
  echo "$sum" >"$DIR/render.sum"
}

# The TLS listeners live in their own files under conf.d/, included only when
# a TLS port is set; the certificates come from infra/dev-tls.sh (CA in tls/ca.crt).
render_tls() {
  rm -rf "$DIR/conf.d"
  [[ -n $TLS_PORT || -n $MTLS_PORT ]] || return 0
  mkdir -p "$DIR/conf.d"
  command -v openssl >/dev/null || apt_ensure openssl
  bash "$EIP_INFRA_DIR/dev-tls.sh" "$DIR/tls"
  local name port
  for name in tls mtls; do
    port=$TLS_PORT; [[ $name == mtls ]] && port=$MTLS_PORT
    [[ -n $port ]] || continue
    sed -e "s|@TLS_PORT@|$port|" -e "s|@MTLS_PORT@|$port|" -e "s|@BIND@|127.0.0.1|" -e "s|@RUN_DIR@|$DIR|g" \
      "$EIP_INFRA_DIR/mosquitto/$name-listener.conf" >"$DIR/conf.d/$name.conf"
  done
  printf '\ninclude_dir %s\n' "$DIR/conf.d" >>"$DIR/mosquitto.conf"
}

do_up() {
  local pid
  pid=$(running_pid "$DIR/mosquitto.conf")
  if [[ -n $pid ]]; then
    # The dynamic-security plugin reads its file only at start (SIGHUP does
    # not reload it): changed accounts or rules need a restart. Sessions and
    # queues survive it (persistence is written on the way down).
    if render; then
      log "accounts or rules changed: restarting to load them"
      do_down
    else
      log "already running (pid $pid) on 127.0.0.1:$MQTT_PORT"
      return 0
    fi
  fi
  do_install
  render || true
  require_free_port "$MQTT_PORT"
  for p in $TLS_PORT $MTLS_PORT; do require_free_port "$p"; done
  start_daemon mosquitto -c "$DIR/mosquitto.conf"
  pid=$(<"$(pid_file)")
  wait_for_port "$pid" "$MQTT_PORT"
  for p in $TLS_PORT $MTLS_PORT; do wait_for_port "$pid" "$p"; done
  log "ready on 127.0.0.1:$MQTT_PORT (pid $pid, log $(log_file))"
}

do_down() { down_server "$DIR/mosquitto.conf" 30; }
do_status() { status_line "$DIR/mosquitto.conf" "$MQTT_PORT"; }

dispatch "$@"
