/* log.h - diagnostics in text or JSON, as runc's --log / --log-format.
 *
 * One process-wide sink: stderr by default, or a file opened with
 * log_open().  JSON lines look like runc's (logrus):
 *   {"level":"error","msg":"...","time":"2026-11-29T04:55:43Z"}
 * Debug lines are dropped unless log_set_debug(true).  Logging never fails
 * the caller: a sink that cannot be written to is silently skipped.
 */
#ifndef POLIS_BASE_LOG_H
#define POLIS_BASE_LOG_H

#include <stdbool.h>

#include "error.h"

typedef enum
{
  LOG_LEVEL_ERROR = 0,
  LOG_LEVEL_WARNING,
  LOG_LEVEL_INFO,
  LOG_LEVEL_DEBUG,
} log_level;

typedef enum
{
  LOG_FORMAT_TEXT = 0,
  LOG_FORMAT_JSON,
} log_format;

/* Send logs to PATH (appended, created 0600) instead of stderr.
   Returns -1 with *err set when it cannot be opened. */
int log_open (const char *path, polis_error **err);
/* Use FD (not owned) as the sink; -1 returns to stderr. */
void log_set_fd (int fd);
void log_set_format (log_format fmt);
void log_set_debug (bool on);
bool log_debug_enabled (void);
/* Parse "text" or "json".  Returns -1 with *err set for anything else. */
int log_parse_format (const char *s, log_format *out, polis_error **err);
/* The fd logs go to (for passing to children); -1 means stderr. */
int log_get_fd (void);

void log_msg (log_level level, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

#define log_error(...) log_msg (LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warning(...) log_msg (LOG_LEVEL_WARNING, __VA_ARGS__)
#define log_info(...) log_msg (LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...)                                                         \
  do                                                                           \
    {                                                                          \
      if (log_debug_enabled ())                                                \
        log_msg (LOG_LEVEL_DEBUG, __VA_ARGS__);                                \
    }                                                                          \
  while (0)

#endif
