/* firewall.h - Polis' nftables table: NAT, published ports, isolation.
 *
 * Everything lives in one table of polisd's own ("ip polis", its name a
 * flag so that test daemons run side by side); nothing else of the host's
 * ruleset is read or touched.  Changes are nftables scripts run as one
 * transaction by the polis-nft helper (libnftables; see polis_nft.c).
 *
 *   set bridges         every bridge of ours
 *   map pub_tcp/udp     host port -> container address . port (any host IP)
 *   map pubip_tcp/udp   host IP . port -> container address . port
 *   chain prerouting    nat, dstnat: local destinations -> publish;
 *                       DNS from our bridges -> the resolver's port
 *   chain output        nat, dstnat: local destinations -> publish
 *                       (so 127.0.0.1:PORT works, no proxy process)
 *   chain postrouting   nat, srcnat: 127/8 towards a bridge masqueraded
 *                       (route_localnet), iifname vmap @post_in
 *   chain forward       filter: iifname vmap @fwd_in
 *   chain fwd-BRIDGE    own bridge accepted, other bridges dropped,
 *                       internal: everything else dropped too
 *   chain post-BRIDGE   leaving elsewhere: masquerade (not internal);
 *                       DNAT'ed back into the bridge: masquerade (hairpin)
 *
 * Published ports and networks are map elements and per-network chains,
 * so a change never rewrites another's rules and a restarted daemon finds
 * them as they were (the kernel keeps them).  Removal is written as
 * "add, then delete", which nftables 1.0 accepts whether or not the
 * element was there.
 */
#ifndef POLIS_NETWORK_FIREWALL_H
#define POLIS_NETWORK_FIREWALL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

typedef struct firewall firewall;

/* HELPER: the polis-nft path; TABLE: the table's name. */
firewall *firewall_new (const char *helper, const char *table);
void firewall_free (firewall *fw);
const char *firewall_table (const firewall *fw);

/* Make the table, its maps and base chains (idempotent: base chains are
   flushed and rewritten, map elements and network chains are kept).
   DNS_PORT: the resolver's UDP port on the host (0: no redirect). */
int firewall_init (firewall *fw, unsigned dns_port, polis_error **err);
/* Remove the table altogether. */
int firewall_destroy (firewall *fw, polis_error **err);

/* A network's bridge: isolation, masquerade unless INTERNAL, DNS
   redirect when DNS. */
int firewall_network_add (firewall *fw, const char *bridge, const char *subnet,
                          bool internal, bool dns, polis_error **err);
int firewall_network_del (firewall *fw, const char *bridge, polis_error **err);

typedef struct
{
  bool udp;
  uint32_t host_ip; /* host order; 0: every local address */
  unsigned host_port;
  uint32_t ip; /* the container's */
  unsigned port;
} firewall_port;

/* Add (or remove) published ports in one transaction. */
int firewall_ports (firewall *fw, bool add, const firewall_port *p, size_t n,
                    polis_error **err);

#endif
