/* api_archive.c - files in and out of containers: HEAD/GET/PUT
 * /containers/{id}/archive (`docker cp`) and GET .../export.
 *
 * Paths are resolved inside the container's view: the root file system
 * (the overlay, mounted on demand) or, under a bind mount's destination
 * (the user's -v binds, /etc/hosts, /etc/hostname, /etc/resolv.conf),
 * the bind's source.  Every lookup goes through path_open_in_root, so a
 * symlink the container made cannot point a copy at the host.
 */
#include "api.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/path.h"
#include "base/xalloc.h"
#include "engine/tar.h"

#define ARCHIVE_CHUNK (64u << 10)

/* Where container path P lives on the host: a root directory and the
   path inside it. */
typedef struct
{
  char *root;
  char *path;
  bool readonly;
} fs_target;

static void
fs_target_clear (fs_target *t)
{
  free (t->root);
  free (t->path);
}

static int
resolve_target (engine *e, container *c, const char *p, fs_target *t,
                polis_error **err)
{
  memset (t, 0, sizeof *t);
  cleanup_free char *clean = path_clean (p[0] == '/' ? p : "/");
  if (p[0] != '/')
    {
      free (clean);
      cleanup_free char *abs = xasprintf ("/%s", p);
      clean = path_clean (abs);
    }
  cleanup_json json_t *binds = engine_container_binds (e, c);
  size_t best = 0;
  json_t *hit = NULL;
  size_t i;
  json_t *b;
  json_array_foreach (binds, i, b)
  {
    const char *d = json_string_value (json_object_get (b, "destination"));
    size_t dl = strlen (d);
    if (dl > best && strncmp (clean, d, dl) == 0 && (clean[dl] == '\0' || clean[dl] == '/'))
      {
        best = dl;
        hit = b;
      }
  }
  if (hit)
    {
      const char *src = json_string_value (json_object_get (hit, "source"));
      struct stat st;
      t->readonly = json_is_true (json_object_get (hit, "readonly"));
      if (stat (src, &st) == 0 && !S_ISDIR (st.st_mode))
        {
          if (clean[best] != '\0')
            return error_set (err, ERROR_NOT_FOUND, ENOENT,
                              "Could not find the file %s in container %s", p,
                              container_id (c));
          cleanup_free char *copy = xstrdup (src);
          t->root = xstrdup (dirname (copy));
          cleanup_free char *copy2 = xstrdup (src);
          t->path = xasprintf ("/%s", basename (copy2));
        }
      else
        {
          t->root = xstrdup (src);
          t->path = xstrdup (clean[best] ? clean + best : "/");
        }
      return 0;
    }
  t->root = engine_container_rootfs (e, c, err);
  if (t->root == NULL)
    return -1;
  t->path = steal_pointer (&clean);
  cleanup_json json_t *ins = engine_container_inspect (e, c, false, API_VERSION_MAX);
  t->readonly = json_is_true (json_object_get (json_object_get (ins, "HostConfig"),
                                               "ReadonlyRootfs"));
  return 0;
}

/* Open the parent of T's path inside its root; *BASE gets the last
   component ("." for the root itself). */
