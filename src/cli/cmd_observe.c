/* cmd_observe.c - the commands that look at containers: logs, inspect,
 * stats, events. */
#include <errno.h>
#include <poll.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/pjson.h"
#include "base/xalloc.h"
#include "cli/cli.h"
#include "cli/gotemplate.h"
#include "cli/stream.h"
#include "cli/units.h"

/* --since / --until: a Go duration ("10m") before now, an RFC 3339 time
   or unix seconds, as the API wants them (unix seconds, with fraction). */
static char *
time_arg (const char *v)
{
  int64_t d = units_parse_duration_ns (v, false);
  if (d >= 0 && strspn (v, "0123456789.") != strlen (v))
    {
      int64_t t = units_now_ns () - d;
      return xasprintf ("%lld.%09lld", (long long) (t / 1000000000LL),
                        (long long) (t % 1000000000LL));
    }
  int64_t ns = units_parse_rfc3339_ns (v);
  if (ns > 0)
    return xasprintf ("%lld.%09lld", (long long) (ns / 1000000000LL),
                      (long long) (ns % 1000000000LL));
  return xstrdup (v);
}

int
cmd_logs (cli_ctx *ctx, int argc, char **argv)
{
  bool follow = false, timestamps = false, details = false;
  const char *tail = NULL, *since = NULL, *until = NULL;
  const opt_def defs[] = {
    { "follow", 'f', OPT_BOOL, &follow, "Follow log output" },
    { "timestamps", 't', OPT_BOOL, &timestamps, "Show timestamps" },
    { "details", 0, OPT_BOOL, &details, "Show extra details provided to logs" },
    { "tail", 'n', OPT_STRING, &tail, "Number of lines to show from the end of the logs (default \"all\")" },
    { "since", 0, OPT_STRING, &since, "Show logs since timestamp or relative (e.g. 42m for 42 minutes)" },
    { "until", 0, OPT_STRING, &until, "Show logs before a timestamp or relative" },
    { NULL, 0, 0, NULL, NULL },
  };
  cleanup_strv char **pos = NULL;
  int r = cli_parse (ctx, defs, argc, argv, false, 1, 1, &pos);
  if (r != 0)
    return r;
  cleanup_error polis_error *err = NULL;
  cleanup_free char *ip = client_path ("/containers/%s/json", pos[0]);
  cleanup_json json_t *c = NULL;
  if (client_call (ctx->client, "GET", ip, NULL, &c, &err) < 0)
    return cli_error (ctx, err);
  const char *id = json_string_value (json_object_get (c, "Id"));
  bool tty = json_is_true (json_object_get (json_object_get (c, "Config"), "Tty"));
  cleanup_free char *p = client_path ("/containers/%s/logs?", id ? id : pos[0]);
  char *tmp = xasprintf ("%s%s%sstderr=1&stdout=1", p, details ? "details=1&" : "",
                         follow ? "follow=1&" : "");
  free (p);
  p = tmp;
  if (since)
    {
      cleanup_free char *s = time_arg (since);
      client_query_add (&p, "since", s);
    }
  client_query_add (&p, "tail", tail ? tail : "all");
  if (timestamps)
    client_query_add (&p, "timestamps", "1");
  if (until)
    {
      cleanup_free char *u = time_arg (until);
      client_query_add (&p, "until", u);
    }
  cleanup_http_conn http_conn *conn = client_send (ctx->client, "GET", p, NULL, NULL, &err);
  if (conn == NULL || client_check (conn, &err) < 0)
    return cli_error (ctx, err);
  if (stream_copy_body (conn, tty, &err) < 0)
    return cli_error (ctx, err);
  return 0;
}

