/* init.c - the container's first process, from clone() to execve(). */
#include "init.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/file.h"
#include "base/log.h"
#include "base/path.h"
#include "base/pjson.h"
#include "base/strv.h"
#include "base/xalloc.h"
#include "runtime/console.h"
#include "runtime/hooks.h"
#include "runtime/namespace.h"
#include "runtime/process.h"
#include "runtime/rootfs.h"
#include "runtime/sync.h"

#ifndef KEYCTL_JOIN_SESSION_KEYRING
#define KEYCTL_JOIN_SESSION_KEYRING 1
#endif

/* A new session keyring per container, so that containers do not share
   the host's (runc does the same).  Where keyrings are unavailable or
   forbidden, go on without. */
static void
init_join_keyring (const char *id)
{
  cleanup_free char *name = xasprintf ("_ses.%s", id);
  if (syscall (SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, name, 0, 0, 0) < 0)
    (void) errno;
}

/* The state document for a hook run in the container's namespaces: the
   runtime's, with the pid as the container sees it and STATUS. */
static char *
init_hook_state (const char *state_json, const char *status, polis_error **err)
{
  cleanup_json json_t *j = pjson_parse (state_json, strlen (state_json), "state", err);
  if (j == NULL)
    return NULL;
  json_object_set_new (j, "pid", json_integer (getpid ()));
  json_object_set_new (j, "status", json_string (status));
  return pjson_dump (j);
}

