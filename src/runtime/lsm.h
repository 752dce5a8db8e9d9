/* lsm.h - AppArmor profiles and SELinux labels for container processes.
 *
 * The host's LSMs are detected once, by the runtime, before it clones: a
 * profile or label for an LSM the host does not run is reported once as a
 * warning and otherwise ignored (as runc does), never a failure.  Where the
 * LSM runs, the process's exec label is set just before its identity
 * changes, so that it takes effect at execve.
 */
#ifndef POLIS_RUNTIME_LSM_H
#define POLIS_RUNTIME_LSM_H

#include <stdbool.h>

#include "base/error.h"
#include "runtime/spec.h"

/* Whether the host runs AppArmor / SELinux (detected on first call). */
bool lsm_apparmor_enabled (void);
bool lsm_selinux_enabled (void);

/* In the runtime, before clone: warn once about each profile or label of P
   (and MOUNT_LABEL, may be NULL) that this host cannot apply. */
void lsm_check (const spec_process *p, const char *mount_label);

/* In the container's process: set the exec profile/label of P. */
int lsm_apply_exec (const spec_process *p, polis_error **err);

/* Mount DATA with the SELinux mount label added when SELinux runs and
   LABEL is set (heap, caller frees; a copy of DATA otherwise). */
char *lsm_mount_data (const char *data, const char *label);

#endif
