/* cmd_image.c - images, pull, push, rmi, tag, save, load, import,
 * history, image prune; and the rendering of the JSON message streams
 * (pull/push/load progress) as docker's jsonmessage package draws them:
 * one line per layer id, redrawn in place on a terminal; plain lines,
 * without the byte counts, otherwise. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/file.h"
#include "base/pjson.h"
#include "base/xalloc.h"
#include "cli/cli.h"
#include "cli/units.h"

/* Longest JSON message accepted in a progress stream. */
#define JSONMSG_MAX (1024 * 1024)

typedef struct
{
  char **ids; /* layer ids in the order of their lines */
  size_t n;
} jsonmsg_layout;

static void
jsonmsg_reset (jsonmsg_layout *l)
{
  for (size_t i = 0; i < l->n; i++)
    free (l->ids[i]);
  free (l->ids);
  l->ids = NULL;
  l->n = 0;
}

/* Display one message; -1 with the message's error for an errorDetail. */
static int
jsonmsg_display (jsonmsg_layout *l, json_t *m, FILE *out, bool term,
                 bool *saw_aux, polis_error **err)
{
  json_t *ed = json_object_get (m, "errorDetail");
  if (ed)
    {
      const char *msg = json_string_value (json_object_get (ed, "message"));
      return error_set (err, ERROR_INTERNAL, 0, "%s", msg ? msg : "unknown error");
    }
  if (json_object_get (m, "aux") && saw_aux)
    *saw_aux = true;
  const char *id = json_string_value (json_object_get (m, "id"));
  const char *status = json_string_value (json_object_get (m, "status"));
  const char *stream = json_string_value (json_object_get (m, "stream"));
  const char *progress = json_string_value (json_object_get (m, "progress"));
  json_t *detail = json_object_get (m, "progressDetail");
  bool has_progress = detail != NULL || (progress && *progress);
  size_t diff = 0;
  if (id && *id && has_progress)
    {
      size_t line = l->n;
      for (size_t i = 0; i < l->n; i++)
        if (strcmp (l->ids[i], id) == 0)
          line = i;
      if (line == l->n)
        {
          l->ids = xreallocarray (l->ids, l->n + 1, sizeof (char *));
          l->ids[l->n++] = xstrdup (id);
          if (term)
            fputc ('\n', out);
        }
      diff = l->n - line;
      if (term && diff)
        fprintf (out, "\033[%zuA", diff);
    }
  else
    jsonmsg_reset (l);

  json_int_t cur = json_integer_value (json_object_get (detail, "current"));
  json_int_t tot = json_integer_value (json_object_get (detail, "total"));
  bool bytes = cur > 0 || tot > 0;
  const char *endl = "";
  if (term && !stream && detail)
    {
      fputs ("\033[2K\r", out);
      endl = "\r";
    }
  else if (!term && detail && bytes)
    return 0; /* byte counts only make sense redrawn in place */
  if (id && *id)
    fprintf (out, "%s: ", id);
  if (term && detail)
    {
      cleanup_free char *p = NULL;
      if (progress && *progress)
        p = xstrdup (progress);
      else if (bytes && tot <= 0)
        p = units_human_size ((double) cur, 4);
      else
        p = xstrdup ("");
      fprintf (out, "%s %s%s", status ? status : "", p, endl);
    }
  else if (progress && *progress)
    fprintf (out, "%s %s%s", status ? status : "", progress, endl);
  else if (stream)
    fprintf (out, "%s%s", stream, endl);
  else
    fprintf (out, "%s%s\n", status ? status : "", endl);
  if (id && *id && term && diff)
    fprintf (out, "\033[%zuB", diff);
  fflush (out);
  return 0;
}

/* Read a stream of JSON messages from CONN and display them on OUT.
   QUIET shows nothing (errors still fail). */
