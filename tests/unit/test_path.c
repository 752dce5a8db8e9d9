/* Unit tests for base/path.c: resolution inside a root, both with
   openat2() and with the fallback walk. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/file.h"
#include "base/path.h"

typedef struct
{
  char root[PATH_MAX];
  char outside[PATH_MAX];
  int rootfd;
} fixture;

static int
setup (void **state)
{
  fixture *f = calloc (1, sizeof *f);
  char tmpl[] = "/tmp/polis-test-path-XXXXXX";
  char *base = mkdtemp (tmpl);
  assert_non_null (base);
  snprintf (f->root, sizeof f->root, "%s/root", base);
  snprintf (f->outside, sizeof f->outside, "%s/outside", base);
  mkdir (f->root, 0755);
  mkdir (f->outside, 0755);
  char p[PATH_MAX * 2 + 64];
  snprintf (p, sizeof p, "%s/etc", f->root);
  mkdir (p, 0755);
  snprintf (p, sizeof p, "%s/etc/hosts", f->root);
  close (open (p, O_CREAT | O_WRONLY, 0644));
  snprintf (p, sizeof p, "%s/secret", f->outside);
  close (open (p, O_CREAT | O_WRONLY, 0644));
  /* Hostile links: absolute to the host, relative climbing out. */
  snprintf (p, sizeof p, "%s/abs", f->root);
  symlink (f->outside, p);
  snprintf (p, sizeof p, "%s/up", f->root);
  symlink ("../../../../../../outside", p);
  snprintf (p, sizeof p, "%s/loop", f->root);
  symlink ("loop", p);
  snprintf (p, sizeof p, "%s/rel", f->root);
  symlink ("etc", p);
  f->rootfd = open (f->root, O_PATH | O_DIRECTORY);
  assert_true (f->rootfd >= 0);
  *state = f;
  return 0;
}

static int
teardown (void **state)
{
  fixture *f = *state;
  char base[PATH_MAX];
  snprintf (base, sizeof base, "%s", f->root);
  *strrchr (base, '/') = '\0';
  polis_error *err = NULL;
  file_remove_tree_at (AT_FDCWD, base, &err);
  error_free (&err);
  close (f->rootfd);
  free (f);
  path_force_fallback (false);
  return 0;
}

/* The real path of FD. */
static void
fd_path (int fd, char *out, size_t n)
{
  char proc[64];
  snprintf (proc, sizeof proc, "/proc/self/fd/%d", fd);
  ssize_t r = readlink (proc, out, n - 1);
  assert_true (r > 0);
  out[r] = '\0';
}

static void
check_stays_inside (fixture *f)
{
  polis_error *err = NULL;
  char real[PATH_MAX];
  const char *inside[] = { "/etc/hosts", "etc/../etc/hosts", "/../../etc/hosts",
                           "/rel/hosts", "/rel/../rel/hosts" };
  for (size_t i = 0; i < sizeof inside / sizeof *inside; i++)
    {
      int fd = path_open_in_root (f->rootfd, inside[i], O_PATH, PATH_OPEN, 0, &err);
      assert_true (fd >= 0);
      fd_path (fd, real, sizeof real);
      char want[PATH_MAX + 16];
      snprintf (want, sizeof want, "%s/etc/hosts", f->root);
      assert_string_equal (real, want);
      close (fd);
    }
  /* An absolute symlink is resolved against the root, so the host's
     directory is not reached. */
  int fd = path_open_in_root (f->rootfd, "/abs/secret", O_PATH, PATH_OPEN, 0, &err);
  assert_int_equal (fd, -1);
  assert_int_equal (err->code, ENOENT);
  error_free (&err);
  fd = path_open_in_root (f->rootfd, "/up/secret", O_PATH, PATH_OPEN, 0, &err);
  assert_int_equal (fd, -1);
  error_free (&err);
  fd = path_open_in_root (f->rootfd, "/loop/x", O_PATH, PATH_OPEN, 0, &err);
  assert_int_equal (fd, -1);
  assert_int_equal (err->code, ELOOP);
  error_free (&err);
}

static void
test_open_openat2 (void **state)
{
  check_stays_inside (*state);
}

static void
test_open_fallback (void **state)
{
  path_force_fallback (true);
  check_stays_inside (*state);
}

static void
test_mkdir_through_symlink_stays_inside (void **state)
{
  fixture *f = *state;
  polis_error *err = NULL;
  path_force_fallback (true);
  /* "/abs" points at the host dir; creating below it must create inside
     the root instead. */
  int fd = path_open_in_root (f->rootfd, "/abs/newdir/sub", O_PATH, PATH_MKDIR, 0755, &err);
  assert_true (fd >= 0);
  close (fd);
  char p[PATH_MAX * 2 + 64];
  struct stat st;
  snprintf (p, sizeof p, "%s/newdir", f->outside);
  assert_int_equal (stat (p, &st), -1);
  snprintf (p, sizeof p, "%s%s/newdir/sub", f->root, f->outside);
  assert_int_equal (stat (p, &st), 0);
  assert_true (S_ISDIR (st.st_mode));

  fd = path_open_in_root (f->rootfd, "/up/file", O_PATH, PATH_MKFILE, 0644, &err);
  assert_true (fd >= 0);
  close (fd);
  snprintf (p, sizeof p, "%s/file", f->outside);
  assert_int_equal (stat (p, &st), -1);
  snprintf (p, sizeof p, "%s/outside/file", f->root);
  assert_int_equal (stat (p, &st), 0);
  assert_true (S_ISREG (st.st_mode));
}

static void
test_not_a_directory (void **state)
{
  fixture *f = *state;
  polis_error *err = NULL;
  path_force_fallback (true);
  int fd = path_open_in_root (f->rootfd, "/etc/hosts/x", O_PATH, PATH_MKDIR, 0755, &err);
  assert_int_equal (fd, -1);
  assert_int_equal (err->code, ENOTDIR);
  error_free (&err);
}

static void
test_clean (void **state)
{
  (void) state;
  struct { const char *in, *out; } cases[] = {
    { "/", "/" }, { "//a//b/", "/a/b" }, { "/a/./b/../c", "/a/c" },
    { "/../..", "/" }, { "a/../..", ".." }, { "", "." }, { "./x", "x" },
    { "../a/b/../..", ".." }, { "/a/b/c/../../..", "/" },
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
    {
      char *c = path_clean (cases[i].in);
      assert_string_equal (c, cases[i].out);
      free (c);
    }
  char *j = path_join ("/a/", "/b");
  assert_string_equal (j, "/a/b");
  free (j);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_open_openat2, setup, teardown),
    cmocka_unit_test_setup_teardown (test_open_fallback, setup, teardown),
    cmocka_unit_test_setup_teardown (test_mkdir_through_symlink_stays_inside, setup, teardown),
    cmocka_unit_test_setup_teardown (test_not_a_directory, setup, teardown),
    cmocka_unit_test (test_clean),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
