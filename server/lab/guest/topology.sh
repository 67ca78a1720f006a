#!/bin/bash
# Builds the seed's LVS lab inside the lab kernel (run as root in the guest):
#   br0 (guest root namespace) is the LAN; the root namespace is the director
#   (DIP 192.168.150.1/24, VIP 192.168.150.100 on br0); namespaces rs1 (.12),
#   rs2 (.13) and client (.200) hang off br0 by veth.
# Services: DR on VIP:80, NAT on VIP:8080 -> RS:80, TUN (ipip) on VIP:8081.
# Writes $LAB_STATE/services.json (what the traffic generator targets).
#
# Every program started inside user-mode Linux costs about a second when the
# host is busy, so the script batches: one `ip -batch` per namespace, sysctls
# written with shell builtins, one `ipvsadm -R`.
set -euo pipefail
source "${BASH_SOURCE[0]%/*}/common.sh"

step() { echo "@@lab-step $*"; }
mkdir -p "$LAB_STATE"
step "topology: bridge and namespaces"

tun=false
[[ -e /sys/class/net/tunl0 ]] && tun=true

# The director forwards NAT replies back out of br0: it must route, and must
# not tell real servers to bypass it with redirects.
echo 1 >/proc/sys/net/ipv4/ip_forward
echo 0 >/proc/sys/net/ipv4/conf/all/send_redirects
echo 0 >/proc/sys/net/ipv4/conf/default/send_redirects

{
  echo "link add br0 type bridge"
  echo "link set br0 up"
  echo "addr add $DIP/$PREFIX dev br0"
  # /32 so the DIP stays the director's source address towards the real servers
  echo "addr add $VIP/32 dev br0"
  for ns in client $RS_NAMES; do
    echo "netns add $ns"
    echo "link add veth-$ns type veth peer name eth0 netns $ns"
    echo "link set veth-$ns master br0 up"
  done
} | ip -batch -

ip -n client -batch - <<EOB
link set lo up
addr add $CLIENT_IP/$PREFIX dev eth0
link set eth0 up
EOB

step "topology: real servers"
for rs in $RS_NAMES; do
  rip=$(rs_ip "$rs")
  # Inside the real server's namespace: /proc/sys/net is that namespace's.
  ip netns exec "$rs" bash -s <<EOS
set -e
for c in all eth0; do
  # DR/TUN: never answer ARP for the VIP on lo, never announce it
  echo 1 >/proc/sys/net/ipv4/conf/\$c/arp_ignore
  echo 2 >/proc/sys/net/ipv4/conf/\$c/arp_announce
  # TUN: decapsulated packets arrive on tunl0 from a client routed via eth0
  echo 0 >/proc/sys/net/ipv4/conf/\$c/rp_filter
done
$tun && echo 0 >/proc/sys/net/ipv4/conf/tunl0/rp_filter
ip -batch - <<EOB
link set lo up
addr add $rip/$PREFIX dev eth0
link set eth0 up
addr add $VIP/32 dev lo
route add default via $DIP dev eth0 table $NAT_TABLE
rule add from $rip lookup $NAT_TABLE priority $NAT_RULE_PRIORITY
$($tun && echo "link set tunl0 up")
EOB
EOS
  start_httpd "$rs"
done

step "topology: virtual services"
{
  echo "-A -t $VIP:$DR_PORT -s rr"
  echo "-A -t $VIP:$NAT_PORT -s rr"
  $tun && echo "-A -t $VIP:$TUN_PORT -s rr"
  for rs in $RS_NAMES; do
    rip=$(rs_ip "$rs")
    echo "-a -t $VIP:$DR_PORT -r $rip:$DR_PORT -g -w 1"
    echo "-a -t $VIP:$NAT_PORT -r $rip:$DR_PORT -m -w 1"
    # DR and TUN cannot change the port: the real servers listen on 8081 too
    $tun && echo "-a -t $VIP:$TUN_PORT -r $rip:$TUN_PORT -i -w 1"
  done
  true
} | ipvsadm -R

{
  echo '['
  echo "  {\"id\":\"dr\",\"method\":\"DR\",\"address\":\"$VIP\",\"port\":$DR_PORT,\"realPort\":$DR_PORT},"
  echo -n "  {\"id\":\"nat\",\"method\":\"NAT\",\"address\":\"$VIP\",\"port\":$NAT_PORT,\"realPort\":$DR_PORT}"
  $tun && echo -n ",
  {\"id\":\"tun\",\"method\":\"TUN\",\"address\":\"$VIP\",\"port\":$TUN_PORT,\"realPort\":$TUN_PORT}"
  echo
  echo ']'
} >"$LAB_STATE/services.json.tmp"
mv "$LAB_STATE/services.json.tmp" "$LAB_STATE/services.json"
$tun || echo "topology: no tunl0 in this kernel, so no TUN service" >&2
step "topology: ready"
