#!/bin/bash
# Breaks or repairs one real server of the lab in the ways the seed discusses.
#   fault.sh rs1|rs2 FAULT on|off
# FAULT:
#   stop-httpd        stop its web server (connections refused)
#   remove-vip        remove the VIP from its loopback (DR/TUN: its kernel drops
#                     the packets, SYN_RECV piles up on the director)
#   break-arp         arp_ignore/arp_announce back to 0 on all and eth0 (DR ARP
#                     problem: it answers for the VIP and announces it)
#   remove-nat-route  remove its route back through the director (NAT replies
#                     go straight to the client, which resets them)
# "off" restores exactly what topology.sh set up. Both are idempotent.
set -euo pipefail
source "$(dirname "$(readlink -f "$0")")/common.sh"

usage() { echo "usage: fault.sh rs1|rs2 stop-httpd|remove-vip|break-arp|remove-nat-route on|off" >&2; exit 2; }
[[ $# -eq 3 ]] || usage
rs=$1 fault=$2 state=$3
rs_ip "$rs" >/dev/null || usage
[[ $state == on || $state == off ]] || { echo "fault.sh: state must be on or off, not '$state'" >&2; exit 2; }
mkdir -p "$LAB_STATE/faults"
mark="$LAB_STATE/faults/$rs.$fault"

case $fault in
  stop-httpd)
    if [[ $state == on ]]; then stop_httpd "$rs"; else start_httpd "$rs"; wait_httpd "$rs"; fi ;;
  remove-vip)
    if [[ $state == on ]]; then
      ip -n "$rs" addr del "$VIP/32" dev lo 2>/dev/null || true
    else
      ip -n "$rs" addr replace "$VIP/32" dev lo
    fi ;;
  break-arp)
    if [[ $state == on ]]; then
      set_rs_arp "$rs" 0 0
      # Its next reply to the client must resolve the client afresh; with
      # arp_announce=0 that request carries the VIP as sender and overwrites
      # the client's entry for the VIP (the seed's ARP problem), instead of
      # waiting up to a minute for the cache to age.
      ip -n "$rs" neigh flush dev eth0
    else
      set_rs_arp "$rs" 1 2
      # The client may still hold the real server's MAC for the VIP; a real
      # network waits for the entry to expire (or a gratuitous ARP from the
      # director). Forget it so the director answers again.
      ip -n client neigh del "$VIP" dev eth0 2>/dev/null || true
    fi ;;
  remove-nat-route)
    if [[ $state == on ]]; then del_nat_route "$rs"; else del_nat_route "$rs"; add_nat_route "$rs"; fi ;;
  *)
    echo "fault.sh: unknown fault '$fault'" >&2; usage ;;
esac

if [[ $state == on ]]; then : >"$mark"; else rm -f "$mark"; fi
echo "fault.sh: $rs $fault $state"
