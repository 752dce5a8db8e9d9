/* cmd_system.c - version, info, and the prune commands of system,
 * volume and network. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>

#include "base/cleanup.h"
#include "base/pjson.h"
#include "base/xalloc.h"
#include "cli/cli.h"
#include "cli/gotemplate.h"
#include "cli/units.h"
#include "polis-config.h"

static const char *
str (json_t *o, const char *k)
{
  const char *v = json_string_value (json_object_get (o, k));
  return v ? v : "";
}

static int
print_template (const char *format, json_t *data)
{
  cleanup_error polis_error *err = NULL;
  cleanup_gotemplate gotemplate *t = gotemplate_parse (strcmp (format, "json") == 0 ? "{{json .}}" : format, &err);
  if (t == NULL)
    return cli_fail (1, "template parsing error: %s", err->msg);
  cleanup_free char *out = NULL;
  if (gotemplate_exec (t, data, false, &out, &err) < 0)
    return cli_fail (1, "%s", err->msg);
  printf ("%s\n", out);
  return 0;
}

static int
cmp_str (const void *a, const void *b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* The Engine section of docker version, from a component's Details or
   the top-level fields (which use the same names). */
static void
print_engine (const char *version, json_t *d)
{
  char built[64] = "";
  int64_t ns = units_parse_rfc3339_ns (str (d, "BuildTime"));
  if (ns != 0 || strncmp (str (d, "BuildTime"), "1970", 4) == 0)
    {
      time_t t = (time_t) (ns / 1000000000LL);
      struct tm tm;
      localtime_r (&t, &tm);
      strftime (built, sizeof built, "%a %b %e %H:%M:%S %Y", &tm);
    }
  json_t *exp = json_object_get (d, "Experimental");
  printf (" Engine:\n  Version:          %s\n  API version:      %s (minimum version %s)\n"
          "  Go version:       %s\n  Git commit:       %s\n  Built:            %s\n"
          "  OS/Arch:          %s/%s\n  Experimental:     %s\n",
          version, str (d, "ApiVersion"), str (d, "MinAPIVersion"), str (d, "GoVersion"),
          str (d, "GitCommit"), built[0] ? built : str (d, "BuildTime"), str (d, "Os"),
          str (d, "Arch"),
          json_is_string (exp) ? json_string_value (exp) : json_is_true (exp) ? "true" : "false");
}

