/* http_client.c - HTTP/1.1 over a unix socket, by hand, for the CLI.
 *
 * Why not libcurl: attach and exec need the raw socket after a 101, and
 * docker run keeps three requests open at once (attach, wait, start) and
 * must see wait's headers before it sends start.  Both are simpler on
 * plain sockets than through curl's multi interface, and the CLI stays a
 * small static program that starts in a millisecond.
 */
#include "cli/http_client.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/file.h"
#include "base/xalloc.h"
#include "polis-config.h"

#define HTTP_CLIENT_BUF (64 * 1024)
/* Longest chunk-size line ("1a2b;ext\r\n"). */
#define HTTP_CLIENT_MAX_CHUNK_LINE 1024

typedef enum
{
  BODY_NONE,
  BODY_LENGTH,
  BODY_CHUNKED,
  BODY_CLOSE,
} body_mode;

struct http_conn
{
  int fd;
  char *buf; /* bytes read from the socket, not yet consumed */
  size_t start, end;
  int status;
  char *head;      /* the response head, header lines NUL-split */
  char **headers;  /* pointers into head: "name", value pairs */
  size_t nheaders;
  body_mode mode;
  uint64_t remaining; /* BODY_LENGTH: bytes left; BODY_CHUNKED: in chunk */
  bool chunk_done;    /* BODY_CHUNKED: the last chunk was read */
  bool body_done;
  bool head_request;
  char *target; /* the request's path, for messages */
  char *reason; /* the status line's reason phrase */
  char *path;   /* the socket */
};

/* Write all of BUF to the socket.  MSG_NOSIGNAL: a daemon that hangs up
   is an error to report, not a SIGPIPE that kills the CLI. */
static int
send_all (int fd, const void *buf, size_t len, polis_error **err)
{
  const char *p = buf;
  while (len > 0)
    {
      ssize_t n = send (fd, p, len, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return error_sys (err, "write to the daemon");
      p += n;
      len -= (size_t) n;
    }
  return 0;
}

int
http_conn_send_raw (http_conn *c, const void *buf, size_t len,
                    polis_error **err)
{
  return send_all (c->fd, buf, len, err);
}

http_conn *
http_conn_open_unix (const char *path, polis_error **err)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  if (strlen (path) >= sizeof addr.sun_path)
    {
      error_set (err, ERROR_INVALID, ENAMETOOLONG, "socket path too long: %s",
                 path);
      return NULL;
    }
  memcpy (addr.sun_path, path, strlen (path) + 1);
  cleanup_close int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    {
      error_sys (err, "socket");
      return NULL;
    }
  int r = connect (fd, (struct sockaddr *) &addr, sizeof addr);
  if (r < 0)
    {
      error_sys (err, "dial unix %s", path);
      return NULL;
    }
  http_conn *c = xzalloc (sizeof *c);
  c->fd = move_fd (fd);
  c->buf = xmalloc (HTTP_CLIENT_BUF);
  c->path = xstrdup (path);
  return c;
}

void
http_conn_free (http_conn *c)
{
  if (c == NULL)
    return;
  int saved = errno;
  if (c->fd >= 0)
    close (c->fd);
  free (c->buf);
  free (c->head);
  free (c->headers);
  free (c->target);
  free (c->reason);
  free (c->path);
  free (c);
  errno = saved;
}

