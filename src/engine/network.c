/* network.c - polisd's networks, their IPAM, container endpoints and ports. */
#include "network.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/file.h"
#include "base/log.h"
#include "base/pjson.h"
#include "base/strv.h"
#include "base/xalloc.h"
#include "engine_internal.h"
#include "network/dns.h"
#include "network/firewall.h"
#include "network/ipv4.h"
#include "network/netlink.h"
#include "network_internal.h"

/* Host ports drawn for -P and "-p 80" (Docker's default range). */
#define PORT_RANDOM_FIRST 32768
#define PORT_RANDOM_LAST 60999
/* Tries at drawing a free random host port. */
#define PORT_RANDOM_TRIES 128
/* Labels/options of a network create request, each. */
#define NETWORK_MAP_MAX 256
#define IFNAMSIZ_POLIS 16


const char *
kind_name (net_kind k)
{
  return k == NET_HOST ? "host" : k == NET_NULL ? "null" : "bridge";
}

void
net_free (net *n)
{
  if (n == NULL)
    return;
  free (n->name);
  free (n->bridge);
  json_decref (n->labels);
  json_decref (n->options);
  free (n);
}

void
random_hex (char *out, size_t n_bytes)
{
  unsigned char b[32];
  if (getrandom (b, n_bytes, 0) != (ssize_t) n_bytes)
    abort ();
  for (size_t i = 0; i < n_bytes; i++)
    snprintf (out + 2 * i, 3, "%02x", b[i]);
}

json_t *
net_doc (const net *n)
{
  char s[IPV4_STR], g[IPV4_STR], r[IPV4_STR];
  cleanup_free char *sub = n->kind == NET_BRIDGE
                               ? xasprintf ("%s/%u", ipv4_format (ipv4_net_first (n->subnet), s), n->subnet.prefix)
                               : xstrdup ("");
  cleanup_free char *rng = n->range.prefix
                               ? xasprintf ("%s/%u", ipv4_format (n->range.addr, r), n->range.prefix)
                               : xstrdup ("");
  return json_pack ("{s:s,s:s,s:s,s:s,s:s,s:s,s:b,s:b,s:b,s:b,s:i,s:O,s:O}", "Name",
                    n->name, "Driver", kind_name (n->kind), "Bridge",
                    n->bridge ? n->bridge : "", "Subnet", sub, "Gateway",
                    n->kind == NET_BRIDGE ? ipv4_format (n->gateway, g) : "",
                    "IPRange", rng, "Internal", n->internal, "Attachable",
                    n->attachable, "DNS", n->dns, "Predefined", n->predefined,
                    "MTU", (int) n->mtu, "Labels", n->labels, "Options",
                    n->options);
}

int
net_save (engine *e, net *n, polis_error **err)
{
  cleanup_json json_t *doc = net_doc (n);
  cleanup_free char *text = json_dumps (doc, JSON_COMPACT);
  return state_db_put_network (e->db, n->id, n->name, n->created_ns, text, err);
}

void
net_add (engine *e, net *n)
{
  e->nets = xrealloc (e->nets, (e->n_nets + 1) * sizeof *e->nets);
  e->nets[e->n_nets++] = n;
}

void
net_forget (engine *e, net *n)
{
  for (size_t i = 0; i < e->n_nets; i++)
    if (e->nets[i] == n)
      {
        memmove (e->nets + i, e->nets + i + 1, (e->n_nets - i - 1) * sizeof *e->nets);
        e->n_nets--;
        return;
      }
}

static int
load_net_row (void *ud, const char *id, const char *name, int64_t created,
              const char *doc)
{
  engine *e = ud;
  cleanup_json json_t *j = json_loads (doc, 0, NULL);
  if (j == NULL || strlen (id) != 64)
    return 0;
  net *n = xzalloc (sizeof *n);
  memcpy (n->id, id, 65);
  n->name = xstrdup (name);
  n->created_ns = created;
  const char *d = json_string_value (json_object_get (j, "Driver"));
  n->kind = d && strcmp (d, "host") == 0 ? NET_HOST : d && strcmp (d, "null") == 0 ? NET_NULL : NET_BRIDGE;
  const char *br = json_string_value (json_object_get (j, "Bridge"));
  n->bridge = br && *br ? xstrdup (br) : NULL;
  ipv4_parse_net (json_string_value (json_object_get (j, "Subnet")), &n->subnet);
  ipv4_parse_addr (json_string_value (json_object_get (j, "Gateway")), &n->gateway);
  ipv4_parse_net (json_string_value (json_object_get (j, "IPRange")), &n->range);
  n->internal = json_is_true (json_object_get (j, "Internal"));
  n->attachable = json_is_true (json_object_get (j, "Attachable"));
  n->dns = json_is_true (json_object_get (j, "DNS"));
  n->predefined = json_is_true (json_object_get (j, "Predefined"));
  n->mtu = (unsigned) json_integer_value (json_object_get (j, "MTU"));
  json_t *l = json_object_get (j, "Labels"), *o = json_object_get (j, "Options");
  n->labels = json_is_object (l) ? json_incref (l) : json_object ();
  n->options = json_is_object (o) ? json_incref (o) : json_object ();
  net_add (e, n);
  return 0;
}

/* Under the engine lock: by full id, name, then unique id prefix. */
net *
net_find (engine *e, const char *ref)
{
  if (ref == NULL || *ref == '\0')
    return NULL;
  for (size_t i = 0; i < e->n_nets; i++)
    if (strcmp (e->nets[i]->id, ref) == 0)
      return e->nets[i];
  for (size_t i = 0; i < e->n_nets; i++)
    if (strcmp (e->nets[i]->name, ref) == 0)
      return e->nets[i];
  net *found = NULL;
  size_t l = strlen (ref);
  for (size_t i = 0; i < e->n_nets; i++)
    if (strncmp (e->nets[i]->id, ref, l) == 0)
      {
        if (found)
          return NULL;
        found = e->nets[i];
      }
  return found;
}

