# Shared by the guest scripts (sourced, never run). Addresses of the seed's
# LVS lab; they exist only inside the lab kernel, never on the host. The lab
# router mirrors them in lib/lab/topology.ts.
VIP=192.168.150.100
DIP=192.168.150.1
PREFIX=24
CLIENT_IP=192.168.150.200
RS_NAMES="rs1 rs2"
DR_PORT=80
NAT_PORT=8080
TUN_PORT=8081
# NAT replies leave a real server with its RIP as source; this policy-routing
# table sends exactly those through the director, while DR and TUN replies
# (source = VIP) still go straight to the client as the seed describes.
NAT_TABLE=150
NAT_RULE_PRIORITY=1000
# (no $(dirname ...): every exec costs a second or more in a busy lab kernel)
GUEST_DIR=${BASH_SOURCE[0]%/*}
LAB_STATE=${DIRECTOR_LAB_STATE:-/run/director-lab}

rs_ip() {
  case $1 in
    rs1) echo 192.168.150.12 ;;
    rs2) echo 192.168.150.13 ;;
    *) echo "unknown real server '$1' (expected rs1 or rs2)" >&2; return 2 ;;
  esac
}

in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

# DR/TUN real servers must neither answer ARP for the VIP on their loopback
# nor use it as the source of their own ARP requests.
set_rs_arp() { # ns ignore announce
  in_ns "$1" sysctl -qw \
    net.ipv4.conf.all.arp_ignore="$2" net.ipv4.conf.all.arp_announce="$3" \
    net.ipv4.conf.eth0.arp_ignore="$2" net.ipv4.conf.eth0.arp_announce="$3"
}

add_nat_route() { # ns
  local rip; rip=$(rs_ip "$1")
  ip -n "$1" route replace default via "$DIP" dev eth0 table "$NAT_TABLE"
  ip -n "$1" rule add from "$rip" lookup "$NAT_TABLE" priority "$NAT_RULE_PRIORITY"
}

del_nat_route() { # ns
  local rip; rip=$(rs_ip "$1")
  ip -n "$1" rule del from "$rip" lookup "$NAT_TABLE" priority "$NAT_RULE_PRIORITY" 2>/dev/null || true
  ip -n "$1" route flush table "$NAT_TABLE" 2>/dev/null || true
}

httpd_pid() { # ns -> prints the pid when the server is running
  local f="$LAB_STATE/httpd-$1.pid" pid
  [[ -f $f ]] || return 1
  pid=$(<"$f")
  kill -0 "$pid" 2>/dev/null || return 1
  echo "$pid"
}

start_httpd() { # ns
  local rip; rip=$(rs_ip "$1")
  httpd_pid "$1" >/dev/null && return 0
  # A simple command, not the in_ns function: backgrounding a function forks a subshell, and $! would be
  # that shell's pid, not the server's (stopping it left the server answering). ip netns exec execs perl
  # in its own process, so $! is the server itself.
  ip netns exec "$1" perl "$GUEST_DIR/httpd.pl" "$rip" "$DR_PORT" "$TUN_PORT" \
    >>"$LAB_STATE/httpd-$1.log" 2>&1 </dev/null &
  echo $! >"$LAB_STATE/httpd-$1.pid"
}

wait_httpd() { # ns: until its server listens on port 80 (read from its namespace's /proc, no program started)
  local pid tcp _
  pid=$(httpd_pid "$1") || return 1
  for _ in {1..100}; do
    tcp=$(<"/proc/$pid/net/tcp") || return 1
    [[ $tcp =~ :0050\ 00000000:0000\ 0A ]] && return 0
    sleep 0.1
  done
  return 1
}

stop_httpd() { # ns
  local pid
  if pid=$(httpd_pid "$1"); then
    kill "$pid"
    # wait for the port to close, so "off" really means connections are refused
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -f "$LAB_STATE/httpd-$1.pid"
}