static int
jsonmsg_stream (http_conn *conn, FILE *out, bool quiet, polis_error **err)
{
  jsonmsg_layout l = { 0 };
  bool term = isatty (fileno (out));
  size_t cap = 65536, have = 0;
  cleanup_free char *buf = xmalloc (cap);
  int ret = 0;
  bool aux = false;
  for (;;)
    {
      if (cap - have < 4096)
        {
          if (cap >= JSONMSG_MAX)
            {
              ret = error_set (err, ERROR_INVALID, E2BIG, "progress message too large");
              break;
            }
          buf = xrealloc (buf, cap *= 2);
        }
      ssize_t n = http_conn_read_body (conn, buf + have, cap - have - 1, err);
      if (n < 0)
        {
          ret = -1;
          break;
        }
      have += (size_t) n;
      buf[have] = '\0';
      /* Parse as many complete objects as the buffer holds. */
      size_t off = 0;
      for (;;)
        {
          while (off < have && (buf[off] == '\r' || buf[off] == '\n' || buf[off] == ' '))
            off++;
          if (off >= have)
            break;
          json_error_t jerr;
          json_t *m = json_loadb (buf + off, have - off, JSON_DISABLE_EOF_CHECK, &jerr);
          if (m == NULL)
            break;
          off += jerr.position;
          int r = quiet ? 0 : jsonmsg_display (&l, m, out, term, &aux, err);
          if (quiet && json_object_get (m, "errorDetail"))
            r = jsonmsg_display (&l, m, out, term, &aux, err);
          json_decref (m);
          if (r < 0)
            {
              ret = -1;
              goto done;
            }
        }
      memmove (buf, buf + off, have - off);
      have -= off;
      if (n == 0)
        break;
    }
done:
  jsonmsg_reset (&l);
  return ret;
}

void
cli_split_reference (const char *ref, char **name, char **tag)
{
  cleanup_free char *r = xstrdup (ref);
  char *digest = strchr (r, '@');
  const char *t = "latest";
  if (digest)
    {
      *digest = '\0';
      t = digest + 1;
    }
  else
    {
      char *slash = strrchr (r, '/');
      char *colon = strrchr (r, ':');
      if (colon && (slash == NULL || colon > slash))
        {
          *colon = '\0';
          t = colon + 1;
        }
    }
  const char *slash = strchr (r, '/');
  bool has_domain = slash && (memchr (r, '.', (size_t) (slash - r))
                              || memchr (r, ':', (size_t) (slash - r))
                              || strncmp (r, "localhost/", 10) == 0);
  if (has_domain)
    *name = xstrdup (r);
  else if (slash)
    *name = xasprintf ("docker.io/%s", r);
  else
    *name = xasprintf ("docker.io/library/%s", r);
  *tag = xstrdup (t);
}

int
cli_pull_image (cli_ctx *ctx, const char *image, const char *platform,
                bool quiet, FILE *out, polis_error **err)
{
  cleanup_free char *name = NULL, *tag = NULL;
  cli_split_reference (image, &name, &tag);
  cleanup_free char *p = xstrdup ("/images/create");
  client_query_add (&p, "fromImage", name);
  if (platform)
    client_query_add (&p, "platform", platform);
  client_query_add (&p, "tag", tag);
  const char *hdrs[] = { "X-Registry-Auth: e30=", NULL };
  cleanup_http_conn http_conn *conn = client_send (ctx->client, "POST", p, NULL, hdrs, err);
  if (conn == NULL || client_check (conn, err) < 0)
    return -1;
  return jsonmsg_stream (conn, out, quiet, err);
}

int
cmd_pull (cli_ctx *ctx, int argc, char **argv)
{
  bool quiet = false, all_tags = false;
  const char *platform = NULL;
  const opt_def defs[] = {
    { "quiet", 'q', OPT_BOOL, &quiet, "Suppress verbose output" },
    { "all-tags", 'a', OPT_BOOL, &all_tags, "Download all tagged images in the repository" },
    { "platform", 0, OPT_STRING, &platform, "Set platform if server is multi-platform capable" },
    { NULL, 0, 0, NULL, NULL },
  };
  cleanup_strv char **pos = NULL;
  int r = cli_parse (ctx, defs, argc, argv, false, 1, 1, &pos);
  if (r != 0)
    return r;
  if (all_tags)
    return cli_fail (1, "polis: pull --all-tags is not supported");
  cleanup_free char *name = NULL, *tag = NULL;
  cli_split_reference (pos[0], &name, &tag);
  bool tagged = strchr (pos[0], '@') != NULL;
  const char *slash = strrchr (pos[0], '/');
  const char *colon = strrchr (pos[0], ':');
  if (colon && (slash == NULL || colon > slash))
    tagged = true;
  if (!tagged && !quiet)
    printf ("Using default tag: latest\n");
  fflush (stdout);
  cleanup_error polis_error *err = NULL;
  if (cli_pull_image (ctx, pos[0], platform, quiet, stdout, &err) < 0)
    return cli_error (ctx, err);
  printf ("%s%s%s\n", name, strncmp (tag, "sha256:", 7) == 0 ? "@" : ":", tag);
  return 0;
}

