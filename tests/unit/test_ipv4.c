/* Unit tests for network/ipv4.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "network/ipv4.h"

static void
test_parse_and_format (void **state)
{
  (void) state;
  uint32_t a;
  assert_true (ipv4_parse_addr ("10.1.2.3", &a));
  assert_int_equal (a, 0x0a010203);
  char b[IPV4_STR];
  assert_string_equal (ipv4_format (a, b), "10.1.2.3");
  assert_false (ipv4_parse_addr ("10.1.2", &a));
  assert_false (ipv4_parse_addr ("10.1.2.300", &a));
  assert_false (ipv4_parse_addr (NULL, &a));
  ipv4_net n;
  assert_true (ipv4_parse_net ("172.18.0.0/16", &n));
  assert_int_equal (n.prefix, 16);
  assert_false (ipv4_parse_net ("172.18.0.0", &n));
  assert_false (ipv4_parse_net ("172.18.0.0/33", &n));
  assert_false (ipv4_parse_net ("172.18.0.0/", &n));
  assert_false (ipv4_parse_net ("172.18.0.0/1x", &n));
  assert_false (ipv4_parse_net ("1234567890123456789/8", &n));
}

static void
test_contains_and_overlap (void **state)
{
  (void) state;
  ipv4_net a, b, c;
  assert_true (ipv4_parse_net ("10.0.0.0/8", &a));
  assert_true (ipv4_parse_net ("10.5.0.0/16", &b));
  assert_true (ipv4_parse_net ("192.168.0.0/24", &c));
  assert_true (ipv4_net_overlap (a, b));
  assert_true (ipv4_net_overlap (b, a));
  assert_false (ipv4_net_overlap (a, c));
  assert_true (ipv4_net_contains (b, 0x0a05ffff));
  assert_false (ipv4_net_contains (b, 0x0a060000));
  assert_int_equal (ipv4_net_first (b), 0x0a050000);
  assert_int_equal (ipv4_net_last (b), 0x0a05ffff);
  ipv4_net all = { 0, 0 };
  assert_true (ipv4_net_contains (all, 0xffffffff));
  assert_int_equal (ipv4_mask (0), 0);
  assert_int_equal (ipv4_mask (32), 0xffffffff);
}

static void
test_host_routes (void **state)
{
  (void) state;
  ipv4_net *r = NULL;
  size_t n = ipv4_host_routes (&r);
  for (size_t i = 0; i < n; i++)
    assert_true (r[i].prefix > 0 && r[i].prefix <= 32);
  free (r);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_parse_and_format),
    cmocka_unit_test (test_contains_and_overlap),
    cmocka_unit_test (test_host_routes),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
