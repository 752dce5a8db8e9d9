/* container_exec.c - run another process in a running container.
 *
 * The runtime forks a helper that joins every namespace of the container's
 * init (the user namespace first) and clones the new process with
 * CLONE_PARENT, so that it lands in the container's pid namespace and is
 * still the runtime's child.  The runtime moves it into the container's
 * cgroup before it goes on; the process then takes the same steps as the
 * init (process_finish: limits, terminal, identity, capabilities, seccomp)
 * and execs.  Its sync socket closes on exec, which tells the runtime the
 * program is running; an error message arrives instead when it fails.
 */
#include "container_exec.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/file.h"
#include "base/log.h"
#include "base/pjson.h"
#include "base/strv.h"
#include "base/xalloc.h"
#include "runtime/cgroup.h"
#include "runtime/console.h"
#include "runtime/container.h"
#include "runtime/lsm.h"
#include "runtime/namespace.h"
#include "runtime/process.h"
#include "runtime/seccomp.h"
#include "runtime/spec.h"
#include "runtime/state.h"
#include "runtime/sync.h"

/* Largest --process file accepted. */
#define CONTAINER_EXEC_MAX_PROCESS (1u << 20)

typedef struct
{
  const spec_process *p;
  const seccomp_filter *seccomp;
  int seccomp_agent; /* connection to the seccomp agent, or -1 */
  pid_t init_pid;
  int sync_fd;
  int console_sock;
  int preserve_fds;
  const int *stdio;
  bool in_userns;
} container_exec_child;

/* Append the strings of V to the JSON array at KEY of OBJ (made if absent). */
static void
container_exec_append (json_t *obj, const char *key, char *const *v)
{
  json_t *arr = json_object_get (obj, key);
  if (!json_is_array (arr))
    {
      arr = json_array ();
      json_object_set_new (obj, key, arr);
    }
  for (size_t i = 0; v && v[i]; i++)
    json_array_append_new (arr, json_string (v[i]));
}

static int
container_exec_parse_id (const char *s, const char *what, json_int_t *out,
                         polis_error **err)
{
  char *end;
  errno = 0;
  unsigned long v = strtoul (s, &end, 10);
  if (*s == '\0' || *end || errno || v >= UINT32_MAX || *s == '-')
    return error_set (err, ERROR_INVALID, EINVAL,
                      "invalid %s `%s`: expected a number", what, s);
  *out = (json_int_t) v;
  return 0;
}

/* The process object to run: the --process file, or the container's own
   process with the command-line overrides, the way runc builds it. */
