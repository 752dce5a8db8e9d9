/* shim_io.c - a process's stdio as the shim holds it.
 *
 * Without a TTY the process writes into two pipes (stdout, stderr) and
 * reads a third (stdin, or /dev/null); with one, everything goes through
 * the pty master that the runtime hands back.  Each chunk of output goes,
 * as it is read, to the log (the container's output only) and to every
 * attached client in the form Docker clients read: raw with a TTY,
 * stdcopy frames without.  Nothing is buffered in between, so a client
 * that attached before the start misses nothing.  A client that cannot
 * keep up holds the output back once SHIM_CONN_HIGH bytes wait for it, as
 * Docker's attach does.
 *
 * The output ends when every output fd has hung up, or when the process
 * has been reaped and what it left in the pipes has been read (a process
 * outside a pid namespace may leave children holding the pipes).
 */
#include "shim.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/log.h"
#include "base/xalloc.h"

/* Bytes read per callback; and most of stdin held for a full pipe. */
#define SHIM_IO_READ 8192
#define SHIM_IO_STDIN_MAX (64 * 1024)

struct shim_stdio
{
  shim *sh;
  shim_io_mode mode;
  bool tty;
  bool stdin_once;
  bool open_stdin;
  int child[3];         /* the process's ends until it runs */
  int out_fd[2];        /* read ends until started */
  int in_fd;            /* stdin's write end until started */
  loop_watch *out_w[2]; /* stdout (or the pty), stderr */
  loop_watch *in_w;     /* stdin's write end, or a dup of the pty master */
  char *in_buf;         /* stdin not yet written */
  size_t in_len;
  bool in_close_pending; /* close stdin once IN_BUF is written */
  bool paused;          /* output held back for a slow client */
  bool started;
  bool ended;
  char *cap;            /* SHIM_IO_CAPTURE */
  size_t cap_len;
  bool cap_cut;
  loop_timer *end_timer;
  void (*on_end) (void *data);
  void *data;
};

static void
shim_io_close_fds (int *fds, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (fds[i] >= 0)
      {
        close (fds[i]);
        fds[i] = -1;
      }
}

static int
shim_io_devnull (polis_error **err)
{
  int fd = open ("/dev/null", O_RDWR | O_CLOEXEC);
  if (fd < 0)
    return error_sys (err, "open /dev/null");
  return fd;
}

shim_stdio *
shim_stdio_new (shim *sh, shim_io_mode mode, bool tty, bool open_stdin,
                bool stdin_once, int child[3], void (*on_end) (void *data),
                void *data, polis_error **err)
{
  shim_stdio *io = xzalloc (sizeof *io);
  io->sh = sh;
  io->mode = mode;
  io->tty = tty;
  io->stdin_once = stdin_once;
  io->open_stdin = open_stdin;
  io->in_fd = -1;
  io->on_end = on_end;
  io->data = data;
  io->child[0] = io->child[1] = io->child[2] = -1;
  io->out_fd[0] = io->out_fd[1] = -1;
  int p[2];

  if (tty)
    {
      /* The runtime gives the process the pty's slave as 0, 1, 2; these
         are placeholders that keep our own stdio out of it. */
      for (int i = 0; i < 3; i++)
        if ((io->child[i] = shim_io_devnull (err)) < 0)
          goto fail;
      goto done;
    }
  if (open_stdin)
    {
      if (pipe2 (p, O_CLOEXEC) < 0)
        {
          error_sys (err, "pipe");
          goto fail;
        }
      io->child[0] = p[0];
      io->in_fd = p[1];
      fcntl (p[1], F_SETFL, O_NONBLOCK);
    }
  else if ((io->child[0] = shim_io_devnull (err)) < 0)
    goto fail;
  /* A probe's output is one stream: both ends share a pipe. */
  int streams = mode == SHIM_IO_CAPTURE || mode == SHIM_IO_DISCARD ? 1 : 2;
  for (int i = 0; i < streams; i++)
    {
      if (pipe2 (p, O_CLOEXEC) < 0)
        {
          error_sys (err, "pipe");
          goto fail;
        }
      fcntl (p[0], F_SETFL, O_NONBLOCK);
      io->out_fd[i] = p[0];
      io->child[1 + i] = p[1];
    }
  if (streams == 1)
    {
      io->child[2] = fcntl (io->child[1], F_DUPFD_CLOEXEC, 3);
      if (io->child[2] < 0)
        {
          error_sys (err, "dup");
          goto fail;
        }
    }
done:
  memcpy (child, io->child, sizeof io->child);
  return io;

fail:
  shim_stdio_free (io);
  return NULL;
}

