/* cmd_container.c - ps and the one-request-per-container commands:
 * stop, restart, kill, rm, pause, unpause, wait, rename, update, port,
 * top, container prune. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/pjson.h"
#include "base/xalloc.h"
#include "cli/cli.h"
#include "cli/gotemplate.h"
#include "cli/table.h"
#include "cli/units.h"

/* docker's formatter.Ellipsis: at most MAX characters, "…" when cut. */
static char *
ellipsis (const char *s, size_t max)
{
  size_t chars = 0, i = 0;
  for (const char *p = s; *p; p++)
    if (((unsigned char) *p & 0xc0) != 0x80)
      chars++;
  if (chars <= max)
    return xstrdup (s);
  size_t keep = 0;
  for (i = 0; s[i] && keep < max - 1; i++)
    if (((unsigned char) s[i + 1] & 0xc0) != 0x80)
      keep++;
  return xasprintf ("%.*s\xe2\x80\xa6", (int) i, s);
}

/* Go's strconv.Quote for the printable ASCII docker commands hold. */
static char *
go_quote (const char *s)
{
  size_t n = 0, cap = strlen (s) * 4 + 3;
  char *o = xmalloc (cap);
  o[n++] = '"';
  for (const unsigned char *p = (const unsigned char *) s; *p; p++)
    {
      if (*p == '"' || *p == '\\')
        {
          o[n++] = '\\';
          o[n++] = (char) *p;
        }
      else if (*p == '\n')
        o[n++] = '\\', o[n++] = 'n';
      else if (*p == '\t')
        o[n++] = '\\', o[n++] = 't';
      else if (*p < 0x20)
        n += (size_t) snprintf (o + n, cap - n, "\\x%02x", *p);
      else
        o[n++] = (char) *p;
    }
  o[n++] = '"';
  o[n] = '\0';
  return o;
}

static int
cmp_port (const void *a, const void *b)
{
  json_t *x = *(json_t *const *) a, *y = *(json_t *const *) b;
  json_int_t px = json_integer_value (json_object_get (x, "PrivatePort"));
  json_int_t py = json_integer_value (json_object_get (y, "PrivatePort"));
  if (px != py)
    return px < py ? -1 : 1;
  const char *tx = json_string_value (json_object_get (x, "Type"));
  const char *ty = json_string_value (json_object_get (y, "Type"));
  int c = strcmp (tx ? tx : "", ty ? ty : "");
  if (c)
    return c;
  json_int_t ux = json_integer_value (json_object_get (x, "PublicPort"));
  json_int_t uy = json_integer_value (json_object_get (y, "PublicPort"));
  if (ux != uy)
    return ux < uy ? -1 : 1;
  const char *ix = json_string_value (json_object_get (x, "IP"));
  const char *iy = json_string_value (json_object_get (y, "IP"));
  return strcmp (ix ? ix : "", iy ? iy : "");
}

typedef struct
{
  char key[128]; /* "tcp" or "IP/tcp" */
  json_int_t first, last;
} port_group;

static char *
form_group (const char *key, json_int_t start, json_int_t last)
{
  const char *slash = strrchr (key, '/');
  cleanup_free char *ip = slash ? xstrndup (key, (size_t) (slash - key)) : NULL;
  const char *type = slash ? slash + 1 : key;
  cleanup_free char *group = start != last ? xasprintf ("%lld-%lld", (long long) start, (long long) last)
                                           : xasprintf ("%lld", (long long) start);
  if (ip && *ip)
    return xasprintf ("%s:%s->%s/%s", ip, group, group, type);
  return xasprintf ("%s/%s", group, type);
}

static void
join_add (char **out, const char *piece)
{
  char *n = xasprintf ("%s%s%s", *out, **out ? ", " : "", piece);
  free (*out);
  *out = n;
}

/* docker's DisplayablePorts: consecutive ports grouped into ranges,
   published ones as "ip:public->private/type" at the end. */
