/* api_system.c - /_ping, /version, /info, /events, /system/df. */
#include "api.h"

#include <errno.h>
#include <openssl/evp.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/file.h"
#include "base/xalloc.h"
#include "engine/events.h"
#include "image/image_db.h"
#include "image/image_store.h"
#include "polis-config.h"

int64_t
api_query_time (api_request *req, const char *name, int64_t absent)
{
  const char *s = api_query (req, name);
  if (s == NULL || *s == '\0')
    return absent;
  if (strchr (s, '-') && strchr (s, 'T'))
    return engine_parse_time (s);
  char *end;
  long long secs = strtoll (s, &end, 10);
  int64_t ns = (int64_t) secs * 1000000000;
  if (*end == '.')
    {
      int64_t frac = 0;
      int d = 0;
      for (end++; *end >= '0' && *end <= '9'; end++)
        if (d < 9)
          frac = frac * 10 + (*end - '0'), d++;
      while (d++ < 9)
        frac *= 10;
      ns += frac;
    }
  return ns;
}

int
api_filters (api_request *req, json_t **out)
{
  *out = NULL;
  const char *f = api_query (req, "filters");
  if (f == NULL || *f == '\0')
    return 0;
  json_error_t je;
  json_t *j = json_loads (f, 0, &je);
  if (j == NULL || !json_is_object (j))
    {
      json_decref (j);
      api_reply_errorf (req, 400, "invalid filter: %s", f);
      return -1;
    }
  *out = j;
  return 0;
}

container *
api_container (api_request *req)
{
  polis_error *err = NULL;
  container *c = engine_container_get (api_context_of (req)->eng,
                                       api_param (req), &err);
  if (c == NULL)
    api_reply_error (req, &err);
  return c;
}

int
api_json_chunk (const json_t *j, char **chunk, size_t *len)
{
  char *text = json_dumps (j, JSON_COMPACT | JSON_ENCODE_ANY);
  size_t n = strlen (text);
  text = xrealloc (text, n + 2);
  text[n++] = '\n';
  text[n] = '\0';
  *chunk = text;
  *len = n;
  return 1;
}

char *
api_base64_encode (const void *buf, size_t len)
{
  char *out = xmalloc (4 * ((len + 2) / 3) + 1);
  EVP_EncodeBlock ((unsigned char *) out, buf, (int) len);
  return out;
}

char *
api_base64_decode (const char *s, size_t max, size_t *len)
{
  size_t n = strlen (s);
  cleanup_free char *padded = xasprintf ("%s%s", s, n % 4 == 2 ? "==" : n % 4 == 3 ? "=" : "");
  n = strlen (padded);
  if (n % 4 != 0 || n / 4 * 3 > max)
    return NULL;
  cleanup_free char *out = xmalloc (n / 4 * 3 + 1);
  int r = EVP_DecodeBlock ((unsigned char *) out, (const unsigned char *) padded, (int) n);
  if (r < 0)
    return NULL;
  /* EVP_DecodeBlock counts the padding as zero bytes. */
  size_t l = (size_t) r;
  if (padded[n - 1] == '=')
    l--;
  if (padded[n - 2] == '=')
    l--;
  out[l] = '\0';
  if (len)
    *len = l;
  return steal_pointer (&out);
}

bool
api_write_all (int fd, const void *buf, size_t len)
{
  const char *p = buf;
  while (len > 0)
    {
      ssize_t n = send (fd, p, len, MSG_NOSIGNAL);
      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          if (errno == ENOTSOCK)
            n = write (fd, p, len);
          if (n < 0)
            return false;
        }
      p += n;
      len -= (size_t) n;
    }
  return true;
}

void
api_ping (api_request *req)
{
  api_reply_header (req, "Cache-Control", "no-cache, no-store, must-revalidate");
  api_reply_header (req, "Pragma", "no-cache");
  api_reply_header (req, "Builder-Version", "1");
  api_reply_header (req, "Swarm", "inactive");
  if (strcmp (api_method (req), "HEAD") == 0)
    api_reply_raw (req, 200, "text/plain; charset=utf-8", "", 0);
  else
    api_reply_raw (req, 200, "text/plain; charset=utf-8", "OK", 2);
}