/* docker inspect: the raw objects re-indented, or the template per object. */
static int
inspect_common (cli_ctx *ctx, int argc, char **argv, const char *forced_type)
{
  const char *format = NULL, *type = forced_type;
  bool size = false;
  const opt_def defs_all[] = {
    { "format", 'f', OPT_STRING, &format, "Format output using a custom template" },
    { "size", 's', OPT_BOOL, &size, "Display total file sizes if the type is container" },
    { "type", 0, OPT_STRING, &type, "Only inspect objects of the given type" },
    { NULL, 0, 0, NULL, NULL },
  };
  cleanup_strv char **pos = NULL;
  int r = cli_parse (ctx, defs_all, argc, argv, false, 1, -1, &pos);
  if (r != 0)
    return r;
  cleanup_error polis_error *err = NULL;
  cleanup_gotemplate gotemplate *tpl = NULL;
  if (format && *format && strcmp (format, "json") != 0)
    {
      tpl = gotemplate_parse (format, &err);
      if (tpl == NULL)
        return cli_fail (1, "template parsing error: %s", err->msg);
    }
  cleanup_json json_t *results = json_array ();
  /* docker prints what it found first, then what it did not. */
  cleanup_strv char **errors = xzalloc (sizeof (char *));
  int status = 0;
  for (char **a = pos; *a; a++)
    {
      static const struct
      {
        const char *type, *prefix, *suffix;
      } kinds[] = {
        { "container", "/containers/", "/json" }, { "image", "/images/", "/json" },
        { "network", "/networks/", "" },          { "volume", "/volumes/", "" },
      };
      json_t *obj = NULL;
      cleanup_error polis_error *last = NULL;
      for (size_t k = 0; k < 4 && obj == NULL; k++)
        {
          if (type && strcmp (type, kinds[k].type) != 0)
            continue;
          cleanup_free char *p = xasprintf ("%s%s%s", kinds[k].prefix, *a, kinds[k].suffix);
          if (size && k == 0)
            client_query_add (&p, "size", "1");
          error_free (&last);
          if (client_call (ctx->client, "GET", p, NULL, &obj, &last) < 0)
            {
              obj = NULL;
              if (last->cls != ERROR_NOT_FOUND && !strstr (last->msg, "not supported")
                  && !strstr (last->msg, "invalid reference format"))
                break;
            }
        }
      if (obj == NULL)
        {
          status = 1;
          if (last && (last->cls != ERROR_NOT_FOUND || type))
            strv_append (&errors, last->msg);
          else
            {
              cleanup_free char *m = xasprintf ("Error: No such object: %s", *a);
              strv_append (&errors, m);
            }
          continue;
        }
      json_array_append_new (results, obj);
    }
  if (tpl)
    {
      for (size_t i = 0; i < json_array_size (results); i++)
        {
          cleanup_free char *out = NULL;
          if (gotemplate_exec (tpl, json_array_get (results, i), false, &out, &err) < 0)
            {
              fprintf (stderr, "%s\n", err->msg);
              return 1;
            }
          printf ("%s\n", out);
        }
    }
  else if (format && strcmp (format, "json") == 0)
    {
      cleanup_free char *s = gotemplate_json (results);
      printf ("%s\n", s);
    }
  else
    {
      cleanup_free char *s = json_dumps (results, JSON_INDENT (4) | JSON_ENCODE_ANY);
      /* Go's encoder escapes <, > and & even when indenting. */
      for (char *q = s; *q; q++)
        {
          if (*q == '<')
            fputs ("\\u003c", stdout);
          else if (*q == '>')
            fputs ("\\u003e", stdout);
          else if (*q == '&')
            fputs ("\\u0026", stdout);
          else
            fputc (*q, stdout);
        }
      fputc ('\n', stdout);
    }
  fflush (stdout);
  for (char **e = errors; *e; e++)
    fprintf (stderr, "%s\n", *e);
  return status;
}

int
cmd_inspect (cli_ctx *ctx, int argc, char **argv)
{
  return inspect_common (ctx, argc, argv, NULL);
}

int
cmd_container_inspect (cli_ctx *ctx, int argc, char **argv)
{
  return inspect_common (ctx, argc, argv, "container");
}