static char *
displayable_ports (json_t *ports)
{
  size_t n = json_array_size (ports);
  char *out = xstrdup ("");
  if (n == 0)
    return out;
  cleanup_free json_t **v = xmalloc (n * sizeof (json_t *));
  for (size_t i = 0; i < n; i++)
    v[i] = json_array_get (ports, i);
  qsort (v, n, sizeof (json_t *), cmp_port);
  cleanup_free port_group *groups = xzalloc (n * sizeof (port_group));
  size_t ng = 0;
  cleanup_free char *mappings = xstrdup ("");
  for (size_t i = 0; i < n; i++)
    {
      const char *ip = json_string_value (json_object_get (v[i], "IP"));
      const char *type = json_string_value (json_object_get (v[i], "Type"));
      json_int_t cur = json_integer_value (json_object_get (v[i], "PrivatePort"));
      json_int_t pub = json_integer_value (json_object_get (v[i], "PublicPort"));
      char key[128];
      snprintf (key, sizeof key, "%s", type ? type : "tcp");
      if (ip && *ip)
        {
          if (pub != cur)
            {
              bool v6 = strchr (ip, ':') != NULL;
              cleanup_free char *m = xasprintf ("%s%s%s:%lld->%lld/%s", v6 ? "[" : "", ip, v6 ? "]" : "",
                                                (long long) pub, (long long) cur, type ? type : "tcp");
              join_add (&mappings, m);
              continue;
            }
          snprintf (key, sizeof key, "%s/%s", ip, type ? type : "tcp");
        }
      port_group *g = NULL;
      for (size_t k = 0; k < ng; k++)
        if (strcmp (groups[k].key, key) == 0)
          g = &groups[k];
      if (g == NULL)
        {
          g = &groups[ng++];
          snprintf (g->key, sizeof g->key, "%s", key);
          g->first = g->last = cur;
          continue;
        }
      if (cur == g->last + 1)
        {
          g->last = cur;
          continue;
        }
      cleanup_free char *piece = form_group (g->key, g->first, g->last);
      join_add (&out, piece);
      g->first = g->last = cur;
    }
  for (size_t k = 0; k < ng; k++)
    {
      cleanup_free char *piece = form_group (groups[k].key, groups[k].first, groups[k].last);
      join_add (&out, piece);
    }
  if (*mappings)
    join_add (&out, mappings);
  return out;
}

static const char ps_headers[]
    = "{\"ID\":\"CONTAINER ID\",\"Image\":\"IMAGE\",\"Command\":\"COMMAND\","
      "\"CreatedAt\":\"CREATED AT\",\"RunningFor\":\"CREATED\",\"Status\":"
      "\"STATUS\",\"Ports\":\"PORTS\",\"Names\":\"NAMES\",\"Size\":\"SIZE\","
      "\"Labels\":\"LABELS\",\"Mounts\":\"MOUNTS\",\"Networks\":\"NETWORKS\","
      "\"State\":\"STATE\",\"LocalVolumes\":\"LOCAL VOLUMES\",\"Platform\":"
      "\"PLATFORM\"}";