static int
open_parent (const fs_target *t, int *rootfd, char **base, polis_error **err)
{
  *rootfd = open (t->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (*rootfd < 0)
    return error_sys (err, "open `%s`", t->root);
  if (strcmp (t->path, "/") == 0)
    {
      *base = xstrdup (".");
      return dup (*rootfd);
    }
  cleanup_free char *copy = xstrdup (t->path);
  char *slash = strrchr (copy, '/');
  *base = xstrdup (slash + 1);
  *slash = '\0';
  return path_open_in_root (*rootfd, *copy ? copy : "/", O_RDONLY | O_DIRECTORY,
                            PATH_OPEN, 0, err);
}

/* Go's os.FileMode bits for ST (what the CLI tests with IsDir and
   ModeSymlink). */
static json_int_t
go_file_mode (const struct stat *st)
{
  uint64_t m = st->st_mode & 0777;
  if (S_ISDIR (st->st_mode))
    m |= UINT64_C (1) << 31;
  else if (S_ISLNK (st->st_mode))
    m |= UINT64_C (1) << 27;
  else if (S_ISFIFO (st->st_mode))
    m |= UINT64_C (1) << 25;
  else if (S_ISSOCK (st->st_mode))
    m |= UINT64_C (1) << 24;
  else if (S_ISBLK (st->st_mode))
    m |= UINT64_C (1) << 26;
  else if (S_ISCHR (st->st_mode))
    m |= (UINT64_C (1) << 26) | (UINT64_C (1) << 21);
  if (st->st_mode & S_ISUID)
    m |= UINT64_C (1) << 23;
  if (st->st_mode & S_ISGID)
    m |= UINT64_C (1) << 22;
  if (st->st_mode & S_ISVTX)
    m |= UINT64_C (1) << 20;
  return (json_int_t) m;
}

/* Stat the path of a request; set the X-Docker-Container-Path-Stat header.
   On success *PARENT and *BASE are the open parent and the name in it. */
static int
stat_path (api_request *req, container *c, const char *path, fs_target *t,
           int *parent, char **base, struct stat *st)
{
  api_context *ctx = api_context_of (req);
  polis_error *err = NULL;
  if (resolve_target (ctx->eng, c, path, t, &err) < 0)
    {
      api_reply_error (req, &err);
      return -1;
    }
  cleanup_close int rootfd = -1;
  *parent = open_parent (t, &rootfd, base, &err);
  if (*parent < 0 || fstatat (*parent, *base, st, AT_SYMLINK_NOFOLLOW) < 0)
    {
      error_free (&err);
      api_reply_errorf (req, 404, "Could not find the file %s in container %s",
                        path, api_param (req));
      return -1;
    }
  char target[4096] = "";
  if (S_ISLNK (st->st_mode))
    {
      ssize_t n = readlinkat (*parent, *base, target, sizeof target - 1);
      target[n > 0 ? n : 0] = '\0';
    }
  char mtime[48];
  engine_format_time ((int64_t) st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec,
                      mtime, sizeof mtime);
  cleanup_free char *name = xstrdup (strcmp (*base, ".") == 0 ? "/" : *base);
  cleanup_json json_t *j = json_pack ("{s:s,s:I,s:I,s:s,s:s}", "name", name, "size",
                                      (json_int_t) st->st_size, "mode",
                                      go_file_mode (st), "mtime", mtime,
                                      "linkTarget", target);
  cleanup_free char *text = json_dumps (j, JSON_COMPACT);
  cleanup_free char *b64 = api_base64_encode (text, strlen (text));
  api_reply_header (req, "X-Docker-Container-Path-Stat", b64);
  return 0;
}

static const char *
path_arg (api_request *req)
{
  const char *p = api_query (req, "path");
  if (p == NULL || *p == '\0')
    {
      api_reply_errorf (req, 400, "path is required");
      return NULL;
    }
  return p;
}

void
api_archive_head (api_request *req)
{
  cleanup_container container *c = api_container (req);
  const char *p = c ? path_arg (req) : NULL;
  if (p == NULL)
    return;
  fs_target t;
  cleanup_free char *base = NULL;
  struct stat st;
  int parent = -1;
  if (stat_path (req, c, p, &t, &parent, &base, &st) == 0)
    api_reply_empty (req, 200);
  if (parent >= 0)
    close (parent);
  fs_target_clear (&t);
}

/* --- tar streams ---------------------------------------------------------------- */

typedef struct
{
  int dirfd;
  char *name, *arcname;
  int out;
  bool cross;
} tar_job;

static void *
tar_thread (void *arg)
{
  tar_job *j = arg;
  polis_error *err = NULL;
  if (tar_write_tree (j->dirfd, j->name, j->arcname, j->cross, j->out, &err) < 0)
    error_free (&err);
  close (j->out);
  close (j->dirfd);
  free (j->name);
  free (j->arcname);
  free (j);
  return NULL;
}

typedef struct
{
  int in;
  int client_fd;
  api_server *srv;
} tar_stream;

static int
tar_read (void *cls, char **chunk, size_t *len)
{
  tar_stream *s = cls;
  char *buf = xmalloc (ARCHIVE_CHUNK);
  for (;;)
    {
      ssize_t n = read (s->in, buf, ARCHIVE_CHUNK);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          free (buf);
          return n == 0 ? 0 : -1;
        }
      *chunk = buf;
      *len = (size_t) n;
      return 1;
    }
}

static void
tar_stream_free (void *cls)
{
  tar_stream *s = cls;
  close (s->in); /* the writer thread then fails with EPIPE and ends */
  free (s);
}

