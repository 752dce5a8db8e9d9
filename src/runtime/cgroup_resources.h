/* cgroup_resources.h - linux.resources, checked and typed.
 *
 * Both cgroup backends read the same JSON.  This module checks it once -
 * types, ranges and the rules that need no kernel - so that every error
 * names its field ("linux.resources.memory.swap: ..."), and hands the
 * backends typed values, each with a flag saying whether it was given.
 * Like runc, a 0 for the memory, cpu and blkio numbers means "not given",
 * so that `update` with runc's all-zero template changes nothing.  The
 * conversions between v1 and v2 units (cpu shares to cpu.weight, blkio
 * weight to io.weight, memory+swap to swap) live here too.
 */
#ifndef POLIS_RUNTIME_CGROUP_RESOURCES_H
#define POLIS_RUNTIME_CGROUP_RESOURCES_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "runtime/cgroup_devices.h"

typedef struct
{
  bool set;
  int64_t v;
} cgroup_res_i64;

typedef struct
{
  bool set;
  uint64_t v;
} cgroup_res_u64;

/* An entry of blockIO.weightDevice or of a throttle list. */
typedef struct
{
  int64_t major, minor;
  cgroup_res_u64 weight, leaf_weight; /* weightDevice */
  uint64_t rate;                      /* throttles: 0 removes the limit */
} cgroup_res_blkdev;

typedef enum
{
  CGROUP_THROTTLE_READ_BPS = 0,
  CGROUP_THROTTLE_WRITE_BPS,
  CGROUP_THROTTLE_READ_IOPS,
  CGROUP_THROTTLE_WRITE_IOPS,
  CGROUP_THROTTLE_N,
} cgroup_throttle_kind;

typedef struct
{
  const char *page_size; /* "2MB", borrowed from the JSON */
  uint64_t limit;
} cgroup_res_hugepage;

typedef struct
{
  const char *name; /* borrowed */
  uint32_t priority;
} cgroup_res_ifprio;

typedef struct
{
  const char *device; /* borrowed */
  cgroup_res_u64 hca_handles, hca_objects;
} cgroup_res_rdma;

typedef struct
{
  const char *key, *value; /* borrowed */
} cgroup_res_unified;

typedef struct
{
  struct
  {
    cgroup_res_i64 limit, reservation, swap, kernel, kernel_tcp;
    cgroup_res_u64 swappiness;
    bool has_disable_oom, disable_oom;
    bool has_use_hierarchy, use_hierarchy;
    bool check_before_update;
  } memory;
  struct
  {
    cgroup_res_u64 shares, period, burst, rt_period;
    cgroup_res_i64 quota, rt_runtime, idle;
    const char *cpus, *mems; /* borrowed, NULL when not given */
  } cpu;
  cgroup_res_i64 pids_limit; /* -1: no limit; 0 is a real limit */
  struct
  {
    cgroup_res_u64 weight, leaf_weight;
    cgroup_res_blkdev *weight_device;
    size_t n_weight_device;
    cgroup_res_blkdev *throttle[CGROUP_THROTTLE_N];
    size_t n_throttle[CGROUP_THROTTLE_N];
  } blkio;
  cgroup_res_hugepage *hugepages;
  size_t n_hugepages;
  struct
  {
    cgroup_res_u64 class_id;
    cgroup_res_ifprio *priorities;
    size_t n_priorities;
  } network;
  cgroup_res_rdma *rdma;
  size_t n_rdma;
  /* The devices state to set up; NULL when nothing is to change (an
     update without "devices").  On create it is never NULL: without a
     list a container still gets deny-all plus the default rules. */
  cgroup_device_rules *devices;
  cgroup_res_unified *unified;
  size_t n_unified;
} cgroup_resources;

/* Check and convert RESOURCES (linux.resources; NULL is an empty object).
   UPDATE: for `update`, where an absent devices list changes nothing.
   The result borrows strings from RESOURCES, which must outlive it.
   Caller frees with cgroup_resources_free. */
cgroup_resources *cgroup_resources_parse (const json_t *resources, bool update,
                                          polis_error **err);
void cgroup_resources_free (cgroup_resources *r);
static inline void
cleanup_resources_fn (cgroup_resources **r)
{
  cgroup_resources_free (*r);
  *r = NULL;
}
#define cleanup_resources __attribute__ ((cleanup (cleanup_resources_fn)))

/* Names of the throttle lists ("throttleReadBpsDevice"), of their v1 files
   ("blkio.throttle.read_bps_device") and of their io.max keys ("rbps"). */
const char *cgroup_resources_throttle_field (cgroup_throttle_kind k);
const char *cgroup_resources_throttle_v1_file (cgroup_throttle_kind k);
const char *cgroup_resources_throttle_v2_key (cgroup_throttle_kind k);

/* The rdma.max line for E: "mlx4_0 hca_handle=2 hca_object=2000" (v1 and
   v2 share the format).  Returns what snprintf returns. */
int cgroup_resources_rdma_line (const cgroup_res_rdma *e, char *buf, size_t len);

/* cpu.weight (1..10000) for cpu.shares (2..262144), runc's conversion:
   1 + ((shares - 2) * 9999) / 262142. */
uint64_t cgroup_resources_cpu_weight (uint64_t shares);

/* io.weight (1..10000) for a blkio weight (10..1000), runc's conversion:
   1 + (weight - 10) * 9999 / 990. */
uint64_t cgroup_resources_io_weight (uint64_t blkio_weight);

/* cgroup v2 memory.swap.max for the spec's memory+swap SWAP and memory
   LIMIT (-1 = unlimited).  *OUT is -1 for "max".  Fails when a swap limit
   comes without a memory limit or below it. */
int cgroup_resources_v2_swap (int64_t swap, int64_t limit, int64_t *out,
                              polis_error **err);

#endif
