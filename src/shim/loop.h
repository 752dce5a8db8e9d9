/* loop.h - the shim's single-threaded event loop (STYLE.md rule 11).
 *
 * An epoll set of watched fds, each with an event mask and a callback, a
 * list of timers kept in deadline order (the next one is epoll_wait's
 * timeout: no timerfd), and signals taken through a signalfd.  Callbacks
 * return LOOP_CONTINUE, or LOOP_CLOSE to end what they serve: a watch is
 * then removed, its fd closed and its close function called; a timer is
 * freed instead of being re-armed.
 *
 * A watch or timer may be removed from inside any callback, its own
 * included: the loop frees it only once the current round of events is
 * dispatched, so a pending event for it is skipped, never delivered to
 * freed memory.
 */
#ifndef POLIS_SHIM_LOOP_H
#define POLIS_SHIM_LOOP_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/signalfd.h>

#include "base/error.h"

typedef enum
{
  LOOP_CONTINUE = 0,
  LOOP_CLOSE = 1,
} loop_result;

typedef struct loop loop;
typedef struct loop_watch loop_watch;
typedef struct loop_timer loop_timer;

/* EVENTS is the epoll mask that fired (EPOLLIN, EPOLLOUT, EPOLLHUP...). */
typedef loop_result (*loop_fd_fn) (loop *l, int fd, uint32_t events,
                                   void *data);
/* Called once when a watch ends (LOOP_CLOSE or loop_watch_close), after
   its fd is closed: frees DATA, say. */
typedef void (*loop_close_fn) (void *data);
typedef loop_result (*loop_timer_fn) (loop *l, void *data);
typedef loop_result (*loop_signal_fn) (loop *l,
                                       const struct signalfd_siginfo *si,
                                       void *data);

/* A new, empty loop.  NULL with *err set when epoll is unavailable. */
loop *loop_new (polis_error **err);
/* Close every watch (their close functions run), free every timer and the
   loop.  NULL-safe. */
void loop_free (loop *l);

/* Watch FD (the loop owns it from now on and closes it when the watch
   ends) for EVENTS.  Returns the watch, NULL with *err set (FD closed). */
loop_watch *loop_add_fd (loop *l, int fd, uint32_t events, loop_fd_fn fn,
                         loop_close_fn close_fn, void *data,
                         polis_error **err);
/* Change the mask of a watch (0 = nothing for now).  Returns -1 with
   *err set on failure. */
int loop_watch_set_events (loop_watch *w, uint32_t events, polis_error **err);
uint32_t loop_watch_events (const loop_watch *w);
int loop_watch_fd (const loop_watch *w);
/* End a watch now: as if its callback returned LOOP_CLOSE.  NULL-safe;
   a watch already ended is left alone. */
void loop_watch_close (loop_watch *w);

/* Call FN after DELAY_MS, then every INTERVAL_MS while it returns
   LOOP_CONTINUE (INTERVAL_MS 0: once, whatever it returns).  Never
   fails. */
loop_timer *loop_add_timer (loop *l, uint64_t delay_ms, uint64_t interval_ms,
                            loop_timer_fn fn, void *data);
/* Cancel a pending timer.  NULL-safe. */
void loop_timer_cancel (loop_timer *t);

/* Block the signals of SET and deliver them to FN through a signalfd.
   One such handler per loop. */
int loop_add_signals (loop *l, const sigset_t *set, loop_signal_fn fn,
                      void *data, polis_error **err);

/* Monotonic milliseconds (the clock the timers use). */
uint64_t loop_now_ms (void);

/* Dispatch events until loop_quit.  Returns the status given to
   loop_quit, or -1 with *err set if epoll_wait fails. */
int loop_run (loop *l, polis_error **err);
/* Make loop_run return STATUS once the current callback returns. */
void loop_quit (loop *l, int status);

#endif
