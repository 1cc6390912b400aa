#!/bin/sh
# RUSTC_WRAPPER for building Flux (a dependency of influxd): Flux's old Rust
# code sets deny(warnings), and today's rustc emits new warnings, so the build
# fails unless lints are capped. RUSTFLAGS cannot do this here: cargo is run
# with --target, and then RUSTFLAGS skips host build dependencies.
# cargo calls: <wrapper> <rustc> <args...>. Keep a cap cargo already set
# (it passes --cap-lints allow for third-party crates).
for arg in "$@"; do
  case $arg in --cap-lints | --cap-lints=*) exec "$@" ;; esac
done
exec "$@" --cap-lints warn
