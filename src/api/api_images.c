/* api_images.c - the /images routes, through the image library.
 *
 * Reads and small writes (list, inspect, history, tag, remove, prune) use
 * the library in the daemon, under the engine's image lock.  The long,
 * network- or archive-heavy operations (pull, push, save, load, import)
 * run `polis-image` (the library's command line) in a child process whose
 * output is streamed to the client as it comes: a pull's Docker JSON
 * progress, a save's tar.  That keeps libcurl and libarchive (and their
 * memory) out of the daemon, and a crash in a decompressor out of it too.
 * Both share ROOT/polis.db (SQLite WAL, busy timeout).
 */
#include "api.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/file.h"
#include "base/log.h"
#include "base/pjson.h"
#include "base/strv.h"
#include "base/xalloc.h"
#include "engine/events.h"
#include "image/image_db.h"
#include "image/image_inspect.h"
#include "image/image_store.h"
#include "image/reference.h"

#define TOOL_STDERR_MAX (64u << 10)
#define TOOL_CHUNK (64u << 10)
#define AUTH_HEADER_CAP (64u << 10)

/* --- polis-image in a child ------------------------------------------------------ */

typedef enum
{
  TOOL_RAW,       /* stdout as it is (progress JSON, a tar) */
  TOOL_LOAD_JSON, /* each stdout line becomes {"stream":"line\n"} */
} tool_mode;

typedef struct
{
  pid_t pid;
  int out_fd, err_fd;
  tool_mode mode;
  char *errbuf;
  size_t errlen;
  char *pre; /* output read before the reply (first line of a pull) */
  size_t pre_len;
  char *tmpdir; /* DOCKER_CONFIG for credentials, removed at the end */
  api_server *srv;
  int client_fd;
  bool eof, failed_reported;
  int status;
  engine *eng;
  char *event_type, *event_action, *event_id;
  char *line; /* TOOL_LOAD_JSON: a partial line */
  size_t line_len;
} tool_run;

static void
tool_free (void *cls)
{
  tool_run *t = cls;
  if (t->out_fd >= 0)
    close (t->out_fd);
  if (t->err_fd >= 0)
    close (t->err_fd);
  if (t->pid > 0)
    {
      kill (t->pid, SIGTERM);
      while (waitpid (t->pid, NULL, 0) < 0 && errno == EINTR)
        ;
    }
  if (t->tmpdir)
    {
      polis_error *e = NULL;
      file_remove_tree_at (AT_FDCWD, t->tmpdir, &e);
      error_free (&e);
      free (t->tmpdir);
    }
  free (t->errbuf);
  free (t->pre);
  free (t->line);
  free (t->event_type);
  free (t->event_action);
  free (t->event_id);
  free (t);
}

/* A DOCKER_CONFIG directory holding the credentials of an X-Registry-Auth
   header (base64url JSON AuthConfig), or NULL when it has none. */
static char *
auth_config_dir (api_request *req, const char *root)
{
  const char *h = api_header (req, "X-Registry-Auth");
  if (h == NULL || *h == '\0' || strlen (h) > AUTH_HEADER_CAP)
    return NULL;
  cleanup_free char *std = xstrdup (h);
  for (char *p = std; *p; p++)
    *p = *p == '-' ? '+' : *p == '_' ? '/' : *p;
  size_t len;
  cleanup_free char *raw = api_base64_decode (std, AUTH_HEADER_CAP, &len);
  if (raw == NULL)
    return NULL;
  polis_error *err = NULL;
  cleanup_json json_t *a = pjson_parse (raw, len, "X-Registry-Auth", &err);
  error_free (&err);
  const char *user = json_string_value (json_object_get (a, "username"));
  const char *pass = json_string_value (json_object_get (a, "password"));
  const char *server = json_string_value (json_object_get (a, "serveraddress"));
  if (user == NULL || *user == '\0' || pass == NULL)
    return NULL;
  cleanup_free char *tmpl = xasprintf ("%s/tmp/auth-XXXXXX", root);
  if (mkdtemp (tmpl) == NULL)
    return NULL;
  cleanup_free char *up = xasprintf ("%s:%s", user, pass);
  cleanup_free char *b64 = api_base64_encode (up, strlen (up));
  cleanup_json json_t *cfg = json_pack ("{s:{s:{s:s}}}", "auths",
                                        server && *server ? server : "docker.io",
                                        "auth", b64);
  cleanup_free char *text = json_dumps (cfg, JSON_COMPACT);
  cleanup_free char *path = xasprintf ("%s/config.json", tmpl);
  if (file_write_atomic (path, text, strlen (text), 0600, &err) < 0)
    {
      error_free (&err);
      return NULL;
    }
  return steal_pointer (&tmpl);
}

