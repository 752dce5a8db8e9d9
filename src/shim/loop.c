/* loop.c - the shim's single-threaded event loop. */
#include "loop.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "base/xalloc.h"

struct loop_watch
{
  loop *l;
  int fd;
  uint32_t events;
  bool registered; /* in the epoll set (a watch for nothing is not: epoll
                      reports EPOLLHUP whatever the mask) */
  bool dead;
  loop_fd_fn fn;
  loop_close_fn close_fn;
  void *data;
  loop_watch *prev, *next; /* live list, or the dead list (next only) */
};

struct loop_timer
{
  loop *l;
  uint64_t deadline;
  uint64_t interval;
  bool running; /* its callback is on the stack: not in the list */
  bool dead;    /* cancelled while running */
  loop_timer_fn fn;
  void *data;
  loop_timer *next;
};

struct loop
{
  int epfd;
  loop_watch *watches; /* live */
  loop_watch *dead;    /* closed this round, freed after it */
  loop_timer *timers;  /* pending, by deadline */
  loop_watch *sigw;
  loop_signal_fn sig_fn;
  void *sig_data;
  bool quit;
  int status;
};

/* Events per epoll_wait: more simply wait for the next round. */
#define LOOP_MAX_EVENTS 16

uint64_t
loop_now_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (uint64_t) ts.tv_sec * 1000u + (uint64_t) ts.tv_nsec / 1000000u;
}

loop *
loop_new (polis_error **err)
{
  int fd = epoll_create1 (EPOLL_CLOEXEC);
  if (fd < 0)
    {
      error_sys (err, "epoll_create1");
      return NULL;
    }
  loop *l = xzalloc (sizeof *l);
  l->epfd = fd;
  return l;
}

static void
loop_free_dead (loop *l)
{
  while (l->dead)
    {
      loop_watch *w = l->dead;
      l->dead = w->next;
      free (w);
    }
}

void
loop_free (loop *l)
{
  if (l == NULL)
    return;
  while (l->watches)
    loop_watch_close (l->watches);
  loop_free_dead (l);
  while (l->timers)
    {
      loop_timer *t = l->timers;
      l->timers = t->next;
      free (t);
    }
  close (l->epfd);
  free (l);
}

loop_watch *
loop_add_fd (loop *l, int fd, uint32_t events, loop_fd_fn fn,
             loop_close_fn close_fn, void *data, polis_error **err)
{
  loop_watch *w = xzalloc (sizeof *w);
  w->l = l;
  w->fd = fd;
  w->fn = fn;
  w->close_fn = close_fn;
  w->data = data;
  if (loop_watch_set_events (w, events, err) < 0)
    {
      close (fd);
      free (w);
      return NULL;
    }
  w->next = l->watches;
  if (l->watches)
    l->watches->prev = w;
  l->watches = w;
  return w;
}

int
loop_watch_set_events (loop_watch *w, uint32_t events, polis_error **err)
{
  struct epoll_event ev = { .events = events, .data.ptr = w };
  int r = 0;
  if (w->dead)
    return 0;
  if (events == 0 && w->registered)
    r = epoll_ctl (w->l->epfd, EPOLL_CTL_DEL, w->fd, NULL);
  else if (events && w->registered)
    r = w->events == events ? 0 : epoll_ctl (w->l->epfd, EPOLL_CTL_MOD, w->fd, &ev);
  else if (events)
    r = epoll_ctl (w->l->epfd, EPOLL_CTL_ADD, w->fd, &ev);
  if (r < 0)
    return error_sys (err, "epoll_ctl fd %d", w->fd);
  w->registered = events != 0;
  w->events = events;
  return 0;
}

uint32_t
loop_watch_events (const loop_watch *w)
{
  return w->events;
}

int
loop_watch_fd (const loop_watch *w)
{
  return w->fd;
}

void
loop_watch_close (loop_watch *w)
{
  if (w == NULL || w->dead)
    return;
  loop *l = w->l;
  if (w->registered)
    epoll_ctl (l->epfd, EPOLL_CTL_DEL, w->fd, NULL);
  close (w->fd);
  w->fd = -1;
  w->dead = true;
  w->registered = false;
  if (w->prev)
    w->prev->next = w->next;
  else
    l->watches = w->next;
  if (w->next)
    w->next->prev = w->prev;
  w->prev = NULL;
  w->next = l->dead;
  l->dead = w;
  if (w->close_fn)
    w->close_fn (w->data);
}

