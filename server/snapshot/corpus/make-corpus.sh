#!/bin/bash
# Produces the snapshot corpus with the real ipvsadm inside the lab kernel:
#   npx tsx server/lab/cli.ts run -- bash server/snapshot/corpus/make-corpus.sh > /tmp/corpus.out
#   awk '/^=== end$/{out="";next} /^=== /{out=substr($0,5);next} out{print > ("server/snapshot/corpus/" out ".txt")}' /tmp/corpus.out
# Each scenario starts from an empty table, runs ipvsadm commands, and prints
# `ipvsadm -Sn` (and for "names", `ipvsadm -S` without -n).
set -u
scenario() { ipvsadm -C; }
emit() { echo "=== $1"; shift; "$@"; echo "=== end"; }

scenario
ipvsadm -A -t 10.0.0.1:80 -s rr
ipvsadm -a -t 10.0.0.1:80 -r 192.168.1.10:8080 -m -w 5
ipvsadm -a -t 10.0.0.1:80 -r 192.168.1.11:80 -m
ipvsadm -A -t 10.0.0.2:443 -s sh -p 600 -M 255.255.255.0 -b sh-fallback,sh-port
ipvsadm -a -t 10.0.0.2:443 -r 10.0.0.50 -g -x 1000 -y 800
ipvsadm -A -t 10.0.0.5:0 -s wlc -p
ipvsadm -A -u 10.0.0.1:53 -s wlc -o
ipvsadm -a -u 10.0.0.1:53 -r 192.168.1.20:53 -g -w 0
ipvsadm -A -u 10.0.0.4:5060 -s rr -p 30 --pe sip
ipvsadm -A --sctp-service 10.0.0.3:3868 -s nq
ipvsadm -a --sctp-service 10.0.0.3:3868 -r 192.168.1.50:3868 -m
ipvsadm -A -t [2001:db8::1]:80 -s mh -b mh-port
ipvsadm -a -t [2001:db8::1]:80 -r 192.168.1.40:80 -i --tun-type gue --tun-port 6080 --tun-csum
ipvsadm -a -t [2001:db8::1]:80 -r 192.168.1.42:80 -i --tun-type gre --tun-csum
ipvsadm -a -t [2001:db8::1]:80 -r [2001:db8::a]:8080 -m -w 2
ipvsadm -A -f 7 -s wrr -p
ipvsadm -a -f 7 -r 192.168.1.30 -m -w 3
ipvsadm -a -f 7 -r 192.168.1.31 -i
ipvsadm -A -f 9 -6 -s lc -p 100 -M 64
ipvsadm -a -f 9 -6 -r [2001:db8::b] -g
emit reference ipvsadm -Sn
emit names ipvsadm -S

scenario
# ipvsadm quirks: port forcing for -g/-i, bare -p, -M before -6 discarded, long options, bundles
ipvsadm -A -t 172.16.0.1:8080 -s wrr -p
ipvsadm -a -t 172.16.0.1:8080 -r 172.16.1.1:9090 -g
ipvsadm -a -t 172.16.0.1:8080 -r 172.16.1.2:9090 -i -w 4
ipvsadm -a -t 172.16.0.1:8080 -r 172.16.1.3:9090 -m -w 65536
ipvsadm -a -t 172.16.0.1:8080 -r 172.16.1.4 -m -w 2147483647
ipvsadm -A -f 11 -M 255.255.255.0 -6 -p 20
ipvsadm -a -f 11 -6 -r [fd00::11]:8443 -m
ipvsadm -a -f 11 -6 -r 172.16.1.11 -i --tun-type ipip
ipvsadm --add-service --udp-service 172.16.0.2:5353 --scheduler sed --persistent=45 --netmask 255.255.0.0
ipvsadm -au 172.16.0.2:5353 -r 172.16.2.1 -m -w 7
ipvsadm -A -f 12 -s rr -o
ipvsadm -a -f 12 -r 172.16.3.1:0 -g -w 1
ipvsadm -A -u [fd00::2]:0 -s dh -p 1 -o
ipvsadm -A -t 172.16.0.3:443 -s rr -b flag-1,flag-2,flag-3
ipvsadm -A -t 172.16.0.4:443 -s sh -b sh-fallback
ipvsadm -A -t 172.16.0.5:443 -s mh -b mh-fallback,mh-port
ipvsadm -A -t 172.16.0.6:443 -s sh -p 2678400 -M 255.255.255.128
emit quirks ipvsadm -Sn

scenario
# ipvsadm's signed-subtraction sort (reference §8.8)
for a in 200.0.0.1 10.0.0.1 127.0.0.1 150.1.1.1 1.2.3.4 255.255.255.254; do ipvsadm -A -t $a:80 -s rr; done
for r in 127.0.0.1 150.1.1.1 200.1.1.1 10.1.1.1 129.0.0.1 1.1.1.1; do ipvsadm -a -t 10.0.0.1:80 -r $r -m; done
ipvsadm -a -t 10.0.0.1:80 -r 10.1.1.1:81 -m
ipvsadm -a -t 10.0.0.1:80 -r 10.1.1.1:79 -m
for m in 1 2147483647 100 65536; do ipvsadm -A -f $m -s wlc; done
ipvsadm -A -f 100 -6 -s wlc
ipvsadm -A -t [2001:db8::1]:80 -s rr
ipvsadm -A -t [ffff::1]:80 -s rr
ipvsadm -A -t [::1]:80 -s rr
ipvsadm -A -t [2001:db8::1]:79 -s rr
ipvsadm -A -u [2001:db8::1]:80 -s rr
emit sorting ipvsadm -Sn

scenario
# every scheduler the lab kernel ships, plus 'none'
for s in rr wrr lc wlc lblc lblcr dh sh sed nq fo ovf mh none; do
  ipvsadm -A -t 10.9.0.1:$((1000 + ${#s} * 100 + $(printf '%d' "'$s"))) -s $s
done
emit schedulers ipvsadm -Sn
ipvsadm -C
