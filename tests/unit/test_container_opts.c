/* Unit tests for cli/container_opts.c: docker run flags to the create
   request the docker CLI sends. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/cleanup.h"
#include "base/pjson.h"
#include "cli/container_opts.h"

static json_t *
build (int argc, char **argv, polis_error **err)
{
  container_opts o = { .sig_proxy = true };
  cleanup_free opt_def *defs = container_opts_defs (&o, true);
  cleanup_strv char **pos = NULL;
  if (opts_parse (defs, argc, argv, true, &pos, err) < 0)
    return NULL;
  json_t *j = container_opts_build (&o, pos[0], pos + 1, err);
  container_opts_clear (&o);
  return j;
}

static void
test_publish (void **state)
{
  (void) state;
  cleanup_json json_t *ports = json_object ();
  cleanup_json json_t *b = json_object ();
  cleanup_error polis_error *err = NULL;
  assert_int_equal (container_opts_add_publish (ports, b, "8080:80", &err), 0);
  assert_int_equal (container_opts_add_publish (ports, b, "127.0.0.1:53:53/udp", &err), 0);
  assert_int_equal (container_opts_add_publish (ports, b, "9000-9001:90-91", &err), 0);
  assert_int_equal (container_opts_add_publish (ports, b, "443", &err), 0);
  assert_int_equal (container_opts_add_publish (ports, b, "[::1]:8443:443", &err), 0);
  cleanup_free char *d = json_dumps (b, JSON_COMPACT | JSON_SORT_KEYS);
  assert_string_equal (d, "{\"443/tcp\":[{\"HostIp\":\"\",\"HostPort\":\"\"},"
                          "{\"HostIp\":\"::1\",\"HostPort\":\"8443\"}],"
                          "\"53/udp\":[{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"53\"}],"
                          "\"80/tcp\":[{\"HostIp\":\"\",\"HostPort\":\"8080\"}],"
                          "\"90/tcp\":[{\"HostIp\":\"\",\"HostPort\":\"9000\"}],"
                          "\"91/tcp\":[{\"HostIp\":\"\",\"HostPort\":\"9001\"}]}");
  assert_non_null (json_object_get (ports, "53/udp"));
  assert_int_equal (container_opts_add_publish (ports, b, "x:80", &err), -1);
  error_free (&err);
  assert_int_equal (container_opts_add_publish (ports, b, "1:2:3:4", &err), -1);
}

static void
test_run_request (void **state)
{
  (void) state;
  char *argv[] = { "-it", "--rm", "--name", "web", "-e", "A=1", "-p", "8080:80",
                   "-v", "/host:/ctr:ro", "-v", "/anon", "--restart", "on-failure:3",
                   "--health-cmd", "true", "--health-interval", "5s", "-m", "64m",
                   "--cpus", "1.5", "--entrypoint", "", "-w", "/w", "-u", "1:2",
                   "--read-only", "--cap-add", "NET_ADMIN", "--cap-drop", "ALL", "--init",
                   "--log-opt", "max-size=1m", "-l", "k=v", "busybox", "sh", "-c", "x" };
  cleanup_error polis_error *err = NULL;
  cleanup_json json_t *j = build (sizeof argv / sizeof argv[0], argv, &err);
  assert_non_null (j);
  json_t *hc = json_object_get (j, "HostConfig");
  assert_true (json_is_true (json_object_get (j, "Tty")));
  assert_true (json_is_true (json_object_get (j, "OpenStdin")));
  assert_true (json_is_true (json_object_get (j, "StdinOnce")));
  assert_true (json_is_true (json_object_get (j, "AttachStdin")));
  assert_string_equal (json_string_value (json_object_get (j, "Image")), "busybox");
  assert_int_equal (json_array_size (json_object_get (j, "Cmd")), 3);
  assert_string_equal (json_string_value (json_array_get (json_object_get (j, "Entrypoint"), 0)), "");
  assert_string_equal (json_string_value (json_array_get (json_object_get (j, "Env"), 0)), "A=1");
  assert_non_null (json_object_get (json_object_get (j, "ExposedPorts"), "80/tcp"));
  assert_non_null (json_object_get (json_object_get (j, "Volumes"), "/anon"));
  assert_string_equal (json_string_value (json_array_get (json_object_get (hc, "Binds"), 0)), "/host:/ctr:ro");
  assert_true (json_is_true (json_object_get (hc, "AutoRemove")));
  assert_string_equal (json_string_value (json_object_get (hc, "NetworkMode")), "default");
  json_t *rp = json_object_get (hc, "RestartPolicy");
  assert_string_equal (json_string_value (json_object_get (rp, "Name")), "on-failure");
  assert_int_equal (json_integer_value (json_object_get (rp, "MaximumRetryCount")), 3);
  json_t *h = json_object_get (j, "Healthcheck");
  assert_string_equal (json_string_value (json_array_get (json_object_get (h, "Test"), 0)), "CMD-SHELL");
  assert_int_equal (json_integer_value (json_object_get (h, "Interval")), 5000000000LL);
  assert_int_equal (json_integer_value (json_object_get (hc, "Memory")), 64 * 1024 * 1024);
  assert_int_equal (json_integer_value (json_object_get (hc, "NanoCpus")), 1500000000);
  assert_string_equal (json_string_value (json_object_get (j, "WorkingDir")), "/w");
  assert_string_equal (json_string_value (json_object_get (j, "User")), "1:2");
  assert_true (json_is_true (json_object_get (hc, "ReadonlyRootfs")));
  assert_true (json_is_true (json_object_get (hc, "Init")));
  assert_string_equal (json_string_value (json_object_get (json_object_get (json_object_get (hc, "LogConfig"), "Config"), "max-size")), "1m");
  assert_string_equal (json_string_value (json_object_get (json_object_get (j, "Labels"), "k")), "v");
}

static void
test_detached_and_errors (void **state)
{
  (void) state;
  char *argv[] = { "-d", "-i", "busybox" };
  cleanup_error polis_error *err = NULL;
  cleanup_json json_t *j = build (3, argv, &err);
  assert_non_null (j);
  assert_false (json_is_true (json_object_get (j, "AttachStdout")));
  assert_false (json_is_true (json_object_get (j, "StdinOnce")));
  assert_true (json_is_true (json_object_get (j, "OpenStdin")));
  assert_null (json_object_get (j, "Cmd"));

  char *bad1[] = { "--restart", "sometimes", "busybox" };
  assert_null (build (3, bad1, &err));
  assert_non_null (strstr (err->msg, "invalid restart policy"));
  error_free (&err);
  char *bad2[] = { "-m", "lots", "busybox" };
  assert_null (build (3, bad2, &err));
  assert_non_null (strstr (err->msg, "invalid size"));
  error_free (&err);
  char *bad3[] = { "--health-interval", "5", "busybox" };
  assert_null (build (3, bad3, &err));
  assert_non_null (strstr (err->msg, "invalid duration"));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_publish),
    cmocka_unit_test (test_run_request),
    cmocka_unit_test (test_detached_and_errors),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