int
cmd_image_inspect (cli_ctx *ctx, int argc, char **argv)
{
  return inspect_common (ctx, argc, argv, "image");
}

int
cmd_volume_inspect (cli_ctx *ctx, int argc, char **argv)
{
  return inspect_common (ctx, argc, argv, "volume");
}

int
cmd_network_inspect (cli_ctx *ctx, int argc, char **argv)
{
  return inspect_common (ctx, argc, argv, "network");
}

/* ---- stats ---- */

static json_t *
stats_row (json_t *s, const char *asked, bool trunc)
{
  json_t *row = json_object ();
  const char *id = json_string_value (json_object_get (s, "id"));
  if (id == NULL || *id == '\0')
    id = asked;
  cleanup_free char *sid = trunc ? cli_short_id (id) : xstrdup (id ? id : "");
  const char *name = json_string_value (json_object_get (s, "name"));
  if (name && *name == '/')
    name++;
  json_object_set_new (row, "ID", json_string (sid));
  json_object_set_new (row, "Container", json_string (asked));
  json_object_set_new (row, "Name", json_string (name ? name : "--"));
  json_t *cpu = json_object_get (s, "cpu_stats");
  json_t *pre = json_object_get (s, "precpu_stats");
  bool running = cpu != NULL && json_object_get (s, "memory_stats") != NULL;
  if (!running)
    {
      const char *keys[] = { "CPUPerc", "MemUsage", "MemPerc", "NetIO", "BlockIO", "PIDs" };
      const char *vals[] = { "0.00%", "0B / 0B", "0.00%", "0B / 0B", "0B / 0B", "0" };
      for (size_t i = 0; i < 6; i++)
        json_object_set_new (row, keys[i], json_string (vals[i]));
      return row;
    }
  double total = (double) json_integer_value (json_object_get (json_object_get (cpu, "cpu_usage"), "total_usage"));
  double ptotal = (double) json_integer_value (json_object_get (json_object_get (pre, "cpu_usage"), "total_usage"));
  double sys = (double) json_integer_value (json_object_get (cpu, "system_cpu_usage"));
  double psys = (double) json_integer_value (json_object_get (pre, "system_cpu_usage"));
  double online = (double) json_integer_value (json_object_get (cpu, "online_cpus"));
  if (online == 0)
    online = (double) json_array_size (json_object_get (json_object_get (cpu, "cpu_usage"), "percpu_usage"));
  double cpu_pct = 0;
  if (sys - psys > 0 && total - ptotal > 0)
    cpu_pct = (total - ptotal) / (sys - psys) * online * 100.0;
  cleanup_free char *cpus = xasprintf ("%.2f%%", cpu_pct);
  json_object_set_new (row, "CPUPerc", json_string (cpus));

  json_t *mem = json_object_get (s, "memory_stats");
  double usage = (double) json_integer_value (json_object_get (mem, "usage"));
  double limit = (double) json_integer_value (json_object_get (mem, "limit"));
  json_t *ms = json_object_get (mem, "stats");
  json_t *inactive = json_object_get (ms, "total_inactive_file");
  if (inactive == NULL)
    inactive = json_object_get (ms, "inactive_file");
  double cache = (double) json_integer_value (inactive);
  if (cache < usage)
    usage -= cache;
  cleanup_free char *mu = units_bytes_size (usage);
  cleanup_free char *ml = units_bytes_size (limit);
  cleanup_free char *musage = xasprintf ("%s / %s", mu, ml);
  json_object_set_new (row, "MemUsage", json_string (musage));
  cleanup_free char *mp = xasprintf ("%.2f%%", limit > 0 ? usage / limit * 100.0 : 0.0);
  json_object_set_new (row, "MemPerc", json_string (mp));

  double rx = 0, tx = 0;
  json_t *nets = json_object_get (s, "networks");
  const char *k;
  json_t *v;
  json_object_foreach (nets, k, v)
  {
    rx += (double) json_integer_value (json_object_get (v, "rx_bytes"));
    tx += (double) json_integer_value (json_object_get (v, "tx_bytes"));
  }
  cleanup_free char *rxs = units_human_size (rx, 3);
  cleanup_free char *txs = units_human_size (tx, 3);
  cleanup_free char *netio = xasprintf ("%s / %s", rxs, txs);
  json_object_set_new (row, "NetIO", json_string (netio));

  double rd = 0, wr = 0;
  json_t *io = json_object_get (json_object_get (s, "blkio_stats"), "io_service_bytes_recursive");
  for (size_t i = 0; i < json_array_size (io); i++)
    {
      json_t *e = json_array_get (io, i);
      const char *op = json_string_value (json_object_get (e, "op"));
      double val = (double) json_integer_value (json_object_get (e, "value"));
      if (op && strcasecmp (op, "read") == 0)
        rd += val;
      else if (op && strcasecmp (op, "write") == 0)
        wr += val;
    }
  cleanup_free char *rds = units_human_size (rd, 3);
  cleanup_free char *wrs = units_human_size (wr, 3);
  cleanup_free char *blk = xasprintf ("%s / %s", rds, wrs);
  json_object_set_new (row, "BlockIO", json_string (blk));
  cleanup_free char *pids = xasprintf ("%lld", (long long) json_integer_value (json_object_get (json_object_get (s, "pids_stats"), "current")));
  json_object_set_new (row, "PIDs", json_string (pids));
  return row;
}