static const char *
go_arch (const char *machine)
{
  if (strcmp (machine, "x86_64") == 0)
    return "amd64";
  if (strcmp (machine, "aarch64") == 0)
    return "arm64";
  if (strncmp (machine, "armv7", 5) == 0)
    return "arm";
  return machine;
}

void
api_version_handler (api_request *req)
{
  struct utsname u;
  uname (&u);
  json_t *details = json_pack ("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "ApiVersion",
                               API_VERSION_MAX_STR, "Arch", go_arch (u.machine),
                               "BuildTime", "", "Experimental", "false",
                               "GitCommit", POLIS_COMMIT, "GoVersion", "n/a (C)",
                               "KernelVersion", u.release, "MinAPIVersion",
                               API_VERSION_MIN_STR);
  json_object_set_new (details, "Os", json_string ("linux"));
  json_t *v = json_pack (
      "{s:{s:s}, s:[{s:s,s:s,s:o}], s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s,"
      " s:s}",
      "Platform", "Name", "Polis Engine", "Components", "Name", "Engine",
      "Version", POLIS_VERSION, "Details", details, "Version", POLIS_VERSION,
      "ApiVersion", API_VERSION_MAX_STR, "MinAPIVersion", API_VERSION_MIN_STR,
      "GitCommit", POLIS_COMMIT, "GoVersion", "n/a (C)", "Os", "linux", "Arch",
      go_arch (u.machine), "KernelVersion", u.release, "BuildTime", "");
  api_reply_json (req, 200, v);
}

static int
count_images (void *ud, image_store *s, polis_error **err)
{
  int *n = ud;
  image_record **list = image_db_list (s->db, err);
  if (list == NULL)
    return -1;
  for (image_record **p = list; *p; p++)
    (*n)++;
  image_record_list_free (list);
  return 0;
}

static char *
os_name (void)
{
  polis_error *err = NULL;
  cleanup_free char *s = file_read_at (AT_FDCWD, "/etc/os-release", 1 << 16, NULL, &err);
  error_free (&err);
  if (s == NULL)
    return xstrdup ("Linux");
  char *p = strstr (s, "PRETTY_NAME=");
  if (p == NULL)
    return xstrdup ("Linux");
  p += 12;
  if (*p == '"')
    p++;
  size_t l = strcspn (p, "\"\n");
  return xstrndup (p, l);
}

static uint64_t
mem_total (void)
{
  long pages = sysconf (_SC_PHYS_PAGES), ps = sysconf (_SC_PAGESIZE);
  return pages > 0 && ps > 0 ? (uint64_t) pages * (uint64_t) ps : 0;
}

