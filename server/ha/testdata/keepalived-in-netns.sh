#!/bin/sh
# keepalived inside the network namespace $HA_NETNS, for kernel tests that need a VRRP peer in one lab kernel.
exec ip netns exec "$HA_NETNS" /usr/sbin/keepalived "$@"
