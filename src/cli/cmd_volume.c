/* cmd_volume.c - volume and network: ls, create, rm (inspect is in
 * cmd_observe.c, prune in cmd_system.c), network connect/disconnect. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/pjson.h"
#include "base/xalloc.h"
#include "cli/cli.h"

/* "k=v" flags into a JSON object. */
static json_t *
kv_object (char **list)
{
  json_t *o = json_object ();
  for (char **p = list; p && *p; p++)
    {
      const char *eq = strchr (*p, '=');
      cleanup_free char *k = eq ? xstrndup (*p, (size_t) (eq - *p)) : xstrdup (*p);
      json_object_set_new (o, k, json_string (eq ? eq + 1 : ""));
    }
  return o;
}

static const char volume_headers[]
    = "{\"Driver\":\"DRIVER\",\"Name\":\"VOLUME NAME\",\"Mountpoint\":\"MOUNTPOINT\","
      "\"Scope\":\"SCOPE\",\"Labels\":\"LABELS\",\"CreatedAt\":\"CREATED\"}";

int
cmd_volume_ls (cli_ctx *ctx, int argc, char **argv)
{
  bool quiet = false;
  const char *format = NULL;
  cleanup_strv char **filters = NULL;
  const opt_def defs[] = {
    { "quiet", 'q', OPT_BOOL, &quiet, "Only display volume names" },
    { "filter", 'f', OPT_STRV, &filters, "Provide filter values (e.g. \"dangling=true\")" },
    { "format", 0, OPT_STRING, &format, "Format output using a custom template" },
    { NULL, 0, 0, NULL, NULL },
  };
  cleanup_strv char **pos = NULL;
  int r = cli_parse (ctx, defs, argc, argv, false, 0, 0, &pos);
  if (r != 0)
    return r;
  cleanup_free char *p = xstrdup ("/volumes");
  cli_add_filters (&p, filters);
  cleanup_formatter cli_formatter *f = NULL;
  cleanup_json json_t *resp = NULL;
  r = cli_list_get (ctx, p, format, quiet, "{{.Name}}", "table {{.Driver}}\t{{.Name}}",
                    volume_headers, &resp, &f);
  if (r != 0)
    return r;
  cleanup_error polis_error *err = NULL;
  json_t *vols = json_object_get (resp, "Volumes");
  for (size_t i = 0; i < json_array_size (vols); i++)
    {
      json_t *v = json_array_get (vols, i);
      cleanup_json json_t *row = json_object ();
      const char *keys[] = { "Driver", "Name", "Mountpoint", "Scope", "CreatedAt" };
      for (size_t k = 0; k < 5; k++)
        {
          const char *s = json_string_value (json_object_get (v, keys[k]));
          json_object_set_new (row, keys[k], json_string (s ? s : ""));
        }
      cleanup_free char *labels = xstrdup ("");
      const char *k;
      json_t *val;
      json_object_foreach (json_object_get (v, "Labels"), k, val)
      {
        char *n = xasprintf ("%s%s%s=%s", labels, *labels ? "," : "", k,
                             json_string_value (val) ? json_string_value (val) : "");
        free (labels);
        labels = n;
      }
      json_object_set_new (row, "Labels", json_string (labels));
      if (cli_formatter_row (f, row, &err) < 0)
        return cli_error (ctx, err);
    }
  return cli_list_flush (ctx, f);
}

int
cmd_volume_create (cli_ctx *ctx, int argc, char **argv)
{
  const char *driver = NULL, *name = NULL;
  cleanup_strv char **labels = NULL;
  cleanup_strv char **opts = NULL;
  const opt_def defs[] = {
    { "driver", 'd', OPT_STRING, &driver, "Specify volume driver name" },
    { "label", 0, OPT_STRV, &labels, "Set metadata for a volume" },
    { "opt", 'o', OPT_STRV, &opts, "Set driver specific options" },
    { "name", 0, OPT_STRING, &name, "Specify volume name" },
    { NULL, 0, 0, NULL, NULL },
  };
  cleanup_strv char **pos = NULL;
  int r = cli_parse (ctx, defs, argc, argv, false, 0, 1, &pos);
  if (r != 0)
    return r;
  if (pos[0] && name && strcmp (pos[0], name) != 0)
    return cli_fail (1, "conflicting options: cannot specify a volume-name through both --name and as a positional arg");
  cleanup_json json_t *body = json_pack ("{s:s}", "Driver", driver ? driver : "local");
  if (pos[0] || name)
    json_object_set_new (body, "Name", json_string (pos[0] ? pos[0] : name));
  if (opts)
    json_object_set_new (body, "DriverOpts", kv_object (opts));
  if (labels)
    json_object_set_new (body, "Labels", kv_object (labels));
  cleanup_error polis_error *err = NULL;
  cleanup_json json_t *resp = NULL;
  if (client_call (ctx->client, "POST", "/volumes/create", body, &resp, &err) < 0)
    return cli_error (ctx, err);
  const char *n = json_string_value (json_object_get (resp, "Name"));
  printf ("%s\n", n ? n : "");
  return 0;
}

