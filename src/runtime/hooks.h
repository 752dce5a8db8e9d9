/* hooks.h - run OCI hooks: the state document on stdin, a timeout.
 *
 * Each hook is fork()ed and exec()ed with its own args and env (the spec
 * gives the hook no inherited environment).  The caller decides in which
 * namespaces that happens by calling from the right process.
 */
#ifndef POLIS_RUNTIME_HOOKS_H
#define POLIS_RUNTIME_HOOKS_H

#include "base/error.h"
#include "runtime/spec.h"

/* Run the hooks of KIND in S, in order, each with STATE_JSON on its stdin.
   Stops at the first failure (non-zero exit, signal, timeout), which is
   returned as an error naming the hook. */
int hooks_run (const spec *s, spec_hook_kind kind, const char *state_json,
               polis_error **err);

/* Run them all and log failures as warnings (poststart, poststop). */
void hooks_run_warn (const spec *s, spec_hook_kind kind,
                     const char *state_json);

#endif