int
cmd_version (cli_ctx *ctx, int argc, char **argv)
{
  const char *format = NULL;
  const opt_def defs[] = {
    { "format", 'f', OPT_STRING, &format, "Format output using a custom template" },
    { NULL, 0, 0, NULL, NULL },
  };
  cleanup_strv char **pos = NULL;
  int r = cli_parse (ctx, defs, argc, argv, false, 0, 0, &pos);
  if (r != 0)
    return r;
  cleanup_error polis_error *err = NULL;
  cleanup_json json_t *server = NULL;
  int sr = client_call (ctx->client, "GET", "/version", NULL, &server, &err);
  cleanup_free char *apiv = xstrdup (ctx->client->version);
  cleanup_json json_t *all = json_pack ("{s:{s:s,s:s,s:s,s:s,s:s,s:s,s:s}}", "Client",
                                        "Platform", "Polis", "Version", POLIS_VERSION,
                                        "ApiVersion", apiv, "DefaultAPIVersion", CLIENT_API_VERSION,
                                        "GitCommit", POLIS_COMMIT, "Os", "linux", "Arch", "amd64");
  if (sr >= 0 && server)
    json_object_set (all, "Server", server);
  if (format)
    {
      int rc = print_template (format, all);
      if (sr < 0)
        {
          fprintf (stderr, "%s\n", err->msg);
          return 1;
        }
      return rc;
    }
  struct utsname u;
  uname (&u);
  const char *arch = strcmp (u.machine, "x86_64") == 0 ? "amd64" : strcmp (u.machine, "aarch64") == 0 ? "arm64" : u.machine;
  printf ("Client:\n Version:           %s\n API version:       %s%s%s%s\n Git commit:        %s\n"
          " OS/Arch:           linux/%s\n Context:           default\n",
          POLIS_VERSION, ctx->client->version,
          strcmp (ctx->client->version, CLIENT_API_VERSION) ? " (downgraded from " : "",
          strcmp (ctx->client->version, CLIENT_API_VERSION) ? CLIENT_API_VERSION : "",
          strcmp (ctx->client->version, CLIENT_API_VERSION) ? ")" : "", POLIS_COMMIT, arch);
  if (sr < 0)
    {
      fprintf (stderr, "%s\n", err->msg);
      return 1;
    }
  json_t *plat = json_object_get (server, "Platform");
  printf ("\nServer: %s\n", str (plat, "Name"));
  json_t *comps = json_object_get (server, "Components");
  bool engine = false;
  for (size_t i = 0; i < json_array_size (comps); i++)
    {
      json_t *c = json_array_get (comps, i);
      json_t *d = json_object_get (c, "Details");
      if (strcmp (str (c, "Name"), "Engine") == 0)
        {
          engine = true;
          print_engine (str (c, "Version"), d);
          continue;
        }
      printf (" %s:\n  Version:          %s\n", str (c, "Name"), str (c, "Version"));
      size_t nk = json_object_size (d), n = 0;
      cleanup_free const char **keys = xmalloc ((nk + 1) * sizeof (char *));
      const char *k;
      json_t *v;
      json_object_foreach (d, k, v)
      keys[n++] = k;
      qsort (keys, n, sizeof (char *), cmp_str);
      for (size_t j = 0; j < n; j++)
        {
          cleanup_free char *label = xasprintf ("%s:", keys[j]);
          printf ("  %-17s %s\n", label, str (d, keys[j]));
        }
    }
  if (!engine)
    print_engine (str (server, "Version"), server);
  return 0;
}

