#!/bin/bash
# Builds the lab's HA topology inside the lab kernel (run as root in the guest):
#   br0 (guest root namespace) is the LAN switch, 192.168.150.254 is only the
#   port proxy's management address; hbbr is the directors' heartbeat path.
#   lvs1 (.2, hb 10.150.1.1) and lvs2 (.3, hb 10.150.1.2): directors, each
#   with its own IPVS table holding the same services; zk (.250) runs
#   ZooKeeper; rs1 (.12), rs2 (.13) and client (.200) as in the single lab.
# The VIP and the NAT gateway 192.168.150.1 are not configured here: they
# float with VRRP (keepalived, driven by the agents).
# Services: DR VIP:80, NAT VIP:8080 -> RS:80, slow downloads DR VIP:8090.
# With HA_MM=1 (master-master): DR :80 and :8090 on both VIPs, no NAT (its
# gateway cannot float with two masters), the second VIP on the real
# servers' loopback too, and dnsmasq in namespace dns (.53) answering
# $MM_NAME from $DNS_DIR/hosts, which the agents write.
set -euo pipefail
source "${BASH_SOURCE[0]%/*}/common.sh"
source "${BASH_SOURCE[0]%/*}/ha-common.sh"

step() { echo "@@lab-step $*"; }
mkdir -p "$LAB_STATE"
step "ha topology: bridges and namespaces"

{
  # the root namespace by name, for scripts that run inside a director's
  echo "netns attach $SWITCH_NS 1"
  echo "link add br0 type bridge"
  echo "link add hbbr type bridge"
  echo "link set br0 up"
  echo "link set hbbr up"
  echo "addr add $LAN_MGMT_IP/$PREFIX dev br0"
  for ns in client $RS_NAMES zk ${HA_MM:+dns}; do
    echo "netns add $ns"
    echo "link add veth-$ns type veth peer name eth0 netns $ns"
    echo "link set veth-$ns master br0 up"
  done
  for d in $DIRECTORS; do
    echo "netns add $d"
    echo "link add lan-$d type veth peer name eth0 netns $d"
    echo "link set lan-$d master br0 up"
    echo "link add hb-$d type veth peer name hb0 netns $d"
    echo "link set hb-$d master hbbr up"
  done
} | ip -batch -

ip -n client -batch - <<EOB
link set lo up
addr add $CLIENT_IP/$PREFIX dev eth0
link set eth0 up
EOB
ip -n zk -batch - <<EOB
link set lo up
addr add $ZK_IP/$PREFIX dev eth0
link set eth0 up
EOB

if [[ -n ${HA_MM:-} ]]; then
  step "ha topology: dnsmasq on $DNS_IP for $MM_NAME"
  ip -n dns -batch - <<EOB
link set lo up
addr add $DNS_IP/$PREFIX dev eth0
link set eth0 up
EOB
  mkdir -p "$DNS_DIR"
  # no master yet: the name answers nothing until the agents write the VIPs that are up
  : >"$DNS_DIR/hosts"
  # it goes into the background and writes its pid file (the agents signal it after rewriting the records);
  # authoritative for director.test (--local): a name without records is NXDOMAIN, not a question upstream
  ip netns exec dns /usr/sbin/dnsmasq -C /dev/null --no-resolv --no-hosts --addn-hosts="$DNS_DIR/hosts" \
    --listen-address=$DNS_IP --bind-interfaces --local=/director.test/ --local-ttl=1 \
    --pid-file="$DNS_DIR/dnsmasq.pid" --user=root --log-facility="$DNS_DIR/dnsmasq.log" </dev/null
fi

# ZooKeeper's JVM is the slowest part to come up: start it first
step "ha topology: ZooKeeper on $ZK_IP:$ZK_PORT"
nap_init
start_zookeeper

step "ha topology: directors"
for d in $DIRECTORS; do
  ip netns exec "$d" bash -s <<EOS
set -e
# NAT replies come back through the director, which must route and must not
# tell the real servers to bypass it
echo 1 >/proc/sys/net/ipv4/ip_forward
echo 0 >/proc/sys/net/ipv4/conf/all/send_redirects
echo 0 >/proc/sys/net/ipv4/conf/default/send_redirects
ip -batch - <<EOB
link set lo up
addr add $(director_lan_ip "$d")/$PREFIX dev eth0
link set eth0 up
addr add $(director_hb_ip "$d")/24 dev hb0
link set hb0 up
EOB
{
  for vip in $VIP ${HA_MM:+$VIP2}; do
    echo "-A -t \$vip:$DR_PORT -s rr"
    echo "-A -t \$vip:$SLOW_PORT -s rr"
    for rip in $(rs_ip rs1) $(rs_ip rs2); do
      echo "-a -t \$vip:$DR_PORT -r \$rip:$DR_PORT -g -w 1"
      echo "-a -t \$vip:$SLOW_PORT -r \$rip:$SLOW_PORT -g -w 1"
    done
  done
  if [[ -z "${HA_MM:-}" ]]; then
    echo "-A -t $VIP:$NAT_PORT -s rr"
    for rip in $(rs_ip rs1) $(rs_ip rs2); do echo "-a -t $VIP:$NAT_PORT -r \$rip:$DR_PORT -m -w 1"; done
  fi
} | ipvsadm -R
EOS
  mkdir -p "$(ha_dir "$d")"
done

step "ha topology: real servers"
for rs in $RS_NAMES; do
  rip=$(rs_ip "$rs")
  ip netns exec "$rs" bash -s <<EOS
set -e
for c in all eth0; do
  # DR: never answer ARP for the VIP on lo, never announce it
  echo 1 >/proc/sys/net/ipv4/conf/\$c/arp_ignore
  echo 2 >/proc/sys/net/ipv4/conf/\$c/arp_announce
done
ip -batch - <<EOB
link set lo up
addr add $rip/$PREFIX dev eth0
link set eth0 up
addr add $VIP/32 dev lo
${HA_MM:+addr add $VIP2/32 dev lo}
route add default via $DIP dev eth0 table $NAT_TABLE
rule add from $rip lookup $NAT_TABLE priority $NAT_RULE_PRIORITY
EOB
EOS
  start_httpd "$rs"
  # long downloads for the connection-sync test, beside the ordinary server
  # not through in_ns: $! must be the server's pid (see start_httpd)
  ip netns exec "$rs" perl "$GUEST_DIR/ha-slowd.pl" "$rip" "$SLOW_PORT" >>"$LAB_STATE/slowd-$rs.log" 2>&1 </dev/null &
  echo $! >"$LAB_STATE/slowd-$rs.pid"
done

if [[ -n ${HA_MM:-} ]]; then
  # the client resolves the name for each request (traffic.mjs): the DNS answer spreads it over the VIPs
  cat >"$LAB_STATE/services.json.tmp" <<JSON
[
  {"id":"dr","method":"DR","address":"$MM_NAME","name":"$MM_NAME","resolver":"$DNS_IP","port":$DR_PORT,"realPort":$DR_PORT}
]
JSON
  : >"$LAB_STATE/ha-mm"
else
cat >"$LAB_STATE/services.json.tmp" <<JSON
[
  {"id":"dr","method":"DR","address":"$VIP","port":$DR_PORT,"realPort":$DR_PORT},
  {"id":"nat","method":"NAT","address":"$VIP","port":$NAT_PORT,"realPort":$DR_PORT}
]
JSON
fi
mv "$LAB_STATE/services.json.tmp" "$LAB_STATE/services.json"
echo ha >"$LAB_STATE/mode"
step "ha topology: ready"