/* One row of docker ps, with the fields its formatter offers. */
static json_t *
ps_row (json_t *c, bool trunc)
{
  json_t *row = json_object ();
  const char *id = json_string_value (json_object_get (c, "Id"));
  cleanup_free char *sid = trunc ? cli_short_id (id) : xstrdup (id ? id : "");
  json_object_set_new (row, "ID", json_string (sid));
  const char *image = json_string_value (json_object_get (c, "Image"));
  cleanup_free char *img = NULL;
  if (image && trunc && strncmp (image, "sha256:", 7) == 0)
    img = cli_short_id (image);
  else if (image && trunc && strstr (image, "@sha256:"))
    img = xstrndup (image, (size_t) (strstr (image, "@sha256:") - image));
  else
    img = trunc ? cli_familiar (image) : xstrdup (image ? image : "");
  if (image == NULL || *image == '\0')
    {
      free (img);
      img = xstrdup ("<no image>");
    }
  json_object_set_new (row, "Image", json_string (img));
  const char *cmd = json_string_value (json_object_get (c, "Command"));
  cleanup_free char *cmdt = trunc ? ellipsis (cmd ? cmd : "", 20) : xstrdup (cmd ? cmd : "");
  cleanup_free char *cmdq = go_quote (cmdt);
  json_object_set_new (row, "Command", json_string (cmdq));
  json_int_t created = json_integer_value (json_object_get (c, "Created"));
  cleanup_free char *cat = units_time_string (created);
  json_object_set_new (row, "CreatedAt", json_string (cat));
  double ago = (double) (units_now_ns () / 1000000000LL - created);
  cleanup_free char *dur = units_human_duration (ago);
  cleanup_free char *rf = xasprintf ("%s ago", dur);
  json_object_set_new (row, "RunningFor", json_string (rf));
  json_object_set (row, "Status", json_object_get (c, "Status") ? json_object_get (c, "Status") : json_string (""));
  cleanup_free char *ports = displayable_ports (json_object_get (c, "Ports"));
  json_object_set_new (row, "Ports", json_string (ports));
  json_object_set (row, "State", json_object_get (c, "State") ? json_object_get (c, "State") : json_string (""));

  cleanup_free char *names = xstrdup ("");
  json_t *na = json_object_get (c, "Names");
  for (size_t i = 0; i < json_array_size (na); i++)
    {
      const char *n = json_string_value (json_array_get (na, i));
      if (n == NULL)
        continue;
      if (*n == '/')
        n++;
      if (trunc && strchr (n, '/'))
        continue; /* a legacy link name */
      char *nn = xasprintf ("%s%s%s", names, *names ? "," : "", n);
      free (names);
      names = nn;
    }
  json_object_set_new (row, "Names", json_string (names));

  json_t *labels = json_object_get (c, "Labels");
  cleanup_free char *ls = xstrdup ("");
  if (json_is_object (labels))
    {
      const char *k;
      json_t *v;
      json_object_foreach (labels, k, v)
      {
        char *nl = xasprintf ("%s%s%s=%s", ls, *ls ? "," : "", k,
                              json_string_value (v) ? json_string_value (v) : "");
        free (ls);
        ls = nl;
      }
    }
  json_object_set_new (row, "Labels", json_string (ls));
  json_object_set_new (row, "\x01Label", json_is_object (labels) ? json_incref (labels) : json_object ());

  cleanup_free char *mounts = xstrdup ("");
  int local_volumes = 0;
  json_t *ma = json_object_get (c, "Mounts");
  for (size_t i = 0; i < json_array_size (ma); i++)
    {
      json_t *m = json_array_get (ma, i);
      const char *name = json_string_value (json_object_get (m, "Name"));
      const char *driver = json_string_value (json_object_get (m, "Driver"));
      if (driver && strcmp (driver, "local") == 0)
        local_volumes++;
      if (name == NULL || *name == '\0')
        name = json_string_value (json_object_get (m, "Source"));
      cleanup_free char *t = trunc ? ellipsis (name ? name : "", 15) : xstrdup (name ? name : "");
      char *nm = xasprintf ("%s%s%s", mounts, *mounts ? "," : "", t);
      free (mounts);
      mounts = nm;
    }
  json_object_set_new (row, "Mounts", json_string (mounts));
  cleanup_free char *lv = xasprintf ("%d", local_volumes);
  json_object_set_new (row, "LocalVolumes", json_string (lv));

  cleanup_free char *nets = xstrdup ("");
  json_t *ns = json_object_get (json_object_get (c, "NetworkSettings"), "Networks");
  if (json_is_object (ns))
    {
      size_t nk = json_object_size (ns), i = 0;
      cleanup_free const char **keys = xmalloc ((nk + 1) * sizeof (char *));
      const char *k;
      json_t *v;
      json_object_foreach (ns, k, v)
      keys[i++] = k;
      for (size_t a = 0; a < i; a++)
        for (size_t b = a + 1; b < i; b++)
          if (strcmp (keys[a], keys[b]) > 0)
            {
              const char *t = keys[a];
              keys[a] = keys[b];
              keys[b] = t;
            }
      for (size_t a = 0; a < i; a++)
        {
          char *nn = xasprintf ("%s%s%s", nets, *nets ? "," : "", keys[a]);
          free (nets);
          nets = nn;
        }
    }
  json_object_set_new (row, "Networks", json_string (nets));

  json_t *srw = json_object_get (c, "SizeRw");
  json_t *srf = json_object_get (c, "SizeRootFs");
  cleanup_free char *size = NULL;
  {
    /* docker: "(virtual ...)" only when the root fs size is known. */
    cleanup_free char *a = units_human_size ((double) json_integer_value (srw), 3);
    cleanup_free char *b = units_human_size ((double) json_integer_value (srf), 3);
    size = json_integer_value (srf) > 0 ? xasprintf ("%s (virtual %s)", a, b) : xstrdup (a);
  }
  json_object_set_new (row, "Size", json_string (size));
  json_object_set_new (row, "Platform", json_null ());
  return row;
}

