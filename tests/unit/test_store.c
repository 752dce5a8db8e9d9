/* Unit tests for image/digest.c and image/content_store.c: digests,
   verification while streaming, resume, nothing half-stored. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/error.h"
#include "base/file.h"
#include "image/content_store.h"
#include "image/digest.h"
#include "image/snapshot.h"

/* sha256("hello") */
#define HELLO "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"

static char root[64];

static int
setup (void **state)
{
  (void) state;
  snprintf (root, sizeof root, "/tmp/polis-test-store-XXXXXX");
  assert_non_null (mkdtemp (root));
  return 0;
}

static int
teardown (void **state)
{
  (void) state;
  polis_error *err = NULL;
  file_remove_tree_at (AT_FDCWD, root, &err);
  return 0;
}

static void
test_digest (void **state)
{
  (void) state;
  char d[DIGEST_STRING_LEN + 1];
  digest_buffer ("hello", 5, d);
  assert_string_equal (d, HELLO);
  polis_error *err = NULL;
  assert_int_equal (digest_validate (HELLO, &err), 0);
  assert_int_equal (digest_validate ("sha256:../../etc/passwd", &err), -1);
  error_free (&err);
  assert_int_equal (digest_validate ("sha512:abc", &err), -1);
  error_free (&err);
}

static void
test_put_and_verify (void **state)
{
  (void) state;
  polis_error *err = NULL;
  content_store *cs = content_store_open (root, &err);
  assert_non_null (cs);
  assert_int_equal (content_store_put_blob (cs, "hello", 5, HELLO, NULL, &err), 0);
  assert_true (content_store_has (cs, HELLO, NULL));
  /* A mismatch stores nothing. */
  const char *other = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
  assert_int_equal (content_store_put_blob (cs, "bye", 3, other, NULL, &err), -1);
  assert_non_null (strstr (err->msg, "digest mismatch"));
  error_free (&err);
  assert_false (content_store_has (cs, other, NULL));
  content_store_free (cs);
}

static void
test_writer_resume (void **state)
{
  (void) state;
  polis_error *err = NULL;
  content_store *cs = content_store_open (root, &err);
  content_writer *w = content_store_writer (cs, HELLO, 5, CONTENT_WRITER_RESUME, &err);
  assert_non_null (w);
  assert_int_equal (content_writer_write (w, "hel", 3, &err), 0);
  content_writer_free (w); /* "killed": the partial stays */
  assert_false (content_store_has (cs, HELLO, NULL));
  w = content_store_writer (cs, HELLO, 5, CONTENT_WRITER_RESUME, &err);
  assert_int_equal (content_writer_offset (w), 3);
  /* More than announced is refused. */
  assert_int_equal (content_writer_write (w, "lo!!", 4, &err), -1);
  error_free (&err);
  assert_int_equal (content_writer_write (w, "lo", 2, &err), 0);
  char d[DIGEST_STRING_LEN + 1];
  assert_int_equal (content_writer_commit (w, d, &err), 0);
  assert_string_equal (d, HELLO);
  content_writer_free (w);
  assert_true (content_store_has (cs, HELLO, NULL));

  /* A corrupt partial fails verification and is removed. */
  const char *other = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
  w = content_store_writer (cs, other, 5, CONTENT_WRITER_RESUME, &err);
  assert_int_equal (content_writer_write (w, "hello", 5, &err), 0);
  assert_int_equal (content_writer_commit (w, NULL, &err), -1);
  error_free (&err);
  content_writer_free (w);
  assert_false (content_store_has (cs, other, NULL));
  char p[256];
  snprintf (p, sizeof p, "%s/content/ingest/1111111111111111111111111111111111111111111111111111111111111111.partial", root);
  struct stat st;
  assert_int_equal (stat (p, &st), -1);
  content_store_free (cs);
}

static bool
ingest_empty (void)
{
  char p[256];
  snprintf (p, sizeof p, "%s/content/ingest", root);
  DIR *d = opendir (p);
  assert_non_null (d);
  struct dirent *de;
  bool empty = true;
  while ((de = readdir (d)))
    empty &= de->d_name[0] == '.';
  closedir (d);
  return empty;
}

/* A second writer of a blob: NOWAIT refuses while the first holds it, and
   the first releases it when the blob becomes visible, not when freed. */