int
cmd_info (cli_ctx *ctx, int argc, char **argv)
{
  const char *format = NULL;
  const opt_def defs[] = {
    { "format", 'f', OPT_STRING, &format, "Format output using a custom template" },
    { NULL, 0, 0, NULL, NULL },
  };
  cleanup_strv char **pos = NULL;
  int r = cli_parse (ctx, defs, argc, argv, false, 0, 0, &pos);
  if (r != 0)
    return r;
  cleanup_error polis_error *err = NULL;
  cleanup_json json_t *i = NULL;
  if (client_call (ctx->client, "GET", "/info", NULL, &i, &err) < 0)
    {
      if (format)
        return cli_error (ctx, err);
      printf ("Client:\n Version:    %s\n Context:    default\n Debug Mode: false\n\nServer:\n",
              POLIS_VERSION);
      fprintf (stderr, "%s\n", err->msg);
      return 1;
    }
  if (format)
    return print_template (format, i);
#define N(k) ((long long) json_integer_value (json_object_get (i, k)))
  printf ("Client:\n Version:    %s\n Context:    default\n Debug Mode: false\n\nServer:\n",
          POLIS_VERSION);
  printf (" Containers: %lld\n  Running: %lld\n  Paused: %lld\n  Stopped: %lld\n Images: %lld\n",
          N ("Containers"), N ("ContainersRunning"), N ("ContainersPaused"),
          N ("ContainersStopped"), N ("Images"));
  printf (" Server Version: %s\n Storage Driver: %s\n", str (i, "ServerVersion"), str (i, "Driver"));
  json_t *ds = json_object_get (i, "DriverStatus");
  for (size_t k = 0; k < json_array_size (ds); k++)
    {
      json_t *p = json_array_get (ds, k);
      printf ("  %s: %s\n", json_string_value (json_array_get (p, 0)) ?: "",
              json_string_value (json_array_get (p, 1)) ?: "");
    }
  if (*str (i, "LoggingDriver"))
    printf (" Logging Driver: %s\n", str (i, "LoggingDriver"));
  printf (" Cgroup Driver: %s\n Cgroup Version: %s\n", str (i, "CgroupDriver"),
          str (i, "CgroupVersion"));
  json_t *plugins = json_object_get (i, "Plugins");
  if (plugins)
    {
      printf (" Plugins:\n");
      static const char *const kinds[] = { "Volume", "Network", "Authorization", "Log" };
      for (size_t k = 0; k < 4; k++)
        {
          json_t *l = json_object_get (plugins, kinds[k]);
          if (json_array_size (l) == 0)
            continue;
          printf ("  %s:", kinds[k]);
          for (size_t j = 0; j < json_array_size (l); j++)
            printf (" %s", json_string_value (json_array_get (l, j)) ?: "");
          printf ("\n");
        }
    }
  const char *swarm = str (json_object_get (i, "Swarm"), "LocalNodeState");
  printf (" Swarm: %s\n", *swarm ? swarm : "inactive");
  json_t *rts = json_object_get (i, "Runtimes");
  if (json_object_size (rts))
    {
      size_t nk = json_object_size (rts), n = 0;
      cleanup_free const char **keys = xmalloc ((nk + 1) * sizeof (char *));
      const char *k;
      json_t *v;
      json_object_foreach (rts, k, v)
      keys[n++] = k;
      qsort (keys, n, sizeof (char *), cmp_str);
      printf (" Runtimes:");
      for (size_t j = 0; j < n; j++)
        printf (" %s", keys[j]);
      printf ("\n Default Runtime: %s\n", str (i, "DefaultRuntime"));
    }
  printf (" Init Binary: %s\n containerd version: %s\n runc version: %s\n init version: %s\n",
          str (i, "InitBinary"), str (json_object_get (i, "ContainerdCommit"), "ID"),
          str (json_object_get (i, "RuncCommit"), "ID"), str (json_object_get (i, "InitCommit"), "ID"));
  json_t *so = json_object_get (i, "SecurityOptions");
  if (json_array_size (so))
    {
      printf (" Security Options:\n");
      for (size_t k = 0; k < json_array_size (so); k++)
        {
          const char *s = json_string_value (json_array_get (so, k));
          if (s == NULL)
            continue;
          /* "name=seccomp,profile=builtin" prints as "seccomp\n   Profile: builtin" */
          cleanup_free char *copy = xstrdup (s);
          char *save = NULL;
          for (char *kv = strtok_r (copy, ",", &save); kv; kv = strtok_r (NULL, ",", &save))
            {
              char *eq = strchr (kv, '=');
              if (eq == NULL)
                continue;
              *eq = '\0';
              if (strcmp (kv, "name") == 0)
                printf ("  %s\n", eq + 1);
              else
                printf ("   %c%s: %s\n", kv[0] - 32 * (kv[0] >= 'a' && kv[0] <= 'z'), kv + 1, eq + 1);
            }
        }
    }
  cleanup_free char *mem = units_bytes_size ((double) N ("MemTotal"));
  printf (" Kernel Version: %s\n Operating System: %s\n OSType: %s\n Architecture: %s\n CPUs: %lld\n"
          " Total Memory: %s\n Name: %s\n ID: %s\n Docker Root Dir: %s\n Debug Mode: %s\n",
          str (i, "KernelVersion"), str (i, "OperatingSystem"), str (i, "OSType"),
          str (i, "Architecture"), N ("NCPU"), mem, str (i, "Name"), str (i, "ID"),
          str (i, "DockerRootDir"), json_is_true (json_object_get (i, "Debug")) ? "true" : "false");
  if (*str (i, "HttpProxy"))
    printf (" HTTP Proxy: %s\n", str (i, "HttpProxy"));
  if (*str (i, "HttpsProxy"))
    printf (" HTTPS Proxy: %s\n", str (i, "HttpsProxy"));
  if (*str (i, "NoProxy"))
    printf (" No Proxy: %s\n", str (i, "NoProxy"));
  json_t *labels = json_object_get (i, "Labels");
  if (json_array_size (labels))
    {
      printf (" Labels:\n");
      for (size_t k = 0; k < json_array_size (labels); k++)
        printf ("  %s\n", json_string_value (json_array_get (labels, k)) ?: "");
    }
  printf (" Experimental: %s\n", json_is_true (json_object_get (i, "ExperimentalBuild")) ? "true" : "false");
  json_t *reg = json_object_get (i, "RegistryConfig");
  json_t *cidrs = json_object_get (reg, "InsecureRegistryCIDRs");
  json_t *idx = json_object_get (reg, "IndexConfigs");
  bool any_insecure = json_array_size (cidrs) > 0;
  const char *k;
  json_t *v;
  json_object_foreach (idx, k, v)
  {
    if (!json_is_true (json_object_get (v, "Secure")))
      any_insecure = true;
  }
  if (any_insecure)
    {
      printf (" Insecure Registries:\n");
      json_object_foreach (idx, k, v)
      {
        if (!json_is_true (json_object_get (v, "Secure")))
          printf ("  %s\n", k);
      }
      for (size_t j = 0; j < json_array_size (cidrs); j++)
        printf ("  %s\n", json_string_value (json_array_get (cidrs, j)) ?: "");
    }
  json_t *mirrors = json_object_get (reg, "Mirrors");
  if (json_array_size (mirrors))
    {
      printf (" Registry Mirrors:\n");
      for (size_t j = 0; j < json_array_size (mirrors); j++)
        printf ("  %s\n", json_string_value (json_array_get (mirrors, j)) ?: "");
    }
  printf (" Live Restore Enabled: %s\n",
          json_is_true (json_object_get (i, "LiveRestoreEnabled")) ? "true" : "false");
  if (*str (i, "ProductLicense"))
    printf (" Product License: %s\n", str (i, "ProductLicense"));
  printf ("\n");
#undef N
  json_t *warn = json_object_get (i, "Warnings");
  fflush (stdout);
  for (size_t w = 0; w < json_array_size (warn); w++)
    fprintf (stderr, "%s\n", json_string_value (json_array_get (warn, w)) ?: "");
  return 0;
}

