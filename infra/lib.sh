# Shared helpers for the infra scripts. Sourced, not executed.
# Installs go to $EIP_CACHE_DIR (outside the repository, reused across runs);
# data, pid files and logs of server X go to $EIP_RUN_DIR/X.

set -euo pipefail

EIP_INFRA_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
EIP_REPO_DIR=$(dirname "$EIP_INFRA_DIR")
: "${EIP_CACHE_DIR:=$HOME/.cache/eip-telemetry}"
: "${EIP_RUN_DIR:=$EIP_CACHE_DIR/run}"
: "${EIP_WAIT_TIMEOUT:=120}"
export EIP_CACHE_DIR EIP_RUN_DIR
mkdir -p "$EIP_CACHE_DIR" "$EIP_RUN_DIR"

# CI has no terminal; keep apt and debconf from asking.
export DEBIAN_FRONTEND=noninteractive

EIP_NAME=${EIP_NAME:-infra}

log() { printf '[%s] %s\n' "$EIP_NAME" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

srv_dir() { echo "$EIP_RUN_DIR/$EIP_NAME"; }
pid_file() { echo "$EIP_RUN_DIR/$EIP_NAME/$EIP_NAME.pid"; }
log_file() { echo "$EIP_RUN_DIR/$EIP_NAME/$EIP_NAME.log"; }

# Serialise up/down/install of one server: two CI steps or two shells running
# `up` together would otherwise both format storage or both start a process.
# The lock is released when the script exits (fd closes).
take_lock() {
  local f="$EIP_CACHE_DIR/.lock-$EIP_NAME"
  exec {EIP_LOCK_FD}>"$f"
  if ! flock -w 3600 "$EIP_LOCK_FD"; then die "could not lock $f"; fi
}

# Pid of the running server, or nothing. The pid file alone is not trusted:
# after a reboot or a kill -9 the pid may belong to an unrelated process, so
# its command line must also contain $1 (a word unique to the server).
running_pid() {
  local match=$1 pf pid
  pf=$(pid_file)
  [[ -s $pf ]] || return 0
  pid=$(<"$pf")
  if [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null &&
     tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$match"; then
    echo "$pid"
  fi
}

port_open() { (exec 3<>"/dev/tcp/${2:-127.0.0.1}/$1") 2>/dev/null; }

# Refuse to start on a port somebody else holds: the readiness check would
# otherwise succeed against the wrong process.
require_free_port() {
  if port_open "$1"; then
    die "port $1 is already in use, and not by a server of $EIP_RUN_DIR; free it or set the port variable"
  fi
}

show_log_tail() {
  local lf
  lf=$(log_file)
  if [[ -s $lf ]]; then
    log "last lines of $lf:"
    tail -n "${1:-40}" "$lf" | sed 's/^/    /' >&2
  fi
}

# wait_until <pid> <what> <command...>: polls the command every half second
# until it succeeds, the process dies, or EIP_WAIT_TIMEOUT passes.
wait_until() {
  local pid=$1 what=$2; shift 2
  local deadline=$((SECONDS + EIP_WAIT_TIMEOUT))
  until "$@" >/dev/null 2>&1; do
    if ! kill -0 "$pid" 2>/dev/null; then
      show_log_tail
      die "$EIP_NAME exited while waiting for $what"
    fi
    if ((SECONDS >= deadline)); then
      show_log_tail
      die "timed out after ${EIP_WAIT_TIMEOUT}s waiting for $what"
    fi
    sleep 0.5
  done
}

wait_for_port() { wait_until "$1" "port $2" port_open "$2"; }

http_ok() { curl -fsS --max-time 3 -o /dev/null "$1"; }
wait_for_http() { wait_until "$1" "$2" http_ok "$2"; }

# start_daemon <command...>: runs in the background, detached from the
# caller's session (so Ctrl-C or the end of a CI step's shell does not take it
# down), output appended to the server log, pid recorded.
start_daemon() {
  local lf pf
  lf=$(log_file); pf=$(pid_file)
  printf '\n==== %s starting: %s\n' "$(date -Is)" "$*" >>"$lf"
  # The child must not inherit the lock's fd: it would hold the lock for its
  # whole life and block every later up/down.
  if [[ -n ${EIP_LOCK_FD:-} ]]; then
    setsid nohup "$@" >>"$lf" 2>&1 </dev/null {EIP_LOCK_FD}>&- &
  else
    setsid nohup "$@" >>"$lf" 2>&1 </dev/null &
  fi
  echo $! >"$pf"
}

# stop_pid <pid> [grace seconds]: SIGTERM, wait, then SIGKILL.
stop_pid() {
  local pid=$1 grace=${2:-30} i
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < grace * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  log "still running after ${grace}s; sending SIGKILL to $pid"
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
}

# down_server <match>: the common `down` for all three servers.
down_server() {
  local pid
  pid=$(running_pid "$1")
  if [[ -z $pid ]]; then
    log "not running"
  else
    log "stopping pid $pid"
    stop_pid "$pid" "${2:-30}"
    log "stopped"
  fi
  rm -f "$(pid_file)"
}

# status_line <match> <port>: one line, exit 0 only when running.
status_line() {
  local pid
  pid=$(running_pid "$1")
  if [[ -n $pid ]]; then
    printf '%-10s running  127.0.0.1:%-5s pid %s  log %s\n' "$EIP_NAME" "$2" "$pid" "$(log_file)"
  else
    printf '%-10s stopped  127.0.0.1:%-5s\n' "$EIP_NAME" "$2"
    return 1
  fi
}

# apt_ensure <package...>: installs only what is missing. A fresh CI image has
# no package lists, so `apt-get update` runs before the first install, and not
# again for an hour (stack.sh installs for three servers in a row). apt runs
# are serialised across our scripts.
apt_ensure() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  local sudo=()
  if ((EUID != 0)); then
    command -v sudo >/dev/null || die "need root (or sudo) to apt-get install ${missing[*]}"
    sudo=(sudo -n)
  fi
  log "apt-get install ${missing[*]}"
  (
    flock -w 900 9 || die "could not lock apt"
    local stamp=$EIP_CACHE_DIR/.apt-updated
    if [[ -z $(find "$stamp" -mmin -60 2>/dev/null) ]]; then
      "${sudo[@]}" apt-get update -q
      touch "$stamp"
    fi
    "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
  ) 9>"$EIP_CACHE_DIR/.lock-apt" >"$EIP_CACHE_DIR/apt-$EIP_NAME.log" 2>&1 || {
    tail -n 30 "$EIP_CACHE_DIR/apt-$EIP_NAME.log" >&2
    die "apt-get install ${missing[*]} failed (full output: $EIP_CACHE_DIR/apt-$EIP_NAME.log)"
  }
}

need_cmd() {
  command -v "$1" >/dev/null || die "$1 not found on PATH: $2"
}

# Main dispatch used by every server script: <script> up|down|status|install.
dispatch() {
  local cmd=${1:-}
  case $cmd in
    up | down | install) take_lock; "do_$cmd" ;;
    status) do_status ;;
    *) echo "usage: $0 up|down|status|install" >&2; exit 2 ;;
  esac
}
