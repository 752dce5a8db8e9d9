/* shim_client.c - polisd's side of the polis-shim contract. */
#include "shim_client.h"

#include "shim_proto.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/file.h"
#include "base/pjson.h"
#include "base/strv.h"
#include "base/xalloc.h"

extern char **environ;

static int64_t
now_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
wait_readable (int fd, int64_t deadline, polis_error **err)
{
  for (;;)
    {
      int64_t left = deadline - now_ms ();
      if (left <= 0)
        return error_set (err, ERROR_UNAVAILABLE, ETIMEDOUT,
                          "the shim did not answer in time");
      struct pollfd p = { .fd = fd, .events = POLLIN };
      int r = poll (&p, 1, (int) left);
      if (r > 0)
        return 0;
      if (r < 0 && errno != EINTR)
        return error_sys (err, "poll");
    }
}

/* Read one line (without the newline) from FD, consuming exactly it. */
static char *
read_line (int fd, int timeout_ms, polis_error **err)
{
  int64_t deadline = now_ms () + timeout_ms;
  size_t cap = 512, len = 0;
  cleanup_free char *buf = xmalloc (cap);
  for (;;)
    {
      if (wait_readable (fd, deadline, err) < 0)
        return NULL;
      if (len + 256 > cap)
        {
          if (cap >= SHIM_PROTO_REPLY_MAX)
            {
              error_set (err, ERROR_INTERNAL, E2BIG, "shim reply too long");
              return NULL;
            }
          cap *= 2;
          buf = xrealloc (buf, cap);
        }
      ssize_t n = recv (fd, buf + len, cap - len - 1, MSG_PEEK);
      if (n < 0 && errno == ENOTSOCK)
        n = read (fd, buf + len, 1); /* a pipe: one byte at a time */
      else if (n > 0)
        {
          char *nl = memchr (buf + len, '\n', (size_t) n);
          size_t take = nl ? (size_t) (nl - (buf + len)) + 1 : (size_t) n;
          n = recv (fd, buf + len, take, 0);
        }
      if (n < 0)
        {
          if (errno == EINTR || errno == EAGAIN)
            continue;
          error_sys (err, "read from the shim");
          return NULL;
        }
      if (n == 0)
        {
          error_set (err, ERROR_UNAVAILABLE, ECONNRESET,
                     "the shim closed the connection");
          return NULL;
        }
      len += (size_t) n;
      buf[len] = '\0';
      if (buf[len - 1] == '\n')
        {
          buf[len - 1] = '\0';
          return steal_pointer (&buf);
        }
    }
}

static void
add_arg (char ***argv, const char *flag, const char *value)
{
  strv_append (argv, flag);
  if (value)
    strv_append (argv, value);
}

