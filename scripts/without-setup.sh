#!/bin/sh
# Shows that a test group needs none of the system setup (CONTRIBUTING.md, "Tests"):
#
#   sudo scripts/without-setup.sh npm test -- unit
#
# Linux, as root (unshare and mount). Runs "$@" in a private mount namespace where every
# program scripts/setup.mjs installs (openssh client and server, socat, squid, postgresql,
# chromium) and the .cache it fills (Node 24, code-server) are hidden: /dev/null is bound over each binary (exec fails with
# EACCES), an empty tmpfs over .cache. Nothing outside the namespace changes.
set -e
exec unshare --mount --propagation private sh -c '
set -e
for f in /usr/bin/ssh /usr/bin/ssh-keygen /usr/bin/ssh-agent /usr/bin/ssh-add /usr/bin/ssh-keyscan \
         /usr/bin/scp /usr/bin/sftp /usr/sbin/sshd /usr/bin/socat /usr/sbin/squid /usr/bin/psql \
         /usr/bin/chromium /usr/lib/postgresql/*/bin/*; do
  [ -e "$f" ] && mount --bind /dev/null "$f"
done
cache=$(readlink -f .cache 2>/dev/null || true)
[ -n "$cache" ] && [ -d "$cache" ] && mount -t tmpfs tmpfs "$cache"
exec "$@"' sh "$@"
