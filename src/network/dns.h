/* dns.h - the resolver of user-defined networks, inside polisd.
 *
 * One UDP socket on the host (port chosen by the kernel) receives the
 * queries that containers send to their gateway's port 53 (the firewall
 * redirects them, see firewall.h).  A name the engine knows for the
 * asking container's network (a container name, alias or short id) is
 * answered here; anything else is forwarded to the upstream server and
 * its reply relayed.  One thread, poll(2) over the two sockets.
 *
 * Queries are capped at DNS_MSG_MAX bytes and one question; anything
 * malformed is dropped, as resolvers do.
 */
#ifndef POLIS_NETWORK_DNS_H
#define POLIS_NETWORK_DNS_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

#define DNS_MSG_MAX 1500
#define DNS_ANSWERS_MAX 16

/* Look NAME (lowercase, no final dot) up for a client at CLIENT (host
   order).  Returns the count of addresses put in OUT (<= DNS_ANSWERS_MAX),
   0 when the name is known without an address, -1 when it is not ours
   (forwarded).  Called on the resolver's thread. */
typedef int (*dns_lookup_fn) (void *ud, uint32_t client, const char *name,
                              uint32_t *out);

typedef struct dns_server dns_server;

/* Start on 0.0.0.0:0 (any free port).  UPSTREAM_IP 0: no forwarding
   (SERVFAIL for unknown names). */
dns_server *dns_server_start (uint32_t upstream_ip, unsigned upstream_port,
                              dns_lookup_fn fn, void *ud, polis_error **err);
unsigned dns_server_port (const dns_server *s);
/* Stop the thread and free.  NULL-safe. */
void dns_server_stop (dns_server *s);

/* The first name server of a resolv.conf file, host order (0: none). */
uint32_t dns_upstream_from_resolv_conf (const char *path);

#endif