static json_t *
container_exec_process_json (const container_exec_opts *o, const spec *s,
                             polis_error **err)
{
  if (o->process)
    return json_deep_copy (o->process);
  if (o->process_file)
    {
      json_t *j = pjson_load_file_at (AT_FDCWD, o->process_file,
                                      CONTAINER_EXEC_MAX_PROCESS, err);
      if (j == NULL)
        error_wrap (err, "--process");
      return j;
    }
  if (o->args == NULL || o->args[0] == NULL)
    {
      error_set (err, ERROR_INVALID, EINVAL, "exec: the command to run is missing");
      return NULL;
    }
  json_t *base = json_object_get (s->json, "process");
  cleanup_json json_t *p = base ? json_deep_copy (base) : json_object ();
  json_t *args = json_array ();
  for (size_t i = 0; o->args[i]; i++)
    json_array_append_new (args, json_string (o->args[i]));
  json_object_set_new (p, "args", args);
  container_exec_append (p, "env", o->env);
  if (o->cwd)
    json_object_set_new (p, "cwd", json_string (o->cwd));
  json_object_set_new (p, "terminal", json_boolean (o->tty));
  if (o->no_new_privs)
    json_object_set_new (p, "noNewPrivileges", json_true ());
  if (o->apparmor)
    json_object_set_new (p, "apparmorProfile", json_string (o->apparmor));
  if (o->process_label)
    json_object_set_new (p, "selinuxLabel", json_string (o->process_label));
  if (o->user || o->additional_gids)
    {
      json_t *user = json_object_get (p, "user");
      if (!json_is_object (user))
        {
          user = json_object ();
          json_object_set_new (p, "user", user);
        }
      if (o->user)
        {
          cleanup_free char *copy = xstrdup (o->user);
          char *colon = strchr (copy, ':');
          json_int_t uid, gid = 0;
          if (colon)
            *colon = '\0';
          if (container_exec_parse_id (copy, "--user uid", &uid, err) < 0
              || (colon && container_exec_parse_id (colon + 1, "--user gid", &gid, err) < 0))
            return NULL;
          json_object_set_new (user, "uid", json_integer (uid));
          json_object_set_new (user, "gid", json_integer (gid));
        }
      if (o->additional_gids)
        {
          json_t *gids = json_array ();
          for (size_t i = 0; o->additional_gids[i]; i++)
            {
              json_int_t g;
              if (container_exec_parse_id (o->additional_gids[i], "--additional-gids", &g, err) < 0)
                {
                  json_decref (gids);
                  return NULL;
                }
              json_array_append_new (gids, json_integer (g));
            }
          json_object_set_new (user, "additionalGids", gids);
        }
    }
  if (o->caps)
    {
      json_t *caps = json_object_get (p, "capabilities");
      if (!json_is_object (caps))
        {
          caps = json_object ();
          json_object_set_new (p, "capabilities", caps);
        }
      container_exec_append (caps, "bounding", o->caps);
      container_exec_append (caps, "effective", o->caps);
      container_exec_append (caps, "permitted", o->caps);
      /* Ambient needs inheritable, which --cap does not add: only grow
         ambient when the process already has inheritable bits (runc). */
      if (json_array_size (json_object_get (caps, "inheritable")))
        container_exec_append (caps, "ambient", o->caps);
    }
  return steal_pointer (&p);
}

static int
container_exec_child_run (container_exec_child *c, polis_error **err)
{
  cleanup_free char *exe = NULL;
  cleanup_strv char **env = NULL;
  cleanup_free char *state_json = NULL;
  bool seccomp_pending = false;
  sync_header hdr;

  /* The value is our pid as the runtime sees it; the payload, when there
     is a seccomp agent to tell, the container's state. */
  if (sync_recv (c->sync_fd, &hdr, &state_json, err) < 0)
    return -1;
  if (hdr.type != SYNC_GO)
    return error_set (err, ERROR_INTERNAL, EPROTO, "unexpected message from the runtime");
  process_finish_opts fo = {
    .p = c->p,
    .seccomp = c->seccomp,
    .seccomp_agent = c->seccomp_agent,
    .pid = (pid_t) hdr.value,
    .state_json = state_json,
    .console_sock = c->console_sock,
    .mount_dev_console = false,
    .in_userns = c->in_userns,
  };
  if (process_finish (&fo, &exe, &env, &seccomp_pending, err) < 0)
    return -1;
  if (c->console_sock >= 0)
    close (c->console_sock);
  if (seccomp_pending
      && seccomp_apply (c->seccomp, c->seccomp_agent, (pid_t) hdr.value, state_json,
                        err) < 0)
    return -1;
  for (int fd = 3; fd < 3 + c->preserve_fds; fd++)
    fcntl (fd, F_SETFD, 0);
  int keep[] = { c->sync_fd };
  process_close_fds_except (3 + c->preserve_fds, keep, 1);
  /* A detached exec's runtime exits right after this: the program must
     outlive it. */
  prctl (PR_SET_PDEATHSIG, 0, 0, 0, 0);
  execve (exe, c->p->args, env);
  return error_sys (err, "exec `%s`", exe);
}

