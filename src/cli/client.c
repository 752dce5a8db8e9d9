/* client.c - the CLI's client of the Docker Engine API. */
#include "cli/client.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/file.h"
#include "base/pjson.h"
#include "base/xalloc.h"

/* How long an auto-started polisd has to answer its first ping. */
#define CLIENT_AUTOSTART_TIMEOUT_MS 20000

api_client *
client_new (const char *host, polis_error **err)
{
  if (host == NULL || *host == '\0')
    host = getenv ("DOCKER_HOST");
  if (host == NULL || *host == '\0')
    host = CLIENT_DEFAULT_HOST;
  if (strncmp (host, "unix://", 7) != 0 || host[7] == '\0')
    {
      error_set (err, ERROR_INVALID, EINVAL,
                 "unsupported daemon address %s: polis speaks to unix:// "
                 "sockets only",
                 host);
      return NULL;
    }
  api_client *c = xzalloc (sizeof *c);
  c->host = xstrdup (host);
  c->sock_path = xstrdup (host + 7);
  const char *v = getenv ("DOCKER_API_VERSION");
  if (v && *v)
    {
      snprintf (c->version, sizeof c->version, "%s", v);
      c->fixed_version = true;
    }
  else
    snprintf (c->version, sizeof c->version, "%s", CLIENT_API_VERSION);
  return c;
}

void
client_free (api_client *c)
{
  if (c == NULL)
    return;
  free (c->host);
  free (c->sock_path);
  free (c->ostype);
  free (c->root);
  free (c);
}

static void
client_parse_version (const char *v, int *major, int *minor)
{
  *major = 0;
  *minor = 0;
  if (v)
    sscanf (v, "%d.%d", major, minor);
}

bool
client_version_at_least (api_client *c, int major, int minor)
{
  int ma, mi;
  client_parse_version (c->version, &ma, &mi);
  return ma > major || (ma == major && mi >= minor);
}

static int
client_connect_error (api_client *c, polis_error **err)
{
  return error_set (err, ERROR_UNAVAILABLE, ECONNREFUSED,
                    "Cannot connect to the Docker daemon at %s. Is the "
                    "docker daemon running?",
                    c->host);
}