void
api_info (api_request *req)
{
  api_context *ctx = api_context_of (req);
  int total, running, paused, stopped, images = 0;
  engine_container_counts (ctx->eng, &total, &running, &paused, &stopped);
  polis_error *err = NULL;
  if (engine_with_images (ctx->eng, count_images, &images, &err) < 0)
    error_free (&err);
  struct utsname u;
  uname (&u);
  cleanup_free char *os = os_name ();
  char now[48];
  engine_format_time (events_now_ns (), now, sizeof now);
  bool v2 = access ("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0;
  json_t *info = json_pack (
      "{s:s, s:i, s:i, s:i, s:i, s:i, s:s, s:[[s,s],[s,s]], s:s, s:{s:[s],s:[s,s,s],"
      " s:n, s:[s,s]}, s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:b,"
      " s:b, s:i, s:i, s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:s, s:s, s:s, s:i,"
      " s:I}",
      "ID", "polis", "Containers", total, "ContainersRunning", running,
      "ContainersPaused", paused, "ContainersStopped", stopped, "Images", images,
      "Driver", "overlay2", "DriverStatus", "Backing Filesystem", "extfs",
      "Supports d_type", "true", "DockerRootDir", ctx->root, "Plugins", "Volume",
      "local", "Network", "bridge", "host", "none", "Authorization", "Log",
      "json-file", "none", "MemoryLimit", true, "SwapLimit", true,
      "KernelMemoryTCP", false, "CpuCfsPeriod", true, "CpuCfsQuota", true,
      "CPUShares", true, "CPUSet", true, "PidsLimit", true, "IPv4Forwarding",
      false, "Debug", false, "OomKillDisable", !v2, "BridgeNfIptables", false,
      "NFd", 0, "NGoroutines", 0, "SystemTime", now, "LoggingDriver",
      "json-file", "CgroupDriver", "cgroupfs", "CgroupVersion", v2 ? "2" : "1",
      "KernelVersion", u.release, "NEventsListener", 0, "OperatingSystem", os,
      "OSVersion", "", "OSType", "linux", "Architecture", u.machine, "NCPU",
      (int) sysconf (_SC_NPROCESSORS_ONLN), "MemTotal",
      (json_int_t) mem_total ());
  json_object_set_new (info, "IndexServerAddress",
                       json_string ("https://index.docker.io/v1/"));
  json_object_set_new (info, "RegistryConfig",
                       json_pack ("{s:[],s:[],s:{},s:[]}", "InsecureRegistryCIDRs",
                                  "AllowNondistributableArtifactsCIDRs",
                                  "IndexConfigs", "Mirrors"));
  json_object_set_new (info, "GenericResources", json_null ());
  json_object_set_new (info, "HttpProxy", json_string (""));
  json_object_set_new (info, "HttpsProxy", json_string (""));
  json_object_set_new (info, "NoProxy", json_string (""));
  json_object_set_new (info, "Name", json_string (u.nodename));
  json_object_set_new (info, "Labels", json_array ());
  json_object_set_new (info, "ExperimentalBuild", json_false ());
  json_object_set_new (info, "ServerVersion", json_string (POLIS_VERSION));
  json_object_set_new (info, "Runtimes",
                       json_pack ("{s:{s:s}}", "polis", "path", "polis-runtime"));
  json_object_set_new (info, "DefaultRuntime", json_string ("polis"));
  json_object_set_new (info, "Swarm",
                       json_pack ("{s:s,s:s,s:s,s:b,s:s,s:n}", "NodeID", "",
                                  "NodeAddr", "", "LocalNodeState", "inactive",
                                  "ControlAvailable", false, "Error", "",
                                  "RemoteManagers"));
  json_object_set_new (info, "LiveRestoreEnabled", json_true ());
  json_object_set_new (info, "Isolation", json_string (""));
  json_object_set_new (info, "InitBinary", json_string ("polis-init"));
  json_object_set_new (info, "ContainerdCommit", json_pack ("{s:s}", "ID", ""));
  json_object_set_new (info, "RuncCommit", json_pack ("{s:s}", "ID", POLIS_COMMIT));
  json_object_set_new (info, "InitCommit", json_pack ("{s:s}", "ID", POLIS_COMMIT));
  json_object_set_new (info, "SecurityOptions",
                       json_pack ("[s]", "name=seccomp,profile=builtin"));
  json_object_set_new (info, "CDISpecDirs", json_array ());
  json_object_set_new (info, "Containerd", json_null ());
  json_object_set_new (info, "Warnings",
                       json_pack ("[s]", "polisd: no networking yet: containers "
                                         "get loopback only (or the host's)"));
  api_reply_json (req, 200, info);
}

/* --- /events --------------------------------------------------------------------- */

typedef struct
{
  api_server *srv;
  events_sub *sub;
  json_t *filters;
  int64_t until_ns;
  int client_fd;
  int version;
} events_stream;

static bool
filter_has (json_t *filters, const char *key)
{
  json_t *f = json_object_get (filters, key);
  return (json_is_object (f) && json_object_size (f) > 0)
         || (json_is_array (f) && json_array_size (f) > 0);
}

/* Does any value of filter KEY satisfy MATCH(value)? */
#define FILTER_ANY(filters, key, expr)                                         \
  ({                                                                           \
    json_t *f_ = json_object_get (filters, key);                               \
    bool hit_ = false;                                                         \
    const char *val;                                                           \
    if (json_is_object (f_))                                                   \
      {                                                                        \
        json_t *v_;                                                            \
        json_object_foreach (f_, val, v_)                                      \
          if (json_is_true (v_) && (expr))                                     \
            hit_ = true;                                                       \
      }                                                                        \
    else if (json_is_array (f_))                                               \
      {                                                                        \
        size_t i_;                                                             \
        json_t *v_;                                                            \
        json_array_foreach (f_, i_, v_)                                        \
          if ((val = json_string_value (v_)) && (expr))                        \
            hit_ = true;                                                       \
      }                                                                        \
    hit_;                                                                      \
  })

static bool
event_matches (json_t *filters, json_t *m, int version)
{
  const char *type = json_string_value (json_object_get (m, "Type"));
  const char *action = json_string_value (json_object_get (m, "Action"));
  json_t *actor = json_object_get (m, "Actor");
  const char *id = json_string_value (json_object_get (actor, "ID"));
  json_t *attrs = json_object_get (actor, "Attributes");
  const char *name = json_string_value (json_object_get (attrs, "name"));
  const char *image = json_string_value (json_object_get (attrs, "image"));
  /* Before API 1.46 image `create` events are not sent (Docker). */
  if (version < 146 && strcmp (type, "image") == 0 && strcmp (action, "create") == 0)
    return false;
  if (filters == NULL)
    return true;
  size_t alen = strcspn (action, ":");
  if (filter_has (filters, "type") && !FILTER_ANY (filters, "type", strcmp (val, type) == 0))
    return false;
  if (filter_has (filters, "event")
      && !FILTER_ANY (filters, "event",
                      strcmp (val, action) == 0
                          || (strlen (val) == alen && strncmp (val, action, alen) == 0)))
    return false;
  if (filter_has (filters, "container")
      && !(strcmp (type, "container") == 0
           && FILTER_ANY (filters, "container",
                          strncmp (id, val, strlen (val)) == 0
                              || (name && strcmp (name, val[0] == '/' ? val + 1 : val) == 0))))
    return false;
  if (filter_has (filters, "image")
      && !FILTER_ANY (filters, "image",
                      (image && strcmp (image, val) == 0)
                          || (strcmp (type, "image") == 0 && strcmp (id, val) == 0)))
    return false;
  if (filter_has (filters, "label"))
    {
      bool ok = FILTER_ANY (filters, "label", ({
                              const char *eq = strchr (val, '=');
                              cleanup_free char *k = eq ? xstrndup (val, (size_t) (eq - val))
                                                        : xstrdup (val);
                              json_t *lv = json_object_get (attrs, k);
                              lv && (eq == NULL || strcmp (json_string_value (lv), eq + 1) == 0);
                            }));
      if (!ok)
        return false;
    }
  if (filter_has (filters, "daemon") && strcmp (type, "daemon") != 0)
    return false;
  return true;
}

static int
events_read (void *cls, char **chunk, size_t *len)
{
  events_stream *st = cls;
  for (;;)
    {
      json_t *m;
      while ((m = events_next (st->sub)))
        {
          json_int_t tn = json_integer_value (json_object_get (m, "timeNano"));
          if (st->until_ns > 0 && tn > st->until_ns)
            {
              json_decref (m);
              return 0;
            }
          int r = event_matches (st->filters, m, st->version)
                      ? api_json_chunk (m, chunk, len)
                      : 0;
          json_decref (m);
          if (r)
            return r;
        }
      if (st->until_ns > 0 && events_now_ns () > st->until_ns)
        return 0;
      struct pollfd p[3] = {
        { .fd = events_sub_fd (st->sub), .events = POLLIN },
        { .fd = api_server_stop_fd (st->srv), .events = POLLIN },
        { .fd = st->client_fd, .events = POLLRDHUP },
      };
      int timeout = -1;
      if (st->until_ns > 0)
        {
          int64_t left = (st->until_ns - events_now_ns ()) / 1000000 + 1;
          timeout = left > 0 ? (int) left : 0;
        }
      int r = poll (p, 3, timeout);
      if (r < 0 && errno != EINTR)
        return -1;
      if (p[1].revents)
        return 0;
      if (p[2].revents)
        return -1;
    }
}

static void
events_free (void *cls)
{
  events_stream *st = cls;
  events_unsubscribe (st->sub);
  json_decref (st->filters);
  free (st);
}

void
api_events (api_request *req)
{
  json_t *filters;
  if (api_filters (req, &filters) < 0)
    return;
  static const char *const known[] = { "container", "daemon", "event", "image",
                                       "label", "network", "node", "plugin",
                                       "scope", "secret", "service", "type",
                                       "volume", "config", NULL };
  const char *k;
  json_t *v;
  json_object_foreach (filters, k, v)
  {
    bool ok = false;
    for (const char *const *p = known; *p && !ok; p++)
      ok = strcmp (*p, k) == 0;
    if (!ok)
      {
        json_decref (filters);
        api_reply_errorf (req, 400, "invalid filter '%s'", k);
        return;
      }
  }
  int64_t since = api_query_time (req, "since", -1);
  int64_t until = api_query_time (req, "until", -1);
  events_stream *st = xzalloc (sizeof *st);
  st->srv = api_request_server (req);
  st->sub = events_subscribe (engine_events (api_context_of (req)->eng), since);
  st->filters = filters;
  st->until_ns = until > 0 ? until : 0;
  st->client_fd = api_client_fd (req);
  st->version = api_version (req);
  if (st->sub == NULL)
    {
      events_free (st);
      api_reply_errorf (req, 500, "subscribe to events: %s", strerror (errno));
      return;
    }
  api_reply_stream (req, 200, "application/json", events_read, st, events_free);
}

/* Does /system/df's `type` (repeatable; none: every type) ask for T? */
static bool
df_wants (char **types, const char *t)
{
  if (types == NULL || types[0] == NULL)
    return true;
  for (char **p = types; *p; p++)
    if (strcmp (*p, t) == 0)
      return true;
  return false;
}

void
api_system_df (api_request *req)
{
  api_context *ctx = api_context_of (req);
  cleanup_strv char **types = api_query_all (req, "type");
  for (char **p = types; p && *p; p++)
    if (strcmp (*p, "container") != 0 && strcmp (*p, "image") != 0
        && strcmp (*p, "volume") != 0 && strcmp (*p, "build-cache") != 0)
      {
        api_reply_errorf (req, 400, "unknown object type: %s", *p);
        return;
      }
  container_list_opts o = { .all = true, .size = true };
  polis_error *err = NULL;
  size_t len;
  cleanup_free char *text = df_wants (types, "container")
                                ? engine_container_list (ctx->eng, &o, &len, &err)
                                : xstrdup ("[]");
  if (!df_wants (types, "container"))
    len = 2;
  json_t *cs = text ? json_loadb (text, len, 0, NULL) : NULL;
  if (cs == NULL)
    {
      if (err)
        api_reply_error (req, &err);
      else
        api_reply_errorf (req, 500, "list containers");
      return;
    }
  json_t *df = json_pack ("{s:I,s:[],s:o,s:o,s:[]}", "LayersSize", (json_int_t) 0,
                          "Images", "Containers", cs, "Volumes",
                          df_wants (types, "volume") ? engine_volume_df (ctx->eng)
                                                     : json_array (),
                          "BuildCache");
  api_reply_json (req, 200, df);
}
