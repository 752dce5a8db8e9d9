/* stream.c - the container's streams on the client side. */
#include "cli/stream.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/file.h"

int
stream_demux_feed (stream_demux *d, const char *buf, size_t len,
                   polis_error **err)
{
  while (len > 0)
    {
      if (d->remaining == 0)
        {
          size_t take = 8 - d->hlen;
          if (take > len)
            take = len;
          memcpy (d->hdr + d->hlen, buf, take);
          d->hlen += take;
          buf += take;
          len -= take;
          if (d->hlen < 8)
            return 0;
          d->hlen = 0;
          d->stream = d->hdr[0];
          d->remaining = ((size_t) d->hdr[4] << 24) | ((size_t) d->hdr[5] << 16)
                         | ((size_t) d->hdr[6] << 8) | d->hdr[7];
          if (d->stream > 3)
            return error_set (err, ERROR_INVALID, EBADMSG,
                              "Unrecognized input header: %d", d->stream);
          if (d->remaining > STREAM_MAX_FRAME)
            return error_set (err, ERROR_INVALID, E2BIG,
                              "stream frame of %zu bytes is too large",
                              d->remaining);
          continue;
        }
      size_t take = d->remaining < len ? d->remaining : len;
      if (d->stream == 3)
        return error_set (err, ERROR_INTERNAL, 0,
                          "error from daemon in stream: %.*s", (int) take, buf);
      int fd = d->stream == 2 ? STDERR_FILENO : STDOUT_FILENO;
      cleanup_error polis_error *werr = NULL;
      /* A closed stdout (a pipe to head) is not our failure. */
      file_write_all (fd, buf, take, &werr);
      buf += take;
      len -= take;
      d->remaining -= take;
    }
  return 0;
}

int
stream_raw_mode (int fd, struct termios *saved)
{
  struct termios t;
  if (tcgetattr (fd, &t) < 0)
    return -1;
  *saved = t;
  cfmakeraw (&t);
  /* Keep output post-processing as docker's moby/term does not: raw. */
  if (tcsetattr (fd, TCSADRAIN, &t) < 0)
    return -1;
  return 0;
}

void
stream_restore_mode (int fd, const struct termios *saved)
{
  tcsetattr (fd, TCSADRAIN, saved);
}

bool
stream_term_size (int fd, int *rows, int *cols)
{
  struct winsize ws;
  if (ioctl (fd, TIOCGWINSZ, &ws) < 0 || ws.ws_row == 0)
    return false;
  *rows = ws.ws_row;
  *cols = ws.ws_col;
  return true;
}

int
stream_parse_detach_keys (const char *spec, unsigned char *out, size_t *len,
                          polis_error **err)
{
  *len = 0;
  const char *p = spec;
  while (*p)
    {
      const char *comma = strchr (p, ',');
      size_t n = comma ? (size_t) (comma - p) : strlen (p);
      unsigned char b;
      if (n == 1)
        b = (unsigned char) p[0];
      else if (n == 6 && strncasecmp (p, "ctrl-", 5) == 0)
        {
          char c = p[5];
          if (c >= 'a' && c <= 'z')
            b = (unsigned char) (c - 'a' + 1);
          else if (c >= 'A' && c <= 'Z')
            b = (unsigned char) (c - 'A' + 1);
          else if (c == '@')
            b = 0;
          else if (c >= '[' && c <= '_')
            b = (unsigned char) (c - '[' + 27);
          else
            return error_set (err, ERROR_INVALID, EINVAL, "Unknown character: '%.*s'", (int) n, p);
        }
      else
        return error_set (err, ERROR_INVALID, EINVAL, "Unknown character: '%.*s'", (int) n, p);
      if (*len >= 16)
        return error_set (err, ERROR_INVALID, E2BIG, "detach key sequence too long");
      out[(*len)++] = b;
      p += n + (comma ? 1 : 0);
    }
  if (*len == 0)
    return error_set (err, ERROR_INVALID, EINVAL, "empty detach key sequence");
  return 0;
}

static int
stream_output (stream_demux *d, bool tty, const char *buf, size_t len,
               polis_error **err)
{
  if (tty)
    {
      cleanup_error polis_error *werr = NULL;
      file_write_all (STDOUT_FILENO, buf, len, &werr);
      return 0;
    }
  return stream_demux_feed (d, buf, len, err);
}

