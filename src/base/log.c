/* log.c - diagnostics in text or JSON. */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "xalloc.h"

static int log_fd = -1;
static bool log_owned;
static log_format log_fmt = LOG_FORMAT_TEXT;
static bool log_debug_on;

static const char *const log_level_names[] = {
  [LOG_LEVEL_ERROR] = "error",
  [LOG_LEVEL_WARNING] = "warning",
  [LOG_LEVEL_INFO] = "info",
  [LOG_LEVEL_DEBUG] = "debug",
};

int
log_open (const char *path, polis_error **err)
{
  int fd = open (path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    return error_sys (err, "open log file `%s`", path);
  if (log_owned && log_fd >= 0)
    close (log_fd);
  log_fd = fd;
  log_owned = true;
  return 0;
}

void
log_set_fd (int fd)
{
  if (log_owned && log_fd >= 0)
    close (log_fd);
  log_fd = fd;
  log_owned = false;
}

int
log_get_fd (void)
{
  return log_fd;
}

void
log_set_format (log_format fmt)
{
  log_fmt = fmt;
}

void
log_set_debug (bool on)
{
  log_debug_on = on;
}

bool
log_debug_enabled (void)
{
  return log_debug_on;
}

int
log_parse_format (const char *s, log_format *out, polis_error **err)
{
  if (strcmp (s, "text") == 0)
    *out = LOG_FORMAT_TEXT;
  else if (strcmp (s, "json") == 0)
    *out = LOG_FORMAT_JSON;
  else
    return error_set (err, ERROR_INVALID, EINVAL,
                      "invalid log format `%s`: expected text or json", s);
  return 0;
}

/* Append S to OUT as the inside of a JSON string. */
static void
log_json_escape (FILE *out, const char *s)
{
  for (const unsigned char *p = (const unsigned char *) s; *p; p++)
    {
      switch (*p)
        {
        case '"':
          fputs ("\\\"", out);
          break;
        case '\\':
          fputs ("\\\\", out);
          break;
        case '\n':
          fputs ("\\n", out);
          break;
        case '\t':
          fputs ("\\t", out);
          break;
        case '\r':
          fputs ("\\r", out);
          break;
        default:
          if (*p < 0x20)
            fprintf (out, "\\u%04x", *p);
          else
            fputc (*p, out);
        }
    }
}

void
log_msg (log_level level, const char *fmt, ...)
{
  int saved = errno;
  cleanup_free char *msg = NULL;
  cleanup_free char *line = NULL;
  size_t line_len = 0;
  va_list ap;

  va_start (ap, fmt);
  if (vasprintf (&msg, fmt, ap) < 0)
    msg = NULL;
  va_end (ap);
  if (msg == NULL)
    goto out;

  FILE *out = open_memstream (&line, &line_len);
  if (out == NULL)
    goto out;

  struct timespec ts;
  struct tm tm;
  char stamp[64];
  clock_gettime (CLOCK_REALTIME, &ts);
  gmtime_r (&ts.tv_sec, &tm);
  strftime (stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);

  if (log_fmt == LOG_FORMAT_JSON)
    {
      fprintf (out, "{\"level\":\"%s\",\"msg\":\"", log_level_names[level]);
      log_json_escape (out, msg);
      fprintf (out, "\",\"time\":\"%s.%09ldZ\"}\n", stamp, ts.tv_nsec);
    }
  else if (log_fd >= 0)
    fprintf (out, "%s.%09ldZ %s: %s\n", stamp, ts.tv_nsec,
             log_level_names[level], msg);
  else
    fprintf (out, "%s: %s\n", log_level_names[level], msg);
  fclose (out);

  /* One write per line so that concurrent writers do not interleave. */
  int fd = log_fd >= 0 ? log_fd : 2;
  size_t off = 0;
  while (off < line_len)
    {
      ssize_t w = write (fd, line + off, line_len - off);
      if (w < 0 && errno == EINTR)
        continue;
      if (w <= 0)
        break;
      off += (size_t) w;
    }
out:
  errno = saved;
}
