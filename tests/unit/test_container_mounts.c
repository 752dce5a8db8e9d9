/* Unit tests for engine/container_mounts.c: Binds, Mounts and
   Config.Volumes into mount points, with Docker's errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/pjson.h"
#include "engine/container_mounts.h"
#include "engine/volume.h"

static json_t *
resolve (const char *config_json, const char *hc_json, polis_error **err)
{
  json_t *c = json_loads (config_json, 0, NULL);
  json_t *hc = json_loads (hc_json, 0, NULL);
  assert_non_null (c);
  assert_non_null (hc);
  json_t *m = container_mounts_resolve ("/vols", c, hc, err);
  json_decref (c);
  json_decref (hc);
  return m;
}

static const json_t *
at (const json_t *mounts, const char *dst)
{
  size_t i;
  json_t *m;
  json_array_foreach (mounts, i, m)
    if (strcmp (container_mounts_str (m, "Destination"), dst) == 0)
      return m;
  return NULL;
}

static void
refused (const char *hc, const char *message)
{
  polis_error *err = NULL;
  json_t *m = resolve ("{}", hc, &err);
  assert_null (m);
  assert_non_null (err);
  assert_int_equal (err->cls, ERROR_INVALID);
  if (strstr (err->msg, message) == NULL)
    fail_msg ("%s: got `%s`, want `%s`", hc, err->msg, message);
  error_free (&err);
}

static void
test_binds (void **state)
{
  (void) state;
  polis_error *err = NULL;
  json_t *m = resolve ("{\"Volumes\":{\"/img\":{},\"/named\":{}}}",
                       "{\"Binds\":[\"/h/a:/a:ro,rslave\",\"data:/named\","
                       "\"/anon\",\"v2:/n2:nocopy,z\",\"/h/b/../c/:/c//d/\"]}",
                       &err);
  assert_non_null (m);
  assert_int_equal (json_array_size (m), 6);
  const json_t *a = at (m, "/a");
  assert_string_equal (container_mounts_str (a, "Type"), "bind");
  assert_string_equal (container_mounts_str (a, "Source"), "/h/a");
  assert_string_equal (container_mounts_str (a, "Propagation"), "rslave");
  assert_true (json_is_false (json_object_get (a, "RW")));
  const json_t *n = at (m, "/named");
  assert_string_equal (container_mounts_str (n, "Name"), "data");
  assert_string_equal (container_mounts_str (n, "Source"), "/vols/data/_data");
  assert_string_equal (container_mounts_str (n, "Mode"), "z");
  assert_true (json_is_true (json_object_get (n, "CopyUp")));
  assert_true (json_is_false (json_object_get (n, "Anonymous")));
  const json_t *anon = at (m, "/anon");
  assert_int_equal (strlen (container_mounts_str (anon, "Name")), 64);
  assert_true (json_is_true (json_object_get (anon, "Anonymous")));
  assert_true (json_is_false (json_object_get (at (m, "/n2"), "CopyUp")));
  /* The image's VOLUME /img is anonymous; its /named is taken by a bind. */
  assert_true (json_is_true (json_object_get (at (m, "/img"), "Anonymous")));
  assert_string_equal (container_mounts_str (at (m, "/c/d"), "Source"), "/h/c");
  json_t *pub = container_mounts_public (m);
  const json_t *pa = at (pub, "/a");
  assert_null (json_object_get (pa, "CopyUp"));
  assert_null (json_object_get (pa, "Name"));
  assert_int_equal (json_object_size (at (pub, "/named")), 8);
  json_decref (pub);
  json_decref (m);
}

static void
test_mounts (void **state)
{
  (void) state;
  polis_error *err = NULL;
  json_t *m = resolve (
      "{}",
      "{\"Mounts\":[{\"Type\":\"tmpfs\",\"Target\":\"/t\",\"TmpfsOptions\":"
      "{\"SizeBytes\":1048576,\"Mode\":448}},{\"Type\":\"volume\",\"Target\":\"/v\","
      "\"Source\":\"nv\",\"ReadOnly\":true,\"VolumeOptions\":{\"NoCopy\":true,"
      "\"Labels\":{\"a\":\"b\"},\"DriverConfig\":{\"Options\":{\"type\":\"tmpfs\","
      "\"device\":\"tmpfs\"}}}},{\"Type\":\"bind\",\"Source\":\"/\",\"Target\":\"/b\","
      "\"BindOptions\":{\"Propagation\":\"shared\"}}]}",
      &err);
  assert_non_null (m);
  assert_string_equal (container_mounts_str (at (m, "/t"), "TmpfsData"),
                       "size=1048576,mode=700");
  const json_t *v = at (m, "/v");
  assert_true (json_is_false (json_object_get (v, "RW")));
  assert_true (json_is_false (json_object_get (v, "CopyUp")));
  assert_non_null (json_object_get (v, "VolumeLabels"));
  assert_non_null (json_object_get (v, "VolumeOptions"));
  assert_string_equal (container_mounts_str (at (m, "/b"), "Propagation"), "shared");
  json_decref (m);
}

