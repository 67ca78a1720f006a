/**
 * IPVS generic-netlink constants.
 *
 * Read from the uapi header include/uapi/linux/ip_vs.h of Linux 6.1 (IPVS
 * 1.2.1), plus the few values that header takes from elsewhere (named at each
 * block). Each constant keeps its C name so it can be grepped in the kernel.
 */

/** IPVS_GENL_NAME, IPVS_GENL_VERSION (ip_vs.h, Linux 6.1) */
export const IPVS_GENL_NAME = 'IPVS';
export const IPVS_GENL_VERSION = 1;

/** enum IPVS_CMD_* (ip_vs.h, Linux 6.1). ipvsadm's copy names 12/13 SET_TIMEOUT/GET_TIMEOUT. */
export const IPVS_CMD_UNSPEC = 0;
export const IPVS_CMD_NEW_SERVICE = 1;
export const IPVS_CMD_SET_SERVICE = 2;
export const IPVS_CMD_DEL_SERVICE = 3;
export const IPVS_CMD_GET_SERVICE = 4;
export const IPVS_CMD_NEW_DEST = 5;
export const IPVS_CMD_SET_DEST = 6;
export const IPVS_CMD_DEL_DEST = 7;
export const IPVS_CMD_GET_DEST = 8;
export const IPVS_CMD_NEW_DAEMON = 9;
export const IPVS_CMD_DEL_DAEMON = 10;
export const IPVS_CMD_GET_DAEMON = 11;
export const IPVS_CMD_SET_CONFIG = 12;
export const IPVS_CMD_GET_CONFIG = 13;
export const IPVS_CMD_SET_INFO = 14;
export const IPVS_CMD_GET_INFO = 15;
export const IPVS_CMD_ZERO = 16;
export const IPVS_CMD_FLUSH = 17;

/** enum IPVS_CMD_ATTR_* (ip_vs.h, Linux 6.1): top level of every IPVS message. */
export const IPVS_CMD_ATTR_SERVICE = 1;
export const IPVS_CMD_ATTR_DEST = 2;
export const IPVS_CMD_ATTR_DAEMON = 3;
export const IPVS_CMD_ATTR_TIMEOUT_TCP = 4;
export const IPVS_CMD_ATTR_TIMEOUT_TCP_FIN = 5;
export const IPVS_CMD_ATTR_TIMEOUT_UDP = 6;

/** enum IPVS_SVC_ATTR_* (ip_vs.h, Linux 6.1): inside IPVS_CMD_ATTR_SERVICE. */
export const IPVS_SVC_ATTR_AF = 1;
export const IPVS_SVC_ATTR_PROTOCOL = 2;
export const IPVS_SVC_ATTR_ADDR = 3;
export const IPVS_SVC_ATTR_PORT = 4;
export const IPVS_SVC_ATTR_FWMARK = 5;
export const IPVS_SVC_ATTR_SCHED_NAME = 6;
export const IPVS_SVC_ATTR_FLAGS = 7;
export const IPVS_SVC_ATTR_TIMEOUT = 8;
export const IPVS_SVC_ATTR_NETMASK = 9;
export const IPVS_SVC_ATTR_STATS = 10;
export const IPVS_SVC_ATTR_PE_NAME = 11;
export const IPVS_SVC_ATTR_STATS64 = 12;

/** enum IPVS_DEST_ATTR_* (ip_vs.h, Linux 6.1): inside IPVS_CMD_ATTR_DEST. */
export const IPVS_DEST_ATTR_ADDR = 1;
export const IPVS_DEST_ATTR_PORT = 2;
export const IPVS_DEST_ATTR_FWD_METHOD = 3;
export const IPVS_DEST_ATTR_WEIGHT = 4;
export const IPVS_DEST_ATTR_U_THRESH = 5;
export const IPVS_DEST_ATTR_L_THRESH = 6;
export const IPVS_DEST_ATTR_ACTIVE_CONNS = 7;
export const IPVS_DEST_ATTR_INACT_CONNS = 8;
export const IPVS_DEST_ATTR_PERSIST_CONNS = 9;
export const IPVS_DEST_ATTR_STATS = 10;
export const IPVS_DEST_ATTR_ADDR_FAMILY = 11;
export const IPVS_DEST_ATTR_STATS64 = 12;
export const IPVS_DEST_ATTR_TUN_TYPE = 13;
export const IPVS_DEST_ATTR_TUN_PORT = 14;
export const IPVS_DEST_ATTR_TUN_FLAGS = 15;

