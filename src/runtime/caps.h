/* caps.h - Linux capabilities: names, and applying the five OCI sets.
 *
 * Masks are uint64_t with bit N for capability N.  Names follow the spec
 * ("CAP_NET_ADMIN").  Capabilities the running kernel does not know are
 * skipped when applied, as runc and crun do.
 */
#ifndef POLIS_RUNTIME_CAPS_H
#define POLIS_RUNTIME_CAPS_H

#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"

/* Highest capability number this code knows of (CAP_CHECKPOINT_RESTORE). */
#define CAPS_KNOWN_LAST 40

/* The number of "CAP_FOO", or -1 when the name is unknown. */
int caps_from_name (const char *name);
/* "CAP_FOO" for number N, or NULL. */
const char *caps_name (int n);
/* The highest capability the running kernel supports. */
int caps_last_cap (void);

/* Apply the sets to the calling process, which must still hold the
   privileges to do so: drop what is not in BOUNDING from the bounding set.
   Call before changing uid; see caps_apply_sets() for after. */
int caps_drop_bounding (uint64_t bounding, polis_error **err);
/* Set effective, permitted and inheritable, then raise ambient. */
int caps_apply_sets (uint64_t effective, uint64_t permitted,
                     uint64_t inheritable, uint64_t ambient,
                     polis_error **err);

#endif
