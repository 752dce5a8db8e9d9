/* Unit tests for image/auth.c: WWW-Authenticate parsing, token answers,
   docker config credentials. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/error.h"
#include "image/auth.h"

static void
test_bearer (void **state)
{
  (void) state;
  auth_challenge c = { 0 };
  polis_error *err = NULL;
  assert_int_equal (auth_parse_challenge (
                        "Bearer realm=\"https://auth.docker.io/token\","
                        "service=\"registry.docker.io\","
                        "scope=\"repository:samalba/my-app:pull,push\"",
                        &c, &err),
                    0);
  assert_int_equal (c.scheme, AUTH_BEARER);
  assert_string_equal (c.realm, "https://auth.docker.io/token");
  assert_string_equal (c.service, "registry.docker.io");
  assert_string_equal (c.scope, "repository:samalba/my-app:pull,push");
  char *scopes[] = { "repository:a/b:pull", NULL };
  char *url = auth_token_url (&c, scopes);
  assert_string_equal (url, "https://auth.docker.io/token?service=registry."
                            "docker.io&scope=repository%3Aa%2Fb%3Apull");
  free (url);
  auth_challenge_clear (&c);
}

static void
test_basic_and_multi (void **state)
{
  (void) state;
  auth_challenge c = { 0 };
  polis_error *err = NULL;
  assert_int_equal (auth_parse_challenge ("Basic realm=\"basic-realm\"", &c, &err), 0);
  assert_int_equal (c.scheme, AUTH_BASIC);
  assert_string_equal (c.realm, "basic-realm");
  auth_challenge_clear (&c);
  /* Two challenges: Bearer wins; token values unquoted; escapes. */
  assert_int_equal (auth_parse_challenge ("Basic realm=x, bearer realm=\"http://a/t\\\"q\",service=s",
                                          &c, &err),
                    0);
  assert_int_equal (c.scheme, AUTH_BEARER);
  assert_string_equal (c.realm, "http://a/t\"q");
  auth_challenge_clear (&c);
  assert_int_equal (auth_parse_challenge ("Negotiate abc", &c, &err), 0);
  assert_int_equal (c.scheme, AUTH_NONE);
}

static void
test_hostile (void **state)
{
  (void) state;
  auth_challenge c = { 0 };
  polis_error *err = NULL;
  assert_int_equal (auth_parse_challenge ("Bearer realm=\"unterminated", &c, &err), -1);
  error_free (&err);
  assert_int_equal (auth_parse_challenge ("Bearer service=\"x\"", &c, &err), -1);
  assert_non_null (strstr (err->msg, "without a realm"));
  error_free (&err);
  char big[AUTH_HEADER_MAX + 100];
  memset (big, 'a', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  assert_int_equal (auth_parse_challenge (big, &c, &err), -1);
  error_free (&err);
  char many[2048];
  size_t n = (size_t) snprintf (many, sizeof many, "Bearer realm=r");
  for (int i = 0; i < 40; i++)
    n += (size_t) snprintf (many + n, sizeof many - n, ",k=v");
  assert_int_equal (auth_parse_challenge (many, &c, &err), -1);
  error_free (&err);
}

static void
test_token_and_creds (void **state)
{
  (void) state;
  polis_error *err = NULL;
  char *t = NULL;
  long ex = 0;
  const char *body = "{\"access_token\":\"abc.def\",\"expires_in\":5}";
  assert_int_equal (auth_parse_token_response (body, strlen (body), &t, &ex, &err), 0);
  assert_string_equal (t, "abc.def");
  assert_int_equal (ex, 60);
  free (t);
  const char *bad = "{\"token\":\"a\\nb\"}";
  assert_int_equal (auth_parse_token_response (bad, strlen (bad), &t, &ex, &err), -1);
  error_free (&err);

  char dir[] = "/tmp/polis-test-auth-XXXXXX";
  assert_non_null (mkdtemp (dir));
  char path[256];
  snprintf (path, sizeof path, "%s/config.json", dir);
  FILE *f = fopen (path, "w");
  /* "user:pa:ss" */
  fputs ("{\"auths\":{\"localhost:5000\":{\"auth\":\"dXNlcjpwYTpzcw==\"}}}", f);
  fclose (f);
  char *u = NULL, *p = NULL;
  assert_int_equal (auth_lookup_credentials (dir, "localhost:5000", &u, &p, &err), 1);
  assert_string_equal (u, "user");
  assert_string_equal (p, "pa:ss");
  free (u);
  free (p);
  assert_int_equal (auth_lookup_credentials (dir, "other:1", &u, &p, &err), 0);
  unlink (path);
  rmdir (dir);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_bearer),
    cmocka_unit_test (test_basic_and_multi),
    cmocka_unit_test (test_hostile),
    cmocka_unit_test (test_token_and_creds),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