/** enum IPVS_STATS_ATTR_* (ip_vs.h, Linux 6.1): inside *_ATTR_STATS (u32 except bytes) and *_ATTR_STATS64 (all u64). */
export const IPVS_STATS_ATTR_CONNS = 1;
export const IPVS_STATS_ATTR_INPKTS = 2;
export const IPVS_STATS_ATTR_OUTPKTS = 3;
export const IPVS_STATS_ATTR_INBYTES = 4;
export const IPVS_STATS_ATTR_OUTBYTES = 5;
export const IPVS_STATS_ATTR_CPS = 6;
export const IPVS_STATS_ATTR_INPPS = 7;
export const IPVS_STATS_ATTR_OUTPPS = 8;
export const IPVS_STATS_ATTR_INBPS = 9;
export const IPVS_STATS_ATTR_OUTBPS = 10;
/** Empty alignment filler before u64 values on some architectures (since 4.7). */
export const IPVS_STATS_ATTR_PAD = 11;

/** enum IPVS_DAEMON_ATTR_* (ip_vs.h, Linux 6.1): inside IPVS_CMD_ATTR_DAEMON. */
export const IPVS_DAEMON_ATTR_STATE = 1;
export const IPVS_DAEMON_ATTR_MCAST_IFN = 2;
export const IPVS_DAEMON_ATTR_SYNC_ID = 3;
export const IPVS_DAEMON_ATTR_SYNC_MAXLEN = 4;
export const IPVS_DAEMON_ATTR_MCAST_GROUP = 5;
export const IPVS_DAEMON_ATTR_MCAST_GROUP6 = 6;
export const IPVS_DAEMON_ATTR_MCAST_PORT = 7;
export const IPVS_DAEMON_ATTR_MCAST_TTL = 8;

/** enum IPVS_INFO_ATTR_* (ip_vs.h, Linux 6.1): top level of the GET_INFO reply. */
export const IPVS_INFO_ATTR_VERSION = 1;
export const IPVS_INFO_ATTR_CONN_TAB_SIZE = 2;

/** Service flags, IP_VS_SVC_F_* (ip_vs.h, Linux 6.1). */
export const IP_VS_SVC_F_PERSISTENT = 0x0001;
/** Set by the kernel on every hashed service: always present on read-back, never meaningful to us. */
export const IP_VS_SVC_F_HASHED = 0x0002;
export const IP_VS_SVC_F_ONEPACKET = 0x0004;
export const IP_VS_SVC_F_SCHED1 = 0x0008;
export const IP_VS_SVC_F_SCHED2 = 0x0010;
export const IP_VS_SVC_F_SCHED3 = 0x0020;
/** Aliases for the sh scheduler (ip_vs.h, Linux 6.1). */
export const IP_VS_SVC_F_SCHED_SH_FALLBACK = IP_VS_SVC_F_SCHED1;
export const IP_VS_SVC_F_SCHED_SH_PORT = IP_VS_SVC_F_SCHED2;
/** Aliases for the mh scheduler: defined in net/netfilter/ipvs/ip_vs_mh.c (Linux 6.1), not in the uapi header. */
export const IP_VS_SVC_F_SCHED_MH_FALLBACK = IP_VS_SVC_F_SCHED1;
export const IP_VS_SVC_F_SCHED_MH_PORT = IP_VS_SVC_F_SCHED2;

