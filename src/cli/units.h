/* units.h - Docker's human units: sizes ("1.2MB", "1.5MiB"), durations
 * ("3 seconds", "About a minute"), byte and duration flags ("512m", "1.5s")
 * and RFC 3339 times, as github.com/docker/go-units and Go's time print
 * and parse them.
 */
#ifndef POLIS_CLI_UNITS_H
#define POLIS_CLI_UNITS_H

#include <stdbool.h>
#include <stdint.h>

/* HumanSizeWithPrecision: decimal units, PRECISION significant digits.
   Heap string. */
char *units_human_size (double size, int precision);
/* BytesSize: binary units ("1.5MiB"). Heap string. */
char *units_bytes_size (double size);
/* HumanDuration of SECONDS ("Less than a second", "About an hour"). */
char *units_human_duration (double seconds);
/* RAMInBytes ("512m", "1g", "100"): -1 on a malformed value. */
int64_t units_ram_in_bytes (const char *s);
/* A Go duration ("1m30s", "500ms", "2h"); a bare number is seconds when
   BARE_SECONDS.  -1 on error.  Nanoseconds. */
int64_t units_parse_duration_ns (const char *s, bool bare_seconds);
/* RFC 3339 (with optional fraction) to unix nanoseconds; 0 on error or
   for Go's zero time. */
int64_t units_parse_rfc3339_ns (const char *s);
/* Unix nanoseconds now. */
int64_t units_now_ns (void);
/* Go's time.Time String() of unix seconds in local time:
   "2006-01-02 15:04:05 -0700 MST". Heap string. */
char *units_time_string (int64_t unix_s);

#endif
