/* Unit tests for engine/jsonlog*.c: the json-file format, the writer
   (lines, rotation, index) and the reader (tail, since, until, follow). */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/cleanup.h"
#include "base/file.h"
#include "base/xalloc.h"
#include "engine/jsonlog.h"

#define S 1000000000ll
/* 2026-01-01T00:00:00Z */
#define T0 (1767225600ll * S)

static char *
tmpdir (void)
{
  char tmpl[] = "/tmp/polis-jsonlog-XXXXXX";
  assert_non_null (mkdtemp (tmpl));
  return xstrdup (tmpl);
}

static void
rmtree (const char *dir)
{
  polis_error *err = NULL;
  assert_int_equal (file_remove_tree_at (AT_FDCWD, dir, &err), 0);
}

static void
test_time (void **state)
{
  (void) state;
  char b[JSONLOG_TIME_MAX];
  polis_error *err = NULL;
  jsonlog_format_time (T0, b);
  assert_string_equal (b, "2026-01-01T00:00:00Z");
  jsonlog_format_time (T0 + 123456789, b);
  assert_string_equal (b, "2026-01-01T00:00:00.123456789Z");
  jsonlog_format_time (T0 + 120000000, b);
  assert_string_equal (b, "2026-01-01T00:00:00.12Z");
  int64_t t;
  assert_int_equal (jsonlog_parse_time (b, strlen (b), &t, &err), 0);
  assert_int_equal (t, T0 + 120000000);
  const char *z = "2026-01-01T01:00:00.5+01:00";
  assert_int_equal (jsonlog_parse_time (z, strlen (z), &t, &err), 0);
  assert_int_equal (t, T0 + S / 2);
  const char *bad = "2026-01-01 00:00:00";
  assert_int_equal (jsonlog_parse_time (bad, strlen (bad), &t, &err), -1);
  error_free (&err);
}

static void
test_encode (void **state)
{
  (void) state;
  size_t n;
  /* Docker's escaping: HTML-safe, \n \r short, others \u00XX, bad UTF-8
     as U+FFFD, U+2028 escaped, valid UTF-8 kept. */
  const char in[] = "a<b>&\"\\\t\r\n\x01\xff\xe2\x80\xa8\xc3\xa9";
  cleanup_free char *s = jsonlog_encode (JSONLOG_STDERR, in, sizeof in - 1, T0 + 1, &n);
  assert_string_equal (s, "{\"log\":\"a\\u003cb\\u003e\\u0026\\\"\\\\\\u0009\\r\\n\\u0001"
                          "\\ufffd\\u2028\xc3\xa9\",\"stream\":\"stderr\","
                          "\"time\":\"2026-01-01T00:00:00.000000001Z\"}\n");
  assert_int_equal (n, strlen (s));
  /* An overlong encoding and a surrogate are invalid too. */
  cleanup_free char *s2 = jsonlog_encode (JSONLOG_STDOUT, "\xc0\xaf\xed\xa0\x80", 5, T0, &n);
  assert_non_null (strstr (s2, "\"\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\""));
}

typedef struct
{
  int stream;
  int64_t t;
  char *log;
} entry;

/* Every entry the reader gives with O. */
static size_t
read_all (const char *path, const jsonlog_read_opts *o, entry *out, size_t max,
          uint64_t *bytes)
{
  polis_error *err = NULL;
  jsonlog_reader *r = jsonlog_reader_open (path, o, &err);
  assert_non_null (r);
  size_t n = 0;
  jsonlog_entry e;
  int ret;
  while ((ret = jsonlog_reader_next (r, &e, &err)) == 1)
    {
      if (n < max)
        {
          out[n].stream = e.stream;
          out[n].t = e.time_ns;
          out[n].log = xstrndup (e.log, e.log_len);
        }
      n++;
    }
  assert_int_equal (ret, 0);
  if (bytes)
    *bytes = jsonlog_reader_bytes_read (r);
  jsonlog_reader_free (r);
  return n;
}

static void
free_entries (entry *e, size_t n)
{
  for (size_t i = 0; i < n; i++)
    free (e[i].log);
}

