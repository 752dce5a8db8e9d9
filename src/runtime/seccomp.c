/* seccomp.c - the OCI linux.seccomp filter, compiled and loaded.
   PLACEHOLDER: filled in by the seccomp work. */
#include "seccomp.h"

#include <errno.h>

seccomp_filter *
seccomp_compile (const json_t *seccomp, polis_error **err)
{
  (void) seccomp;
  error_set (err, ERROR_INVALID, ENOTSUP, "linux.seccomp: not supported yet");
  return NULL;
}

int
seccomp_load (const seccomp_filter *f, int *listener, polis_error **err)
{
  (void) f;
  *listener = -1;
  return error_set (err, ERROR_INVALID, ENOTSUP, "seccomp: not supported yet");
}

const char *
seccomp_listener_path (const seccomp_filter *f)
{
  (void) f;
  return NULL;
}

int
seccomp_send_listener (const char *path, int listener, const char *state_json,
                       polis_error **err)
{
  (void) path;
  (void) listener;
  (void) state_json;
  return error_set (err, ERROR_INVALID, ENOTSUP, "seccomp: not supported yet");
}

void
seccomp_filter_free (seccomp_filter *f)
{
  (void) f;
}

json_t *
seccomp_features (void)
{
  return json_pack ("{s:b}", "enabled", 0);
}