int
shim_spawn (const shim_spawn_opts *o, pid_t *shim_pid, polis_error **err)
{
  cleanup_strv char **argv = NULL;
  strv_append (&argv, o->shim_path);
  add_arg (&argv, "--id", o->id);
  add_arg (&argv, "--bundle", o->bundle);
  add_arg (&argv, "--dir", o->bundle);
  add_arg (&argv, "--socket", o->socket);
  add_arg (&argv, "--runtime-root", o->runtime_root);
  if (o->tty)
    add_arg (&argv, "--tty", NULL);
  if (o->open_stdin)
    add_arg (&argv, "--stdin", NULL);
  if (o->stdin_once)
    add_arg (&argv, "--stdin-once", NULL);
  add_arg (&argv, "--log-driver", o->log_driver ? o->log_driver : "json-file");
  if (o->log_max_size)
    add_arg (&argv, "--log-max-size", o->log_max_size);
  if (o->log_max_file)
    add_arg (&argv, "--log-max-file", o->log_max_file);
  add_arg (&argv, "--restart", o->restart ? o->restart : "no");
  if (o->health_file)
    add_arg (&argv, "--health", o->health_file);
  if (o->auto_remove)
    add_arg (&argv, "--auto-remove", NULL);
  add_arg (&argv, "--no-start", NULL);

  int pfd[2];
  if (pipe2 (pfd, O_CLOEXEC) < 0)
    return error_sys (err, "pipe");
  cleanup_close int rd = pfd[0];
  cleanup_close int wr = pfd[1];
  cleanup_close int devnull = open ("/dev/null", O_RDWR | O_CLOEXEC);
  cleanup_close int logfd = open (o->log_path, O_WRONLY | O_CREAT | O_APPEND
                                                   | O_CLOEXEC, 0600);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init (&fa);
  posix_spawn_file_actions_adddup2 (&fa, devnull, 0);
  posix_spawn_file_actions_adddup2 (&fa, devnull, 1);
  posix_spawn_file_actions_adddup2 (&fa, logfd >= 0 ? logfd : devnull, 2);
  posix_spawn_file_actions_adddup2 (&fa, wr, 3);
  posix_spawnattr_t at;
  posix_spawnattr_init (&at);
  sigset_t none, all;
  sigemptyset (&none);
  sigfillset (&all);
  posix_spawnattr_setsigmask (&at, &none);
  posix_spawnattr_setsigdefault (&at, &all);
  posix_spawnattr_setflags (&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF
                                     | POSIX_SPAWN_SETSID);
  static char *const env[] = {
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", NULL
  };
  pid_t pid;
  int r = posix_spawn (&pid, o->shim_path, &fa, &at, argv, env);
  posix_spawn_file_actions_destroy (&fa);
  posix_spawnattr_destroy (&at);
  if (r != 0)
    return error_sys_code (err, r, "start `%s`", o->shim_path);
  close (wr);
  wr = -1;
  polis_error *rerr = NULL;
  cleanup_free char *line = read_line (rd, SHIM_TIMEOUT_MS, &rerr);
  /* The shim double-forks: its first process exits at once. */
  int st;
  while (waitpid (pid, &st, 0) < 0 && errno == EINTR)
    ;
  if (line == NULL)
    {
      if (WIFEXITED (st) && WEXITSTATUS (st) != 0)
        {
          error_free (&rerr);
          return error_set (err, ERROR_INTERNAL, 0,
                            "the shim exited with status %d (see %s)",
                            WEXITSTATUS (st), o->log_path);
        }
      *err = rerr;
      return error_wrap (err, "start the shim");
    }
  cleanup_json json_t *reply = shim_proto_parse_reply (line, strlen (line), err);
  if (reply == NULL)
    return -1;
  *shim_pid = (pid_t) json_integer_value (json_object_get (reply, "shim_pid"));
  return 0;
}

json_t *
shim_call (const char *socket_path, const json_t *req, int *stream,
           int timeout_ms, polis_error **err)
{
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  if (strlen (socket_path) >= sizeof sa.sun_path)
    {
      error_set (err, ERROR_INTERNAL, ENAMETOOLONG, "socket path too long");
      return NULL;
    }
  memcpy (sa.sun_path, socket_path, strlen (socket_path) + 1);
  cleanup_close int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    {
      error_sys (err, "socket");
      return NULL;
    }
  if (connect (fd, (struct sockaddr *) &sa, sizeof sa) < 0)
    {
      error_sys (err, "connect to the shim");
      return NULL;
    }
  cleanup_free char *text = json_dumps (req, JSON_COMPACT);
  size_t len = strlen (text);
  text = xrealloc (text, len + 2);
  text[len] = '\n';
  text[len + 1] = '\0';
  if (file_write_all (fd, text, len + 1, err) < 0)
    {
      error_wrap (err, "write to the shim");
      return NULL;
    }
  cleanup_free char *line = read_line (fd, timeout_ms, err);
  if (line == NULL)
    return NULL;
  json_t *reply = shim_proto_parse_reply (line, strlen (line), err);
  if (reply && stream)
    *stream = move_fd (fd);
  return reply;
}

bool
shim_alive (const char *pid_path, pid_t *pid)
{
  polis_error *e = NULL;
  cleanup_free char *s = file_read_at (AT_FDCWD, pid_path, 64, NULL, &e);
  error_free (&e);
  *pid = 0;
  if (s == NULL)
    return false;
  long p = strtol (s, NULL, 10);
  if (p <= 0)
    return false;
  *pid = (pid_t) p;
  return kill ((pid_t) p, 0) == 0 || errno == EPERM;
}
