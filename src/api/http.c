/* http.c - polisd's HTTP server: libmicrohttpd on a unix socket. */
#include "http.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <malloc.h>
#include <microhttpd.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/file.h"
#include "base/log.h"
#include "base/pjson.h"
#include "base/strv.h"
#include "base/xalloc.h"
#include "polis-config.h"
#include "router.h"

#define API_PARAM_MAX 4096
#define API_EXTRA_HEADERS_MAX 4
#define API_STREAM_BLOCK (32u << 10)
/* Connection threads do little work on their own stacks (JSON is built
   on the heap); SQLite and jansson's recursion fit easily. */
#define API_THREAD_STACK (512u << 10)
/* Per-connection buffer for the request line and headers (an
   X-Registry-Auth header is a base64 JSON document). */
#define API_CONNECTION_MEMORY (128u << 10)

struct api_server
{
  struct MHD_Daemon *mhd;
  int connections; /* open client connections (atomic) */
  int listen_fd;
  int stop_fd;
  char *socket_path;
  char *tmp_dir;
  void *ctx;
};

struct api_request
{
  api_server *srv;
  struct MHD_Connection *conn;
  const api_route *route;
  char *method;
  char *path;
  int version;
  polis_error *early_error; /* version or routing error, replied at the end */
  char param[API_PARAM_MAX];
  bool has_param;
  char *body;
  size_t body_len, body_cap;
  bool body_overflow;
  int body_fd;
  int body_errno;
  bool replied;
  enum MHD_Result queued;
  size_t n_extra;
  char *extra[API_EXTRA_HEADERS_MAX][2];
};

typedef struct
{
  api_stream_fn fn;
  void *cls;
  api_free_fn free_fn;
  char *chunk; /* what the handler produced and MHD has not taken yet */
  size_t len, off;
} stream_state;

typedef struct
{
  api_upgrade_fn fn;
  void *cls;
  api_free_fn free_fn;
} upgrade_state;

/* --- the listening socket ------------------------------------------ */

/* The gid of group NAME from /etc/group (read directly: polisd is static,
   and NSS modules cannot be loaded into a static binary), or -1. */
static gid_t
group_lookup (const char *name)
{
  cleanup_fclose FILE *f = fopen ("/etc/group", "re");
  if (f == NULL)
    return (gid_t) -1;
  char line[1024];
  size_t nlen = strlen (name);
  while (fgets (line, sizeof line, f))
    {
      if (strncmp (line, name, nlen) != 0 || line[nlen] != ':')
        continue;
      char *p = strchr (line + nlen + 1, ':');
      if (p == NULL)
        return (gid_t) -1;
      char *end;
      long gid = strtol (p + 1, &end, 10);
      if (end == p + 1 || gid < 0)
        return (gid_t) -1;
      return (gid_t) gid;
    }
  return (gid_t) -1;
}

static int
listen_unix (const char *path, polis_error **err)
{
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  if (strlen (path) >= sizeof sa.sun_path)
    return error_set (err, ERROR_INVALID, ENAMETOOLONG,
                      "socket path `%s` is too long", path);
  memcpy (sa.sun_path, path, strlen (path) + 1);
  cleanup_close int fd
      = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0)
    return error_sys (err, "socket");
  /* A socket file may be left by a daemon that was killed: replace it,
     unless a live daemon answers on it. */
  struct stat st;
  if (lstat (path, &st) == 0)
    {
      cleanup_close int probe = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (probe >= 0 && S_ISSOCK (st.st_mode)
          && connect (probe, (struct sockaddr *) &sa, sizeof sa) == 0)
        return error_set (err, ERROR_CONFLICT, EADDRINUSE,
                          "another daemon is listening on `%s`", path);
      if (!S_ISSOCK (st.st_mode))
        return error_set (err, ERROR_CONFLICT, EEXIST,
                          "`%s` exists and is not a socket", path);
      unlink (path);
    }
  mode_t old = umask (0177);
  int r = bind (fd, (struct sockaddr *) &sa, sizeof sa);
  umask (old);
  if (r < 0)
    return error_sys (err, "bind `%s`", path);
  gid_t gid = group_lookup ("polis");
  if (gid != (gid_t) -1 && chown (path, 0, gid) < 0)
    log_warning ("chown %s to group polis: %s", path, strerror (errno));
  if (chmod (path, 0660) < 0)
    return error_sys (err, "chmod `%s`", path);
  if (listen (fd, SOMAXCONN) < 0)
    return error_sys (err, "listen `%s`", path);
  return move_fd (fd);
}

