/* polisd - the Polis engine: a Docker-compatible API on a unix socket.
 *
 *   polisd [-H unix:///run/polis/polis.sock] [--root /var/lib/polis]
 *          [--run-root /run/polis] [--pidfile FILE] [-D]
 *
 * SIGTERM or SIGINT stop it cleanly; containers keep running (live
 * restore picks them up at the next start).
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/api.h"
#include "api/http.h"
#include "api/router.h"
#include "base/cleanup.h"
#include "base/file.h"
#include "base/log.h"
#include "base/opts.h"
#include "base/strv.h"
#include "base/xalloc.h"
#include "engine/engine.h"
#include "polis-config.h"

#define DEFAULT_ROOT "/var/lib/polis"
#define DEFAULT_RUN_ROOT "/run/polis"

/* A helper program beside this executable (build/polis-shim). */
static char *
beside_self (const char *name)
{
  char self[PATH_MAX];
  ssize_t n = readlink ("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0)
    return xstrdup (name);
  self[n] = '\0';
  return xasprintf ("%s/%s", dirname (self), name);
}

static int
write_pidfile (const char *path, polis_error **err)
{
  polis_error *e = NULL;
  cleanup_free char *old = file_read_at (AT_FDCWD, path, 64, NULL, &e);
  error_free (&e);
  if (old)
    {
      long pid = strtol (old, NULL, 10);
      if (pid > 0 && pid != getpid () && kill ((pid_t) pid, 0) == 0)
        {
          cleanup_free char *comm_path = xasprintf ("/proc/%ld/comm", pid);
          cleanup_free char *comm = file_read_at (AT_FDCWD, comm_path, 64, NULL, &e);
          error_free (&e);
          if (comm && strncmp (comm, "polisd", 6) == 0)
            return error_set (err, ERROR_CONFLICT, EEXIST,
                              "polisd is already running (pid %ld, %s)", pid,
                              path);
        }
    }
  char buf[32];
  int len = snprintf (buf, sizeof buf, "%d\n", (int) getpid ());
  return file_write_atomic (path, buf, (size_t) len, 0644, err);
}

/* The daemon's own code and read-only data: page in only what runs.
   The kernel maps 16 pages around each page fault of a file mapping
   ("fault-around"), which for a static binary that touches a little of
   everything (SQLite, jansson, libmicrohttpd, libcrypto) makes most of
   its 6 MB resident.  MADV_RANDOM turns that off for these mappings, and
   MADV_DONTNEED drops the code start-up faulted in (clean file pages:
   dropping them costs nothing, the next use reads them back from the
   page cache). */
static void
trim_text (void)
{
  cleanup_fclose FILE *f = fopen ("/proc/self/maps", "re");
  if (f == NULL)
    return;
  char self[PATH_MAX];
  ssize_t n = readlink ("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0)
    return;
  self[n] = '\0';
  char line[PATH_MAX + 128];
  while (fgets (line, sizeof line, f))
    {
      unsigned long lo, hi;
      char perms[8];
      int off = 0;
      if (sscanf (line, "%lx-%lx %7s %*s %*s %*s %n", &lo, &hi, perms, &off) < 3)
        continue;
      char *path = line + off;
      path[strcspn (path, "\n")] = '\0';
      if (strcmp (path, self) != 0 || perms[1] == 'w')
        continue;
      madvise ((void *) lo, hi - lo, MADV_RANDOM);
      /* Only code is dropped: a read-only data mapping may hold pages the
         loader relocated (RELRO), which are private copies, not the
         file's: dropping them would undo the relocations. */
      if (perms[2] == 'x')
        madvise ((void *) lo, hi - lo, MADV_DONTNEED);
    }
}

static void
raise_nofile (void)
{
  struct rlimit rl;
  if (getrlimit (RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max)
    {
      rl.rlim_cur = rl.rlim_max;
      setrlimit (RLIMIT_NOFILE, &rl);
    }
}

int
main (int argc, char **argv)
{
  const char *host = NULL, *root = DEFAULT_ROOT, *run_root = DEFAULT_RUN_ROOT;
  const char *pidfile = NULL, *shim = NULL, *image_tool = NULL, *init = NULL;
  const char *cgroup_parent = "polis", *log_fmt = NULL;
  const char *bridge = NULL, *bip = NULL, *pool = NULL, *nft_table = NULL;
  const char *nft = NULL, *dns_upstream = NULL;
  bool debug = false, help = false, version = false, compat = false, ip_forward = false;
  cleanup_strv char **insecure = NULL, **mirrors = NULL, **positional = NULL;
  cleanup_error polis_error *err = NULL;
  opt_def defs[] = {
    { "host", 'H', OPT_STRING, &host, "socket to listen on (unix:///path)" },
    { "root", 0, OPT_STRING, &root, "state directory (" DEFAULT_ROOT ")" },
    { "run-root", 0, OPT_STRING, &run_root, "runtime directory (" DEFAULT_RUN_ROOT ")" },
    { "pidfile", 'p', OPT_STRING, &pidfile, "pid file (RUN_ROOT/polisd.pid)" },
    { "shim", 0, OPT_STRING, &shim, "polis-shim (beside polisd)" },
    { "image-tool", 0, OPT_STRING, &image_tool, "polis-image (beside polisd)" },
    { "init", 0, OPT_STRING, &init, "the init for --init (polis-init beside polisd)" },
    { "cgroup-parent", 0, OPT_STRING, &cgroup_parent, "parent cgroup of containers (polis)" },
    { "insecure-registry", 0, OPT_STRV, &insecure, "plain-HTTP registry" },
    { "registry-mirror", 0, OPT_STRV, &mirrors, "Docker Hub mirror" },
    { "bridge", 'b', OPT_STRING, &bridge, "the default network's bridge (polis0)" },
    { "bip", 0, OPT_STRING, &bip, "the default bridge's address, CIDR (from the pool)" },
    { "default-address-pool", 0, OPT_STRING, &pool,
      "subnets for networks: base=CIDR,size=N (base=172.17.0.0/12,size=16)" },
    { "nft-table", 0, OPT_STRING, &nft_table, "Polis' nftables table (polis)" },
    { "nft-helper", 0, OPT_STRING, &nft, "polis-nft (beside polisd)" },
    { "ip-forward", 0, OPT_BOOL, &ip_forward,
      "turn net.ipv4.ip_forward on, for containers' traffic beyond the host" },
    { "dns-upstream", 0, OPT_STRING, &dns_upstream,
      "server the network resolver forwards to, IP[:PORT] (resolv.conf's first)" },
    { "log-format", 0, OPT_STRING, &log_fmt, "text or json" },
    { "debug", 'D', OPT_BOOL, &debug, "debug logs" },
    { "api-compat", 0, OPT_BOOL, &compat, "print docs/api-compat.md and exit" },
    { "version", 'v', OPT_BOOL, &version, "print the version" },
    { "help", 'h', OPT_BOOL, &help, "show this help" },
    { 0 },
  };
  if (opts_parse (defs, argc - 1, argv + 1, false, &positional, &err) < 0)
    {
      fprintf (stderr, "polisd: %s\n", err->msg);
      return 125;
    }
  if (help || strv_length (positional) > 0)
    {
      fprintf (help ? stdout : stderr, "Usage: polisd [flags]\n\n");
      opts_print_help (defs, help ? stdout : stderr);
      return help ? 0 : 125;
    }
  if (version)
    {
      printf ("polisd version %s, commit %s, API %s (minimum %s)\n", POLIS_VERSION,
              POLIS_COMMIT, API_VERSION_MAX_STR, API_VERSION_MIN_STR);
      return 0;
    }
  if (compat)
    {
      router_print_compat (stdout);
      return 0;
    }
  log_set_debug (debug);
  if (log_fmt)
    {
      log_format fmt;
      if (log_parse_format (log_fmt, &fmt, &err) < 0)
        {
          fprintf (stderr, "polisd: %s\n", err->msg);
          return 125;
        }
      log_set_format (fmt);
    }
  /* Few malloc arenas: connection threads come and go, and an arena per
     thread would keep their peaks resident. */
  mallopt (M_ARENA_MAX, 2);
  raise_nofile ();

  cleanup_free char *sock = NULL;
  if (host == NULL)
    sock = xasprintf ("%s/polis.sock", run_root);
  else if (strncmp (host, "unix://", 7) == 0)
    sock = xstrdup (host + 7);
  else if (host[0] == '/')
    sock = xstrdup (host);
  else
    {
      fprintf (stderr, "polisd: -H %s: only unix:// sockets are supported\n", host);
      return 125;
    }
  cleanup_free char *pid_path = pidfile ? xstrdup (pidfile)
                                        : xasprintf ("%s/polisd.pid", run_root);
  cleanup_free char *shim_path = shim ? xstrdup (shim) : beside_self ("polis-shim");
  cleanup_free char *tool_path = image_tool ? xstrdup (image_tool) : beside_self ("polis-image");
  cleanup_free char *init_path = init ? xstrdup (init) : beside_self ("polis-init");
  cleanup_free char *nft_path = nft ? xstrdup (nft) : beside_self ("polis-nft");
  cleanup_free char *sock_dir = xstrdup (sock);
  if (file_mkdir_p (root, 0711, &err) < 0 || file_mkdir_p (run_root, 0711, &err) < 0
      || file_mkdir_p (dirname (sock_dir), 0755, &err) < 0)
    {
      log_error ("%s", err->msg);
      return 1;
    }
  if (write_pidfile (pid_path, &err) < 0)
    {
      log_error ("%s", err->msg);
      return 1;
    }

  /* Signals: SIGPIPE is ignored (a client that goes is an error return);
     SIGTERM/SIGINT are taken by sigwait below, blocked in every thread. */
  signal (SIGPIPE, SIG_IGN);
  sigset_t stop;
  sigemptyset (&stop);
  sigaddset (&stop, SIGTERM);
  sigaddset (&stop, SIGINT);
  sigaddset (&stop, SIGHUP);
  pthread_sigmask (SIG_BLOCK, &stop, NULL);

  engine_opts eo = {
    .root = root,
    .run_root = run_root,
    .shim_path = shim_path,
    .image_tool = tool_path,
    .cgroup_parent = cgroup_parent,
    .init_path = init_path,
    .insecure_registries = insecure,
    .registry_mirrors = mirrors,
    .bridge = bridge,
    .bip = bip,
    .address_pool = pool,
    .nft_table = nft_table,
    .nft_helper = nft_path,
    .dns_upstream = dns_upstream,
    .ip_forward = ip_forward,
  };
  engine *eng = engine_open (&eo, &err);
  if (eng == NULL)
    {
      log_error ("%s", err->msg);
      unlink (pid_path);
      return 1;
    }
  cleanup_free char *tmp = xasprintf ("%s/tmp", root);
  api_context ctx = {
    .eng = eng,
    .root = root,
    .image_tool = tool_path,
    .started_ns = events_now_ns (),
    .insecure_registries = insecure,
    .registry_mirrors = mirrors,
  };
  api_server_opts so = { .socket_path = sock, .tmp_dir = tmp, .ctx = &ctx };
  api_server *srv = api_server_start (&so, &err);
  if (srv == NULL)
    {
      log_error ("%s", err->msg);
      engine_close (eng);
      unlink (pid_path);
      return 1;
    }
  log_info ("polisd %s: API %s on %s, root %s", POLIS_VERSION,
            API_VERSION_MAX_STR, sock, root);
  /* The start-up work is done: hand its memory back. */
  malloc_trim (0);
  trim_text ();

  int sig = 0;
  while (sigwait (&stop, &sig) != 0 || sig == SIGHUP)
    ;
  log_info ("polisd: signal %d, stopping (containers keep running)", sig);
  api_server_stop (srv);
  engine_close (eng);
  unlink (pid_path);
  return 0;
}
