/* seccomp_profile.h - Docker's seccomp profiles, resolved for one container.
 *
 * Docker's profile format is not an OCI linux.seccomp object: it has an
 * archMap, and rules that apply only with (`includes`) or without
 * (`excludes`) some capabilities, architectures or kernel versions.
 * dockerd resolves those for each container before it writes config.json
 * (moby/profiles seccomp.setupSeccomp); this does the same, for the
 * default profile (embedded, the copy in tests/data/seccomp-default.json)
 * or for a custom one from `--security-opt seccomp=<json>`.
 */
#ifndef POLIS_ENGINE_SECCOMP_PROFILE_H
#define POLIS_ENGINE_SECCOMP_PROFILE_H

#include <jansson.h>
#include <stdint.h>

#include "base/error.h"

/* The OCI linux.seccomp object for a process whose bounding set is
   BOUNDING (bit N = capability N).  PROFILE is a Docker-format profile,
   or NULL for Docker's default.  New reference or NULL. */
json_t *seccomp_profile_resolve (const json_t *profile, uint64_t bounding,
                                 polis_error **err);

#endif
