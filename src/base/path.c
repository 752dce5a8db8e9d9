/* path.c - resolve paths inside a root directory, never outside it. */
#include "path.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cleanup.h"
#include "xalloc.h"

/* Limits of the fallback walk, the same the kernel applies. */
#define PATH_MAX_SYMLINKS 40
#define PATH_MAX_DEPTH 256

static bool path_no_openat2;

void
path_force_fallback (bool on)
{
  path_no_openat2 = on;
}

const char *
path_proc_fd (int fd, char buf[PATH_PROC_FD_MAX])
{
  snprintf (buf, PATH_PROC_FD_MAX, "/proc/self/fd/%d", fd);
  return buf;
}

char *
path_join (const char *a, const char *b)
{
  size_t la = strlen (a);
  while (la > 0 && a[la - 1] == '/')
    la--;
  while (*b == '/')
    b++;
  return xasprintf ("%.*s/%s", (int) la, a, b);
}

char *
path_clean (const char *path)
{
  bool abs = path[0] == '/';
  size_t n = strlen (path);
  cleanup_free char *out = xmalloc (n + 2);
  size_t len = 0;
  /* Offsets where each kept component starts, to undo them on "..". */
  cleanup_free size_t *starts = xmalloc ((n / 2 + 2) * sizeof (size_t));
  size_t depth = 0;

  if (abs)
    out[len++] = '/';
  const char *p = path;
  while (*p)
    {
      while (*p == '/')
        p++;
      if (*p == '\0')
        break;
      const char *e = strchrnul (p, '/');
      size_t clen = (size_t) (e - p);
      if (clen == 1 && p[0] == '.')
        ;
      else if (clen == 2 && p[0] == '.' && p[1] == '.')
        {
          if (depth > 0)
            {
              len = starts[--depth];
              if (len > (abs ? 1u : 0u) && out[len - 1] == '/')
                len--;
            }
          else if (!abs)
            {
              /* Relative paths keep leading "..". */
              if (len > 0)
                out[len++] = '/';
              memcpy (out + len, "..", 2);
              len += 2;
            }
        }
      else
        {
          if (len > 0 && out[len - 1] != '/')
            out[len++] = '/';
          starts[depth++] = len;
          memcpy (out + len, p, clen);
          len += clen;
        }
      p = e;
    }
  if (len == 0)
    out[len++] = '.';
  out[len] = '\0';
  return steal_pointer (&out);
}

static int
path_openat2 (int rootfd, const char *path, int flags, mode_t mode)
{
  struct open_how how = {
    .flags = (unsigned long long) (flags | O_CLOEXEC),
    .mode = (flags & O_CREAT) ? mode : 0,
    .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
  };
  int fd;
  do
    fd = (int) syscall (SYS_openat2, rootfd, path, &how, sizeof how);
  while (fd < 0 && errno == EAGAIN);
  return fd;
}

/* A queue of path components still to be walked.  Symlink targets are
   spliced in at the front. */
typedef struct
{
  char **items;
  size_t len, cap;
} path_queue;

static void
path_queue_free (path_queue *q)
{
  for (size_t i = 0; i < q->len; i++)
    free (q->items[i]);
  free (q->items);
  q->items = NULL;
  q->len = q->cap = 0;
}

/* Put the components of P in front of the queue, in order.  The queue is a
   stack whose top (the end of the array) is the next component, so P's
   components are pushed last-first. */
static int
path_queue_prepend (path_queue *q, const char *p, polis_error **err)
{
  size_t count = 0;
  for (const char *s = p; *s;)
    {
      while (*s == '/')
        s++;
      if (*s == '\0')
        break;
      count++;
      s = strchrnul (s, '/');
    }
  if (q->len + count > PATH_MAX_DEPTH * 4)
    return error_set (err, ERROR_INVALID, ENAMETOOLONG, "path too long");
  if (q->len + count > q->cap)
    {
      q->cap = q->len + count + 8;
      q->items = xreallocarray (q->items, q->cap, sizeof (char *));
    }
  size_t i = q->len + count;
  for (const char *s = p; *s;)
    {
      while (*s == '/')
        s++;
      if (*s == '\0')
        break;
      const char *e = strchrnul (s, '/');
      q->items[--i] = xstrndup (s, (size_t) (e - s));
      s = e;
    }
  q->len += count;
  return 0;
}

static char *
path_queue_pop (path_queue *q)
{
  if (q->len == 0)
    return NULL;
  return q->items[--q->len];
}

/* The walk keeps a stack of directory fds; [0] is the root (not owned). */
typedef struct
{
  int fds[PATH_MAX_DEPTH + 1];
  size_t len;
} path_stack;

static void
path_stack_reset (path_stack *s)
{
  for (size_t i = 1; i < s->len; i++)
    close (s->fds[i]);
  s->len = 1;
}

