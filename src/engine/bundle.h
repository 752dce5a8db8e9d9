/* bundle.h - a container's OCI bundle and the shim that runs it.
 *
 * Before a start: mount the root (if it is not), write hostname, hosts and
 * resolv.conf, resolve the user in the image's /etc, create the working
 * directory, write config.json (regenerated each start: an update may
 * have changed the resources) and the health check file; then the shim's
 * command line follows from the container's settings.
 */
#ifndef POLIS_ENGINE_BUNDLE_H
#define POLIS_ENGINE_BUNDLE_H

#include <signal.h>

#include "base/error.h"
#include "engine_internal.h"

/* Prepare C's bundle for a start. */
int bundle_prepare (engine *e, container *c, polis_error **err);

/* Start C's shim (--no-start) and follow its events; sets shim_up. */
int bundle_spawn_shim (engine *e, container *c, polis_error **err);

/* The cgroup path of C ("/polis/<id>"), caller frees. */
char *bundle_cgroups_path (engine *e, const container *c);

/* The restart policy of HOST_CONFIG as the shim's --restart value
   ("no", "always", "unless-stopped", "on-failure:3").  Caller frees. */
char *bundle_restart_arg (const json_t *host_config);

/* A signal given as Docker does ("KILL", "SIGKILL", "9"); 0 when
   invalid. */
int bundle_parse_signal (const char *s);

/* The OCI process of an exec: CMD run as USER (or the container's) with
   the container's environment plus ENV.  New object. */
json_t *bundle_exec_process (engine *e, container *c, const json_t *exec_cfg,
                             polis_error **err);

#endif
