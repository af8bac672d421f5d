#!/bin/sh
# Installs mail-srs: programs, man pages, completions, systemd units and the
# example configuration, and lists each file it installs. A configuration or
# keys file already there is never overwritten. A missing keys file is
# created (mode 0640) with srs keygen, but not under DESTDIR: a key made
# there would end up in a package, shared by every host that installs it.
# srsd.service then makes one on the target at first start.
#
#   PREFIX=/usr DESTDIR=/tmp/pkg scripts/install.sh
#
# PREFIX (default /usr/local), DESTDIR (default empty), SYSCONFDIR (default
# /etc). BINDIR names already built binaries instead of building them
# (scripts/build.sh).
set -eu
cd "$(dirname "$0")/.."
PREFIX=${PREFIX:-/usr/local}
DESTDIR=${DESTDIR:-}
SYSCONFDIR=${SYSCONFDIR:-/etc}
if [ -z "${BINDIR:-}" ]; then
    scripts/build.sh
    BINDIR=target/release
fi
root=$DESTDIR$PREFIX
conf=$DESTDIR$SYSCONFDIR/mail-srs

# put MODE SOURCE TARGET: installs one file and says so.
put() {
    install -D -m "$1" "$2" "$3"
    echo "installed $3"
}

for p in srs srsc srs-forwarder srs-reverser; do
    put 0755 "$BINDIR/$p" "$root/bin/$p"
done
put 0755 "$BINDIR/srsd" "$root/sbin/srsd"
put 0755 "$BINDIR/srsrelay" "$root/sbin/srsrelay"

for page in man/*.[158]; do
    section=${page##*.}
    put 0644 "$page" "$root/share/man/man$section/${page#man/}"
done

for doc in README.md docs/*.md; do
    put 0644 "$doc" "$root/share/doc/mail-srs/${doc#docs/}"
done

for p in srs srsd srsc srs-forwarder srs-reverser; do
    put 0644 "completions/$p.bash" "$root/share/bash-completion/completions/$p"
    put 0644 "completions/_$p" "$root/share/zsh/site-functions/_$p"
    put 0644 "completions/$p.fish" "$root/share/fish/vendor_completions.d/$p.fish"
done

units=$root/lib/systemd/system
mkdir -p "$units"
for u in srsd.service srsd.socket srsrelay.service; do
    sed -e "s|/usr/sbin/srsd|$PREFIX/sbin/srsd|" -e "s|/usr/sbin/srsrelay|$PREFIX/sbin/srsrelay|" \
        -e "s|/usr/bin/srs |$PREFIX/bin/srs |" -e "s|/etc/mail-srs|$SYSCONFDIR/mail-srs|g" \
        -e "s|/etc/default/srsrelay|$SYSCONFDIR/default/srsrelay|" "systemd/$u" > "$units/$u"
    chmod 0644 "$units/$u"
    echo "installed $units/$u"
done
put 0644 systemd/srsd.sysusers "$root/lib/sysusers.d/srsd.conf"

defaults=$DESTDIR$SYSCONFDIR/default/srsrelay
if [ -e "$defaults" ]; then
    echo "kept existing $defaults"
else
    put 0644 examples/srsrelay.default "$defaults"
fi

mkdir -p "$conf"
if [ -e "$conf/srsd.conf" ]; then
    echo "kept existing $conf/srsd.conf"
else
    sed "s|/etc/mail-srs|$SYSCONFDIR/mail-srs|" examples/srsd.conf > "$conf/srsd.conf"
    chmod 0644 "$conf/srsd.conf"
    echo "installed $conf/srsd.conf"
fi
if [ -e "$conf/srs-keys" ]; then
    echo "kept existing $conf/srs-keys"
elif [ -n "$DESTDIR" ]; then
    echo "no keys file under DESTDIR: srsd.service creates $SYSCONFDIR/mail-srs/srs-keys at first start"
else
    (umask 027 && "$BINDIR/srs" keygen > "$conf/srs-keys")
    chmod 0640 "$conf/srs-keys"
    # Readable by the daemon's group when it exists and we may change it.
    chgrp srsd "$conf/srs-keys" 2>/dev/null || true
    echo "created $conf/srs-keys with a new secret"
fi
