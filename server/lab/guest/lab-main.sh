#!/bin/bash
# Inside the lab kernel (run by server/lab/start.ts): the agent, the seed's
# topology and the traffic generator. Runs until the kernel is stopped.
#   lab-main.sh AGENT_BUNDLE LISTEN AGENT_STATE_DIR RATE [ALLOW_ORIGIN]
# The agent starts first, in the background: its start-up is the slowest
# part, and it overlaps with building the topology.
set -euo pipefail
source "${BASH_SOURCE[0]%/*}/common.sh"
[[ $# -ge 4 ]] || { echo "usage: lab-main.sh AGENT_BUNDLE LISTEN AGENT_STATE_DIR RATE [ALLOW_ORIGIN]" >&2; exit 2; }
bundle=$1 listen=$2 agent_state=$3 rate=$4 origin=${5:-}
step() { echo "@@lab-step $*"; }

export DIRECTOR_LAB=1 DIRECTOR_LAB_GUEST_DIR="$GUEST_DIR" DIRECTOR_LAB_STATE="$LAB_STATE"
mkdir -p "$LAB_STATE"
echo "{\"rate\":$rate}" >"$LAB_STATE/traffic-control.json"

step "agent: starting on $listen"
# the lab shows hash skew within seconds, not minutes
agent_args=(--listen "$listen" --state-dir "$agent_state" --log-level warn --skew-window 10 --skew-hold 10)
[[ ${listen%:*} == 127.* ]] || agent_args+=(--insecure-listen)
[[ -n $origin ]] && agent_args+=(--allow-origin "$origin")
# --no-memory-reducer: see bin/director.mjs
node --no-memory-reducer "$bundle" "${agent_args[@]}" &
agent=$!

bash "$GUEST_DIR/topology.sh"

step "health: an HTTP GET check on every real server of each service"
mkdir -p "$agent_state"
node "$GUEST_DIR/lab-checks.mjs" "$LAB_STATE/services.json" $(for rs in $RS_NAMES; do rs_ip "$rs"; done) >"$agent_state/health.json.tmp"
chmod 600 "$agent_state/health.json.tmp"
mv "$agent_state/health.json.tmp" "$agent_state/health.json"

step "traffic: $rate requests/s per service from the client namespace"
ip netns exec client node "$GUEST_DIR/traffic.mjs" --state "$LAB_STATE" --rate "$rate" >>"$LAB_STATE/traffic.log" 2>&1 </dev/null &

step "lab: running"
set +e
wait "$agent"
status=$?
echo "lab: the agent exited with status $status" >&2
exit "$status"
