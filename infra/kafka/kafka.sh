#!/usr/bin/env bash
# Apache Kafka 4 (KRaft, one combined broker+controller): up|down|status|install.
# The jars come from Maven Central through infra/kafka/pom.xml (no tarball),
# cached by version in $EIP_CACHE_DIR/kafka-<version>/libs.
EIP_NAME=kafka
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

KAFKA_VERSION=${EIP_KAFKA_VERSION:-4.1.1}
KAFKA_PORT=${EIP_KAFKA_PORT:-9092}
CONTROLLER_PORT=${EIP_KAFKA_CONTROLLER_PORT:-9093}
KAFKA_HEAP=${EIP_KAFKA_HEAP:-512m}
# Optional authenticated listeners (secure-listeners.properties): SCRAM on
# SASL_PLAINTEXT at EIP_KAFKA_SCRAM_PORT and over TLS at EIP_KAFKA_SSL_PORT.
SCRAM_PORT=${EIP_KAFKA_SCRAM_PORT:-}
SSL_PORT=${EIP_KAFKA_SSL_PORT:-}
SCRAM_USER=${EIP_KAFKA_SCRAM_USER:-eip}
SCRAM_PASSWORD=${EIP_KAFKA_SCRAM_PASSWORD:-eip-kafka-dev-secret}
# Fixed, so that a formatted data dir is recognisable; base64 of "eip-telemetry-01".
CLUSTER_ID=${EIP_KAFKA_CLUSTER_ID:-ZWlwLXRlbGVtZXRyeS0wMQ}
LIBS=$EIP_CACHE_DIR/kafka-$KAFKA_VERSION/libs
HERE=$EIP_INFRA_DIR/kafka
DIR=$(srv_dir)
CONF=$DIR/server.properties

ensure_java() {
  if ! command -v java >/dev/null; then apt_ensure openjdk-17-jre-headless; fi
  local major
  major=$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')
  ((${major%%.*} >= 17)) || die "Kafka 4 needs Java 17 or newer; java on PATH is $major"
}

do_install() {
  ensure_java
  # The cache key includes the pom, so changing a dependency refetches.
  local stamp
  stamp="$KAFKA_VERSION $(sha256sum "$HERE/pom.xml" | cut -c1-16)"
  if [[ -f $LIBS/.complete && $(<"$LIBS/.complete") == "$stamp" ]]; then return 0; fi
  command -v mvn >/dev/null || apt_ensure maven
  local start=$SECONDS
  log "fetching Kafka $KAFKA_VERSION jars with Maven into $LIBS (about 20 s on first run)"
  rm -rf "$LIBS.tmp"
  local mvnlog=$EIP_CACHE_DIR/kafka-$KAFKA_VERSION/mvn.log
  mkdir -p "${mvnlog%/*}"
  mvn -B -Dstyle.color=never -f "$HERE/pom.xml" -Dkafka.version="$KAFKA_VERSION" \
    dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$LIBS.tmp" \
    >"$mvnlog" 2>&1 || {
    grep -E 'ERROR|FAIL' "$mvnlog" | head -n 20 >&2
    die "mvn dependency:copy-dependencies failed (full output: $mvnlog)"
  }
  rm -rf "$LIBS" && mv "$LIBS.tmp" "$LIBS"
  echo "$stamp" >"$LIBS/.complete"
  log "fetched $(ls "$LIBS" | wc -l) jars in $((SECONDS - start))s"
}

render() {
  mkdir -p "$DIR/data"
  local templates=("$HERE/server.properties")
  if [[ -n $SCRAM_PORT ]]; then
    [[ -n $SSL_PORT ]] || die "EIP_KAFKA_SCRAM_PORT needs EIP_KAFKA_SSL_PORT too (the SASL_SSL listener)"
    [[ $SCRAM_USER =~ ^[A-Za-z0-9._-]+$ && $SCRAM_PASSWORD =~ ^[A-Za-z0-9._-]+$ ]] ||
      die "EIP_KAFKA_SCRAM_USER and EIP_KAFKA_SCRAM_PASSWORD: letters, digits, . _ - only"
    command -v openssl >/dev/null || apt_ensure openssl
    bash "$EIP_INFRA_DIR/dev-tls.sh" "$DIR/tls"
    # Kafka's PEM keystore: the private key, then the certificate.
    (umask 077 && cat "$DIR/tls/server.key" "$DIR/tls/server.crt" >"$DIR/tls/server.pem")
    templates+=("$HERE/secure-listeners.properties")
  fi
  cat "${templates[@]}" | sed -e "s|@PORT@|$KAFKA_PORT|g" -e "s|@CONTROLLER_PORT@|$CONTROLLER_PORT|g" \
      -e "s|@SCRAM_PORT@|$SCRAM_PORT|g" -e "s|@SSL_PORT@|$SSL_PORT|g" -e "s|@RUN_DIR@|$DIR|g" >"$CONF"
}

# Which SCRAM user and password the storage holds, as a digest (not the password).
scram_marker() { printf '%s:%s' "$SCRAM_USER" "$SCRAM_PASSWORD" | sha256sum | cut -c1-64; }

