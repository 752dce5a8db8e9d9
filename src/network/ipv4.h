/* ipv4.h - IPv4 addresses and prefixes in host byte order.
 *
 * Parsing is strict (dotted quads, a prefix length 0-32); a network is
 * normalised to its first address by the caller when it wants that
 * (Docker refuses "10.1.2.3/24" as a subnet only through its own check).
 */
#ifndef POLIS_NETWORK_IPV4_H
#define POLIS_NETWORK_IPV4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct
{
  uint32_t addr; /* host order */
  unsigned prefix;
} ipv4_net;

#define IPV4_STR 16

/* "a.b.c.d" -> host order; false when it is not one. */
bool ipv4_parse_addr (const char *s, uint32_t *out);
/* "a.b.c.d/n"; false when it is not one. */
bool ipv4_parse_net (const char *s, ipv4_net *out);
/* Dotted quad into BUF (IPV4_STR bytes); returns BUF. */
const char *ipv4_format (uint32_t a, char *buf);
uint32_t ipv4_mask (unsigned prefix);
static inline uint32_t
ipv4_net_first (ipv4_net n)
{
  return n.addr & ipv4_mask (n.prefix);
}
static inline uint32_t
ipv4_net_last (ipv4_net n)
{
  return ipv4_net_first (n) | ~ipv4_mask (n.prefix);
}
bool ipv4_net_contains (ipv4_net n, uint32_t a);
bool ipv4_net_overlap (ipv4_net a, ipv4_net b);
/* The IPv4 destinations of the host's routing table (main table, from
   /proc/net/route), default routes left out.  *OUT is a new array (caller
   frees). */
size_t ipv4_host_routes (ipv4_net **out);

#endif
