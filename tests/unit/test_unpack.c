/* Unit tests for image/unpack.c: whiteout conversion and path safety on
   layers built here with libarchive. */
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/error.h"
#include "base/file.h"
#include "image/unpack.h"

static char base[64], dest[128], outside[128], tarpath[128];

static int
setup (void **state)
{
  (void) state;
  snprintf (base, sizeof base, "/tmp/polis-test-unpack-XXXXXX");
  assert_non_null (mkdtemp (base));
  snprintf (dest, sizeof dest, "%s/dest", base);
  snprintf (outside, sizeof outside, "%s/outside", base);
  snprintf (tarpath, sizeof tarpath, "%s/layer.tar", base);
  mkdir (dest, 0755);
  mkdir (outside, 0755);
  return 0;
}

static int
teardown (void **state)
{
  (void) state;
  polis_error *err = NULL;
  file_remove_tree_at (AT_FDCWD, base, &err);
  return 0;
}

typedef struct
{
  const char *name;
  int type; /* AE_IF* */
  const char *data; /* file content or link target */
  int hardlink;
  unsigned major, minor;
} entry;

static void
write_tar (const entry *es, bool gzip)
{
  struct archive *a = archive_write_new ();
  archive_write_set_format_pax_restricted (a);
  if (gzip)
    archive_write_add_filter_gzip (a);
  assert_int_equal (archive_write_open_filename (a, tarpath), ARCHIVE_OK);
  for (const entry *e = es; e->name; e++)
    {
      struct archive_entry *ae = archive_entry_new ();
      archive_entry_set_pathname (ae, e->name);
      archive_entry_set_perm (ae, 0644);
      if (e->hardlink)
        archive_entry_set_hardlink (ae, e->data);
      else
        {
          archive_entry_set_filetype (ae, (unsigned) e->type);
          if (e->type == AE_IFLNK)
            archive_entry_set_symlink (ae, e->data);
          if (e->type == AE_IFREG)
            archive_entry_set_size (ae, e->data ? (la_int64_t) strlen (e->data) : 0);
          if (e->type == AE_IFCHR)
            archive_entry_set_rdev (ae, makedev (e->major, e->minor));
        }
      archive_write_header (a, ae);
      if (!e->hardlink && e->type == AE_IFREG && e->data)
        archive_write_data (a, e->data, strlen (e->data));
      archive_entry_free (ae);
    }
  archive_write_close (a);
  archive_write_free (a);
}

static int
run_unpack (polis_error **err)
{
  int src = open (tarpath, O_RDONLY);
  int dfd = open (dest, O_RDONLY | O_DIRECTORY);
  unpack_opts o = { .src_fd = src, .dest_fd = dfd };
  char diff[DIGEST_STRING_LEN + 1];
  int r = unpack_layer (&o, diff, NULL, err);
  close (src);
  close (dfd);
  return r;
}

static void
test_clean_name (void **state)
{
  (void) state;
  polis_error *err = NULL;
  char *c = unpack_clean_name ("./a//b/./c/", &err);
  assert_string_equal (c, "a/b/c");
  free (c);
  c = unpack_clean_name ("/etc/passwd", &err);
  assert_string_equal (c, "etc/passwd");
  free (c);
  assert_null (unpack_clean_name ("a/../../x", &err));
  assert_non_null (strstr (err->msg, "escapes the layer"));
  error_free (&err);
}

