#!/bin/bash
# One director's agent, kept running the way systemd's Restart=always
# (RestartSec=1) would: run inside the director's namespace
#   ip netns exec lvsN bash ha-agent-loop.sh lvsN AGENT_BUNDLE [ALLOW_ORIGIN]
# Files in $LAB_STATE/lvsN:
#   held     present: do not (re)start the agent ("stop director" stays stopped)
#   no-ha    present: start the agent without --ha-config (plain keepalived baseline)
#   agent.pid, loop.pid, agent.log (in $DIRECTOR_LAB_LOG_DIR/lvsN-agent.log when set,
#   a host-visible folder, so a failed test can show it)
set -uo pipefail
source "${BASH_SOURCE[0]%/*}/common.sh"
source "${BASH_SOURCE[0]%/*}/ha-common.sh"
[[ $# -ge 2 ]] || { echo "usage: ha-agent-loop.sh lvsN AGENT_BUNDLE [ALLOW_ORIGIN]" >&2; exit 2; }
d=$1 bundle=$2 origin=${3:-}
dir=$(ha_dir "$d")
lan_ip=$(director_lan_ip "$d") || exit 2
mkdir -p "$dir"
log="$dir/agent.log"
[[ -n ${DIRECTOR_LAB_LOG_DIR:-} ]] && mkdir -p "$DIRECTOR_LAB_LOG_DIR" && log="$DIRECTOR_LAB_LOG_DIR/$d-agent.log"
echo $$ >"$dir/loop.pid"
nap_init
# the agent is stopped by signals to its own pid; the loop itself only goes with the lab
trap '' HUP

export DIRECTOR_LAB_DIRECTOR=$d
while :; do
  if [[ -e $dir/held ]]; then nap 0.2; continue; fi
  args=(--listen "$lan_ip:$AGENT_PORT" --insecure-listen --state-dir "$dir" --log-level "${DIRECTOR_LAB_AGENT_LOG_LEVEL:-info}")
  [[ -n $origin ]] && args+=(--allow-origin "$origin")
  [[ -e $dir/no-ha ]] || args+=(--director-id "$d" --ha-config "$dir/ha.json")
  echo "$(printf '%(%FT%T)T') starting: ${args[*]}" >>"$log"
  node --no-memory-reducer "$bundle" "${args[@]}" >>"$log" 2>&1 </dev/null & # see bin/director.mjs
  echo $! >"$dir/agent.pid"
  wait $!
  rc=$?
  echo "$(printf '%(%FT%T)T') agent exited with status $rc" >>"$log"
  rm -f "$dir/agent.pid"
  nap 1
done