int
http_conn_send_request (http_conn *c, const char *method, const char *target,
                        const char *const *headers, const void *body,
                        size_t len, bool chunked, polis_error **err)
{
  cleanup_free char *head = NULL;
  size_t cap = 512, n = 0;
  head = xmalloc (cap);

#define APPEND(...)                                                            \
  do                                                                           \
    {                                                                          \
      for (;;)                                                                 \
        {                                                                      \
          int w_ = snprintf (head + n, cap - n, __VA_ARGS__);                  \
          if (w_ < 0)                                                          \
            abort ();                                                          \
          if ((size_t) w_ < cap - n)                                           \
            {                                                                  \
              n += (size_t) w_;                                                \
              break;                                                           \
            }                                                                  \
          cap = cap * 2 + (size_t) w_;                                         \
          head = xrealloc (head, cap);                                         \
        }                                                                      \
    }                                                                          \
  while (0)

  APPEND ("%s %s HTTP/1.1\r\nHost: api.moby.localhost\r\n"
          "User-Agent: polis/" POLIS_VERSION "\r\n",
          method, target);
  for (const char *const *h = headers; h && *h; h++)
    APPEND ("%s\r\n", *h);
  if (chunked)
    APPEND ("Transfer-Encoding: chunked\r\n");
  else if (body != NULL || strcmp (method, "POST") == 0
           || strcmp (method, "PUT") == 0)
    APPEND ("Content-Length: %zu\r\n", body ? len : 0);
  APPEND ("\r\n");
#undef APPEND
  c->head_request = strcmp (method, "HEAD") == 0;
  free (c->target);
  c->target = xstrdup (target);
  int r = send_all (c->fd, head, n, err);
  if (r < 0)
    return error_wrap (err, "send request");
  if (body != NULL && len > 0)
    {
      r = send_all (c->fd, body, len, err);
      if (r < 0)
        return error_wrap (err, "send request body");
    }
  return 0;
}

int
http_conn_send_chunk (http_conn *c, const void *buf, size_t len,
                      polis_error **err)
{
  char line[32];
  if (len == 0)
    return 0;
  int w = snprintf (line, sizeof line, "%zx\r\n", len);
  int r = send_all (c->fd, line, (size_t) w, err);
  if (r < 0)
    return r;
  r = send_all (c->fd, buf, len, err);
  if (r < 0)
    return r;
  return send_all (c->fd, "\r\n", 2, err);
}

int
http_conn_end_chunks (http_conn *c, polis_error **err)
{
  return send_all (c->fd, "0\r\n\r\n", 5, err);
}

/* Read more bytes into the buffer; 0 at EOF. */
static ssize_t
http_conn_fill (http_conn *c, polis_error **err)
{
  if (c->start > 0 && c->start == c->end)
    c->start = c->end = 0;
  if (c->end == HTTP_CLIENT_BUF)
    {
      memmove (c->buf, c->buf + c->start, c->end - c->start);
      c->end -= c->start;
      c->start = 0;
    }
  if (c->end == HTTP_CLIENT_BUF)
    {
      error_set (err, ERROR_INVALID, E2BIG, "response line too long");
      return -1;
    }
  for (;;)
    {
      ssize_t r = read (c->fd, c->buf + c->end, HTTP_CLIENT_BUF - c->end);
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        {
          error_sys (err, "read response");
          return -1;
        }
      c->end += (size_t) r;
      return r;
    }
}

/* A line ending in \r\n (or \n) from the buffer, NUL-terminated in place;
   NULL with *err set on error or EOF. */
static char *
http_conn_line (http_conn *c, size_t max, polis_error **err)
{
  for (;;)
    {
      char *nl = memchr (c->buf + c->start, '\n', c->end - c->start);
      if (nl)
        {
          char *line = c->buf + c->start;
          *nl = '\0';
          if (nl > line && nl[-1] == '\r')
            nl[-1] = '\0';
          c->start = (size_t) (nl - c->buf) + 1;
          return line;
        }
      if (c->end - c->start > max)
        {
          error_set (err, ERROR_INVALID, E2BIG, "response line too long");
          return NULL;
        }
      ssize_t r = http_conn_fill (c, err);
      if (r < 0)
        return NULL;
      if (r == 0)
        {
          error_set (err, ERROR_UNAVAILABLE, EPIPE,
                     "the daemon closed the connection");
          return NULL;
        }
    }
}

