/* Unit tests for engine/oci_spec.c and engine/seccomp_profile.c:
   config.json as dockerd writes it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/pjson.h"
#include "engine/container_mounts.h"
#include "engine/container_schema.h"
#include "engine/oci_spec.h"
#include "engine/seccomp_profile.h"
#include "runtime/caps.h"

static json_t *
spec_for (const char *config_json, const char *hc_json)
{
  polis_error *err = NULL;
  json_t *ci = json_loads (config_json, 0, NULL);
  json_t *hi = json_loads (hc_json, 0, NULL);
  json_t *c = schema_normalize (SCHEMA_CONFIG, ci, &err);
  json_t *hc = schema_normalize (SCHEMA_HOST_CONFIG, hi, &err);
  assert_non_null (c);
  assert_non_null (hc);
  json_t *mounts = container_mounts_resolve ("/v", c, hc, &err);
  assert_non_null (mounts);
  oci_spec_input in = { .config = c, .host_config = hc, .dir = "/c",
                        .cgroups_path = "/polis/x", .uid = 0, .gid = 0,
                        .cgroup_version = 1, .mounts = mounts };
  json_t *s = oci_spec_generate (&in, &err);
  assert_non_null (s);
  json_decref (mounts);
  json_decref (ci);
  json_decref (hi);
  json_decref (c);
  json_decref (hc);
  return s;
}

static bool
has_string (const json_t *arr, const char *s)
{
  size_t i;
  json_t *v;
  json_array_foreach (arr, i, v)
    if (strcmp (json_string_value (v), s) == 0)
      return true;
  return false;
}

static const json_t *
mount_at (const json_t *spec, const char *dest)
{
  size_t i;
  json_t *m;
  const json_t *found = NULL;
  json_array_foreach (json_object_get (spec, "mounts"), i, m)
    if (strcmp (json_string_value (json_object_get (m, "destination")), dest) == 0)
      found = m;
  return found;
}

static void
test_docker_defaults (void **state)
{
  (void) state;
  json_t *s = spec_for ("{\"Image\":\"b\",\"Cmd\":[\"sh\"],\"Hostname\":\"h\","
                        "\"Env\":[\"A=1\"]}", "{}");
  json_t *p = json_object_get (s, "process");
  json_t *caps = json_object_get (json_object_get (p, "capabilities"), "bounding");
  assert_int_equal (json_array_size (caps), 14);
  assert_true (has_string (caps, "CAP_NET_RAW"));
  assert_false (has_string (caps, "CAP_SYS_ADMIN"));
  json_t *env = json_object_get (p, "env");
  assert_string_equal (json_string_value (json_array_get (env, 0)),
                       "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
  assert_true (has_string (env, "HOSTNAME=h"));
  assert_true (has_string (env, "A=1"));
  assert_non_null (mount_at (s, "/etc/hosts"));
  const json_t *shm = mount_at (s, "/dev/shm");
  assert_true (has_string (json_object_get (shm, "options"), "size=67108864"));
  json_t *lx = json_object_get (s, "linux");
  assert_true (has_string (json_object_get (lx, "maskedPaths"), "/proc/kcore"));
  assert_true (has_string (json_object_get (lx, "readonlyPaths"), "/proc/sys"));
  json_t *sc = json_object_get (lx, "seccomp");
  assert_string_equal (json_string_value (json_object_get (sc, "defaultAction")),
                       "SCMP_ACT_ERRNO");
  assert_null (json_object_get (sc, "archMap"));
  /* Network: a namespace of its own (loopback only). */
  bool net = false;
  size_t i;
  json_t *ns;
  json_array_foreach (json_object_get (lx, "namespaces"), i, ns)
    net = net || strcmp (json_string_value (json_object_get (ns, "type")), "network") == 0;
  assert_true (net);
  json_decref (s);
}

