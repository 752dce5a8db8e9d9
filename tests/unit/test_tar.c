/* Unit tests for engine/tar.c and engine/tar_extract.c */
#include <errno.h>
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
#include "base/xalloc.h"
#include "engine/tar.h"

static char *
make_tmpdir (void)
{
  char *t = xstrdup ("/tmp/polis-test-tar-XXXXXX");
  assert_non_null (mkdtemp (t));
  return t;
}

static void
write_file (const char *dir, const char *rel, const char *data)
{
  cleanup_free char *p = xasprintf ("%s/%s", dir, rel);
  polis_error *err = NULL;
  assert_int_equal (file_write_atomic (p, data, strlen (data), 0640, &err), 0);
}

static char *
read_file (const char *dir, const char *rel)
{
  cleanup_free char *p = xasprintf ("%s/%s", dir, rel);
  polis_error *err = NULL;
  char *s = file_read_at (AT_FDCWD, p, 1 << 20, NULL, &err);
  error_free (&err);
  return s;
}

static void
rm_rf (const char *dir)
{
  polis_error *err = NULL;
  file_remove_tree_at (AT_FDCWD, dir, &err);
  error_free (&err);
}

/* A tree written and extracted again keeps names, data, modes and links;
   long names go through PAX headers. */
static void
test_round_trip (void **state)
{
  (void) state;
  cleanup_free char *src = make_tmpdir ();
  cleanup_free char *dst = make_tmpdir ();
  cleanup_free char *d = xasprintf ("%s/tree/sub", src);
  polis_error *err = NULL;
  assert_int_equal (file_mkdir_p (d, 0750, &err), 0);
  write_file (src, "tree/a.txt", "alpha\n");
  char longname[300];
  memset (longname, 'n', sizeof longname - 1);
  longname[sizeof longname - 1] = '\0';
  cleanup_free char *lrel = xasprintf ("tree/sub/%.200s", longname);
  write_file (src, lrel, "long\n");
  cleanup_free char *lnk = xasprintf ("%s/tree/link", src);
  assert_int_equal (symlink ("a.txt", lnk), 0);

  cleanup_free char *tarpath = xasprintf ("%s/out.tar", dst);
  cleanup_close int fd = open (tarpath, O_RDWR | O_CREAT | O_TRUNC, 0600);
  cleanup_close int sfd = open (src, O_RDONLY | O_DIRECTORY);
  assert_int_equal (tar_write_tree (sfd, "tree", "tree", false, fd, &err), 0);
  assert_int_equal (lseek (fd, 0, SEEK_SET), 0);
  cleanup_free char *out = xasprintf ("%s/x", dst);
  assert_int_equal (mkdir (out, 0755), 0);
  cleanup_close int rootfd = open (out, O_RDONLY | O_DIRECTORY);
  tar_extract_opts o = { .keep_owner = true };
  assert_int_equal (tar_extract (fd, rootfd, "/", &o, &err), 0);

  cleanup_free char *a = read_file (out, "tree/a.txt");
  assert_string_equal (a, "alpha\n");
  cleanup_free char *l = read_file (out, lrel);
  assert_string_equal (l, "long\n");
  cleanup_free char *lp = xasprintf ("%s/tree/link", out);
  char target[64] = "";
  assert_int_equal (readlink (lp, target, sizeof target - 1), 5);
  assert_string_equal (target, "a.txt");
  struct stat st;
  cleanup_free char *sp = xasprintf ("%s/tree/sub", out);
  assert_int_equal (stat (sp, &st), 0);
  assert_int_equal (st.st_mode & 07777, 0750);
  cleanup_free char *ap = xasprintf ("%s/tree/a.txt", out);
  assert_int_equal (stat (ap, &st), 0);
  assert_int_equal (st.st_mode & 07777, 0640);
  rm_rf (src);
  rm_rf (dst);
}