static const char stats_headers[]
    = "{\"ID\":\"CONTAINER ID\",\"Container\":\"CONTAINER\",\"Name\":\"NAME\","
      "\"CPUPerc\":\"CPU %\",\"MemUsage\":\"MEM USAGE / LIMIT\",\"MemPerc\":"
      "\"MEM %\",\"NetIO\":\"NET I/O\",\"BlockIO\":\"BLOCK I/O\",\"PIDs\":"
      "\"PIDS\"}";

/* One container's stats connection. */
typedef struct
{
  char *id;
  http_conn *conn;
  char *buf;
  size_t len, cap;
  json_t *last; /* the latest sample */
  bool done;    /* the server ended the stream */
  char *error;  /* the daemon's error for this container */
} stats_feed;

static void
stats_feed_clear (stats_feed *f)
{
  free (f->id);
  http_conn_free (f->conn);
  free (f->buf);
  if (f->last)
    json_decref (f->last);
  free (f->error);
  memset (f, 0, sizeof *f);
}

/* Open the stats request for ID (stream or one sample). */
static void
stats_feed_open (cli_ctx *ctx, stats_feed *f, const char *id, bool stream)
{
  memset (f, 0, sizeof *f);
  f->id = xstrdup (id);
  cleanup_error polis_error *err = NULL;
  cleanup_free char *p = client_path ("/containers/%s/stats?stream=%d", id, stream ? 1 : 0);
  f->conn = client_send_only (ctx->client, "GET", p, &err);
  if (f->conn == NULL)
    {
      f->error = xstrdup (err->msg);
      f->done = true;
      return;
    }
  /* A stream is read as it comes, from poll(): never block on one. */
  if (stream)
    http_conn_set_nonblocking (f->conn, &err);
}