net *
net_by_id (engine *e, const char *id)
{
  for (size_t i = 0; i < e->n_nets; i++)
    if (id && strcmp (e->nets[i]->id, id) == 0)
      return e->nets[i];
  return NULL;
}

int
not_found (const char *ref, polis_error **err)
{
  return error_set (err, ERROR_NOT_FOUND, ENOENT, "network %s not found", ref);
}

/* --- subnets ----------------------------------------------------------------- */

bool
subnet_taken (engine *e, ipv4_net s, const net *except)
{
  for (size_t i = 0; i < e->n_nets; i++)
    if (e->nets[i] != except && e->nets[i]->kind == NET_BRIDGE
        && ipv4_net_overlap (e->nets[i]->subnet, s))
      return true;
  return false;
}

bool
subnet_routed (ipv4_net s, const char *own_bridge)
{
  (void) own_bridge;
  cleanup_free ipv4_net *routes = NULL;
  size_t n = ipv4_host_routes (&routes);
  for (size_t i = 0; i < n; i++)
    if (ipv4_net_overlap (routes[i], s))
      return true;
  return false;
}

/* The first subnet of the daemon's pool (--default-address-pool) that no
   network of ours and no route of the host's overlaps. */
int
subnet_from_pool (engine *e, ipv4_net *out, polis_error **err)
{
  ipv4_net base = e->pool;
  unsigned size = e->pool_size;
  uint32_t step = size >= 32 ? 1 : 1u << (32 - size);
  for (uint32_t a = ipv4_net_first (base); ipv4_net_contains (base, a); a += step)
    {
      ipv4_net s = { a, size };
      if (!subnet_taken (e, s, NULL) && !subnet_routed (s, NULL))
        {
          *out = s;
          return 0;
        }
      if (a + step < a)
        break;
    }
  return error_set (err, ERROR_FORBIDDEN, ENOSPC,
                    "could not find an available, non-overlapping IPv4 address "
                    "pool among the defaults to assign to the network");
}

/* --- the kernel side of a network ----------------------------------------------- */

static void
write_sysctl (const char *path, const char *v)
{
  cleanup_close int fd = open (path, O_WRONLY | O_CLOEXEC);
  if (fd < 0 || write (fd, v, strlen (v)) < 0)
    log_warning ("write %s: %s", path, strerror (errno));
}

/* Make N's bridge (unless it is there), its address, up; its firewall
   chains.  *MADE tells whether the bridge was made here. */
int
net_kernel_up (engine *e, net *n, bool *made, polis_error **err)
{
  if (made)
    *made = false;
  if (n->kind != NET_BRIDGE)
    return 0;
  cleanup_netlink netlink_sock *nl = netlink_open (err);
  if (nl == NULL)
    return -1;
  int idx = netlink_link_index (nl, n->bridge, err);
  if (idx < 0)
    return -1;
  if (idx == 0)
    {
      if (netlink_bridge_add (nl, n->bridge, n->mtu, err) < 0)
        return error_wrap (err, "create bridge %s", n->bridge);
      if (made)
        *made = true;
      idx = netlink_link_index (nl, n->bridge, err);
      if (idx <= 0)
        return idx < 0 ? -1 : error_set (err, ERROR_INTERNAL, ENODEV, "bridge %s vanished", n->bridge);
    }
  struct in_addr gw = { htonl (n->gateway) };
  if (netlink_addr_add (nl, idx, gw, n->subnet.prefix, err) < 0
      || netlink_link_set (nl, idx, 0, NULL, err) < 0)
    return error_wrap (err, "set up bridge %s", n->bridge);
  /* 127.0.0.1:PORT is DNAT'ed to a container: the kernel must accept a
     loopback source on this bridge (it is masqueraded right after). */
  cleanup_free char *rl = xasprintf ("/proc/sys/net/ipv4/conf/%s/route_localnet", n->bridge);
  write_sysctl (rl, "1");
  char s[IPV4_STR];
  cleanup_free char *sub = xasprintf ("%s/%u", ipv4_format (ipv4_net_first (n->subnet), s), n->subnet.prefix);
  if (firewall_network_add (e->fw, n->bridge, sub, n->internal, n->dns, err) < 0)
    return error_wrap (err, "firewall for %s", n->name);
  return 0;
}

void
net_kernel_down (engine *e, net *n)
{
  if (n->kind != NET_BRIDGE)
    return;
  polis_error *err = NULL;
  if (firewall_network_del (e->fw, n->bridge, &err) < 0)
    {
      log_warning ("network %s: %s", n->name, err->msg);
      error_free (&err);
    }
  cleanup_netlink netlink_sock *nl = netlink_open (&err);
  if (nl == NULL || netlink_link_del (nl, n->bridge, &err) < 0)
    {
      log_warning ("network %s: delete bridge: %s", n->name, err->msg);
      error_free (&err);
    }
}

/* --- start and stop ------------------------------------------------------------------ */

static net *
predefined (engine *e, const char *name, net_kind kind, polis_error **err)
{
  for (size_t i = 0; i < e->n_nets; i++)
    if (strcmp (e->nets[i]->name, name) == 0)
      return e->nets[i];
  net *n = xzalloc (sizeof *n);
  random_hex (n->id, 32);
  n->name = xstrdup (name);
  n->kind = kind;
  n->predefined = true;
  n->created_ns = events_now_ns ();
  n->labels = json_object ();
  n->options = json_object ();
  if (kind == NET_BRIDGE)
    {
      n->bridge = xstrdup (e->opts.bridge ? e->opts.bridge : "polis0");
      ipv4_net bip;
      if (e->opts.bip && *e->opts.bip)
        {
          if (!ipv4_parse_net (e->opts.bip, &bip) || bip.prefix > 30)
            {
              net_free (n);
              error_set (err, ERROR_INVALID, EINVAL, "--bip: invalid address %s", e->opts.bip);
              return NULL;
            }
          n->subnet = bip;
          n->gateway = bip.addr == ipv4_net_first (bip) ? bip.addr + 1 : bip.addr;
        }
      else
        {
          if (subnet_from_pool (e, &n->subnet, err) < 0)
            {
              net_free (n);
              return NULL;
            }
          n->gateway = ipv4_net_first (n->subnet) + 1;
        }
      json_object_set_new (n->options, "com.docker.network.bridge.default_bridge", json_string ("true"));
      json_object_set_new (n->options, "com.docker.network.bridge.name", json_string (n->bridge));
      json_object_set_new (n->options, "com.docker.network.bridge.enable_ip_masquerade", json_string ("true"));
    }
  if (net_save (e, n, err) < 0)
    {
      net_free (n);
      return NULL;
    }
  net_add (e, n);
  return n;
}

