/* container_opts.h - docker run / create flags to a ContainerCreateRequest.
 *
 * The flags, their spellings and the JSON they become follow the docker
 * CLI (cli/command/container/opts.go): -e/--env-file to Env, -p to
 * ExposedPorts + HostConfig.PortBindings, -v to Binds (or Volumes for an
 * anonymous one), --restart to RestartPolicy, --health-* to Healthcheck,
 * -m/--cpus to Memory/NanoCpus, and so on.
 */
#ifndef POLIS_CLI_CONTAINER_OPTS_H
#define POLIS_CLI_CONTAINER_OPTS_H

#include <jansson.h>
#include <stdbool.h>

#include "base/error.h"
#include "base/opts.h"

typedef struct
{
  /* run only */
  bool detach, rm, sig_proxy;
  const char *detach_keys;
  /* both */
  bool interactive, tty, publish_all, read_only, privileged, init,
      no_healthcheck, oom_kill_disable;
  const char *name, *restart, *health_cmd, *health_interval, *health_timeout,
      *health_retries, *health_start_period, *health_start_interval, *memory,
      *memory_swap, *memory_reservation, *cpus, *cpu_shares, *cpuset_cpus,
      *pids_limit, *entrypoint, *workdir, *user, *log_driver, *network,
      *hostname, *domainname, *stop_signal, *stop_timeout, *shm_size, *ipc,
      *pid, *platform, *pull, *uts, *cgroupns, *mac_address, *ip, *runtime,
      *userns, *cidfile;
  char **env, **env_file, **volume, **publish, **cap_add, **cap_drop,
      **log_opt, **label, **label_file, **add_host, **dns, **dns_search,
      **dns_option, **tmpfs, **expose, **ulimit, **device, **security_opt,
      **sysctl, **mount, **attach, **group_add, **network_alias,
      **volumes_from, **link;
  bool entrypoint_set;
} container_opts;

/* The flag table pointing into O (run's flags when RUN). Heap; free(). */
opt_def *container_opts_defs (container_opts *o, bool run);
void container_opts_clear (container_opts *o);

/* Build the create request from O, the image and the command ARGS.
   New reference, or NULL with an error phrased as docker's ("invalid
   restart policy ..."). */
json_t *container_opts_build (container_opts *o, const char *image,
                              char **args, polis_error **err);

/* Parse "[ip:][hostPort:]containerPort[/proto]" into PORTS (ExposedPorts)
   and BINDINGS (PortBindings).  -1 on a malformed spec. */
int container_opts_add_publish (json_t *ports, json_t *bindings,
                                const char *spec, polis_error **err);

#endif