int
stream_pump (http_conn *conn, const stream_opts *o, polis_error **err)
{
  int sock = http_conn_fd (conn);
  char buf[32768];
  stream_demux d = { 0 };

  size_t pre = http_conn_take_buffered (conn, buf, sizeof buf);
  if (pre > 0 && stream_output (&d, o->tty, buf, pre, err) < 0)
    return -1;

  sigset_t mask, old;
  sigemptyset (&mask);
  sigaddset (&mask, SIGWINCH);
  if (o->on_signal)
    {
      int fwd[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };
      for (size_t i = 0; i < sizeof fwd / sizeof fwd[0]; i++)
        sigaddset (&mask, fwd[i]);
    }
  sigprocmask (SIG_BLOCK, &mask, &old);
  cleanup_close int sfd = signalfd (-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);

  bool stdin_open = o->send_stdin;
  if (!stdin_open)
    shutdown (sock, SHUT_WR);
  static const unsigned char default_seq[] = { 0x10, 0x11 };
  const unsigned char *seq = o->detach_len ? o->detach_seq : default_seq;
  size_t seq_len = o->detach_len ? o->detach_len : sizeof default_seq;
  size_t matched = 0;
  int ret = 0;

  for (;;)
    {
      struct pollfd p[3] = {
        { sock, POLLIN, 0 },
        { stdin_open ? STDIN_FILENO : -1, POLLIN, 0 },
        { sfd, POLLIN, 0 },
      };
      int r = poll (p, 3, -1);
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        {
          ret = error_sys (err, "poll");
          break;
        }
      if (p[2].revents & POLLIN)
        {
          struct signalfd_siginfo si;
          while (read (sfd, &si, sizeof si) == (ssize_t) sizeof si)
            {
              if ((int) si.ssi_signo == SIGWINCH)
                {
                  int rows, cols;
                  if (o->on_resize && stream_term_size (STDIN_FILENO, &rows, &cols))
                    o->on_resize (o->ud, rows, cols);
                }
              else if (o->on_signal)
                o->on_signal (o->ud, (int) si.ssi_signo);
            }
        }
      if (p[1].revents & (POLLIN | POLLHUP | POLLERR))
        {
          ssize_t n = read (STDIN_FILENO, buf, sizeof buf);
          if (n < 0 && errno == EINTR)
            continue;
          if (n <= 0)
            {
              stdin_open = false;
              shutdown (sock, SHUT_WR);
            }
          else
            {
              if (o->detach_keys)
                for (ssize_t i = 0; i < n; i++)
                  {
                    if ((unsigned char) buf[i] == seq[matched])
                      matched++;
                    else
                      matched = (unsigned char) buf[i] == seq[0];
                    if (matched == seq_len)
                      {
                        ret = 1;
                        goto out;
                      }
                  }
              cleanup_error polis_error *werr = NULL;
              if (http_conn_send_raw (conn, buf, (size_t) n, &werr) < 0)
                {
                  stdin_open = false;
                }
            }
        }
      if (p[0].revents & (POLLIN | POLLHUP | POLLERR))
        {
          ssize_t n = read (sock, buf, sizeof buf);
          if (n < 0 && errno == EINTR)
            continue;
          if (n < 0 && errno == ECONNRESET)
            break;
          if (n < 0)
            {
              ret = error_sys (err, "read stream");
              break;
            }
          if (n == 0)
            break;
          if (stream_output (&d, o->tty, buf, (size_t) n, err) < 0)
            {
              ret = -1;
              break;
            }
        }
    }
out:
  sigprocmask (SIG_SETMASK, &old, NULL);
  return ret;
}

int
stream_copy_body (http_conn *conn, bool tty, polis_error **err)
{
  char buf[32768];
  stream_demux d = { 0 };
  for (;;)
    {
      ssize_t n = http_conn_read_body (conn, buf, sizeof buf, err);
      if (n < 0)
        return -1;
      if (n == 0)
        return 0;
      if (stream_output (&d, tty, buf, (size_t) n, err) < 0)
        return -1;
    }
}
