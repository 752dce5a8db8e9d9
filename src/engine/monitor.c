/* monitor.c - one thread that follows every live shim's event stream. */
#include "monitor.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/log.h"
#include "base/pjson.h"
#include "base/xalloc.h"
#include "shim_client.h"

#define MONITOR_LINE_MAX (64u << 10)

typedef struct stream
{
  container *c;
  int fd;
  char *buf;
  size_t len;
  struct stream *prev, *next;
} stream;

struct monitor
{
  engine *e;
  int epfd;
  int wake_fd;
  pthread_t thread;
  bool running;
  pthread_mutex_t lock; /* the list of streams */
  stream *streams;
};

static void
stream_link (monitor *m, stream *s)
{
  pthread_mutex_lock (&m->lock);
  s->next = m->streams;
  if (m->streams)
    m->streams->prev = s;
  m->streams = s;
  pthread_mutex_unlock (&m->lock);
}

static void
stream_unlink (monitor *m, stream *s)
{
  pthread_mutex_lock (&m->lock);
  if (s->prev)
    s->prev->next = s->next;
  else
    m->streams = s->next;
  if (s->next)
    s->next->prev = s->prev;
  pthread_mutex_unlock (&m->lock);
}

static void
stream_close (monitor *m, stream *s)
{
  stream_unlink (m, s);
  epoll_ctl (m->epfd, EPOLL_CTL_DEL, s->fd, NULL);
  close (s->fd);
  free (s->buf);
  container *c = s->c;
  free (s);
  lifecycle_on_shim_gone (m->e, c);
  container_unref (c);
}

/* Read what is there; hand every complete line over.  Returns false when
   the stream ended. */
static bool
stream_read (monitor *m, stream *s)
{
  for (;;)
    {
      if (s->len == MONITOR_LINE_MAX)
        {
          log_warning ("shim %.12s: event line too long, dropped",
                       s->c->id);
          s->len = 0;
        }
      ssize_t n = read (s->fd, s->buf + s->len, MONITOR_LINE_MAX - s->len);
      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          if (errno == EAGAIN)
            return true;
          return false;
        }
      if (n == 0)
        return false;
      s->len += (size_t) n;
      char *start = s->buf;
      char *nl;
      while ((nl = memchr (start, '\n', s->len - (size_t) (start - s->buf))))
        {
          polis_error *err = NULL;
          cleanup_json json_t *ev
              = pjson_parse (start, (size_t) (nl - start), "shim event", &err);
          if (ev)
            lifecycle_on_shim_event (m->e, s->c, ev);
          else
            {
              log_warning ("shim %.12s: %s", s->c->id, err->msg);
              error_free (&err);
            }
          start = nl + 1;
        }
      size_t rest = s->len - (size_t) (start - s->buf);
      memmove (s->buf, start, rest);
      s->len = rest;
    }
}

static void *
monitor_main (void *arg)
{
  monitor *m = arg;
  struct epoll_event evs[32];
  for (;;)
    {
      int n = epoll_wait (m->epfd, evs, 32, -1);
      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          log_error ("monitor: epoll_wait: %s", strerror (errno));
          return NULL;
        }
      for (int i = 0; i < n; i++)
        {
          stream *s = evs[i].data.ptr;
          if (s == NULL)
            return NULL; /* the wake fd: stop */
          if (!stream_read (m, s))
            stream_close (m, s);
        }
    }
}

monitor *
monitor_start (engine *e, polis_error **err)
{
  monitor *m = xzalloc (sizeof *m);
  m->e = e;
  pthread_mutex_init (&m->lock, NULL);
  m->epfd = epoll_create1 (EPOLL_CLOEXEC);
  m->wake_fd = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (m->epfd < 0 || m->wake_fd < 0)
    {
      error_sys (err, "monitor");
      goto fail;
    }
  struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
  if (epoll_ctl (m->epfd, EPOLL_CTL_ADD, m->wake_fd, &ev) < 0)
    {
      error_sys (err, "epoll_ctl");
      goto fail;
    }
  int r = pthread_create (&m->thread, NULL, monitor_main, m);
  if (r != 0)
    {
      error_sys_code (err, r, "start the monitor thread");
      goto fail;
    }
  m->running = true;
  return m;
fail:
  if (m->epfd >= 0)
    close (m->epfd);
  if (m->wake_fd >= 0)
    close (m->wake_fd);
  free (m);
  return NULL;
}

void
monitor_stop (monitor *m)
{
  if (m == NULL)
    return;
  if (m->running)
    {
      uint64_t one = 1;
      if (write (m->wake_fd, &one, sizeof one) < 0)
        log_warning ("monitor: wake: %s", strerror (errno));
      pthread_join (m->thread, NULL);
    }
  /* The shims keep running: only our ends of their streams go. */
  while (m->streams)
    {
      stream *s = m->streams;
      m->streams = s->next;
      close (s->fd);
      free (s->buf);
      container_unref (s->c);
      free (s);
    }
  pthread_mutex_destroy (&m->lock);
  close (m->epfd);
  close (m->wake_fd);
  free (m);
}

int
monitor_follow (monitor *m, container *c, polis_error **err)
{
  cleanup_free char *sock = xasprintf ("%s/shim.sock", c->run_dir);
  cleanup_json json_t *req = json_pack ("{s:s}", "op", "events");
  int fd = -1;
  cleanup_json json_t *reply = shim_call (sock, req, &fd, SHIM_TIMEOUT_MS, err);
  if (reply == NULL)
    return -1;
  int fl = fcntl (fd, F_GETFL);
  fcntl (fd, F_SETFL, fl | O_NONBLOCK);
  stream *s = xzalloc (sizeof *s);
  s->fd = fd;
  s->buf = xmalloc (MONITOR_LINE_MAX);
  engine_lock (m->e);
  c->refs++;
  engine_unlock (m->e);
  s->c = c;
  stream_link (m, s);
  struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP, .data.ptr = s };
  if (epoll_ctl (m->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
    {
      stream_unlink (m, s);
      error_sys (err, "epoll_ctl");
      close (fd);
      free (s->buf);
      free (s);
      container_unref (c);
      return -1;
    }
  return 0;
}
