/* polis-test-init: a minimal PID 1 for integration tests.
 *
 *   polis-test-init CMD [ARGS...]   run CMD as a child, reap every zombie,
 *                                   forward SIGTERM/SIGINT/SIGHUP/SIGUSR1/2
 *                                   to it, exit with its status.
 *   polis-test-init --wait-signal   block until SIGTERM/SIGINT, then exit 0
 *                                   (prints "ready" first), for kill tests.
 *   polis-test-init --print-caps    print the five capability masks.
 *   polis-test-init --keyctl        call keyctl(KEYCTL_GET_KEYRING_ID) (busybox
 *                                   has no keyctl) and print "keyctl: ok" or
 *                                   "keyctl: errno N (message)", for seccomp.
 *   polis-test-init --personality V call personality(V) (V in any base strtoul
 *                                   reads) and print the same way.
 *
 * Built statically, with no dependency on the container's libc.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
