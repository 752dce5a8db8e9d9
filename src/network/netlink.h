/* netlink.h - rtnetlink by hand: links, addresses and routes.
 *
 * What polisd needs of the kernel's routing socket is a dozen message
 * shapes (a bridge, a veth pair whose peer is born in the container's
 * namespace, up/master/MTU/MAC, an IPv4 address, a default route), so they
 * are written here directly rather than through libmnl: polisd stays a
 * static executable (DESIGN.md, "Networking").  Every request asks for an
 * ACK and the kernel's errno becomes the error.
 *
 * A netlink_sock is bound to the network namespace it was opened in:
 * netlink_open() the caller's, netlink_open_in() the one at a path (a
 * short-lived thread joins it, opens the socket and leaves).
 */
#ifndef POLIS_NETWORK_NETLINK_H
#define POLIS_NETWORK_NETLINK_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

typedef struct netlink_sock netlink_sock;

netlink_sock *netlink_open (polis_error **err);
/* A socket in the namespace bind-mounted at NETNS_PATH. */
netlink_sock *netlink_open_in (const char *netns_path, polis_error **err);
void netlink_close (netlink_sock *nl);
static inline void
cleanup_netlink_fn (netlink_sock **nl)
{
  netlink_close (*nl);
  *nl = NULL;
}
#define cleanup_netlink __attribute__ ((cleanup (cleanup_netlink_fn)))

/* The index of link NAME; 0 (no error set) when there is none, < 0 on
   failure. */
int netlink_link_index (netlink_sock *nl, const char *name, polis_error **err);
/* A bridge NAME (EEXIST is an error: callers look first). */
int netlink_bridge_add (netlink_sock *nl, const char *name, unsigned mtu,
                        polis_error **err);
/* A veth pair: HOST_NAME here, PEER_NAME created straight in the namespace
   whose fd is PEER_NS_FD, both with MTU (0: the kernel's). */
int netlink_veth_add (netlink_sock *nl, const char *host_name,
                      const char *peer_name, int peer_ns_fd, unsigned mtu,
                      polis_error **err);
/* Set link IFINDEX up, its master (0: leave), its MAC (NULL: leave). */
int netlink_link_set (netlink_sock *nl, int ifindex, int master,
                      const uint8_t *mac, polis_error **err);
/* Delete link NAME; a missing one is fine. */
int netlink_link_del (netlink_sock *nl, const char *name, polis_error **err);
/* Add ADDR/PREFIX on IFINDEX (EEXIST is fine). */
int netlink_addr_add (netlink_sock *nl, int ifindex, struct in_addr addr,
                      unsigned prefix, polis_error **err);
/* A default route through GW on IFINDEX. */
int netlink_route_default (netlink_sock *nl, int ifindex, struct in_addr gw,
                           polis_error **err);

#endif
