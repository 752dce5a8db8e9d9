/* network_internal.h - what network.c and network_api.c share. */
#ifndef POLIS_ENGINE_NETWORK_INTERNAL_H
#define POLIS_ENGINE_NETWORK_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>

#include "engine_internal.h"
#include "network/ipv4.h"
#include "network/netlink.h"

typedef enum
{
  NET_BRIDGE,
  NET_HOST,
  NET_NULL,
} net_kind;

struct net
{
  char id[65];
  char *name;
  net_kind kind;
  char *bridge;
  int64_t created_ns;
  ipv4_net subnet;
  uint32_t gateway;
  ipv4_net range; /* prefix 0: the whole subnet */
  bool internal, attachable, dns, predefined;
  unsigned mtu;
  json_t *labels, *options;
  uint32_t next_ip; /* where the next search for a free address starts */
};
typedef struct net net;

json_t *net_doc (const net *n);
int net_save (engine *e, net *n, polis_error **err);
void net_add (engine *e, net *n);
void net_forget (engine *e, net *n);
void net_free (net *n);
/* Under the engine lock: by id, name, unique id prefix; NULL if none. */
net *net_find (engine *e, const char *ref);
net *net_by_id (engine *e, const char *id);
int not_found (const char *ref, polis_error **err);
bool subnet_taken (engine *e, ipv4_net s, const net *except);
bool subnet_routed (ipv4_net s, const char *own_bridge);
int subnet_from_pool (engine *e, ipv4_net *out, polis_error **err);
/* The bridge, its address and firewall chains (*MADE: the bridge is new). */
int net_kernel_up (engine *e, net *n, bool *made, polis_error **err);
void net_kernel_down (engine *e, net *n);
void random_hex (char *out, size_t n_bytes);
const char *kind_name (net_kind k);
const char *jstr (const json_t *o, const char *k);
/* Under the engine lock: C's endpoint on N (its address taken). */
json_t *endpoint_make (engine *e, container *c, net *n, const json_t *given,
                       polis_error **err);
void endpoint_release (engine *e, const json_t *ep);
int wire_endpoint (engine *e, container *c, netlink_sock *nl, netlink_sock *nlc,
                   int nsfd, const json_t *ep, int ifno, bool route,
                   polis_error **err);
void unwire_endpoint (netlink_sock *nl, const json_t *ep);

#endif