/* Write a one-entry ustar archive named NAME into a temp file. */
static int
one_entry (const char *name, char type, const char *link, const char *data)
{
  char h[512];
  memset (h, 0, sizeof h);
  snprintf (h, 100, "%s", name);
  memcpy (h + 100, "0000644", 8);
  memcpy (h + 108, "0000000", 8);
  memcpy (h + 116, "0000000", 8);
  snprintf (h + 124, 12, "%011o", (unsigned) strlen (data));
  memcpy (h + 136, "00000000000", 12);
  h[156] = type;
  if (link)
    snprintf (h + 157, 100, "%s", link);
  memcpy (h + 257, "ustar", 6);
  memcpy (h + 263, "00", 2);
  memset (h + 148, ' ', 8);
  unsigned sum = 0;
  for (int i = 0; i < 512; i++)
    sum += (unsigned char) h[i];
  snprintf (h + 148, 8, "%06o", sum);
  h[155] = ' ';
  char tmpl[] = "/tmp/polis-test-tar-entry-XXXXXX";
  int fd = mkstemp (tmpl);
  unlink (tmpl);
  char pad[512] = { 0 };
  assert_int_equal (write (fd, h, 512), 512);
  size_t n = strlen (data);
  if (n)
    {
      assert_int_equal (write (fd, data, n), (ssize_t) n);
      assert_int_equal (write (fd, pad, 512 - n % 512), (ssize_t) (512 - n % 512));
    }
  assert_int_equal (write (fd, pad, 512), 512);
  assert_int_equal (write (fd, pad, 512), 512);
  lseek (fd, 0, SEEK_SET);
  return fd;
}

/* "..", absolute names and symlinks in the destination never lead out. */
static void
test_hostile_archives (void **state)
{
  (void) state;
  cleanup_free char *top = make_tmpdir ();
  cleanup_free char *root = xasprintf ("%s/root", top);
  assert_int_equal (mkdir (root, 0755), 0);
  cleanup_free char *tmp = xasprintf ("%s/tmp", root);
  assert_int_equal (mkdir (tmp, 0755), 0);
  cleanup_close int rootfd = open (root, O_RDONLY | O_DIRECTORY);
  tar_extract_opts o = { 0 };
  polis_error *err = NULL;

  cleanup_close int f1 = one_entry ("../../outside", '0', NULL, "x");
  assert_int_equal (tar_extract (f1, rootfd, "/tmp", &o, &err), -1);
  assert_int_equal (err->cls, ERROR_INVALID);
  error_free (&err);
  cleanup_free char *outside = xasprintf ("%s/outside", top);
  assert_int_not_equal (access (outside, F_OK), 0);

  /* A symlink in the container pointing at the host's top: writing
     through it lands inside the root. */
  cleanup_free char *esc = xasprintf ("%s/tmp/esc", root);
  assert_int_equal (symlink (top, esc), 0);
  cleanup_close int f2 = one_entry ("esc/pwned", '0', NULL, "y");
  assert_int_equal (tar_extract (f2, rootfd, "/tmp", &o, &err), 0);
  cleanup_free char *pwned = xasprintf ("%s/pwned", top);
  assert_int_not_equal (access (pwned, F_OK), 0);

  /* An existing symlink is replaced, not written through. */
  cleanup_free char *victim = xasprintf ("%s/victim", top);
  write_file (top, "victim", "keep");
  cleanup_free char *l2 = xasprintf ("%s/tmp/l2", root);
  assert_int_equal (symlink (victim, l2), 0);
  cleanup_close int f3 = one_entry ("l2", '0', NULL, "new");
  assert_int_equal (tar_extract (f3, rootfd, "/tmp", &o, &err), 0);
  cleanup_free char *v = read_file (top, "victim");
  assert_string_equal (v, "keep");
  cleanup_free char *n = read_file (root, "tmp/l2");
  assert_string_equal (n, "new");

  /* A garbled header is an error, not a crash. */
  cleanup_close int f4 = one_entry ("ok", '0', NULL, "z");
  assert_int_equal (pwrite (f4, "garbage", 7, 148), 7);
  assert_int_equal (tar_extract (f4, rootfd, "/tmp", &o, &err), -1);
  error_free (&err);
  rm_rf (top);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_round_trip),
    cmocka_unit_test (test_hostile_archives),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