/* Read what has arrived; keep the newest complete JSON object. */
static void
stats_feed_read (stats_feed *f)
{
  cleanup_error polis_error *err = NULL;
  if (f->done)
    return;
  if (http_conn_status (f->conn) == 0)
    {
      if (http_conn_read_head (f->conn, &err) < 0)
        {
          if (err->code == EAGAIN)
            return;
          f->error = xstrdup (err->msg);
          f->done = true;
          return;
        }
      if (client_check (f->conn, &err) < 0)
        {
          f->error = xstrdup (err->msg);
          f->done = true;
          return;
        }
    }
  for (;;)
    {
      if (f->cap - f->len < 16384)
        {
          if (f->cap >= 16 * 1024 * 1024)
            {
              f->done = true;
              return;
            }
          f->cap = f->cap ? f->cap * 2 : 65536;
          f->buf = xrealloc (f->buf, f->cap);
        }
      ssize_t n = http_conn_read_body (f->conn, f->buf + f->len, f->cap - f->len - 1, &err);
      if (n < 0 && err->code == EAGAIN)
        break; /* all there is for now */
      if (n <= 0)
        {
          f->done = true;
          break;
        }
      f->len += (size_t) n;
    }
  /* Whole objects, newline separated (or just one, then the end). */
  size_t off = 0;
  for (;;)
    {
      while (off < f->len && (f->buf[off] == '\n' || f->buf[off] == '\r' || f->buf[off] == ' '))
        off++;
      if (off >= f->len)
        break;
      json_error_t jerr;
      json_t *j = json_loadb (f->buf + off, f->len - off, JSON_DISABLE_EOF_CHECK, &jerr);
      if (j == NULL)
        break;
      off += jerr.position;
      if (f->last)
        json_decref (f->last);
      f->last = j;
    }
  memmove (f->buf, f->buf + off, f->len - off);
  f->len -= off;
}

static const char stats_table[]
    = "table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}";