int
cmd_volume_rm (cli_ctx *ctx, int argc, char **argv)
{
  bool force = false;
  const opt_def defs[] = {
    { "force", 'f', OPT_BOOL, &force, "Force the removal of one or more volumes" },
    { NULL, 0, 0, NULL, NULL },
  };
  cleanup_strv char **pos = NULL;
  int r = cli_parse (ctx, defs, argc, argv, false, 1, -1, &pos);
  if (r != 0)
    return r;
  return cli_each (ctx, pos, "DELETE", "/volumes/", "", force ? "?force=1" : NULL, force);
}

static const char network_headers[]
    = "{\"ID\":\"NETWORK ID\",\"Name\":\"NAME\",\"Driver\":\"DRIVER\",\"Scope\":\"SCOPE\","
      "\"IPv6\":\"IPV6\",\"Internal\":\"INTERNAL\",\"Labels\":\"LABELS\",\"CreatedAt\":\"CREATED\"}";

int
cmd_network_ls (cli_ctx *ctx, int argc, char **argv)
{
  bool quiet = false, no_trunc = false;
  const char *format = NULL;
  cleanup_strv char **filters = NULL;
  const opt_def defs[] = {
    { "quiet", 'q', OPT_BOOL, &quiet, "Only display network IDs" },
    { "no-trunc", 0, OPT_BOOL, &no_trunc, "Do not truncate the output" },
    { "filter", 'f', OPT_STRV, &filters, "Provide filter values (e.g. \"driver=bridge\")" },
    { "format", 0, OPT_STRING, &format, "Format output using a custom template" },
    { NULL, 0, 0, NULL, NULL },
  };
  cleanup_strv char **pos = NULL;
  int r = cli_parse (ctx, defs, argc, argv, false, 0, 0, &pos);
  if (r != 0)
    return r;
  cleanup_free char *p = xstrdup ("/networks");
  cli_add_filters (&p, filters);
  cleanup_formatter cli_formatter *f = NULL;
  cleanup_json json_t *list = NULL;
  r = cli_list_get (ctx, p, format, quiet, "{{.ID}}",
                    "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}", network_headers,
                    &list, &f);
  if (r != 0)
    return r;
  cleanup_error polis_error *err = NULL;
  for (size_t i = 0; i < json_array_size (list); i++)
    {
      json_t *n = json_array_get (list, i);
      cleanup_json json_t *row = json_object ();
      const char *id = json_string_value (json_object_get (n, "Id"));
      cleanup_free char *sid = no_trunc ? xstrdup (id ? id : "") : cli_short_id (id);
      json_object_set_new (row, "ID", json_string (sid));
      const char *keys[] = { "Name", "Driver", "Scope", "Created" };
      for (size_t k = 0; k < 4; k++)
        {
          const char *s = json_string_value (json_object_get (n, keys[k]));
          json_object_set_new (row, k == 3 ? "CreatedAt" : keys[k], json_string (s ? s : ""));
        }
      json_object_set_new (row, "IPv6", json_string (json_is_true (json_object_get (n, "EnableIPv6")) ? "true" : "false"));
      json_object_set_new (row, "Internal", json_string (json_is_true (json_object_get (n, "Internal")) ? "true" : "false"));
      json_object_set_new (row, "Labels", json_string (""));
      if (cli_formatter_row (f, row, &err) < 0)
        return cli_error (ctx, err);
    }
  return cli_list_flush (ctx, f);
}