static int dns_lookup (void *ud, uint32_t client, const char *name, uint32_t *out);

int
network_open (engine *e, polis_error **err)
{
  e->pool = (ipv4_net) { 0xac110000u, 12 }; /* 172.17.0.0/12 */
  e->pool_size = 16;
  if (e->opts.address_pool && *e->opts.address_pool)
    {
      /* Docker's spelling: base=CIDR,size=N */
      cleanup_free char *p = xstrdup (e->opts.address_pool);
      char *sz = strstr (p, ",size=");
      if (sz)
        *sz = '\0';
      const char *b = strncmp (p, "base=", 5) == 0 ? p + 5 : p;
      if (!ipv4_parse_net (b, &e->pool) || (sz && atoi (sz + 6) < (int) e->pool.prefix)
          || (sz && atoi (sz + 6) > 30))
        return error_set (err, ERROR_INVALID, EINVAL,
                          "--default-address-pool: invalid pool %s", e->opts.address_pool);
      e->pool_size = sz ? (unsigned) atoi (sz + 6) : 24;
    }
  e->fw = firewall_new (e->opts.nft_helper ? e->opts.nft_helper : "polis-nft",
                        e->opts.nft_table ? e->opts.nft_table : "polis");
  if (state_db_each_network (e->db, load_net_row, e, err) < 0)
    return -1;
  if (predefined (e, "none", NET_NULL, err) == NULL
      || predefined (e, "host", NET_HOST, err) == NULL
      || predefined (e, "bridge", NET_BRIDGE, err) == NULL)
    return -1;
  uint32_t up_ip = 0;
  unsigned up_port = 53;
  if (e->opts.dns_upstream && *e->opts.dns_upstream)
    {
      cleanup_free char *u = xstrdup (e->opts.dns_upstream);
      char *colon = strchr (u, ':');
      if (colon)
        {
          *colon = '\0';
          up_port = (unsigned) atoi (colon + 1);
        }
      if (!ipv4_parse_addr (u, &up_ip) || up_port == 0 || up_port > 65535)
        return error_set (err, ERROR_INVALID, EINVAL, "--dns-upstream: invalid address %s",
                          e->opts.dns_upstream);
    }
  else
    up_ip = dns_upstream_from_resolv_conf ("/etc/resolv.conf");
  e->dns = dns_server_start (up_ip, up_port, dns_lookup, e, err);
  if (e->dns == NULL)
    return error_wrap (err, "start the resolver");
  /* Host configuration: only when asked (Docker does it unasked). */
  if (e->opts.ip_forward)
    write_sysctl ("/proc/sys/net/ipv4/ip_forward", "1");
  if (firewall_init (e->fw, dns_server_port (e->dns), err) < 0)
    return error_wrap (err, "set up table %s", firewall_table (e->fw));
  for (size_t i = 0; i < e->n_nets; i++)
    if (net_kernel_up (e, e->nets[i], NULL, err) < 0)
      return error_wrap (err, "network %s", e->nets[i]->name);
  return 0;
}

void
network_close (engine *e)
{
  dns_server_stop (e->dns);
  e->dns = NULL;
  for (size_t i = 0; i < e->n_nets; i++)
    net_free (e->nets[i]);
  free (e->nets);
  e->nets = NULL;
  e->n_nets = 0;
  firewall_free (e->fw);
  e->fw = NULL;
}

/* --- IPAM ------------------------------------------------------------------------------ */

/* Under the engine lock: WANT (0: the next free address, round-robin as
   Docker's IPAM, so that an address just released, whose interface the
   reaper may still be deleting, is not handed out at once) for container
   CID on N. */
static int
ip_take (engine *e, net *n, uint32_t want, const char *cid, uint32_t *out,
         polis_error **err)
{
  if (want)
    {
      if (!ipv4_net_contains (n->subnet, want) || want == n->gateway
          || want == ipv4_net_first (n->subnet) || want == ipv4_net_last (n->subnet))
        {
          char b[IPV4_STR];
          return error_set (err, ERROR_INVALID, EINVAL,
                            "invalid endpoint settings:\nno configured subnet or "
                            "ip-range contain the IP address %s",
                            ipv4_format (want, b));
        }
      polis_error *e2 = NULL;
      if (state_db_ip_take (e->db, n->id, want, cid, &e2) < 0)
        {
          bool dup = e2->cls == ERROR_CONFLICT;
          error_free (&e2);
          char b[IPV4_STR];
          return dup ? error_set (err, ERROR_FORBIDDEN, EADDRINUSE,
                                  "Address already in use: %s", ipv4_format (want, b))
                     : error_set (err, ERROR_INTERNAL, EIO, "take an address");
        }
      *out = want;
      return 0;
    }
  ipv4_net r = n->range.prefix ? n->range : n->subnet;
  uint32_t first = ipv4_net_first (r), last = ipv4_net_last (r);
  uint32_t a = ipv4_net_contains (r, n->next_ip) ? n->next_ip : first;
  for (uint64_t tried = 0; tried <= (uint64_t) (last - first); tried++)
    {
      uint32_t cur = a;
      a = cur == last ? first : cur + 1;
      if (cur == n->gateway || cur == ipv4_net_first (n->subnet)
          || cur == ipv4_net_last (n->subnet))
        continue;
      polis_error *e2 = NULL;
      if (state_db_ip_take (e->db, n->id, cur, cid, &e2) == 0)
        {
          *out = cur;
          n->next_ip = a;
          return 0;
        }
      bool dup = e2->cls == ERROR_CONFLICT;
      if (!dup)
        {
          *err = e2;
          return -1;
        }
      error_free (&e2);
    }
  return error_set (err, ERROR_FORBIDDEN, ENOSPC,
                    "no available IPv4 addresses on this network's address pools: %s (%s)",
                    n->name, n->id);
}

