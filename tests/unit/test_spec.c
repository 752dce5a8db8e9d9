/* Unit tests for runtime/spec.c: every error names its field. */
#include <errno.h>
#include <linux/mount.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/resource.h>

#include <cmocka.h>

#include "runtime/caps.h"
#include "runtime/spec.h"

#define MIN_CONFIG(extra)                                                      \
  "{\"ociVersion\":\"1.2.0\",\"root\":{\"path\":\"rootfs\"},"                  \
  "\"process\":{\"args\":[\"sh\"],\"cwd\":\"/\"}" extra "}"

static spec *
parse (const char *doc, polis_error **err)
{
  return spec_parse (doc, strlen (doc), err);
}

static void
expect_error (const char *doc, const char *fragment)
{
  polis_error *err = NULL;
  spec *s = parse (doc, &err);
  assert_null (s);
  assert_non_null (err);
  if (strstr (err->msg, fragment) == NULL)
    fail_msg ("error `%s` does not mention `%s`", err->msg, fragment);
  assert_int_equal (err->cls, ERROR_INVALID);
  error_free (&err);
}

static void
test_minimal (void **state)
{
  (void) state;
  polis_error *err = NULL;
  spec *s = parse (MIN_CONFIG (""), &err);
  assert_non_null (s);
  assert_string_equal (s->root_path, "rootfs");
  assert_string_equal (s->process.args[0], "sh");
  assert_string_equal (s->process.cwd, "/");
  spec_free (s);
}

static void
test_errors_name_fields (void **state)
{
  (void) state;
  expect_error ("{", "invalid JSON");
  expect_error ("[]", "expected a JSON object");
  expect_error ("{\"root\":{\"path\":\"r\"}}", "ociVersion: missing");
  expect_error ("{\"ociVersion\":\"2.0\",\"root\":{\"path\":\"r\"}}", "unsupported version");
  expect_error ("{\"ociVersion\":\"1.0\",\"root\":{}}", "root.path: missing");
  expect_error (MIN_CONFIG (",\"mounts\":[{\"destination\":\"proc\",\"type\":\"proc\"}]"),
                "mounts[0].destination: `proc` must be an absolute path");
  expect_error (MIN_CONFIG (",\"mounts\":[{\"destination\":\"/x\",\"options\":[\"bind\"]}]"),
                "mounts[0].source: missing for a bind mount");
  expect_error ("{\"ociVersion\":\"1.0\",\"root\":{\"path\":\"r\"},\"process\":{\"args\":[],\"cwd\":\"/\"}}",
                "process.args");
  expect_error ("{\"ociVersion\":\"1.0\",\"root\":{\"path\":\"r\"},\"process\":{\"args\":[\"a\"],\"cwd\":\"rel\"}}",
                "process.cwd");
  expect_error (MIN_CONFIG (",\"linux\":{\"namespaces\":[{\"type\":\"bogus\"}]}"),
                "linux.namespaces[0].type: unknown namespace `bogus`");
  expect_error (MIN_CONFIG (",\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"pid\"}]}"),
                "listed twice");
  expect_error (MIN_CONFIG (",\"linux\":{\"namespaces\":[{\"type\":\"user\"}]}"),
                "needs uid and gid mappings");
  expect_error (MIN_CONFIG (",\"hostname\":\"h\""), "hostname");
  expect_error (MIN_CONFIG (",\"hooks\":{\"prestart\":[{\"path\":\"rel\"}]}"),
                "hooks.prestart[0].path");
  expect_error (MIN_CONFIG (",\"linux\":{\"devices\":[{\"path\":\"/dev/x\",\"type\":\"q\"}]}"),
                "linux.devices[0].type");
  expect_error (MIN_CONFIG (",\"linux\":{\"sysctl\":{\"../x\":\"1\"}}"), "linux.sysctl");
  expect_error (MIN_CONFIG (",\"linux\":{\"rootfsPropagation\":\"bogus\"}"),
                "linux.rootfsPropagation");
}