static void
test_host_config_fields (void **state)
{
  (void) state;
  json_t *s = spec_for (
      "{\"Image\":\"b\",\"Cmd\":[\"sh\"],\"Tty\":true}",
      "{\"Memory\":67108864,\"NanoCpus\":1500000000,\"PidsLimit\":50,"
      "\"CapDrop\":[\"ALL\"],\"CapAdd\":[\"CAP_CHOWN\"],\"ReadonlyRootfs\":true,"
      "\"Binds\":[\"/tmp:/data:ro\"],\"Tmpfs\":{\"/run\":\"size=1m\"},"
      "\"ShmSize\":1048576,\"Ulimits\":[{\"Name\":\"nofile\",\"Soft\":10,\"Hard\":20}],"
      "\"SecurityOpt\":[\"no-new-privileges\"],\"NetworkMode\":\"host\"}");
  json_t *r = json_object_get (json_object_get (s, "linux"), "resources");
  assert_int_equal (json_integer_value (json_object_get (json_object_get (r, "memory"),
                                                         "limit")), 67108864);
  assert_int_equal (json_integer_value (json_object_get (json_object_get (r, "cpu"),
                                                         "quota")), 150000);
  assert_int_equal (json_integer_value (json_object_get (json_object_get (r, "pids"),
                                                         "limit")), 50);
  json_t *p = json_object_get (s, "process");
  json_t *caps = json_object_get (json_object_get (p, "capabilities"), "bounding");
  assert_int_equal (json_array_size (caps), 1);
  assert_true (json_is_true (json_object_get (p, "terminal")));
  assert_true (json_is_true (json_object_get (p, "noNewPrivileges")));
  assert_true (has_string (json_object_get (p, "env"), "TERM=xterm"));
  assert_true (json_is_true (json_object_get (json_object_get (s, "root"), "readonly")));
  const json_t *data = mount_at (s, "/data");
  assert_non_null (data);
  assert_true (has_string (json_object_get (data, "options"), "ro"));
  assert_non_null (mount_at (s, "/run"));
  json_t *rl = json_array_get (json_object_get (p, "rlimits"), 0);
  assert_string_equal (json_string_value (json_object_get (rl, "type")), "RLIMIT_NOFILE");
  json_t *ns;
  size_t i;
  json_array_foreach (json_object_get (json_object_get (s, "linux"), "namespaces"), i, ns)
    assert_string_not_equal (json_string_value (json_object_get (ns, "type")), "network");
  json_decref (s);
}

static void
test_privileged (void **state)
{
  (void) state;
  json_t *s = spec_for ("{\"Image\":\"b\",\"Cmd\":[\"sh\"]}", "{\"Privileged\":true}");
  json_t *lx = json_object_get (s, "linux");
  assert_null (json_object_get (lx, "seccomp"));
  assert_null (json_object_get (lx, "maskedPaths"));
  json_t *caps = json_object_get (json_object_get (json_object_get (s, "process"),
                                                   "capabilities"), "bounding");
  assert_true (has_string (caps, "CAP_SYS_ADMIN"));
  json_decref (s);
}

/* Docker's conditional rules: with CAP_SYS_ADMIN the profile allows mount
   and friends; without it, not. */
static void
test_seccomp_follows_capabilities (void **state)
{
  (void) state;
  polis_error *err = NULL;
  uint64_t base = 0;
  json_t *empty = json_object ();
  json_t *caps = oci_spec_capabilities (empty, &base);
  json_decref (caps);
  json_decref (empty);
  json_t *a = seccomp_profile_resolve (NULL, base, &err);
  json_t *b = seccomp_profile_resolve (
      NULL, base | (UINT64_C (1) << caps_from_name ("CAP_SYS_ADMIN")), &err);
  assert_non_null (a);
  assert_non_null (b);
  bool mount_a = false, mount_b = false;
  size_t i;
  json_t *r;
  json_array_foreach (json_object_get (a, "syscalls"), i, r)
    mount_a = mount_a || has_string (json_object_get (r, "names"), "mount");
  json_array_foreach (json_object_get (b, "syscalls"), i, r)
    mount_b = mount_b || has_string (json_object_get (r, "names"), "mount");
  assert_false (mount_a);
  assert_true (mount_b);
  json_decref (a);
  json_decref (b);
}

static void
test_schema_types (void **state)
{
  (void) state;
  polis_error *err = NULL;
  json_t *in = json_loads ("{\"Env\":\"A=1\"}", 0, NULL);
  assert_null (schema_normalize (SCHEMA_CONFIG, in, &err));
  assert_string_equal (err->msg, "json: cannot unmarshal string into Go struct field "
                                 "Config.Env of type []string");
  error_free (&err);
  json_decref (in);
  in = json_loads ("{\"cmd\":\"top\",\"memory\":1.0e8}", 0, NULL);
  json_t *c = schema_normalize (SCHEMA_CONFIG, in, &err);
  assert_string_equal (json_string_value (json_array_get (json_object_get (c, "Cmd"), 0)),
                       "top");
  json_t *hc = schema_normalize (SCHEMA_HOST_CONFIG, in, &err);
  assert_int_equal (json_integer_value (json_object_get (hc, "Memory")), 100000000);
  assert_string_equal (json_string_value (json_object_get (hc, "IpcMode")), "private");
  json_decref (c);
  json_decref (hc);
  json_decref (in);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_docker_defaults),
    cmocka_unit_test (test_host_config_fields),
    cmocka_unit_test (test_privileged),
    cmocka_unit_test (test_seccomp_follows_capabilities),
    cmocka_unit_test (test_schema_types),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
