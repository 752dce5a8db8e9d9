/* Unit tests for image/reference.c: Docker's normalisation and its error
   wording for invalid references. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "image/reference.h"

static void
check (const char *in, const char *full, const char *familiar)
{
  polis_error *err = NULL;
  image_reference *r = image_reference_parse (in, &err);
  if (r == NULL)
    fail_msg ("%s: %s", in, err->msg);
  char *s = image_reference_string (r);
  char *f = image_reference_familiar (r);
  assert_string_equal (s, full);
  assert_string_equal (f, familiar);
  free (s);
  free (f);
  image_reference_free (r);
}

static void
check_error (const char *in, const char *msg)
{
  polis_error *err = NULL;
  image_reference *r = image_reference_parse (in, &err);
  if (r)
    fail_msg ("%s: parsed", in);
  assert_non_null (err);
  assert_string_equal (err->msg, msg);
  error_free (&err);
}

static void
test_normalise (void **state)
{
  (void) state;
  check ("busybox", "docker.io/library/busybox:latest", "busybox:latest");
  check ("nginx:1.27", "docker.io/library/nginx:1.27", "nginx:1.27");
  check ("library/nginx", "docker.io/library/nginx:latest", "nginx:latest");
  check ("index.docker.io/foo/bar", "docker.io/foo/bar:latest", "foo/bar:latest");
  check ("docker.io/foo/bar:v1", "docker.io/foo/bar:v1", "foo/bar:v1");
  check ("localhost/app", "localhost/app:latest", "localhost/app:latest");
  check ("localhost:5000/team/app:1.0", "localhost:5000/team/app:1.0",
         "localhost:5000/team/app:1.0");
  check ("127.0.0.1:5000/a/b/c", "127.0.0.1:5000/a/b/c:latest",
         "127.0.0.1:5000/a/b/c:latest");
  check ("quay.io/a-b/c__d.e", "quay.io/a-b/c__d.e:latest",
         "quay.io/a-b/c__d.e:latest");
  check ("busybox@sha256:"
         "7b3ccabffc97de872a30dfd234fd972a66d247c8cfc69b0550f276481852627c",
         "docker.io/library/busybox@sha256:"
         "7b3ccabffc97de872a30dfd234fd972a66d247c8cfc69b0550f276481852627c",
         "busybox@sha256:"
         "7b3ccabffc97de872a30dfd234fd972a66d247c8cfc69b0550f276481852627c");
  check ("[::1]:5000/x:TaG_1", "[::1]:5000/x:TaG_1", "[::1]:5000/x:TaG_1");
}

static void
test_errors (void **state)
{
  (void) state;
  check_error ("Busybox",
               "invalid reference format: repository name (library/Busybox) "
               "must be lowercase");
  check_error ("foo/Bar", "invalid reference format: repository name (foo/Bar) "
                          "must be lowercase");
  check_error ("busybox:", "invalid reference format");
  check_error ("busybox:-tag", "invalid reference format");
  check_error ("bu--sy_-box", "invalid reference format");
  check_error ("a/b//c", "invalid reference format");
  check_error ("-busybox", "invalid reference format");
  check_error ("busybox@sha256:abc", "invalid reference format");
  check_error ("busybox@sha256:"
               "7b3ccabffc97de872a30dfd234fd972a66d247c8cfc69b0550f276481852",
               "invalid checksum digest length");
  check_error ("7b3ccabffc97de872a30dfd234fd972a66d247c8cfc69b0550f276481852627c",
               "invalid repository name "
               "(7b3ccabffc97de872a30dfd234fd972a66d247c8cfc69b0550f276481852627c), "
               "cannot specify 64-byte hexadecimal strings");
  char longname[300];
  memset (longname, 'a', sizeof longname - 1);
  longname[sizeof longname - 1] = '\0';
  check_error (longname, "repository name must not be more than 255 characters");
}

static void
test_name_only (void **state)
{
  (void) state;
  polis_error *err = NULL;
  image_reference *r = image_reference_parse_name ("busybox", &err);
  assert_non_null (r);
  assert_null (r->tag);
  image_reference_free (r);
  assert_true (image_reference_is_hex_id ("abc123"));
  assert_false (image_reference_is_hex_id ("busybox"));
  char *f = image_reference_familiarize ("docker.io/library/a/b:1");
  assert_string_equal (f, "library/a/b:1");
  free (f);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_normalise),
    cmocka_unit_test (test_errors),
    cmocka_unit_test (test_name_only),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
