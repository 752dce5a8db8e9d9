/* Unit tests for network/firewall.c: the scripts it hands to the helper
   (a shell script here, which keeps them) and its errors. */
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
#include "network/firewall.h"

static char dir[] = "/tmp/polis-test-firewall-XXXXXX";

/* A helper that appends its stdin to DIR/out, or fails like nft. */
static char *
make_helper (bool fail)
{
  char *path = NULL;
  if (asprintf (&path, "%s/%s", dir, fail ? "bad" : "good") < 0)
    abort ();
  FILE *f = fopen (path, "w");
  if (fail)
    fprintf (f, "#!/bin/sh\ncat >/dev/null\necho 'Error: Could not process rule: File exists' >&2\n"
                "echo 'second line' >&2\nexit 1\n");
  else
    fprintf (f, "#!/bin/sh\ncat >> %s/out\necho --- >> %s/out\n", dir, dir);
  fclose (f);
  chmod (path, 0755);
  return path;
}

static char *
take_out (void)
{
  char path[128];
  snprintf (path, sizeof path, "%s/out", dir);
  FILE *f = fopen (path, "r");
  assert_non_null (f);
  static char buf[65536];
  size_t n = fread (buf, 1, sizeof buf - 1, f);
  buf[n] = '\0';
  fclose (f);
  unlink (path);
  return buf;
}

static void
test_scripts (void **state)
{
  (void) state;
  cleanup_free char *helper = make_helper (false);
  firewall *fw = firewall_new (helper, "polis_x");
  polis_error *err = NULL;
  assert_int_equal (firewall_init (fw, 4242, &err), 0);
  char *s = take_out ();
  assert_non_null (strstr (s, "add table ip polis_x\n"));
  assert_non_null (strstr (s, "flush chain ip polis_x output\n"));
  assert_non_null (strstr (s, "redirect to :4242"));
  assert_non_null (strstr (s, "add rule ip polis_x output fib daddr type local jump publish"));
  /* no rule outside our table */
  for (char *l = strtok (s, "\n"); l; l = strtok (NULL, "\n"))
    if (strcmp (l, "---") != 0)
      {
        char *t = strstr (l, " ip polis_x");
        assert_non_null (t);
        assert_true (t[11] == ' ' || t[11] == '\0');
      }

  assert_int_equal (firewall_network_add (fw, "br-a", "10.1.0.0/24", true, true, &err), 0);
  s = take_out ();
  assert_non_null (strstr (s, "add rule ip polis_x fwd-br-a drop\n"));
  assert_null (strstr (s, "ip saddr 10.1.0.0/24 oifname != \"br-a\" masquerade"));
  assert_non_null (strstr (s, "oifname \"br-a\" ct status dnat masquerade"));
  assert_non_null (strstr (s, "add element ip polis_x dns_bridges { \"br-a\" }"));

  firewall_port p[2] = { { false, 0, 8080, 0x0a010002, 80 },
                         { true, 0x7f000001, 53, 0x0a010002, 5353 } };
  assert_int_equal (firewall_ports (fw, true, p, 2, &err), 0);
  s = take_out ();
  assert_non_null (strstr (s, "add element ip polis_x pub_tcp { 8080 : 10.1.0.2 . 80 }"));
  assert_non_null (strstr (s, "add element ip polis_x pubip_udp { 127.0.0.1 . 53 : 10.1.0.2 . 5353 }"));
  assert_int_equal (firewall_ports (fw, false, p, 1, &err), 0);
  s = take_out ();
  /* a removal adds first, so that a missing element is not an error */
  char *add = strstr (s, "add element ip polis_x pub_tcp { 8080");
  char *del = strstr (s, "delete element ip polis_x pub_tcp { 8080");
  assert_true (add && del && add < del);
  assert_int_equal (firewall_network_del (fw, "br-a", &err), 0);
  s = take_out ();
  assert_non_null (strstr (s, "delete chain ip polis_x fwd-br-a"));
  firewall_free (fw);
}

static void
test_errors (void **state)
{
  (void) state;
  cleanup_free char *helper = make_helper (true);
  firewall *fw = firewall_new (helper, "polis_x");
  polis_error *err = NULL;
  assert_int_equal (firewall_init (fw, 0, &err), -1);
  assert_string_equal (err->msg, "nftables: Error: Could not process rule: File exists");
  error_free (&err);
  firewall_free (fw);
  fw = firewall_new ("/nonexistent/polis-nft", "polis_x");
  assert_int_equal (firewall_destroy (fw, &err), -1);
  assert_non_null (strstr (err->msg, "/nonexistent/polis-nft"));
  error_free (&err);
  firewall_free (fw);
}

static int
setup (void **state)
{
  (void) state;
  return mkdtemp (dir) ? 0 : -1;
}

static int
teardown (void **state)
{
  (void) state;
  polis_error *err = NULL;
  file_remove_tree_at (AT_FDCWD, dir, &err);
  error_free (&err);
  return 0;
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_scripts),
    cmocka_unit_test (test_errors),
  };
  return cmocka_run_group_tests (tests, setup, teardown);
}