# A storage formatted without this SCRAM user (or before SCRAM was asked for)
# gets it through the running broker instead.
ensure_scram_user() {
  [[ -n $SCRAM_PORT ]] || return 0
  [[ $(cat "$DIR/data/.scram-user" 2>/dev/null) == "$(scram_marker)" ]] && return 0
  log "adding SCRAM user $SCRAM_USER (kafka-configs)"
  local m
  # One mechanism per request: the broker refuses two alterations of one user in one request.
  for m in SCRAM-SHA-256 SCRAM-SHA-512; do
    kafka_java kafka.admin.ConfigCommand --bootstrap-server "127.0.0.1:$KAFKA_PORT" --alter --entity-type users --entity-name "$SCRAM_USER" \
      --add-config "$m=[password=$SCRAM_PASSWORD]" >>"$(log_file)" 2>&1 ||
      die "could not add the SCRAM user (log $(log_file))"
  done
  scram_marker >"$DIR/data/.scram-user"
}

kafka_java() { # runs a Kafka main class with the cached jars
  java -Xmx"$KAFKA_HEAP" -Xms256m -XX:+UseG1GC -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$HERE/log4j2.properties" -cp "$LIBS/*" "$@"
}

# A KRaft node needs its storage formatted once (cluster id, and with
# --standalone this node as the single controller voter).
format_once() {
  [[ -f $DIR/data/meta.properties ]] && return 0
  log "formatting storage (cluster id $CLUSTER_ID)"
  local scram=() m
  if [[ -n $SCRAM_PORT ]]; then
    for m in SCRAM-SHA-256 SCRAM-SHA-512; do scram+=(--add-scram "$m=[name=$SCRAM_USER,password=$SCRAM_PASSWORD]"); done
  fi
  kafka_java kafka.tools.StorageTool format --cluster-id "$CLUSTER_ID" \
    --config "$CONF" --standalone "${scram[@]}" >>"$(log_file)" 2>&1 || {
    show_log_tail 20
    die "kafka storage format failed"
  }
  if [[ -n $SCRAM_PORT ]]; then scram_marker >"$DIR/data/.scram-user"; fi
}

# Ready = answers metadata and has a group coordinator (probe with kafkajs
# from the project's node_modules). Without node_modules (npm ci not run
# yet) the broker's own "started" log line is the fallback.
probe() { node "$HERE/ready.mjs" "$EIP_REPO_DIR" "127.0.0.1:$KAFKA_PORT"; }
started_in_log() { tail -c +"$LOG_OFFSET" "$(log_file)" | grep -q 'Kafka Server started'; }

bootstrap_topics() {
  local script=$HERE/bootstrap-topics.ts
  [[ -f $script ]] || return 0
  log "creating the project's topics (infra/kafka/bootstrap-topics.ts)"
  # Once more on failure: a broker seconds old can answer the metadata of a
  # topic it has just created with UNKNOWN_TOPIC_OR_PARTITION.
  # Through the PLAINTEXT listener, whatever Kafka client settings the caller's shell holds.
  local run=(env KAFKA_BROKERS="127.0.0.1:$KAFKA_PORT" KAFKA_SSL=false KAFKA_SSL_CA_FILE= KAFKA_SSL_CERT_FILE= KAFKA_SSL_KEY_FILE= KAFKA_SASL_MECHANISM=none node "$script")
  (cd "$EIP_REPO_DIR" && "${run[@]}") || { sleep 2; (cd "$EIP_REPO_DIR" && "${run[@]}"); } ||
    die "infra/kafka/bootstrap-topics.ts failed (the broker is running)"
}

do_up() {
  local pid
  pid=$(running_pid "$CONF")
  if [[ -n $pid ]]; then
    log "already running (pid $pid) on 127.0.0.1:$KAFKA_PORT"
    bootstrap_topics
    return 0
  fi
  do_install
  need_cmd node "Node.js is needed for the readiness probe"
  require_free_port "$KAFKA_PORT"
  require_free_port "$CONTROLLER_PORT"
  if [[ -n $SCRAM_PORT ]]; then require_free_port "$SCRAM_PORT"; require_free_port "${SSL_PORT:-$SCRAM_PORT}"; fi
  render
  format_once
  touch "$(log_file)"
  LOG_OFFSET=$(($(stat -c %s "$(log_file)") + 1))
  start_daemon java -Xmx"$KAFKA_HEAP" -Xms256m -XX:+UseG1GC -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$HERE/log4j2.properties" -cp "$LIBS/*" kafka.Kafka "$CONF"
  pid=$(<"$(pid_file)")
  wait_for_port "$pid" "$KAFKA_PORT"
  local rc=0
  probe >/dev/null 2>&1 || rc=$?
  if ((rc == 3)); then
    log "kafkajs not found in $EIP_REPO_DIR/node_modules (run npm ci); waiting for the broker's log line instead"
    wait_until "$pid" "'Kafka Server started' in the log" started_in_log
  elif ((rc != 0)); then
    wait_until "$pid" "a metadata answer and a group coordinator (kafkajs)" probe
  fi
  log "ready on 127.0.0.1:$KAFKA_PORT (pid $pid, log $(log_file))"
  ensure_scram_user
  [[ -z $SCRAM_PORT ]] || log "SCRAM user $SCRAM_USER on SASL_PLAINTEXT 127.0.0.1:$SCRAM_PORT and SASL_SSL 127.0.0.1:$SSL_PORT (CA $DIR/tls/ca.crt)"
  bootstrap_topics
}

do_down() { down_server "$CONF" 30; }
do_status() { status_line "$CONF" "$KAFKA_PORT"; }

dispatch "$@"