/* --- requests --------------------------------------------------------- */

/* "/v1.51/containers/json" -> version 151 and "/containers/json".
   Returns the path part; *VERSION is 0 for an unversioned path, -1 for a
   malformed version. */
static const char *
split_version (const char *url, int *version)
{
  *version = 0;
  if (url[0] != '/' || url[1] != 'v' || url[2] < '0' || url[2] > '9')
    return url;
  const char *p = url + 2;
  long major = 0, minor = 0;
  while (*p >= '0' && *p <= '9' && major < 1000)
    major = major * 10 + (*p++ - '0');
  if (*p == '.')
    {
      p++;
      while (*p >= '0' && *p <= '9' && minor < 1000)
        minor = minor * 10 + (*p++ - '0');
    }
  /* Docker's route is /v{version:[0-9.]+}: ignore further components. */
  while ((*p >= '0' && *p <= '9') || *p == '.')
    p++;
  if (*p != '/' && *p != '\0')
    {
      *version = -1;
      return url;
    }
  if (major >= 1000 || minor >= 100)
    *version = 99999;
  else
    *version = (int) (major * 100 + minor);
  return *p ? p : "/";
}

static void
request_route (api_request *req, const char *url)
{
  int v;
  const char *path = split_version (url, &v);
  req->path = xstrdup (path);
  if (v < 0)
    {
      error_set (&req->early_error, ERROR_NOT_FOUND, 0, "page not found");
      return;
    }
  if (v == 0)
    v = API_VERSION_MAX;
  else if (v < API_VERSION_MIN)
    {
      error_set (&req->early_error, ERROR_INVALID, 0,
                 "client version %d.%d is too old. Minimum supported API "
                 "version is " API_VERSION_MIN_STR
                 ", please upgrade your client to a newer version",
                 v / 100, v % 100);
      return;
    }
  else if (v > API_VERSION_MAX)
    {
      error_set (&req->early_error, ERROR_INVALID, 0,
                 "client version %d.%d is too new. Maximum supported API "
                 "version is " API_VERSION_MAX_STR,
                 v / 100, v % 100);
      return;
    }
  req->version = v;

  /* Split a scratch copy into segments. */
  cleanup_free char *copy = xstrdup (req->path);
  char *segs[API_PATH_SEGMENTS_MAX];
  size_t n = 0;
  for (char *s = copy; *s;)
    {
      while (*s == '/')
        s++;
      if (*s == '\0')
        break;
      if (n == API_PATH_SEGMENTS_MAX)
        {
          error_set (&req->early_error, ERROR_NOT_FOUND, 0, "page not found");
          return;
        }
      segs[n++] = s;
      char *e = strchr (s, '/');
      if (e == NULL)
        break;
      *e = '\0';
      s = e + 1;
    }
  req->param[0] = '\0';
  req->route = router_match (req->method, segs, n, req->param,
                             sizeof req->param);
  req->has_param = req->param[0] != '\0';
  if (req->route == NULL)
    error_set (&req->early_error, ERROR_NOT_FOUND, 0, "page not found");
}