int
cmd_push (cli_ctx *ctx, int argc, char **argv)
{
  bool quiet = false, all_tags = false;
  const opt_def defs[] = {
    { "quiet", 'q', OPT_BOOL, &quiet, "Suppress verbose output" },
    { "all-tags", 'a', OPT_BOOL, &all_tags, "Push all tags of an image to the repository" },
    { NULL, 0, 0, NULL, NULL },
  };
  cleanup_strv char **pos = NULL;
  int r = cli_parse (ctx, defs, argc, argv, false, 1, 1, &pos);
  if (r != 0)
    return r;
  cleanup_free char *name = NULL, *tag = NULL;
  cli_split_reference (pos[0], &name, &tag);
  const char *fam = strncmp (name, "docker.io/library/", 18) == 0 ? name + 18 : name;
  cleanup_free char *p = client_path ("/images/%s/push", fam);
  if (!all_tags)
    client_query_add (&p, "tag", tag);
  const char *hdrs[] = { "X-Registry-Auth: e30=", NULL };
  cleanup_error polis_error *err = NULL;
  cleanup_http_conn http_conn *conn = client_send (ctx->client, "POST", p, NULL, hdrs, &err);
  if (conn == NULL || client_check (conn, &err) < 0)
    return cli_error (ctx, err);
  if (jsonmsg_stream (conn, stdout, quiet, &err) < 0)
    return cli_error (ctx, err);
  if (quiet)
    printf ("%s:%s\n", name, tag);
  return 0;
}

static const char images_headers[]
    = "{\"Repository\":\"REPOSITORY\",\"Tag\":\"TAG\",\"ID\":\"IMAGE ID\","
      "\"Digest\":\"DIGEST\",\"CreatedSince\":\"CREATED\",\"CreatedAt\":"
      "\"CREATED AT\",\"Size\":\"SIZE\",\"Containers\":\"CONTAINERS\","
      "\"SharedSize\":\"SHARED SIZE\",\"UniqueSize\":\"UNIQUE SIZE\","
      "\"VirtualSize\":\"VIRTUAL SIZE\"}";

static json_t *
image_row (json_t *img, const char *repo, const char *tag, const char *digest,
           bool trunc)
{
  json_t *row = json_object ();
  const char *id = json_string_value (json_object_get (img, "Id"));
  cleanup_free char *sid = trunc ? cli_short_id (id) : xstrdup (id ? id : "");
  json_object_set_new (row, "ID", json_string (sid));
  json_object_set_new (row, "Repository", json_string (repo));
  json_object_set_new (row, "Tag", json_string (tag));
  json_object_set_new (row, "Digest", json_string (digest));
  json_int_t created = json_integer_value (json_object_get (img, "Created"));
  cleanup_free char *dur = units_human_duration ((double) (units_now_ns () / 1000000000LL - created));
  cleanup_free char *since = xasprintf ("%s ago", dur);
  json_object_set_new (row, "CreatedSince", json_string (since));
  cleanup_free char *at = units_time_string (created);
  json_object_set_new (row, "CreatedAt", json_string (at));
  json_int_t size = json_integer_value (json_object_get (img, "Size"));
  cleanup_free char *s = units_human_size ((double) size, 3);
  json_object_set_new (row, "Size", json_string (s));
  cleanup_free char *vs = units_human_size ((double) size, 4);
  json_object_set_new (row, "VirtualSize", json_string (vs));
  json_int_t shared = json_integer_value (json_object_get (img, "SharedSize"));
  cleanup_free char *ss = shared >= 0 ? units_human_size ((double) shared, 3) : xstrdup ("N/A");
  json_object_set_new (row, "SharedSize", json_string (ss));
  cleanup_free char *us = shared < 0 ? xstrdup ("N/A")
                                     : units_human_size ((double) (size - shared), 4);
  json_object_set_new (row, "UniqueSize", json_string (us));
  json_int_t ctrs = json_integer_value (json_object_get (img, "Containers"));
  cleanup_free char *cs = ctrs >= 0 ? xasprintf ("%lld", (long long) ctrs) : xstrdup ("N/A");
  json_object_set_new (row, "Containers", json_string (cs));
  return row;
}