static void
test_refused (void **state)
{
  (void) state;
  refused ("{\"Binds\":[\"a/b:/x\"]}", "\"a/b\" includes invalid characters");
  refused ("{\"Binds\":[\"..:/x\"]}", "\"..\" includes invalid characters");
  refused ("{\"Binds\":[\"x:/x\"]}", "volume name is too short");
  refused ("{\"Binds\":[\"/a:rel\"]}",
           "invalid mount config for type \"bind\": invalid mount path: 'rel' mount "
           "path must be absolute");
  refused ("{\"Binds\":[\"/a:/\"]}", "destination can't be '/'");
  refused ("{\"Binds\":[\"/a:/..\"]}", "destination can't be '/'");
  refused ("{\"Binds\":[\"/a:/x:rw,ro\"]}", "invalid mode: rw,ro");
  refused ("{\"Binds\":[\"vol:/x:rshared\"]}", "invalid mode: rshared");
  refused ("{\"Binds\":[\"/a:/x:nocopy\"]}", "invalid mode: nocopy");
  refused ("{\"Binds\":[\"/a:/x:y:z\"]}", "invalid volume specification");
  refused ("{\"Binds\":[\":/x\"]}", "invalid volume specification");
  refused ("{\"Binds\":[\"/a:/x\",\"vol:/x/\"]}", "Duplicate mount point: /x");
  refused ("{\"Binds\":[\"/a:/x\"],\"Tmpfs\":{\"/x\":\"\"}}", "Duplicate mount point: /x");
  refused ("{\"Mounts\":[{\"Type\":\"bind\",\"Target\":\"/x\"}]}",
           "field Source must not be empty");
  refused ("{\"Mounts\":[{\"Type\":\"bind\",\"Source\":\"/nonexistent-polis\","
           "\"Target\":\"/x\"}]}",
           "bind source path does not exist: /nonexistent-polis");
  refused ("{\"Mounts\":[{\"Type\":\"volume\",\"Source\":\"v1\"}]}",
           "field Target must not be empty");
  refused ("{\"Mounts\":[{\"Type\":\"tmpfs\",\"Target\":\"/x\","
           "\"TmpfsOptions\":{\"SizeBytes\":-1}}]}",
           "invalid tmpfs size");
  refused ("{\"Mounts\":[{\"Type\":\"npipe\",\"Target\":\"/x\"}]}", "mount type unknown");
  refused ("{\"Mounts\":[{\"Type\":\"bind\",\"Source\":\"/\",\"Target\":\"/x\","
           "\"BindOptions\":{\"Propagation\":\"weird\"}}]}",
           "invalid propagation mode: weird");
  refused ("{\"Mounts\":[{\"Type\":\"bind\",\"Source\":\"/\",\"Target\":\"/x\","
           "\"VolumeOptions\":{}}]}",
           "field VolumeOptions must not be specified");
  /* Sizes are capped. */
  char big[5200] = "{\"Binds\":[\"/a:/";
  size_t n = strlen (big);
  memset (big + n, 'd', 5000);
  memcpy (big + n + 5000, "\"]}", 4);
  refused (big, "longer than 4096 bytes");
}

static void
test_volume_names (void **state)
{
  (void) state;
  polis_error *err = NULL;
  assert_int_equal (volume_check_name ("ok", &err), 0);
  assert_int_equal (volume_check_name ("a_b.c-d9", &err), 0);
  static const char *const bad[] = { "a", "", "..", ".a", "-a", "a/b", "a b", "a:b",
                                     "\xc3\xa9t\xc3\xa9", NULL };
  for (const char *const *b = bad; *b; b++)
    {
      assert_int_equal (volume_check_name (*b, &err), -1);
      assert_int_equal (err->cls, ERROR_INVALID);
      error_free (&err);
    }
  char longname[300];
  memset (longname, 'n', sizeof longname - 1);
  longname[sizeof longname - 1] = '\0';
  assert_int_equal (volume_check_name (longname, &err), -1);
  error_free (&err);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_binds),
    cmocka_unit_test (test_mounts),
    cmocka_unit_test (test_refused),
    cmocka_unit_test (test_volume_names),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