/* Create the directory CWD (and its parents) in the container's root. */
static int
init_make_cwd (const char *cwd, polis_error **err)
{
  cleanup_close int rootfd = open ("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0)
    return error_sys (err, "open /");
  cleanup_close int fd = path_open_in_root (rootfd, cwd, O_PATH | O_DIRECTORY,
                                            PATH_MKDIR, 0755, err);
  if (fd < 0)
    return error_wrap (err, "create cwd (\"%s\") set in config.json", cwd);
  return 0;
}

/* Set once the runtime has been told we are ready (it may be gone). */
static bool init_ready;

static int
init_run (init_config *c, polis_error **err)
{
  const spec *s = c->spec;
  const spec_process *p = &s->process;
  cleanup_free char *state_json = NULL;
  cleanup_free char *create_state = NULL, *start_state = NULL;
  cleanup_free char *exe = NULL;
  cleanup_strv char **env = NULL;
  bool in_userns = s->ns[NS_USER].present;
  sync_header hdr;

  /* The runtime answers once the id maps are written and we are in our
     cgroup; it sends the state document for the hooks run here. */
  if (sync_recv (c->sync_fd, &hdr, &state_json, err) < 0)
    return -1;
  if (hdr.type != SYNC_GO || state_json == NULL)
    return error_set (err, ERROR_INTERNAL, EPROTO, "unexpected message from the runtime");
  pid_t host_pid = (pid_t) hdr.value; /* our pid as the runtime sees it */
  if (s->n_hooks[HOOK_CREATE_CONTAINER])
    {
      create_state = init_hook_state (state_json, "creating", err);
      if (create_state == NULL)
        return -1;
    }
  if (s->n_hooks[HOOK_START_CONTAINER])
    {
      start_state = init_hook_state (state_json, "created", err);
      if (start_state == NULL)
        return -1;
    }

  if (in_userns)
    {
      if (syscall (SYS_setresgid, 0, 0, 0) < 0 || syscall (SYS_setresuid, 0, 0, 0) < 0)
        return error_sys (err, "become root in the user namespace");
    }
  if (namespace_unshare_late (s, err) < 0)
    return -1;
  if (!c->no_new_keyring)
    init_join_keyring (c->id);

  if (s->hostname && *s->hostname
      && sethostname (s->hostname, strlen (s->hostname)) < 0)
    return error_sys (err, "set hostname `%s`", s->hostname);
  if (s->domainname && *s->domainname)
    {
      if (!s->ns[NS_UTS].present)
        return error_set (err, ERROR_INVALID, EINVAL,
                          "domainname: setting it needs a new UTS namespace");
      if (setdomainname (s->domainname, strlen (s->domainname)) < 0)
        return error_sys (err, "set domainname `%s`", s->domainname);
    }

  cleanup_close int rootfd = rootfs_prepare (s, c->rootfs, in_userns, err);
  if (rootfd < 0)
    return error_wrap (err, "prepare rootfs");

  if (s->n_hooks[HOOK_PRESTART] || s->n_hooks[HOOK_CREATE_RUNTIME])
    {
      if (sync_send (c->sync_fd, SYNC_HOOKS, 0, NULL, 0, err) < 0
          || sync_expect (c->sync_fd, SYNC_HOOKS_DONE, NULL, err) < 0)
        return -1;
    }
  if (hooks_run (s, HOOK_CREATE_CONTAINER, create_state, err) < 0)
    return -1;

  if (rootfs_pivot (rootfd, c->no_pivot, err) < 0)
    return error_wrap (err, "pivot root");
  /* Before the root may turn read-only: a missing cwd is made, as runc
     and crun do (process_finish changes into it). */
  int cwd_ret = chdir (p->cwd);
  if (cwd_ret < 0 && errno == ENOENT)
    {
      cwd_ret = init_make_cwd (p->cwd, err);
      if (cwd_ret < 0)
        return -1;
    }
  if (rootfs_finalize (s, err) < 0)
    return error_wrap (err, "finalize rootfs");

  /* Before process_finish loads seccomp, whose filter may not allow
     personality(). */
  if (s->has_personality && personality (s->personality) < 0)
    return error_sys (err, "linux.personality: set %s",
                      s->personality == PER_LINUX32 ? "LINUX32" : "LINUX");

  process_finish_opts fo = {
    .p = p,
    .seccomp = c->seccomp,
    .seccomp_agent = c->seccomp_agent,
    .pid = host_pid,
    .state_json = state_json,
    .console_sock = c->console_sock,
    .mount_dev_console = true,
    .in_userns = in_userns,
  };
  bool seccomp_pending = false;
  if (process_finish (&fo, &exe, &env, &seccomp_pending, err) < 0)
    return -1;
  if (c->console_sock >= 0)
    {
      close (c->console_sock);
      c->console_sock = -1;
    }

  prctl (PR_SET_PDEATHSIG, 0, 0, 0, 0);
  if (sync_send (c->sync_fd, SYNC_READY, 0, NULL, 0, err) < 0)
    return -1;
  init_ready = true;

  /* Wait to be started. */
  if (c->fifo_fd >= 0)
    {
      char b;
      ssize_t r;
      do
        r = read (c->fifo_fd, &b, 1);
      while (r < 0 && errno == EINTR);
      if (r != 1)
        return error_sys (err, "wait for start");
    }
  else if (sync_expect (c->sync_fd, SYNC_START, NULL, err) < 0)
    return -1;

  if (hooks_run (s, HOOK_START_CONTAINER, start_state, err) < 0)
    return -1;
  if (seccomp_pending
      && seccomp_apply (c->seccomp, c->seccomp_agent, host_pid, state_json, err) < 0)
    return -1;

  /* What the container inherits: stdio and the preserved fds; every other
     fd of ours is O_CLOEXEC or closed here.  The sync socket and exec.fifo
     (both O_CLOEXEC) stay open into execve: their closing is how `run`
     and `start` learn that the user's program has replaced us. */
  for (int fd = 3; fd < 3 + c->preserve_fds; fd++)
    fcntl (fd, F_SETFD, 0);
  int keep[] = { c->sync_fd, c->fifo_fd };
  process_close_fds_except (3 + c->preserve_fds, keep, sizeof keep / sizeof *keep);
  execve (exe, p->args, env);
  return error_sys (err, "exec `%s`", exe);
}

void
init_main (void *arg)
{
  init_config *c = arg;
  cleanup_error polis_error *err = NULL;

  /* Die with the runtime while it still owns us; cleared before ready. */
  prctl (PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  /* Until exec, this process is the runtime's binary: keep other
     processes of the container from opening it through /proc/1/exe
     (CVE-2019-5736). */
  prctl (PR_SET_DUMPABLE, 0, 0, 0, 0);
  process_reset_signals ();
  /* The caller's stdio for the container, before the fds it is in are
     closed below. */
  if (c->stdio == NULL || process_take_stdio (c->stdio, &err) == 0)
    {
      /* Drop every fd of the runtime's we do not need: above all the locked
         state directory, whose lock would otherwise live as long as we wait. */
      int keep[] = { c->sync_fd, c->fifo_fd, c->console_sock, c->seccomp_agent,
                     log_get_fd () };
      process_close_fds_except (3 + c->preserve_fds, keep, sizeof keep / sizeof *keep);
      init_run (c, &err);
    }
  /* Reached only on failure.  Before ready the runtime is listening; after
     it (exec failed after start), the sync socket still reaches a `run`,
     while after `start` nobody listens: say it on the container's stderr. */
  sync_send_error (c->sync_fd, err);
  if (init_ready && c->fifo_fd >= 0)
    dprintf (2, "polis-runtime: %s\n", err ? err->msg : "container init failed");
  _exit (127);
}