int
cmd_ps (cli_ctx *ctx, int argc, char **argv)
{
  bool all = false, quiet = false, no_trunc = false, size = false, latest = false;
  const char *format = NULL, *last = NULL;
  cleanup_strv char **filters = NULL;
  const opt_def defs[] = {
    { "all", 'a', OPT_BOOL, &all, "Show all containers (default shows just running)" },
    { "quiet", 'q', OPT_BOOL, &quiet, "Only display container IDs" },
    { "no-trunc", 0, OPT_BOOL, &no_trunc, "Don't truncate output" },
    { "size", 's', OPT_BOOL, &size, "Display total file sizes" },
    { "latest", 'l', OPT_BOOL, &latest, "Show the latest created container (includes all states)" },
    { "last", 'n', OPT_STRING, &last, "Show n last created containers (includes all states)" },
    { "filter", 'f', OPT_STRV, &filters, "Filter output based on conditions provided" },
    { "format", 0, OPT_STRING, &format, "Format output using a custom template" },
    { NULL, 0, 0, NULL, NULL },
  };
  cleanup_strv char **pos = NULL;
  int r = cli_parse (ctx, defs, argc, argv, false, 0, 0, &pos);
  if (r != 0)
    return r;
  cleanup_free char *path = xstrdup ("/containers/json");
  if (all)
    client_query_add (&path, "all", "1");
  if (latest)
    client_query_add (&path, "limit", "1");
  else if (last)
    client_query_add (&path, "limit", last);
  if (size || (format && strstr (format, ".Size")))
    client_query_add (&path, "size", "1");
  cli_add_filters (&path, filters);

  const char *def = size ? "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}\t{{.Size}}"
                         : "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}";
  cleanup_formatter cli_formatter *f = NULL;
  cleanup_json json_t *list = NULL;
  r = cli_list_get (ctx, path, format, quiet, "{{.ID}}", def, ps_headers, &list, &f);
  if (r != 0)
    return r;
  cleanup_error polis_error *err = NULL;
  for (size_t i = 0; i < json_array_size (list); i++)
    {
      cleanup_json json_t *row = ps_row (json_array_get (list, i), !no_trunc);
      if (cli_formatter_row (f, row, &err) < 0)
        return cli_error (ctx, err);
    }
  return cli_list_flush (ctx, f);
}

