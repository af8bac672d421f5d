#!/bin/sh
# The Debian package, built and tried on this machine: scripts/build.sh
# builds the programs (srs static) and cargo deb packs them,
# lintian must find no error, dpkg -i installs it, the installed programs,
# keys file, user and pages are checked, then dpkg -r (the keys stay, and a
# reinstall keeps them) and dpkg --purge (the keys go). .ci/run runs it
# after the tests. Needs root, cargo-deb and lintian.
#
# The package conflicts with Debian's Perl srs package (the same program
# names), so that one is removed first and put back at the end.
set -eu
cd "$(dirname "$0")/.."

fail() {
    echo "package-test: $*" >&2
    exit 1
}

version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -1)
rm -f target/debian/mail-srs_*.deb
scripts/build.sh
cargo deb --locked --no-build
deb=$(ls target/debian/mail-srs_"$version"-*.deb)
lintian --fail-on error "$deb" || fail "lintian found errors in $deb"

perl_srs=no
if dpkg -s srs >/dev/null 2>&1; then
    perl_srs=yes
    dpkg -r srs
fi
restore() {
    dpkg --purge mail-srs >/dev/null 2>&1 || true
    if [ "$perl_srs" = yes ]; then
        apt-get install -y -q --no-install-recommends srs >/dev/null
    fi
}
trap restore EXIT

dpkg -i "$deb"
[ "$(/usr/bin/srs --version)" = "srs $version" ] || fail "srs --version: $(/usr/bin/srs --version)"
# srs is linked static (scripts/build.sh); the daemons are not.
ldd /usr/bin/srs 2>&1 | grep -q "statically linked" || fail "/usr/bin/srs is not static: $(ldd /usr/bin/srs 2>&1)"
[ "$(/usr/sbin/srsd -v)" = "srsd $version" ] || fail "srsd -v"
[ "$(/usr/sbin/srsrelay -v)" = "srsrelay $version" ] || fail "srsrelay -v"
getent passwd srsd >/dev/null || fail "no srsd user"
keys=/etc/mail-srs/srs-keys
[ "$(stat -c '%a %G' "$keys")" = "640 srsd" ] || fail "$keys: $(stat -c '%a %G' "$keys")"
[ "$(wc -c < "$keys")" -eq 33 ] || fail "$keys does not hold one secret"
secret=$(cat "$keys")
man -w srsd | grep -qx /usr/share/man/man8/srsd.8.gz || fail "man -w srsd: $(man -w srsd)"
[ -f /lib/systemd/system/srsrelay.service ] && [ -f /etc/default/srsrelay ] || fail "srsrelay's unit or defaults missing"
[ -f /usr/share/doc/mail-srs/policy.md ] || fail "docs/policy.md is not installed (srsd(8) points to it)"

# As installed, the configuration is refused for its placeholder domain;
# with a domain, it checks out against the installed keys.
set +e
out=$(/usr/sbin/srsd --check-config --config /etc/mail-srs/srsd.conf 2>&1)
status=$?
set -e
[ $status -eq 78 ] || fail "srsd --check-config gave $status: $out"
echo "$out" | grep -q "forwarder.example is the example configuration's placeholder" ||
    fail "srsd --check-config: $out"
/usr/sbin/srsd --check-config --config /etc/mail-srs/srsd.conf --domain ci.example ||
    fail "srsd --check-config with a domain"
[ "$(/usr/bin/srs -k "$keys" reverse "$(/usr/bin/srs -k "$keys" forward -a ci.example a@b.example)")" = a@b.example ] ||
    fail "forward and reverse with the installed keys"

# Remove: the keys and the configuration stay; a reinstall keeps them.
dpkg -r mail-srs
[ ! -e /usr/bin/srs ] || fail "/usr/bin/srs left after dpkg -r"
[ "$(cat "$keys")" = "$secret" ] || fail "dpkg -r changed the keys"
dpkg -i "$deb"
[ "$(cat "$keys")" = "$secret" ] || fail "a reinstall replaced the keys"

# Purge: the keys and the configuration go.
dpkg --purge mail-srs
[ ! -e /etc/mail-srs ] || fail "/etc/mail-srs left after dpkg --purge: $(ls -la /etc/mail-srs)"
[ ! -e /etc/default/srsrelay ] || fail "/etc/default/srsrelay left after dpkg --purge"
echo "package-test: $deb built, lintian clean of errors, installed, checked, removed and purged"