int
cmd_images (cli_ctx *ctx, int argc, char **argv)
{
  bool all = false, quiet = false, no_trunc = false, digests = false;
  const char *format = NULL;
  cleanup_strv char **filters = NULL;
  const opt_def defs[] = {
    { "all", 'a', OPT_BOOL, &all, "Show all images (default hides intermediate images)" },
    { "quiet", 'q', OPT_BOOL, &quiet, "Only show image IDs" },
    { "no-trunc", 0, OPT_BOOL, &no_trunc, "Don't truncate output" },
    { "digests", 0, OPT_BOOL, &digests, "Show digests" },
    { "filter", 'f', OPT_STRV, &filters, "Filter output based on conditions provided" },
    { "format", 0, OPT_STRING, &format, "Format output using a custom template" },
    { NULL, 0, 0, NULL, NULL },
  };
  cleanup_strv char **pos = NULL;
  int r = cli_parse (ctx, defs, argc, argv, false, 0, 1, &pos);
  if (r != 0)
    return r;
  if (pos[0])
    {
      cleanup_free char *rf = xasprintf ("reference=%s", pos[0]);
      strv_append (&filters, rf);
    }
  cleanup_free char *path = xstrdup ("/images/json");
  if (all)
    client_query_add (&path, "all", "1");
  cli_add_filters (&path, filters);
  const char *def = digests ? "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
                            : "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}";
  cleanup_formatter cli_formatter *f = NULL;
  cleanup_json json_t *list = NULL;
  r = cli_list_get (ctx, path, format, quiet, "{{.ID}}", def, images_headers, &list, &f);
  if (r != 0)
    return r;
  cleanup_error polis_error *err = NULL;
  for (size_t i = 0; i < json_array_size (list); i++)
    {
      json_t *img = json_array_get (list, i);
      json_t *tags = json_object_get (img, "RepoTags");
      json_t *dg = json_object_get (img, "RepoDigests");
      size_t nt = json_array_size (tags);
      size_t emitted = 0;
      for (size_t t = 0; t < nt; t++)
        {
          const char *rt = json_string_value (json_array_get (tags, t));
          if (rt == NULL || strcmp (rt, "<none>:<none>") == 0)
            continue;
          const char *colon = strrchr (rt, ':');
          const char *slash = strrchr (rt, '/');
          cleanup_free char *repo = NULL;
          const char *tag = "<none>";
          if (colon && (slash == NULL || colon > slash))
            {
              repo = xstrndup (rt, (size_t) (colon - rt));
              tag = colon + 1;
            }
          else
            repo = xstrdup (rt);
          /* The digest shown is the one recorded for this repository. */
          const char *digest = "<none>";
          for (size_t k = 0; digests && k < json_array_size (dg); k++)
            {
              const char *d = json_string_value (json_array_get (dg, k));
              const char *at = d ? strchr (d, '@') : NULL;
              if (at && (size_t) (at - d) == strlen (repo) && strncmp (d, repo, strlen (repo)) == 0)
                digest = at + 1;
            }
          cleanup_free char *frepo = cli_familiar (repo);
          cleanup_json json_t *row = image_row (img, frepo, tag, digest, !no_trunc);
          if (cli_formatter_row (f, row, &err) < 0)
            return cli_error (ctx, err);
          emitted++;
        }
      if (emitted == 0)
        {
          /* Digest-only references get a row of their own. */
          const char *digest = "<none>";
          const char *d = json_string_value (json_array_get (dg, 0));
          const char *at = d ? strchr (d, '@') : NULL;
          cleanup_free char *repo = at ? xstrndup (d, (size_t) (at - d)) : xstrdup ("<none>");
          cleanup_free char *frepo = cli_familiar (repo);
          if (at && digests)
            digest = at + 1;
          cleanup_json json_t *row = image_row (img, frepo, "<none>", digest, !no_trunc);
          if (cli_formatter_row (f, row, &err) < 0)
            return cli_error (ctx, err);
        }
    }
  return cli_list_flush (ctx, f);
}