int
http_conn_read_head (http_conn *c, polis_error **err)
{
  /* Read until the blank line, then copy the head out of the buffer. */
  size_t scanned = 0;
  for (;;)
    {
      const char *b = c->buf + c->start;
      size_t avail = c->end - c->start;
      const char *endp = NULL;
      for (size_t i = scanned; i + 1 < avail; i++)
        if (b[i] == '\n'
            && (b[i + 1] == '\n'
                || (b[i + 1] == '\r' && i + 2 < avail && b[i + 2] == '\n')))
          {
            endp = b + i + (b[i + 1] == '\n' ? 2 : 3);
            break;
          }
      if (endp)
        {
          size_t hlen = (size_t) (endp - b);
          c->head = xstrndup (b, hlen);
          c->start += hlen;
          break;
        }
      scanned = avail > 2 ? avail - 2 : 0;
      if (avail > HTTP_CLIENT_MAX_HEAD)
        return error_set (err, ERROR_INVALID, E2BIG,
                          "response head larger than %d bytes",
                          HTTP_CLIENT_MAX_HEAD);
      ssize_t r = http_conn_fill (c, err);
      if (r < 0)
        return -1;
      if (r == 0)
        return error_set (err, ERROR_UNAVAILABLE, EPIPE,
                          "the daemon closed the connection");
    }

  /* Status line: "HTTP/1.1 200 OK". */
  char *save = NULL;
  char *line = strtok_r (c->head, "\n", &save);
  if (line == NULL || strncmp (line, "HTTP/1.", 7) != 0 || strlen (line) < 12)
    return error_set (err, ERROR_INVALID, EBADMSG, "malformed HTTP response");
  c->status = atoi (line + 9);
  {
    size_t ll = strlen (line);
    if (ll && line[ll - 1] == '\r')
      line[--ll] = '\0';
    c->reason = xstrdup (ll > 13 ? line + 13 : "");
  }
  if (c->status < 100 || c->status > 999)
    return error_set (err, ERROR_INVALID, EBADMSG, "malformed HTTP status");
  while ((line = strtok_r (NULL, "\n", &save)) != NULL)
    {
      size_t l = strlen (line);
      if (l && line[l - 1] == '\r')
        line[--l] = '\0';
      if (l == 0)
        continue;
      char *colon = strchr (line, ':');
      if (colon == NULL)
        continue;
      *colon = '\0';
      char *v = colon + 1;
      while (*v == ' ' || *v == '\t')
        v++;
      c->headers = xreallocarray (c->headers, c->nheaders + 2, sizeof (char *));
      c->headers[c->nheaders++] = line;
      c->headers[c->nheaders++] = v;
    }

  const char *te = http_conn_header (c, "Transfer-Encoding");
  const char *cl = http_conn_header (c, "Content-Length");
  if (c->head_request || c->status == 204 || c->status == 304
      || c->status == 101 || c->status < 200)
    c->mode = BODY_NONE;
  else if (te && strcasestr (te, "chunked"))
    c->mode = BODY_CHUNKED;
  else if (cl)
    {
      c->mode = BODY_LENGTH;
      c->remaining = strtoull (cl, NULL, 10);
    }
  else
    c->mode = BODY_CLOSE;
  c->body_done = c->mode == BODY_NONE
                 || (c->mode == BODY_LENGTH && c->remaining == 0);
  return c->status;
}

int
http_conn_status (const http_conn *c)
{
  return c->status;
}

const char *
http_conn_header (const http_conn *c, const char *name)
{
  for (size_t i = 0; i + 1 < c->nheaders; i += 2)
    if (strcasecmp (c->headers[i], name) == 0)
      return c->headers[i + 1];
  return NULL;
}

/* Copy up to LEN buffered bytes (filling once when empty); 0 at EOF. */
static ssize_t
http_conn_raw (http_conn *c, void *buf, size_t len, polis_error **err)
{
  if (c->start == c->end)
    {
      ssize_t r = http_conn_fill (c, err);
      if (r <= 0)
        return r;
    }
  size_t n = c->end - c->start;
  if (n > len)
    n = len;
  memcpy (buf, c->buf + c->start, n);
  c->start += n;
  return (ssize_t) n;
}

