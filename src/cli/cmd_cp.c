/* cmd_cp.c - docker cp both ways.  The API speaks tar; the CLI packs and
 * unpacks with the system's tar(1) (GNU tar on Debian) rather than link
 * an archive library into the client. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/file.h"
#include "base/pjson.h"
#include "base/xalloc.h"
#include "cli/cli.h"
#include "cli/units.h"

/* Run tar with ARGV; *FD gets our end of a pipe to its stdin (WRITE) or
   from its stdout (!WRITE).  Returns the pid or -1. */
static pid_t
spawn_tar (char *const argv[], bool write, int *fd, polis_error **err)
{
  int p[2];
  if (pipe2 (p, O_CLOEXEC) < 0)
    return error_sys (err, "pipe");
  pid_t pid = fork ();
  if (pid < 0)
    {
      close (p[0]);
      close (p[1]);
      return error_sys (err, "fork");
    }
  if (pid == 0)
    {
      dup2 (write ? p[0] : p[1], write ? 0 : 1);
      execvp ("tar", argv);
      _exit (127);
    }
  close (write ? p[0] : p[1]);
  *fd = write ? p[1] : p[0];
  return pid;
}

static int
wait_tar (pid_t pid, polis_error **err)
{
  int status;
  while (waitpid (pid, &status, 0) < 0)
    if (errno != EINTR)
      return error_sys (err, "waitpid");
  if (!WIFEXITED (status) || WEXITSTATUS (status) != 0)
    return error_set (err, ERROR_INTERNAL, 0, "tar failed (status %d)", status);
  return 0;
}

/* An X-Docker-Container-Path-Stat header: base64 of a JSON object
   (NULL when absent or not JSON). */
static json_t *
stat_header (const char *b64)
{
  static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  if (b64 == NULL)
    return NULL;
  size_t n = strlen (b64), o = 0;
  cleanup_free char *out = xmalloc (n + 1);
  unsigned v = 0;
  int bits = 0;
  for (size_t i = 0; i < n; i++)
    {
      const char *p = strchr (tbl, b64[i]);
      if (p == NULL || b64[i] == '\0')
        continue;
      v = (v << 6) | (unsigned) (p - tbl);
      bits += 6;
      if (bits >= 8)
        {
          bits -= 8;
          out[o++] = (char) ((v >> bits) & 0xff);
        }
    }
  out[o] = '\0';
  return json_loads (out, 0, NULL);
}

/* Its "name". */
static char *
stat_name (const char *b64)
{
  cleanup_json json_t *j = stat_header (b64);
  const char *name = json_string_value (json_object_get (j, "name"));
  return name ? xstrdup (name) : NULL;
}

/* Is it a directory?  Go's os.ModeDir is 1<<31 of its "mode". */
static bool
stat_is_dir (const char *b64)
{
  cleanup_json json_t *j = stat_header (b64);
  json_t *mode = json_object_get (j, "mode");
  return mode && (json_integer_value (mode) & (1LL << 31));
}

static int
copy_from_container (cli_ctx *ctx, const char *container, const char *src,
                     const char *dest, bool quiet)
{
  cleanup_error polis_error *err = NULL;
  cleanup_free char *p = client_path ("/containers/%s/archive", container);
  client_query_add (&p, "path", src);
  cleanup_http_conn http_conn *conn = client_send (ctx->client, "GET", p, NULL, NULL, &err);
  if (conn == NULL || client_check (conn, &err) < 0)
    return cli_error (ctx, err);
  char buf[65536];
  size_t total = 0;
  if (strcmp (dest, "-") == 0)
    {
      for (;;)
        {
          ssize_t n = http_conn_read_body (conn, buf, sizeof buf, &err);
          if (n < 0)
            return cli_error (ctx, err);
          if (n == 0)
            return 0;
          if (file_write_all (STDOUT_FILENO, buf, (size_t) n, &err) < 0)
            return cli_error (ctx, err);
        }
    }
  cleanup_free char *name = stat_name (http_conn_header (conn, "X-Docker-Container-Path-Stat"));
  if (name == NULL)
    {
      cleanup_free char *copy = xstrdup (src);
      name = xstrdup (basename (copy));
    }
  struct stat st;
  bool into_dir = stat (dest, &st) == 0 && S_ISDIR (st.st_mode);
  cleanup_free char *tmpdir = NULL;
  const char *target = dest;
  if (!into_dir)
    {
      cleanup_free char *copy = xstrdup (dest);
      tmpdir = xasprintf ("%s/.polis-cp-XXXXXX", dirname (copy));
      if (mkdtemp (tmpdir) == NULL)
        return cli_fail (1, "Error: mkdtemp %s: %s", tmpdir, strerror (errno));
      target = tmpdir;
    }
  char *argv[] = { "tar", "-x", "--no-same-owner", "-C", (char *) target, "-f", "-", NULL };
  int fd = -1;
  pid_t pid = spawn_tar (argv, true, &fd, &err);
  if (pid < 0)
    return cli_error (ctx, err);
  int status = 0;
  for (;;)
    {
      ssize_t n = http_conn_read_body (conn, buf, sizeof buf, &err);
      if (n < 0)
        {
          status = cli_error (ctx, err);
          break;
        }
      if (n == 0)
        break;
      total += (size_t) n;
      cleanup_error polis_error *werr = NULL;
      if (file_write_all (fd, buf, (size_t) n, &werr) < 0)
        break;
    }
  close (fd);
  if (wait_tar (pid, &err) < 0 && status == 0)
    status = cli_error (ctx, err);
  if (tmpdir)
    {
      cleanup_free char *from = xasprintf ("%s/%s", tmpdir, name);
      if (status == 0 && rename (from, dest) < 0)
        status = cli_fail (1, "Error: rename %s: %s", dest, strerror (errno));
      cleanup_error polis_error *rerr = NULL;
      file_remove_tree_at (AT_FDCWD, tmpdir, &rerr);
    }
  if (status == 0 && !quiet && isatty (STDERR_FILENO))
    {
      cleanup_free char *sz = units_human_size ((double) total, 3);
      fprintf (stderr, "Successfully copied %s to %s\n", sz, dest);
    }
  return status;
}

