/* network_api.c - the /networks endpoints over the engine's networks. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/log.h"
#include "base/pjson.h"
#include "base/xalloc.h"
#include "network.h"
#include "network/firewall.h"
#include "network_internal.h"

/* Labels and options of a create request, each. */
#define NETWORK_MAP_MAX 256

/* Under the engine lock: Docker's NetworkResource. */
static json_t *
net_json (engine *e, net *n, bool with_containers)
{
  char created[48], s[IPV4_STR], g[IPV4_STR], r[IPV4_STR];
  json_t *cfg = json_array ();
  if (n->kind == NET_BRIDGE)
    {
      cleanup_free char *sub = xasprintf ("%s/%u", ipv4_format (ipv4_net_first (n->subnet), s), n->subnet.prefix);
      json_t *c = json_pack ("{s:s,s:s}", "Subnet", sub, "Gateway", ipv4_format (n->gateway, g));
      if (n->range.prefix)
        {
          cleanup_free char *rng = xasprintf ("%s/%u", ipv4_format (n->range.addr, r), n->range.prefix);
          json_object_set_new (c, "IPRange", json_string (rng));
        }
      json_array_append_new (cfg, c);
    }
  json_t *cs = json_object ();
  for (size_t i = 0; with_containers && i < e->n_cs; i++)
    {
      container *c = e->cs[i];
      const char *k;
      json_t *ep;
      json_object_foreach (c->endpoints, k, ep)
      {
        if (strcmp (jstr (ep, "NetworkID"), n->id) != 0 || c->removed)
          continue;
        cleanup_free char *a = *jstr (ep, "IPAddress")
                                   ? xasprintf ("%s/%d", jstr (ep, "IPAddress"),
                                                (int) json_integer_value (json_object_get (ep, "IPPrefixLen")))
                                   : xstrdup ("");
        json_object_set_new (cs, c->id,
                             json_pack ("{s:s,s:s,s:s,s:s,s:s}", "Name", c->name,
                                        "EndpointID", jstr (ep, "EndpointID"), "MacAddress",
                                        jstr (ep, "MacAddress"), "IPv4Address", a,
                                        "IPv6Address", ""));
      }
    }
  return json_pack ("{s:s,s:s,s:s,s:s,s:s,s:b,s:b,s:{s:s,s:n,s:o},s:b,s:b,s:b,"
                    "s:{s:s},s:b,s:o,s:O,s:O}",
                    "Name", n->name, "Id", n->id, "Created",
                    engine_format_time (n->created_ns, created, sizeof created), "Scope",
                    "local", "Driver", kind_name (n->kind), "EnableIPv4",
                    n->kind == NET_BRIDGE, "EnableIPv6", false, "IPAM", "Driver",
                    "default", "Options", "Config", cfg, "Internal", n->internal,
                    "Attachable", n->attachable, "Ingress", false, "ConfigFrom",
                    "Network", "", "ConfigOnly", false, "Containers", cs, "Options",
                    n->options, "Labels", n->labels);
}

/* The values of filter KEY ({"k":{"v":true}} or {"k":["v"]}); NULL when
   the filter is absent. */
static json_t *
filter_values (json_t *filters, const char *key)
{
  json_t *f = json_object_get (filters, key);
  if (f == NULL)
    return NULL;
  json_t *out = json_array ();
  if (json_is_array (f))
    json_array_extend (out, f);
  else
    {
      const char *k;
      json_t *v;
      json_object_foreach (f, k, v) json_array_append_new (out, json_string (k));
    }
  return out;
}

static bool
net_label_match (const net *n, const char *want)
{
  cleanup_free char *k = xstrdup (want);
  char *eq = strchr (k, '=');
  if (eq)
    *eq++ = '\0';
  const char *v = json_string_value (json_object_get (n->labels, k));
  return v && (eq == NULL || strcmp (v, eq) == 0);
}