static int
path_walk (int rootfd, const char *path, int flags, path_create_mode create,
           mode_t mode, polis_error **err)
{
  path_queue q = { 0 };
  path_stack st = { .fds = { rootfd }, .len = 1 };
  int symlinks = 0, result = -1;

  if (path_queue_prepend (&q, path, err) < 0)
    goto out;

  if (q.len == 0)
    {
      result = openat (rootfd, ".", flags | O_CLOEXEC);
      if (result < 0)
        error_sys (err, "open `%s`", path);
      goto out;
    }

  for (;;)
    {
      cleanup_free char *c = path_queue_pop (&q);
      if (c == NULL)
        break;
      bool last = q.len == 0;
      int top = st.fds[st.len - 1];

      if (strcmp (c, ".") == 0)
        {
          if (last)
            {
              result = openat (top, ".", flags | O_CLOEXEC);
              if (result < 0)
                error_sys (err, "open `%s`", path);
              goto out;
            }
          continue;
        }
      if (strcmp (c, "..") == 0)
        {
          if (st.len > 1)
            close (st.fds[--st.len]);
          if (last)
            {
              result = openat (st.fds[st.len - 1], ".", flags | O_CLOEXEC);
              if (result < 0)
                error_sys (err, "open `%s`", path);
              goto out;
            }
          continue;
        }

      cleanup_close int fd
          = openat (top, c, O_PATH | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0 && errno == ENOENT && create != PATH_OPEN)
        {
          if (last && create == PATH_MKFILE)
            {
              int nf = openat (top, c,
                               O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW
                                   | O_CLOEXEC,
                               mode & 0666);
              if (nf < 0 && errno != EEXIST)
                {
                  error_sys (err, "create `%s` in `%s`", c, path);
                  goto out;
                }
              if (nf >= 0)
                close (nf);
            }
          else if (mkdirat (top, c, mode) < 0 && errno != EEXIST)
            {
              error_sys (err, "mkdir `%s` in `%s`", c, path);
              goto out;
            }
          fd = openat (top, c, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        }
      if (fd < 0)
        {
          error_sys (err, "open `%s`", path);
          goto out;
        }

      struct stat sb;
      if (fstat (fd, &sb) < 0)
        {
          error_sys (err, "stat `%s`", path);
          goto out;
        }

      if (S_ISLNK (sb.st_mode))
        {
          char target[PATH_MAX];
          if (++symlinks > PATH_MAX_SYMLINKS)
            {
              error_set (err, ERROR_INVALID, ELOOP,
                         "open `%s`: too many levels of symbolic links", path);
              goto out;
            }
          ssize_t n = readlinkat (fd, "", target, sizeof target - 1);
          if (n < 0)
            {
              error_sys (err, "readlink in `%s`", path);
              goto out;
            }
          target[n] = '\0';
          if (target[0] == '/')
            path_stack_reset (&st);
          if (path_queue_prepend (&q, target, err) < 0)
            goto out;
          if (q.len == 0)
            {
              /* A symlink to "/" as the last component. */
              result = openat (st.fds[st.len - 1], ".", flags | O_CLOEXEC);
              if (result < 0)
                error_sys (err, "open `%s`", path);
              goto out;
            }
          continue;
        }

      if (last)
        {
          if ((flags & O_PATH) && !(flags & O_DIRECTORY))
            result = move_fd (fd);
          else
            {
              /* Reopen the very object we checked, with the wanted flags. */
              result = openat (top, c, (flags & ~O_CREAT) | O_NOFOLLOW
                                           | O_CLOEXEC);
              if (result < 0)
                error_sys (err, "open `%s`", path);
            }
          goto out;
        }

      if (!S_ISDIR (sb.st_mode))
        {
          error_sys_code (err, ENOTDIR, "open `%s`: `%s`", path, c);
          goto out;
        }
      if (st.len > PATH_MAX_DEPTH)
        {
          error_set (err, ERROR_INVALID, ENAMETOOLONG, "path `%s` too deep",
                     path);
          goto out;
        }
      st.fds[st.len++] = move_fd (fd);
    }

out:
  path_stack_reset (&st);
  path_queue_free (&q);
  return result;
}

int
path_open_in_root (int rootfd, const char *path, int flags,
                   path_create_mode create, mode_t mode, polis_error **err)
{
  if (create == PATH_OPEN && !path_no_openat2)
    {
      int fd = path_openat2 (rootfd, path, flags, mode);
      if (fd >= 0)
        return fd;
      if (errno != ENOSYS && errno != EPERM && errno != E2BIG)
        return error_sys (err, "open `%s`", path);
      /* No openat2 here (or a seccomp filter hides it): walk by hand. */
    }
  return path_walk (rootfd, path, flags, create, mode, err);
}