static int
stop_or_restart (cli_ctx *ctx, int argc, char **argv, const char *action)
{
  const char *timeout = NULL, *sig = NULL;
  const opt_def defs[] = {
    { "time", 't', OPT_STRING, &timeout, "Seconds to wait before killing the container" },
    { "timeout", 0, OPT_STRING, &timeout, "Seconds to wait before killing the container" },
    { "signal", 's', OPT_STRING, &sig, "Signal to send to the container" },
    { NULL, 0, 0, NULL, NULL },
  };
  cleanup_strv char **pos = NULL;
  int r = cli_parse (ctx, defs, argc, argv, false, 1, -1, &pos);
  if (r != 0)
    return r;
  cleanup_free char *q = xstrdup ("");
  if (sig)
    client_query_add (&q, "signal", sig);
  if (timeout)
    client_query_add (&q, "t", timeout);
  cleanup_free char *suffix = xasprintf ("/%s", action);
  return cli_each (ctx, pos, "POST", "/containers/", suffix, q, false);
}

int
cmd_stop (cli_ctx *ctx, int argc, char **argv)
{
  return stop_or_restart (ctx, argc, argv, "stop");
}

int
cmd_restart (cli_ctx *ctx, int argc, char **argv)
{
  return stop_or_restart (ctx, argc, argv, "restart");
}

int
cmd_kill (cli_ctx *ctx, int argc, char **argv)
{
  const char *sig = NULL;
  const opt_def defs[] = {
    { "signal", 's', OPT_STRING, &sig, "Signal to send to the container" },
    { NULL, 0, 0, NULL, NULL },
  };
  cleanup_strv char **pos = NULL;
  int r = cli_parse (ctx, defs, argc, argv, false, 1, -1, &pos);
  if (r != 0)
    return r;
  cleanup_free char *q = xstrdup ("");
  if (sig)
    client_query_add (&q, "signal", sig);
  return cli_each (ctx, pos, "POST", "/containers/", "/kill", q, false);
}

int
cmd_rm (cli_ctx *ctx, int argc, char **argv)
{
  bool force = false, volumes = false, link = false;
  const opt_def defs[] = {
    { "force", 'f', OPT_BOOL, &force, "Force the removal of a running container (uses SIGKILL)" },
    { "volumes", 'v', OPT_BOOL, &volumes, "Remove anonymous volumes associated with the container" },
    { "link", 'l', OPT_BOOL, &link, "Remove the specified link" },
    { NULL, 0, 0, NULL, NULL },
  };
  cleanup_strv char **pos = NULL;
  int r = cli_parse (ctx, defs, argc, argv, false, 1, -1, &pos);
  if (r != 0)
    return r;
  cleanup_free char *q = xstrdup ("");
  if (force)
    client_query_add (&q, "force", "1");
  if (link)
    client_query_add (&q, "link", "1");
  if (volumes)
    client_query_add (&q, "v", "1");
  return cli_each (ctx, pos, "DELETE", "/containers/", "", q, force);
}

int
cmd_pause (cli_ctx *ctx, int argc, char **argv)
{
  const opt_def defs[] = { { NULL, 0, 0, NULL, NULL } };
  cleanup_strv char **pos = NULL;
  int r = cli_parse (ctx, defs, argc, argv, false, 1, -1, &pos);
  if (r != 0)
    return r;
  return cli_each (ctx, pos, "POST", "/containers/", "/pause", NULL, false);
}

int
cmd_unpause (cli_ctx *ctx, int argc, char **argv)
{
  const opt_def defs[] = { { NULL, 0, 0, NULL, NULL } };
  cleanup_strv char **pos = NULL;
  int r = cli_parse (ctx, defs, argc, argv, false, 1, -1, &pos);
  if (r != 0)
    return r;
  return cli_each (ctx, pos, "POST", "/containers/", "/unpause", NULL, false);
}