static void
test_feed_lines (void **state)
{
  (void) state;
  cleanup_free char *dir = tmpdir ();
  cleanup_free char *path = xasprintf ("%s/c-json.log", dir);
  polis_error *err = NULL;
  jsonlog_writer *w = jsonlog_writer_open (path, 0, 1, &err);
  assert_non_null (w);
  /* Lines cut across reads; streams apart. */
  assert_int_equal (jsonlog_writer_feed (w, JSONLOG_STDOUT, "one\ntw", 6, T0, &err), 0);
  assert_int_equal (jsonlog_writer_feed (w, JSONLOG_STDERR, "err", 3, T0 + 1, &err), 0);
  assert_int_equal (jsonlog_writer_feed (w, JSONLOG_STDOUT, "o\nthree", 7, T0 + 2, &err), 0);
  assert_int_equal (jsonlog_writer_feed (w, JSONLOG_STDERR, "!\n", 2, T0 + 3, &err), 0);
  /* A line longer than 16 KiB: parts without "\n", the last with it, all
     with the time of the first. */
  size_t big = JSONLOG_LINE_MAX * 2 + 100;
  cleanup_free char *b = xmalloc (big + 1);
  memset (b, 'x', big);
  b[big] = '\n';
  assert_int_equal (jsonlog_writer_feed (w, JSONLOG_STDOUT, "\n", 1, T0 + 4, &err), 0);
  assert_int_equal (jsonlog_writer_feed (w, JSONLOG_STDOUT, b, 5000, T0 + 5, &err), 0);
  assert_int_equal (jsonlog_writer_feed (w, JSONLOG_STDOUT, b + 5000, big + 1 - 5000, T0 + 6,
                                         &err), 0);
  /* What waits at the end is written without "\n". */
  assert_int_equal (jsonlog_writer_feed (w, JSONLOG_STDOUT, "tail", 4, T0 + 7, &err), 0);
  assert_int_equal (jsonlog_writer_flush (w, JSONLOG_STDOUT, T0 + 8, &err), 0);
  jsonlog_writer_close (w);

  entry e[16];
  jsonlog_read_opts all = { .tail = -1 };
  size_t n = read_all (path, &all, e, 16, NULL);
  assert_int_equal (n, 8);
  assert_string_equal (e[0].log, "one\n");
  assert_string_equal (e[1].log, "two\n");
  assert_int_equal (e[1].t, T0 + 2);
  assert_string_equal (e[2].log, "err!\n");
  assert_int_equal (e[2].stream, JSONLOG_STDERR);
  assert_string_equal (e[3].log, "three\n");
  assert_int_equal (strlen (e[4].log), JSONLOG_LINE_MAX);
  assert_int_equal (strlen (e[5].log), JSONLOG_LINE_MAX);
  assert_int_equal (strlen (e[6].log), 101);
  assert_int_equal (e[4].t, T0 + 6); /* when the first part was cut */
  assert_int_equal (e[6].t, T0 + 6);
  assert_string_equal (e[7].log, "tail");
  free_entries (e, n);
  rmtree (dir);
}

/* N entries "line I\n" at T0 + I seconds, with WRITER's rotation. */
static void
write_lines (jsonlog_writer *w, int from, int n)
{
  polis_error *err = NULL;
  for (int i = from; i < from + n; i++)
    {
      char buf[64];
      int len = snprintf (buf, sizeof buf, "line %d\n", i);
      assert_int_equal (jsonlog_writer_write (w, JSONLOG_STDOUT, buf, (size_t) len,
                                              T0 + i * S, &err), 0);
    }
}

