/* oci_spec.h - config.json for a container, as dockerd would write it.
 *
 * From the container's Config (image defaults merged in) and HostConfig:
 * Docker's default capabilities, mounts (/proc, /dev, /dev/pts, /dev/shm
 * of ShmSize, /dev/mqueue, /sys, /sys/fs/cgroup), device rules, masked
 * and read-only paths and seccomp profile; the container's mount points
 * (binds, volumes, tmpfs; parents before children) and HostConfig.Tmpfs, resources, ulimits, sysctls and security options; the
 * hostname, hosts and resolv.conf files bind-mounted from the container's
 * directory.  Networking is a later issue: a container gets a network
 * namespace of its own with only loopback, or the host's ("host").
 */
#ifndef POLIS_ENGINE_OCI_SPEC_H
#define POLIS_ENGINE_OCI_SPEC_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/error.h"

typedef struct
{
  const json_t *config;      /* Docker's Config */
  const json_t *host_config; /* Docker's HostConfig */
  const char *dir;           /* the container's directory (hosts, ...) */
  const char *cgroups_path;  /* linux.cgroupsPath */
  const char *init_path;     /* HostConfig.Init: mounted at /sbin/docker-init */
  uid_t uid;
  gid_t gid;
  const gid_t *groups; /* supplementary */
  size_t n_groups;
  int cgroup_version; /* 1 or 2: the default cgroup namespace mode */
  const char *netns_path; /* the network namespace to join (NULL: a new one) */
  const json_t *mounts;   /* the container's mount points (container_mounts.h) */
} oci_spec_input;

/* The config.json object.  New reference or NULL. */
json_t *oci_spec_generate (const oci_spec_input *in, polis_error **err);

/* The bounding set of capabilities of HOST_CONFIG (defaults, CapAdd,
   CapDrop, Privileged) as names, new array; *MASK gets the bits. */
json_t *oci_spec_capabilities (const json_t *host_config, uint64_t *mask);

/* The process environment: Docker's PATH default, HOSTNAME, TERM with a
   TTY, then Config.Env, then EXTRA (an exec's Env, may be NULL). */
json_t *oci_spec_env (const json_t *config, bool tty, const json_t *extra);

/* "nofile" -> "RLIMIT_NOFILE", NULL when unknown. */
const char *oci_spec_rlimit_name (const char *docker_name);

/* OCI linux.resources from Docker's resource fields in HC (a HostConfig
   or an UpdateConfig).  New object. */
json_t *oci_spec_resources (const json_t *hc);

/* Does HostConfig.SecurityOpt ask for no-new-privileges? */
bool oci_spec_no_new_privileges (const json_t *host_config);

#endif