int
cmd_wait (cli_ctx *ctx, int argc, char **argv)
{
  const opt_def defs[] = { { NULL, 0, 0, NULL, NULL } };
  cleanup_strv char **pos = NULL;
  int r = cli_parse (ctx, defs, argc, argv, false, 1, -1, &pos);
  if (r != 0)
    return r;
  int status = 0;
  for (char **a = pos; *a; a++)
    {
      cleanup_error polis_error *err = NULL;
      cleanup_free char *p = client_path ("/containers/%s/wait", *a);
      cleanup_json json_t *j = NULL;
      if (client_call (ctx->client, "POST", p, NULL, &j, &err) < 0)
        {
          fprintf (stderr, "%s\n", err->msg);
          status = 1;
          continue;
        }
      printf ("%lld\n", (long long) json_integer_value (json_object_get (j, "StatusCode")));
      fflush (stdout);
    }
  return status;
}

int
cmd_rename (cli_ctx *ctx, int argc, char **argv)
{
  const opt_def defs[] = { { NULL, 0, 0, NULL, NULL } };
  cleanup_strv char **pos = NULL;
  int r = cli_parse (ctx, defs, argc, argv, false, 2, 2, &pos);
  if (r != 0)
    return r;
  cleanup_error polis_error *err = NULL;
  cleanup_free char *p = client_path ("/containers/%s/rename", pos[0]);
  client_query_add (&p, "name", pos[1]);
  if (client_call (ctx->client, "POST", p, NULL, NULL, &err) < 0)
    {
      fprintf (stderr, "%s\nError: failed to rename container named %s\n",
               err->msg, pos[0]);
      return 1;
    }
  return 0;
}

int
cmd_update (cli_ctx *ctx, int argc, char **argv)
{
  const char *memory = NULL, *swap = NULL, *reservation = NULL, *cpus = NULL,
             *shares = NULL, *cpuset = NULL, *pids = NULL, *restart = NULL;
  const opt_def defs[] = {
    { "memory", 'm', OPT_STRING, &memory, "Memory limit" },
    { "memory-swap", 0, OPT_STRING, &swap, "Swap limit equal to memory plus swap" },
    { "memory-reservation", 0, OPT_STRING, &reservation, "Memory soft limit" },
    { "cpus", 0, OPT_STRING, &cpus, "Number of CPUs" },
    { "cpu-shares", 'c', OPT_STRING, &shares, "CPU shares (relative weight)" },
    { "cpuset-cpus", 0, OPT_STRING, &cpuset, "CPUs in which to allow execution (0-3, 0,1)" },
    { "pids-limit", 0, OPT_STRING, &pids, "Tune container pids limit (set -1 for unlimited)" },
    { "restart", 0, OPT_STRING, &restart, "Restart policy to apply when a container exits" },
    { NULL, 0, 0, NULL, NULL },
  };
  cleanup_strv char **pos = NULL;
  int r = cli_parse (ctx, defs, argc, argv, false, 1, -1, &pos);
  if (r != 0)
    return r;
  cleanup_json json_t *body = json_object ();
  struct
  {
    const char *v, *key;
  } bytes[] = { { memory, "Memory" }, { swap, "MemorySwap" }, { reservation, "MemoryReservation" } };
  for (size_t i = 0; i < 3; i++)
    if (bytes[i].v)
      {
        int64_t b = strcmp (bytes[i].v, "-1") == 0 ? -1 : units_ram_in_bytes (bytes[i].v);
        if (b < -1 || (b == -1 && strcmp (bytes[i].v, "-1") != 0))
          return cli_fail (125, "invalid size: '%s'", bytes[i].v);
        json_object_set_new (body, bytes[i].key, json_integer (b));
      }
  if (cpus)
    json_object_set_new (body, "NanoCpus", json_integer ((json_int_t) (strtod (cpus, NULL) * 1e9 + 0.5)));
  if (shares)
    json_object_set_new (body, "CpuShares", json_integer (strtoll (shares, NULL, 10)));
  if (cpuset)
    json_object_set_new (body, "CpusetCpus", json_string (cpuset));
  if (pids)
    json_object_set_new (body, "PidsLimit", json_integer (strtoll (pids, NULL, 10)));
  if (restart)
    {
      const char *colon = strchr (restart, ':');
      cleanup_free char *name = colon ? xstrndup (restart, (size_t) (colon - restart)) : xstrdup (restart);
      json_object_set_new (body, "RestartPolicy",
                           json_pack ("{s:s,s:i}", "Name", name, "MaximumRetryCount",
                                      colon ? atoi (colon + 1) : 0));
    }
  int status = 0;
  for (char **a = pos; *a; a++)
    {
      cleanup_error polis_error *err = NULL;
      cleanup_free char *p = client_path ("/containers/%s/update", *a);
      cleanup_json json_t *resp = NULL;
      if (client_call (ctx->client, "POST", p, body, &resp, &err) < 0)
        {
          fprintf (stderr, "%s\n", err->msg);
          status = 1;
          continue;
        }
      json_t *w = json_object_get (resp, "Warnings");
      for (size_t i = 0; i < json_array_size (w); i++)
        fprintf (stderr, "%s\n", json_string_value (json_array_get (w, i)));
      printf ("%s\n", *a);
    }
  return status;
}