static bool
net_selected (const net *n, json_t *filters)
{
  static const char *const keys[] = { "name", "id", "driver", "type", "label", "scope" };
  for (size_t f = 0; f < sizeof keys / sizeof *keys; f++)
    {
      cleanup_json json_t *vals = filter_values (filters, keys[f]);
      if (vals == NULL)
        continue;
      bool any = false;
      size_t i;
      json_t *v;
      json_array_foreach (vals, i, v)
      {
        const char *s = json_string_value (v);
        if (s == NULL)
          continue;
        switch (f)
          {
          case 0: any |= strstr (n->name, s) != NULL; break;
          case 1: any |= strncmp (n->id, s, strlen (s)) == 0; break;
          case 2: any |= strcmp (kind_name (n->kind), s) == 0; break;
          case 3: any |= strcmp (s, n->predefined ? "builtin" : "custom") == 0; break;
          case 4: any |= net_label_match (n, s); break;
          case 5: any |= strcmp (s, "local") == 0; break;
          }
      }
      if (!any)
        return false;
    }
  return true;
}

json_t *
engine_network_list (engine *e, json_t *filters, polis_error **err)
{
  (void) err;
  json_t *out = json_array ();
  engine_lock (e);
  for (size_t i = 0; i < e->n_nets; i++)
    if (net_selected (e->nets[i], filters))
      json_array_append_new (out, net_json (e, e->nets[i], false));
  engine_unlock (e);
  return out;
}

json_t *
engine_network_inspect (engine *e, const char *ref, polis_error **err)
{
  engine_lock (e);
  net *n = net_find (e, ref);
  json_t *o = n ? net_json (e, n, true) : NULL;
  engine_unlock (e);
  if (o == NULL)
    not_found (ref, err);
  return o;
}

static bool
valid_net_name (const char *s)
{
  if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9')))
    return false;
  for (; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9')
          || *s == '_' || *s == '.' || *s == '-'))
      return false;
  return true;
}

static int
map_of_strings (json_t *body, const char *key, json_t **out, polis_error **err)
{
  json_t *m = json_object_get (body, key);
  if (m == NULL || json_is_null (m))
    {
      *out = json_object ();
      return 0;
    }
  if (!json_is_object (m) || json_object_size (m) > NETWORK_MAP_MAX)
    return error_set (err, ERROR_INVALID, EINVAL, "invalid %s", key);
  const char *k;
  json_t *v;
  json_object_foreach (m, k, v) if (!json_is_string (v)) return error_set (err, ERROR_INVALID, EINVAL,
                                                                          "invalid %s: %s", key, k);
  *out = json_incref (m);
  return 0;
}

