/* network.h - polisd's networks: the default bridge, user-defined bridge
 * networks, their IPAM, and each container's endpoints and published ports.
 *
 * A network is a row of `networks` (its JSON document); the addresses in
 * use are rows of `ipam`, taken when a container is created or connected
 * and released with it in the same transaction as its row (state_db.h).
 * The kernel side (bridges, veths, nftables) is made from the library in
 * src/network: netlink.h, firewall.h, dns.h.  What the kernel holds
 * survives the daemon: a restarted polisd finds bridges, container
 * interfaces and published ports where they were and only re-asserts them.
 *
 * Each container keeps, in its document, Docker's NetworkSettings.Networks
 * (one EndpointSettings per network) and NetworkSettings.Ports.
 */
#ifndef POLIS_ENGINE_NETWORK_H
#define POLIS_ENGINE_NETWORK_H

#include <jansson.h>
#include <stdbool.h>

#include "base/error.h"
#include "engine.h"

/* --- engine start and stop (engine.c) --- */
int network_open (engine *e, polis_error **err);
void network_close (engine *e);

/* --- containers --- */
/* Resolve C's NetworkMode and NetworkingConfig into endpoints (addresses
   taken in IPAM) and its published ports.  Nothing is kept on failure. */
int network_container_prepare (engine *e, container *c, polis_error **err);
/* After C's namespace is ready: wire its endpoints when FRESH (a new
   namespace), then publish its ports. */
int network_container_start (engine *e, container *c, bool fresh,
                             polis_error **err);
/* C is being removed: unpublish its ports now and return the names of its
   host-side interfaces (NULL-terminated, caller frees; NULL when none),
   for the reaper to delete: deleting a link waits for the kernel to tear
   it down (~20 ms), which `rm` need not wait for.  Its addresses leave
   with its database row; they are not handed out again soon (addresses
   are taken round-robin). */
char **network_container_release (engine *e, container *c);
/* Docker's NetworkSettings (inspect) or its summary (ps). New object. */
json_t *network_settings_json (engine *e, const container *c, bool summary);
/* The "Ports" array of a ps entry. New array. */
json_t *network_ports_summary (const container *c);
/* The address of C on its first network, 0 when none (host order). */
uint32_t network_container_ip (const container *c);
/* The resolv.conf name server for C: its network's gateway when the
   network has the embedded resolver, else 0. */
uint32_t network_container_dns (engine *e, const container *c);

/* --- /networks --- */
json_t *engine_network_list (engine *e, json_t *filters, polis_error **err);
json_t *engine_network_inspect (engine *e, const char *ref, polis_error **err);
/* POST /networks/create: *ID (caller frees). */
int engine_network_create (engine *e, json_t *body, char **id,
                           polis_error **err);
int engine_network_remove (engine *e, const char *ref, polis_error **err);
json_t *engine_network_prune (engine *e, json_t *filters, polis_error **err);
int engine_network_connect (engine *e, const char *ref, json_t *body,
                            polis_error **err);
int engine_network_disconnect (engine *e, const char *ref, json_t *body,
                               polis_error **err);

#endif