static api_request *
request_new (api_server *s, struct MHD_Connection *conn, const char *url,
             const char *method)
{
  api_request *req = xzalloc (sizeof *req);
  req->srv = s;
  req->conn = conn;
  req->body_fd = -1;
  req->method = xstrdup (method);
  request_route (req, url);
  if (req->route && (req->route->flags & API_ROUTE_BODY_FILE))
    {
      req->body_fd = open (s->tmp_dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
      if (req->body_fd < 0)
        req->body_errno = errno;
    }
  return req;
}

static void
request_free (api_request *req)
{
  if (req == NULL)
    return;
  free (req->method);
  free (req->path);
  free (req->body);
  if (req->body_fd >= 0)
    close (req->body_fd);
  error_free (&req->early_error);
  for (size_t i = 0; i < req->n_extra; i++)
    {
      free (req->extra[i][0]);
      free (req->extra[i][1]);
    }
  free (req);
}

static void
request_take_body (api_request *req, const char *data, size_t len)
{
  if (req->route && (req->route->flags & API_ROUTE_BODY_FILE))
    {
      if (req->body_fd >= 0 && req->body_errno == 0)
        {
          polis_error *e = NULL;
          if (file_write_all (req->body_fd, data, len, &e) < 0)
            {
              req->body_errno = e->code ? e->code : EIO;
              error_free (&e);
            }
        }
      return;
    }
  if (req->body_overflow || req->route == NULL)
    return;
  if (req->body_len + len > API_BODY_MAX)
    {
      req->body_overflow = true;
      return;
    }
  if (req->body_len + len + 1 > req->body_cap)
    {
      size_t cap = req->body_cap ? req->body_cap : 4096;
      while (cap < req->body_len + len + 1)
        cap *= 2;
      req->body = xrealloc (req->body, cap);
      req->body_cap = cap;
    }
  memcpy (req->body + req->body_len, data, len);
  req->body_len += len;
  req->body[req->body_len] = '\0';
}

static void
dispatch (api_request *req)
{
  if (req->early_error)
    {
      polis_error *e = steal_pointer (&req->early_error);
      api_reply_error (req, &e);
      return;
    }
  if (req->body_overflow)
    {
      api_reply_errorf (req, 400, "request body is larger than %u bytes",
                        API_BODY_MAX);
      return;
    }
  if (req->body_errno)
    {
      api_reply_errorf (req, 500, "spool request body: %s",
                        strerror (req->body_errno));
      return;
    }
  const api_route *r = req->route;
  if (r->handler == NULL)
    {
      if (r->flags & API_ROUTE_SWARM)
        api_reply_errorf (req, 503,
                          "This node is not a swarm manager. Use \"docker "
                          "swarm init\" or \"docker swarm join\" to connect "
                          "this node to swarm and try again.");
      else
        api_reply_errorf (req, 404, "%s %s is not supported by polisd",
                          r->method, r->path);
      return;
    }
  if (req->body_fd >= 0)
    lseek (req->body_fd, 0, SEEK_SET);
  r->handler (req);
  if (!req->replied)
    api_reply_errorf (req, 500, "internal error: no reply for %s %s",
                      r->method, r->path);
}

static enum MHD_Result
on_request (void *cls, struct MHD_Connection *conn, const char *url,
            const char *method, const char *version, const char *upload_data,
            size_t *upload_data_size, void **con_cls)
{
  (void) version;
  api_server *s = cls;
  api_request *req = *con_cls;
  if (req == NULL)
    {
      *con_cls = request_new (s, conn, url, method);
      return MHD_YES;
    }
  if (*upload_data_size > 0)
    {
      request_take_body (req, upload_data, *upload_data_size);
      *upload_data_size = 0;
      return MHD_YES;
    }
  if (req->replied)
    return MHD_YES;
  dispatch (req);
  log_debug ("%s %s (API %d.%02d)", req->method, req->path, req->version / 100,
             req->version % 100);
  return req->queued;
}

static void
on_completed (void *cls, struct MHD_Connection *conn, void **con_cls,
              enum MHD_RequestTerminationCode toe)
{
  (void) cls;
  (void) conn;
  (void) toe;
  request_free (*con_cls);
  *con_cls = NULL;
}

/* When the last client connection closes, give back what the busy time
   left in malloc's free lists: an idle daemon should be small. */
static void
on_connection (void *cls, struct MHD_Connection *conn, void **socket_context,
               enum MHD_ConnectionNotificationCode toe)
{
  (void) conn;
  (void) socket_context;
  api_server *s = cls;
  if (toe == MHD_CONNECTION_NOTIFY_STARTED)
    __atomic_add_fetch (&s->connections, 1, __ATOMIC_SEQ_CST);
  else if (__atomic_sub_fetch (&s->connections, 1, __ATOMIC_SEQ_CST) == 0)
    malloc_trim (0);
}

static void
on_mhd_log (void *cls, const char *fmt, va_list ap)
{
  (void) cls;
  if (!log_debug_enabled ())
    return;
  char buf[512];
  vsnprintf (buf, sizeof buf, fmt, ap);
  size_t n = strlen (buf);
  while (n > 0 && buf[n - 1] == '\n')
    buf[--n] = '\0';
  log_debug ("http: %s", buf);
}

/* --- server ----------------------------------------------------------- */

api_server *
api_server_start (const api_server_opts *o, polis_error **err)
{
  api_server *s = xzalloc (sizeof *s);
  s->ctx = o->ctx;
  s->socket_path = xstrdup (o->socket_path);
  s->tmp_dir = xstrdup (o->tmp_dir);
  s->stop_fd = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK);
  s->listen_fd = listen_unix (o->socket_path, err);
  if (s->stop_fd < 0 || s->listen_fd < 0)
    {
      if (s->stop_fd < 0)
        error_sys (err, "eventfd");
      goto fail;
    }
  s->mhd = MHD_start_daemon (
      MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION
          | MHD_USE_POLL | MHD_ALLOW_UPGRADE | MHD_USE_ITC
          | MHD_USE_ERROR_LOG,
      0, NULL, NULL, on_request, s,
      MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
      MHD_OPTION_LISTEN_SOCKET, (MHD_socket) s->listen_fd,
      MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
      MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
      MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) 0,
      MHD_OPTION_THREAD_STACK_SIZE, (size_t) API_THREAD_STACK,
      MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t) API_CONNECTION_MEMORY,
      MHD_OPTION_END);
  if (s->mhd == NULL)
    {
      error_set (err, ERROR_INTERNAL, 0, "start the HTTP server on `%s`",
                 o->socket_path);
      goto fail;
    }
  return s;
