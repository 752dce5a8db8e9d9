/* signals.h - signal names and numbers as `kill` takes them. */
#ifndef POLIS_RUNTIME_SIGNALS_H
#define POLIS_RUNTIME_SIGNALS_H

#include "base/error.h"

/* Parse "KILL", "SIGKILL", "sigkill", "9", "RTMIN+3".  Returns the number,
   or -1 with *err set ("unknown signal \"FOO\""). */
int signals_parse (const char *s, polis_error **err);

/* "SIGKILL" for 9, or NULL. */
const char *signals_name (int sig);

#endif