/* polisd beside this program, or NULL. */
static char *
client_polisd_path (void)
{
  char self[4096];
  ssize_t n = readlink ("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0)
    return NULL;
  self[n] = '\0';
  char *dir = dirname (self);
  char *p = xasprintf ("%s/polisd", dir);
  if (access (p, X_OK) != 0)
    {
      free (p);
      return NULL;
    }
  return p;
}

/* Start polisd detached (its own session, stdio to a log beside the
   socket) for our socket, and return once the starter has exited. */
static int
client_start_daemon (api_client *c, const char *polisd, polis_error **err)
{
  cleanup_free char *sock_copy = xstrdup (c->sock_path);
  const char *dir = dirname (sock_copy);
  /* The socket's directory (the run root by default) holds the log. */
  cleanup_error polis_error *merr = NULL;
  file_mkdir_p (dir, 0711, &merr);
  cleanup_free char *log = xasprintf ("%s/polisd.log", dir);
  pid_t pid = fork ();
  if (pid < 0)
    return error_sys (err, "fork");
  if (pid == 0)
    {
      setsid ();
      if (fork () != 0)
        _exit (0);
      int nul = open ("/dev/null", O_RDONLY | O_CLOEXEC);
      int out = open (log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
      if (out < 0)
        out = open ("/dev/null", O_WRONLY | O_CLOEXEC);
      if (nul >= 0)
        dup2 (nul, 0);
      if (out >= 0)
        {
          dup2 (out, 1);
          dup2 (out, 2);
        }
      const char *argv[6];
      int i = 0;
      argv[i++] = polisd;
      argv[i++] = "-H";
      argv[i++] = c->host;
      if (c->root)
        {
          argv[i++] = "--root";
          argv[i++] = c->root;
        }
      argv[i] = NULL;
      execv (polisd, (char *const *) argv);
      _exit (127);
    }
  int status;
  while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;
  return 0;
}

static http_conn *
client_connect (api_client *c, polis_error **err)
{
  cleanup_error polis_error *cerr = NULL;
  http_conn *conn = http_conn_open_unix (c->sock_path, &cerr);
  if (conn)
    return conn;
  if (cerr->code != ENOENT && cerr->code != ECONNREFUSED)
    {
      *err = steal_pointer (&cerr);
      return NULL;
    }
  /* Only the default address is ours to start a daemon on: a socket named
     by -H or DOCKER_HOST belongs to whoever runs that daemon (a test, a
     script that is starting it right now), unless POLIS_AUTOSTART=1. */
  const char *force = getenv ("POLIS_AUTOSTART");
  bool ours = strcmp (c->host, CLIENT_DEFAULT_HOST) == 0 || (force && strcmp (force, "1") == 0);
  cleanup_free char *polisd = NULL;
  if (!c->autostart_tried && ours && getenv ("POLIS_NO_AUTOSTART") == NULL)
    polisd = client_polisd_path ();
  if (polisd == NULL)
    {
      client_connect_error (c, err);
      return NULL;
    }
  c->autostart_tried = true;
  if (client_start_daemon (c, polisd, err) < 0)
    return NULL;
  struct timespec pause = { 0, 20 * 1000 * 1000 };
  for (int waited = 0; waited < CLIENT_AUTOSTART_TIMEOUT_MS; waited += 20)
    {
      error_free (&cerr);
      conn = http_conn_open_unix (c->sock_path, &cerr);
      if (conn)
        return conn;
      nanosleep (&pause, NULL);
    }
  client_connect_error (c, err);
  return NULL;
}

int
client_negotiate (api_client *c, polis_error **err)
{
  if (c->negotiated)
    return 0;
  for (int attempt = 0; attempt < 2; attempt++)
    {
      cleanup_http_conn http_conn *conn = client_connect (c, err);
      if (conn == NULL)
        return -1;
      int r = http_conn_send_request (conn, attempt ? "GET" : "HEAD",
                                      "/_ping", NULL, NULL, 0, false, err);
      if (r < 0)
        return -1;
      int status = http_conn_read_head (conn, err);
      if (status < 0)
        return -1;
      if (status != 200 && status != 500 && attempt == 0)
        continue;
      const char *ost = http_conn_header (conn, "Ostype");
      if (ost)
        c->ostype = xstrdup (ost);
      if (!c->fixed_version)
        {
          const char *sv = http_conn_header (conn, "Api-Version");
          int sma, smi, oma, omi;
          client_parse_version (sv ? sv : "1.24", &sma, &smi);
          client_parse_version (CLIENT_API_VERSION, &oma, &omi);
          if (sma < oma || (sma == oma && smi < omi))
            snprintf (c->version, sizeof c->version, "%d.%d", sma, smi);
        }
      break;
    }
  c->negotiated = true;
  return 0;
}

static http_conn *
client_send_common (api_client *c, const char *method, const char *path,
                    const json_t *body, int fd, const char *const *headers,
                    bool hijack, size_t *sent, bool read_head,
                    polis_error **err)
{
  if (client_negotiate (c, err) < 0)
    return NULL;
  cleanup_http_conn http_conn *conn = client_connect (c, err);
  if (conn == NULL)
    return NULL;
  cleanup_free char *target = xasprintf ("/v%s%s", c->version, path);
  cleanup_free char *dump = NULL;
  const char *hdrs[16];
  size_t n = 0;
  if (body)
    {
      dump = json_dumps (body, JSON_COMPACT);
      hdrs[n++] = "Content-Type: application/json";
    }
  else if (fd >= 0)
    hdrs[n++] = "Content-Type: application/x-tar";
  else if (hijack)
    hdrs[n++] = "Content-Type: text/plain";
  if (hijack)
    {
      hdrs[n++] = "Connection: Upgrade";
      hdrs[n++] = "Upgrade: tcp";
    }
  for (const char *const *h = headers; h && *h && n < 14; h++)
    hdrs[n++] = *h;
  hdrs[n] = NULL;
  int r = http_conn_send_request (conn, method, target, hdrs, dump,
                                  dump ? strlen (dump) : 0, fd >= 0, err);
  if (r < 0)
    return NULL;
  if (fd >= 0)
    {
      char buf[65536];
      for (;;)
        {
          ssize_t got = read (fd, buf, sizeof buf);
          if (got < 0 && errno == EINTR)
            continue;
          if (got < 0)
            {
              error_sys (err, "read");
              return NULL;
            }
          if (got == 0)
            break;
          r = http_conn_send_chunk (conn, buf, (size_t) got, err);
          if (r < 0)
            return NULL;
          if (sent)
            *sent += (size_t) got;
        }
      r = http_conn_end_chunks (conn, err);
      if (r < 0)
        return NULL;
    }
  if (read_head)
    {
      r = http_conn_read_head (conn, err);
      if (r < 0)
        return NULL;
    }
  return steal_pointer (&conn);
}

http_conn *
client_send_only (api_client *c, const char *method, const char *path,
                  polis_error **err)
{
  return client_send_common (c, method, path, NULL, -1, NULL, false, NULL,
                             false, err);
}

http_conn *
client_send (api_client *c, const char *method, const char *path,
             const json_t *body, const char *const *headers, polis_error **err)
{
  return client_send_common (c, method, path, body, -1, headers, false, NULL,
                             true, err);
}

http_conn *
client_send_fd (api_client *c, const char *method, const char *path, int fd,
                const char *const *headers, size_t *sent, polis_error **err)
{
  return client_send_common (c, method, path, NULL, fd, headers, false, sent,
                             true, err);
}

static polis_error_class
client_class_of_status (int status)
{
  switch (status)
    {
    case 400:
      return ERROR_INVALID;
    case 401:
    case 403:
      return ERROR_FORBIDDEN;
    case 404:
      return ERROR_NOT_FOUND;
    case 409:
      return ERROR_CONFLICT;
    case 503:
      return ERROR_UNAVAILABLE;
    default:
      return ERROR_INTERNAL;
    }
}

int
client_check (http_conn *conn, polis_error **err)
{
  int status = http_conn_status (conn);
  if (status < 400)
    return 0;
  cleanup_error polis_error *rerr = NULL;
  cleanup_free char *body = http_conn_read_all (conn, 1024 * 1024, NULL, &rerr);
  const char *ct = http_conn_header (conn, "Content-Type");
  const char *msg = body ? body : "";
  cleanup_json json_t *j = NULL;
  if (body && ct && strcmp (ct, "application/json") == 0)
    {
      j = json_loads (body, 0, NULL);
      const char *m = j ? json_string_value (json_object_get (j, "message"))
                        : NULL;
      if (m)
        msg = m;
    }
  size_t l = strlen (msg);
  while (l > 0 && (msg[l - 1] == '\n' || msg[l - 1] == '\r'))
    l--;
  if (l == 0)
    {
      /* docker's words for an empty error body. */
      cleanup_free char *esc = http_query_escape (http_conn_sock_hint (conn));
      return error_set (err, client_class_of_status (status), 0,
                        "request returned %d %s for API route and version "
                        "http://%s%s, check if the server supports the "
                        "requested API version",
                        status, http_conn_reason (conn), esc,
                        http_conn_target (conn));
    }
  return error_set (err, client_class_of_status (status), 0,
                    "Error response from daemon: %.*s", (int) l, msg);
}

int
client_call (api_client *c, const char *method, const char *path,
             const json_t *body, json_t **out, polis_error **err)
{
  cleanup_http_conn http_conn *conn = client_send (c, method, path, body,
                                                   NULL, err);
  if (conn == NULL)
    return -1;
  int status = http_conn_status (conn);
  if (client_check (conn, err) < 0)
    return -1;
  if (out == NULL)
    return status;
  size_t len = 0;
  cleanup_free char *text = http_conn_read_all (conn, CLIENT_MAX_JSON, &len,
                                                err);
  if (text == NULL)
    return -1;
  *out = NULL;
  if (len == 0)
    return status;
  json_t *j = pjson_parse (text, len, "response", err);
  if (j == NULL)
    return -1;
  *out = j;
  return status;
}

http_conn *
client_hijack (api_client *c, const char *path, const json_t *body,
               polis_error **err)
{
  cleanup_http_conn http_conn *conn
      = client_send_common (c, "POST", path, body, -1, NULL, true, NULL, true,
                            err);
  if (conn == NULL)
    return NULL;
  int status = http_conn_status (conn);
  if (status == 101)
    return steal_pointer (&conn);
  if (client_check (conn, err) < 0)
    return NULL;
  error_set (err, ERROR_INTERNAL, 0, "unable to upgrade to tcp, received %d",
             status);
  return NULL;
}

char *
client_path (const char *fmt, ...)
{
  va_list ap;
  char *out = NULL;
  va_start (ap, fmt);
  if (vasprintf (&out, fmt, ap) < 0)
    abort ();
  va_end (ap);
  return out;
}

void
client_query_add (char **path, const char *key, const char *value)
{
  cleanup_free char *esc = http_query_escape (value);
  char *old = *path;
  *path = xasprintf ("%s%c%s=%s", old, strchr (old, '?') ? '&' : '?', key,
                     esc);
  free (old);
}
