#ifndef ECMPD_CNETLINK_SHIM_H
#define ECMPD_CNETLINK_SHIM_H

#include <netlink/netlink.h>
#include <netlink/errno.h>
#include <netlink/msg.h>
#include <netlink/attr.h>
#include <netlink/socket.h>
#include <netlink/cache.h>
#include <netlink/addr.h>
#include <netlink/genl/genl.h>
#include <netlink/genl/ctrl.h>
#include <netlink/route/link.h>
#include <netlink/route/addr.h>
#include <netlink/route/route.h>
#include <netlink/route/nexthop.h>
#include <netlink/route/rtnl.h>
#include <linux/rtnetlink.h>
#include <linux/nexthop.h>
#include <linux/if.h>
#include <linux/ip_vs.h>
#include <arpa/inet.h>
#include <errno.h>

/* nla_nest_start/NLA_PUT_* are macros or fine as functions; these helpers
   exist only where Swift cannot reach a macro. */
static inline int ecmpd_nlmsg_hdrlen(void) { return NLMSG_HDRLEN; }

#endif
