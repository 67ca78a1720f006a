#!/bin/sh
# Users and folders Director needs, for the Debian package's postinst and for a tarball
# install (run it as root after unpacking the tarball at /). Safe to run again.
#   director          the agent (CAP_NET_ADMIN through its unit); owns /var/lib/director
#   director-console  the console (no privilege); owns /var/lib/director-console
#   director-check    the check runner (director-checks.service): misc-check scripts run as it,
#                     with no capability and no access to the state folders; the agent's user
#                     is in its group, to reach the runner's socket (never the other way round)
# /etc/director is root's and readable (0755): both services read their own file in it,
# each file readable by its service's group only; secrets live in the state folders.
set -e
nologin=/usr/sbin/nologin
[ -x "$nologin" ] || nologin=/bin/false
for u in director:/var/lib/director:agent director-console:/var/lib/director-console:console director-check:/nonexistent:check-runner; do
  name=${u%%:*}; rest=${u#*:}; home=${rest%%:*}; what=${rest#*:}
  if ! getent passwd "$name" >/dev/null; then
    useradd --system --user-group --home-dir "$home" --no-create-home --shell "$nologin" \
      --comment "Director $what" "$name"
  fi
done
id -nG director | tr ' ' '\n' | grep -qx director-check || usermod -a -G director-check director
install -d -o root -g root -m 0755 /etc/director
install -d -o root -g root -m 0755 /etc/director/checks.d
install -d -o director -g director -m 0700 /var/lib/director
install -d -o director-console -g director-console -m 0700 /var/lib/director-console
for f in agent:director console:director-console; do
  file=/etc/director/${f%%:*}.toml
  if [ -f "$file" ]; then chown "root:${f#*:}" "$file"; chmod 0640 "$file"; fi
done
