/* container.c - the container record: persistence, state words, events. */
#include "engine_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/log.h"
#include "base/pjson.h"
#include "base/xalloc.h"
#include "container_mounts.h"

container *
container_new (engine *e, const char *id)
{
  container *c = xzalloc (sizeof *c);
  memcpy (c->id, id, 64);
  c->id[64] = '\0';
  c->dir = xasprintf ("%s/%s", e->containers_dir, c->id);
  c->run_dir = xasprintf ("%s/%s", e->opts.run_root, c->id);
  c->eng = e;
  c->refs = 1;
  c->exit_code = 0;
  pthread_mutex_init (&c->op_lock, NULL);
  return c;
}

void
container_free (container *c)
{
  if (c == NULL)
    return;
  free (c->image_ref);
  free (c->image_id);
  json_decref (c->config);
  json_decref (c->host_config);
  json_decref (c->net_config);
  json_decref (c->endpoints);
  json_decref (c->ports);
  free (c->dir);
  free (c->run_dir);
  free (c->name);
  free (c->error);
  json_decref (c->health);
  free (c->summary_static);
  free (c->sandbox);
  json_decref (c->mounts);
  pthread_mutex_destroy (&c->op_lock);
  free (c);
}

static const char *const status_names[] = {
  [CS_CREATED] = "created",       [CS_RUNNING] = "running",
  [CS_PAUSED] = "paused",         [CS_RESTARTING] = "restarting",
  [CS_REMOVING] = "removing",     [CS_EXITED] = "exited",
  [CS_DEAD] = "dead",
};

const char *
container_status_name (container_status s)
{
  return status_names[s];
}

static container_status
status_from_name (const char *s)
{
  for (size_t i = 0; i < sizeof status_names / sizeof *status_names; i++)
    if (s && strcmp (s, status_names[i]) == 0)
      return (container_status) i;
  return CS_EXITED;
}

/* --- times ------------------------------------------------------------------ */