fail:
  if (s->listen_fd >= 0)
    {
      close (s->listen_fd);
      unlink (s->socket_path);
    }
  if (s->stop_fd >= 0)
    close (s->stop_fd);
  free (s->socket_path);
  free (s->tmp_dir);
  free (s);
  return NULL;
}

void
api_server_stop (api_server *s)
{
  if (s == NULL)
    return;
  uint64_t one = 1;
  if (write (s->stop_fd, &one, sizeof one) < 0)
    log_warning ("wake streams: %s", strerror (errno));
  /* MHD closes the listening socket it was given; remove the file first
     so that clients fail fast instead of queueing on a dead backlog. */
  unlink (s->socket_path);
  MHD_stop_daemon (s->mhd);
  close (s->stop_fd);
  free (s->socket_path);
  free (s->tmp_dir);
  free (s);
}

int
api_server_stop_fd (api_server *s)
{
  return s->stop_fd;
}

/* --- accessors ---------------------------------------------------------- */

void *
api_ctx (api_request *req)
{
  return req->srv->ctx;
}

const char *
api_method (api_request *req)
{
  return req->method;
}

const char *
api_path (api_request *req)
{
  return req->path;
}

int
api_version (api_request *req)
{
  return req->version;
}

const char *
api_param (api_request *req)
{
  return req->has_param ? req->param : NULL;
}

const char *
api_query (api_request *req, const char *key)
{
  return MHD_lookup_connection_value (req->conn, MHD_GET_ARGUMENT_KIND, key);
}

typedef struct
{
  const char *key;
  char **out;
} query_all_args;

static enum MHD_Result
collect_value (void *cls, enum MHD_ValueKind kind, const char *key,
               const char *value)
{
  (void) kind;
  query_all_args *a = cls;
  if (key && value && strcmp (key, a->key) == 0)
    strv_append (&a->out, value);
  return MHD_YES;
}

char **
api_query_all (api_request *req, const char *key)
{
  query_all_args a = { key, NULL };
  MHD_get_connection_values (req->conn, MHD_GET_ARGUMENT_KIND, collect_value, &a);
  return a.out;
}

bool
api_query_bool (api_request *req, const char *key)
{
  const char *v = api_query (req, key);
  if (v == NULL || *v == '\0')
    return false;
  return strcmp (v, "0") != 0 && strcasecmp (v, "false") != 0
         && strcasecmp (v, "no") != 0;
}