/* POST PATH and print "Deleted <WHAT>:" with the ids under KEY. */
static int
prune_one (cli_ctx *ctx, const char *path, const char *key, const char *what,
           json_int_t *reclaimed)
{
  cleanup_error polis_error *err = NULL;
  cleanup_json json_t *j = NULL;
  if (client_call (ctx->client, "POST", path, NULL, &j, &err) < 0)
    return cli_error (ctx, err);
  json_t *del = json_object_get (j, key);
  if (json_array_size (del) > 0)
    {
      printf ("Deleted %s:\n", what);
      for (size_t i = 0; i < json_array_size (del); i++)
        {
          json_t *e = json_array_get (del, i);
          if (json_is_string (e))
            printf ("%s\n", json_string_value (e));
          else
            {
              const char *u = str (e, "Untagged"), *d = str (e, "Deleted");
              if (*u)
                printf ("untagged: %s\n", u);
              if (*d)
                printf ("deleted: %s\n", d);
            }
        }
      printf ("\n");
    }
  if (reclaimed)
    *reclaimed += json_integer_value (json_object_get (j, "SpaceReclaimed"));
  return 0;
}

static int
simple_prune (cli_ctx *ctx, int argc, char **argv, const char *warning,
              const char *path, const char *key, const char *what, bool space)
{
  bool force = false, all = false;
  cleanup_strv char **filters = NULL;
  const opt_def defs[] = {
    { "force", 'f', OPT_BOOL, &force, "Do not prompt for confirmation" },
    { "all", 'a', OPT_BOOL, &all, "Remove all unused volumes, not just anonymous ones" },
    { "filter", 0, OPT_STRV, &filters, "Provide filter values" },
    { NULL, 0, 0, NULL, NULL },
  };
  cleanup_strv char **pos = NULL;
  int r = cli_parse (ctx, defs, argc, argv, false, 0, 0, &pos);
  if (r != 0)
    return r;
  if (!force && !cli_confirm (warning))
    return 0;
  cleanup_free char *p = xstrdup (path);
  if (all && strstr (path, "volumes"))
    strv_append (&filters, "all=true");
  cli_add_filters (&p, filters);
  json_int_t rec = 0;
  r = prune_one (ctx, p, key, what, &rec);
  if (r != 0)
    return r;
  if (space)
    {
      cleanup_free char *sz = units_human_size ((double) rec, 4);
      printf ("Total reclaimed space: %s\n", sz);
    }
  return 0;
}