const char *
engine_format_time (int64_t ns, char *buf, size_t len)
{
  if (ns <= 0)
    {
      snprintf (buf, len, "0001-01-01T00:00:00Z");
      return buf;
    }
  time_t secs = (time_t) (ns / 1000000000);
  long frac = (long) (ns % 1000000000);
  struct tm tm;
  gmtime_r (&secs, &tm);
  size_t n = strftime (buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
  if (frac)
    {
      char f[16];
      snprintf (f, sizeof f, ".%09ld", frac);
      size_t fl = strlen (f);
      while (fl > 1 && f[fl - 1] == '0')
        f[--fl] = '\0';
      snprintf (buf + n, len - n, "%sZ", f);
    }
  else
    snprintf (buf + n, len - n, "Z");
  return buf;
}

int64_t
engine_parse_time (const char *s)
{
  if (s == NULL || *s == '\0' || strncmp (s, "0001-", 5) == 0)
    return 0;
  struct tm tm = { 0 };
  const char *p = strptime (s, "%Y-%m-%dT%H:%M:%S", &tm);
  if (p == NULL)
    return 0;
  int64_t ns = (int64_t) timegm (&tm) * 1000000000;
  if (*p == '.')
    {
      p++;
      int64_t frac = 0;
      int digits = 0;
      while (*p >= '0' && *p <= '9')
        {
          if (digits < 9)
            {
              frac = frac * 10 + (*p - '0');
              digits++;
            }
          p++;
        }
      while (digits++ < 9)
        frac *= 10;
      ns += frac;
    }
  /* A numeric offset: "+02:00". */
  if (*p == '+' || *p == '-')
    {
      int hh = 0, mm = 0;
      if (sscanf (p + 1, "%d:%d", &hh, &mm) >= 1)
        {
          int64_t off = ((int64_t) hh * 3600 + mm * 60) * 1000000000;
          ns += *p == '+' ? -off : off;
        }
    }
  return ns;
}

/* --- persistence ------------------------------------------------------------- */

json_t *
container_doc (const container *c)
{
  char started[48], finished[48];
  json_t *state = json_pack (
      "{s:s, s:i, s:i, s:b, s:s, s:s, s:s, s:i, s:b, s:b}", "Status",
      container_status_name (c->status), "Pid", c->pid, "ExitCode",
      c->exit_code, "OOMKilled", c->oom_killed, "Error",
      c->error ? c->error : "", "StartedAt",
      engine_format_time (c->started_ns, started, sizeof started),
      "FinishedAt",
      engine_format_time (c->finished_ns, finished, sizeof finished),
      "RestartCount", c->restart_count, "ManuallyStopped", c->manually_stopped,
      "HasBeenStarted", c->has_been_started);
  if (c->health)
    json_object_set (state, "Health", c->health);
  json_t *doc = json_pack ("{s:s, s:s, s:O, s:O, s:O, s:o, s:s, s:O?, s:O?, s:b}", "Image",
                           c->image_ref ? c->image_ref : "", "ImageID",
                           c->image_id ? c->image_id : "", "Config", c->config,
                           "HostConfig", c->host_config, "NetworkingConfig",
                           c->net_config ? c->net_config : json_null (), "State",
                           state, "SandboxKey", c->sandbox ? c->sandbox : "",
                           "Networks", c->endpoints, "Ports", c->ports, "PortsOn",
                           c->ports_on);
  if (c->mounts)
    json_object_set (doc, "MountPoints", c->mounts);
  return doc;
}

int
container_load_doc (container *c, const json_t *doc, polis_error **err)
{
  const char *image = NULL, *image_id = NULL;
  json_t *config = NULL, *hc = NULL, *state = NULL;
  if (pjson_get_string (doc, "container", "Image", false, &image, err) < 0
      || pjson_get_string (doc, "container", "ImageID", false, &image_id, err)
             < 0
      || pjson_get_object (doc, "container", "Config", true, &config, err) < 0
      || pjson_get_object (doc, "container", "HostConfig", true, &hc, err) < 0
      || pjson_get_object (doc, "container", "State", true, &state, err) < 0)
    return -1;
  c->image_ref = xstrdup (image ? image : "");
  c->image_id = xstrdup (image_id ? image_id : "");
  c->config = json_incref (config);
  c->host_config = json_incref (hc);
  json_t *nc = json_object_get (doc, "NetworkingConfig");
  c->net_config = json_is_object (nc) ? json_incref (nc) : NULL;
  json_t *mp = json_object_get (doc, "MountPoints");
  if (json_is_array (mp))
    c->mounts = json_incref (mp);
  else
    {
      /* A record from before volumes: its binds, as they were. */
      polis_error *e2 = NULL;
      c->mounts = container_mounts_resolve (c->eng->volumes_dir, c->config,
                                            c->host_config, &e2);
      if (c->mounts == NULL)
        c->mounts = json_array ();
      error_free (&e2);
    }
  c->status = status_from_name (
      json_string_value (json_object_get (state, "Status")));
  c->pid = (int) json_integer_value (json_object_get (state, "Pid"));
  c->exit_code = (int) json_integer_value (json_object_get (state, "ExitCode"));
  c->oom_killed = json_is_true (json_object_get (state, "OOMKilled"));
  const char *e = json_string_value (json_object_get (state, "Error"));
  c->error = e && *e ? xstrdup (e) : NULL;
  c->started_ns = engine_parse_time (
      json_string_value (json_object_get (state, "StartedAt")));
  c->finished_ns = engine_parse_time (
      json_string_value (json_object_get (state, "FinishedAt")));
  c->restart_count
      = (int) json_integer_value (json_object_get (state, "RestartCount"));
  c->manually_stopped
      = json_is_true (json_object_get (state, "ManuallyStopped"));
  c->has_been_started
      = json_is_true (json_object_get (state, "HasBeenStarted"));
  json_t *h = json_object_get (state, "Health");
  c->health = json_is_object (h) ? json_incref (h) : NULL;
  const char *sk = json_string_value (json_object_get (doc, "SandboxKey"));
  c->sandbox = sk && *sk ? xstrdup (sk) : NULL;
  json_t *nets = json_object_get (doc, "Networks");
  c->endpoints = json_is_object (nets) ? json_incref (nets) : json_object ();
  json_t *ports = json_object_get (doc, "Ports");
  c->ports = json_is_object (ports) ? json_incref (ports) : json_object ();
  c->ports_on = json_is_true (json_object_get (doc, "PortsOn"));
  return 0;
}

int
container_save (engine *e, container *c, polis_error **err)
{
  if (c->removed)
    return 0;
  cleanup_json json_t *doc = container_doc (c);
  cleanup_free char *text = json_dumps (doc, JSON_COMPACT);
  polis_error *local = NULL;
  int r = state_db_update_container (e->db, c->id, c->name, text,
                                     err ? err : &local);
  if (r < 0 && local)
    {
      log_error ("save container %.12s: %s", c->id, local->msg);
      error_free (&local);
    }
  return r;
}

/* --- watchers ------------------------------------------------------------- */

void
container_notify (container *c)
{
  for (watcher *w = c->watchers; w; w = w->next)
    {
      uint64_t one = 1;
      ssize_t r = write (w->fd, &one, sizeof one);
      (void) r;
    }
}

void
container_watch (container *c, watcher *w)
{
  w->next = c->watchers;
  c->watchers = w;
}

void
container_unwatch (container *c, watcher *w)
{
  for (watcher **p = &c->watchers; *p; p = &(*p)->next)
    if (*p == w)
      {
        *p = w->next;
        return;
      }
}

/* --- Docker's words ------------------------------------------------------------ */

/* go-units HumanDuration. */
static void
human_duration (int64_t secs, char *buf, size_t len)
{
  if (secs < 1)
    snprintf (buf, len, "Less than a second");
  else if (secs == 1)
    snprintf (buf, len, "1 second");
  else if (secs < 60)
    snprintf (buf, len, "%" PRId64 " seconds", secs);
  else if (secs / 60 == 1)
    snprintf (buf, len, "About a minute");
  else if (secs / 60 < 60)
    snprintf (buf, len, "%" PRId64 " minutes", secs / 60);
  else if ((secs + 1800) / 3600 == 1)
    snprintf (buf, len, "About an hour");
  else if (secs / 3600 < 48)
    snprintf (buf, len, "%" PRId64 " hours", (secs + 1800) / 3600);
  else if (secs / 3600 < 24 * 7 * 2)
    snprintf (buf, len, "%" PRId64 " days", secs / 86400);
  else if (secs / 3600 < 24 * 30 * 2)
    snprintf (buf, len, "%" PRId64 " weeks", secs / (86400 * 7));
  else if (secs / 3600 < 24 * 365 * 2)
    snprintf (buf, len, "%" PRId64 " months", secs / (86400 * 30));
  else
    snprintf (buf, len, "%" PRId64 " years", secs / (86400 * 365));
}

char *
container_status_string (const container *c)
{
  int64_t now = events_now_ns ();
  char d[64];
  switch (c->status)
    {
    case CS_RUNNING:
    case CS_PAUSED:
      {
        human_duration ((now - c->started_ns) / 1000000000, d, sizeof d);
        const char *hs = c->health ? json_string_value (json_object_get (
                             c->health, "Status"))
                                   : NULL;
        if (c->status == CS_PAUSED)
          return xasprintf ("Up %s (Paused)", d);
        if (hs && strcmp (hs, "starting") == 0)
          return xasprintf ("Up %s (health: starting)", d);
        if (hs && *hs && strcmp (hs, "none") != 0)
          return xasprintf ("Up %s (%s)", d, hs);
        return xasprintf ("Up %s", d);
      }
    case CS_RESTARTING:
      human_duration ((now - c->finished_ns) / 1000000000, d, sizeof d);
      return xasprintf ("Restarting (%d) %s ago", c->exit_code, d);
    case CS_REMOVING:
      return xstrdup ("Removal In Progress");
    case CS_DEAD:
      return xstrdup ("Dead");
    case CS_EXITED:
      if (c->finished_ns <= 0)
        return xstrdup ("Created");
      human_duration ((now - c->finished_ns) / 1000000000, d, sizeof d);
      return xasprintf ("Exited (%d) %s ago", c->exit_code, d);
    case CS_CREATED:
    default:
      return xstrdup ("Created");
    }
}

void
container_event (engine *e, container *c, const char *action,
                 json_t *extra)
{
  json_t *attrs = json_object ();
  json_t *labels = json_object_get (c->config, "Labels");
  const char *k;
  json_t *v;
  json_object_foreach (labels, k, v)
    if (json_is_string (v))
      json_object_set (attrs, k, v);
  json_object_set_new (attrs, "image", json_string (c->image_ref));
  /* The name changes under the lock (rename); callers do not hold it. */
  engine_lock (e);
  json_object_set_new (attrs, "name", json_string (c->name));
  engine_unlock (e);
  if (extra)
    {
      json_object_update (attrs, extra);
      json_decref (extra);
    }
  events_publish (e->bus, "container", action, c->id, attrs);
}

void
engine_container_event (engine *e, container *c, const char *action)
{
  container_event (e, c, action, NULL);
}
