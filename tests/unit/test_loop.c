/* Unit tests for shim/loop.c */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <cmocka.h>

#include "shim/loop.h"

typedef struct
{
  int reads;
  int closed;
  char got[64];
  size_t len;
  loop_watch *other; /* closed from the callback, with an event pending */
  int other_calls;
} fd_ctx;

static loop_result
on_read (loop *l, int fd, uint32_t events, void *data)
{
  fd_ctx *c = data;
  (void) events;
  c->reads++;
  ssize_t n = read (fd, c->got + c->len, sizeof c->got - c->len - 1);
  if (n <= 0)
    {
      loop_quit (l, 7);
      return LOOP_CLOSE;
    }
  c->len += (size_t) n;
  return LOOP_CONTINUE;
}

static void
on_close (void *data)
{
  fd_ctx *c = data;
  c->closed++;
}

static void
test_fd_read_and_close (void **state)
{
  (void) state;
  polis_error *err = NULL;
  loop *l = loop_new (&err);
  assert_non_null (l);
  int p[2];
  assert_int_equal (pipe (p), 0);
  fd_ctx c = { 0 };
  assert_non_null (loop_add_fd (l, p[0], EPOLLIN, on_read, on_close, &c, &err));
  assert_int_equal (write (p[1], "hello", 5), 5);
  close (p[1]);
  /* The callback reads "hello", then EOF: LOOP_CLOSE and loop_quit (7). */
  assert_int_equal (loop_run (l, &err), 7);
  assert_int_equal (c.closed, 1);
  assert_string_equal (c.got, "hello");
  loop_free (l);
}

static loop_result
on_count (loop *l, void *data)
{
  int *n = data;
  (*n)++;
  if (*n == 3)
    {
      loop_quit (l, 0);
      return LOOP_CLOSE;
    }
  return LOOP_CONTINUE;
}

typedef struct
{
  int order[4];
  int n;
} order_ctx;

static order_ctx order;

static loop_result
on_order_1 (loop *l, void *data)
{
  (void) l;
  (void) data;
  order.order[order.n++] = 1;
  return LOOP_CONTINUE;
}

static loop_result
on_order_2 (loop *l, void *data)
{
  (void) data;
  order.order[order.n++] = 2;
  loop_quit (l, 0);
  return LOOP_CONTINUE;
}

static loop_result
on_never (loop *l, void *data)
{
  (void) l;
  (void) data;
  fail_msg ("a cancelled timer ran");
  return LOOP_CLOSE;
}

static void
test_timers (void **state)
{
  (void) state;
  polis_error *err = NULL;
  loop *l = loop_new (&err);
  /* A periodic timer runs until it returns LOOP_CLOSE. */
  int n = 0;
  uint64_t t0 = loop_now_ms ();
  loop_add_timer (l, 5, 5, on_count, &n);
  assert_int_equal (loop_run (l, &err), 0);
  assert_int_equal (n, 3);
  assert_true (loop_now_ms () - t0 >= 15);

  /* Deadlines order the calls, not the order of adding; a cancelled
     timer never runs; a one-shot timer runs once. */
  memset (&order, 0, sizeof order);
  loop_add_timer (l, 20, 0, on_order_2, NULL);
  loop_timer *never = loop_add_timer (l, 1, 0, on_never, NULL);
  loop_add_timer (l, 2, 0, on_order_1, NULL);
  loop_timer_cancel (never);
  assert_int_equal (loop_run (l, &err), 0);
  assert_int_equal (order.n, 2);
  assert_int_equal (order.order[0], 1);
  assert_int_equal (order.order[1], 2);
  loop_free (l);
}

/* Closing another watch whose event is already in the current batch: it
   must not be called, and nothing freed may be touched (ASan checks). */
static loop_result
on_close_other (loop *l, int fd, uint32_t events, void *data)
{
  fd_ctx *c = data;
  char b;
  (void) l;
  (void) events;
  c->reads++;
  if (read (fd, &b, 1) != 1)
    return LOOP_CLOSE;
  if (c->other)
    {
      loop_watch_close (c->other);
      c->other = NULL;
    }
  return LOOP_CONTINUE;
}

static void
test_close_other_in_batch (void **state)
{
  (void) state;
  polis_error *err = NULL;
  loop *l = loop_new (&err);
  int a[2], b[2];
  assert_int_equal (pipe (a), 0);
  assert_int_equal (pipe (b), 0);
  fd_ctx ca = { 0 }, cb = { 0 };
  loop_watch *wa = loop_add_fd (l, a[0], EPOLLIN, on_close_other, on_close, &ca, &err);
  loop_watch *wb = loop_add_fd (l, b[0], EPOLLIN, on_close_other, on_close, &cb, &err);
  ca.other = wb;
  cb.other = wa;
  /* Both readable, so both are in the first batch: whichever runs first
     closes the other, whose event is then skipped. */
  assert_int_equal (write (a[1], "x", 1), 1);
  assert_int_equal (write (b[1], "y", 1), 1);
  int ticks = 2;
  loop_add_timer (l, 20, 0, on_count, &ticks);
  assert_int_equal (loop_run (l, &err), 0);
  assert_int_equal (ca.reads + cb.reads, 1);
  assert_int_equal (ca.closed + cb.closed, 1);
  loop_free (l);
  assert_int_equal (ca.closed + cb.closed, 2);
  close (a[1]);
  close (b[1]);
}

static void
test_set_events (void **state)
{
  (void) state;
  polis_error *err = NULL;
  loop *l = loop_new (&err);
  int p[2];
  assert_int_equal (pipe (p), 0);
  fd_ctx c = { 0 };
  loop_watch *w = loop_add_fd (l, p[0], 0, on_read, on_close, &c, &err);
  assert_non_null (w);
  /* Watching nothing: a hung-up pipe does not wake the loop. */
  close (p[1]);
  int ticks = 0;
  loop_add_timer (l, 30, 0, on_count, &ticks);
  loop_add_timer (l, 31, 0, on_count, &ticks);
  loop_add_timer (l, 32, 0, on_count, &ticks);
  assert_int_equal (loop_run (l, &err), 0);
  assert_int_equal (c.reads, 0);
  assert_int_equal (loop_watch_events (w), 0u);
  /* Watching input again: EOF arrives. */
  assert_int_equal (loop_watch_set_events (w, EPOLLIN, &err), 0);
  assert_int_equal (loop_run (l, &err), 7);
  assert_int_equal (c.reads, 1);
  loop_free (l);
}

static int signals_seen;

static loop_result
on_signal (loop *l, const struct signalfd_siginfo *si, void *data)
{
  (void) data;
  if (si->ssi_signo == SIGUSR1)
    signals_seen++;
  loop_quit (l, 0);
  return LOOP_CONTINUE;
}

static void
test_signals (void **state)
{
  (void) state;
  polis_error *err = NULL;
  loop *l = loop_new (&err);
  sigset_t set;
  sigemptyset (&set);
  sigaddset (&set, SIGUSR1);
  assert_int_equal (loop_add_signals (l, &set, on_signal, NULL, &err), 0);
  kill (getpid (), SIGUSR1);
  assert_int_equal (loop_run (l, &err), 0);
  assert_int_equal (signals_seen, 1);
  loop_free (l);
  sigprocmask (SIG_UNBLOCK, &set, NULL);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_fd_read_and_close),
    cmocka_unit_test (test_timers),
    cmocka_unit_test (test_close_other_in_batch),
    cmocka_unit_test (test_set_events),
    cmocka_unit_test (test_signals),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