static void
test_writer_lock (void **state)
{
  (void) state;
  polis_error *err = NULL;
  content_store *cs = content_store_open (root, &err);
  unsigned fl = CONTENT_WRITER_RESUME | CONTENT_WRITER_NOWAIT;
  content_writer *a = content_store_writer (cs, HELLO, 5, fl, &err);
  assert_non_null (a);
  assert_int_equal (content_writer_write (a, "hello", 5, &err), 0);
  content_writer *b = content_store_writer (cs, HELLO, 5, fl, &err);
  assert_null (b);
  assert_int_equal (err->cls, ERROR_CONFLICT);
  assert_int_equal (err->code, EAGAIN);
  error_free (&err);
  /* Verified is not visible yet: nothing may look complete. */
  assert_int_equal (content_writer_verify (a, NULL, &err), 0);
  assert_false (content_store_has (cs, HELLO, NULL));
  assert_int_equal (content_writer_write (a, "x", 1, &err), -1);
  error_free (&err);
  assert_int_equal (content_writer_commit (a, NULL, &err), 0);
  assert_true (content_store_has (cs, HELLO, NULL));
  b = content_store_writer (cs, HELLO, 5, fl, &err);
  assert_non_null (b);
  assert_true (content_writer_done (b));
  content_writer_free (b);
  content_writer_free (a);
  assert_true (ingest_empty ());
  content_store_free (cs);
}

/* Staged blobs: checked now, visible only when committed, gone when
   dropped. */
static void
test_stage (void **state)
{
  (void) state;
  polis_error *err = NULL;
  content_store *cs = content_store_open (root, &err);
  const char *other = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
  assert_null (content_store_stage_blob (cs, "hello", 5, other, &err));
  assert_non_null (strstr (err->msg, "digest mismatch"));
  error_free (&err);
  content_writer *w = content_store_stage_blob (cs, "hello", 5, HELLO, &err);
  assert_non_null (w);
  assert_false (content_store_has (cs, HELLO, NULL));
  content_writer_free (w);
  assert_false (content_store_has (cs, HELLO, NULL));
  assert_true (ingest_empty ());
  w = content_store_stage_blob (cs, "hello", 5, HELLO, &err);
  char d[DIGEST_STRING_LEN + 1];
  assert_int_equal (content_writer_commit (w, d, &err), 0);
  assert_string_equal (d, HELLO);
  content_writer_free (w);
  assert_true (content_store_has (cs, HELLO, NULL));
  /* Present already: a done writer. */
  w = content_store_stage_blob (cs, "hello", 5, NULL, &err);
  assert_true (content_writer_done (w));
  content_writer_free (w);
  assert_true (ingest_empty ());
  content_store_free (cs);
}

static int
snap_with (snapshot_store *ss, const char *file, char **name)
{
  polis_error *err = NULL;
  int fd = snapshot_prepare (ss, HELLO, name, &err);
  assert_true (fd >= 0);
  int f = openat (fd, file, O_WRONLY | O_CREAT, 0644);
  assert_true (f >= 0);
  close (f);
  return fd;
}

/* A snapshot directory already in place is kept when recorded, replaced
   (atomically) when nothing vouches for it. */
static void
test_snapshot_commit (void **state)
{
  (void) state;
  polis_error *err = NULL;
  snapshot_store *ss = snapshot_store_open (root, &err);
  assert_non_null (ss);
  char *n = NULL;
  char p[256];
  struct stat st;
  close (snap_with (ss, "a", &n));
  assert_int_equal (snapshot_commit (ss, n, HELLO, false, &err), 1);
  free (n);
  close (snap_with (ss, "b", &n));
  assert_int_equal (snapshot_commit (ss, n, HELLO, false, &err), 0);
  free (n);
  snprintf (p, sizeof p, "%s/snapshots/%s/a", root, HELLO + 7);
  assert_int_equal (stat (p, &st), 0);
  close (snap_with (ss, "b", &n));
  assert_int_equal (snapshot_commit (ss, n, HELLO, true, &err), 1);
  free (n);
  assert_int_equal (stat (p, &st), -1);
  snprintf (p, sizeof p, "%s/snapshots/%s/b", root, HELLO + 7);
  assert_int_equal (stat (p, &st), 0);
  snprintf (p, sizeof p, "%s/snapshots", root);
  DIR *d = opendir (p);
  struct dirent *de;
  int entries = 0;
  while ((de = readdir (d)))
    entries += de->d_name[0] != '.' || strncmp (de->d_name, ".tmp-", 5) == 0;
  closedir (d);
  assert_int_equal (entries, 1);
  snapshot_store_free (ss);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_digest),
    cmocka_unit_test_setup_teardown (test_put_and_verify, setup, teardown),
    cmocka_unit_test_setup_teardown (test_writer_resume, setup, teardown),
    cmocka_unit_test_setup_teardown (test_writer_lock, setup, teardown),
    cmocka_unit_test_setup_teardown (test_stage, setup, teardown),
    cmocka_unit_test_setup_teardown (test_snapshot_commit, setup, teardown),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