/** Forwarding methods, IP_VS_CONN_F_* & IP_VS_CONN_F_FWD_MASK (ip_vs.h, Linux 6.1). */
export const IP_VS_CONN_F_FWD_MASK = 0x0007;
export const IP_VS_CONN_F_MASQ = 0x0000;
export const IP_VS_CONN_F_LOCALNODE = 0x0001;
export const IP_VS_CONN_F_TUNNEL = 0x0002;
export const IP_VS_CONN_F_DROUTE = 0x0003;
export const IP_VS_CONN_F_BYPASS = 0x0004;

/** enum ip_vs_tunnel_type, IP_VS_CONN_F_TUNNEL_TYPE_* (ip_vs.h, Linux 6.1). */
export const IP_VS_CONN_F_TUNNEL_TYPE_IPIP = 0;
export const IP_VS_CONN_F_TUNNEL_TYPE_GUE = 1;
export const IP_VS_CONN_F_TUNNEL_TYPE_GRE = 2;

/** Tunnel encapsulation flags, IP_VS_TUNNEL_ENCAP_FLAG_* (ip_vs.h, Linux 6.1). NOCSUM is the absence of both bits. */
export const IP_VS_TUNNEL_ENCAP_FLAG_NOCSUM = 0;
export const IP_VS_TUNNEL_ENCAP_FLAG_CSUM = 1 << 0;
export const IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM = 1 << 1;

/** Sync daemon states, IP_VS_STATE_* (ip_vs.h, Linux 6.1). */
export const IP_VS_STATE_NONE = 0;
export const IP_VS_STATE_MASTER = 1;
export const IP_VS_STATE_BACKUP = 2;

/** Size limits, IP_VS_*_MAXLEN (ip_vs.h, Linux 6.1); each includes the terminating NUL. */
export const IP_VS_SCHEDNAME_MAXLEN = 16;
export const IP_VS_PENAME_MAXLEN = 16;
export const IP_VS_IFNAME_MAXLEN = 16;
export const IP_VS_PEDATA_MAXLEN = 255;

/** Address families, AF_* (include/linux/socket.h, Linux 6.1). */
export const AF_INET = 2;
export const AF_INET6 = 10;

/** IP protocol numbers, IPPROTO_* (include/uapi/linux/in.h, Linux 6.1). */
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_SCTP = 132;

/** Netlink framing (include/uapi/linux/netlink.h and genetlink.h, Linux 6.1). */
export const NLA_F_NESTED = 1 << 15;
export const NLA_F_NET_BYTEORDER = 1 << 14;
export const NLA_TYPE_MASK = ~(NLA_F_NESTED | NLA_F_NET_BYTEORDER) & 0xffff;
export const NLA_HDRLEN = 4;
export const NLA_ALIGNTO = 4;
export const GENL_HDRLEN = 4;
export const NLM_F_REQUEST = 0x01;
export const NLM_F_MULTI = 0x02;
export const NLM_F_ACK = 0x04;
export const NLM_F_ROOT = 0x100;
export const NLM_F_MATCH = 0x200;
export const NLM_F_DUMP = NLM_F_ROOT | NLM_F_MATCH;
export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;

/** Generic netlink controller (include/uapi/linux/genetlink.h, Linux 6.1). */
export const GENL_ID_CTRL = 0x10;
export const CTRL_CMD_GETFAMILY = 3;
export const CTRL_ATTR_FAMILY_ID = 1;
export const CTRL_ATTR_FAMILY_NAME = 2;
export const CTRL_ATTR_VERSION = 3;
export const CTRL_ATTR_MAXATTR = 5;

/** Defaults the kernel applies (net/netfilter/ipvs/ip_vs_sync.c, Linux 6.1). */
export const IP_VS_SYNC_GROUP = '224.0.0.81';
export const IP_VS_SYNC_PORT = 8848;

// The limits Director enforces where the kernel's netlink path does not are in rules.ts.