int
cmd_network_create (cli_ctx *ctx, int argc, char **argv)
{
  const char *driver = NULL, *subnet = NULL, *gateway = NULL, *ip_range = NULL;
  bool internal = false, attachable = false, ipv6 = false;
  cleanup_strv char **labels = NULL;
  cleanup_strv char **opts = NULL;
  const opt_def defs[] = {
    { "driver", 'd', OPT_STRING, &driver, "Driver to manage the Network (default \"bridge\")" },
    { "subnet", 0, OPT_STRING, &subnet, "Subnet in CIDR format that represents a network segment" },
    { "gateway", 0, OPT_STRING, &gateway, "IPv4 or IPv6 Gateway for the master subnet" },
    { "ip-range", 0, OPT_STRING, &ip_range, "Allocate container ip from a sub-range" },
    { "internal", 0, OPT_BOOL, &internal, "Restrict external access to the network" },
    { "attachable", 0, OPT_BOOL, &attachable, "Enable manual container attachment" },
    { "ipv6", 0, OPT_BOOL, &ipv6, "Enable or disable IPv6 networking" },
    { "label", 0, OPT_STRV, &labels, "Set metadata on a network" },
    { "opt", 'o', OPT_STRV, &opts, "Set driver specific options" },
    { NULL, 0, 0, NULL, NULL },
  };
  cleanup_strv char **pos = NULL;
  int r = cli_parse (ctx, defs, argc, argv, false, 1, 1, &pos);
  if (r != 0)
    return r;
  cleanup_json json_t *body = json_pack ("{s:s,s:s,s:b,s:b,s:b}", "Name", pos[0], "Driver",
                                         driver ? driver : "bridge", "Internal", internal,
                                         "Attachable", attachable, "EnableIPv6", ipv6);
  if (!client_version_at_least (ctx->client, 1, 44))
    json_object_set_new (body, "CheckDuplicate", json_true ());
  if (subnet || gateway || ip_range)
    {
      json_t *c = json_object ();
      if (subnet)
        json_object_set_new (c, "Subnet", json_string (subnet));
      if (gateway)
        json_object_set_new (c, "Gateway", json_string (gateway));
      if (ip_range)
        json_object_set_new (c, "IPRange", json_string (ip_range));
      json_object_set_new (body, "IPAM", json_pack ("{s:s,s:[o]}", "Driver", "default", "Config", c));
    }
  if (opts)
    json_object_set_new (body, "Options", kv_object (opts));
  if (labels)
    json_object_set_new (body, "Labels", kv_object (labels));
  cleanup_error polis_error *err = NULL;
  cleanup_json json_t *resp = NULL;
  if (client_call (ctx->client, "POST", "/networks/create", body, &resp, &err) < 0)
    return cli_error (ctx, err);
  const char *id = json_string_value (json_object_get (resp, "Id"));
  printf ("%s\n", id ? id : "");
  return 0;
}

int
cmd_network_rm (cli_ctx *ctx, int argc, char **argv)
{
  bool force = false;
  const opt_def defs[] = {
    { "force", 'f', OPT_BOOL, &force, "Do not error if the network does not exist" },
    { NULL, 0, 0, NULL, NULL },
  };
  cleanup_strv char **pos = NULL;
  int r = cli_parse (ctx, defs, argc, argv, false, 1, -1, &pos);
  if (r != 0)
    return r;
  int status = 0;
  for (char **a = pos; *a; a++)
    {
      cleanup_error polis_error *err = NULL;
      cleanup_free char *p = client_path ("/networks/%s", *a);
      if (client_call (ctx->client, "DELETE", p, NULL, NULL, &err) < 0)
        {
          if (force && err->cls == ERROR_NOT_FOUND)
            continue;
          fprintf (stderr, "%s\n", err->msg);
          status = 1;
          continue;
        }
      printf ("%s\n", *a);
    }
  return status;
}

static int
network_connect_common (cli_ctx *ctx, int argc, char **argv, bool connect)
{
  bool force = false;
  const char *ip = NULL;
  cleanup_strv char **aliases = NULL;
  const opt_def connect_defs[] = {
    { "alias", 0, OPT_STRV, &aliases, "Add network-scoped alias for the container" },
    { "ip", 0, OPT_STRING, &ip, "IPv4 address (e.g., \"172.30.100.104\")" },
    { NULL, 0, 0, NULL, NULL },
  };
  const opt_def disconnect_defs[] = {
    { "force", 'f', OPT_BOOL, &force, "Force the container to disconnect from a network" },
    { NULL, 0, 0, NULL, NULL },
  };
  cleanup_strv char **pos = NULL;
  int r = cli_parse (ctx, connect ? connect_defs : disconnect_defs, argc, argv, false, 2, 2, &pos);
  if (r != 0)
    return r;
  cleanup_json json_t *body = json_pack ("{s:s}", "Container", pos[1]);
  if (connect && (ip || aliases))
    {
      json_t *ep = json_object ();
      if (ip)
        json_object_set_new (ep, "IPAMConfig", json_pack ("{s:s}", "IPv4Address", ip));
      if (aliases)
        {
          json_t *a = json_array ();
          for (char **p = aliases; *p; p++)
            json_array_append_new (a, json_string (*p));
          json_object_set_new (ep, "Aliases", a);
        }
      json_object_set_new (body, "EndpointConfig", ep);
    }
  if (!connect)
    json_object_set_new (body, "Force", json_boolean (force));
  cleanup_error polis_error *err = NULL;
  cleanup_free char *p = client_path ("/networks/%s/%s", pos[0], connect ? "connect" : "disconnect");
  if (client_call (ctx->client, "POST", p, body, NULL, &err) < 0)
    return cli_error (ctx, err);
  return 0;
}

int
cmd_network_connect (cli_ctx *ctx, int argc, char **argv)
{
  return network_connect_common (ctx, argc, argv, true);
}

int
cmd_network_disconnect (cli_ctx *ctx, int argc, char **argv)
{
  return network_connect_common (ctx, argc, argv, false);
}