/* Every client attached to IO that wants STREAM (1 stdout, 2 stderr). */
static bool
shim_io_wants (const shim_conn *c, const shim_stdio *io, int stream)
{
  return c->io == io && (stream == 1 ? c->want_out : c->want_err);
}

static void
shim_io_fan_out (shim_stdio *io, int stream, const char *buf, size_t n)
{
  shim *sh = io->sh;
  switch (io->mode)
    {
    case SHIM_IO_CAPTURE:
      {
        size_t keep = HEALTH_OUTPUT_MAX - io->cap_len;
        if (keep > n)
          keep = n;
        if (io->cap == NULL)
          io->cap = xmalloc (HEALTH_OUTPUT_MAX + 4);
        memcpy (io->cap + io->cap_len, buf, keep);
        io->cap_len += keep;
        if (keep < n)
          io->cap_cut = true;
        return;
      }
    case SHIM_IO_DISCARD:
      return;
    case SHIM_IO_CONTAINER:
      if (sh->log)
        {
          cleanup_error polis_error *e = NULL;
          if (jsonlog_writer_feed (sh->log, (jsonlog_stream) stream, buf, n, shim_now_ns (), &e)
              < 0)
            log_warning ("%s", e->msg);
        }
      break;
    case SHIM_IO_EXEC:
      break;
    }
  uint8_t hdr[SHIM_PROTO_STDCOPY_HEADER];
  shim_proto_stdcopy_header (hdr, (shim_proto_stream) stream, (uint32_t) n);
  bool hold = false;
  for (shim_conn *c = sh->conns; c; c = c->next)
    {
      if (!shim_io_wants (c, io, stream))
        continue;
      if (!io->tty)
        shim_conn_send (c, hdr, sizeof hdr);
      shim_conn_send (c, buf, n);
      if (shim_conn_backlog (c) > SHIM_CONN_HIGH)
        hold = true;
    }
  if (hold && !io->paused)
    {
      io->paused = true;
      for (int i = 0; i < 2; i++)
        if (io->out_w[i])
          loop_watch_set_events (io->out_w[i], 0, NULL);
    }
}

static loop_result
shim_io_on_end_timer (loop *l, void *data)
{
  (void) l;
  shim_stdio *io = data;
  io->end_timer = NULL;
  if (io->on_end)
    io->on_end (io->data);
  return LOOP_CLOSE;
}

static void
shim_io_close_stdin (shim_stdio *io)
{
  loop_watch_close (io->in_w);
  io->in_w = NULL;
  free (io->in_buf);
  io->in_buf = NULL;
  io->in_len = 0;
}

/* The output is over: end every stream, write what waits in the log. */
static void
shim_io_end (shim_stdio *io)
{
  if (io->ended)
    return;
  io->ended = true;
  for (shim_conn *c = io->sh->conns; c; c = c->next)
    if (c->io == io)
      {
        c->io = NULL;
        shim_conn_finish (c);
      }
  if (io->mode == SHIM_IO_CONTAINER && io->sh->log)
    {
      int64_t now = shim_now_ns ();
      for (int s = JSONLOG_STDOUT; s <= JSONLOG_STDERR; s++)
        {
          cleanup_error polis_error *e = NULL;
          if (jsonlog_writer_flush (io->sh->log, (jsonlog_stream) s, now, &e) < 0)
            log_warning ("%s", e->msg);
        }
    }
  shim_io_close_stdin (io);
  if (io->on_end)
    io->end_timer = loop_add_timer (io->sh->loop, 0, 0, shim_io_on_end_timer, io);
}

/* Read once from output I: 1 when data came, 0 when there was none for
   now, -1 at its end. */
static int
shim_io_read (shim_stdio *io, int i, int fd)
{
  char buf[SHIM_IO_READ];
  ssize_t n = read (fd, buf, sizeof buf);
  if (n > 0)
    {
      shim_io_fan_out (io, i + 1, buf, (size_t) n);
      return 1;
    }
  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return 0;
  /* EOF, or EIO from a pty whose slave is closed everywhere. */
  return -1;
}

static loop_result
shim_io_on_output (shim_stdio *io, int i, int fd)
{
  if (shim_io_read (io, i, fd) >= 0)
    return LOOP_CONTINUE;
  io->out_w[i] = NULL;
  if (io->out_w[0] == NULL && io->out_w[1] == NULL)
    shim_io_end (io);
  return LOOP_CLOSE;
}

static loop_result
shim_io_on_stdout (loop *l, int fd, uint32_t events, void *data)
{
  (void) l;
  (void) events;
  return shim_io_on_output (data, 0, fd);
}

static loop_result
shim_io_on_stderr (loop *l, int fd, uint32_t events, void *data)
{
  (void) l;
  (void) events;
  return shim_io_on_output (data, 1, fd);
}

