/* signals.c - signal names and numbers as `kill` takes them. */
#include "signals.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct
{
  const char *name;
  int sig;
} signals_table[] = {
  { "SIGHUP", SIGHUP },     { "SIGINT", SIGINT },       { "SIGQUIT", SIGQUIT },
  { "SIGILL", SIGILL },     { "SIGTRAP", SIGTRAP },     { "SIGABRT", SIGABRT },
  { "SIGIOT", SIGIOT },     { "SIGBUS", SIGBUS },       { "SIGFPE", SIGFPE },
  { "SIGKILL", SIGKILL },   { "SIGUSR1", SIGUSR1 },     { "SIGSEGV", SIGSEGV },
  { "SIGUSR2", SIGUSR2 },   { "SIGPIPE", SIGPIPE },     { "SIGALRM", SIGALRM },
  { "SIGTERM", SIGTERM },   { "SIGSTKFLT", SIGSTKFLT }, { "SIGCHLD", SIGCHLD },
  { "SIGCLD", SIGCHLD },    { "SIGCONT", SIGCONT },     { "SIGSTOP", SIGSTOP },
  { "SIGTSTP", SIGTSTP },   { "SIGTTIN", SIGTTIN },     { "SIGTTOU", SIGTTOU },
  { "SIGURG", SIGURG },     { "SIGXCPU", SIGXCPU },     { "SIGXFSZ", SIGXFSZ },
  { "SIGVTALRM", SIGVTALRM }, { "SIGPROF", SIGPROF },   { "SIGWINCH", SIGWINCH },
  { "SIGIO", SIGIO },       { "SIGPOLL", SIGPOLL },     { "SIGPWR", SIGPWR },
  { "SIGSYS", SIGSYS },
};

int
signals_parse (const char *s, polis_error **err)
{
  char *end;
  long n = strtol (s, &end, 10);
  if (*s && *end == '\0')
    {
      if (n <= 0 || n >= NSIG)
        return error_set (err, ERROR_INVALID, EINVAL, "unknown signal \"%s\"", s);
      return (int) n;
    }
  const char *name = strncasecmp (s, "SIG", 3) == 0 ? s + 3 : s;
  for (size_t i = 0; i < sizeof signals_table / sizeof *signals_table; i++)
    if (strcasecmp (signals_table[i].name + 3, name) == 0)
      return signals_table[i].sig;
  if (strncasecmp (name, "RTMIN", 5) == 0 || strncasecmp (name, "RTMAX", 5) == 0)
    {
      bool min = strncasecmp (name, "RTMIN", 5) == 0;
      long off = 0;
      if (name[5] == '+' || name[5] == '-')
        {
          off = strtol (name + 5, &end, 10);
          if (*end)
            off = 1000;
        }
      else if (name[5])
        off = 1000;
      int sig = (int) ((min ? SIGRTMIN : SIGRTMAX) + off);
      if (off != 1000 && sig >= SIGRTMIN && sig <= SIGRTMAX)
        return sig;
    }
  return error_set (err, ERROR_INVALID, EINVAL, "unknown signal \"%s\"", s);
}

const char *
signals_name (int sig)
{
  for (size_t i = 0; i < sizeof signals_table / sizeof *signals_table; i++)
    if (signals_table[i].sig == sig)
      return signals_table[i].name;
  return NULL;
}