static int
copy_to_container (cli_ctx *ctx, const char *src, const char *container,
                   const char *dest, bool quiet)
{
  cleanup_error polis_error *err = NULL;
  cleanup_free char *hp = client_path ("/containers/%s/archive", container);
  client_query_add (&hp, "path", dest);
  cleanup_http_conn http_conn *head = client_send (ctx->client, "HEAD", hp, NULL, NULL, &err);
  if (head == NULL)
    return cli_error (ctx, err);
  int hs = http_conn_status (head);
  if (hs >= 400 && hs != 404)
    {
      if (client_check (head, &err) < 0)
        return cli_error (ctx, err);
    }
  bool dest_dir = hs < 400 && stat_is_dir (http_conn_header (head, "X-Docker-Container-Path-Stat"));
  size_t dl = strlen (dest);
  if (!dest_dir && dl > 0 && dest[dl - 1] == '/')
    return cli_fail (1, "Error response from daemon: Could not find the file %s in container %s", dest, container);
  cleanup_free char *dcopy = xstrdup (dest);
  cleanup_free char *put_dir = dest_dir ? xstrdup (dest) : xstrdup (dirname (dcopy));
  cleanup_free char *pp = client_path ("/containers/%s/archive", container);
  client_query_add (&pp, "noOverwriteDirNonDir", "true");
  client_query_add (&pp, "path", put_dir);
  if (strcmp (src, "-") == 0)
    {
      cleanup_http_conn http_conn *c = client_send_fd (ctx->client, "PUT", pp, STDIN_FILENO, NULL, NULL, &err);
      if (c == NULL || client_check (c, &err) < 0)
        return cli_error (ctx, err);
      return 0;
    }
  struct stat st;
  if (lstat (src, &st) < 0)
    return cli_fail (1, "lstat %s: %s", src, strerror (errno));
  cleanup_free char *scopy = xstrdup (src), *scopy2 = xstrdup (src);
  size_t sl = strlen (scopy2);
  while (sl > 1 && scopy2[sl - 1] == '/')
    scopy2[--sl] = '\0';
  const char *sdir = dirname (scopy);
  const char *sbase = basename (scopy2);
  cleanup_free char *dcopy2 = xstrdup (dest);
  const char *newbase = dest_dir ? sbase : basename (dcopy2);
  cleanup_free char *xform = xasprintf ("s|^%s|%s|", sbase, newbase);
  char *argv[] = { "tar", "-c", "-b", "1", "-C", (char *) sdir, "--transform", xform, "-f", "-", (char *) sbase, NULL };
  int fd = -1;
  pid_t pid = spawn_tar (argv, false, &fd, &err);
  if (pid < 0)
    return cli_error (ctx, err);
  size_t sent = 0;
  cleanup_http_conn http_conn *c = client_send_fd (ctx->client, "PUT", pp, fd, NULL, &sent, &err);
  close (fd);
  cleanup_error polis_error *terr = NULL;
  wait_tar (pid, &terr);
  if (c == NULL || client_check (c, &err) < 0)
    return cli_error (ctx, err);
  /* docker reports the bytes of the tar stream, on a terminal only. */
  if (!quiet && isatty (STDERR_FILENO))
    {
      cleanup_free char *sz = units_human_size ((double) sent, 3);
      fprintf (stderr, "Successfully copied %s to %s:%s\n", sz, container, dest);
    }
  return 0;
}

/* "name:path" -> container part; NULL for a local path (one with a '/'
   before any ':', or starting with '.' or '/'). */
static char *
split_container (const char *arg, const char **path)
{
  if (arg[0] == '/' || arg[0] == '.')
    return NULL;
  const char *colon = strchr (arg, ':');
  const char *slash = strchr (arg, '/');
  if (colon == NULL || (slash && slash < colon))
    return NULL;
  *path = colon + 1;
  return xstrndup (arg, (size_t) (colon - arg));
}

int
cmd_cp (cli_ctx *ctx, int argc, char **argv)
{
  bool archive = false, follow = false, quiet = false;
  const opt_def defs[] = {
    { "archive", 'a', OPT_BOOL, &archive, "Archive mode (copy all uid/gid information)" },
    { "follow-link", 'L', OPT_BOOL, &follow, "Always follow symbol link in SRC_PATH" },
    { "quiet", 'q', OPT_BOOL, &quiet, "Suppress progress output during copy" },
    { NULL, 0, 0, NULL, NULL },
  };
  cleanup_strv char **pos = NULL;
  int r = cli_parse (ctx, defs, argc, argv, false, 2, 2, &pos);
  if (r != 0)
    return r;
  const char *spath = NULL, *dpath = NULL;
  cleanup_free char *sc = split_container (pos[0], &spath);
  cleanup_free char *dc = split_container (pos[1], &dpath);
  if (sc && dc)
    return cli_fail (1, "copying between containers is not supported");
  if (!sc && !dc)
    return cli_fail (1, "must specify at least one container source");
  if (sc)
    return copy_from_container (ctx, sc, *spath ? spath : "/", pos[1], quiet);
  return copy_to_container (ctx, pos[0], dc, *dpath ? dpath : "/", quiet);
}