int
cmd_port (cli_ctx *ctx, int argc, char **argv)
{
  const opt_def defs[] = { { NULL, 0, 0, NULL, NULL } };
  cleanup_strv char **pos = NULL;
  int r = cli_parse (ctx, defs, argc, argv, false, 1, 2, &pos);
  if (r != 0)
    return r;
  cleanup_error polis_error *err = NULL;
  cleanup_free char *p = client_path ("/containers/%s/json", pos[0]);
  cleanup_json json_t *c = NULL;
  if (client_call (ctx->client, "GET", p, NULL, &c, &err) < 0)
    return cli_error (ctx, err);
  json_t *ports = json_object_get (json_object_get (c, "NetworkSettings"), "Ports");
  cleanup_free char *want = NULL;
  if (pos[1])
    want = strchr (pos[1], '/') ? xstrdup (pos[1]) : xasprintf ("%s/tcp", pos[1]);
  size_t nk = json_object_size (ports), i = 0;
  cleanup_free const char **keys = xmalloc ((nk + 1) * sizeof (char *));
  const char *k;
  json_t *v;
  json_object_foreach (ports, k, v)
  keys[i++] = k;
  for (size_t a = 0; a < i; a++)
    for (size_t b = a + 1; b < i; b++)
      if (atoi (keys[a]) > atoi (keys[b]))
        {
          const char *t = keys[a];
          keys[a] = keys[b];
          keys[b] = t;
        }
  bool found = false;
  for (size_t a = 0; a < i; a++)
    {
      if (want && strcmp (keys[a], want) != 0)
        continue;
      json_t *binds = json_object_get (ports, keys[a]);
      for (size_t b = 0; b < json_array_size (binds); b++)
        {
          json_t *bd = json_array_get (binds, b);
          const char *ip = json_string_value (json_object_get (bd, "HostIp"));
          const char *hp = json_string_value (json_object_get (bd, "HostPort"));
          if (ip == NULL)
            ip = "";
          bool v6 = strchr (ip, ':') != NULL;
          if (want)
            printf ("%s%s%s:%s\n", v6 ? "[" : "", ip, v6 ? "]" : "", hp ? hp : "");
          else
            printf ("%s -> %s%s%s:%s\n", keys[a], v6 ? "[" : "", ip, v6 ? "]" : "", hp ? hp : "");
          found = true;
        }
    }
  if (want && !found)
    return cli_fail (1, "Error: No public port '%s' published for %s", want, pos[0]);
  return 0;
}

