/* jsonlog.c - the json-file entry format: times and escaping as Docker
 * writes them. */
#include "jsonlog.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/xalloc.h"

size_t
jsonlog_format_time (int64_t time_ns, char buf[JSONLOG_TIME_MAX])
{
  int64_t secs = time_ns / 1000000000;
  int64_t frac = time_ns % 1000000000;
  if (frac < 0)
    {
      frac += 1000000000;
      secs--;
    }
  time_t t = (time_t) secs;
  struct tm tm;
  gmtime_r (&t, &tm);
  size_t n = strftime (buf, JSONLOG_TIME_MAX, "%Y-%m-%dT%H:%M:%S", &tm);
  if (frac)
    {
      char digits[10];
      snprintf (digits, sizeof digits, "%09lld", (long long) frac);
      size_t d = 9;
      while (d > 0 && digits[d - 1] == '0')
        d--;
      buf[n++] = '.';
      memcpy (buf + n, digits, d);
      n += d;
    }
  buf[n++] = 'Z';
  buf[n] = '\0';
  return n;
}

/* N decimal digits at S into *OUT; false if any is not a digit. */
static bool
jsonlog_digits (const char *s, int n, int *out)
{
  int v = 0;
  for (int i = 0; i < n; i++)
    {
      if (s[i] < '0' || s[i] > '9')
        return false;
      v = v * 10 + (s[i] - '0');
    }
  *out = v;
  return true;
}

int
jsonlog_parse_time (const char *s, size_t len, int64_t *time_ns,
                    polis_error **err)
{
  struct tm tm = { 0 };
  int year, mon, day, hour, min, sec;
  size_t i = 19;
  if (len < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't')
      || s[13] != ':' || s[16] != ':' || !jsonlog_digits (s, 4, &year)
      || !jsonlog_digits (s + 5, 2, &mon) || !jsonlog_digits (s + 8, 2, &day)
      || !jsonlog_digits (s + 11, 2, &hour) || !jsonlog_digits (s + 14, 2, &min)
      || !jsonlog_digits (s + 17, 2, &sec) || mon < 1 || mon > 12 || day < 1
      || day > 31 || hour > 23 || min > 59 || sec > 60)
    goto bad;
  int64_t frac = 0;
  if (s[i] == '.')
    {
      int digits = 0;
      for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++, digits++)
        if (digits < 9)
          frac = frac * 10 + (s[i] - '0');
      if (digits == 0)
        goto bad;
      for (; digits < 9; digits++)
        frac *= 10;
    }
  int64_t offset = 0;
  if (i < len && (s[i] == 'Z' || s[i] == 'z') && i + 1 == len)
    offset = 0;
  else if (i + 6 == len && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':')
    {
      int oh, om;
      if (!jsonlog_digits (s + i + 1, 2, &oh) || !jsonlog_digits (s + i + 4, 2, &om))
        goto bad;
      offset = (oh * 3600 + om * 60) * (s[i] == '-' ? -1 : 1);
    }
  else
    goto bad;
  tm.tm_year = year - 1900;
  tm.tm_mon = mon - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = min;
  tm.tm_sec = sec;
  int64_t secs = (int64_t) timegm (&tm) - offset;
  *time_ns = secs * 1000000000 + frac;
  return 0;

bad:
  return error_set (err, ERROR_INVALID, EINVAL, "invalid time `%.*s`: expected RFC 3339",
                    (int) (len > 64 ? 64 : len), s);
}

/* The length of the valid UTF-8 sequence at S (at most N bytes), 0 when
   there is none: Go's utf8.DecodeRune rules (no overlong forms, no
   surrogates, nothing above U+10FFFF). */
static size_t
jsonlog_utf8_len (const unsigned char *s, size_t n)
{
  unsigned char c = s[0];
  unsigned char lo = 0x80, hi = 0xBF;
  size_t len;
  if (c >= 0xC2 && c <= 0xDF)
    len = 2;
  else if (c >= 0xE0 && c <= 0xEF)
    {
      len = 3;
      if (c == 0xE0)
        lo = 0xA0;
      else if (c == 0xED)
        hi = 0x9F;
    }
  else if (c >= 0xF0 && c <= 0xF4)
    {
      len = 4;
      if (c == 0xF0)
        lo = 0x90;
      else if (c == 0xF4)
        hi = 0x8F;
    }
  else
    return 0;
  if (n < len || s[1] < lo || s[1] > hi)
    return 0;
  for (size_t i = 2; i < len; i++)
    if (s[i] < 0x80 || s[i] > 0xBF)
      return 0;
  return len;
}

/* Append DATA to OUT as the inside of a JSON string, the way Docker's
   jsonlog does (ffjsonWriteJSONBytesAsString).  OUT has room for 6 bytes
   per input byte. */
static size_t
jsonlog_escape (char *out, const unsigned char *s, size_t len)
{
  static const char hex[] = "0123456789abcdef";
  size_t o = 0;
  for (size_t i = 0; i < len;)
    {
      unsigned char b = s[i];
      if (b < 0x80)
        {
          if (b >= 0x20 && b != '\\' && b != '"' && b != '<' && b != '>' && b != '&')
            out[o++] = (char) b;
          else if (b == '\\' || b == '"')
            {
              out[o++] = '\\';
              out[o++] = (char) b;
            }
          else if (b == '\n' || b == '\r')
            {
              out[o++] = '\\';
              out[o++] = b == '\n' ? 'n' : 'r';
            }
          else
            {
              memcpy (out + o, "\\u00", 4);
              out[o + 4] = hex[b >> 4];
              out[o + 5] = hex[b & 0xF];
              o += 6;
            }
          i++;
          continue;
        }
      size_t n = jsonlog_utf8_len (s + i, len - i);
      if (n == 0)
        {
          memcpy (out + o, "\\ufffd", 6);
          o += 6;
          i++;
          continue;
        }
      /* U+2028 and U+2029 end lines in JavaScript. */
      if (n == 3 && b == 0xE2 && s[i + 1] == 0x80 && (s[i + 2] == 0xA8 || s[i + 2] == 0xA9))
        {
          memcpy (out + o, "\\u202", 5);
          out[o + 5] = s[i + 2] == 0xA8 ? '8' : '9';
          o += 6;
        }
      else
        {
          memcpy (out + o, s + i, n);
          o += n;
        }
      i += n;
    }
  return o;
}

char *
jsonlog_encode (jsonlog_stream stream, const char *data, size_t len,
                int64_t time_ns, size_t *out_len)
{
  static const char head[] = "{\"log\":\"";
  const char *mid = stream == JSONLOG_STDERR ? "\",\"stream\":\"stderr\",\"time\":\""
                                             : "\",\"stream\":\"stdout\",\"time\":\"";
  char tbuf[JSONLOG_TIME_MAX];
  size_t tlen = jsonlog_format_time (time_ns, tbuf);
  size_t midlen = strlen (mid);
  char *out = xmalloc (sizeof head - 1 + len * 6 + midlen + tlen + 4);
  size_t o = sizeof head - 1;
  memcpy (out, head, o);
  o += jsonlog_escape (out + o, (const unsigned char *) data, len);
  memcpy (out + o, mid, midlen);
  o += midlen;
  memcpy (out + o, tbuf, tlen);
  o += tlen;
  memcpy (out + o, "\"}\n", 3);
  o += 3;
  out[o] = '\0';
  *out_len = o;
  return out;
}