int
cmd_rmi (cli_ctx *ctx, int argc, char **argv)
{
  bool force = false, no_prune = false;
  const opt_def defs[] = {
    { "force", 'f', OPT_BOOL, &force, "Force removal of the image" },
    { "no-prune", 0, OPT_BOOL, &no_prune, "Do not delete untagged parents" },
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
      cleanup_free char *p = client_path ("/images/%s", *a);
      if (force)
        client_query_add (&p, "force", "1");
      if (no_prune)
        client_query_add (&p, "noprune", "1");
      cleanup_json json_t *j = NULL;
      if (client_call (ctx->client, "DELETE", p, NULL, &j, &err) < 0)
        {
          fprintf (stderr, "%s\n", err->msg);
          status = 1;
          continue;
        }
      for (size_t i = 0; i < json_array_size (j); i++)
        {
          json_t *e = json_array_get (j, i);
          const char *u = json_string_value (json_object_get (e, "Untagged"));
          const char *d = json_string_value (json_object_get (e, "Deleted"));
          if (u)
            printf ("Untagged: %s\n", u);
          if (d)
            printf ("Deleted: %s\n", d);
        }
    }
  return status;
}

int
cmd_tag (cli_ctx *ctx, int argc, char **argv)
{
  const opt_def defs[] = { { NULL, 0, 0, NULL, NULL } };
  cleanup_strv char **pos = NULL;
  int r = cli_parse (ctx, defs, argc, argv, false, 2, 2, &pos);
  if (r != 0)
    return r;
  cleanup_free char *name = NULL, *tag = NULL;
  cli_split_reference (pos[1], &name, &tag);
  cleanup_free char *p = client_path ("/images/%s/tag", pos[0]);
  client_query_add (&p, "repo", name);
  client_query_add (&p, "tag", tag);
  cleanup_error polis_error *err = NULL;
  if (client_call (ctx->client, "POST", p, NULL, NULL, &err) < 0)
    return cli_error (ctx, err);
  return 0;
}

/* Copy a response body to FD. */
static int
body_to_fd (http_conn *conn, int fd, polis_error **err)
{
  char buf[65536];
  for (;;)
    {
      ssize_t n = http_conn_read_body (conn, buf, sizeof buf, err);
      if (n < 0)
        return -1;
      if (n == 0)
        return 0;
      if (file_write_all (fd, buf, (size_t) n, err) < 0)
        return -1;
    }
}