static void
test_rlimits (void **state)
{
  (void) state;
  polis_error *err = NULL;
  const char *doc = "{\"ociVersion\":\"1.0\",\"root\":{\"path\":\"r\"},\"process\":{\"args\":[\"a\"],\"cwd\":\"/\","
                    "\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"soft\":10,\"hard\":20}]}}";
  spec *s = parse (doc, &err);
  assert_non_null (s);
  assert_int_equal (s->process.n_rlimits, 1);
  assert_int_equal (s->process.rlimits[0].resource, RLIMIT_NOFILE);
  assert_int_equal (s->process.rlimits[0].soft, 10);
  spec_free (s);
  expect_error ("{\"ociVersion\":\"1.0\",\"root\":{\"path\":\"r\"},\"process\":{\"args\":[\"a\"],\"cwd\":\"/\","
                "\"rlimits\":[{\"type\":\"RLIMIT_BOGUS\",\"soft\":1,\"hard\":1}]}}",
                "process.rlimits[0].type: unknown rlimit");
  expect_error ("{\"ociVersion\":\"1.0\",\"root\":{\"path\":\"r\"},\"process\":{\"args\":[\"a\"],\"cwd\":\"/\","
                "\"rlimits\":[{\"type\":\"RLIMIT_CORE\",\"soft\":5,\"hard\":1}]}}",
                "above the hard limit");
}

static void
test_mount_options (void **state)
{
  (void) state;
  polis_error *err = NULL;
  spec_mount m = { 0 };
  char *opts[] = { "rbind", "ro", "nosuid", "rslave", "rro", "mode=755", "size=1k", "nodev", "dev", NULL };
  assert_int_equal (spec_mount_parse_options (&m, opts, "m", &err), 0);
  assert_true (m.bind);
  assert_true (m.flags & MS_REC);
  assert_true (m.flags & MS_RDONLY);
  assert_true (m.flags & MS_NOSUID);
  assert_false (m.flags & MS_NODEV);
  assert_int_equal (m.propagation, MS_SLAVE | MS_REC);
  assert_true (m.attr_set & MOUNT_ATTR_RDONLY);
  assert_string_equal (m.data, "mode=755,size=1k");
  free (m.data);
}

static void
test_caps_and_namespaces (void **state)
{
  (void) state;
  polis_error *err = NULL;
  const char *doc
      = "{\"ociVersion\":\"1.0\",\"root\":{\"path\":\"r\"},\"process\":{\"args\":[\"a\"],\"cwd\":\"/\","
        "\"capabilities\":{\"bounding\":[\"CAP_KILL\",\"CAP_NOT_A_CAP\"],\"effective\":[\"CAP_CHOWN\"]}},"
        "\"linux\":{\"namespaces\":[{\"type\":\"network\",\"path\":\"/proc/1/ns/net\"},{\"type\":\"user\"}],"
        "\"uidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":10}],"
        "\"gidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":10}]}}";
  spec *s = parse (doc, &err);
  assert_non_null (s);
  assert_true (s->process.caps[CAP_SET_BOUNDING] == (1ULL << caps_from_name ("CAP_KILL")));
  assert_true (s->process.caps[CAP_SET_EFFECTIVE] == 1ULL);
  assert_true (s->ns[NS_NET].present);
  assert_string_equal (s->ns[NS_NET].path, "/proc/1/ns/net");
  assert_true (s->ns[NS_USER].present);
  assert_null (s->ns[NS_USER].path);
  assert_int_equal (s->n_uid_maps, 1);
  assert_int_equal (s->uid_maps[0].host_id, 1000);
  spec_free (s);
}

static void
test_personality (void **state)
{
  (void) state;
  polis_error *err = NULL;
  spec *s = parse (MIN_CONFIG (",\"linux\":{\"personality\":{\"domain\":\"LINUX32\"}}"), &err);
  assert_non_null (s);
  assert_true (s->has_personality);
  assert_int_equal (s->personality, PER_LINUX32);
  spec_free (s);
  s = parse (MIN_CONFIG (""), &err);
  assert_non_null (s);
  assert_false (s->has_personality);
  spec_free (s);
  expect_error (MIN_CONFIG (",\"linux\":{\"personality\":{\"domain\":\"BSD\"}}"),
                "linux.personality.domain: `BSD` is not LINUX or LINUX32");
  expect_error (MIN_CONFIG (",\"linux\":{\"personality\":{}}"),
                "linux.personality.domain: missing");
  expect_error (MIN_CONFIG (",\"linux\":{\"personality\":{\"domain\":\"LINUX\","
                            "\"flags\":[\"x\"]}}"),
                "linux.personality.flags");
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_minimal),
    cmocka_unit_test (test_errors_name_fields),
    cmocka_unit_test (test_rlimits),
    cmocka_unit_test (test_mount_options),
    cmocka_unit_test (test_caps_and_namespaces),
    cmocka_unit_test (test_personality),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
