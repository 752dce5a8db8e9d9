/* container.c - the OCI lifecycle operations. */
#include "container.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/file.h"
#include "base/log.h"
#include "base/path.h"
#include "base/pjson.h"
#include "base/xalloc.h"
#include "runtime/cgroup.h"
#include "runtime/console.h"
#include "runtime/hooks.h"
#include "runtime/init.h"
#include "runtime/lsm.h"
#include "runtime/namespace.h"
#include "runtime/process.h"
#include "runtime/seccomp.h"
#include "runtime/spec.h"
#include "runtime/state.h"
#include "runtime/sync.h"

/* A container being created: everything to undo if creation fails. */
typedef struct
{
  int rootfd;    /* state root */
  int dirfd;     /* the container's state directory (locked) */
  bool dir_made;
  spec *spec;
  char *config;  /* config.json bytes, copied into the state dir */
  size_t config_len;
  cgroup *cg;
  bool cg_made;
  seccomp_filter *seccomp;
  pid_t pid;
  int sync_fd;   /* runtime's end */
  int console_fd; /* our end of the console socket for a foreground run */
  container_state *st;
} container_build;

static void
container_build_clear (container_build *b)
{
  if (b->sync_fd >= 0)
    close (b->sync_fd);
  if (b->console_fd >= 0)
    close (b->console_fd);
  if (b->dirfd >= 0)
    close (b->dirfd);
  if (b->rootfd >= 0)
    close (b->rootfd);
  spec_free (b->spec);
  free (b->config);
  seccomp_filter_free (b->seccomp);
  state_free (b->st); /* owns b->cg once set */
  if (b->st == NULL)
    cgroup_free (b->cg);
  memset (b, 0, sizeof *b);
  b->sync_fd = b->console_fd = b->dirfd = b->rootfd = -1;
}

static void
container_reap (pid_t pid)
{
  int status;
  while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;
}

/* Undo a failed creation. */
static void
container_build_abort (container_build *b, const char *id)
{
  if (b->pid > 0)
    {
      kill (b->pid, SIGKILL);
      container_reap (b->pid);
    }
  if (b->cg_made)
    {
      cleanup_error polis_error *e = NULL;
      if (cgroup_destroy (b->cg, &e) < 0)
        log_warning ("remove cgroup of %s: %s", id, e->msg);
    }
  if (b->dir_made)
    {
      cleanup_error polis_error *e = NULL;
      if (state_dir_remove (b->rootfd, id, &e) < 0)
        log_warning ("remove state of %s: %s", id, e->msg);
    }
}


/* The owner column of `list`: the name of the state directory's owner. */
static char *
container_owner_name (uid_t uid)
{
  cleanup_error polis_error *e = NULL;
  cleanup_free char *pw = file_read_at (AT_FDCWD, "/etc/passwd", 4u << 20, NULL, &e);
  for (char *line = pw; line && *line;)
    {
      char *end = strchrnul (line, '\n');
      char *c1 = memchr (line, ':', (size_t) (end - line));
      char *c2 = c1 ? memchr (c1 + 1, ':', (size_t) (end - c1 - 1)) : NULL;
      if (c2 && strtoul (c2 + 1, NULL, 10) == uid && c2[1] != ':')
        return xstrndup (line, (size_t) (c1 - line));
      line = *end ? end + 1 : NULL;
    }
  return xasprintf ("#%u", (unsigned) uid);
}

/* Everything of create up to the init reporting ready.  With FOR_RUN the
   init waits for a SYNC_START message instead of the exec fifo. */