static void
test_whiteouts (void **state)
{
  (void) state;
  const entry es[] = {
    { "dir", AE_IFDIR, NULL, 0, 0, 0 },
    { "dir/.wh.gone", AE_IFREG, "", 0, 0, 0 },
    { "opq/.wh..wh..opq", AE_IFREG, "", 0, 0, 0 },
    { "opq/new", AE_IFREG, "n", 0, 0, 0 },
    { "file", AE_IFREG, "data", 0, 0, 0 },
    { "hard", AE_IFREG, "file", 1, 0, 0 },
    { "link", AE_IFLNK, "/etc/passwd", 0, 0, 0 },
    { NULL, 0, NULL, 0, 0, 0 },
  };
  write_tar (es, true);
  polis_error *err = NULL;
  if (run_unpack (&err) < 0)
    fail_msg ("%s", err->msg);
  char p[256];
  struct stat st;
  snprintf (p, sizeof p, "%s/dir/gone", dest);
  assert_int_equal (lstat (p, &st), 0);
  assert_true (S_ISCHR (st.st_mode) && st.st_rdev == makedev (0, 0));
  snprintf (p, sizeof p, "%s/opq", dest);
  char v[4] = "";
  assert_int_equal (getxattr (p, "trusted.overlay.opaque", v, sizeof v), 1);
  assert_int_equal (v[0], 'y');
  snprintf (p, sizeof p, "%s/hard", dest);
  assert_int_equal (lstat (p, &st), 0);
  assert_int_equal (st.st_nlink, 2);
  snprintf (p, sizeof p, "%s/opq/.wh..wh..opq", dest);
  assert_int_equal (lstat (p, &st), -1);
}

static void
test_dotdot (void **state)
{
  (void) state;
  const entry es[] = {
    { "../outside/evil", AE_IFREG, "x", 0, 0, 0 },
    { NULL, 0, NULL, 0, 0, 0 },
  };
  write_tar (es, false);
  polis_error *err = NULL;
  assert_int_equal (run_unpack (&err), -1);
  assert_non_null (strstr (err->msg, "escapes the layer"));
  error_free (&err);
  char p[256];
  struct stat st;
  snprintf (p, sizeof p, "%s/evil", outside);
  assert_int_equal (lstat (p, &st), -1);
}

static void
test_symlink_then_write (void **state)
{
  (void) state;
  entry es[] = {
    { "evil", AE_IFLNK, outside, 0, 0, 0 },
    { "evil/owned", AE_IFREG, "x", 0, 0, 0 },
    { NULL, 0, NULL, 0, 0, 0 },
  };
  write_tar (es, false);
  polis_error *err = NULL;
  assert_int_equal (run_unpack (&err), -1);
  assert_non_null (strstr (err->msg, "through the symlink"));
  error_free (&err);
  char p[256];
  struct stat st;
  snprintf (p, sizeof p, "%s/owned", outside);
  assert_int_equal (lstat (p, &st), -1);
  /* A hard link to a file outside through a symlinked directory. */
  teardown (state);
  setup (state);
  entry es2[] = {
    { "evil", AE_IFLNK, "/", 0, 0, 0 },
    { "stolen", AE_IFREG, "evil/etc/passwd", 1, 0, 0 },
    { NULL, 0, NULL, 0, 0, 0 },
  };
  write_tar (es2, false);
  assert_int_equal (run_unpack (&err), -1);
  error_free (&err);
}

static void
test_devices (void **state)
{
  (void) state;
  entry es[] = {
    { "dev/null", AE_IFCHR, NULL, 0, 1, 3 },
    { NULL, 0, NULL, 0, 0, 0 },
  };
  write_tar (es, false);
  polis_error *err = NULL;
  if (run_unpack (&err) < 0)
    fail_msg ("%s", err->msg);
  teardown (state);
  setup (state);
  entry bad[] = {
    { "usr/bin/sda", AE_IFBLK, NULL, 0, 8, 0 },
    { NULL, 0, NULL, 0, 0, 0 },
  };
  bad[0].type = AE_IFCHR;
  write_tar (bad, false);
  assert_int_equal (run_unpack (&err), -1);
  assert_non_null (strstr (err->msg, "only allowed under /dev"));
  error_free (&err);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_clean_name),
    cmocka_unit_test_setup_teardown (test_whiteouts, setup, teardown),
    cmocka_unit_test_setup_teardown (test_dotdot, setup, teardown),
    cmocka_unit_test_setup_teardown (test_symlink_then_write, setup, teardown),
    cmocka_unit_test_setup_teardown (test_devices, setup, teardown),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
