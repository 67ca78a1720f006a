#!/bin/bash
# The HA lab's fault switches (run by the lab router or by hand, as root in
# the guest; any namespace):
#   ha-faults.sh kill-keepalived-master      SIGKILL keepalived where the VIP is
#   ha-faults.sh stop-director lvsN          hold the restart loop, SIGTERM the agent
#                                            (it stops keepalived and releases its lease)
#   ha-faults.sh kill-director lvsN          SIGKILL agent and keepalived; the loop
#                                            restarts the agent after 1 s, as systemd would
#   ha-faults.sh start-director lvsN [--preempt true|false]
#   ha-faults.sh cut-heartbeat | heal-heartbeat
#                                            detach hb-lvs2 from hbbr: carrier stays up,
#                                            VRRP adverts are lost both ways
#   ha-faults.sh stop-zookeeper | start-zookeeper
#   ha-faults.sh baseline on|off             plain keepalived without Director (agents
#                                            restarted without --ha-config), or back
# Markers under $LAB_STATE/faults say which switches are on.
set -uo pipefail
source "${BASH_SOURCE[0]%/*}/common.sh"
source "${BASH_SOURCE[0]%/*}/ha-common.sh"
nap_init
mkdir -p "$LAB_STATE/faults"

usage() { echo "usage: ha-faults.sh kill-keepalived-master | stop-director|kill-director|start-director lvsN [--preempt true|false] | cut-heartbeat | heal-heartbeat | stop-zookeeper | start-zookeeper | baseline on|off" >&2; exit 2; }
need_director() { [[ ${1:-} == lvs1 || ${1:-} == lvs2 ]] || { echo "ha-faults.sh: expected lvs1 or lvs2, got '${1:-}'" >&2; exit 2; }; }
mark() { if [[ $2 == on ]]; then : >"$LAB_STATE/faults/$1"; else rm -f "$LAB_STATE/faults/$1"; fi; }

wait_gone() { # pid seconds
  local i
  for ((i = 0; i < $2 * 10; i++)); do pid_alive "$1" || return 0; nap 0.1; done
  return 1
}

stop_agent() { # director signal
  local pid
  pid=$(agent_pid "$1") || return 0
  # when the fault really began (the script's own start-up is lab overhead): tests measure from here
  echo "ha-faults.sh: signalled $1 at $EPOCHREALTIME"
  kill "-$2" "$pid" 2>/dev/null
  if ! wait_gone "$pid" 15; then
    echo "ha-faults.sh: the agent of $1 (pid $pid) ignored SIG$2 for 15 s; killing it" >&2
    kill -9 "$pid" 2>/dev/null
    wait_gone "$pid" 5
  fi
}

plain_conf() { # director: keepalived.conf of the baseline, written by hand (no Director, no lease, no fencing)
  local d=$1 peer; peer=$(director_peer "$d")
  cat <<CONF
global_defs {
  router_id $d
  vrrp_version 3
}
vrrp_instance VI_lan {
  state BACKUP
  interface hb0
  unicast_src_ip $(director_hb_ip "$d")
  unicast_peer {
    $(director_hb_ip "$peer")
  }
  virtual_router_id $HA_VRID
  priority $(director_priority "$d")
  advert_int 0.5
  nopreempt
  virtual_ipaddress {
    $VIP/32 dev eth0
    $DIP/32 dev eth0
  }
}
CONF
}

start_plain_keepalived() { # director
  local d=$1 p; p="$(ha_dir "$d")/plain"
  mkdir -p "$p"
  plain_conf "$d" >"$p/keepalived.conf"
  ip netns exec "$d" /usr/sbin/keepalived -n -l -G -D -P -f "$p/keepalived.conf" -p "$p/keepalived.pid" -r "$p/vrrp.pid" \
    >>"$p/keepalived.log" 2>&1 </dev/null &
  echo $! >"$p/main.pid"
}

stop_plain_keepalived() { # director
  local p pid; p="$(ha_dir "$1")/plain"
  [[ -f $p/main.pid ]] || return 0
  pid=$(<"$p/main.pid")
  # SIGTERM: keepalived removes its VIPs on the way out
  if pid_alive "$pid"; then kill "$pid"; wait_gone "$pid" 10 || kill -9 "$pid"; fi
  rm -f "$p/main.pid"
}