int
cmd_stats (cli_ctx *ctx, int argc, char **argv)
{
  bool all = false, no_stream = false, no_trunc = false;
  const char *format = NULL;
  const opt_def defs[] = {
    { "all", 'a', OPT_BOOL, &all, "Show all containers (default shows just running)" },
    { "no-stream", 0, OPT_BOOL, &no_stream, "Disable streaming stats and only pull the first result" },
    { "no-trunc", 0, OPT_BOOL, &no_trunc, "Do not truncate output" },
    { "format", 0, OPT_STRING, &format, "Format output using a custom template" },
    { NULL, 0, 0, NULL, NULL },
  };
  cleanup_strv char **pos = NULL;
  int r = cli_parse (ctx, defs, argc, argv, false, 0, -1, &pos);
  if (r != 0)
    return r;
  cleanup_error polis_error *err = NULL;
  cleanup_json json_t *headers = json_loads (stats_headers, 0, NULL);
  {
    /* Fail early on a bad template. */
    cleanup_formatter cli_formatter *f = cli_formatter_new (format, stats_table, headers, &err);
    if (f == NULL)
      return cli_fail (1, "template parsing error: %s", err->msg);
  }
  bool tty = cli_stdout_tty ();
  stats_feed *feeds = NULL;
  size_t nfeeds = 0;
  int status = 0;
  int64_t last_list = 0;

  for (;;)
    {
      /* Which containers: the arguments, or the running ones (again every
         couple of seconds, so that new ones appear and gone ones go). */
      int64_t now = units_now_ns ();
      if (nfeeds == 0 || (!pos[0] && now - last_list > 2000000000LL))
        {
          cleanup_strv char **ids = NULL;
          if (pos[0])
            ids = strv_dup (pos);
          else
            {
              cleanup_json json_t *list = NULL;
              if (client_call (ctx->client, "GET", all ? "/containers/json?all=1" : "/containers/json",
                               NULL, &list, &err) < 0)
                return cli_error (ctx, err);
              ids = xzalloc (sizeof (char *));
              for (size_t i = 0; i < json_array_size (list); i++)
                strv_append (&ids, json_string_value (json_object_get (json_array_get (list, i), "Id")));
            }
          last_list = now;
          for (char **id = ids; *id; id++)
            {
              bool have = false;
              for (size_t i = 0; i < nfeeds; i++)
                have |= strcmp (feeds[i].id, *id) == 0;
              if (have)
                continue;
              feeds = xreallocarray (feeds, nfeeds + 1, sizeof (stats_feed));
              stats_feed_open (ctx, &feeds[nfeeds++], *id, !no_stream);
            }
        }
      if (no_stream)
        for (size_t i = 0; i < nfeeds; i++)
          while (!feeds[i].done)
            stats_feed_read (&feeds[i]);
      else
        {
          /* Gather for about a second, then draw. */
          int64_t until = units_now_ns () + 1000000000LL;
          for (;;)
            {
              int64_t left = (until - units_now_ns ()) / 1000000;
              if (left <= 0)
                break;
              cleanup_free struct pollfd *pfd = xzalloc ((nfeeds + 1) * sizeof (struct pollfd));
              for (size_t i = 0; i < nfeeds; i++)
                {
                  pfd[i].fd = feeds[i].done ? -1 : http_conn_fd (feeds[i].conn);
                  pfd[i].events = POLLIN;
                }
              int pr = poll (pfd, nfeeds, (int) left);
              if (pr < 0 && errno != EINTR)
                break;
              for (size_t i = 0; i < nfeeds; i++)
                if (pfd[i].revents)
                  stats_feed_read (&feeds[i]);
            }
        }
      cleanup_formatter cli_formatter *f = cli_formatter_new (format, stats_table, headers, &err);
      if (f == NULL)
        return cli_fail (1, "template parsing error: %s", err->msg);
      for (size_t i = 0; i < nfeeds; i++)
        {
          if (feeds[i].error)
            {
              if (no_stream || pos[0])
                {
                  fprintf (stderr, "%s\n", feeds[i].error);
                  status = 1;
                }
              continue;
            }
          if (feeds[i].done && !no_stream && !pos[0] && !all)
            continue; /* stopped: it leaves the table */
          cleanup_json json_t *empty = json_object ();
          cleanup_json json_t *row = stats_row (feeds[i].last ? feeds[i].last : empty,
                                                feeds[i].id, !no_trunc);
          if (cli_formatter_row (f, row, &err) < 0)
            return cli_error (ctx, err);
        }
      if (!no_stream && tty)
        fputs ("\033[2J\033[H", stdout);
      if (cli_formatter_flush (f, &err) < 0)
        return cli_error (ctx, err);
      /* Forget stopped containers (they come back with the next listing). */
      size_t keep = 0;
      for (size_t i = 0; i < nfeeds; i++)
        {
          if (!no_stream && feeds[i].done && !pos[0])
            stats_feed_clear (&feeds[i]);
          else
            feeds[keep++] = feeds[i];
        }
      nfeeds = keep;
      if (no_stream || (pos[0] && status))
        break;
    }
  for (size_t i = 0; i < nfeeds; i++)
    stats_feed_clear (&feeds[i]);
  free (feeds);
  return status;
}

/* ---- events ---- */