int
engine_network_create (engine *e, json_t *body, char **id_out, polis_error **err)
{
  const char *name = jstr (body, "Name");
  if (*name == '\0')
    return error_set (err, ERROR_INVALID, EINVAL, "network name must not be empty");
  if (!valid_net_name (name))
    return error_set (err, ERROR_INVALID, EINVAL,
                      "invalid network name \"%s\": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed",
                      name);
  const char *driver = jstr (body, "Driver");
  if (*driver && strcmp (driver, "bridge") != 0)
    return error_set (err, ERROR_NOT_FOUND, ENOENT,
                      "could not find plugin %s in v1 plugin registry: plugin not found", driver);
  if (json_is_true (json_object_get (body, "EnableIPv6")))
    return error_set (err, ERROR_INVALID, EINVAL, "IPv6 networks are not supported by polisd");
  net *n = xzalloc (sizeof *n);
  n->kind = NET_BRIDGE;
  n->name = xstrdup (name);
  n->dns = true;
  n->internal = json_is_true (json_object_get (body, "Internal"));
  n->attachable = json_is_true (json_object_get (body, "Attachable"));
  n->created_ns = events_now_ns ();
  random_hex (n->id, 32);
  if (map_of_strings (body, "Labels", &n->labels, err) < 0
      || map_of_strings (body, "Options", &n->options, err) < 0)
    goto fail;
  const char *brname = jstr (n->options, "com.docker.network.bridge.name");
  if (strlen (brname) > 15)
    {
      error_set (err, ERROR_INVALID, EINVAL, "bridge name %s is too long", brname);
      goto fail;
    }
  n->bridge = *brname ? xstrdup (brname) : xasprintf ("br-%.12s", n->id);
  const char *mtu = jstr (n->options, "com.docker.network.driver.mtu");
  if (*mtu)
    {
      int m = atoi (mtu);
      if (m < 68 || m > 65535)
        {
          error_set (err, ERROR_INVALID, EINVAL, "invalid MTU %s", mtu);
          goto fail;
        }
      n->mtu = (unsigned) m;
    }
  json_t *cfgs = json_object_get (json_object_get (body, "IPAM"), "Config");
  json_t *cfg = NULL;
  size_t i;
  json_t *v;
  json_array_foreach (cfgs, i, v)
  {
    const char *sub = jstr (v, "Subnet");
    if (strchr (sub, ':'))
      continue; /* IPv6: not ours */
    cfg = v;
    break;
  }
  engine_lock (e);
  if (net_find (e, name) && strcmp (net_find (e, name)->name, name) == 0)
    {
      engine_unlock (e);
      error_set (err, ERROR_CONFLICT, EEXIST, "network with name %s already exists", name);
      goto fail;
    }
  if (cfg && *jstr (cfg, "Subnet"))
    {
      const char *sub = jstr (cfg, "Subnet");
      if (!ipv4_parse_net (sub, &n->subnet) || n->subnet.prefix > 30)
        {
          engine_unlock (e);
          error_set (err, ERROR_INVALID, EINVAL, "invalid CIDR address: %s", sub);
          goto fail;
        }
      if (n->subnet.addr != ipv4_net_first (n->subnet))
        {
          engine_unlock (e);
          char b[IPV4_STR];
          error_set (err, ERROR_INVALID, EINVAL,
                     "invalid subnet %s: it should be %s/%u", sub,
                     ipv4_format (ipv4_net_first (n->subnet), b), n->subnet.prefix);
          goto fail;
        }
      if (subnet_taken (e, n->subnet, NULL) || subnet_routed (n->subnet, NULL))
        {
          engine_unlock (e);
          error_set (err, ERROR_FORBIDDEN, EEXIST,
                     "invalid pool request: Pool overlaps with other one on this address space");
          goto fail;
        }
    }
  else if (subnet_from_pool (e, &n->subnet, err) < 0)
    {
      engine_unlock (e);
      goto fail;
    }
  const char *gw = jstr (cfg, "Gateway");
  if (*gw)
    {
      if (!ipv4_parse_addr (gw, &n->gateway) || !ipv4_net_contains (n->subnet, n->gateway))
        {
          engine_unlock (e);
          error_set (err, ERROR_INVALID, EINVAL,
                     "no matching subnet for gateway %s", gw);
          goto fail;
        }
    }
  else
    n->gateway = ipv4_net_first (n->subnet) + 1;
  const char *rng = jstr (cfg, "IPRange");
  if (*rng && (!ipv4_parse_net (rng, &n->range) || !ipv4_net_contains (n->subnet, n->range.addr)
               || n->range.prefix < n->subnet.prefix))
    {
      engine_unlock (e);
      error_set (err, ERROR_INVALID, EINVAL, "invalid ip-range %s: not in subnet", rng);
      goto fail;
    }
  if (n->range.prefix)
    n->range.addr = ipv4_net_first (n->range);
  /* Reserve the name and subnet in memory while the kernel side is made,
     without the lock. */
  net_add (e, n);
  engine_unlock (e);
  bool made = false;
  if (net_kernel_up (e, n, &made, err) < 0)
    {
      if (made)
        net_kernel_down (e, n);
      engine_lock (e);
      net_forget (e, n);
      engine_unlock (e);
      goto fail;
    }
  engine_lock (e);
  int r = net_save (e, n, err);
  if (r < 0)
    net_forget (e, n);
  engine_unlock (e);
  if (r < 0)
    {
      net_kernel_down (e, n);
      goto fail;
    }
  *id_out = xstrdup (n->id);
  events_publish (e->bus, "network", "create", n->id,
                  json_pack ("{s:s,s:s}", "name", n->name, "type", "bridge"));
  return 0;
fail:
  net_free (n);
  return -1;
}