static void __attribute__ ((noreturn))
container_exec_child_main (container_exec_child *c)
{
  cleanup_error polis_error *err = NULL;
  prctl (PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  /* Like the init: until exec this is the runtime's binary. */
  prctl (PR_SET_DUMPABLE, 0, 0, 0, 0);
  process_reset_signals ();
  if (c->stdio == NULL || process_take_stdio (c->stdio, &err) == 0)
    container_exec_child_run (c, &err);
  sync_send_error (c->sync_fd, err);
  _exit (127);
}

/* The helper: join the init's namespaces, clone the process into them. */
static void __attribute__ ((noreturn))
container_exec_helper (container_exec_child *c)
{
  cleanup_error polis_error *err = NULL;
  unsigned all = (1u << NS_COUNT) - 1;
  if (namespace_join_pid (c->init_pid, all, &err) < 0)
    {
      error_wrap (&err, "join the container's namespaces");
      sync_send_error (c->sync_fd, err);
      _exit (1);
    }
  pid_t pid = (pid_t) syscall (SYS_clone, CLONE_PARENT | SIGCHLD, NULL, NULL, NULL, NULL);
  if (pid < 0)
    {
      error_sys (&err, "clone the exec process");
      sync_send_error (c->sync_fd, err);
      _exit (1);
    }
  if (pid == 0)
    container_exec_child_main (c);
  sync_send (c->sync_fd, SYNC_PID, pid, NULL, 0, NULL);
  _exit (0);
}


/* How the caller goes on once the process runs. */
typedef enum
{
  EXEC_FOREGROUND, /* waits for it (container_exec) */
  EXEC_DETACH,     /* leaves it (container_exec --detach) */
  EXEC_SPAWN,      /* keeps it as its child (container_exec_spawn) */
} container_exec_mode;

/* Everything of exec up to the process running its program.  *PID gets
   it; *CONSOLE_FD our end of the socket its pty master comes on (-1 when
   none), the caller's.  On failure the process is killed and reaped. */
static int
container_exec_launch (const container_exec_opts *o, container_exec_mode mode,
                       pid_t *pid_out, int *console_fd_out, polis_error **err)
{
  cleanup_close int dirfd = -1, console_sock = -1, console_fd = -1, agent = -1;
  cleanup_free char *state_json = NULL;
  cleanup_state container_state *st = NULL;
  cleanup_spec spec *s = NULL;
  cleanup_json json_t *pj = NULL;
  cleanup_seccomp seccomp_filter *sc = NULL;
  spec_process proc = { 0 };
  int pair[2] = { -1, -1 };
  int ret = -1;
  pid_t pid = 0;

  st = state_open_container (o->root, o->id, false, &dirfd, err);
  if (st == NULL)
    return -1;
  state_status status = state_status_of (dirfd, st);
  if (status == STATUS_STOPPED)
    return error_set (err, ERROR_CONFLICT, EINVAL, "cannot exec in a stopped container");
  if (status == STATUS_PAUSED && !o->ignore_paused)
    return error_set (err, ERROR_CONFLICT, EINVAL, "cannot exec in a paused container");
  s = spec_load_at (dirfd, STATE_CONFIG_FILE, err);
  if (s == NULL)
    return error_wrap (err, "container %s", o->id);

  pj = container_exec_process_json (o, s, err);
  if (pj == NULL)
    return -1;
  if (spec_process_parse (pj, "process", &proc, err) < 0)
    return -1;
  if (proc.terminal && o->console_socket == NULL && mode == EXEC_DETACH)
    {
      error_set (err, ERROR_INVALID, EINVAL,
                 "cannot allocate tty if polis-runtime will detach without setting console socket");
      goto out;
    }
  if (!proc.terminal && o->console_socket)
    {
      error_set (err, ERROR_INVALID, EINVAL,
                 "cannot use console socket if polis-runtime will not detach or allocate tty");
      goto out;
    }
  lsm_check (&proc, NULL);
  if (s->seccomp)
    {
      /* The program create compiled is in the cache under the state root. */
      cleanup_close int rootfd = open (o->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      sc = seccomp_compile_cached (s->seccomp, rootfd, err);
      if (sc == NULL)
        {
          error_wrap (err, "linux.seccomp");
          goto out;
        }
    }
  if (seccomp_listener_path (sc))
    {
      /* Like create: connect from the host, the process hands the
         listener over with the container's state. */
      agent = seccomp_agent_connect (seccomp_listener_path (sc), err);
      if (agent < 0)
        goto out;
      cleanup_json json_t *sj = state_to_oci (st, status);
      state_json = pjson_dump (sj);
    }
  if (o->console_socket)
    {
      console_sock = console_socket_connect (o->console_socket, err);
      if (console_sock < 0)
        goto out;
    }
  else if (proc.terminal)
    {
      int cp[2];
      if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, cp) < 0)
        {
          error_sys (err, "socketpair");
          goto out;
        }
      console_fd = cp[0];
      console_sock = cp[1];
    }
  if (sync_pair (pair, err) < 0)
    goto out;

  container_exec_child c = {
    .p = &proc,
    .seccomp = sc,
    .seccomp_agent = agent,
    .init_pid = st->pid,
    .sync_fd = pair[1],
    .console_sock = console_sock,
    .preserve_fds = o->preserve_fds,
    .stdio = o->stdio,
    .in_userns = s->ns[NS_USER].present,
  };
  pid_t helper = fork ();
  if (helper < 0)
    {
      error_sys (err, "fork");
      goto out;
    }
  if (helper == 0)
    container_exec_helper (&c);
  close (pair[1]);
  pair[1] = -1;
  if (console_sock >= 0)
    {
      close (console_sock);
      console_sock = -1;
    }
  int32_t child = 0;
  int hs;
  ret = sync_expect (pair[0], SYNC_PID, &child, err);
  while (waitpid (helper, &hs, 0) < 0 && errno == EINTR)
    ;
  if (ret < 0)
    goto out;
  pid = child;
  ret = -1;
  if (st->cg && cgroup_enter (st->cg, pid, err) < 0)
    {
      error_wrap (err, "put the process into the container's cgroup");
      goto out;
    }
  if (sync_send (pair[0], SYNC_GO, pid, state_json,
                 state_json ? strlen (state_json) : 0, err) < 0)
    goto out;
  {
    /* EOF: the process exec'd.  An error message: it failed. */
    sync_header hdr;
    cleanup_free char *payload = NULL;
    cleanup_error polis_error *e = NULL;
    if (sync_recv (pair[0], &hdr, &payload, &e) < 0 && e->code != EPIPE)
      {
        *err = steal_pointer (&e);
        goto out;
      }
  }
  if (o->pid_file)
    {
      char buf[32];
      int n = snprintf (buf, sizeof buf, "%d", (int) pid);
      if (file_write_atomic (o->pid_file, buf, (size_t) n, 0644, err) < 0)
        {
          error_wrap (err, "pid file");
          goto out;
        }
    }
  *pid_out = pid;
  *console_fd_out = move_fd (console_fd);
  pid = 0;
  ret = 0;

out:
  if (pid > 0)
    {
      kill (pid, SIGKILL);
      while (waitpid (pid, NULL, 0) < 0 && errno == EINTR)
        ;
    }
  if (pair[0] >= 0)
    close (pair[0]);
  if (pair[1] >= 0)
    close (pair[1]);
  spec_process_clear (&proc);
  return ret;
}