static void
loop_timer_insert (loop *l, loop_timer *t)
{
  loop_timer **pp = &l->timers;
  while (*pp && (*pp)->deadline <= t->deadline)
    pp = &(*pp)->next;
  t->next = *pp;
  *pp = t;
}

loop_timer *
loop_add_timer (loop *l, uint64_t delay_ms, uint64_t interval_ms,
                loop_timer_fn fn, void *data)
{
  loop_timer *t = xzalloc (sizeof *t);
  t->l = l;
  t->deadline = loop_now_ms () + delay_ms;
  t->interval = interval_ms;
  t->fn = fn;
  t->data = data;
  loop_timer_insert (l, t);
  return t;
}

void
loop_timer_cancel (loop_timer *t)
{
  if (t == NULL)
    return;
  if (t->running)
    {
      t->dead = true;
      return;
    }
  for (loop_timer **pp = &t->l->timers; *pp; pp = &(*pp)->next)
    if (*pp == t)
      {
        *pp = t->next;
        break;
      }
  free (t);
}

/* Run the timers that are due; returns the ms until the next (-1: none). */
static int
loop_run_timers (loop *l)
{
  for (;;)
    {
      if (l->quit)
        return 0;
      loop_timer *t = l->timers;
      if (t == NULL)
        return -1;
      uint64_t now = loop_now_ms ();
      if (t->deadline > now)
        {
          uint64_t d = t->deadline - now;
          return d > 1000000 ? 1000000 : (int) d;
        }
      l->timers = t->next;
      t->next = NULL;
      t->running = true;
      loop_result r = t->fn (l, t->data);
      t->running = false;
      if (t->dead || r == LOOP_CLOSE || t->interval == 0)
        free (t);
      else
        {
          t->deadline = loop_now_ms () + t->interval;
          loop_timer_insert (l, t);
        }
    }
}

static loop_result
loop_on_signal (loop *l, int fd, uint32_t events, void *data)
{
  (void) events;
  (void) data;
  struct signalfd_siginfo si;
  while (read (fd, &si, sizeof si) == (ssize_t) sizeof si)
    if (l->sig_fn && l->sig_fn (l, &si, l->sig_data) == LOOP_CLOSE)
      {
        l->sig_fn = NULL;
        l->sigw = NULL;
        return LOOP_CLOSE;
      }
  return LOOP_CONTINUE;
}

int
loop_add_signals (loop *l, const sigset_t *set, loop_signal_fn fn, void *data,
                  polis_error **err)
{
  if (l->sigw)
    return error_set (err, ERROR_INTERNAL, EBUSY, "signals are already watched");
  if (sigprocmask (SIG_BLOCK, set, NULL) < 0)
    return error_sys (err, "sigprocmask");
  int fd = signalfd (-1, set, SFD_NONBLOCK | SFD_CLOEXEC);
  if (fd < 0)
    return error_sys (err, "signalfd");
  l->sig_fn = fn;
  l->sig_data = data;
  l->sigw = loop_add_fd (l, fd, EPOLLIN, loop_on_signal, NULL, NULL, err);
  return l->sigw ? 0 : -1;
}

int
loop_run (loop *l, polis_error **err)
{
  struct epoll_event evs[LOOP_MAX_EVENTS];
  l->quit = false;
  while (!l->quit)
    {
      int timeout = loop_run_timers (l);
      loop_free_dead (l);
      if (l->quit)
        break;
      int n = epoll_wait (l->epfd, evs, LOOP_MAX_EVENTS, timeout);
      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          return error_sys (err, "epoll_wait");
        }
      for (int i = 0; i < n && !l->quit; i++)
        {
          loop_watch *w = evs[i].data.ptr;
          if (w->dead)
            continue;
          loop_result r = w->fn (l, w->fd, evs[i].events, w->data);
          if (r == LOOP_CLOSE)
            loop_watch_close (w);
        }
      loop_free_dead (l);
    }
  return l->status;
}

void
loop_quit (loop *l, int status)
{
  l->quit = true;
  l->status = status;
}