/* Under the lock: the first container with an endpoint on N. */
static container *
net_user (engine *e, net *n)
{
  for (size_t i = 0; i < e->n_cs; i++)
    {
      const char *k;
      json_t *ep;
      json_object_foreach (e->cs[i]->endpoints, k, ep)
      {
        if (!e->cs[i]->removed && strcmp (jstr (ep, "NetworkID"), n->id) == 0)
          return e->cs[i];
      }
    }
  return NULL;
}

/* Under the lock; the lock is dropped while the kernel side goes. */
static int
net_remove_locked (engine *e, net *n, polis_error **err)
{
  if (n->predefined)
    return error_set (err, ERROR_FORBIDDEN, EPERM,
                      "%s is a pre-defined network and cannot be removed", n->name);
  container *u = net_user (e, n);
  if (u)
    return error_set (err, ERROR_FORBIDDEN, EBUSY,
                      "error while removing network: network %s has active "
                      "endpoints (name:\"%s\" id:\"%.12s\")",
                      n->name, u->name, u->id);
  if (state_db_delete_network (e->db, n->id, err) < 0)
    return -1;
  net_forget (e, n);
  engine_unlock (e);
  net_kernel_down (e, n);
  events_publish (e->bus, "network", "destroy", n->id,
                  json_pack ("{s:s,s:s}", "name", n->name, "type", "bridge"));
  net_free (n);
  engine_lock (e);
  return 0;
}

int
engine_network_remove (engine *e, const char *ref, polis_error **err)
{
  engine_lock (e);
  net *n = net_find (e, ref);
  int r = n ? net_remove_locked (e, n, err) : not_found (ref, err);
  engine_unlock (e);
  return r;
}

json_t *
engine_network_prune (engine *e, json_t *filters, polis_error **err)
{
  (void) err;
  json_t *gone = json_array ();
  engine_lock (e);
  for (size_t i = 0; i < e->n_nets;)
    {
      net *n = e->nets[i];
      if (n->predefined || net_user (e, n) || !net_selected (n, filters))
        {
          i++;
          continue;
        }
      cleanup_free char *name = xstrdup (n->name);
      polis_error *e2 = NULL;
      if (net_remove_locked (e, n, &e2) < 0)
        {
          log_warning ("prune network %s: %s", name, e2->msg);
          error_free (&e2);
          i++;
          continue;
        }
      json_array_append_new (gone, json_string (name));
      i = 0; /* the table moved under us */
    }
  engine_unlock (e);
  return json_pack ("{s:o}", "NetworksDeleted", gone);
}