static int
container_build_run (container_build *b, const container_opts *o, bool for_run,
                     polis_error **err)
{
  cleanup_free char *bundle = NULL;
  cleanup_free char *rootfs = NULL;
  cleanup_free char *pid_file = NULL;
  cleanup_close int bundlefd = -1, fifo_fd = -1, console_sock = -1, agent = -1;
  int pair[2] = { -1, -1 };

  /* A relative --pid-file is the caller's, as in runc: fix it before the
     chdir to the bundle below. */
  if (o->pid_file && o->pid_file[0] != '/')
    {
      cleanup_free char *cwd = getcwd (NULL, 0);
      if (cwd == NULL)
        return error_sys (err, "pid file `%s`: current directory", o->pid_file);
      pid_file = path_join (cwd, o->pid_file);
    }
  else if (o->pid_file)
    pid_file = xstrdup (o->pid_file);

  b->rootfd = state_root_open (o->root, true, err);
  if (b->rootfd < 0)
    return -1;
  if (state_id_check (o->id, err) < 0)
    return -1;

  bundle = realpath (o->bundle ? o->bundle : ".", NULL);
  if (bundle == NULL)
    return error_sys (err, "bundle `%s`", o->bundle ? o->bundle : ".");
  bundlefd = open (bundle, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (bundlefd < 0)
    return error_sys (err, "open bundle `%s`", bundle);
  b->config = file_read_at (bundlefd, "config.json", SPEC_MAX_SIZE,
                            &b->config_len, err);
  if (b->config == NULL)
    return -1;
  b->spec = spec_parse (b->config, b->config_len, err);
  if (b->spec == NULL)
    return -1;
  const spec *s = b->spec;

  if (!s->has_process)
    return error_set (err, ERROR_INVALID, EINVAL, "config.json: process: missing");
  if (!s->ns[NS_MNT].present)
    return error_set (err, ERROR_INVALID, EINVAL,
                      "config.json: linux.namespaces: a mount namespace is required");
  if (s->process.terminal && o->console_socket == NULL && !(for_run && !o->detach)
      && !o->console_master)
    return error_set (err, ERROR_INVALID, EINVAL,
                      "cannot allocate tty if polis-runtime will detach without setting console socket");
  if (!s->process.terminal && o->console_socket)
    return error_set (err, ERROR_INVALID, EINVAL,
                      "cannot use console socket if polis-runtime will not detach or allocate tty");

  cleanup_free char *rootfs_joined = s->root_path[0] == '/'
                                         ? xstrdup (s->root_path)
                                         : path_join (bundle, s->root_path);
  rootfs = realpath (rootfs_joined, NULL);
  if (rootfs == NULL)
    return error_sys (err, "config.json: root.path `%s`", s->root_path);
  struct stat rst;
  if (stat (rootfs, &rst) < 0 || !S_ISDIR (rst.st_mode))
    return error_set (err, ERROR_INVALID, ENOTDIR,
                      "config.json: root.path `%s` is not a directory", s->root_path);

  lsm_check (&s->process, s->mount_label);
  if (s->seccomp)
    {
      /* Engines send the same profile for every container: the program
         is cached under the state root. */
      b->seccomp = seccomp_compile_cached (s->seccomp, b->rootfd, err);
      if (b->seccomp == NULL)
        return error_wrap (err, "config.json: linux.seccomp");
      /* The agent's socket is a host path: connect while we see the host.
         The init hands the listener over once it has loaded the filter. */
      const char *agent_path = seccomp_listener_path (b->seccomp);
      if (agent_path)
        {
          agent = seccomp_agent_connect (agent_path, err);
          if (agent < 0)
            return -1;
        }
    }
  b->cg = cgroup_resolve (s->cgroups_path, o->id, err);
  if (b->cg == NULL)
    return -1;

  b->dirfd = state_dir_create (b->rootfd, o->id, err);
  if (b->dirfd < 0)
    return -1;
  b->dir_made = true;

  if (!for_run)
    {
      if (mkfifoat (b->dirfd, STATE_FIFO, 0600) < 0)
        return error_sys (err, "create exec fifo");
      /* O_RDWR: opening does not block, and the init's read() then
         waits for `start` to write. */
      fifo_fd = openat (b->dirfd, STATE_FIFO, O_RDWR | O_CLOEXEC);
      if (fifo_fd < 0)
        return error_sys (err, "open exec fifo");
    }

  if (o->console_socket)
    {
      console_sock = console_socket_connect (o->console_socket, err);
      if (console_sock < 0)
        return -1;
    }
  else if (s->process.terminal)
    {
      int cp[2];
      if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, cp) < 0)
        return error_sys (err, "socketpair");
      b->console_fd = cp[0];
      console_sock = cp[1];
    }

  if (cgroup_create (b->cg, s->resources, err) < 0)
    return -1;
  b->cg_made = true;

  if (sync_pair (pair, err) < 0)
    return -1;
  b->sync_fd = pair[0];
  cleanup_close int child_end = pair[1];

  /* Relative bind-mount sources are relative to the bundle. */
  if (fchdir (bundlefd) < 0)
    return error_sys (err, "chdir to bundle");

  init_config ic = {
    .spec = s,
    .id = o->id,
    .rootfs = rootfs,
    .sync_fd = child_end,
    .fifo_fd = fifo_fd,
    .console_sock = console_sock,
    .stdio = o->stdio,
    .preserve_fds = o->preserve_fds,
    .no_pivot = o->no_pivot,
    .no_new_keyring = o->no_new_keyring,
    .seccomp = b->seccomp,
    .seccomp_agent = agent,
  };
  bool in_cgroup = false;
  cleanup_error polis_error *cgfd_err = NULL;
  cleanup_close int cgfd = cgroup_open_dir (b->cg, &cgfd_err);
  b->pid = namespace_spawn (s, b->sync_fd, child_end, cgfd, &in_cgroup, init_main, &ic,
                            err);
  if (b->pid < 0)
    {
      b->pid = 0;
      return -1;
    }
  close (child_end);
  child_end = -1;
  if (console_sock >= 0)
    {
      close (console_sock);
      console_sock = -1;
    }

  if (s->ns[NS_USER].present && s->ns[NS_USER].path == NULL
      && namespace_write_idmaps (b->pid, s, err) < 0)
    return -1;
  if (!in_cgroup && cgroup_enter (b->cg, b->pid, err) < 0)
    return error_wrap (err, "put the container into its cgroup");
  if (process_set_oom_score_adj_of (b->pid, &s->process, err) < 0)
    return -1;

  struct stat dst;
  fstat (b->dirfd, &dst);
  container_state *st = xzalloc (sizeof *st);
  b->st = st;
  st->id = xstrdup (o->id);
  st->pid = b->pid;
  st->pid_start = state_pid_start_time (b->pid);
  st->bundle = steal_pointer (&bundle);
  st->rootfs = steal_pointer (&rootfs);
  st->created = state_now_rfc3339 ();
  st->owner = container_owner_name (dst.st_uid);
  st->cg = b->cg;
  st->annotations = s->annotations ? json_incref (s->annotations) : NULL;
  st->has_pidns = s->ns[NS_PID].present && s->ns[NS_PID].path == NULL;

  cleanup_json json_t *creating = state_to_oci (st, STATUS_CREATING);
  cleanup_free char *creating_s = pjson_dump (creating);
  if (sync_send (b->sync_fd, SYNC_GO, b->pid, creating_s, strlen (creating_s), err) < 0)
    return -1;

  for (;;)
    {
      sync_header hdr;
      cleanup_free char *payload = NULL;
      if (sync_recv (b->sync_fd, &hdr, &payload, err) < 0)
        return -1;
      if (hdr.type == SYNC_READY)
        break;
      if (hdr.type != SYNC_HOOKS)
        return error_set (err, ERROR_INTERNAL, EPROTO, "unexpected message %u from init",
                          hdr.type);
      if (hooks_run (s, HOOK_PRESTART, creating_s, err) < 0
          || hooks_run (s, HOOK_CREATE_RUNTIME, creating_s, err) < 0)
        return -1;
      if (sync_send (b->sync_fd, SYNC_HOOKS_DONE, 0, NULL, 0, err) < 0)
        return -1;
    }

  if (file_write_atomic_at (b->dirfd, STATE_CONFIG_FILE, b->config,
                            b->config_len, 0600, false, err)
          < 0
      || state_save (b->dirfd, st, err) < 0)
    return -1;
  if (pid_file)
    {
      char buf[32];
      int n = snprintf (buf, sizeof buf, "%d", (int) b->pid);
      if (file_write_atomic (pid_file, buf, (size_t) n, 0644, err) < 0)
        return error_wrap (err, "pid file");
    }
  return 0;
}