int
cmd_save (cli_ctx *ctx, int argc, char **argv)
{
  const char *output = NULL;
  const opt_def defs[] = {
    { "output", 'o', OPT_STRING, &output, "Write to a file, instead of STDOUT" },
    { NULL, 0, 0, NULL, NULL },
  };
  cleanup_strv char **pos = NULL;
  int r = cli_parse (ctx, defs, argc, argv, false, 1, -1, &pos);
  if (r != 0)
    return r;
  if (output == NULL && isatty (STDOUT_FILENO))
    return cli_fail (1, "cowardly refusing to save to a terminal. Use the -o flag or redirect");
  cleanup_free char *p = xstrdup ("/images/get");
  for (char **a = pos; *a; a++)
    client_query_add (&p, "names", *a);
  cleanup_error polis_error *err = NULL;
  cleanup_http_conn http_conn *conn = client_send (ctx->client, "GET", p, NULL, NULL, &err);
  if (conn == NULL || client_check (conn, &err) < 0)
    return cli_error (ctx, err);
  cleanup_close int fd = -1;
  if (output)
    {
      fd = open (output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (fd < 0)
        return cli_fail (1, "failed to save image: %s: %s", output, strerror (errno));
    }
  if (body_to_fd (conn, output ? fd : STDOUT_FILENO, &err) < 0)
    return cli_error (ctx, err);
  return 0;
}

int
cmd_load (cli_ctx *ctx, int argc, char **argv)
{
  const char *input = NULL;
  bool quiet = false;
  const opt_def defs[] = {
    { "input", 'i', OPT_STRING, &input, "Read from tar archive file, instead of STDIN" },
    { "quiet", 'q', OPT_BOOL, &quiet, "Suppress the load output" },
    { NULL, 0, 0, NULL, NULL },
  };
  cleanup_strv char **pos = NULL;
  int r = cli_parse (ctx, defs, argc, argv, false, 0, 0, &pos);
  if (r != 0)
    return r;
  cleanup_close int fd = -1;
  if (input)
    {
      fd = open (input, O_RDONLY | O_CLOEXEC);
      if (fd < 0)
        return cli_fail (1, "open %s: %s", input, strerror (errno));
    }
  else if (isatty (STDIN_FILENO))
    return cli_fail (1, "requested load from stdin, but stdin is empty");
  cleanup_error polis_error *err = NULL;
  cleanup_http_conn http_conn *conn = client_send_fd (ctx->client, "POST",
                                                      quiet ? "/images/load?quiet=1" : "/images/load",
                                                      input ? fd : STDIN_FILENO, NULL, NULL, &err);
  if (conn == NULL || client_check (conn, &err) < 0)
    return cli_error (ctx, err);
  if (jsonmsg_stream (conn, stdout, false, &err) < 0)
    return cli_error (ctx, err);
  return 0;
}

int
cmd_import (cli_ctx *ctx, int argc, char **argv)
{
  const char *message = NULL, *platform = NULL;
  cleanup_strv char **changes = NULL;
  const opt_def defs[] = {
    { "change", 'c', OPT_STRV, &changes, "Apply Dockerfile instruction to the created image" },
    { "message", 'm', OPT_STRING, &message, "Set commit message for imported image" },
    { "platform", 0, OPT_STRING, &platform, "Set platform if server is multi-platform capable" },
    { NULL, 0, 0, NULL, NULL },
  };
  cleanup_strv char **pos = NULL;
  int r = cli_parse (ctx, defs, argc, argv, false, 1, 2, &pos);
  if (r != 0)
    return r;
  cleanup_free char *p = xstrdup ("/images/create");
  for (char **c = changes; c && *c; c++)
    client_query_add (&p, "changes", *c);
  client_query_add (&p, "fromSrc", strcmp (pos[0], "-") == 0 ? "-" : pos[0]);
  if (message)
    client_query_add (&p, "message", message);
  if (platform)
    client_query_add (&p, "platform", platform);
  if (pos[1])
    {
      cleanup_free char *name = NULL, *tag = NULL;
      cli_split_reference (pos[1], &name, &tag);
      client_query_add (&p, "repo", pos[1]);
      (void) tag;
    }
  cleanup_close int fd = -1;
  bool remote = strstr (pos[0], "://") != NULL;
  if (!remote && strcmp (pos[0], "-") != 0)
    {
      fd = open (pos[0], O_RDONLY | O_CLOEXEC);
      if (fd < 0)
        return cli_fail (1, "open %s: %s", pos[0], strerror (errno));
      /* The file's content goes as the body, as docker sends it. */
      char *np = NULL;
      cleanup_free char *old = steal_pointer (&p);
      char *at = strstr (old, "fromSrc=");
      size_t pre = (size_t) (at - old);
      const char *rest = strchr (at, '&');
      np = xasprintf ("%.*sfromSrc=-%s", (int) pre, old, rest ? rest : "");
      p = np;
    }
  cleanup_error polis_error *err = NULL;
  cleanup_http_conn http_conn *conn = NULL;
  if (remote)
    conn = client_send (ctx->client, "POST", p, NULL, NULL, &err);
  else
    conn = client_send_fd (ctx->client, "POST", p, fd >= 0 ? fd : STDIN_FILENO, NULL, NULL, &err);
  if (conn == NULL || client_check (conn, &err) < 0)
    return cli_error (ctx, err);
  if (jsonmsg_stream (conn, stdout, false, &err) < 0)
    return cli_error (ctx, err);
  return 0;
}

static const char history_headers[]
    = "{\"ID\":\"IMAGE\",\"CreatedSince\":\"CREATED\",\"CreatedAt\":\"CREATED AT\","
      "\"CreatedBy\":\"CREATED BY\",\"Size\":\"SIZE\",\"Comment\":\"COMMENT\"}";

int
cmd_history (cli_ctx *ctx, int argc, char **argv)
{
  bool quiet = false, no_trunc = false, human = true;
  const char *format = NULL;
  const opt_def defs[] = {
    { "quiet", 'q', OPT_BOOL, &quiet, "Only show image IDs" },
    { "no-trunc", 0, OPT_BOOL, &no_trunc, "Don't truncate output" },
    { "human", 'H', OPT_BOOL, &human, "Print sizes and dates in human readable format (default true)" },
    { "format", 0, OPT_STRING, &format, "Format output using a custom template" },
    { NULL, 0, 0, NULL, NULL },
  };
  cleanup_strv char **pos = NULL;
  int r = cli_parse (ctx, defs, argc, argv, false, 1, 1, &pos);
  if (r != 0)
    return r;
  cleanup_free char *p = client_path ("/images/%s/history", pos[0]);
  cleanup_formatter cli_formatter *f = NULL;
  cleanup_json json_t *list = NULL;
  r = cli_list_get (ctx, p, format, quiet, "{{.ID}}",
                    "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}",
                    history_headers, &list, &f);
  if (r != 0)
    return r;
  cleanup_error polis_error *err = NULL;
  for (size_t i = 0; i < json_array_size (list); i++)
    {
      json_t *h = json_array_get (list, i);
      cleanup_json json_t *row = json_object ();
      const char *id = json_string_value (json_object_get (h, "Id"));
      cleanup_free char *sid = id == NULL || strcmp (id, "<missing>") == 0 ? xstrdup ("<missing>")
                               : no_trunc                                 ? xstrdup (id)
                                                                          : cli_short_id (id);
      json_object_set_new (row, "ID", json_string (sid));
      json_int_t created = json_integer_value (json_object_get (h, "Created"));
      cleanup_free char *dur = units_human_duration ((double) (units_now_ns () / 1000000000LL - created));
      cleanup_free char *since = human ? xasprintf ("%s ago", dur) : units_time_string (created);
      json_object_set_new (row, "CreatedSince", json_string (since));
      cleanup_free char *at = units_time_string (created);
      json_object_set_new (row, "CreatedAt", json_string (at));
      const char *by = json_string_value (json_object_get (h, "CreatedBy"));
      cleanup_free char *b = xstrdup (by ? by : "");
      for (char *q = b; *q; q++)
        if (*q == '\t')
          *q = ' ';
      if (!no_trunc && strlen (b) > 45)
        {
          size_t keep = 44;
          while (keep > 0 && ((unsigned char) b[keep] & 0xc0) == 0x80)
            keep--;
          char *t = xasprintf ("%.*s\xe2\x80\xa6", (int) keep, b);
          free (b);
          b = t;
        }
      json_object_set_new (row, "CreatedBy", json_string (b));
      json_int_t size = json_integer_value (json_object_get (h, "Size"));
      cleanup_free char *s = human ? units_human_size ((double) size, 3) : xasprintf ("%lld", (long long) size);
      json_object_set_new (row, "Size", json_string (s));
      const char *comment = json_string_value (json_object_get (h, "Comment"));
      json_object_set_new (row, "Comment", json_string (comment ? comment : ""));
      if (cli_formatter_row (f, row, &err) < 0)
        return cli_error (ctx, err);
    }
  return cli_list_flush (ctx, f);
}

int
cmd_image_prune (cli_ctx *ctx, int argc, char **argv)
{
  bool force = false, all = false;
  cleanup_strv char **filters = NULL;
  const opt_def defs[] = {
    { "all", 'a', OPT_BOOL, &all, "Remove all unused images, not just dangling ones" },
    { "force", 'f', OPT_BOOL, &force, "Do not prompt for confirmation" },
    { "filter", 0, OPT_STRV, &filters, "Provide filter values (e.g. \"until=<timestamp>\")" },
    { NULL, 0, 0, NULL, NULL },
  };
  cleanup_strv char **pos = NULL;
  int r = cli_parse (ctx, defs, argc, argv, false, 0, 0, &pos);
  if (r != 0)
    return r;
  if (!force
      && !cli_confirm (all ? "WARNING! This will remove all images without at least one container associated to them."
                           : "WARNING! This will remove all dangling images."))
    return 0;
  strv_append (&filters, all ? "dangling=false" : "dangling=true");
  cleanup_free char *p = xstrdup ("/images/prune");
  cli_add_filters (&p, filters);
  cleanup_error polis_error *err = NULL;
  cleanup_json json_t *j = NULL;
  if (client_call (ctx->client, "POST", p, NULL, &j, &err) < 0)
    return cli_error (ctx, err);
  json_t *del = json_object_get (j, "ImagesDeleted");
  if (json_array_size (del) > 0)
    {
      printf ("Deleted Images:\n");
      for (size_t i = 0; i < json_array_size (del); i++)
        {
          json_t *e = json_array_get (del, i);
          const char *u = json_string_value (json_object_get (e, "Untagged"));
          const char *d = json_string_value (json_object_get (e, "Deleted"));
          if (u)
            printf ("untagged: %s\n", u);
          if (d)
            printf ("deleted: %s\n", d);
        }
      printf ("\n");
    }
  cleanup_free char *sz = units_human_size ((double) json_integer_value (json_object_get (j, "SpaceReclaimed")), 4);
  printf ("Total reclaimed space: %s\n", sz);
  return 0;
}