/* --- endpoints -------------------------------------------------------------------------- */

const char *
jstr (const json_t *o, const char *k)
{
  const char *s = json_string_value (json_object_get (o, k));
  return s ? s : "";
}

/* Under the engine lock: an EndpointSettings for C on N (address taken). */
json_t *
endpoint_make (engine *e, container *c, net *n, const json_t *given,
               polis_error **err)
{
  json_t *aliases = json_object_get (given, "Aliases");
  if (json_array_size (aliases) > 0 && !n->dns)
    {
      error_set (err, ERROR_INVALID, EINVAL,
                 "network-scoped alias is supported only for containers in user "
                 "defined networks");
      return NULL;
    }
  json_t *ipam = json_object_get (given, "IPAMConfig");
  const char *want_s = jstr (ipam, "IPv4Address");
  uint32_t want = 0, ip = 0;
  if (*want_s && !ipv4_parse_addr (want_s, &want))
    {
      error_set (err, ERROR_INVALID, EINVAL, "invalid IPv4 address: %s", want_s);
      return NULL;
    }
  if (want && !n->dns)
    {
      error_set (err, ERROR_INVALID, EINVAL,
                 "user specified IP address is supported on user defined networks only");
      return NULL;
    }
  char eid[65];
  random_hex (eid, 32);
  json_t *ep = json_pack ("{s:O?,s:n,s:O,s:s,s:n,s:i,s:s,s:s,s:s,s:s,s:i,s:s,s:i,s:s,s:n}",
                          "IPAMConfig", json_is_object (ipam) ? ipam : NULL,
                          "Links", "Aliases",
                          json_is_array (aliases) ? aliases : json_null (),
                          "MacAddress", "", "DriverOpts", "GwPriority", 0,
                          "NetworkID", n->id, "EndpointID", eid, "Gateway", "",
                          "IPAddress", "", "IPPrefixLen", 0, "IPv6Gateway", "",
                          "GlobalIPv6PrefixLen", 0, "GlobalIPv6Address", "",
                          "DNSNames");
  if (n->kind == NET_BRIDGE)
    {
      if (ip_take (e, n, want, c->id, &ip, err) < 0)
        {
          json_decref (ep);
          return NULL;
        }
      char a[IPV4_STR], g[IPV4_STR], mac[18];
      snprintf (mac, sizeof mac, "02:42:%02x:%02x:%02x:%02x", ip >> 24,
                (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
      json_object_set_new (ep, "IPAddress", json_string (ipv4_format (ip, a)));
      json_object_set_new (ep, "Gateway", json_string (ipv4_format (n->gateway, g)));
      json_object_set_new (ep, "IPPrefixLen", json_integer (n->subnet.prefix));
      json_object_set_new (ep, "MacAddress", json_string (mac));
      if (n->dns)
        {
          json_t *names = json_array ();
          json_array_append_new (names, json_string (c->name ? c->name : ""));
          json_array_append_new (names, json_stringn (c->id, 12));
          size_t i;
          json_t *v;
          json_array_foreach (aliases, i, v) json_array_append (names, v);
          json_object_set_new (ep, "DNSNames", names);
        }
    }
  return ep;
}

void
endpoint_release (engine *e, const json_t *ep)
{
  uint32_t ip;
  if (ipv4_parse_addr (jstr (ep, "IPAddress"), &ip))
    {
      polis_error *err = NULL;
      if (state_db_ip_release (e->db, jstr (ep, "NetworkID"), ip, &err) < 0)
        {
          log_warning ("release %s: %s", jstr (ep, "IPAddress"), err->msg);
          error_free (&err);
        }
    }
}

/* --- published ports ---------------------------------------------------------------------- */

static bool
port_free_on_host (bool udp, uint32_t ip, unsigned port)
{
  cleanup_close int fd = socket (AF_INET, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return true;
  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons ((uint16_t) port),
                            .sin_addr.s_addr = htonl (ip) };
  return bind (fd, (struct sockaddr *) &sa, sizeof sa) == 0;
}

/* "80/tcp" -> 80, udp. */
static bool
parse_port_key (const char *key, unsigned *port, bool *udp)
{
  char *end;
  long p = strtol (key, &end, 10);
  if (p <= 0 || p > 65535)
    return false;
  *udp = strcmp (end, "/udp") == 0;
  if (!*udp && *end && strcmp (end, "/tcp") != 0)
    return false;
  *port = (unsigned) p;
  return true;
}

/* The host side of every binding of C, for the firewall. */
static size_t
ports_list (const container *c, firewall_port **out)
{
  *out = NULL;
  size_t n = 0;
  uint32_t ip = network_container_ip (c);
  const char *key;
  json_t *arr;
  json_object_foreach (c->ports, key, arr)
  {
    unsigned cport;
    bool udp;
    if (!parse_port_key (key, &cport, &udp))
      continue;
    size_t i;
    json_t *b;
    json_array_foreach (arr, i, b)
    {
      uint32_t hip = 0;
      ipv4_parse_addr (jstr (b, "HostIp"), &hip);
      *out = xrealloc (*out, (n + 1) * sizeof **out);
      (*out)[n++] = (firewall_port) { udp, hip, (unsigned) atoi (jstr (b, "HostPort")), ip, cport };
    }
  }
  return n;
}

static bool
port_clash (const firewall_port *a, const firewall_port *b)
{
  return a->udp == b->udp && a->host_port == b->host_port
         && (a->host_ip == 0 || b->host_ip == 0 || a->host_ip == b->host_ip);
}

/* Under the engine lock: another container holding (ip, port): with
   INSTALLED, only one whose ports are in the firewall; else also one that
   reserved it at create. */
static container *
port_holder (engine *e, const container *self, const firewall_port *p, bool installed)
{
  for (size_t i = 0; i < e->n_cs; i++)
    {
      container *o = e->cs[i];
      if (o == self || o->removed || !json_object_size (o->ports) || (installed && !o->ports_on))
        continue;
      cleanup_free firewall_port *op = NULL;
      size_t n = ports_list (o, &op);
      for (size_t k = 0; k < n; k++)
        if (port_clash (&op[k], p))
          return o;
    }
  return NULL;
}

static bool
port_held (engine *e, const container *self, const firewall_port *p)
{
  return port_holder (e, self, p, false) != NULL;
}

static bool
is_running (const container *c)
{
  return c->status == CS_RUNNING || c->status == CS_PAUSED || c->status == CS_RESTARTING;
}

/* Under the lock: Docker's NetworkSettings.Ports for C from its
   PortBindings (and ExposedPorts with -P); host ports 0/"" drawn. */
static int
ports_make (engine *e, container *c, polis_error **err)
{
  json_t *pb = json_object_get (c->host_config, "PortBindings");
  cleanup_json json_t *want = json_is_object (pb) ? json_deep_copy (pb) : json_object ();
  if (json_is_true (json_object_get (c->host_config, "PublishAllPorts")))
    {
      const char *k;
      json_t *v;
      json_object_foreach (json_object_get (c->config, "ExposedPorts"), k, v)
      {
        if (!json_object_get (want, k))
          json_object_set_new (want, k, json_pack ("[{s:s,s:s}]", "HostIp", "", "HostPort", ""));
      }
    }
  json_t *ports = json_object ();
  const char *key;
  json_t *arr;
  json_object_foreach (want, key, arr)
  {
    unsigned cport;
    bool udp;
    if (!parse_port_key (key, &cport, &udp))
      {
        json_decref (ports);
        return error_set (err, ERROR_INVALID, EINVAL, "invalid port specification: \"%s\"", key);
      }
    char norm[32];
    snprintf (norm, sizeof norm, "%u/%s", cport, udp ? "udp" : "tcp");
    json_t *out = json_array ();
    size_t i;
    json_t *b;
    json_array_foreach (arr, i, b)
    {
      const char *hip_s = jstr (b, "HostIp");
      uint32_t hip = 0;
      if (*hip_s && !ipv4_parse_addr (hip_s, &hip))
        {
          json_decref (out);
          json_decref (ports);
          return error_set (err, ERROR_INVALID, EINVAL, "invalid IP address: %s", hip_s);
        }
      const char *hp_s = jstr (b, "HostPort");
      char *end;
      long hp = *hp_s ? strtol (hp_s, &end, 10) : 0;
      if (*hp_s && (*end || hp < 0 || hp > 65535))
        {
          json_decref (out);
          json_decref (ports);
          return error_set (err, ERROR_INVALID, EINVAL, "invalid port specification: \"%s\"", hp_s);
        }
      if (hp == 0)
        for (int t = 0; t < PORT_RANDOM_TRIES; t++)
          {
            uint32_t r;
            if (getrandom (&r, sizeof r, 0) != sizeof r)
              abort ();
            unsigned cand = PORT_RANDOM_FIRST + r % (PORT_RANDOM_LAST - PORT_RANDOM_FIRST + 1);
            firewall_port fp = { udp, hip, cand, 0, cport };
            if (!port_held (e, c, &fp) && port_free_on_host (udp, hip, cand))
              {
                hp = cand;
                break;
              }
          }
      char hb[IPV4_STR], hpb[8];
      snprintf (hpb, sizeof hpb, "%ld", hp);
      json_array_append_new (out, json_pack ("{s:s,s:s}", "HostIp", ipv4_format (hip, hb),
                                             "HostPort", hpb));
    }
    json_object_set_new (ports, norm, out);
  }
  json_decref (c->ports);
  c->ports = ports;
  return 0;
}

/* --- containers ---------------------------------------------------------------------------- */

int
network_container_prepare (engine *e, container *c, polis_error **err)
{
  /* Copies: NetworkMode is rewritten below. */
  const char *m0 = json_string_value (json_object_get (c->host_config, "NetworkMode"));
  cleanup_free char *given_mode = xstrdup (m0 ? m0 : "");
  cleanup_free char *mode = xstrdup (*given_mode == '\0' || strcmp (given_mode, "default") == 0
                                         ? "bridge"
                                         : given_mode);
  if (strncmp (mode, "container:", 10) == 0)
    {
      /* Its namespace is joined at start (bundle.c); no endpoint here. */
      if (json_object_size (json_object_get (c->host_config, "PortBindings")) > 0
          || json_is_true (json_object_get (c->host_config, "PublishAllPorts")))
        return error_set (err, ERROR_INVALID, EINVAL,
                          "conflicting options: port publishing and the container "
                          "type network mode");
      cleanup_container container *other = engine_container_get (e, mode + 10, err);
      if (other == NULL)
        return -1;
      if (other == c)
        return error_set (err, ERROR_INVALID, EINVAL,
                          "cannot join own network namespace");
      engine_lock (e);
      cleanup_free char *m = xasprintf ("container:%s", other->id);
      json_object_set_new (c->host_config, "NetworkMode", json_string (m));
      json_decref (c->endpoints);
      c->endpoints = json_object ();
      json_decref (c->ports);
      c->ports = json_object ();
      engine_unlock (e);
      return 0;
    }
  json_t *given = json_object_get (c->net_config, "EndpointsConfig");
  engine_lock (e);
  net *first = net_find (e, mode);
  if (first == NULL)
    {
      engine_unlock (e);
      return not_found (mode, err);
    }
  json_object_set_new (c->host_config, "NetworkMode",
                       json_string (first->predefined ? first->name : mode));
  json_t *eps = json_object ();
  /* The CLI names the default network "default" in EndpointsConfig. */
  json_t *first_given = json_object_get (given, mode);
  if (first_given == NULL)
    first_given = json_object_get (given, given_mode);
  if (first_given == NULL)
    first_given = json_object_get (given, first->name);
  if (first_given == NULL && strcmp (first->name, "bridge") == 0)
    first_given = json_object_get (given, "default");
  json_t *ep = endpoint_make (e, c, first, first_given, err);
  if (ep == NULL)
    goto fail;
  json_object_set_new (eps, first->name, ep);
  if (first->kind == NET_BRIDGE)
    {
      const char *k;
      json_t *v;
      json_object_foreach (given, k, v)
      {
        net *n = strcmp (k, "default") == 0 ? net_find (e, "bridge") : net_find (e, k);
        if (n == first || v == first_given)
          continue;
        if (n == NULL)
          {
            not_found (k, err);
            goto fail;
          }
        if (n->kind != NET_BRIDGE)
          {
            error_set (err, ERROR_INVALID, EINVAL,
                       "container cannot be connected to host and bridge networks");
            goto fail;
          }
        json_t *ep2 = endpoint_make (e, c, n, v, err);
        if (ep2 == NULL)
          goto fail;
        json_object_set_new (eps, n->name, ep2);
      }
      if (ports_make (e, c, err) < 0)
        goto fail;
    }
  else if (json_object_size (json_object_get (c->host_config, "PortBindings")) > 0)
    json_object_clear (json_object_get (c->host_config, "PortBindings"));
  json_decref (c->endpoints);
  c->endpoints = eps;
  engine_unlock (e);
  return 0;
fail:
  {
    const char *k;
    json_t *v;
    json_object_foreach (eps, k, v) endpoint_release (e, v);
  }
  json_decref (eps);
  engine_unlock (e);
  return -1;
}

uint32_t
network_container_ip (const container *c)
{
  const char *k;
  json_t *v;
  json_object_foreach (c->endpoints, k, v)
  {
    uint32_t ip;
    if (ipv4_parse_addr (jstr (v, "IPAddress"), &ip))
      return ip;
  }
  return 0;
}

uint32_t
network_container_dns (engine *e, const container *c)
{
  uint32_t r = 0;
  engine_lock (e);
  const char *k;
  json_t *v;
  json_object_foreach (c->endpoints, k, v)
  {
    net *n = net_by_id (e, jstr (v, "NetworkID"));
    if (n && n->dns)
      {
        r = n->gateway;
        break;
      }
  }
  engine_unlock (e);
  return r;
}

static void
veth_name (const json_t *ep, char out[IFNAMSIZ_POLIS])
{
  snprintf (out, IFNAMSIZ_POLIS, "veth%.7s", jstr (ep, "EndpointID"));
}

/* Wire endpoint EP of C (its IFNAME inside) through NL (host) and NLC (C's
   namespace, fd NSFD). */
int
wire_endpoint (engine *e, container *c, netlink_sock *nl, netlink_sock *nlc,
               int nsfd, const json_t *ep, int ifno, bool route, polis_error **err)
{
  uint32_t ip;
  if (!ipv4_parse_addr (jstr (ep, "IPAddress"), &ip))
    return 0;
  engine_lock (e);
  net *n = net_by_id (e, jstr (ep, "NetworkID"));
  cleanup_free char *bridge = n ? xstrdup (n->bridge) : NULL;
  unsigned mtu = n ? n->mtu : 0, prefix = n ? n->subnet.prefix : 24;
  uint32_t gw = n ? n->gateway : 0;
  bool internal = n ? n->internal : true;
  engine_unlock (e);
  if (bridge == NULL)
    return error_set (err, ERROR_NOT_FOUND, ENOENT, "network %s not found", jstr (ep, "NetworkID"));
  char host[IFNAMSIZ_POLIS], peer[IFNAMSIZ_POLIS];
  veth_name (ep, host);
  (void) c;
  /* IFNO < 0: the first ethN free in the namespace (a disconnect may
     have left a gap). */
  for (int i = 0; ifno < 0 && i < 64; i++)
    {
      snprintf (peer, sizeof peer, "eth%d", i);
      int idx = netlink_link_index (nlc, peer, err);
      if (idx < 0)
        return -1;
      if (idx == 0)
        ifno = i;
    }
  if (ifno < 0)
    return error_set (err, ERROR_CONFLICT, EBUSY, "no free interface name in the container");
  snprintf (peer, sizeof peer, "eth%d", ifno);
  polis_error *ign = NULL;
  netlink_link_del (nl, host, &ign);
  error_free (&ign);
  if (netlink_veth_add (nl, host, peer, nsfd, mtu, err) < 0)
    return error_wrap (err, "create %s", host);
  int br = netlink_link_index (nl, bridge, err);
  int hi = br > 0 ? netlink_link_index (nl, host, err) : -1;
  int pi = hi > 0 ? netlink_link_index (nlc, peer, err) : -1;
  if (br <= 0 || hi <= 0 || pi <= 0)
    goto fail;
  uint8_t mac[6] = { 0x02, 0x42, (uint8_t) (ip >> 24), (uint8_t) (ip >> 16),
                     (uint8_t) (ip >> 8), (uint8_t) ip };
  struct in_addr a = { htonl (ip) }, g = { htonl (gw) };
  if (netlink_link_set (nl, hi, br, NULL, err) < 0
      || netlink_link_set (nlc, pi, 0, mac, err) < 0
      || netlink_addr_add (nlc, pi, a, prefix, err) < 0
      || (route && !internal && netlink_route_default (nlc, pi, g, err) < 0))
    goto fail;
  return 0;
fail:
  if (*err == NULL)
    error_set (err, ERROR_INTERNAL, ENODEV, "interface %s vanished", host);
  netlink_link_del (nl, host, &ign);
  error_free (&ign);
  return error_wrap (err, "connect to %s", bridge);
}

void
unwire_endpoint (netlink_sock *nl, const json_t *ep)
{
  char host[IFNAMSIZ_POLIS];
  veth_name (ep, host);
  polis_error *err = NULL;
  if (netlink_link_del (nl, host, &err) < 0)
    {
      log_warning ("delete %s: %s", host, err->msg);
      error_free (&err);
    }
}

/* Refuse ports a running container or a host process holds, before
   anything is made.  A stopped container that still has a port in the
   firewall gives it up (Docker frees ports at stop): it is unpublished
   here and publishes again at its next start, if the port is free then. */
static int
ports_check (engine *e, container *c, polis_error **err)
{
  engine_lock (e);
  cleanup_free firewall_port *p = NULL;
  size_t n = ports_list (c, &p);
  container *evict[8];
  size_t n_evict = 0;
  for (size_t i = 0; i < n; i++)
    {
      char b[IPV4_STR];
      container *h = port_holder (e, c, &p[i], true);
      if (h && !is_running (h) && n_evict < sizeof evict / sizeof *evict)
        {
          bool seen = false;
          for (size_t k = 0; k < n_evict; k++)
            seen |= evict[k] == h;
          if (!seen)
            {
              h->refs++;
              evict[n_evict++] = h;
            }
          continue;
        }
      if (h)
        {
          error_set (err, ERROR_INTERNAL, EADDRINUSE,
                     "driver failed programming external connectivity on "
                     "endpoint %s (%s): Bind for %s:%u failed: port is "
                     "already allocated",
                     c->name, c->id, ipv4_format (p[i].host_ip, b), p[i].host_port);
          break;
        }
      if (!c->ports_on && !port_free_on_host (p[i].udp, p[i].host_ip, p[i].host_port))
        {
          error_set (err, ERROR_INTERNAL, EADDRINUSE,
                     "driver failed programming external connectivity on "
                     "endpoint %s (%s): listen %s4 %s:%u: bind: address "
                     "already in use",
                     c->name, c->id, p[i].udp ? "udp" : "tcp",
                     ipv4_format (p[i].host_ip, b), p[i].host_port);
          break;
        }
    }
  engine_unlock (e);
  int r = *err ? -1 : 0;
  if (r < 0)
    {
      for (size_t k = 0; k < n_evict; k++)
        container_unref (evict[k]);
      return -1;
    }
  for (size_t k = 0; k < n_evict; k++)
    {
      engine_lock (e);
      cleanup_free firewall_port *hp = NULL;
      size_t hn = evict[k]->ports_on ? ports_list (evict[k], &hp) : 0;
      engine_unlock (e);
      if (r == 0 && hn && firewall_ports (e->fw, false, hp, hn, err) < 0)
        r = -1;
      if (r == 0)
        {
          engine_lock (e);
          evict[k]->ports_on = false;
          container_save (e, evict[k], NULL);
          engine_unlock (e);
        }
      container_unref (evict[k]);
    }
  return r;
}

static int
publish (engine *e, container *c, polis_error **err)
{
  engine_lock (e);
  cleanup_free firewall_port *p = NULL;
  size_t n = ports_list (c, &p);
  engine_unlock (e);
  if (firewall_ports (e->fw, true, p, n, err) < 0)
    return -1;
  engine_lock (e);
  c->ports_on = n > 0;
  container_save (e, c, NULL);
  engine_unlock (e);
  return 0;
}

int
network_container_start (engine *e, container *c, bool fresh, polis_error **err)
{
  if (network_container_ip (c) == 0)
    return 0;
  if (ports_check (e, c, err) < 0)
    return -1;
  (void) fresh;
  /* Each endpoint whose host interface is missing is wired: all of them
     in a new namespace, after a failed start or a reboot; one connected
     while the container was stopped. */
  engine_lock (e);
  cleanup_json json_t *eps = json_deep_copy (c->endpoints);
  engine_unlock (e);
  size_t missing = 0;
  const char *k;
  json_t *v;
  json_object_foreach (eps, k, v)
  {
    char host[IFNAMSIZ_POLIS];
    veth_name (v, host);
    if (if_nametoindex (host) == 0 && *jstr (v, "IPAddress"))
      missing++;
    else
      json_object_set_new (v, "PolisWired", json_true ());
  }
  if (missing > 0)
    {
      cleanup_netlink netlink_sock *nl = netlink_open (err);
      if (nl == NULL)
        return -1;
      cleanup_netlink netlink_sock *nlc = netlink_open_in (c->sandbox, err);
      if (nlc == NULL)
        return -1;
      cleanup_close int nsfd = open (c->sandbox, O_RDONLY | O_CLOEXEC);
      if (nsfd < 0)
        return error_sys (err, "open `%s`", c->sandbox);
      bool first = true;
      json_object_foreach (eps, k, v)
      {
        bool route = first;
        first = false;
        if (json_is_true (json_object_get (v, "PolisWired")))
          continue;
        if (wire_endpoint (e, c, nl, nlc, nsfd, v, -1, route, err) < 0)
          {
            const char *k2;
            json_t *v2;
            json_object_foreach (eps, k2, v2)
            {
              if (!json_is_true (json_object_get (v2, "PolisWired")))
                unwire_endpoint (nl, v2);
            }
            return -1;
          }
      }
    }
  return publish (e, c, err);
}

char **
network_container_release (engine *e, container *c)
{
  engine_lock (e);
  cleanup_free firewall_port *p = NULL;
  size_t n = c->ports_on ? ports_list (c, &p) : 0;
  cleanup_json json_t *eps = json_deep_copy (c->endpoints);
  c->ports_on = false;
  engine_unlock (e);
  polis_error *err = NULL;
  if (n && firewall_ports (e->fw, false, p, n, &err) < 0)
    {
      log_warning ("unpublish the ports of %.12s: %s", c->id, err->msg);
      error_free (&err);
    }
  if (network_container_ip (c) == 0)
    return NULL;
  char **links = NULL;
  const char *k;
  json_t *v;
  json_object_foreach (eps, k, v)
  {
    char host[IFNAMSIZ_POLIS];
    veth_name (v, host);
    strv_append (&links, host);
  }
  return links;
}

json_t *
network_ports_summary (const container *c)
{
  json_t *out = json_array ();
  const char *key;
  json_t *arr;
  json_object_foreach (c->ports, key, arr)
  {
    unsigned cport;
    bool udp;
    if (!parse_port_key (key, &cport, &udp))
      continue;
    size_t i;
    json_t *b;
    json_array_foreach (arr, i, b)
    json_array_append_new (out, json_pack ("{s:s,s:i,s:i,s:s}", "IP", jstr (b, "HostIp"),
                                           "PrivatePort", (int) cport, "PublicPort",
                                           atoi (jstr (b, "HostPort")), "Type",
                                           udp ? "udp" : "tcp"));
  }
  return out;
}

json_t *
network_settings_json (engine *e, const container *c, bool summary)
{
  (void) e;
  json_t *nets = c->endpoints ? json_deep_copy (c->endpoints) : json_object ();
  if (summary)
    return json_pack ("{s:o}", "Networks", nets);
  json_t *first = NULL;
  json_t *bridge = json_object_get (nets, "bridge");
  first = bridge;
  json_t *ports = c->ports ? json_deep_copy (c->ports) : json_object ();
  /* Exposed ports not published show as null, as Docker. */
  const char *k;
  json_t *v;
  json_object_foreach (json_object_get (c->config, "ExposedPorts"), k, v)
  {
    if (!json_object_get (ports, k))
      json_object_set_new (ports, k, json_null ());
  }
  return json_pack (
      "{s:s, s:s, s:s, s:o, s:b, s:s, s:i, s:n, s:n, s:s, s:s, s:s, s:i,"
      " s:s, s:i, s:s, s:s, s:o}",
      "Bridge", "", "SandboxID", c->sandbox ? c->sandbox + strlen (c->sandbox) - 16 : "",
      "SandboxKey", c->sandbox ? c->sandbox : "", "Ports", ports, "HairpinMode", false,
      "LinkLocalIPv6Address", "", "LinkLocalIPv6PrefixLen", 0, "SecondaryIPAddresses",
      "SecondaryIPv6Addresses", "EndpointID", jstr (first, "EndpointID"), "Gateway",
      jstr (first, "Gateway"), "GlobalIPv6Address", "", "GlobalIPv6PrefixLen", 0,
      "IPAddress", jstr (first, "IPAddress"), "IPPrefixLen",
      (int) json_integer_value (json_object_get (first, "IPPrefixLen")), "IPv6Gateway",
      "", "MacAddress", jstr (first, "MacAddress"), "Networks", nets);
}

/* --- the resolver ------------------------------------------------------------------------ */

static bool
name_matches (const container *c, const json_t *ep, const char *name, const char *netname)
{
  size_t nl = strlen (name), l = strlen (netname);
  char buf[256];
  /* "web.mynet" is "web" on mynet, as Docker's resolver. */
  if (nl > l + 1 && name[nl - l - 1] == '.' && strcmp (name + nl - l, netname) == 0
      && nl - l - 1 < sizeof buf)
    {
      memcpy (buf, name, nl - l - 1);
      buf[nl - l - 1] = '\0';
      name = buf;
    }
  if (c->name && strcasecmp (c->name, name) == 0)
    return true;
  if (strlen (name) == 12 && strncmp (c->id, name, 12) == 0)
    return true;
  size_t i;
  json_t *v;
  json_array_foreach (json_object_get (ep, "Aliases"), i, v)
  {
    if (json_string_value (v) && strcasecmp (json_string_value (v), name) == 0)
      return true;
  }
  return false;
}

/* Under the lock: the container whose address on some network is IP. */
static container *
container_by_ip (engine *e, uint32_t ip)
{
  for (size_t i = 0; i < e->n_cs; i++)
    {
      const char *k;
      json_t *ep;
      json_object_foreach (e->cs[i]->endpoints, k, ep)
      {
        uint32_t a;
        if (!e->cs[i]->removed && ipv4_parse_addr (jstr (ep, "IPAddress"), &a) && a == ip)
          return e->cs[i];
      }
    }
  return NULL;
}

/* Names on NW that match NAME: running containers' addresses there. */
static int
lookup_on (engine *e, net *nw, const char *name, uint32_t *out, int n)
{
  for (size_t i = 0; i < e->n_cs; i++)
    {
      container *c = e->cs[i];
      if (c->removed || c->status != CS_RUNNING)
        continue;
      const char *k;
      json_t *ep;
      json_object_foreach (c->endpoints, k, ep)
      {
        uint32_t ip;
        if (strcmp (jstr (ep, "NetworkID"), nw->id) != 0
            || !ipv4_parse_addr (jstr (ep, "IPAddress"), &ip)
            || !name_matches (c, ep, name, nw->name))
          continue;
        if (n < 0)
          n = 0;
        if (n < DNS_ANSWERS_MAX)
          out[n++] = ip;
      }
    }
  return n;
}

/* A container is answered the names of every network it is on (as
   Docker's resolver), whichever of its addresses asked. */
static int
dns_lookup (void *ud, uint32_t client, const char *name, uint32_t *out)
{
  engine *e = ud;
  int n = -1;
  engine_lock (e);
  container *asker = container_by_ip (e, client);
  if (asker)
    {
      const char *k;
      json_t *ep;
      json_object_foreach (asker->endpoints, k, ep)
      {
        net *nw = net_by_id (e, jstr (ep, "NetworkID"));
        if (nw && nw->dns)
          n = lookup_on (e, nw, name, out, n);
      }
    }
  engine_unlock (e);
  return n;
}