int
container_create (const container_opts *o, container_created *created,
                  polis_error **err)
{
  container_build b = { .rootfd = -1, .dirfd = -1, .sync_fd = -1, .console_fd = -1 };
  int master = -1;
  int ret = container_build_run (&b, o, false, err);
  /* The init sent the master before it reported ready: it is waiting in
     the socket. */
  if (ret == 0 && o->console_master && b.console_fd >= 0)
    {
      master = console_recv_fd (b.console_fd, err);
      if (master < 0)
        ret = -1;
    }
  if (ret == 0 && created)
    {
      created->pid = b.pid;
      created->console_master = master;
    }
  else if (master >= 0)
    close (master);
  if (ret < 0)
    container_build_abort (&b, o->id);
  container_build_clear (&b);
  return ret;
}

/* The config saved at create time, for the hooks of later commands. */
static spec *
container_saved_spec (int dirfd, polis_error **err)
{
  return spec_load_at (dirfd, STATE_CONFIG_FILE, err);
}

/* The poststart hooks, once the user's program runs.  EXEC_FIFO, when not
   -1, is `start`'s writing end of exec.fifo: the init holds the fifo open
   until its execve closes it, and a fifo's writing end polls POLLERR once
   no reader is left.  The hooks run without the container's lock: they
   may ask for its state. */