/* The attached clients that send stdin may read again (or must stop). */
static void
shim_io_set_readers (shim_stdio *io, bool on)
{
  for (shim_conn *c = io->sh->conns; c; c = c->next)
    if (c->io == io && c->want_in && !c->in_eof)
      shim_conn_set_reading (c, on);
}

/* Write what waits for stdin.  Returns false if stdin is gone. */
static bool
shim_io_flush_stdin (shim_stdio *io)
{
  size_t off = 0;
  int fd = loop_watch_fd (io->in_w);
  while (off < io->in_len)
    {
      ssize_t n = write (fd, io->in_buf + off, io->in_len - off);
      if (n > 0)
        {
          off += (size_t) n;
          continue;
        }
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && errno == EAGAIN)
        break;
      return false; /* EPIPE: the process closed its stdin */
    }
  memmove (io->in_buf, io->in_buf + off, io->in_len - off);
  io->in_len -= off;
  return true;
}

static loop_result
shim_io_on_stdin (loop *l, int fd, uint32_t events, void *data)
{
  (void) l;
  (void) fd;
  (void) events;
  shim_stdio *io = data;
  if (!shim_io_flush_stdin (io))
    {
      io->in_w = NULL;
      free (io->in_buf);
      io->in_buf = NULL;
      io->in_len = 0;
      return LOOP_CLOSE;
    }
  if (io->in_len)
    return LOOP_CONTINUE;
  loop_watch_set_events (io->in_w, 0, NULL);
  if (io->in_close_pending)
    {
      io->in_w = NULL;
      return LOOP_CLOSE;
    }
  shim_io_set_readers (io, true);
  return LOOP_CONTINUE;
}

int
shim_stdio_started (shim_stdio *io, int master, polis_error **err)
{
  shim_io_close_fds (io->child, 3);
  io->started = true;
  if (master >= 0)
    {
      fcntl (master, F_SETFL, O_NONBLOCK);
      io->out_fd[0] = master;
      if (io->open_stdin)
        {
          io->in_fd = fcntl (master, F_DUPFD_CLOEXEC, 3);
          if (io->in_fd < 0)
            return error_sys (err, "dup");
        }
    }
  if (io->in_fd >= 0)
    {
      int fd = io->in_fd;
      io->in_fd = -1;
      io->in_w = loop_add_fd (io->sh->loop, fd, 0, shim_io_on_stdin, NULL, io, err);
      if (io->in_w == NULL)
        return -1;
    }
  loop_fd_fn fns[2] = { shim_io_on_stdout, shim_io_on_stderr };
  for (int i = 0; i < 2; i++)
    {
      if (io->out_fd[i] < 0)
        continue;
      int fd = io->out_fd[i];
      io->out_fd[i] = -1;
      io->out_w[i] = loop_add_fd (io->sh->loop, fd, EPOLLIN, fns[i], NULL, io, err);
      if (io->out_w[i] == NULL)
        return -1;
    }
  if (io->out_w[0] == NULL && io->out_w[1] == NULL)
    shim_io_end (io);
  return 0;
}

void
shim_stdio_process_exited (shim_stdio *io)
{
  if (io == NULL || io->ended)
    return;
  /* Whatever the process wrote is in the pipes by now: read it all,
     then end, even if a stray child still holds a write end. */
  for (int i = 0; i < 2; i++)
    {
      loop_watch *w = io->out_w[i];
      if (w == NULL)
        continue;
      /* Bounded: a stray writer must not keep us here. */
      for (int n = 0; n < 128 && shim_io_read (io, i, loop_watch_fd (w)) > 0; n++)
        ;
      io->out_w[i] = NULL;
      loop_watch_close (w);
    }
  shim_io_end (io);
}

bool
shim_stdio_ended (const shim_stdio *io)
{
  return io == NULL || io->ended;
}

void
shim_stdio_free (shim_stdio *io)
{
  if (io == NULL)
    return;
  for (shim_conn *c = io->sh->conns; c; c = c->next)
    if (c->io == io)
      {
        c->io = NULL;
        shim_conn_finish (c);
      }
  shim_io_close_fds (io->child, 3);
  shim_io_close_fds (io->out_fd, 2);
  shim_io_close_fds (&io->in_fd, 1);
  for (int i = 0; i < 2; i++)
    loop_watch_close (io->out_w[i]);
  loop_watch_close (io->in_w);
  loop_timer_cancel (io->end_timer);
  free (io->in_buf);
  free (io->cap);
  free (io);
}