ssize_t
http_conn_read_body (http_conn *c, void *buf, size_t len, polis_error **err)
{
  if (c->body_done || len == 0)
    return 0;
  switch (c->mode)
    {
    case BODY_NONE:
      return 0;
    case BODY_CLOSE:
      {
        ssize_t r = http_conn_raw (c, buf, len, err);
        if (r == 0)
          c->body_done = true;
        return r;
      }
    case BODY_LENGTH:
      {
        if (len > c->remaining)
          len = c->remaining;
        ssize_t r = http_conn_raw (c, buf, len, err);
        if (r == 0)
          {
            error_set (err, ERROR_UNAVAILABLE, EPIPE,
                       "unexpected EOF in the response body");
            return -1;
          }
        if (r > 0)
          {
            c->remaining -= (uint64_t) r;
            if (c->remaining == 0)
              c->body_done = true;
          }
        return r;
      }
    case BODY_CHUNKED:
      while (c->remaining == 0)
        {
          if (c->chunk_done)
            {
              /* Trailers, up to the blank line. */
              for (;;)
                {
                  char *l = http_conn_line (c, HTTP_CLIENT_MAX_CHUNK_LINE, err);
                  if (l == NULL)
                    return -1;
                  if (*l == '\0')
                    break;
                }
              c->body_done = true;
              return 0;
            }
          char *l = http_conn_line (c, HTTP_CLIENT_MAX_CHUNK_LINE, err);
          if (l == NULL)
            return -1;
          if (*l == '\0')
            continue; /* the CRLF after a chunk's data */
          char *endp = NULL;
          errno = 0;
          unsigned long long sz = strtoull (l, &endp, 16);
          if (endp == l || errno)
            {
              error_set (err, ERROR_INVALID, EBADMSG, "malformed chunk size");
              return -1;
            }
          if (sz == 0)
            c->chunk_done = true;
          c->remaining = sz;
        }
      {
        if (len > c->remaining)
          len = c->remaining;
        ssize_t r = http_conn_raw (c, buf, len, err);
        if (r == 0)
          {
            error_set (err, ERROR_UNAVAILABLE, EPIPE,
                       "unexpected EOF in the response body");
            return -1;
          }
        if (r > 0)
          c->remaining -= (uint64_t) r;
        return r;
      }
    }
  return 0;
}

char *
http_conn_read_all (http_conn *c, size_t max, size_t *len, polis_error **err)
{
  size_t cap = 4096, n = 0;
  cleanup_free char *out = xmalloc (cap);
  for (;;)
    {
      if (cap - n < 4096)
        {
          cap *= 2;
          out = xrealloc (out, cap);
        }
      ssize_t r = http_conn_read_body (c, out + n, cap - n - 1, err);
      if (r < 0)
        return NULL;
      if (r == 0)
        break;
      n += (size_t) r;
      if (n > max)
        {
          error_set (err, ERROR_INVALID, E2BIG,
                     "response body larger than %zu bytes", max);
          return NULL;
        }
    }
  out[n] = '\0';
  if (len)
    *len = n;
  return steal_pointer (&out);
}

const char *
http_conn_target (const http_conn *c)
{
  return c->target ? c->target : "";
}

const char *
http_conn_reason (const http_conn *c)
{
  return c->reason ? c->reason : "";
}

const char *
http_conn_sock_hint (const http_conn *c)
{
  return c->path ? c->path : "";
}

int
http_conn_set_nonblocking (http_conn *c, polis_error **err)
{
  int fl = fcntl (c->fd, F_GETFL);
  if (fl < 0 || fcntl (c->fd, F_SETFL, fl | O_NONBLOCK) < 0)
    return error_sys (err, "fcntl");
  return 0;
}

size_t
http_conn_buffered (const http_conn *c)
{
  return c->end - c->start;
}

int
http_conn_fd (const http_conn *c)
{
  return c->fd;
}

size_t
http_conn_take_buffered (http_conn *c, void *buf, size_t len)
{
  size_t n = c->end - c->start;
  if (n > len)
    n = len;
  memcpy (buf, c->buf + c->start, n);
  c->start += n;
  return n;
}

char *
http_query_escape (const char *s)
{
  static const char hex[] = "0123456789ABCDEF";
  size_t n = strlen (s);
  char *out = xmalloc (n * 3 + 1), *o = out;
  for (const unsigned char *p = (const unsigned char *) s; *p; p++)
    {
      if (isalnum (*p) || *p == '-' || *p == '_' || *p == '.' || *p == '~')
        *o++ = (char) *p;
      else if (*p == ' ')
        *o++ = '+';
      else
        {
          *o++ = '%';
          *o++ = hex[*p >> 4];
          *o++ = hex[*p & 15];
        }
    }
  *o = '\0';
  return out;
}