/* Reply with the tar of NAME in DIRFD (taken), streamed from a thread. */
static void
reply_tar (api_request *req, int dirfd, const char *name, const char *arcname,
           bool cross)
{
  int p[2];
  if (pipe2 (p, O_CLOEXEC) < 0)
    {
      close (dirfd);
      api_reply_errorf (req, 500, "pipe: %s", strerror (errno));
      return;
    }
  tar_job *j = xzalloc (sizeof *j);
  j->dirfd = dirfd;
  j->name = xstrdup (name);
  j->arcname = xstrdup (arcname);
  j->out = p[1];
  j->cross = cross;
  pthread_t th;
  pthread_attr_t at;
  pthread_attr_init (&at);
  pthread_attr_setdetachstate (&at, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize (&at, 256 << 10);
  int r = pthread_create (&th, &at, tar_thread, j);
  pthread_attr_destroy (&at);
  if (r != 0)
    {
      close (p[0]);
      close (p[1]);
      close (dirfd);
      free (j->name);
      free (j->arcname);
      free (j);
      api_reply_errorf (req, 500, "thread: %s", strerror (r));
      return;
    }
  tar_stream *s = xzalloc (sizeof *s);
  s->in = p[0];
  api_reply_stream (req, 200, "application/x-tar", tar_read, s, tar_stream_free);
}

void
api_archive_get (api_request *req)
{
  cleanup_container container *c = api_container (req);
  const char *p = c ? path_arg (req) : NULL;
  if (p == NULL)
    return;
  fs_target t;
  cleanup_free char *base = NULL;
  struct stat st;
  int parent = -1;
  if (stat_path (req, c, p, &t, &parent, &base, &st) < 0)
    {
      if (parent >= 0)
        close (parent);
      fs_target_clear (&t);
      return;
    }
  /* "/dir/." asks for the contents: Docker rebases the tree on ".". */
  size_t pl = strlen (p);
  bool contents = pl >= 2 && strcmp (p + pl - 2, "/.") == 0;
  const char *arc = contents || strcmp (base, ".") == 0 ? "." : base;
  reply_tar (req, parent, base, arc, false);
  fs_target_clear (&t);
}

void
api_archive_put (api_request *req)
{
  cleanup_container container *c = api_container (req);
  const char *p = c ? path_arg (req) : NULL;
  if (p == NULL)
    return;
  api_context *ctx = api_context_of (req);
  polis_error *err = NULL;
  fs_target t;
  if (resolve_target (ctx->eng, c, p, &t, &err) < 0)
    {
      api_reply_error (req, &err);
      return;
    }
  cleanup_close int rootfd = open (t.root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  cleanup_close int dir = rootfd < 0 ? -1
                                     : path_open_in_root (rootfd, t.path, O_RDONLY,
                                                          PATH_OPEN, 0, &err);
  struct stat st;
  if (dir < 0 || fstat (dir, &st) < 0)
    {
      error_free (&err);
      api_reply_errorf (req, 404, "Could not find the file %s in container %s", p,
                        api_param (req));
    }
  else if (!S_ISDIR (st.st_mode))
    api_reply_errorf (req, 400, "extraction point is not a directory");
  else if (t.readonly)
    api_reply_errorf (req, 403, "container rootfs is marked read-only");
  else
    {
      tar_extract_opts o = {
        .keep_owner = api_query_bool (req, "copyUIDGID"),
        .no_overwrite_dir_non_dir = api_query_bool (req, "noOverwriteDirNonDir"),
      };
      if (tar_extract (api_body_fd (req), rootfd, t.path, &o, &err) < 0)
        api_reply_error (req, &err);
      else
        {
          engine_container_event (ctx->eng, c, "extract-to-dir");
          api_reply_empty (req, 200);
        }
    }
  fs_target_clear (&t);
}

void
api_container_export (api_request *req)
{
  cleanup_container container *c = api_container (req);
  if (c == NULL)
    return;
  api_context *ctx = api_context_of (req);
  polis_error *err = NULL;
  cleanup_free char *rootfs = engine_container_rootfs (ctx->eng, c, &err);
  if (rootfs == NULL)
    {
      api_reply_error (req, &err);
      return;
    }
  int fd = open (rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    {
      api_reply_errorf (req, 500, "open the root file system: %s", strerror (errno));
      return;
    }
  engine_container_event (ctx->eng, c, "export");
  reply_tar (req, fd, ".", "", false);
}