master() { # the director(s) holding the VIP now
  local d out=""
  for d in $DIRECTORS; do addr_on "$d" "$VIP" && out+="$d "; done
  echo "$out"
}

[[ $# -ge 1 ]] || usage
fault=$1; shift
case $fault in
  kill-keepalived-master)
    m=$(master)
    [[ -n $m ]] || { echo "ha-faults.sh: no director holds the VIP $VIP" >&2; exit 1; }
    for d in $m; do
      pids=$(pids_in_ns keepalived "$d")
      [[ -n $pids ]] || { echo "ha-faults.sh: $d holds the VIP but runs no keepalived" >&2; exit 1; }
      echo "ha-faults.sh: signalled $d at $EPOCHREALTIME"
      # shellcheck disable=SC2086
      kill -9 $pids
      echo "ha-faults.sh: killed keepalived of $d (pids $pids)"
    done ;;
  stop-director)
    need_director "${1:-}"; d=$1
    : >"$(ha_dir "$d")/held"
    mark "stopped-$d" on
    stop_agent "$d" TERM
    echo "ha-faults.sh: $d stopped" ;;
  kill-director)
    need_director "${1:-}"; d=$1
    pids=$(pids_in_ns keepalived "$d")
    a=$(agent_pid "$d" || true)
    echo "ha-faults.sh: signalled $d at $EPOCHREALTIME"
    # shellcheck disable=SC2086
    [[ -n "$a$pids" ]] && kill -9 $a $pids
    echo "ha-faults.sh: killed ${a:+agent $a }${pids:+keepalived $pids}of $d" ;;
  start-director)
    need_director "${1:-}"; d=$1; shift
    if [[ ${1:-} == --preempt ]]; then
      [[ ${2:-} == true || ${2:-} == false ]] || { echo "ha-faults.sh: --preempt takes true or false" >&2; exit 2; }
      f="$(ha_dir "$d")/ha.json"
      c=$(<"$f")
      # ha.json is compact JSON written by the lab (one "preempt" per group)
      c=${c//\"preempt\":true/\"preempt\":$2}
      c=${c//\"preempt\":false/\"preempt\":$2}
      printf '%s\n' "$c" >"$f.tmp" && mv "$f.tmp" "$f"
    fi
    rm -f "$(ha_dir "$d")/held"
    mark "stopped-$d" off
    echo "ha-faults.sh: $d starting" ;;
  cut-heartbeat)
    ip -n "$SWITCH_NS" link set hb-lvs2 nomaster
    mark cut-heartbeat on
    echo "ha-faults.sh: heartbeat cut (hb-lvs2 detached from hbbr)" ;;
  heal-heartbeat)
    ip -n "$SWITCH_NS" link set hb-lvs2 master hbbr
    mark cut-heartbeat off
    echo "ha-faults.sh: heartbeat healed" ;;
  stop-zookeeper)
    stop_zookeeper
    mark stop-zookeeper on
    echo "ha-faults.sh: ZooKeeper stopped" ;;
  start-zookeeper)
    start_zookeeper
    mark stop-zookeeper off
    echo "ha-faults.sh: ZooKeeper starting" ;;
  baseline)
    [[ ${1:-} == on || ${1:-} == off ]] || usage
    if [[ $1 == on ]]; then
      for d in $DIRECTORS; do : >"$(ha_dir "$d")/no-ha"; stop_agent "$d" TERM; done
      for d in $DIRECTORS; do start_plain_keepalived "$d"; done
    else
      for d in $DIRECTORS; do stop_plain_keepalived "$d"; done
      for d in $DIRECTORS; do rm -f "$(ha_dir "$d")/no-ha"; stop_agent "$d" TERM; done
    fi
    mark baseline "$1"
    echo "ha-faults.sh: baseline $1" ;;
  *)
    echo "ha-faults.sh: unknown fault '$fault'" >&2; usage ;;
esac
