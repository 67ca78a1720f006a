# HA mode of the lab (sourced after common.sh, never run). Two directors lvs1
# and lvs2 as namespaces, ZooKeeper in namespace zk; the design is in
# /work/notes/ha-design.md and the router mirrors it in lib/lab/ha-topology.ts.
DIRECTORS="lvs1 lvs2"
LAN_MGMT_IP=192.168.150.254
ZK_IP=192.168.150.250
ZK_PORT=2181
SLOW_PORT=8090
AGENT_PORT=9580
HA_VRID=51
# master-master (ha-main.sh --master-master, HA_MM=1): the second VIP and the DNS server in front (HA_MM in ha-topology.ts)
VIP2=192.168.150.101
DNS_IP=192.168.150.53
MM_NAME=www.director.test
DNS_DIR=$LAB_STATE/dns

director_lan_ip() { case $1 in lvs1) echo 192.168.150.2 ;; lvs2) echo 192.168.150.3 ;; *) echo "unknown director '$1' (expected lvs1 or lvs2)" >&2; return 2 ;; esac; }
director_hb_ip() { case $1 in lvs1) echo 10.150.1.1 ;; lvs2) echo 10.150.1.2 ;; *) echo "unknown director '$1'" >&2; return 2 ;; esac; }
director_peer() { case $1 in lvs1) echo lvs2 ;; lvs2) echo lvs1 ;; esac; }
director_priority() { case $1 in lvs1) echo 150 ;; lvs2) echo 100 ;; esac; }

ha_dir() { echo "$LAB_STATE/$1"; }

# A sleep without starting a program (each exec costs about a second in a busy
# lab kernel): read with a timeout from a fifo nobody writes to.
nap_init() {
  local f="$LAB_STATE/.nap.$$.$BASHPID"
  [[ -p $f ]] || mkfifo "$f"
  exec {NAP_FD}<>"$f"
  rm -f "$f"
}
nap() { read -r -t "$1" -u "$NAP_FD" _ 2>/dev/null || true; }

pid_alive() { [[ -n ${1:-} && -e /proc/$1 ]] && kill -0 "$1" 2>/dev/null; }

# pids of processes called NAME whose network namespace is netns NS (builtins only)
pids_in_ns() { # name ns
  local p c out=""
  for p in /proc/[0-9]*; do
    [[ -r $p/comm ]] || continue
    read -r c <"$p/comm" 2>/dev/null || continue
    [[ $c == "$1" ]] || continue
    [[ $p/ns/net -ef /run/netns/$2 ]] && out+="${p#/proc/} "
  done
  echo "$out"
}

zk_pid() {
  local f="$LAB_STATE/zk/pid" pid
  [[ -f $f ]] || return 1
  pid=$(<"$f")
  pid_alive "$pid" || return 1
  echo "$pid"
}

start_zookeeper() {
  zk_pid >/dev/null && return 0
  local d="$LAB_STATE/zk"
  mkdir -p "$d/data"
  cat >"$d/zoo.cfg" <<CFG
tickTime=500
dataDir=$d/data
clientPort=$ZK_PORT
clientPortAddress=$ZK_IP
minSessionTimeout=1000
maxSessionTimeout=20000
admin.enableServer=false
4lw.commands.whitelist=ruok,stat,srvr,mntr
CFG
  ip netns exec zk java -Xmx96m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Dzookeeper.log.dir="$d" \
    -cp /usr/share/java/zookeeper.jar:/usr/share/java/slf4j-simple.jar \
    org.apache.zookeeper.server.ZooKeeperServerMain "$d/zoo.cfg" >>"$d/out.log" 2>&1 </dev/null &
  echo $! >"$d/pid"
}

stop_zookeeper() {
  local pid
  if pid=$(zk_pid); then
    kill -9 "$pid"
    for _ in $(seq 50); do pid_alive "$pid" || break; nap 0.1; done
  fi
  rm -f "$LAB_STATE/zk/pid"
}

# ZooKeeper answers its four-letter "srvr" with its mode once it serves
zk_ready() {
  local r line zfd
  exec {zfd}<>"/dev/tcp/$ZK_IP/$ZK_PORT" 2>/dev/null || return 1
  echo srvr >&"$zfd"
  r=""
  while IFS= read -r -t 2 -u "$zfd" line; do r+="$line"$'\n'; done
  exec {zfd}>&-
  [[ $r == *Mode:* ]]
}

# The guest root namespace (the switch, where hb-lvsN and br0 live) by name,
# so scripts running inside a director's namespace can reach it.
SWITCH_NS=switch

loop_pid() { # director -> pid of its restart loop (a process inside its namespace)
  local f="$LAB_STATE/$1/loop.pid" pid
  [[ -f $f ]] || return 1
  pid=$(<"$f")
  pid_alive "$pid" || return 1
  echo "$pid"
}

agent_pid() {
  local f="$LAB_STATE/$1/agent.pid" pid
  [[ -f $f ]] || return 1
  pid=$(<"$f")
  pid_alive "$pid" || return 1
  echo "$pid"
}

# Is ADDRESS a local address in the director's namespace? Read from its
# routing table in /proc (no program started).
addr_on() { # director address
  local pid t re
  pid=$(loop_pid "$1") || return 1
  t=$(<"/proc/$pid/net/fib_trie") || return 1
  re="\|-- ${2//./\\.}"$'\n'"[[:space:]]+/32 host LOCAL"
  [[ $t =~ $re ]]
}
