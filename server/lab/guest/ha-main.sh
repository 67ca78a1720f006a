#!/bin/bash
# Inside the lab kernel (run by server/lab/ha-lab.ts): the lab in HA mode.
#   ha-main.sh AGENT_BUNDLE CONFIG_DIR RATE [ALLOW_ORIGIN] [--baseline] [--master-master]
# CONFIG_DIR/lvsN/ holds each agent's ha.json and tokens/ (written by the
# host); they are copied to $LAB_STATE/lvsN, the agent's state directory.
# --baseline starts plain keepalived (no Director controller) instead.
# --master-master: two VIPs (.100, .101), one group each, dnsmasq in front
# (see HA_MM in ha-topology.ts); the client reaches the service by name.
# Runs until the kernel is stopped.
set -euo pipefail
source "${BASH_SOURCE[0]%/*}/common.sh"
source "${BASH_SOURCE[0]%/*}/ha-common.sh"
[[ $# -ge 3 ]] || { echo "usage: ha-main.sh AGENT_BUNDLE CONFIG_DIR RATE [ALLOW_ORIGIN] [--baseline] [--master-master]" >&2; exit 2; }
bundle=$1 config=$2 rate=$3 origin=${4:-} baseline=""
export HA_MM=""
for a in "${@:5}"; do
  case $a in
    --baseline) baseline=--baseline ;;
    --master-master) HA_MM=1 ;;
    *) echo "ha-main.sh: unknown option '$a'" >&2; exit 2 ;;
  esac
done
step() { echo "@@lab-step $*"; }

export DIRECTOR_LAB=1 DIRECTOR_LAB_MODE=ha DIRECTOR_LAB_GUEST_DIR="$GUEST_DIR" DIRECTOR_LAB_STATE="$LAB_STATE"
mkdir -p "$LAB_STATE"
echo "{\"rate\":$rate}" >"$LAB_STATE/traffic-control.json"

bash "$GUEST_DIR/ha-topology.sh"
nap_init

for d in $DIRECTORS; do
  dir=$(ha_dir "$d")
  cp -a "$config/$d/." "$dir/"
  [[ -f $dir/ha.json ]] || { echo "ha-main.sh: $config/$d/ha.json is missing" >&2; exit 2; }
done
if [[ $baseline == --baseline ]]; then
  step "ha: baseline: plain keepalived, agents without HA"
  bash "$GUEST_DIR/ha-faults.sh" baseline on
fi

# when the VIP really came and went in each director (tests time takeovers from these, not from
# how soon a status request got through a busy lab): one `ip monitor` per namespace, event-driven
for d in $DIRECTORS; do
  ip netns exec "$d" ip -ts -o monitor address >>"$(ha_dir "$d")/addr-events.log" 2>&1 </dev/null &
done

step "ha: agents starting in lvs1 and lvs2"
for d in $DIRECTORS; do
  ip netns exec "$d" bash "$GUEST_DIR/ha-agent-loop.sh" "$d" "$bundle" "$origin" </dev/null &
done

step "ha: port proxy on ${LAB_PROXY_ADDR:=169.254.150.2}: 9581 -> lvs1, 9582 -> lvs2, 9583 -> ZooKeeper"
# ZooKeeper too, so a test on the host can play an outsider against its ACLs (only the host side of the tap reaches it)
node "$GUEST_DIR/ha-proxy.mjs" "$LAB_PROXY_ADDR" 9581=192.168.150.2:$AGENT_PORT 9582=192.168.150.3:$AGENT_PORT 9583=$ZK_IP:$ZK_PORT \
  >>"$LAB_STATE/proxy.log" 2>&1 </dev/null &
proxy=$!

step "traffic: $rate requests/s per service to the VIP${HA_MM:+s by name ($MM_NAME through $DNS_IP)}, long downloads on :$SLOW_PORT"
# 3 s: a SYN lost in a failover is resent after 1 s; one that needs the second resend (3 s) failed
ip netns exec client node "$GUEST_DIR/traffic.mjs" --state "$LAB_STATE" --rate "$rate" --timeout-ms 3000 \
  >>"$LAB_STATE/traffic.log" 2>&1 </dev/null &
ip netns exec client node "$GUEST_DIR/ha-download.mjs" --state "$LAB_STATE" --url "http://$VIP:$SLOW_PORT/?s=20" \
  >>"$LAB_STATE/download.log" 2>&1 </dev/null &

for ((i = 0; i < 600; i++)); do zk_ready && break; nap 0.5; done
zk_ready || { echo "ha-main.sh: ZooKeeper did not answer within 300 s; $LAB_STATE/zk/out.log:" >&2; tail -20 "$LAB_STATE/zk/out.log" >&2; }
step "ha: ZooKeeper serving"

step "lab: running"
set +e
wait "$proxy"
status=$?
echo "lab: the port proxy exited with status $status" >&2
exit "$status"
