/* Unit tests for cli/table.c (Go's tabwriter as docker sets it up) and
   cli/units.c (docker's human sizes and durations). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/cleanup.h"
#include "cli/table.h"
#include "cli/units.h"

static char *
render (const char *text, int minwidth, int padding)
{
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream (&buf, &len);
  table_write (f, text, minwidth, padding);
  fclose (f);
  return buf;
}

static void
test_tabwriter (void **state)
{
  (void) state;
  cleanup_free char *a = render ("CONTAINER ID\tIMAGE\tNAMES\nabc\tbusybox:latest\tweb\n", 10, 3);
  assert_string_equal (a, "CONTAINER ID   IMAGE            NAMES\n"
                          "abc            busybox:latest   web\n");
  /* An empty column still takes minwidth; the last cell is not padded. */
  cleanup_free char *b = render ("PORTS\tNAMES\n\tweb\n", 10, 3);
  assert_string_equal (b, "PORTS     NAMES\n          web\n");
  /* Widths count characters, not bytes. */
  cleanup_free char *c = render ("\xe2\x80\xa6\xe2\x80\xa6\tx\nab\ty\n", 1, 1);
  assert_string_equal (c, "\xe2\x80\xa6\xe2\x80\xa6 x\nab y\n");
  /* A line with fewer cells ends the column block. */
  cleanup_free char *d = render ("a\tb\tc\nlonger line\nx\ty\tz\n", 1, 1);
  assert_string_equal (d, "a b c\nlonger line\nx y z\n");
}

static void
test_sizes_and_durations (void **state)
{
  (void) state;
  struct
  {
    double v;
    int prec;
    const char *want;
  } sizes[] = { { 0, 3, "0B" },          { 999, 3, "999B" },       { 1000, 3, "1kB" },
                { 2131000, 3, "2.13MB" }, { 2131000, 4, "2.131MB" }, { 524288, 4, "524.3kB" },
                { 1.5e9, 3, "1.5GB" } };
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
    {
      cleanup_free char *s = units_human_size (sizes[i].v, sizes[i].prec);
      assert_string_equal (s, sizes[i].want);
    }
  cleanup_free char *m = units_bytes_size (360448);
  assert_string_equal (m, "352KiB");
  struct
  {
    double s;
    const char *want;
  } durs[] = { { 0.5, "Less than a second" }, { 1, "1 second" },  { 59, "59 seconds" },
               { 60, "About a minute" },       { 150, "2 minutes" }, { 3600, "About an hour" },
               { 7200, "2 hours" },            { 3 * 86400, "3 days" }, { 20 * 86400, "2 weeks" },
               { 90 * 86400, "3 months" },     { 800 * 86400, "2 years" } };
  for (size_t i = 0; i < sizeof durs / sizeof durs[0]; i++)
    {
      cleanup_free char *s = units_human_duration (durs[i].s);
      assert_string_equal (s, durs[i].want);
    }
}

static void
test_parsing (void **state)
{
  (void) state;
  assert_int_equal (units_ram_in_bytes ("64m"), 64 * 1024 * 1024);
  assert_int_equal (units_ram_in_bytes ("1g"), 1024LL * 1024 * 1024);
  assert_int_equal (units_ram_in_bytes ("512"), 512);
  assert_int_equal (units_ram_in_bytes ("1.5KiB"), 1536);
  assert_int_equal (units_ram_in_bytes ("x"), -1);
  assert_int_equal (units_ram_in_bytes ("10q"), -1);
  assert_int_equal (units_parse_duration_ns ("1m30s", false), 90LL * 1000000000);
  assert_int_equal (units_parse_duration_ns ("500ms", false), 500000000);
  assert_int_equal (units_parse_duration_ns ("2", true), 2000000000);
  assert_int_equal (units_parse_duration_ns ("2", false), -1);
  assert_int_equal (units_parse_duration_ns ("1x", false), -1);
  assert_int_equal (units_parse_rfc3339_ns ("1970-01-01T00:00:01.5Z"), 1500000000);
  assert_int_equal (units_parse_rfc3339_ns ("1970-01-01T01:00:00+01:00"), 0);
  assert_int_equal (units_parse_rfc3339_ns ("0001-01-01T00:00:00Z"), 0);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_tabwriter),
    cmocka_unit_test (test_sizes_and_durations),
    cmocka_unit_test (test_parsing),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
