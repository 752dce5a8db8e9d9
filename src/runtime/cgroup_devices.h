/* cgroup_devices.h - which devices a container may use, as a rule set.
 *
 * linux.resources.devices is a list of allow/deny entries applied in order
 * with the semantics of the v1 devices controller: an "a" entry resets
 * everything to allow-all or deny-all, any other entry adds or removes an
 * exception.  This module replays the list (followed by runc's default
 * rules, which every container gets) into the resulting state: a default
 * and a set of exceptions that all have the opposite effect, so their order
 * no longer matters.  The v1 backend turns a state into devices.allow /
 * devices.deny writes, the v2 backend into an eBPF program (cgroup_bpf.h).
 */
#ifndef POLIS_RUNTIME_CGROUP_DEVICES_H
#define POLIS_RUNTIME_CGROUP_DEVICES_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

/* Access bits, as in the v1 "rwm" strings. */
#define CGROUP_DEV_READ 1u
#define CGROUP_DEV_WRITE 2u
#define CGROUP_DEV_MKNOD 4u
#define CGROUP_DEV_RWM 7u

/* Major / minor meaning "any". */
#define CGROUP_DEV_ANY (-1)

typedef struct
{
  char type;        /* 'c' or 'b' */
  int64_t major;    /* CGROUP_DEV_ANY or 0..INT32_MAX */
  int64_t minor;
  unsigned access;  /* CGROUP_DEV_* bits, never 0 */
} cgroup_device_rule;

typedef struct
{
  /* true: everything is allowed except the rules (a deny list);
     false: nothing is allowed except the rules (an allow list). */
  bool default_allow;
  cgroup_device_rule *rules; /* sorted by major, minor, type */
  size_t n;
} cgroup_device_rules;

/* The state that linux.resources.devices (an array, or NULL for none)
   leads to, starting from deny-all and ending with runc's default rules.
   Errors name the entry ("linux.resources.devices[2].type: ...").
   Caller frees with cgroup_devices_free. */
cgroup_device_rules *cgroup_devices_from_json (const json_t *devices,
                                               polis_error **err);

/* The state a v1 devices.list describes ("a *:* rwm" means allow-all;
   its deny exceptions cannot be read back, so that state has none). */
cgroup_device_rules *cgroup_devices_from_list (const char *list,
                                               polis_error **err);

void cgroup_devices_free (cgroup_device_rules *r);
static inline void
cleanup_device_rules_fn (cgroup_device_rules **r)
{
  cgroup_devices_free (*r);
  *r = NULL;
}
#define cleanup_device_rules __attribute__ ((cleanup (cleanup_device_rules_fn)))

/* One write to a v1 devices cgroup: LINE goes to devices.allow when ALLOW,
   else to devices.deny.  DEFAULT_RULE: an allow that one of the default
   rules grants anyway (a parent cgroup that does not allow it refuses the
   write, and a default must not fail a container). */
typedef struct
{
  bool allow;
  bool default_rule;
  char line[64];
} cgroup_device_write;

/* The writes that take a v1 cgroup from CUR to WANT without disturbing
   a running container more than needed: exceptions that go away are
   removed before new ones are added, and an allow-all or deny-all reset is
   used only when the default changes (or CUR is allow-all, whose deny
   exceptions cannot be read back).  Returns the count; *OUT (caller
   frees) holds the writes. */
size_t cgroup_devices_transition (const cgroup_device_rules *cur,
                                  const cgroup_device_rules *want,
                                  cgroup_device_write **out);

/* "c 1:3 rwm" for R into BUF (at least 64 bytes). */
void cgroup_devices_format (const cgroup_device_rule *r, char *buf,
                            size_t len);

#endif