int
api_query_int (api_request *req, const char *key, long long def,
               long long *out, polis_error **err)
{
  const char *v = api_query (req, key);
  if (v == NULL || *v == '\0')
    {
      *out = def;
      return 0;
    }
  char *end;
  errno = 0;
  long long n = strtoll (v, &end, 10);
  if (errno || *end != '\0')
    return error_set (err, ERROR_INVALID, EINVAL,
                      "invalid value for %s: %s", key, v);
  *out = n;
  return 0;
}

const char *
api_header (api_request *req, const char *name)
{
  return MHD_lookup_connection_value (req->conn, MHD_HEADER_KIND, name);
}

const char *
api_body (api_request *req, size_t *len)
{
  if (len)
    *len = req->body_len;
  return req->body ? req->body : "";
}

json_t *
api_body_json (api_request *req, bool allow_empty, polis_error **err)
{
  size_t n = req->body_len;
  const char *b = req->body;
  while (n > 0 && (*b == ' ' || *b == '\n' || *b == '\r' || *b == '\t'))
    b++, n--;
  if (n == 0)
    {
      if (allow_empty)
        return NULL;
      error_set (err, ERROR_INVALID, EINVAL, "invalid JSON: empty body");
      return NULL;
    }
  json_error_t je;
  json_t *j = json_loadb (b, n, JSON_DECODE_ANY, &je);
  if (j == NULL)
    error_set (err, ERROR_INVALID, EINVAL, "invalid JSON: %s", je.text);
  return j;
}

int
api_body_fd (api_request *req)
{
  return req->body_fd;
}

