/* polis-test-init: a minimal PID 1 for integration tests.
 *
 *   polis-test-init CMD [ARGS...]   run CMD as a child, reap every zombie,
 *                                   forward SIGTERM/SIGINT/SIGHUP/SIGUSR1/2
 *                                   to it, exit with its status.
 *   polis-test-init --wait-signal   block until SIGTERM/SIGINT, then exit 0
 *                                   (prints "ready" first), for kill tests.
 *   polis-test-init --print-caps    print the five capability masks.
 *   polis-test-init --fds           print each open fd and what it is
 *                                   ("0 /dev/null"), one a line.
 *   polis-test-init --openpty       open a new pty through /dev/ptmx and
 *                                   print the name of its slave.
 *   polis-test-init --probe-exe PID drop CAP_SYS_PTRACE, then try to reach
 *                                   /proc/PID/exe as the CVE-2019-5736
 *                                   exploit does, and print what happened
 *                                   ("readlink EACCES", "open-path ok
 *                                   DEV:INO").  It never writes to the
 *                                   file.
 *   polis-test-init --keyctl        call keyctl(KEYCTL_GET_KEYRING_ID) (busybox
 *                                   has no keyctl) and print "keyctl: ok" or
 *                                   "keyctl: errno N (message)", for seccomp.
 *   polis-test-init --personality V call personality(V) (V in any base strtoul
 *                                   reads) and print the same way.
 *
 * Built statically, with no dependency on the container's libc.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t got;
static pid_t child;

static void
on_signal (int sig)
{
  got = sig;
  if (child > 0)
    kill (child, sig);
}

static int
print_caps (void)
{
  FILE *f = fopen ("/proc/self/status", "r");
  char line[256];
  if (f == NULL)
    return 1;
  while (fgets (line, sizeof line, f))
    if (strncmp (line, "Cap", 3) == 0)
      fputs (line, stdout);
  fclose (f);
  return 0;
}

static int
print_fds (void)
{
  DIR *d = opendir ("/proc/self/fd");
  struct dirent *de;
  if (d == NULL)
    return 1;
  while ((de = readdir (d)) != NULL)
    {
      char target[PATH_MAX];
      ssize_t n;
      if (de->d_name[0] == '.' || atoi (de->d_name) == dirfd (d))
        continue;
      n = readlinkat (dirfd (d), de->d_name, target, sizeof target - 1);
      target[n < 0 ? 0 : n] = '\0';
      printf ("%s %s\n", de->d_name, target);
    }
  closedir (d);
  return 0;
}

static int
open_pty (void)
{
  int m = posix_openpt (O_RDWR | O_NOCTTY);
  char *name;
  int s;
  if (m < 0 || grantpt (m) < 0 || unlockpt (m) < 0 || (name = ptsname (m)) == NULL)
    {
      printf ("openpty: %s\n", strerror (errno));
      return 1;
    }
  s = open (name, O_RDWR | O_NOCTTY);
  if (s < 0)
    {
      printf ("open %s: %s\n", name, strerror (errno));
      return 1;
    }
  printf ("%s\n", name);
  return 0;
}

static const char *
errno_name (int e)
{
  switch (e)
    {
    case EACCES: return "EACCES";
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case ETXTBSY: return "ETXTBSY";
    case ESRCH: return "ESRCH";
    default: return strerror (e);
    }
}

/* What the CVE-2019-5736 exploit needs: a handle on the runtime's binary
   through /proc/PID/exe, to reopen for writing once the runtime exits.
   Opened for writing without O_TRUNC and closed at once: nothing is ever
   written. */
