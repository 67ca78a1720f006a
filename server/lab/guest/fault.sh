#!/bin/bash
# Breaks or repairs one part of the lab in the ways the seed (and the doctor)
# discusses.
#   fault.sh rs1|rs2 FAULT on|off       a real server
#   fault.sh director FAULT on|off      the director (the guest's root namespace)
# Real-server FAULTs:
#   stop-httpd        stop its web server (connections refused)
#   remove-vip        remove the VIP from its loopback (DR/TUN: its kernel drops
#                     the packets, SYN_RECV piles up on the director)
#   break-arp         arp_ignore/arp_announce back to 0 on all and eth0 (DR ARP
#                     problem: it answers for the VIP and announces it)
#   remove-nat-route  remove its route back through the director: its default
#                     gateway for NAT replies is no longer the director (they go
#                     straight to the client, which resets them)
#   strict-rp-filter  rp_filter 1 on all, eth0 and tunl0 (TUN: decapsulated
#                     packets from clients routed via eth0 are dropped)
# Director FAULTs (each provokes one doctor check, lib/doctor/rules.ts):
#   ip-forward-off    net.ipv4.ip_forward=0 (NAT replies are not routed)
#   strict-rp-filter  rp_filter 1 on all and br0
#   remove-vip        the VIP off br0
#   unload-ipip       rmmod ipip (no tunl0 anywhere: TUN real servers break too)
#   conn-reuse-off    net.ipv4.vs.conn_reuse_mode=0
#   persistent-dr     the DR service made persistent (300 s)
#   mh-dr             the DR service scheduled by mh, without mh-port
#   defense-always    net.ipv4.vs.drop_packet=3
#   defense-active    drop_entry=1 with amemthresh above all memory (the kernel turns it on)
#   conntrack-full    net.ipv4.vs.conntrack=1, nf_conntrack_max=8 and a tc ct action
#                     on br0 that tracks what arrives (the table fills, new clients drop)
#   conntrack-reuse   net.ipv4.vs.conntrack=1 and the same tc ct action (its table not
#                     limited): conntrack is confirmed before IPVS, so a client port
#                     reused for a new connection waits 1 s for its SYN to be sent again
# "off" restores exactly what topology.sh set up (or the kernel's default). Both are idempotent.
set -euo pipefail
source "$(dirname "$(readlink -f "$0")")/common.sh"

usage() {
  echo "usage: fault.sh rs1|rs2 stop-httpd|remove-vip|break-arp|remove-nat-route|strict-rp-filter on|off" >&2
  echo "       fault.sh director ip-forward-off|strict-rp-filter|remove-vip|unload-ipip|conn-reuse-off|persistent-dr|mh-dr|defense-always|defense-active|conntrack-full|conntrack-reuse on|off" >&2
  exit 2
}
[[ $# -eq 3 ]] || usage
rs=$1 fault=$2 state=$3
[[ $rs == director ]] || rs_ip "$rs" >/dev/null || usage
[[ $state == on || $state == off ]] || { echo "fault.sh: state must be on or off, not '$state'" >&2; exit 2; }
mkdir -p "$LAB_STATE/faults"
mark="$LAB_STATE/faults/$rs.$fault"
vs=/proc/sys/net/ipv4/vs

# IPVS's conntrack=1, and a tc ct action on the LAN that commits what arrives, as a firewall would (IPVS
# alone registers no conntrack hooks); off undoes both
conntrack_commit() {
  if [[ $1 == on ]]; then
    echo 1 >$vs/conntrack
    modprobe -a -d /run/m act_ct cls_matchall sch_ingress
    tc qdisc replace dev br0 clsact
    tc filter replace dev br0 ingress pref 1 protocol ip matchall action ct commit
  else
    tc qdisc del dev br0 clsact 2>/dev/null || true
    echo 0 >$vs/conntrack
  fi
}

director_fault() {
  case $fault in
    ip-forward-off)
      if [[ $state == on ]]; then echo 0 >/proc/sys/net/ipv4/ip_forward; else echo 1 >/proc/sys/net/ipv4/ip_forward; fi ;;
    strict-rp-filter)
      local v=0; [[ $state == on ]] && v=1
      echo $v >/proc/sys/net/ipv4/conf/all/rp_filter; echo $v >/proc/sys/net/ipv4/conf/br0/rp_filter ;;
    remove-vip)
      if [[ $state == on ]]; then ip addr del "$VIP/32" dev br0 2>/dev/null || true; else ip addr replace "$VIP/32" dev br0; fi ;;
    unload-ipip)
      if [[ $state == on ]]; then
        modprobe -r -d /run/m ipip
      else
        modprobe -d /run/m ipip
        for r in $RS_NAMES; do
          ip -n "$r" link set tunl0 up
          ip netns exec "$r" sysctl -qw net.ipv4.conf.tunl0.rp_filter=0
        done
      fi ;;
    conn-reuse-off)
      if [[ $state == on ]]; then echo 0 >$vs/conn_reuse_mode; else echo 1 >$vs/conn_reuse_mode; fi ;;
    persistent-dr)
      if [[ $state == on ]]; then ipvsadm -E -t "$VIP:$DR_PORT" -s rr -p 300; else ipvsadm -E -t "$VIP:$DR_PORT" -s rr; fi ;;
    mh-dr)
      if [[ $state == on ]]; then ipvsadm -E -t "$VIP:$DR_PORT" -s mh; else ipvsadm -E -t "$VIP:$DR_PORT" -s rr; fi ;;
    defense-always)
      if [[ $state == on ]]; then echo 3 >$vs/drop_packet; else echo 0 >$vs/drop_packet; fi ;;
    defense-active)
      # the kernel compares free memory with amemthresh once a second and sets drop_entry to 2 while below it
      if [[ $state == on ]]; then echo 1000000000 >$vs/amemthresh; echo 1 >$vs/drop_entry
      else echo 0 >$vs/drop_entry; echo 1024 >$vs/amemthresh; fi ;;
    conntrack-full)
      local max=/proc/sys/net/netfilter/nf_conntrack_max saved="$LAB_STATE/faults/nf_conntrack_max"
      if [[ $state == on ]]; then
        [[ -e $saved ]] || cp "$max" "$saved"
        echo 8 >"$max"
        conntrack_commit on
      else
        conntrack_commit off
        if [[ -e $saved ]]; then cat "$saved" >"$max"; rm -f "$saved"; fi
      fi ;;
    conntrack-reuse)
      conntrack_commit "$state" ;;
    *)
      echo "fault.sh: unknown director fault '$fault'" >&2; usage ;;
  esac
}

if [[ $rs == director ]]; then
  director_fault
  if [[ $state == on ]]; then : >"$mark"; else rm -f "$mark"; fi
  echo "fault.sh: $rs $fault $state"
  exit 0
fi

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
  strict-rp-filter)
    v=0; [[ $state == on ]] && v=1
    args=(net.ipv4.conf.all.rp_filter=$v net.ipv4.conf.eth0.rp_filter=$v)
    [[ -e /proc/sys/net/ipv4/conf/tunl0 ]] && args+=(net.ipv4.conf.tunl0.rp_filter=$v)
    in_ns "$rs" sysctl -qw "${args[@]}" ;;
  *)
    echo "fault.sh: unknown fault '$fault'" >&2; usage ;;
esac

if [[ $state == on ]]; then : >"$mark"; else rm -f "$mark"; fi
echo "fault.sh: $rs $fault $state"
