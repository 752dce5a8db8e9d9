/* units.c - Docker's human units. */
#include "cli/units.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/xalloc.h"

static const char *const decimal_units[]
    = { "B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB" };
static const char *const binary_units[]
    = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB" };

static char *
units_custom (double size, double base, const char *const *names,
              int precision)
{
  int i = 0;
  while (size >= base && i < 8)
    {
      size /= base;
      i++;
    }
  return xasprintf ("%.*g%s", precision, size, names[i]);
}

char *
units_human_size (double size, int precision)
{
  return units_custom (size, 1000.0, decimal_units, precision);
}

char *
units_bytes_size (double size)
{
  return units_custom (size, 1024.0, binary_units, 4);
}

char *
units_human_duration (double seconds_f)
{
  long long seconds = (long long) seconds_f;
  if (seconds < 1)
    return xstrdup ("Less than a second");
  if (seconds == 1)
    return xstrdup ("1 second");
  if (seconds < 60)
    return xasprintf ("%lld seconds", seconds);
  long long minutes = (long long) (seconds_f / 60);
  if (minutes == 1)
    return xstrdup ("About a minute");
  if (minutes < 60)
    return xasprintf ("%lld minutes", minutes);
  long long hours = (long long) llround (seconds_f / 3600.0);
  if (hours == 1)
    return xstrdup ("About an hour");
  if (hours < 48)
    return xasprintf ("%lld hours", hours);
  if (hours < 24 * 7 * 2)
    return xasprintf ("%lld days", hours / 24);
  if (hours < 24 * 30 * 2)
    return xasprintf ("%lld weeks", hours / 24 / 7);
  if (hours < 24 * 365 * 2)
    return xasprintf ("%lld months", hours / 24 / 30);
  return xasprintf ("%lld years", (long long) (seconds_f / 3600) / 24 / 365);
}

int64_t
units_ram_in_bytes (const char *s)
{
  char *end = NULL;
  if (s == NULL || !isdigit ((unsigned char) *s))
    return -1;
  double v = strtod (s, &end);
  if (end == s)
    return -1;
  if (*end == ' ')
    end++;
  double mul = 1;
  switch (tolower ((unsigned char) *end))
    {
    case 'k':
      mul = 1024.0;
      break;
    case 'm':
      mul = 1024.0 * 1024;
      break;
    case 'g':
      mul = 1024.0 * 1024 * 1024;
      break;
    case 't':
      mul = 1024.0 * 1024 * 1024 * 1024;
      break;
    case 'p':
      mul = 1024.0 * 1024 * 1024 * 1024 * 1024;
      break;
    }
  if (mul != 1)
    end++;
  if (tolower ((unsigned char) *end) == 'i')
    end++;
  if (tolower ((unsigned char) *end) == 'b')
    end++;
  if (*end != '\0')
    return -1;
  return (int64_t) (v * mul);
}

int64_t
units_parse_duration_ns (const char *s, bool bare_seconds)
{
  if (s == NULL || *s == '\0')
    return -1;
  char *end = NULL;
  double total = 0;
  const char *p = s;
  if (bare_seconds)
    {
      double v = strtod (s, &end);
      if (end != s && *end == '\0')
        return (int64_t) (v * 1e9);
    }
  if (strcmp (s, "0") == 0)
    return 0;
  while (*p)
    {
      double v = strtod (p, &end);
      if (end == p)
        return -1;
      p = end;
      double unit;
      if (strncmp (p, "ns", 2) == 0)
        unit = 1, p += 2;
      else if (strncmp (p, "us", 2) == 0 || strncmp (p, "\xc2\xb5s", 3) == 0)
        unit = 1e3, p += (*p == 'u' ? 2 : 3);
      else if (strncmp (p, "ms", 2) == 0)
        unit = 1e6, p += 2;
      else if (*p == 's')
        unit = 1e9, p++;
      else if (*p == 'm')
        unit = 60e9, p++;
      else if (*p == 'h')
        unit = 3600e9, p++;
      else
        return -1;
      total += v * unit;
    }
  return (int64_t) total;
}

int64_t
units_parse_rfc3339_ns (const char *s)
{
  struct tm tm = { 0 };
  if (s == NULL)
    return 0;
  const char *p = strptime (s, "%Y-%m-%dT%H:%M:%S", &tm);
  if (p == NULL || tm.tm_year + 1900 <= 1)
    return 0;
  int64_t frac = 0;
  if (*p == '.')
    {
      int digits = 0;
      for (p++; isdigit ((unsigned char) *p); p++)
        if (digits < 9)
          {
            frac = frac * 10 + (*p - '0');
            digits++;
          }
      for (; digits < 9; digits++)
        frac *= 10;
    }
  int64_t offset = 0;
  if (*p == '+' || *p == '-')
    {
      int hh = 0, mm = 0;
      sscanf (p + 1, "%d:%d", &hh, &mm);
      offset = (hh * 3600 + mm * 60) * (*p == '-' ? -1 : 1);
    }
  time_t t = timegm (&tm);
  return ((int64_t) t - offset) * 1000000000LL + frac;
}

int64_t
units_now_ns (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_REALTIME, &ts);
  return (int64_t) ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

char *
units_time_string (int64_t unix_s)
{
  time_t t = (time_t) unix_s;
  struct tm tm;
  char buf[128];
  localtime_r (&t, &tm);
  strftime (buf, sizeof buf, "%Y-%m-%d %H:%M:%S %z %Z", &tm);
  return xstrdup (buf);
}