int
api_client_fd (api_request *req)
{
  const union MHD_ConnectionInfo *ci
      = MHD_get_connection_info (req->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
  return ci ? ci->connect_fd : -1;
}

api_server *
api_request_server (api_request *req)
{
  return req->srv;
}

bool
api_client_gone (api_request *req)
{
  int fd = api_client_fd (req);
  if (fd < 0)
    return true;
  struct pollfd p = { .fd = fd, .events = POLLRDHUP };
  return poll (&p, 1, 0) > 0
         && (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
}

bool
api_replied (api_request *req)
{
  return req->replied;
}

/* --- replies ------------------------------------------------------------ */

static void
add_common_headers (api_request *req, struct MHD_Response *r)
{
  MHD_add_response_header (r, "Api-Version", API_VERSION_MAX_STR);
  MHD_add_response_header (r, "Ostype", "linux");
  MHD_add_response_header (r, "Server", "Polis/" POLIS_VERSION " (linux)");
  MHD_add_response_header (r, "Docker-Experimental", "false");
  for (size_t i = 0; i < req->n_extra; i++)
    MHD_add_response_header (r, req->extra[i][0], req->extra[i][1]);
}

static void
queue (api_request *req, int status, struct MHD_Response *r)
{
  add_common_headers (req, r);
  req->queued = MHD_queue_response (req->conn, (unsigned) status, r);
  MHD_destroy_response (r);
  req->replied = true;
}

void
api_reply_header (api_request *req, const char *name, const char *value)
{
  if (req->n_extra == API_EXTRA_HEADERS_MAX)
    return;
  req->extra[req->n_extra][0] = xstrdup (name);
  req->extra[req->n_extra][1] = xstrdup (value);
  req->n_extra++;
}

void
api_reply_raw (api_request *req, int status, const char *content_type,
               const void *buf, size_t len)
{
  struct MHD_Response *r = MHD_create_response_from_buffer (
      len, (void *) buf, MHD_RESPMEM_MUST_COPY);
  if (content_type)
    MHD_add_response_header (r, "Content-Type", content_type);
  queue (req, status, r);
}

static void
free_json_text (void *p)
{
  free (p);
}

void
api_reply_json (api_request *req, int status, json_t *body)
{
  char *text = json_dumps (body, JSON_COMPACT | JSON_ENCODE_ANY);
  json_decref (body);
  size_t len = strlen (text);
  /* Docker's json.Encoder ends every document with a newline. */
  text[len] = '\0';
  text = xrealloc (text, len + 2);
  text[len] = '\n';
  text[len + 1] = '\0';
  struct MHD_Response *r = MHD_create_response_from_buffer_with_free_callback (
      len + 1, text, free_json_text);
  MHD_add_response_header (r, "Content-Type", "application/json");
  queue (req, status, r);
}

void
api_reply_empty (api_request *req, int status)
{
  struct MHD_Response *r
      = MHD_create_response_from_buffer (0, (void *) "", MHD_RESPMEM_PERSISTENT);
  queue (req, status, r);
}

void
api_reply_error (api_request *req, polis_error **err)
{
  int status = error_http_status (*err);
  json_t *j = json_pack ("{s:s}", "message", (*err)->msg ? (*err)->msg : "");
  log_debug ("%s %s: %d %s", req->method, req->path, status, (*err)->msg);
  error_free (err);
  api_reply_json (req, status, j);
}

void
api_reply_errorf (api_request *req, int status, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  char *msg = NULL;
  if (vasprintf (&msg, fmt, ap) < 0)
    abort ();
  va_end (ap);
  log_debug ("%s %s: %d %s", req->method, req->path, status, msg);
  json_t *j = json_pack ("{s:s}", "message", msg);
  free (msg);
  api_reply_json (req, status, j);
}

static ssize_t
stream_reader (void *cls, uint64_t pos, char *buf, size_t max)
{
  (void) pos;
  stream_state *st = cls;
  if (st->chunk == NULL)
    {
      char *chunk = NULL;
      size_t len = 0;
      int r = st->fn (st->cls, &chunk, &len);
      if (r == 0)
        return MHD_CONTENT_READER_END_OF_STREAM;
      if (r < 0 || len == 0)
        {
          free (chunk);
          return r < 0 ? MHD_CONTENT_READER_END_WITH_ERROR
                       : MHD_CONTENT_READER_END_OF_STREAM;
        }
      st->chunk = chunk;
      st->len = len;
      st->off = 0;
    }
  size_t n = st->len - st->off;
  if (n > max)
    n = max;
  memcpy (buf, st->chunk + st->off, n);
  st->off += n;
  if (st->off == st->len)
    {
      free (st->chunk);
      st->chunk = NULL;
    }
  return (ssize_t) n;
}

static void
stream_free (void *cls)
{
  stream_state *st = cls;
  if (st->free_fn)
    st->free_fn (st->cls);
  free (st->chunk);
  free (st);
}

void
api_reply_stream (api_request *req, int status, const char *content_type,
                  api_stream_fn fn, void *cls, api_free_fn free_fn)
{
  stream_state *st = xzalloc (sizeof *st);
  st->fn = fn;
  st->cls = cls;
  st->free_fn = free_fn;
  struct MHD_Response *r = MHD_create_response_from_callback (
      MHD_SIZE_UNKNOWN, API_STREAM_BLOCK, stream_reader, st, stream_free);
  if (content_type)
    MHD_add_response_header (r, "Content-Type", content_type);
  queue (req, status, r);
}

static void
upgrade_cb (void *cls, struct MHD_Connection *conn, void *con_cls,
            const char *extra_in, size_t extra_in_size, MHD_socket sock,
            struct MHD_UpgradeResponseHandle *urh)
{
  (void) conn;
  (void) con_cls;
  upgrade_state *st = cls;
  /* MHD hands over a non-blocking socket; the pumps use poll(2) and want
     blocking writes. */
  int fl = fcntl (sock, F_GETFL);
  if (fl >= 0)
    fcntl (sock, F_SETFL, fl & ~O_NONBLOCK);
  st->fn (st->cls, sock, extra_in, extra_in_size);
  MHD_upgrade_action (urh, MHD_UPGRADE_ACTION_CLOSE);
  if (st->free_fn)
    st->free_fn (st->cls);
  free (st);
}

void
api_reply_upgrade (api_request *req, const char *content_type,
                   api_upgrade_fn fn, void *cls, api_free_fn free_fn)
{
  upgrade_state *st = xmalloc (sizeof *st);
  st->fn = fn;
  st->cls = cls;
  st->free_fn = free_fn;
  struct MHD_Response *r = MHD_create_response_for_upgrade (upgrade_cb, st);
  MHD_add_response_header (r, "Content-Type", content_type);
  MHD_add_response_header (r, "Connection", "Upgrade");
  MHD_add_response_header (r, "Upgrade", "tcp");
  queue (req, 101, r);
}
