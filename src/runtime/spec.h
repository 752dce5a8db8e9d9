/* spec.h - an OCI runtime config.json, parsed and checked.
 *
 * spec_load() reads a bundle's config.json (capped), checks every field the
 * runtime acts on, and turns it into plain C values: mount flags decoded,
 * capability names turned into bit masks, rlimit names into resources.  A
 * problem is an ERROR_INVALID that names the field ("mounts[2].destination:
 * must be an absolute path").  Strings point into the JSON document the spec
 * keeps alive; linux.resources and linux.seccomp stay JSON for the cgroup and
 * seccomp modules, which validate them themselves.
 */
#ifndef POLIS_RUNTIME_SPEC_H
#define POLIS_RUNTIME_SPEC_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/error.h"

/* Largest config.json accepted. */
#define SPEC_MAX_SIZE (4u << 20)
/* Caps on list lengths, far above any real config. */
#define SPEC_MAX_MOUNTS 4096
#define SPEC_MAX_IDMAPS 340
#define SPEC_MAX_HOOKS 256

typedef enum
{
  NS_USER = 0, /* first: the others are created or joined inside it */
  NS_MNT,
  NS_PID,
  NS_NET,
  NS_IPC,
  NS_UTS,
  NS_CGROUP,
  NS_TIME,
  NS_COUNT
} spec_ns_kind;

typedef struct
{
  bool present;     /* listed in linux.namespaces */
  const char *path; /* join this one instead of creating (NULL = create) */
} spec_namespace;

typedef struct
{
  uint32_t container_id, host_id, size;
} spec_idmap;

typedef struct
{
  const char *destination;
  const char *type;   /* may be NULL for bind mounts */
  const char *source; /* may be NULL */
  unsigned long flags;       /* MS_* to set */
  unsigned long propagation; /* MS_SHARED/SLAVE/PRIVATE/UNBINDABLE (| MS_REC) */
  unsigned long attr_set;    /* MOUNT_ATTR_* for recursive options (rro...) */
  unsigned long attr_clr;
  bool bind;                 /* bind or rbind */
  bool tmpcopyup;            /* copy the directory's content into a tmpfs */
  char *data;                /* leftover options joined with ',' (heap) */
} spec_mount;

typedef struct
{
  const char *path;
  char **args; /* heap strv (may be NULL) */
  char **env;  /* heap strv (may be NULL) */
  int timeout; /* seconds, 0 = none */
} spec_hook;

typedef enum
{
  HOOK_PRESTART = 0,
  HOOK_CREATE_RUNTIME,
  HOOK_CREATE_CONTAINER,
  HOOK_START_CONTAINER,
  HOOK_POSTSTART,
  HOOK_POSTSTOP,
  HOOK_COUNT
} spec_hook_kind;

typedef struct
{
  int resource; /* RLIMIT_* */
  const char *name;
  uint64_t soft, hard;
} spec_rlimit;

typedef struct
{
  const char *path;
  char type; /* 'c', 'b', 'u' or 'p' */
  int64_t major, minor;
  mode_t mode;
  bool has_mode;
  uid_t uid;
  gid_t gid;
} spec_device;

typedef enum
{
  CAP_SET_BOUNDING = 0,
  CAP_SET_EFFECTIVE,
  CAP_SET_INHERITABLE,
  CAP_SET_PERMITTED,
  CAP_SET_AMBIENT,
  CAP_SET_COUNT
} spec_cap_set;

typedef struct
{
  bool terminal;
  unsigned console_height, console_width;
  uid_t uid;
  gid_t gid;
  gid_t *additional_gids;
  size_t n_additional_gids;
  bool has_umask;
  mode_t umask;
  char **args; /* heap strv */
  char **env;  /* heap strv */
  const char *cwd;
  bool has_caps;
  uint64_t caps[CAP_SET_COUNT]; /* bit N = capability N */
  bool no_new_privileges;
  spec_rlimit *rlimits;
  size_t n_rlimits;
  bool has_oom_score_adj;
  int oom_score_adj;
  const char *apparmor_profile;
  const char *selinux_label;
} spec_process;

typedef struct
{
  int64_t secs;
  uint32_t nanosecs;
  bool set;
} spec_time_offset;

typedef struct spec
{
  json_t *json; /* the whole document; strings point into it */
  const char *oci_version;
  const char *root_path;
  bool root_readonly;
  const char *hostname;
  const char *domainname;
  spec_process process;
  bool has_process;
  spec_mount *mounts;
  size_t n_mounts;
  spec_hook *hooks[HOOK_COUNT];
  size_t n_hooks[HOOK_COUNT];
  json_t *annotations; /* borrowed, may be NULL */

  spec_namespace ns[NS_COUNT];
  spec_idmap *uid_maps, *gid_maps;
  size_t n_uid_maps, n_gid_maps;
  spec_device *devices;
  size_t n_devices;
  const char *cgroups_path;
  json_t *resources; /* borrowed, may be NULL */
  json_t *sysctl;    /* borrowed object of strings, may be NULL */
  json_t *seccomp;   /* borrowed, may be NULL */
  bool has_personality;
  unsigned long personality; /* PER_LINUX or PER_LINUX32 */
  unsigned long rootfs_propagation; /* 0 = default */
  char **masked_paths;
  char **readonly_paths;
  const char *mount_label;
  spec_time_offset time_monotonic, time_boottime;
} spec;

/* Parse the config.json at PATH relative to DIRFD.  NULL with *err set. */
spec *spec_load_at (int dirfd, const char *path, polis_error **err);
/* Parse a config document held in memory (LEN bytes). */
spec *spec_parse (const char *buf, size_t len, polis_error **err);
void spec_free (spec *s);
static inline void
cleanup_spec_fn (spec **s)
{
  spec_free (*s);
  *s = NULL;
}
#define cleanup_spec __attribute__ ((cleanup (cleanup_spec_fn)))

/* Parse the "process" object on its own (for `exec --process`).  Fills OUT;
   CTX names it in messages.  Free with spec_process_clear(). */
int spec_process_parse (const json_t *obj, const char *ctx, spec_process *out,
                        polis_error **err);
void spec_process_clear (spec_process *p);

/* Name of a namespace kind as the spec writes it ("pid", "network"...). */
const char *spec_ns_name (spec_ns_kind kind);
/* CLONE_NEW* flag of a namespace kind. */
int spec_ns_clone_flag (spec_ns_kind kind);
/* Name of a hook kind as the spec writes it ("prestart"...). */
const char *spec_hook_name (spec_hook_kind kind);

/* Decode mount OPTIONS into M's flags / propagation / data.  Exposed for
   tests and for the engine, which builds mounts itself. */
int spec_mount_parse_options (spec_mount *m, char *const *options,
                              const char *ctx, polis_error **err);

/* The mount option names this runtime understands (for `features`). */
json_t *spec_mount_option_names (void);

#endif
