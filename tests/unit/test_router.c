/* Unit tests for api/router.c: the route table and its matcher. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "api/router.h"

static const api_route *
match (const char *method, const char *path, char *param)
{
  char copy[512];
  snprintf (copy, sizeof copy, "%s", path);
  char *segs[API_PATH_SEGMENTS_MAX];
  size_t n = 0;
  for (char *s = strtok (copy, "/"); s; s = strtok (NULL, "/"))
    segs[n++] = s;
  param[0] = '\0';
  return router_match (method, segs, n, param, 256);
}

static void
test_exact_and_parameter_routes (void **state)
{
  (void) state;
  char p[256];
  const api_route *r = match ("GET", "/containers/json", p);
  assert_non_null (r);
  assert_string_equal (r->path, "/containers/json");
  r = match ("GET", "/containers/abc/json", p);
  assert_string_equal (r->path, "/containers/{id}/json");
  assert_string_equal (p, "abc");
  r = match ("DELETE", "/containers/abc", p);
  assert_string_equal (r->path, "/containers/{id}");
  assert_null (match ("GET", "/containers/abc/nope", p));
  assert_null (match ("PATCH", "/containers/json", p));
  r = match ("HEAD", "/_ping", p);
  assert_non_null (r);
}

/* Image names hold slashes; "/images/json" is not an image named json. */
static void
test_image_names_span_segments (void **state)
{
  (void) state;
  char p[256];
  const api_route *r = match ("GET", "/images/json", p);
  assert_string_equal (r->path, "/images/json");
  r = match ("GET", "/images/ghcr.io/org/app:1/json", p);
  assert_string_equal (r->path, "/images/{name}/json");
  assert_string_equal (p, "ghcr.io/org/app:1");
  r = match ("DELETE", "/images/localhost:5000/a/b@sha256:00", p);
  assert_string_equal (r->path, "/images/{name}");
  assert_string_equal (p, "localhost:5000/a/b@sha256:00");
  r = match ("POST", "/images/busybox/tag", p);
  assert_string_equal (r->path, "/images/{name}/tag");
  assert_string_equal (p, "busybox");
  r = match ("GET", "/images/get", p);
  assert_string_equal (r->path, "/images/get");
}

/* Every row is unique and documented as one of the three states. */
static void
test_table_is_consistent (void **state)
{
  (void) state;
  size_t n = 0;
  for (const api_route *r = api_routes; r->method; r++, n++)
    {
      assert_true (r->compat <= COMPAT_MISSING);
      assert_true ((r->handler == NULL) == (r->compat == COMPAT_MISSING));
      for (const api_route *q = api_routes; q != r; q++)
        assert_false (strcmp (q->method, r->method) == 0 && strcmp (q->path, r->path) == 0);
    }
  assert_true (n >= 100);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_exact_and_parameter_routes),
    cmocka_unit_test (test_image_names_span_segments),
    cmocka_unit_test (test_table_is_consistent),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