static int
probe_exe (const char *pid)
{
  char path[64], target[PATH_MAX];
  int fd;
  ssize_t n;
  struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
  struct __user_cap_data_struct data[2];
  /* As a process joined into the container without CAP_SYS_PTRACE (the
     runtime's exec drops it): out of every set, for good. */
  if (prctl (PR_CAPBSET_DROP, CAP_SYS_PTRACE, 0, 0, 0) < 0
      || syscall (SYS_capget, &hdr, data) < 0)
    {
      printf ("drop CAP_SYS_PTRACE: %s\n", strerror (errno));
      return 1;
    }
  data[0].effective &= ~(1u << CAP_SYS_PTRACE);
  data[0].permitted &= ~(1u << CAP_SYS_PTRACE);
  data[0].inheritable &= ~(1u << CAP_SYS_PTRACE);
  if (syscall (SYS_capset, &hdr, data) < 0)
    {
      printf ("drop CAP_SYS_PTRACE: %s\n", strerror (errno));
      return 1;
    }
  snprintf (path, sizeof path, "/proc/%s/exe", pid);
  n = readlink (path, target, sizeof target - 1);
  if (n < 0)
    printf ("readlink %s\n", errno_name (errno));
  else
    {
      target[n] = '\0';
      printf ("readlink ok %s\n", target);
    }
  fd = open (path, O_PATH | O_CLOEXEC);
  if (fd < 0)
    printf ("open-path %s\n", errno_name (errno));
  else
    {
      struct stat st;
      if (fstat (fd, &st) == 0)
        printf ("open-path ok %llu:%llu\n", (unsigned long long) st.st_dev,
                (unsigned long long) st.st_ino);
      else
        printf ("open-path ok\n");
      close (fd);
    }
  fd = open (path, O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    printf ("open-write %s\n", errno_name (errno));
  else
    {
      printf ("open-write ok\n");
      close (fd);
    }
  return 0;
}

/* Print what a system call returned, for tests to match on. */
static int
print_result (const char *what, long r)
{
  if (r < 0)
    printf ("%s: errno %d (%s)\n", what, errno, strerror (errno));
  else
    printf ("%s: ok\n", what);
  return 0;
}

int
main (int argc, char **argv)
{
  struct sigaction sa = { .sa_handler = on_signal };
  int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2 };
  for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++)
    sigaction (sigs[i], &sa, NULL);

  if (argc >= 2 && strcmp (argv[1], "--print-caps") == 0)
    return print_caps ();
  if (argc >= 2 && strcmp (argv[1], "--fds") == 0)
    return print_fds ();
  if (argc >= 2 && strcmp (argv[1], "--openpty") == 0)
    return open_pty ();
  if (argc >= 3 && strcmp (argv[1], "--probe-exe") == 0)
    return probe_exe (argv[2]);
  /* KEYCTL_GET_KEYRING_ID of KEY_SPEC_SESSION_KEYRING, without creating. */
  if (argc >= 2 && strcmp (argv[1], "--keyctl") == 0)
    return print_result ("keyctl", syscall (SYS_keyctl, 0, -3, 0, 0, 0));
  if (argc >= 3 && strcmp (argv[1], "--personality") == 0)
    return print_result ("personality",
                         syscall (SYS_personality, strtoul (argv[2], NULL, 0)));
  if (argc >= 2 && strcmp (argv[1], "--wait-signal") == 0)
    {
      printf ("ready\n");
      fflush (stdout);
      while (!got)
        pause ();
      printf ("got signal %d\n", (int) got);
      return 0;
    }
  if (argc < 2)
    {
      fprintf (stderr, "usage: polis-test-init CMD [ARGS...]\n");
      return 2;
    }
  child = fork ();
  if (child < 0)
    return 1;
  if (child == 0)
    {
      execvp (argv[1], argv + 1);
      fprintf (stderr, "exec %s: %s\n", argv[1], strerror (errno));
      _exit (127);
    }
  for (;;)
    {
      int status;
      pid_t p = wait (&status);
      if (p < 0 && errno == EINTR)
        continue;
      if (p < 0)
        return 1;
      if (p == child)
        return WIFEXITED (status) ? WEXITSTATUS (status)
                                  : 128 + WTERMSIG (status);
    }
}