int
cmd_volume_prune (cli_ctx *ctx, int argc, char **argv)
{
  return simple_prune (ctx, argc, argv, "WARNING! This will remove anonymous local volumes not used by at least one container.",
                       "/volumes/prune", "VolumesDeleted", "Volumes", true);
}

int
cmd_network_prune (cli_ctx *ctx, int argc, char **argv)
{
  return simple_prune (ctx, argc, argv, "WARNING! This will remove all custom networks not used by at least one container.",
                       "/networks/prune", "NetworksDeleted", "Networks", false);
}

int
cmd_system_prune (cli_ctx *ctx, int argc, char **argv)
{
  bool force = false, all = false, volumes = false;
  const opt_def defs[] = {
    { "force", 'f', OPT_BOOL, &force, "Do not prompt for confirmation" },
    { "all", 'a', OPT_BOOL, &all, "Remove all unused images not just dangling ones" },
    { "volumes", 0, OPT_BOOL, &volumes, "Prune anonymous volumes" },
    { NULL, 0, 0, NULL, NULL },
  };
  cleanup_strv char **pos = NULL;
  int r = cli_parse (ctx, defs, argc, argv, false, 0, 0, &pos);
  if (r != 0)
    return r;
  if (!force)
    {
      cleanup_free char *w = xasprintf ("WARNING! This will remove:\n  - all stopped containers\n"
                                        "  - all networks not used by at least one container\n%s"
                                        "  - %s\n  - unused build cache\n",
                                        volumes ? "  - all anonymous volumes not used by at least one container\n" : "",
                                        all ? "all images without at least one container associated to them"
                                            : "all dangling images");
      if (!cli_confirm (w))
        return 0;
    }
  json_int_t rec = 0;
  r = prune_one (ctx, "/containers/prune", "ContainersDeleted", "Containers", &rec);
  if (r == 0)
    r = prune_one (ctx, "/networks/prune", "NetworksDeleted", "Networks", NULL);
  if (r == 0 && volumes)
    r = prune_one (ctx, "/volumes/prune", "VolumesDeleted", "Volumes", &rec);
  if (r == 0)
    {
      cleanup_free char *p = xstrdup ("/images/prune");
      char *f[] = { all ? "dangling=false" : "dangling=true", NULL };
      cli_add_filters (&p, f);
      r = prune_one (ctx, p, "ImagesDeleted", "Images", &rec);
    }
  if (r != 0)
    return r;
  cleanup_free char *sz = units_human_size ((double) rec, 4);
  printf ("Total reclaimed space: %s\n", sz);
  return 0;
}

/* docker system df: the four rows of docker's disk-usage formatter. */
static json_t *
df_row (const char *type, long long total, long long active, double size,
        double reclaimable, bool pct)
{
  cleanup_free char *s = units_human_size (size, 4);
  cleanup_free char *r = units_human_size (reclaimable, 4);
  cleanup_free char *rp = pct && size > 0
                              ? xasprintf ("%s (%lld%%)", r, (long long) (reclaimable * 100 / size))
                              : xstrdup (r);
  cleanup_free char *t = xasprintf ("%lld", total);
  cleanup_free char *a = xasprintf ("%lld", active);
  return json_pack ("{s:s,s:s,s:s,s:s,s:s}", "Type", type, "TotalCount", t, "Active", a,
                    "Size", s, "Reclaimable", rp);
}