static void
container_poststart (int dirfd, const container_state *st, int exec_fifo)
{
  cleanup_error polis_error *e = NULL;
  cleanup_spec spec *s = container_saved_spec (dirfd, &e);
  if (s == NULL || s->n_hooks[HOOK_POSTSTART] == 0)
    return;
  state_dir_unlock (dirfd);
  if (exec_fifo >= 0)
    {
      struct pollfd p = { .fd = exec_fifo, .events = 0 };
      while (poll (&p, 1, -1) < 0 && errno == EINTR)
        ;
    }
  cleanup_json json_t *j = state_to_oci (st, STATUS_RUNNING);
  cleanup_free char *js = pjson_dump (j);
  hooks_run_warn (s, HOOK_POSTSTART, js);
}

int
container_start (const char *root, const char *id, polis_error **err)
{
  cleanup_close int dirfd = -1;
  cleanup_state container_state *st = state_open_container (root, id, true, &dirfd, err);
  if (st == NULL)
    return -1;
  state_status status = state_status_of (dirfd, st);
  if (status == STATUS_STOPPED)
    return error_set (err, ERROR_CONFLICT, EINVAL, "cannot start a container that has stopped");
  if (status != STATUS_CREATED)
    return error_set (err, ERROR_CONFLICT, EINVAL, "cannot start an already running container");

  cleanup_close int fifo = openat (dirfd, STATE_FIFO, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  if (fifo < 0)
    {
      if (errno == ENXIO)
        return error_set (err, ERROR_CONFLICT, EINVAL,
                          "cannot start a container that has stopped");
      return error_sys (err, "open exec fifo");
    }
  if (write (fifo, "0", 1) != 1)
    return error_sys (err, "start container");
  unlinkat (dirfd, STATE_FIFO, 0);
  container_poststart (dirfd, st, fifo);
  return 0;
}

/* Remove what is left of a container whose init is gone: the cgroup
   (killing stragglers), the state directory; then run the poststop hooks. */
static int
container_destroy (int rootfd, int dirfd, const container_state *st,
                   polis_error **err)
{
  cleanup_error polis_error *e = NULL;
  cleanup_spec spec *s = container_saved_spec (dirfd, &e);
  if (st->cg)
    {
      /* Without a pid namespace of its own the container's other processes
         outlive its init: end them too. */
      cleanup_error polis_error *ke = NULL;
      if (cgroup_kill_all (st->cg, SIGKILL, &ke) < 0)
        log_debug ("kill remaining processes of %s: %s", st->id, ke->msg);
      cgroup_freeze (st->cg, false, NULL);
      if (cgroup_destroy (st->cg, err) < 0)
        return error_wrap (err, "delete %s", st->id);
    }
  if (state_dir_remove (rootfd, st->id, err) < 0)
    return error_wrap (err, "delete %s", st->id);
  /* After the container is gone, as the spec orders: a hook asking for
     its state learns that at once instead of waiting for our lock. */
  if (s && s->n_hooks[HOOK_POSTSTOP])
    {
      cleanup_json json_t *j = state_to_oci (st, STATUS_STOPPED);
      cleanup_free char *js = pjson_dump (j);
      hooks_run_warn (s, HOOK_POSTSTOP, js);
    }
  return 0;
}

/* Wait (up to TIMEOUT_MS) for process PID, not our child, to exit. */
static bool
container_wait_gone (const container_state *st, int timeout_ms)
{
  int pidfd = (int) syscall (SYS_pidfd_open, st->pid, 0);
  if (pidfd >= 0)
    {
      struct pollfd p = { .fd = pidfd, .events = POLLIN };
      poll (&p, 1, timeout_ms);
      close (pidfd);
    }
  for (int waited = 0; waited < timeout_ms; waited += 5)
    {
      if (!state_init_alive (st))
        return true;
      struct timespec ts = { 0, 5 * 1000 * 1000 };
      nanosleep (&ts, NULL);
    }
  return !state_init_alive (st);
}

/* Signal the init, guarding against a recycled pid. */
static int
container_signal_init (const container_state *st, int sig, polis_error **err)
{
  int pidfd = (int) syscall (SYS_pidfd_open, st->pid, 0);
  if (pidfd >= 0)
    {
      /* The pidfd pins the process: re-check that it is still ours. */
      if (!state_init_alive (st))
        {
          close (pidfd);
          return error_set (err, ERROR_CONFLICT, ESRCH, "container not running");
        }
      int r = (int) syscall (SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
      int e = errno;
      close (pidfd);
      if (r == 0)
        return 0;
      if (e != ENOSYS)
        return error_sys_code (err, e, "kill container %s", st->id);
    }
  if (kill (st->pid, sig) < 0)
    return error_sys (err, "kill container %s", st->id);
  return 0;
}

int
container_kill (const char *root, const char *id, int sig, bool all,
                polis_error **err)
{
  cleanup_close int dirfd = -1;
  cleanup_state container_state *st = state_open_container (root, id, true, &dirfd, err);
  if (st == NULL)
    return -1;
  state_status status = state_status_of (dirfd, st);
  if (status == STATUS_STOPPED && !all)
    return error_set (err, ERROR_CONFLICT, ESRCH, "container not running");
  if (all && st->cg)
    return cgroup_kill_all (st->cg, sig, err);
  if (status == STATUS_STOPPED)
    return error_set (err, ERROR_CONFLICT, ESRCH, "container not running");
  return container_signal_init (st, sig, err);
}

int
container_delete (const char *root, const char *id, bool force,
                  polis_error **err)
{
  cleanup_close int rootfd = state_root_open (root, false, err);
  if (rootfd < 0)
    {
      if (force)
        return 0;
      return error_set (err, ERROR_NOT_FOUND, ENOENT, "container \"%s\" does not exist", id);
    }
  cleanup_close int dirfd = state_dir_open (rootfd, id, true, err);
  if (dirfd < 0)
    {
      if (force && (*err)->cls == ERROR_NOT_FOUND)
        {
          error_free (err);
          return 0;
        }
      return -1;
    }
  cleanup_error polis_error *load_err = NULL;
  cleanup_state container_state *st = state_load (dirfd, &load_err);
  if (st == NULL)
    {
      /* A create that was killed part way leaves a directory without a
         usable state: only --force may clear it. */
      if (!force)
        {
          *err = steal_pointer (&load_err);
          return error_wrap (err, "container %s has a damaged state (delete --force removes it)", id);
        }
      return state_dir_remove (rootfd, id, err);
    }

  state_status status = state_status_of (dirfd, st);
  if (status == STATUS_RUNNING || status == STATUS_PAUSED)
    {
      if (!force)
        return error_set (err, ERROR_CONFLICT, EBUSY,
                          "cannot delete container %s that is not stopped: %s", id,
                          state_status_name (status));
    }
  if (status != STATUS_STOPPED)
    {
      if (st->cg)
        {
          cleanup_error polis_error *ke = NULL;
          if (cgroup_kill_all (st->cg, SIGKILL, &ke) < 0)
            log_debug ("kill %s: %s", id, ke->msg);
          cgroup_freeze (st->cg, false, NULL);
        }
      container_signal_init (st, SIGKILL, NULL);
      if (!container_wait_gone (st, 10000))
        return error_set (err, ERROR_UNAVAILABLE, ETIMEDOUT,
                          "container %s did not exit after SIGKILL", id);
    }
  return container_destroy (rootfd, dirfd, st, err);
}

static json_t *
container_state_doc (int dirfd, const container_state *st)
{
  state_status status = state_status_of (dirfd, st);
  json_t *j = state_to_oci (st, status);
  json_object_set_new (j, "rootfs", json_string (st->rootfs));
  json_object_set_new (j, "created", json_string (st->created));
  json_object_set_new (j, "owner", json_string (st->owner));
  return j;
}

json_t *
container_query_state (const char *root, const char *id, polis_error **err)
{
  cleanup_close int dirfd = -1;
  cleanup_state container_state *st = state_open_container (root, id, false, &dirfd, err);
  if (st == NULL)
    return NULL;
  return container_state_doc (dirfd, st);
}

json_t *
container_list (const char *root, polis_error **err)
{
  json_t *arr = json_array ();
  cleanup_close int rootfd = open (root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0)
    {
      if (errno == ENOENT)
        return arr;
      json_decref (arr);
      error_sys (err, "open state root `%s`", root);
      return NULL;
    }
  int d2 = dup (rootfd);
  cleanup_closedir DIR *dir = d2 >= 0 ? fdopendir (d2) : NULL;
  if (dir == NULL)
    {
      json_decref (arr);
      error_sys (err, "list `%s`", root);
      return NULL;
    }
  struct dirent *de;
  while ((de = readdir (dir)) != NULL)
    {
      if (de->d_name[0] == '.' || de->d_type != DT_DIR)
        continue;
      cleanup_error polis_error *e = NULL;
      cleanup_close int dirfd = state_dir_open (rootfd, de->d_name, false, &e);
      if (dirfd < 0)
        continue;
      cleanup_state container_state *st = state_load (dirfd, &e);
      if (st == NULL)
        continue; /* being created, or damaged */
      json_array_append_new (arr, container_state_doc (dirfd, st));
    }
  return arr;
}

void
container_forwarded_signals (sigset_t *set)
{
  sigfillset (set);
  sigdelset (set, SIGSEGV);
  sigdelset (set, SIGBUS);
  sigdelset (set, SIGILL);
  sigdelset (set, SIGFPE);
}

int
container_wait_foreground (pid_t pid, int console_fd, int *exit_status,
                           polis_error **err)
{
  sigset_t all;
  container_forwarded_signals (&all);
  cleanup_close int sfd = signalfd (-1, &all, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sfd < 0)
    return error_sys (err, "signalfd");

  cleanup_close int master = -1;
  if (console_fd >= 0)
    {
      master = console_recv_fd (console_fd, err);
      if (master < 0)
        return -1;
    }
  int status = 0;
  for (;;)
    {
      struct pollfd pfd = { .fd = sfd, .events = POLLIN };
      if (master >= 0)
        {
          /* Returns when a signal arrives on sfd, or 1 on hang-up. */
          int r = console_proxy (master, sfd, err);
          if (r < 0)
            return -1;
          if (r == 1)
            {
              close (master);
              master = -1;
            }
        }
      else if (poll (&pfd, 1, -1) < 0 && errno != EINTR)
        return error_sys (err, "poll");

      struct signalfd_siginfo si;
      while (read (sfd, &si, sizeof si) == sizeof si)
        {
          if (si.ssi_signo == SIGCHLD)
            continue;
          if (si.ssi_signo == SIGWINCH)
            continue; /* console_proxy resizes */
          kill (pid, (int) si.ssi_signo);
        }
      pid_t r = waitpid (pid, &status, WNOHANG);
      if (r == pid)
        break;
      if (r < 0 && errno != EINTR)
        return error_sys (err, "wait for container");
    }
  if (WIFSIGNALED (status))
    *exit_status = 128 + WTERMSIG (status);
  else
    *exit_status = WEXITSTATUS (status);
  return 0;
}

int
container_run (const container_opts *o, int *exit_status, polis_error **err)
{
  container_build b = { .rootfd = -1, .dirfd = -1, .sync_fd = -1, .console_fd = -1 };
  sigset_t all, old;
  *exit_status = 0;

  /* Signals are taken through a signalfd in the foreground case: block
     them now so none is lost between the clone and the wait.  The init
     resets its mask before exec. */
  container_forwarded_signals (&all);
  if (!o->detach)
    sigprocmask (SIG_BLOCK, &all, &old);

  int ret = container_build_run (&b, o, true, err);
  if (ret == 0)
    ret = sync_send (b.sync_fd, SYNC_START, 0, NULL, 0, err);
  if (ret == 0)
    {
      /* The init's end of the sync socket closes when it execs; an error
         message arrives instead if the exec fails. */
      sync_header hdr;
      cleanup_free char *payload = NULL;
      cleanup_error polis_error *e = NULL;
      if (sync_recv (b.sync_fd, &hdr, &payload, &e) < 0 && e->code != EPIPE)
        {
          *err = steal_pointer (&e);
          ret = -1;
        }
    }
  if (ret < 0)
    {
      container_build_abort (&b, o->id);
      container_build_clear (&b);
      if (!o->detach)
        sigprocmask (SIG_SETMASK, &old, NULL);
      return -1;
    }
  container_poststart (b.dirfd, b.st, -1);

  if (o->detach)
    {
      container_build_clear (&b);
      return 0;
    }

  /* While it runs, other commands (state, kill, list, delete --force)
     must reach the container: let go of its lock, and take it again once
     the container has exited. */
  close (b.dirfd);
  b.dirfd = -1;
  ret = container_wait_foreground (b.pid, b.console_fd, exit_status, err);
  if (ret == 0)
    b.pid = 0;
  sigprocmask (SIG_SETMASK, &old, NULL);
  if (ret == 0 && !o->keep)
    {
      cleanup_error polis_error *e = NULL;
      b.dirfd = state_dir_open (b.rootfd, o->id, true, &e);
      if (b.dirfd >= 0)
        ret = container_destroy (b.rootfd, b.dirfd, b.st, err);
      else if (e->cls != ERROR_NOT_FOUND)
        {
          *err = steal_pointer (&e);
          ret = -1;
        }
      /* Not found: a `delete --force` got there first. */
    }
  if (ret < 0)
    container_build_abort (&b, o->id);
  container_build_clear (&b);
  return ret;
}
