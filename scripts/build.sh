#!/bin/sh
# The release build that scripts/install.sh and the Debian package ship:
# every program as `cargo build --release` makes it, then srs linked again,
# static, where the host is Linux with glibc.
#
# Why srs alone: one address through srs is a whole process, and the
# dynamic loader's work (two more libraries, relocating a 4 MB executable)
# doubled its start-up; static, one address costs 1.3x /bin/true, not 2x
# (docs/performance.md). The daemons start once and keep the dynamic link,
# which glibc's name service (getpwnam for --user) prefers. A static srs
# still resolves a redis://HOST through glibc's name service, which wants
# the glibc it was built with at run time: a package built for the release
# it runs on, or a build on the host, has that.
#
# Arguments go to cargo build.
set -eu
cd "$(dirname "$0")/.."
cargo build --release --locked "$@"
case "$(rustc -vV | sed -n 's/^host: //p')" in
*-linux-gnu)
    cargo rustc --release --locked --bin srs -- -C target-feature=+crt-static
    ;;
esac