int
shim_stdio_attach (shim_stdio *io, shim_conn *c, bool in, bool out, bool errs,
                   const char *detach_keys, polis_error **err)
{
  c->kind = SHIM_CONN_STREAM;
  c->dk_n = c->dk_matched = 0;
  if (io->tty && in)
    {
      /* Docker ends a TTY attach on its detach keys, ctrl-p ctrl-q unless
         told otherwise. */
      const char *keys = detach_keys && *detach_keys ? detach_keys : "ctrl-p,ctrl-q";
      if (shim_proto_parse_detach_keys (keys, c->dk, &c->dk_n, err) < 0)
        return -1;
    }
  c->io = io;
  c->want_in = in && io->in_w != NULL;
  c->want_out = out;
  c->want_err = errs;
  c->in_eof = false;
  if (io->ended)
    {
      c->io = NULL;
      shim_conn_finish (c);
      return 0;
    }
  shim_conn_set_reading (c, c->want_in && io->in_len == 0);
  return 0;
}

/* Queue DATA for stdin. */
static void
shim_io_write_stdin (shim_stdio *io, const char *data, size_t len)
{
  if (io->in_w == NULL || io->in_close_pending || len == 0)
    return;
  if (io->in_len + len > SHIM_IO_STDIN_MAX)
    len = SHIM_IO_STDIN_MAX - io->in_len; /* cannot happen: readers stop first */
  if (io->in_buf == NULL)
    io->in_buf = xmalloc (SHIM_IO_STDIN_MAX);
  memcpy (io->in_buf + io->in_len, data, len);
  io->in_len += len;
  if (!shim_io_flush_stdin (io))
    {
      shim_io_close_stdin (io);
      return;
    }
  if (io->in_len)
    {
      loop_watch_set_events (io->in_w, EPOLLOUT, NULL);
      shim_io_set_readers (io, false);
    }
}

void
shim_stdio_input (shim_stdio *io, shim_conn *c, const char *data, size_t len,
                  bool eof)
{
  if (eof)
    {
      c->in_eof = true;
      shim_conn_set_reading (c, false);
      /* Docker closes the process's stdin on the client's EOF only with
         StdinOnce, and never a TTY's. */
      if (io->stdin_once && !io->tty && io->in_w)
        {
          if (io->in_len)
            io->in_close_pending = true;
          else
            shim_io_close_stdin (io);
        }
      return;
    }
  if (c->dk_n == 0)
    {
      shim_io_write_stdin (io, data, len);
      return;
    }
  /* Hold bytes that may start the detach sequence; let them go when the
     sequence breaks (moby's copyEscapable). */
  size_t from = 0;
  for (size_t i = 0; i < len; i++)
    {
      uint8_t b = (uint8_t) data[i];
      if (b == c->dk[c->dk_matched])
        {
          shim_io_write_stdin (io, data + from, i - from);
          from = i + 1;
          if (++c->dk_matched == c->dk_n)
            {
              c->dk_matched = 0;
              c->io = NULL;
              shim_conn_finish (c);
              return;
            }
          continue;
        }
      if (c->dk_matched)
        {
          shim_io_write_stdin (io, data + from, i - from);
          shim_io_write_stdin (io, (const char *) c->dk, c->dk_matched);
          c->dk_matched = 0;
          from = i;
          if (b == c->dk[0])
            {
              from = i + 1;
              c->dk_matched = 1;
            }
        }
    }
  shim_io_write_stdin (io, data + from, len - from);
}

void
shim_stdio_detach (shim_stdio *io, shim_conn *c)
{
  (void) io;
  c->io = NULL;
}

void
shim_stdio_resume (shim_stdio *io)
{
  if (!io->paused)
    return;
  for (shim_conn *c = io->sh->conns; c; c = c->next)
    if (c->io == io && shim_conn_backlog (c) > SHIM_CONN_LOW)
      return;
  io->paused = false;
  for (int i = 0; i < 2; i++)
    if (io->out_w[i])
      loop_watch_set_events (io->out_w[i], EPOLLIN, NULL);
}

int
shim_stdio_resize (shim_stdio *io, unsigned height, unsigned width,
                   polis_error **err)
{
  if (io == NULL || !io->tty || io->out_w[0] == NULL)
    return error_set (err, ERROR_CONFLICT, ENOTTY, "the process has no terminal");
  struct winsize ws = { .ws_row = (unsigned short) height, .ws_col = (unsigned short) width };
  if (ioctl (loop_watch_fd (io->out_w[0]), TIOCSWINSZ, &ws) < 0)
    return error_sys (err, "resize the terminal");
  return 0;
}

char *
shim_stdio_captured (const shim_stdio *io)
{
  char *s = xmalloc (io->cap_len + 4);
  if (io->cap_len)
    memcpy (s, io->cap, io->cap_len);
  memcpy (s + io->cap_len, io->cap_cut ? "..." : "", io->cap_cut ? 4 : 1);
  return s;
}