static void
test_rotation (void **state)
{
  (void) state;
  cleanup_free char *dir = tmpdir ();
  cleanup_free char *path = xasprintf ("%s/c-json.log", dir);
  polis_error *err = NULL;
  /* ~70 bytes a line, rotating at 700: about 10 lines a file, 3 files. */
  jsonlog_writer *w = jsonlog_writer_open (path, 700, 3, &err);
  write_lines (w, 0, 100);
  jsonlog_writer_close (w);
  struct stat st;
  assert_int_equal (stat (path, &st), 0);
  cleanup_free char *p1 = xasprintf ("%s.1", path);
  cleanup_free char *p2 = xasprintf ("%s.2", path);
  cleanup_free char *p3 = xasprintf ("%s.3", path);
  cleanup_free char *i1 = xasprintf ("%s.1.idx", path);
  assert_int_equal (stat (p1, &st), 0);
  assert_int_equal (stat (p2, &st), 0);
  assert_int_equal (stat (i1, &st), 0);
  assert_int_equal (stat (p3, &st), -1);

  entry e[100];
  jsonlog_read_opts all = { .tail = -1 };
  size_t n = read_all (path, &all, e, 100, NULL);
  /* The last ~30 lines survive, in order, ending with line 99. */
  assert_true (n >= 20 && n <= 33);
  assert_string_equal (e[n - 1].log, "line 99\n");
  for (size_t i = 1; i < n; i++)
    assert_int_equal (e[i].t, e[i - 1].t + S);
  int first = atoi (e[0].log + 5);
  free_entries (e, n);

  /* tail reaches back across files. */
  jsonlog_read_opts tail = { .tail = 15 };
  n = read_all (path, &tail, e, 100, NULL);
  assert_int_equal (n, 15);
  assert_string_equal (e[0].log, "line 85\n");
  free_entries (e, n);
  tail.tail = 1000;
  n = read_all (path, &tail, e, 100, NULL);
  assert_int_equal (atoi (e[0].log + 5), first);
  free_entries (e, n);
  tail.tail = 0;
  assert_int_equal (read_all (path, &tail, e, 100, NULL), 0);

  /* since / until pick by time, across files too. */
  jsonlog_read_opts since = { .tail = -1, .since_ns = T0 + 80 * S, .until_ns = T0 + 90 * S };
  n = read_all (path, &since, e, 100, NULL);
  assert_int_equal (n, 11);
  assert_string_equal (e[0].log, "line 80\n");
  assert_string_equal (e[10].log, "line 90\n");
  free_entries (e, n);
  /* since and tail: the later start wins. */
  jsonlog_read_opts both = { .tail = 5, .since_ns = T0 + 80 * S };
  n = read_all (path, &both, e, 100, NULL);
  assert_int_equal (n, 5);
  assert_string_equal (e[0].log, "line 95\n");
  free_entries (e, n);
  both.tail = 50;
  n = read_all (path, &both, e, 100, NULL);
  assert_int_equal (n, 20);
  free_entries (e, n);

  /* max-file 1: the file is emptied in place. */
  cleanup_free char *path1 = xasprintf ("%s/one-json.log", dir);
  w = jsonlog_writer_open (path1, 200, 1, &err);
  write_lines (w, 0, 10);
  jsonlog_writer_close (w);
  cleanup_free char *q1 = xasprintf ("%s.1", path1);
  assert_int_equal (stat (q1, &st), -1);
  n = read_all (path1, &all, e, 100, NULL);
  assert_true (n >= 1 && n <= 4);
  assert_string_equal (e[n - 1].log, "line 9\n");
  free_entries (e, n);
  rmtree (dir);
}

static void
test_incomplete_and_foreign (void **state)
{
  (void) state;
  cleanup_free char *dir = tmpdir ();
  cleanup_free char *path = xasprintf ("%s/c-json.log", dir);
  polis_error *err = NULL;
  /* A log without index (Docker's own), a line that does not parse, and
     a last line still being written. */
  const char *text
      = "{\"log\":\"a\\n\",\"stream\":\"stdout\",\"time\":\"2026-01-01T00:00:01Z\"}\n"
        "garbage\n"
        "{\"log\":\"b\\u0000\\n\",\"stream\":\"stderr\",\"time\":\"2026-01-01T00:00:02.5Z\"}\n"
        "{\"log\":\"c\\n\",\"stream\":\"stdout\",\"time\":\"2026-01-01T00:00:03Z\"}\n"
        "{\"log\":\"d\\n\",\"str";
  assert_int_equal (file_write_atomic (path, text, strlen (text), 0644, &err), 0);
  entry e[8];
  jsonlog_read_opts all = { .tail = -1 };
  size_t n = read_all (path, &all, e, 8, NULL);
  assert_int_equal (n, 3);
  assert_int_equal (e[1].stream, JSONLOG_STDERR);
  assert_int_equal (e[1].log[1], '\0');
  assert_int_equal (e[1].t, T0 + 2 * S + S / 2);
  free_entries (e, n);
  jsonlog_read_opts tail = { .tail = 1 };
  n = read_all (path, &tail, e, 8, NULL);
  assert_int_equal (n, 1);
  assert_string_equal (e[0].log, "c\n");
  free_entries (e, n);
  jsonlog_read_opts since = { .tail = -1, .since_ns = T0 + 2 * S };
  n = read_all (path, &since, e, 8, NULL);
  assert_int_equal (n, 2);
  free_entries (e, n);
  /* A missing log reads as empty. */
  cleanup_free char *none = xasprintf ("%s/none-json.log", dir);
  assert_int_equal (read_all (none, &all, e, 8, NULL), 0);
  rmtree (dir);
}

