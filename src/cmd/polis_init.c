/* polis-init - the init of `docker run --init` (tini's job).
 *
 *   /sbin/docker-init -- PROGRAM [ARGS...]
 *
 * Runs PROGRAM as its child, forwards every signal it receives to it,
 * reaps every zombie that is reparented to it (it is PID 1 of the
 * container), and exits with PROGRAM's status (128 + signal when it was
 * killed).  Static, so that it runs in any image; bind-mounted read-only
 * at /sbin/docker-init, as Docker does with docker-init.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

int
main (int argc, char **argv)
{
  int first = 1;
  if (first < argc && strcmp (argv[first], "--") == 0)
    first++;
  if (first >= argc)
    {
      fprintf (stderr, "usage: %s [--] PROGRAM [ARGS...]\n", argv[0]);
      return 2;
    }
  /* Not PID 1 (docker exec, tests): still reap what we inherit. */
  prctl (PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  sigset_t all, old;
  sigfillset (&all);
  sigprocmask (SIG_BLOCK, &all, &old);
  pid_t child = fork ();
  if (child < 0)
    {
      perror ("polis-init: fork");
      return 1;
    }
  if (child == 0)
    {
      /* A process group of its own, with the terminal if there is one,
         so that ^C from a TTY reaches it (SIGTTOU is still blocked, which
         lets a background group take the terminal). */
      setpgid (0, 0);
      tcsetpgrp (STDIN_FILENO, getpid ());
      sigprocmask (SIG_SETMASK, &old, NULL);
      execvp (argv[first], argv + first);
      fprintf (stderr, "polis-init: exec %s: %s\n", argv[first], strerror (errno));
      _exit (errno == ENOENT ? 127 : 126);
    }
  for (;;)
    {
      siginfo_t si;
      int sig = sigwaitinfo (&all, &si);
      if (sig < 0)
        continue;
      if (sig != SIGCHLD)
        {
          kill (child, sig);
          continue;
        }
      for (;;)
        {
          int st;
          pid_t p = waitpid (-1, &st, WNOHANG);
          if (p <= 0)
            break;
          if (p == child)
            {
              /* Reap the rest that are already dead, then go. */
              while (waitpid (-1, NULL, WNOHANG) > 0)
                ;
              if (WIFEXITED (st))
                return WEXITSTATUS (st);
              return 128 + WTERMSIG (st);
            }
        }
    }
}