int
cmd_system_df (cli_ctx *ctx, int argc, char **argv)
{
  const char *format = NULL;
  const opt_def defs[] = {
    { "format", 0, OPT_STRING, &format, "Format output using a custom template" },
    { NULL, 0, 0, NULL, NULL },
  };
  cleanup_strv char **pos = NULL;
  int r = cli_parse (ctx, defs, argc, argv, false, 0, 0, &pos);
  if (r != 0)
    return r;
  cleanup_error polis_error *err = NULL;
  cleanup_json json_t *du = NULL;
  if (client_call (ctx->client, "GET", "/system/df", NULL, &du, &err) < 0)
    return cli_error (ctx, err);
  cleanup_json json_t *headers = json_pack ("{s:s,s:s,s:s,s:s,s:s}", "Type", "TYPE", "TotalCount",
                                            "TOTAL", "Active", "ACTIVE", "Size", "SIZE",
                                            "Reclaimable", "RECLAIMABLE");
  cleanup_formatter cli_formatter *f = cli_formatter_new (
      format, "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}", headers, &err);
  if (f == NULL)
    return cli_fail (1, "template parsing error: %s", err->msg);

  json_t *images = json_object_get (du, "Images");
  double total = (double) json_integer_value (json_object_get (du, "LayersSize")), used = 0;
  long long active = 0;
  for (size_t i = 0; i < json_array_size (images); i++)
    {
      json_t *im = json_array_get (images, i);
      if (json_integer_value (json_object_get (im, "Containers")) == 0)
        continue;
      active++;
      json_int_t size = json_integer_value (json_object_get (im, "Size"));
      json_int_t shared = json_integer_value (json_object_get (im, "SharedSize"));
      if (size != -1 && shared != -1)
        used += (double) (size - shared);
    }
  cleanup_json json_t *r1 = df_row ("Images", (long long) json_array_size (images), active, total,
                                    total - used, true);

  json_t *ctrs = json_object_get (du, "Containers");
  double csize = 0, creclaim = 0;
  active = 0;
  for (size_t i = 0; i < json_array_size (ctrs); i++)
    {
      json_t *c = json_array_get (ctrs, i);
      const char *st = json_string_value (json_object_get (c, "State"));
      bool on = st && (strstr (st, "running") || strstr (st, "paused") || strstr (st, "restarting"));
      double rw = (double) json_integer_value (json_object_get (c, "SizeRw"));
      csize += rw;
      if (on)
        active++;
      else
        creclaim += rw;
    }
  cleanup_json json_t *r2 = df_row ("Containers", (long long) json_array_size (ctrs), active, csize,
                                    creclaim, true);

  json_t *vols = json_object_get (du, "Volumes");
  double vsize = 0, vreclaim = 0;
  active = 0;
  for (size_t i = 0; i < json_array_size (vols); i++)
    {
      json_t *usage = json_object_get (json_array_get (vols, i), "UsageData");
      json_int_t sz = json_integer_value (json_object_get (usage, "Size"));
      json_int_t refs = json_integer_value (json_object_get (usage, "RefCount"));
      if (refs > 0)
        active++;
      if (sz == -1)
        continue;
      vsize += (double) sz;
      if (refs == 0)
        vreclaim += (double) sz;
    }
  cleanup_json json_t *r3 = df_row ("Local Volumes", (long long) json_array_size (vols), active,
                                    vsize, vreclaim, true);

  json_t *cache = json_object_get (du, "BuildCache");
  double bsize = 0, breclaim = 0;
  active = 0;
  for (size_t i = 0; i < json_array_size (cache); i++)
    {
      json_t *b = json_array_get (cache, i);
      if (json_is_true (json_object_get (b, "InUse")))
        active++;
      if (json_is_true (json_object_get (b, "Shared")))
        continue;
      double sz = (double) json_integer_value (json_object_get (b, "Size"));
      bsize += sz;
      if (!json_is_true (json_object_get (b, "InUse")))
        breclaim += sz;
    }
  cleanup_json json_t *r4 = df_row ("Build Cache", (long long) json_array_size (cache), active,
                                    bsize, breclaim, false);
  json_t *rows[] = { r1, r2, r3, r4 };
  for (size_t i = 0; i < 4; i++)
    if (cli_formatter_row (f, rows[i], &err) < 0)
      return cli_error (ctx, err);
  return cli_list_flush (ctx, f);
}
