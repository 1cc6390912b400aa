#!/usr/bin/env bash
# Mosquitto 2 (Debian package): up|down|status|install.
EIP_NAME=mosquitto
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

MQTT_PORT=${EIP_MQTT_PORT:-1883}
# Optional TLS listeners (tls-listener.conf, mtls-listener.conf), off unless asked for.
TLS_PORT=${EIP_MQTT_TLS_PORT:-}
MTLS_PORT=${EIP_MQTT_MTLS_PORT:-}
REGISTRY=${EIP_PARK_REGISTRY:-$EIP_REPO_DIR/shared/parks/demo-park.json}
CREDENTIALS=${EIP_DEV_CREDENTIALS:-$EIP_INFRA_DIR/dev-credentials.json}
DIR=$(srv_dir)

do_install() {
  apt_ensure mosquitto mosquitto-clients
  # The package starts a system broker on port 1883 (all interfaces, no
  # auth) where systemd runs; it would hold our port, so it is stopped.
  if command -v systemctl >/dev/null && systemctl is-active --quiet mosquitto 2>/dev/null; then
    log "stopping the system mosquitto service (it holds port 1883)"
    systemctl stop mosquitto || true
    systemctl disable --quiet mosquitto 2>/dev/null || true
  fi
}

# Renders config, ACL and password file into the run dir. Cheap, so done on
# every up: a changed park registry or credentials file takes effect.
# Returns 0 when something changed since the last render.
render() {
  mkdir -p "$DIR/data"
  need_cmd node "Node.js is needed to read the park registry"
  [[ -f $REGISTRY ]] || die "park registry $REGISTRY not found (EIP_PARK_REGISTRY)"
  sed -e "s|@USER@|$(id -un)|" -e "s|@PORT@|$MQTT_PORT|" -e "s|@BIND@|127.0.0.1|" \
      -e "s|@RUN_DIR@|$DIR|g" "$EIP_INFRA_DIR/mosquitto/mosquitto.conf" >"$DIR/mosquitto.conf"
  cp "$EIP_INFRA_DIR/mosquitto/acl" "$DIR/acl"
  render_tls
  local plain sum
  plain=$(node "$EIP_INFRA_DIR/mosquitto/passwd-plain.mjs" "$REGISTRY" "$CREDENTIALS")
  # Hashes are salted, so changes are detected on the inputs, not the file.
  sum=$(cat "$DIR/mosquitto.conf" "$DIR/acl" "$DIR"/conf.d/*.conf - <<<"$plain" 2>/dev/null | sha256sum | cut -c1-32)
  [[ -f $DIR/passwd && $sum == "$(cat "$DIR/render.sum" 2>/dev/null)" ]] && return 1
  (umask 077 && printf '%s\n' "$plain" >"$DIR/passwd.new")
  mosquitto_passwd -U "$DIR/passwd.new"
  mv "$DIR/passwd.new" "$DIR/passwd"
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
    # A running broker keeps running; SIGHUP makes it re-read the ACL and the
    # password file when a new registry brought new tenants.
    if render; then
      log "users or ACL changed: reloading (SIGHUP)"
      kill -HUP "$pid"
    fi
    log "already running (pid $pid) on 127.0.0.1:$MQTT_PORT"
    return 0
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