int
container_exec (const container_exec_opts *o, int *exit_status,
                polis_error **err)
{
  cleanup_close int console_fd = -1;
  pid_t pid = 0;
  sigset_t all, old;

  *exit_status = 0;
  /* The foreground wait takes signals through a signalfd: block them
     before the process exists, so that none is lost. */
  if (!o->detach)
    {
      container_forwarded_signals (&all);
      sigprocmask (SIG_BLOCK, &all, &old);
    }
  int ret = container_exec_launch (o, o->detach ? EXEC_DETACH : EXEC_FOREGROUND,
                                   &pid, &console_fd, err);
  /* The container's lock is not held while the process runs. */
  if (ret == 0 && !o->detach)
    ret = container_wait_foreground (pid, console_fd, exit_status, err);
  if (!o->detach)
    sigprocmask (SIG_SETMASK, &old, NULL);
  return ret;
}

int
container_exec_spawn (const container_exec_opts *o, pid_t *pid,
                      int *console_master, polis_error **err)
{
  cleanup_close int console_fd = -1;
  pid_t p = 0;
  *console_master = -1;
  if (container_exec_launch (o, EXEC_SPAWN, &p, &console_fd, err) < 0)
    return -1;
  if (console_fd >= 0)
    {
      /* Sent before the exec, so it is waiting in the socket. */
      int master = console_recv_fd (console_fd, err);
      if (master < 0)
        {
          kill (p, SIGKILL);
          while (waitpid (p, NULL, 0) < 0 && errno == EINTR)
            ;
          return -1;
        }
      *console_master = master;
    }
  *pid = p;
  return 0;
}