int
engine_network_connect (engine *e, const char *ref, json_t *body, polis_error **err)
{
  const char *cref = jstr (body, "Container");
  cleanup_container container *c = engine_container_get (e, cref, err);
  if (c == NULL)
    return -1;
  pthread_mutex_lock (&c->op_lock);
  engine_lock (e);
  net *n = net_find (e, ref);
  if (n == NULL)
    {
      engine_unlock (e);
      pthread_mutex_unlock (&c->op_lock);
      return not_found (ref, err);
    }
  const char *mode = json_string_value (json_object_get (c->host_config, "NetworkMode"));
  if (n->kind != NET_BRIDGE || network_container_ip (c) == 0
      || (mode && (strcmp (mode, "host") == 0 || strcmp (mode, "none") == 0)))
    {
      engine_unlock (e);
      pthread_mutex_unlock (&c->op_lock);
      return error_set (err, ERROR_FORBIDDEN, EPERM,
                        "container cannot be disconnected from host network or "
                        "connected to host network");
    }
  if (json_object_get (c->endpoints, n->name))
    {
      engine_unlock (e);
      pthread_mutex_unlock (&c->op_lock);
      return error_set (err, ERROR_FORBIDDEN, EEXIST,
                        "endpoint with name %s already exists in network %s", c->name, n->name);
    }
  json_t *ep = endpoint_make (e, c, n, json_object_get (body, "EndpointConfig"), err);
  if (ep == NULL)
    {
      engine_unlock (e);
      pthread_mutex_unlock (&c->op_lock);
      return -1;
    }
  bool running = c->status == CS_RUNNING || c->status == CS_PAUSED;
  cleanup_free char *sandbox = c->sandbox ? xstrdup (c->sandbox) : NULL;
  engine_unlock (e);
  if (running && sandbox)
    {
      cleanup_netlink netlink_sock *nl = netlink_open (err);
      cleanup_netlink netlink_sock *nlc = nl ? netlink_open_in (sandbox, err) : NULL;
      cleanup_close int nsfd = nlc ? open (sandbox, O_RDONLY | O_CLOEXEC) : -1;
      if (nsfd < 0 || wire_endpoint (e, c, nl, nlc, nsfd, ep, -1, false, err) < 0)
        {
          if (*err == NULL)
            error_sys (err, "open `%s`", sandbox);
          engine_lock (e);
          endpoint_release (e, ep);
          engine_unlock (e);
          json_decref (ep);
          pthread_mutex_unlock (&c->op_lock);
          return -1;
        }
    }
  engine_lock (e);
  json_object_set_new (c->endpoints, n->name, ep);
  free (c->summary_static);
  c->summary_static = NULL;
  container_save (e, c, NULL);
  json_t *attrs = json_pack ("{s:s,s:s,s:s}", "container", c->id, "name", n->name, "type",
                             kind_name (n->kind));
  cleanup_free char *nid = xstrdup (n->id);
  engine_unlock (e);
  events_publish (e->bus, "network", "connect", nid, attrs);
  pthread_mutex_unlock (&c->op_lock);
  return 0;
}

int
engine_network_disconnect (engine *e, const char *ref, json_t *body, polis_error **err)
{
  const char *cref = jstr (body, "Container");
  cleanup_container container *c = engine_container_get (e, cref, err);
  if (c == NULL)
    return -1;
  pthread_mutex_lock (&c->op_lock);
  engine_lock (e);
  net *n = net_find (e, ref);
  json_t *ep = n ? json_object_get (c->endpoints, n->name) : NULL;
  if (n == NULL || ep == NULL)
    {
      engine_unlock (e);
      pthread_mutex_unlock (&c->op_lock);
      if (n == NULL)
        return not_found (ref, err);
      return error_set (err, ERROR_FORBIDDEN, ENOENT,
                        "container %s is not connected to network %s", c->id, n->name);
    }
  if (n->kind != NET_BRIDGE)
    {
      engine_unlock (e);
      pthread_mutex_unlock (&c->op_lock);
      return error_set (err, ERROR_FORBIDDEN, EPERM,
                        "container cannot be disconnected from host network or "
                        "connected to host network");
    }
  json_incref (ep);
  endpoint_release (e, ep);
  json_object_del (c->endpoints, n->name);
  free (c->summary_static);
  c->summary_static = NULL;
  container_save (e, c, NULL);
  json_t *attrs = json_pack ("{s:s,s:s,s:s}", "container", c->id, "name", n->name, "type",
                             kind_name (n->kind));
  cleanup_free char *nid = xstrdup (n->id);
  engine_unlock (e);
  events_publish (e->bus, "network", "disconnect", nid, attrs);
  polis_error *e2 = NULL;
  cleanup_netlink netlink_sock *nl = netlink_open (&e2);
  if (nl)
    unwire_endpoint (nl, ep);
  error_free (&e2);
  json_decref (ep);
  pthread_mutex_unlock (&c->op_lock);
  return 0;
}