static void
test_follow (void **state)
{
  (void) state;
  cleanup_free char *dir = tmpdir ();
  cleanup_free char *path = xasprintf ("%s/c-json.log", dir);
  polis_error *err = NULL;
  jsonlog_writer *w = jsonlog_writer_open (path, 600, 40, &err);
  write_lines (w, 0, 3);
  jsonlog_read_opts o = { .tail = -1, .follow = true };
  jsonlog_reader *r = jsonlog_reader_open (path, &o, &err);
  assert_non_null (r);
  assert_true (jsonlog_reader_fd (r) >= 0);
  jsonlog_entry e;
  int next = 0;
  /* Reading while the writer appends and rotates: every line, once, in
     order (the reader drains a renamed file before the new one). */
  for (int round = 0; round < 20; round++)
    {
      int ret;
      while ((ret = jsonlog_reader_next (r, &e, &err)) == 1)
        {
          char want[32];
          snprintf (want, sizeof want, "line %d\n", next);
          assert_int_equal (e.log_len, strlen (want));
          assert_memory_equal (e.log, want, e.log_len);
          next++;
        }
      assert_int_equal (ret, 0);
      /* Every fifth round, several rotations before the reader looks. */
      write_lines (w, next, round % 5 == 4 ? 40 : 4);
      assert_int_equal (jsonlog_reader_wait (r, 1000, &err), 1);
    }
  while (jsonlog_reader_next (r, &e, &err) == 1)
    next++;
  assert_int_equal (next, 3 + 16 * 4 + 4 * 40);
  /* Nothing new: the wait times out. */
  assert_int_equal (jsonlog_reader_wait (r, 10, &err), 0);
  jsonlog_reader_free (r);
  jsonlog_writer_close (w);
  rmtree (dir);
}

/* A large log (POLIS_JSONLOG_TEST_MB, 64 by default; 1024 was run by
   hand): tail and since read what they return plus one index interval,
   not the log. */
static void
test_large (void **state)
{
  (void) state;
  const char *mb_env = getenv ("POLIS_JSONLOG_TEST_MB");
  long mb = mb_env ? atol (mb_env) : 64;
  cleanup_free char *dir = tmpdir ();
  cleanup_free char *path = xasprintf ("%s/big-json.log", dir);
  polis_error *err = NULL;
  jsonlog_writer *w = jsonlog_writer_open (path, 0, 1, &err);
  char line[1000];
  memset (line, 'y', sizeof line);
  line[sizeof line - 1] = '\n';
  long n = mb * 1024 * 1024 / 1070;
  for (long i = 0; i < n; i++)
    {
      int k = snprintf (line, 32, "%ld ", i);
      line[k] = 'y';
      assert_int_equal (jsonlog_writer_write (w, JSONLOG_STDOUT, line, sizeof line,
                                              T0 + i * 1000, &err), 0);
    }
  jsonlog_writer_close (w);
  struct stat st;
  assert_int_equal (stat (path, &st), 0);
  assert_true ((uint64_t) st.st_size >= (uint64_t) mb * 1000 * 1000);

  entry e[16];
  uint64_t bytes;
  jsonlog_read_opts tail = { .tail = 10 };
  size_t got = read_all (path, &tail, e, 16, &bytes);
  assert_int_equal (got, 10);
  assert_int_equal (atol (e[0].log), n - 10);
  free_entries (e, got);
  assert_true (bytes < 3 * 65536);

  jsonlog_read_opts since = { .tail = -1, .since_ns = T0 + (n - 5) * 1000 };
  got = read_all (path, &since, e, 16, &bytes);
  assert_int_equal (got, 5);
  assert_int_equal (atol (e[0].log), n - 5);
  free_entries (e, got);
  /* One index interval plus the log-2 records of the binary search. */
  assert_true (bytes < 3 * 65536);

  jsonlog_read_opts mid = { .tail = -1, .since_ns = T0 + (n / 2) * 1000,
                            .until_ns = T0 + (n / 2 + 9) * 1000 };
  got = read_all (path, &mid, e, 16, &bytes);
  assert_int_equal (got, 10);
  assert_int_equal (atol (e[0].log), n / 2);
  free_entries (e, got);
  assert_true (bytes < 4 * 65536);
  rmtree (dir);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_time),
    cmocka_unit_test (test_encode),
    cmocka_unit_test (test_feed_lines),
    cmocka_unit_test (test_rotation),
    cmocka_unit_test (test_incomplete_and_foreign),
    cmocka_unit_test (test_follow),
    cmocka_unit_test (test_large),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
