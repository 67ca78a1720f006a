#!/bin/bash
# Prints the lab's observed state as one JSON object (read by the lab router):
# what the kernels say now, not what fault.sh recorded. Three programs per
# real server (ip netns exec, bash, one `ip -batch`); the rest are builtins.
set -uo pipefail
source "${BASH_SOURCE[0]%/*}/common.sh"

has_line() { # pattern <<< text
  local l
  while IFS= read -r l; do [[ $l =~ $1 ]] && return 0; done
  return 1
}
json_bool() { if "$@"; then echo -n true; else echo -n false; fi; }

addrs=$(ip -o addr show dev br0)
read -r forward </proc/sys/net/ipv4/ip_forward
dfaults=""
for f in "$LAB_STATE/faults/director".*; do
  [[ -e $f ]] && dfaults+="${dfaults:+,}\"${f##*/director.}\""
done
printf '{"director":{"vipOnBr0":%s,"ipForward":%s,"faults":[%s]},"realServers":[' \
  "$(json_bool has_line "inet $VIP/32" <<<"$addrs")" "$forward" "$dfaults"
first=true
for rs in $RS_NAMES; do
  rip=$(rs_ip "$rs")
  $first || printf ','
  first=false
  if [[ ! -e /run/netns/$rs ]]; then
    printf '{"name":"%s","address":"%s","exists":false}' "$rs" "$rip"
    continue
  fi
  # sysctls first (one line), then what ip reports
  out=$(ip netns exec "$rs" bash -c '
    for f in all/arp_ignore all/arp_announce eth0/arp_ignore eth0/arp_announce; do
      read -r v </proc/sys/net/ipv4/conf/$f; echo -n "$v "
    done
    echo
    printf "addr show dev lo\nrule show\nroute show table '"$NAT_TABLE"'\nlink show tunl0\n" | ip -o -batch - 2>/dev/null')
  read -r ai aa ei ea <<<"${out%%$'\n'*}"
  pid=$(httpd_pid "$rs" || true)
  faults=""
  for f in "$LAB_STATE/faults/$rs".*; do
    [[ -e $f ]] && faults+="${faults:+,}\"${f##*/$rs.}\""
  done
  printf '{"name":"%s","address":"%s","exists":true,"vipOnLo":%s,"arp":{"allIgnore":%s,"allAnnounce":%s,"eth0Ignore":%s,"eth0Announce":%s},"natRule":%s,"natRoute":%s,"tunl0Up":%s,"httpdPid":%s,"faults":[%s]}' \
    "$rs" "$rip" \
    "$(json_bool has_line "lo +inet $VIP/32" <<<"$out")" \
    "${ai:-null}" "${aa:-null}" "${ei:-null}" "${ea:-null}" \
    "$(json_bool has_line "^$NAT_RULE_PRIORITY:[[:space:]]+from $rip lookup $NAT_TABLE" <<<"$out")" \
    "$(json_bool has_line "^default via $DIP dev eth0" <<<"$out")" \
    "$(json_bool has_line "tunl0[@:][^<]*<([^>]*,)?UP[,>]" <<<"$out")" \
    "${pid:-null}" "$faults"
done
printf ']}\n'
