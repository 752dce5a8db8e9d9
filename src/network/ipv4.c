/* ipv4.c - IPv4 addresses and prefixes. */
#include "ipv4.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/xalloc.h"

bool
ipv4_parse_addr (const char *s, uint32_t *out)
{
  struct in_addr a;
  if (s == NULL || inet_pton (AF_INET, s, &a) != 1)
    return false;
  *out = ntohl (a.s_addr);
  return true;
}

bool
ipv4_parse_net (const char *s, ipv4_net *out)
{
  if (s == NULL)
    return false;
  const char *slash = strchr (s, '/');
  if (slash == NULL || slash - s >= IPV4_STR || slash[1] == '\0')
    return false;
  char a[IPV4_STR];
  memcpy (a, s, (size_t) (slash - s));
  a[slash - s] = '\0';
  char *end;
  long p = strtol (slash + 1, &end, 10);
  if (*end != '\0' || p < 0 || p > 32 || !ipv4_parse_addr (a, &out->addr))
    return false;
  out->prefix = (unsigned) p;
  return true;
}

const char *
ipv4_format (uint32_t a, char *buf)
{
  snprintf (buf, IPV4_STR, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255,
            (a >> 8) & 255, a & 255);
  return buf;
}

uint32_t
ipv4_mask (unsigned prefix)
{
  return prefix == 0 ? 0 : 0xffffffffu << (32 - prefix);
}

bool
ipv4_net_contains (ipv4_net n, uint32_t a)
{
  return (a & ipv4_mask (n.prefix)) == ipv4_net_first (n);
}

bool
ipv4_net_overlap (ipv4_net a, ipv4_net b)
{
  unsigned p = a.prefix < b.prefix ? a.prefix : b.prefix;
  return (a.addr & ipv4_mask (p)) == (b.addr & ipv4_mask (p));
}

size_t
ipv4_host_routes (ipv4_net **out)
{
  *out = NULL;
  cleanup_fclose FILE *f = fopen ("/proc/net/route", "re");
  if (f == NULL)
    return 0;
  size_t n = 0, cap = 0;
  char line[512];
  while (fgets (line, sizeof line, f))
    {
      char ifname[64];
      unsigned dst, gw, flags, refcnt, use, metric, mask;
      if (sscanf (line, "%63s %x %x %x %u %u %u %x", ifname, &dst, &gw, &flags,
                  &refcnt, &use, &metric, &mask)
          != 8)
        continue; /* the header */
      if (mask == 0)
        continue;
      if (n == cap)
        {
          cap = cap ? cap * 2 : 16;
          *out = xrealloc (*out, cap * sizeof **out);
        }
      /* The kernel prints the addresses in network order as read on a
         little-endian machine: ntohl undoes that on any host. */
      uint32_t m = ntohl (mask);
      unsigned p = 0;
      while (p < 32 && (m & (0x80000000u >> p)))
        p++;
      (*out)[n++] = (ipv4_net) { ntohl (dst), p };
    }
  return n;
}