int
cmd_events (cli_ctx *ctx, int argc, char **argv)
{
  const char *since = NULL, *until = NULL, *format = NULL;
  cleanup_strv char **filters = NULL;
  const opt_def defs[] = {
    { "since", 0, OPT_STRING, &since, "Show all events created since timestamp" },
    { "until", 0, OPT_STRING, &until, "Stream events until this timestamp" },
    { "filter", 'f', OPT_STRV, &filters, "Filter output based on conditions provided" },
    { "format", 0, OPT_STRING, &format, "Format output using a custom template" },
    { NULL, 0, 0, NULL, NULL },
  };
  cleanup_strv char **pos = NULL;
  int r = cli_parse (ctx, defs, argc, argv, false, 0, 0, &pos);
  if (r != 0)
    return r;
  cleanup_error polis_error *err = NULL;
  cleanup_gotemplate gotemplate *tpl = NULL;
  if (format && *format)
    {
      tpl = gotemplate_parse (strcmp (format, "json") == 0 ? "{{json .}}" : format, &err);
      if (tpl == NULL)
        return cli_fail (1, "template parsing error: %s", err->msg);
    }
  cleanup_free char *p = xstrdup ("/events");
  cli_add_filters (&p, filters);
  if (since)
    {
      cleanup_free char *s = time_arg (since);
      client_query_add (&p, "since", s);
    }
  if (until)
    {
      cleanup_free char *u = time_arg (until);
      client_query_add (&p, "until", u);
    }
  cleanup_http_conn http_conn *conn = client_send (ctx->client, "GET", p, NULL, NULL, &err);
  if (conn == NULL || client_check (conn, &err) < 0)
    return cli_error (ctx, err);
  json_error_t jerr;
  char buf[65536];
  size_t have = 0;
  for (;;)
    {
      ssize_t n = http_conn_read_body (conn, buf + have, sizeof buf - have - 1, &err);
      if (n < 0)
        return cli_error (ctx, err);
      if (n == 0)
        break;
      have += (size_t) n;
      buf[have] = '\0';
      /* One JSON object per line (whitespace between objects is fine). */
      for (;;)
        {
          char *nl = memchr (buf, '\n', have);
          if (nl == NULL)
            {
              if (have >= sizeof buf - 1)
                have = 0; /* an event longer than the buffer: dropped */
              break;
            }
          *nl = '\0';
          cleanup_json json_t *ev = json_loads (buf, 0, &jerr);
          size_t used = (size_t) (nl - buf) + 1;
          memmove (buf, nl + 1, have - used);
          have -= used;
          if (ev == NULL)
            continue;
          if (tpl)
            {
              cleanup_free char *out = NULL;
              if (gotemplate_exec (tpl, ev, false, &out, &err) < 0)
                return cli_error (ctx, err);
              printf ("%s\n", out);
            }
          else
            {
              /* 2006-01-02T15:04:05.000000000-07:00 Type Action ID (k=v, ...) */
              json_int_t tn = json_integer_value (json_object_get (ev, "timeNano"));
              if (tn == 0)
                tn = json_integer_value (json_object_get (ev, "time")) * 1000000000LL;
              time_t secs = (time_t) (tn / 1000000000LL);
              struct tm tm;
              char ts[64], tz[16];
              localtime_r (&secs, &tm);
              strftime (ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
              strftime (tz, sizeof tz, "%z", &tm);
              const char *type = json_string_value (json_object_get (ev, "Type"));
              const char *action = json_string_value (json_object_get (ev, "Action"));
              json_t *actor = json_object_get (ev, "Actor");
              const char *aid = json_string_value (json_object_get (actor, "ID"));
              /* Go's Z07:00: "Z" for UTC, else +hh:mm. */
              char zone[24] = "Z";
              if (tm.tm_gmtoff != 0)
                snprintf (zone, sizeof zone, "%.3s:%.2s", tz, tz + 3);
              printf ("%s.%09lld%s %s %s %s", ts, (long long) (tn % 1000000000LL), zone,
                      type ? type : "", action ? action : "", aid ? aid : "");
              json_t *attrs = json_object_get (actor, "Attributes");
              if (json_object_size (attrs) > 0)
                {
                  size_t nk = json_object_size (attrs), i = 0;
                  cleanup_free const char **keys = xmalloc ((nk + 1) * sizeof (char *));
                  const char *k;
                  json_t *v;
                  json_object_foreach (attrs, k, v)
                  keys[i++] = k;
                  for (size_t a = 0; a < i; a++)
                    for (size_t b = a + 1; b < i; b++)
                      if (strcmp (keys[a], keys[b]) > 0)
                        {
                          const char *t = keys[a];
                          keys[a] = keys[b];
                          keys[b] = t;
                        }
                  printf (" (");
                  for (size_t a = 0; a < i; a++)
                    printf ("%s%s=%s", a ? ", " : "", keys[a],
                            json_string_value (json_object_get (attrs, keys[a])) ?: "");
                  printf (")");
                }
              printf ("\n");
            }
          fflush (stdout);
        }
    }
  return 0;
}