int
cmd_top (cli_ctx *ctx, int argc, char **argv)
{
  const opt_def defs[] = { { NULL, 0, 0, NULL, NULL } };
  cleanup_strv char **pos = NULL;
  int r = cli_parse (ctx, defs, argc, argv, true, 1, -1, &pos);
  if (r != 0)
    return r;
  cleanup_error polis_error *err = NULL;
  cleanup_free char *p = client_path ("/containers/%s/top", pos[0]);
  if (pos[1])
    {
      cleanup_free char *args = xstrdup ("");
      for (char **a = pos + 1; *a; a++)
        {
          char *n = xasprintf ("%s%s%s", args, *args ? " " : "", *a);
          free (args);
          args = n;
        }
      client_query_add (&p, "ps_args", args);
    }
  cleanup_json json_t *j = NULL;
  if (client_call (ctx->client, "GET", p, NULL, &j, &err) < 0)
    return cli_error (ctx, err);
  size_t n = 0, cap = 1024;
  cleanup_free char *buf = xmalloc (cap);
  buf[0] = '\0';
#define ADD(s)                                                                 \
  do                                                                           \
    {                                                                          \
      const char *s_ = (s);                                                    \
      size_t l_ = strlen (s_);                                                 \
      if (n + l_ + 2 > cap)                                                    \
        buf = xrealloc (buf, cap = (n + l_ + 2) * 2);                          \
      memcpy (buf + n, s_, l_ + 1);                                            \
      n += l_;                                                                 \
    }                                                                          \
  while (0)
  json_t *titles = json_object_get (j, "Titles");
  for (size_t i = 0; i < json_array_size (titles); i++)
    {
      ADD (json_string_value (json_array_get (titles, i)) ?: "");
      ADD (i + 1 < json_array_size (titles) ? "\t" : "\n");
    }
  json_t *procs = json_object_get (j, "Processes");
  for (size_t i = 0; i < json_array_size (procs); i++)
    {
      json_t *row = json_array_get (procs, i);
      for (size_t k = 0; k < json_array_size (row); k++)
        {
          ADD (json_string_value (json_array_get (row, k)) ?: "");
          ADD (k + 1 < json_array_size (row) ? "\t" : "\n");
        }
    }
#undef ADD
  table_write (stdout, buf, 20, 3);
  return 0;
}

/* Ask before a prune, as docker does (unless --force). */
bool
cli_confirm (const char *warning)
{
  fprintf (stdout, "%s\nAre you sure you want to continue? [y/N] ", warning);
  fflush (stdout);
  char line[64];
  if (fgets (line, sizeof line, stdin) == NULL)
    return false;
  return line[0] == 'y' || line[0] == 'Y';
}

int
cmd_container_prune (cli_ctx *ctx, int argc, char **argv)
{
  bool force = false;
  cleanup_strv char **filters = NULL;
  const opt_def defs[] = {
    { "force", 'f', OPT_BOOL, &force, "Do not prompt for confirmation" },
    { "filter", 0, OPT_STRV, &filters, "Provide filter values (e.g. \"until=<timestamp>\")" },
    { NULL, 0, 0, NULL, NULL },
  };
  cleanup_strv char **pos = NULL;
  int r = cli_parse (ctx, defs, argc, argv, false, 0, 0, &pos);
  if (r != 0)
    return r;
  if (!force && !cli_confirm ("WARNING! This will remove all stopped containers."))
    return 0;
  cleanup_error polis_error *err = NULL;
  cleanup_free char *p = xstrdup ("/containers/prune");
  cli_add_filters (&p, filters);
  cleanup_json json_t *j = NULL;
  if (client_call (ctx->client, "POST", p, NULL, &j, &err) < 0)
    return cli_error (ctx, err);
  json_t *del = json_object_get (j, "ContainersDeleted");
  if (json_array_size (del) > 0)
    {
      printf ("Deleted Containers:\n");
      for (size_t i = 0; i < json_array_size (del); i++)
        printf ("%s\n", json_string_value (json_array_get (del, i)));
      printf ("\n");
    }
  cleanup_free char *sz = units_human_size ((double) json_integer_value (json_object_get (j, "SpaceReclaimed")), 4);
  printf ("Total reclaimed space: %s\n", sz);
  return 0;
}