/* Run polis-image ARGS (after --root) with STDIN_FD (or /dev/null). */
static tool_run *
tool_start (api_request *req, char **args, int stdin_fd, tool_mode mode,
            bool with_auth, polis_error **err)
{
  api_context *ctx = api_context_of (req);
  cleanup_strv char **argv = NULL;
  strv_append (&argv, ctx->image_tool);
  strv_append (&argv, "--root");
  strv_append (&argv, ctx->root);
  for (char **a = args; *a; a++)
    strv_append (&argv, *a);
  tool_run *t = xzalloc (sizeof *t);
  t->out_fd = t->err_fd = -1;
  t->mode = mode;
  t->srv = api_request_server (req);
  t->client_fd = api_client_fd (req);
  t->eng = ctx->eng;
  if (with_auth)
    t->tmpdir = auth_config_dir (req, ctx->root);
  int out[2], errp[2];
  if (pipe2 (out, O_CLOEXEC) < 0)
    {
      tool_free (t);
      error_sys (err, "pipe");
      return NULL;
    }
  if (pipe2 (errp, O_CLOEXEC) < 0)
    {
      close (out[0]);
      close (out[1]);
      tool_free (t);
      error_sys (err, "pipe");
      return NULL;
    }
  cleanup_close int devnull = open ("/dev/null", O_RDONLY | O_CLOEXEC);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init (&fa);
  posix_spawn_file_actions_adddup2 (&fa, stdin_fd >= 0 ? stdin_fd : devnull, 0);
  posix_spawn_file_actions_adddup2 (&fa, out[1], 1);
  posix_spawn_file_actions_adddup2 (&fa, errp[1], 2);
  cleanup_free char *dc = t->tmpdir ? xasprintf ("DOCKER_CONFIG=%s", t->tmpdir)
                                    : xstrdup ("DOCKER_CONFIG=/nonexistent");
  char *env[] = { "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                  dc, NULL };
  int r = posix_spawn (&t->pid, ctx->image_tool, &fa, NULL, argv, env);
  posix_spawn_file_actions_destroy (&fa);
  close (out[1]);
  close (errp[1]);
  t->out_fd = out[0];
  t->err_fd = errp[0];
  if (r != 0)
    {
      t->pid = 0;
      tool_free (t);
      error_sys_code (err, r, "run `%s`", ctx->image_tool);
      return NULL;
    }
  fcntl (t->err_fd, F_SETFL, O_NONBLOCK);
  return t;
}

static void
tool_drain_stderr (tool_run *t)
{
  if (t->err_fd < 0)
    return;
  for (;;)
    {
      if (t->errbuf == NULL)
        t->errbuf = xmalloc (TOOL_STDERR_MAX + 1);
      if (t->errlen == TOOL_STDERR_MAX)
        {
          char junk[4096];
          if (read (t->err_fd, junk, sizeof junk) > 0)
            continue;
          return;
        }
      ssize_t n = read (t->err_fd, t->errbuf + t->errlen, TOOL_STDERR_MAX - t->errlen);
      if (n <= 0)
        return;
      t->errlen += (size_t) n;
      t->errbuf[t->errlen] = '\0';
    }
}

/* The child's message: its last "Error: ..." line on stderr. */
static char *
tool_error_message (tool_run *t)
{
  tool_drain_stderr (t);
  if (t->errbuf == NULL || t->errlen == 0)
    return xasprintf ("polis-image failed (status %d)", t->status);
  char *s = t->errbuf;
  while (t->errlen > 0 && (s[t->errlen - 1] == '\n'))
    s[--t->errlen] = '\0';
  char *last = strrchr (s, '\n');
  last = last ? last + 1 : s;
  if (strncmp (last, "Error: ", 7) == 0)
    last += 7;
  return xstrdup (last);
}

static void
tool_reap (tool_run *t)
{
  int st = 0;
  while (waitpid (t->pid, &st, 0) < 0 && errno == EINTR)
    ;
  t->pid = 0;
  t->status = WIFEXITED (st) ? WEXITSTATUS (st) : 128 + WTERMSIG (st);
}

/* Read what the child printed (blocking until something comes). */
static ssize_t
tool_read (tool_run *t, char *buf, size_t max)
{
  for (;;)
    {
      struct pollfd p[4] = {
        { .fd = t->out_fd, .events = POLLIN },
        { .fd = t->err_fd, .events = POLLIN },
        { .fd = api_server_stop_fd (t->srv), .events = POLLIN },
        { .fd = t->client_fd, .events = POLLRDHUP },
      };
      int r = poll (p, t->client_fd >= 0 ? 4 : 3, -1);
      if (r < 0 && errno != EINTR)
        return -1;
      if (p[2].revents || (t->client_fd >= 0 && p[3].revents))
        return -1;
      if (p[1].revents)
        tool_drain_stderr (t);
      if (p[0].revents)
        {
          ssize_t n = read (t->out_fd, buf, max);
          if (n < 0 && errno == EINTR)
            continue;
          return n;
        }
    }
}

static int
tool_emit_error (tool_run *t, char **chunk, size_t *len)
{
  cleanup_free char *msg = tool_error_message (t);
  cleanup_json json_t *j = json_pack ("{s:{s:s},s:s}", "errorDetail", "message",
                                      msg, "error", msg);
  t->failed_reported = true;
  return api_json_chunk (j, chunk, len);
}

static int
tool_stream_read (void *cls, char **chunk, size_t *len)
{
  tool_run *t = cls;
  if (t->pre)
    {
      *chunk = steal_pointer (&t->pre);
      *len = t->pre_len;
      return 1;
    }
  if (t->eof)
    return 0;
  for (;;)
    {
      char *buf = xmalloc (TOOL_CHUNK);
      ssize_t n = tool_read (t, buf, TOOL_CHUNK);
      if (n < 0)
        {
          free (buf);
          return -1;
        }
      if (n == 0)
        {
          free (buf);
          t->eof = true;
          tool_reap (t);
          if (t->status != 0)
            {
              if (t->mode == TOOL_RAW && t->event_type == NULL)
                return -1; /* a tar cut short: the client must see a failure */
              if (t->event_type == NULL || strcmp (t->event_action, "pull") != 0)
                return tool_emit_error (t, chunk, len);
              return 0; /* the pull printed its own error */
            }
          if (t->event_type)
            {
              json_t *attrs = json_pack ("{s:s}", "name", t->event_id);
              events_publish (engine_events (t->eng), t->event_type,
                              t->event_action, t->event_id, attrs);
            }
          return 0;
        }
      if (t->mode == TOOL_RAW)
        {
          *chunk = buf;
          *len = (size_t) n;
          return 1;
        }
      /* TOOL_LOAD_JSON: whole lines only. */
      t->line = xrealloc (t->line, t->line_len + (size_t) n + 1);
      memcpy (t->line + t->line_len, buf, (size_t) n);
      t->line_len += (size_t) n;
      free (buf);
      char *nl = memrchr (t->line, '\n', t->line_len);
      if (nl == NULL)
        continue;
      size_t upto = (size_t) (nl - t->line) + 1;
      size_t cap = upto * 2 + 64, o = 0;
      char *out = xmalloc (cap);
      for (char *s = t->line; s < t->line + upto;)
        {
          char *e = memchr (s, '\n', (size_t) (t->line + upto - s));
          cleanup_free char *l = xstrndup (s, (size_t) (e - s) + 1);
          cleanup_json json_t *j = json_pack ("{s:s}", "stream", l);
          cleanup_free char *txt = json_dumps (j, JSON_COMPACT);
          size_t tl = strlen (txt);
          if (o + tl + 2 > cap)
            {
              cap = (o + tl + 2) * 2;
              out = xrealloc (out, cap);
            }
          memcpy (out + o, txt, tl);
          o += tl;
          out[o++] = '\n';
          s = e + 1;
        }
      memmove (t->line, t->line + upto, t->line_len - upto);
      t->line_len -= upto;
      *chunk = out;
      *len = o;
      return 1;
    }
}

/* --- pull and import ------------------------------------------------------------------ */

static void
registry_args (api_context *ctx, char ***args)
{
  for (char **p = ctx->insecure_registries; p && *p; p++)
    {
      strv_append (args, "--insecure-registry");
      strv_append (args, *p);
    }
  for (char **p = ctx->registry_mirrors; p && *p; p++)
    {
      strv_append (args, "--registry-mirror");
      strv_append (args, *p);
    }
}

static int
status_for_message (const char *msg)
{
  if (strstr (msg, "not found") || strstr (msg, "unknown") || strstr (msg, "denied")
      || strstr (msg, "does not exist") || strstr (msg, "No such"))
    return 404;
  if (strstr (msg, "invalid reference") || strstr (msg, "must be lowercase"))
    return 400;
  return 500;
}

static void
image_pull (api_request *req, const char *from, const char *tag)
{
  api_context *ctx = api_context_of (req);
  cleanup_free char *ref = NULL;
  if (tag && *tag)
    ref = xasprintf ("%s%s%s", from, strncmp (tag, "sha256:", 7) == 0 ? "@" : ":", tag);
  else
    ref = xstrdup (from);
  polis_error *err = NULL;
  cleanup_reference image_reference *r = image_reference_parse (ref, &err);
  if (r == NULL)
    {
      api_reply_error (req, &err);
      return;
    }
  cleanup_strv char **args = NULL;
  strv_append (&args, "pull");
  strv_append (&args, "--progress");
  strv_append (&args, "json");
  const char *platform = api_query (req, "platform");
  if (platform && *platform)
    {
      strv_append (&args, "--platform");
      strv_append (&args, platform);
    }
  registry_args (ctx, &args);
  strv_append (&args, ref);
  tool_run *t = tool_start (req, args, -1, TOOL_RAW, true, &err);
  if (t == NULL)
    {
      api_reply_error (req, &err);
      return;
    }
  cleanup_free char *fam = image_reference_familiar (r);
  t->event_type = xstrdup ("image");
  t->event_action = xstrdup ("pull");
  t->event_id = xstrdup (fam);
  /* Docker answers with an HTTP error when a pull fails before it got
     anywhere (a 404 for an unknown image), and clients rely on it: hold
     the output back until a line shows progress (polis-image says
     "Pulling from" before it contacts the registry). */
  size_t cap = TOOL_CHUNK, n = 0;
  char *buf = xmalloc (cap);
  bool progress = false, eof = false;
  cleanup_free char *errmsg = NULL;
  size_t scanned = 0;
  while (!progress && !eof)
    {
      if (n + 4096 > cap)
        buf = xrealloc (buf, cap *= 2);
      ssize_t got = tool_read (t, buf + n, cap - n);
      if (got < 0)
        {
          free (buf);
          tool_free (t);
          api_reply_errorf (req, 500, "pull interrupted");
          return;
        }
      if (got == 0)
        eof = true;
      n += (size_t) got;
      char *nl;
      while (!progress && (nl = memchr (buf + scanned, '\n', n - scanned)))
        {
          cleanup_json json_t *j = json_loadb (buf + scanned,
                                               (size_t) (nl - buf) - scanned, 0, NULL);
          const char *status = json_string_value (json_object_get (j, "status"));
          const char *e = json_string_value (json_object_get (j, "error"));
          if (e)
            {
              free (errmsg);
              errmsg = xstrdup (e);
            }
          else if (status == NULL || strncmp (status, "Pulling from", 12) != 0)
            progress = true;
          scanned = (size_t) (nl - buf) + 1;
        }
    }
  if (!progress)
    {
      tool_reap (t);
      if (t->status != 0)
        {
          if (errmsg == NULL)
            errmsg = tool_error_message (t);
          free (buf);
          tool_free (t);
          api_reply_errorf (req, status_for_message (errmsg), "%s", errmsg);
          return;
        }
      t->eof = true;
      events_publish (engine_events (t->eng), "image", "pull", t->event_id,
                      json_pack ("{s:s}", "name", t->event_id));
    }
  if (n == 0)
    {
      free (buf);
      buf = NULL;
    }
  t->pre = buf;
  t->pre_len = n;
  api_reply_stream (req, 200, "application/json", tool_stream_read, t, tool_free);
}

static void
image_import (api_request *req)
{
  const char *src = api_query (req, "fromSrc");
  if (strcmp (src, "-") != 0)
    {
      api_reply_errorf (req, 400,
                        "import from a URL is not supported by polisd: send "
                        "the tar in the request body (fromSrc=-)");
      return;
    }
  const char *repo = api_query (req, "repo");
  const char *tag = api_query (req, "tag");
  cleanup_free char *name = NULL;
  if (repo && *repo)
    name = tag && *tag ? xasprintf ("%s:%s", repo, tag) : xstrdup (repo);
  cleanup_strv char **args = NULL;
  strv_append (&args, "import");
  const char *msg = api_query (req, "message");
  if (msg && *msg)
    {
      strv_append (&args, "-m");
      strv_append (&args, msg);
    }
  /* "changes" may be repeated. */
  const char *ch = api_query (req, "changes");
  if (ch && *ch)
    {
      strv_append (&args, "-c");
      strv_append (&args, ch);
    }
  strv_append (&args, "-");
  if (name)
    strv_append (&args, name);
  polis_error *err = NULL;
  tool_run *t = tool_start (req, args, api_body_fd (req), TOOL_RAW, false, &err);
  if (t == NULL)
    {
      api_reply_error (req, &err);
      return;
    }
  /* polis-image import prints the ID; Docker streams {"status": ID}. */
  char buf[256];
  size_t got = 0;
  for (;;)
    {
      ssize_t n = tool_read (t, buf + got, sizeof buf - 1 - got);
      if (n <= 0)
        break;
      got += (size_t) n;
    }
  buf[got] = '\0';
  tool_reap (t);
  if (t->status != 0)
    {
      cleanup_free char *m = tool_error_message (t);
      tool_free (t);
      api_reply_errorf (req, status_for_message (m), "%s", m);
      return;
    }
  tool_free (t);
  buf[strcspn (buf, "\n")] = '\0';
  events_publish (engine_events (api_context_of (req)->eng), "image", "import",
                  buf, json_pack ("{s:s}", "name", name ? name : buf));
  cleanup_json json_t *j = json_pack ("{s:s}", "status", buf);
  char *chunk;
  size_t len;
  api_json_chunk (j, &chunk, &len);
  api_reply_raw (req, 200, "application/json", chunk, len);
  free (chunk);
}

void
api_image_create (api_request *req)
{
  const char *from = api_query (req, "fromImage");
  const char *src = api_query (req, "fromSrc");
  if (from && *from)
    image_pull (req, from, api_query (req, "tag"));
  else if (src && *src)
    image_import (req);
  else
    api_reply_errorf (req, 400, "fromImage or fromSrc is required");
}

/* --- push, save, load ------------------------------------------------------------------- */

void
api_image_push (api_request *req)
{
  api_context *ctx = api_context_of (req);
  const char *tag = api_query (req, "tag");
  cleanup_free char *ref = tag && *tag ? xasprintf ("%s:%s", api_param (req), tag)
                                       : xstrdup (api_param (req));
  cleanup_strv char **args = NULL;
  strv_append (&args, "push");
  strv_append (&args, "--progress");
  strv_append (&args, "json");
  registry_args (ctx, &args);
  strv_append (&args, ref);
  polis_error *err = NULL;
  tool_run *t = tool_start (req, args, -1, TOOL_RAW, true, &err);
  if (t == NULL)
    {
      api_reply_error (req, &err);
      return;
    }
  t->event_type = xstrdup ("image");
  t->event_action = xstrdup ("push");
  t->event_id = xstrdup (ref);
  api_reply_stream (req, 200, "application/json", tool_stream_read, t, tool_free);
}

static int
resolve_only (void *ud, image_store *s, polis_error **err)
{
  char *id = image_store_resolve (s, ud, err);
  int r = id ? 0 : -1;
  free (id);
  return r;
}

static void
image_save (api_request *req, char **names)
{
  if (names == NULL || names[0] == NULL)
    {
      api_reply_errorf (req, 400, "no image names given");
      return;
    }
  /* Check the names first: a missing image is a 404, not a broken tar. */
  api_context *ctx = api_context_of (req);
  for (char **n = names; *n; n++)
    {
      polis_error *err = NULL;
      int r = engine_with_images (ctx->eng, resolve_only, *n, &err);
      if (r < 0)
        {
          api_reply_error (req, &err);
          return;
        }
    }
  cleanup_strv char **args = NULL;
  strv_append (&args, "save");
  for (char **n = names; *n; n++)
    strv_append (&args, *n);
  polis_error *err = NULL;
  tool_run *t = tool_start (req, args, -1, TOOL_RAW, false, &err);
  if (t == NULL)
    {
      api_reply_error (req, &err);
      return;
    }
  api_reply_stream (req, 200, "application/x-tar", tool_stream_read, t, tool_free);
}

void
api_image_get (api_request *req)
{
  char *names[] = { (char *) api_param (req), NULL };
  image_save (req, names);
}

void
api_image_get_all (api_request *req)
{
  cleanup_strv char **names = api_query_all (req, "names");
  image_save (req, names);
}

void
api_image_load (api_request *req)
{
  cleanup_strv char **args = NULL;
  strv_append (&args, "load");
  polis_error *err = NULL;
  tool_run *t = tool_start (req, args, api_body_fd (req), TOOL_LOAD_JSON, false, &err);
  if (t == NULL)
    {
      api_reply_error (req, &err);
      return;
    }
  t->event_type = xstrdup ("image");
  t->event_action = xstrdup ("load");
  t->event_id = xstrdup ("");
  api_reply_stream (req, 200, "application/json", tool_stream_read, t, tool_free);
}

/* --- list, inspect, history, tag, remove, prune ------------------------------------------ */

typedef struct
{
  api_request *req;
  json_t *out;
  json_t *filters;
  int version;
  engine *eng;
} list_args;

static bool
image_filter_match (json_t *filters, const char *key, bool (*fn) (const char *v, void *ud),
                    void *ud)
{
  json_t *f = json_object_get (filters, key);
  if (f == NULL)
    return true;
  const char *k;
  json_t *v;
  size_t i;
  bool any = false, hit = false;
  if (json_is_object (f))
    json_object_foreach (f, k, v)
    {
      any = true;
      hit = hit || fn (k, ud);
    }
  else
    json_array_foreach (f, i, v)
    {
      any = true;
      hit = hit || fn (json_string_value (v), ud);
    }
  return !any || hit;
}

typedef struct
{
  image_record *rec;
  json_t *labels;
} image_ctx;

static bool
match_reference (const char *v, void *ud)
{
  image_ctx *ic = ud;
  for (char **n = ic->rec->names; n && *n; n++)
    {
      cleanup_free char *fam = image_reference_familiarize (*n);
      if (fnmatch (v, fam, 0) == 0)
        return true;
      char *colon = strrchr (fam, ':');
      if (colon && !strchr (v, ':'))
        {
          *colon = '\0';
          if (fnmatch (v, fam, 0) == 0)
            return true;
        }
    }
  return false;
}

static bool
match_dangling (const char *v, void *ud)
{
  image_ctx *ic = ud;
  bool dangling = true;
  for (char **n = ic->rec->names; n && *n; n++)
    if (!strchr (*n, '@'))
      dangling = false;
  return (strcmp (v, "true") == 0 || strcmp (v, "1") == 0) == dangling;
}

static bool
match_label (const char *v, void *ud)
{
  image_ctx *ic = ud;
  const char *eq = strchr (v, '=');
  cleanup_free char *k = eq ? xstrndup (v, (size_t) (eq - v)) : xstrdup (v);
  json_t *lv = json_object_get (ic->labels, k);
  return lv && (eq == NULL || strcmp (json_string_value (lv), eq + 1) == 0);
}

static int
list_images (void *ud, image_store *s, polis_error **err)
{
  list_args *a = ud;
  cleanup_image_record_list image_record **list = image_db_list (s->db, err);
  if (list == NULL)
    return -1;
  for (image_record **p = list; *p; p++)
    {
      image_record *rec = *p;
      polis_error *e = NULL;
      cleanup_json json_t *ins = image_inspect_json (s, rec->id, &e);
      error_free (&e);
      json_t *cfg = ins ? json_object_get (ins, "Config") : NULL;
      json_t *labels = json_object_get (cfg, "Labels");
      image_ctx ic = { rec, labels };
      if (!image_filter_match (a->filters, "reference", match_reference, &ic)
          || !image_filter_match (a->filters, "dangling", match_dangling, &ic)
          || !image_filter_match (a->filters, "label", match_label, &ic))
        continue;
      json_t *tags = json_array (), *digests = json_array ();
      for (char **n = rec->names; n && *n; n++)
        {
          cleanup_free char *fam = image_reference_familiarize (*n);
          json_array_append_new (strchr (*n, '@') ? digests : tags, json_string (fam));
        }
      json_t *o = json_pack (
          "{s:s,s:s,s:o,s:o,s:I,s:I,s:I,s:o,s:i}", "Id", rec->id, "ParentId", "",
          "RepoTags", tags, "RepoDigests", digests, "Created",
          (json_int_t) image_inspect_parse_time (rec->created), "Size",
          (json_int_t) rec->size, "SharedSize", (json_int_t) -1, "Labels",
          json_is_object (labels) ? json_incref (labels) : json_object (), "Containers",
          engine_image_users (a->eng, rec->id));
      if (a->version < 144)
        json_object_set_new (o, "VirtualSize", json_integer (rec->size));
      json_array_append_new (a->out, o);
    }
  return 0;
}

void
api_image_list (api_request *req)
{
  api_context *ctx = api_context_of (req);
  cleanup_json json_t *filters = NULL;
  if (api_filters (req, &filters) < 0)
    return;
  const char *k;
  json_t *v;
  json_object_foreach (filters, k, v)
    if (strcmp (k, "reference") != 0 && strcmp (k, "dangling") != 0
        && strcmp (k, "label") != 0 && strcmp (k, "before") != 0
        && strcmp (k, "since") != 0 && strcmp (k, "until") != 0)
      {
        api_reply_errorf (req, 400, "invalid filter '%s'", k);
        return;
      }
  list_args a = { req, json_array (), filters, api_version (req), ctx->eng };
  polis_error *err = NULL;
  if (engine_with_images (ctx->eng, list_images, &a, &err) < 0)
    {
      json_decref (a.out);
      api_reply_error (req, &err);
      return;
    }
  api_reply_json (req, 200, a.out);
}

typedef struct
{
  const char *ref;
  json_t *result;
  bool history;
} inspect_args;

static int
inspect_image (void *ud, image_store *s, polis_error **err)
{
  inspect_args *a = ud;
  cleanup_free char *id = image_store_resolve (s, a->ref, err);
  if (id == NULL)
    return -1;
  a->result = a->history ? image_inspect_history (s, id, err)
                         : image_inspect_json (s, id, err);
  if (a->result && !a->history)
    {
      json_object_del (a->result, "ManifestDigest");
      json_object_del (a->result, "ManifestMediaType");
      json_object_set_new (a->result, "Container", json_string (""));
      /* Go clients parse these as times: never an empty string. */
      json_t *gd = json_object_get (json_object_get (a->result, "GraphDriver"), "Data");
      json_t *lower = json_object_get (gd, "LowerDir");
      if (json_is_array (lower))
        {
          /* Docker's GraphDriver.Data is map[string]string: "a:b:c". */
          size_t i, len = 1;
          json_t *v;
          json_array_foreach (lower, i, v)
            len += strlen (json_string_value (v)) + 1;
          cleanup_free char *joined = xzalloc (len);
          size_t o = 0;
          json_array_foreach (lower, i, v)
            o += (size_t) snprintf (joined + o, len - o, "%s%s", i ? ":" : "",
                                    json_string_value (v));
          json_object_set_new (gd, "LowerDir", json_string (joined));
        }
      json_t *md = json_object_get (a->result, "Metadata");
      const char *ltt = json_string_value (json_object_get (md, "LastTagTime"));
      if (md && (ltt == NULL || *ltt == '\0'))
        json_object_set_new (md, "LastTagTime", json_string ("0001-01-01T00:00:00Z"));
    }
  return a->result ? 0 : -1;
}

static void
inspect_common (api_request *req, bool history)
{
  inspect_args a = { api_param (req), NULL, history };
  polis_error *err = NULL;
  if (engine_with_images (api_context_of (req)->eng, inspect_image, &a, &err) < 0)
    api_reply_error (req, &err);
  else
    api_reply_json (req, 200, a.result);
}

void
api_image_inspect (api_request *req)
{
  inspect_common (req, false);
}

void
api_image_history (api_request *req)
{
  inspect_common (req, true);
}

typedef struct
{
  const char *source, *target;
} tag_args;

static int
tag_image (void *ud, image_store *s, polis_error **err)
{
  tag_args *a = ud;
  return image_store_tag (s, a->source, a->target, err);
}

void
api_image_tag (api_request *req)
{
  const char *repo = api_query (req, "repo");
  const char *tag = api_query (req, "tag");
  if (repo == NULL || *repo == '\0')
    {
      api_reply_errorf (req, 400, "repository name must have at least one component");
      return;
    }
  cleanup_free char *target = tag && *tag ? xasprintf ("%s:%s", repo, tag) : xstrdup (repo);
  tag_args a = { api_param (req), target };
  polis_error *err = NULL;
  if (engine_with_images (api_context_of (req)->eng, tag_image, &a, &err) < 0)
    {
      api_reply_error (req, &err);
      return;
    }
  cleanup_reference image_reference *r = image_reference_parse (target, NULL);
  cleanup_free char *fam = r ? image_reference_familiar (r) : xstrdup (target);
  events_publish (engine_events (api_context_of (req)->eng), "image", "tag", fam,
                  json_pack ("{s:s}", "name", fam));
  api_reply_empty (req, 201);
}

typedef struct
{
  const char *ref;
  bool force;
  char **report;
  bool prune;
  bool prune_all;
} remove_args;

static int
remove_image (void *ud, image_store *s, polis_error **err)
{
  remove_args *a = ud;
  a->report = xzalloc (sizeof (char *));
  if (a->prune)
    return image_store_prune (s, a->prune_all, &a->report, err);
  return image_store_remove (s, a->ref, a->force, &a->report, err);
}

static json_t *
report_json (engine *eng, char **report)
{
  json_t *out = json_array ();
  for (char **r = report; r && *r; r++)
    {
      const char *colon = strchr (*r, ':');
      if (colon == NULL)
        continue;
      cleanup_free char *k = xstrndup (*r, (size_t) (colon - *r));
      const char *v = colon + 1;
      while (*v == ' ')
        v++;
      json_array_append_new (out, json_pack ("{s:s}", k, v));
      bool untag = strcmp (k, "Untagged") == 0;
      events_publish (engine_events (eng), "image", untag ? "untag" : "delete", v,
                      json_pack ("{s:s}", "name", v));
    }
  return out;
}

void
api_image_remove (api_request *req)
{
  api_context *ctx = api_context_of (req);
  remove_args a = { api_param (req), api_query_bool (req, "force"), NULL, false };
  polis_error *err = NULL;
  int r = engine_with_images (ctx->eng, remove_image, &a, &err);
  cleanup_strv char **report = a.report;
  if (r < 0)
    {
      api_reply_error (req, &err);
      return;
    }
  api_reply_json (req, 200, report_json (ctx->eng, report));
}

/* `docker image prune -a` sends dangling=false: every unused image, not
   only untagged ones.  Filters come as {"dangling":{"false":true}} or, from
   old clients, {"dangling":["false"]}. */
static bool
prune_dangling_false (json_t *filters)
{
  json_t *d = filters ? json_object_get (filters, "dangling") : NULL;
  if (json_is_object (d))
    return json_is_true (json_object_get (d, "false"))
           || json_is_true (json_object_get (d, "0"));
  size_t i;
  json_t *v;
  json_array_foreach (d, i, v)
    if (json_is_string (v)
        && (strcmp (json_string_value (v), "false") == 0
            || strcmp (json_string_value (v), "0") == 0))
      return true;
  return false;
}

void
api_image_prune (api_request *req)
{
  api_context *ctx = api_context_of (req);
  cleanup_json json_t *filters = NULL;
  if (api_filters (req, &filters) < 0)
    return;
  remove_args a = { NULL, false, NULL, true, prune_dangling_false (filters) };
  polis_error *err = NULL;
  int r = engine_with_images (ctx->eng, remove_image, &a, &err);
  cleanup_strv char **report = a.report;
  if (r < 0)
    {
      api_reply_error (req, &err);
      return;
    }
  json_t *deleted = report_json (ctx->eng, report);
  api_reply_json (req, 200, json_pack ("{s:o,s:I}", "ImagesDeleted", deleted,
                                       "SpaceReclaimed", (json_int_t) 0));
}
