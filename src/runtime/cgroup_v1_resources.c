/* cgroup_v1_resources.c - linux.resources on cgroup v1 controllers.
 *
 * Each resource goes to the hierarchy of its controller.  The order of
 * the writes follows the kernel's rules (memory+swap never below memory,
 * CFS and RT runtime never above their period) in whichever direction a
 * value moves, so that `update` works both ways.  A resource whose
 * controller is not mounted is an error: a limit that was asked for must
 * not be silently dropped.
 */
#include "runtime/cgroup_v1_resources.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/log.h"
#include "base/path.h"
#include "base/pjson.h"
#include "base/xalloc.h"
#include "runtime/cgroup_devices.h"
#include "runtime/cgroup_resources.h"

/* The directory of CG in the hierarchy holding CONTROLLER, or NULL. */
static char *
cgroup_v1_res_dir (const cgroup *cg, const char *controller)
{
  const cgroup_hierarchy *h = cgroup_v1_find (cg, controller);
  return h ? path_join (h->mount, h->path) : NULL;
}

/* Like cgroup_v1_res_dir, but a missing controller is an error naming
   FIELD. */
static char *
cgroup_v1_res_need (const cgroup *cg, const char *controller,
                    const char *field, polis_error **err)
{
  char *dir = cgroup_v1_res_dir (cg, controller);
  if (dir == NULL)
    error_set (err, ERROR_UNAVAILABLE, ENOTSUP,
               "%s: the %s cgroup controller is not mounted on this host", field,
               controller);
  return dir;
}

static int
cgroup_v1_res_write (const char *dir, const char *file, const char *value,
                     const char *field, polis_error **err)
{
  if (cgroup_write (dir, file, value, err) < 0)
    return error_wrap (err, "%s", field);
  return 0;
}

static int
cgroup_v1_res_write_i64 (const char *dir, const char *file, int64_t v,
                         const char *field, polis_error **err)
{
  char buf[32];
  snprintf (buf, sizeof buf, "%" PRId64, v);
  return cgroup_v1_res_write (dir, file, buf, field, err);
}

/* Write the memory limit; the kernel answers EBUSY when it cannot reclaim
   down to it. */
static int
cgroup_v1_res_memory_limit (const char *dir, int64_t v, polis_error **err)
{
  const char *field = "linux.resources.memory.limit";
  char buf[32];
  snprintf (buf, sizeof buf, "%" PRId64, v);
  cleanup_error polis_error *e = NULL;
  if (cgroup_write (dir, "memory.limit_in_bytes", buf, &e) == 0)
    return 0;
  uint64_t usage = 0, memsw = 0;
  if (e->code == EBUSY && cgroup_read_u64 (dir, "memory.usage_in_bytes", &usage))
    return error_set (err, ERROR_INVALID, EBUSY,
                      "%s: %" PRId64 " is below the current memory usage (%" PRIu64 " bytes)",
                      field, v, usage);
  if (e->code == EINVAL && cgroup_read_u64 (dir, "memory.memsw.limit_in_bytes", &memsw))
    return error_set (err, ERROR_INVALID, EINVAL,
                      "%s: %" PRId64 " is above the memory+swap limit (%" PRIu64
                      " bytes); raise linux.resources.memory.swap with it",
                      field, v, memsw);
  *err = steal_pointer (&e);
  return error_wrap (err, "%s", field);
}

static int
cgroup_v1_res_memory_swap (const char *dir, int64_t v, polis_error **err)
{
  const char *field = "linux.resources.memory.swap";
  char buf[32];
  snprintf (buf, sizeof buf, "%" PRId64, v);
  cleanup_error polis_error *e = NULL;
  if (cgroup_write (dir, "memory.memsw.limit_in_bytes", buf, &e) == 0)
    return 0;
  uint64_t limit = 0, usage = 0;
  if (e->code == EINVAL && cgroup_read_u64 (dir, "memory.limit_in_bytes", &limit))
    return error_set (err, ERROR_INVALID, EINVAL,
                      "%s: %" PRId64 " is below the memory limit (%" PRIu64 " bytes)",
                      field, v, limit);
  if (e->code == EBUSY && cgroup_read_u64 (dir, "memory.memsw.usage_in_bytes", &usage))
    return error_set (err, ERROR_INVALID, EBUSY,
                      "%s: %" PRId64 " is below the current memory+swap usage (%" PRIu64
                      " bytes)",
                      field, v, usage);
  *err = steal_pointer (&e);
  return error_wrap (err, "%s", field);
}

static int
cgroup_v1_res_memory (const cgroup *cg, const cgroup_resources *r, bool update,
                      polis_error **err)
{
  const char *ctx = "linux.resources.memory";
  cgroup_res_i64 lim = r->memory.limit, swap = r->memory.swap;
  bool any = lim.set || swap.set || r->memory.reservation.set || r->memory.kernel.set
             || r->memory.kernel_tcp.set || r->memory.swappiness.set
             || r->memory.has_disable_oom || r->memory.has_use_hierarchy;
  if (!any)
    return 0;
  cleanup_free char *dir = cgroup_v1_res_need (cg, "memory", ctx, err);
  if (dir == NULL)
    return -1;

  bool has_memsw = cgroup_has_file (dir, "memory.memsw.limit_in_bytes");
  /* As runc: lifting the memory limit without a word on swap lifts the
     memory+swap limit too, or the old one would cap memory. */
  if (lim.set && lim.v == -1 && !swap.set && has_memsw)
    swap = (cgroup_res_i64) { true, -1 };
  if (swap.set && !has_memsw)
    {
      log_warning ("%s.swap: ignored, the kernel does not account swap "
                   "(swapaccount=0 or no swap support)", ctx);
      swap.set = false;
    }

  /* memory.memsw.limit_in_bytes may never be below memory.limit_in_bytes:
     raising both, the swap limit goes first; lowering, the memory one. */
  bool swap_first = false;
  if (lim.set && swap.set)
    {
      uint64_t cur_memsw = UINT64_MAX;
      cgroup_read_u64 (dir, "memory.memsw.limit_in_bytes", &cur_memsw);
      swap_first = swap.v == -1 || lim.v == -1 || (uint64_t) lim.v > cur_memsw;
    }
  if (swap_first && cgroup_v1_res_memory_swap (dir, swap.v, err) < 0)
    return -1;
  if (lim.set && cgroup_v1_res_memory_limit (dir, lim.v, err) < 0)
    return -1;
  if (swap.set && !swap_first && cgroup_v1_res_memory_swap (dir, swap.v, err) < 0)
    return -1;

  if (r->memory.reservation.set
      && cgroup_v1_res_write_i64 (dir, "memory.soft_limit_in_bytes", r->memory.reservation.v,
                                  "linux.resources.memory.reservation", err)
             < 0)
    return -1;
  /* Kernel memory limits are gone from the kernel (5.16) and runc ignores
     them; TCP buffer limits still exist on v1. */
  if (r->memory.kernel.set)
    log_warning ("%s.kernel: ignored (kernel memory limits are deprecated)", ctx);
  if (r->memory.kernel_tcp.set)
    {
      if (cgroup_has_file (dir, "memory.kmem.tcp.limit_in_bytes"))
        {
          if (cgroup_v1_res_write_i64 (dir, "memory.kmem.tcp.limit_in_bytes",
                                       r->memory.kernel_tcp.v,
                                       "linux.resources.memory.kernelTCP", err)
              < 0)
            return -1;
        }
      else
        log_warning ("%s.kernelTCP: ignored (not supported by this kernel)", ctx);
    }
  if (r->memory.swappiness.set
      && cgroup_v1_res_write_i64 (dir, "memory.swappiness", (int64_t) r->memory.swappiness.v,
                                  "linux.resources.memory.swappiness", err)
             < 0)
    return -1;
  /* disableOOMKiller false is the kernel's default; write it only to
     change a running container back. */
  if (r->memory.has_disable_oom && (r->memory.disable_oom || update)
      && cgroup_v1_res_write (dir, "memory.oom_control", r->memory.disable_oom ? "1" : "0",
                              "linux.resources.memory.disableOOMKiller", err)
             < 0)
    return -1;
  if (r->memory.has_use_hierarchy)
    {
      /* Kernels since 5.x are always hierarchical and refuse "0". */
      cleanup_error polis_error *e = NULL;
      if (cgroup_write (dir, "memory.use_hierarchy", r->memory.use_hierarchy ? "1" : "0", &e)
          < 0)
        log_warning ("%s.useHierarchy: ignored: %s", ctx, e->msg);
    }
  return 0;
}

/* Write PERIOD_FILE then RUNTIME_FILE, or the other way round when the
   kernel refuses the period first (the new period would be below the
   current runtime). */
static int
cgroup_v1_res_period_pair (const char *dir, const char *period_file,
                           const cgroup_res_u64 *period, const char *period_field,
                           const char *runtime_file, const cgroup_res_i64 *runtime,
                           const char *runtime_field, polis_error **err)
{
  bool period_later = false;
  if (period->set)
    {
      cleanup_error polis_error *e = NULL;
      char buf[32];
      snprintf (buf, sizeof buf, "%" PRIu64, period->v);
      if (cgroup_write (dir, period_file, buf, &e) < 0)
        {
          if (e->code != EINVAL || !runtime->set)
            {
              *err = steal_pointer (&e);
              return error_wrap (err, "%s", period_field);
            }
          period_later = true;
        }
    }
  if (runtime->set
      && cgroup_v1_res_write_i64 (dir, runtime_file, runtime->v, runtime_field, err) < 0)
    return -1;
  if (period_later
      && cgroup_v1_res_write_i64 (dir, period_file, (int64_t) period->v, period_field, err)
             < 0)
    return -1;
  return 0;
}

static int
cgroup_v1_res_cpu (const cgroup *cg, const cgroup_resources *r, polis_error **err)
{
  const char *ctx = "linux.resources.cpu";
  bool any = r->cpu.shares.set || r->cpu.period.set || r->cpu.quota.set || r->cpu.burst.set
             || r->cpu.rt_period.set || r->cpu.rt_runtime.set || r->cpu.idle.set;
  if (any)
    {
      cleanup_free char *dir = cgroup_v1_res_need (cg, "cpu", ctx, err);
      if (dir == NULL)
        return -1;
      if (r->cpu.shares.set
          && cgroup_v1_res_write_i64 (dir, "cpu.shares", (int64_t) r->cpu.shares.v,
                                      "linux.resources.cpu.shares", err)
                 < 0)
        return -1;
      if (cgroup_v1_res_period_pair (dir, "cpu.cfs_period_us", &r->cpu.period,
                                     "linux.resources.cpu.period", "cpu.cfs_quota_us",
                                     &r->cpu.quota, "linux.resources.cpu.quota", err)
          < 0)
        return -1;
      if (r->cpu.burst.set)
        {
          if (cgroup_has_file (dir, "cpu.cfs_burst_us"))
            {
              if (cgroup_v1_res_write_i64 (dir, "cpu.cfs_burst_us", (int64_t) r->cpu.burst.v,
                                           "linux.resources.cpu.burst", err)
                  < 0)
                return -1;
            }
          else if (r->cpu.burst.v != 0)
            return error_set (err, ERROR_UNAVAILABLE, ENOTSUP,
                              "%s.burst: not supported by this kernel", ctx);
        }
      if ((r->cpu.rt_period.set || r->cpu.rt_runtime.set)
          && !cgroup_has_file (dir, "cpu.rt_runtime_us"))
        return error_set (err, ERROR_UNAVAILABLE, ENOTSUP,
                          "%s.realtimeRuntime: the kernel has no real-time group scheduling",
                          ctx);
      if (cgroup_v1_res_period_pair (dir, "cpu.rt_period_us", &r->cpu.rt_period,
                                     "linux.resources.cpu.realtimePeriod", "cpu.rt_runtime_us",
                                     &r->cpu.rt_runtime, "linux.resources.cpu.realtimeRuntime",
                                     err)
          < 0)
        return -1;
      if (r->cpu.idle.set)
        {
          if (cgroup_has_file (dir, "cpu.idle"))
            {
              if (cgroup_v1_res_write_i64 (dir, "cpu.idle", r->cpu.idle.v,
                                           "linux.resources.cpu.idle", err)
                  < 0)
                return -1;
            }
          else if (r->cpu.idle.v != 0)
            return error_set (err, ERROR_UNAVAILABLE, ENOTSUP,
                              "%s.idle: not supported by this kernel", ctx);
        }
    }

  bool cpus = r->cpu.cpus && *r->cpu.cpus, mems = r->cpu.mems && *r->cpu.mems;
  if (cpus || mems)
    {
      cleanup_free char *dir = cgroup_v1_res_need (cg, "cpuset", ctx, err);
      if (dir == NULL)
        return -1;
      if (cpus
          && cgroup_v1_res_write (dir, "cpuset.cpus", r->cpu.cpus, "linux.resources.cpu.cpus",
                                  err)
                 < 0)
        return -1;
      if (mems
          && cgroup_v1_res_write (dir, "cpuset.mems", r->cpu.mems, "linux.resources.cpu.mems",
                                  err)
                 < 0)
        return -1;
    }
  return 0;
}

static int
cgroup_v1_res_pids (const cgroup *cg, const cgroup_resources *r, polis_error **err)
{
  if (!r->pids_limit.set)
    return 0;
  const char *field = "linux.resources.pids.limit";
  cleanup_free char *dir = cgroup_v1_res_need (cg, "pids", field, err);
  if (dir == NULL)
    return -1;
  if (r->pids_limit.v < 0)
    return cgroup_v1_res_write (dir, "pids.max", "max", field, err);
  return cgroup_v1_res_write_i64 (dir, "pids.max", r->pids_limit.v, field, err);
}

/* Write to FILE, or to ALT (the BFQ scheduler's name for it, may be NULL)
   when the kernel has no FILE.  Neither is an error naming FIELD. */
static int
cgroup_v1_res_write_alt (const char *dir, const char *file, const char *alt,
                         const char *value, const char *field, polis_error **err)
{
  const char *use = file;
  if (!cgroup_has_file (dir, file))
    use = alt && cgroup_has_file (dir, alt) ? alt : NULL;
  if (use == NULL)
    return error_set (err, ERROR_UNAVAILABLE, ENOTSUP,
                      "%s: not supported by this kernel (no %s%s%s)", field, file,
                      alt ? " or " : "", alt ? alt : "");
  return cgroup_v1_res_write (dir, use, value, field, err);
}

static int
cgroup_v1_res_blkio (const cgroup *cg, const cgroup_resources *r, polis_error **err)
{
  const char *ctx = "linux.resources.blockIO";
  bool any = r->blkio.weight.set || r->blkio.leaf_weight.set || r->blkio.n_weight_device;
  for (int k = 0; k < CGROUP_THROTTLE_N; k++)
    any = any || r->blkio.n_throttle[k];
  if (!any)
    return 0;
  cleanup_free char *dir = cgroup_v1_res_need (cg, "blkio", ctx, err);
  if (dir == NULL)
    return -1;
  char buf[64], field[128];

  if (r->blkio.weight.set)
    {
      snprintf (buf, sizeof buf, "%" PRIu64, r->blkio.weight.v);
      if (cgroup_v1_res_write_alt (dir, "blkio.weight", "blkio.bfq.weight", buf,
                                   "linux.resources.blockIO.weight", err)
          < 0)
        return -1;
    }
  if (r->blkio.leaf_weight.set)
    {
      snprintf (buf, sizeof buf, "%" PRIu64, r->blkio.leaf_weight.v);
      if (cgroup_v1_res_write_alt (dir, "blkio.leaf_weight", NULL, buf,
                                   "linux.resources.blockIO.leafWeight", err)
          < 0)
        return -1;
    }
  for (size_t i = 0; i < r->blkio.n_weight_device; i++)
    {
      const cgroup_res_blkdev *d = &r->blkio.weight_device[i];
      snprintf (field, sizeof field, "%s.weightDevice[%zu]", ctx, i);
      if (d->weight.set)
        {
          snprintf (buf, sizeof buf, "%" PRId64 ":%" PRId64 " %" PRIu64, d->major, d->minor,
                    d->weight.v);
          if (cgroup_v1_res_write_alt (dir, "blkio.weight_device", "blkio.bfq.weight_device",
                                       buf, field, err)
              < 0)
            return -1;
        }
      if (d->leaf_weight.set)
        {
          snprintf (buf, sizeof buf, "%" PRId64 ":%" PRId64 " %" PRIu64, d->major, d->minor,
                    d->leaf_weight.v);
          if (cgroup_v1_res_write_alt (dir, "blkio.leaf_weight_device", NULL, buf, field, err)
              < 0)
            return -1;
        }
    }
  for (int k = 0; k < CGROUP_THROTTLE_N; k++)
    for (size_t i = 0; i < r->blkio.n_throttle[k]; i++)
      {
        const cgroup_res_blkdev *d = &r->blkio.throttle[k][i];
        snprintf (field, sizeof field, "%s.%s[%zu]", ctx,
                  cgroup_resources_throttle_field ((cgroup_throttle_kind) k), i);
        snprintf (buf, sizeof buf, "%" PRId64 ":%" PRId64 " %" PRIu64, d->major, d->minor,
                  d->rate);
        if (cgroup_v1_res_write (dir, cgroup_resources_throttle_v1_file ((cgroup_throttle_kind) k),
                                 buf, field, err)
            < 0)
          return -1;
      }
  return 0;
}

static int
cgroup_v1_res_hugetlb (const cgroup *cg, const cgroup_resources *r, polis_error **err)
{
  if (r->n_hugepages == 0)
    return 0;
  cleanup_free char *dir = cgroup_v1_res_need (cg, "hugetlb", "linux.resources.hugepageLimits",
                                               err);
  if (dir == NULL)
    return -1;
  for (size_t i = 0; i < r->n_hugepages; i++)
    {
      char field[96], file[96], rsvd[96];
      snprintf (field, sizeof field, "linux.resources.hugepageLimits[%zu]", i);
      snprintf (file, sizeof file, "hugetlb.%s.limit_in_bytes", r->hugepages[i].page_size);
      snprintf (rsvd, sizeof rsvd, "hugetlb.%s.rsvd.limit_in_bytes", r->hugepages[i].page_size);
      if (!cgroup_has_file (dir, file))
        return error_set (err, ERROR_INVALID, EINVAL,
                          "%s.pageSize: this host has no %s huge pages", field,
                          r->hugepages[i].page_size);
      /* The reservation limit too where the kernel has one: it fails
         mmap() instead of killing with SIGBUS at fault time. */
      if (cgroup_has_file (dir, rsvd)
          && cgroup_v1_res_write_i64 (dir, rsvd, (int64_t) r->hugepages[i].limit, field, err) < 0)
        return -1;
      if (cgroup_v1_res_write_i64 (dir, file, (int64_t) r->hugepages[i].limit, field, err) < 0)
        return -1;
    }
  return 0;
}

static int
cgroup_v1_res_network (const cgroup *cg, const cgroup_resources *r, polis_error **err)
{
  if (r->network.class_id.set)
    {
      const char *field = "linux.resources.network.classID";
      cleanup_free char *dir = cgroup_v1_res_need (cg, "net_cls", field, err);
      if (dir == NULL
          || cgroup_v1_res_write_i64 (dir, "net_cls.classid", (int64_t) r->network.class_id.v,
                                      field, err)
                 < 0)
        return -1;
    }
  if (r->network.n_priorities)
    {
      cleanup_free char *dir = cgroup_v1_res_need (cg, "net_prio",
                                                   "linux.resources.network.priorities", err);
      if (dir == NULL)
        return -1;
      for (size_t i = 0; i < r->network.n_priorities; i++)
        {
          char field[96], buf[128];
          snprintf (field, sizeof field, "linux.resources.network.priorities[%zu]", i);
          snprintf (buf, sizeof buf, "%s %" PRIu32, r->network.priorities[i].name,
                    r->network.priorities[i].priority);
          if (cgroup_v1_res_write (dir, "net_prio.ifpriomap", buf, field, err) < 0)
            return -1;
        }
    }
  return 0;
}

static int
cgroup_v1_res_rdma (const cgroup *cg, const cgroup_resources *r, polis_error **err)
{
  if (r->n_rdma == 0)
    return 0;
  cleanup_free char *dir = cgroup_v1_res_need (cg, "rdma", "linux.resources.rdma", err);
  if (dir == NULL)
    return -1;
  for (size_t i = 0; i < r->n_rdma; i++)
    {
      char field[128], buf[160];
      snprintf (field, sizeof field, "linux.resources.rdma.%.64s", r->rdma[i].device);
      cgroup_resources_rdma_line (&r->rdma[i], buf, sizeof buf);
      if (cgroup_v1_res_write (dir, "rdma.max", buf, field, err) < 0)
        return -1;
    }
  return 0;
}

static int
cgroup_v1_res_devices (const cgroup *cg, const cgroup_resources *r, polis_error **err)
{
  if (r->devices == NULL)
    return 0;
  cleanup_free char *dir = cgroup_v1_res_dir (cg, "devices");
  if (dir == NULL)
    {
      log_warning ("linux.resources.devices: the devices cgroup controller is not mounted: "
                   "device access is not restricted");
      return 0;
    }
  cleanup_free char *list = cgroup_read (dir, "devices.list", err);
  if (list == NULL)
    return error_wrap (err, "linux.resources.devices");
  cleanup_device_rules cgroup_device_rules *cur = cgroup_devices_from_list (list, err);
  if (cur == NULL)
    return error_wrap (err, "linux.resources.devices");
  cleanup_free cgroup_device_write *w = NULL;
  size_t n = cgroup_devices_transition (cur, r->devices, &w);
  for (size_t i = 0; i < n; i++)
    {
      cleanup_error polis_error *e = NULL;
      if (cgroup_write (dir, w[i].allow ? "devices.allow" : "devices.deny", w[i].line, &e) == 0)
        continue;
      /* The parent cgroup does not allow it (nested in another container,
         say): a default rule must not fail the container. */
      if (e->code == EPERM && w[i].default_rule)
        {
          log_warning ("linux.resources.devices: default rule `%s` not allowed by the "
                       "parent cgroup, skipped", w[i].line);
          continue;
        }
      *err = steal_pointer (&e);
      return error_wrap (err, "linux.resources.devices: `%s`", w[i].line);
    }
  return 0;
}

int
cgroup_v1_resources_apply (const cgroup *cg, const json_t *resources,
                           bool update, polis_error **err)
{
  cleanup_resources cgroup_resources *r = cgroup_resources_parse (resources, update, err);
  if (r == NULL)
    return -1;
  if (r->n_unified)
    return error_set (err, ERROR_INVALID, ENOTSUP,
                      "linux.resources.unified: needs cgroup v2, and this host uses cgroup v1");
  if (cgroup_v1_res_cpu (cg, r, err) < 0 || cgroup_v1_res_devices (cg, r, err) < 0
      || cgroup_v1_res_memory (cg, r, update, err) < 0 || cgroup_v1_res_pids (cg, r, err) < 0
      || cgroup_v1_res_blkio (cg, r, err) < 0 || cgroup_v1_res_hugetlb (cg, r, err) < 0
      || cgroup_v1_res_network (cg, r, err) < 0 || cgroup_v1_res_rdma (cg, r, err) < 0)
    return -1;
  return 0;
}

/* Statistics, in the shape of runc's types.Stats (events --stats). */

/* runc's MemoryEntry from the PREFIX.{limit_in_bytes,usage_in_bytes,
   max_usage_in_bytes,failcnt} files. */
static json_t *
cgroup_v1_stats_memory_entry (const char *dir, const char *prefix)
{
  json_t *e = json_object ();
  const char *names[] = { "limit_in_bytes", "usage_in_bytes", "max_usage_in_bytes", "failcnt" };
  uint64_t v[4] = { 0, 0, 0, 0 };
  for (int i = 0; dir && i < 4; i++)
    {
      char f[64];
      snprintf (f, sizeof f, "%s.%s", prefix, names[i]);
      cgroup_read_u64 (dir, f, &v[i]);
    }
  json_object_set_new (e, "limit", json_integer (cgroup_stats_bytes (v[0])));
  cgroup_stats_set_nonzero (e, "usage", v[1]);
  cgroup_stats_set_nonzero (e, "max", v[2]);
  json_object_set_new (e, "failcnt", json_integer (cgroup_stats_bytes (v[3])));
  return e;
}

static json_t *
cgroup_v1_stats_memory (const cgroup *cg)
{
  cleanup_free char *dir = cgroup_v1_res_dir (cg, "memory");
  json_t *m = json_object ();
  json_object_set_new (m, "usage", cgroup_v1_stats_memory_entry (dir, "memory"));
  json_object_set_new (m, "swap", cgroup_v1_stats_memory_entry (dir, "memory.memsw"));
  json_object_set_new (m, "kernel", cgroup_v1_stats_memory_entry (dir, "memory.kmem"));
  json_object_set_new (m, "kernelTCP", cgroup_v1_stats_memory_entry (dir, "memory.kmem.tcp"));
  if (dir)
    {
      json_t *raw = cgroup_read_keyed (dir, "memory.stat");
      json_t *cache = json_object_get (raw, "cache");
      if (cache && json_integer_value (cache) != 0)
        json_object_set (m, "cache", cache);
      if (json_object_size (raw))
        json_object_set_new (m, "raw", raw);
      else
        json_decref (raw);
    }
  return m;
}

static json_t *
cgroup_v1_stats_cpu (const cgroup *cg)
{
  cleanup_free char *acct = cgroup_v1_res_dir (cg, "cpuacct");
  cleanup_free char *cpu = cgroup_v1_res_dir (cg, "cpu");
  json_t *usage = json_object (), *thr = json_object ();
  uint64_t total = 0, user = 0, system = 0;
  if (acct)
    {
      cgroup_read_u64 (acct, "cpuacct.usage", &total);
      cleanup_error polis_error *e = NULL;
      cleanup_free char *percpu = cgroup_read (acct, "cpuacct.usage_percpu", &e);
      json_t *arr = json_array ();
      for (char *p = percpu; p && *p;)
        {
          char *end;
          unsigned long long v = strtoull (p, &end, 10);
          if (end == p)
            break;
          json_array_append_new (arr, json_integer (cgroup_stats_bytes (v)));
          p = end;
        }
      cgroup_stats_set_nonzero (usage, "total", total);
      if (json_array_size (arr))
        json_object_set_new (usage, "percpu", arr);
      else
        json_decref (arr);
      /* cpuacct.stat counts USER_HZ ticks; runc reports nanoseconds. */
      cleanup_json json_t *st = cgroup_read_keyed (acct, "cpuacct.stat");
      long hz = sysconf (_SC_CLK_TCK);
      uint64_t ns_per_tick = hz > 0 ? 1000000000u / (uint64_t) hz : 10000000u;
      user = (uint64_t) json_integer_value (json_object_get (st, "user")) * ns_per_tick;
      system = (uint64_t) json_integer_value (json_object_get (st, "system")) * ns_per_tick;
    }
  json_object_set_new (usage, "kernel", json_integer (cgroup_stats_bytes (system)));
  json_object_set_new (usage, "user", json_integer (cgroup_stats_bytes (user)));
  if (cpu)
    {
      cleanup_json json_t *st = cgroup_read_keyed (cpu, "cpu.stat");
      cgroup_stats_set_nonzero (thr, "periods",
                                (uint64_t) json_integer_value (json_object_get (st, "nr_periods")));
      cgroup_stats_set_nonzero (thr, "throttledPeriods",
                                (uint64_t) json_integer_value (json_object_get (st, "nr_throttled")));
      cgroup_stats_set_nonzero (thr, "throttledTime",
                                (uint64_t) json_integer_value (json_object_get (st, "throttled_time")));
    }
  return json_pack ("{s:o, s:o}", "usage", usage, "throttling", thr);
}

static json_t *
cgroup_v1_stats_pids (const cgroup *cg)
{
  cleanup_free char *dir = cgroup_v1_res_dir (cg, "pids");
  json_t *p = json_object ();
  uint64_t cur = 0, max = 0;
  if (dir)
    {
      cgroup_read_u64 (dir, "pids.current", &cur);
      cgroup_read_u64 (dir, "pids.max", &max);
    }
  cgroup_stats_set_nonzero (p, "current", cur);
  cgroup_stats_set_nonzero (p, "limit", max == UINT64_MAX ? 0 : max);
  return p;
}

/* "8:0 Read 4096" lines into runc's BlkioEntry list. */
static json_t *
cgroup_v1_stats_blkio_list (const char *dir, const char *file)
{
  json_t *arr = json_array ();
  cleanup_error polis_error *e = NULL;
  cleanup_free char *buf = cgroup_read (dir, file, &e);
  for (char *line = buf; line && *line;)
    {
      char *eol = strchrnul (line, '\n');
      char saved = *eol;
      unsigned long long major = 0, minor = 0, value = 0;
      char op[16];
      *eol = '\0';
      if (sscanf (line, "%llu:%llu %15s %llu", &major, &minor, op, &value) == 4)
        {
          json_t *ent = json_object ();
          cgroup_stats_set_nonzero (ent, "major", major);
          cgroup_stats_set_nonzero (ent, "minor", minor);
          json_object_set_new (ent, "op", json_string (op));
          cgroup_stats_set_nonzero (ent, "value", value);
          json_array_append_new (arr, ent);
        }
      *eol = saved;
      line = saved ? eol + 1 : NULL;
    }
  return arr;
}

static json_t *
cgroup_v1_stats_blkio (const cgroup *cg)
{
  cleanup_free char *dir = cgroup_v1_res_dir (cg, "blkio");
  json_t *b = json_object ();
  if (dir == NULL)
    return b;
  /* As runc: the CFQ files when the kernel has them, else BFQ's, else
     the throttling layer's (which sees every I/O). */
  const char *sets[][2] = {
    { "blkio.io_service_bytes_recursive", "blkio.io_serviced_recursive" },
    { "blkio.bfq.io_service_bytes_recursive", "blkio.bfq.io_serviced_recursive" },
    { "blkio.throttle.io_service_bytes_recursive", "blkio.throttle.io_serviced_recursive" },
  };
  for (size_t i = 0; i < sizeof sets / sizeof *sets; i++)
    {
      json_t *bytes = cgroup_v1_stats_blkio_list (dir, sets[i][0]);
      json_t *ios = cgroup_v1_stats_blkio_list (dir, sets[i][1]);
      if (json_array_size (bytes) || json_array_size (ios) || i + 1 == sizeof sets / sizeof *sets)
        {
          if (json_array_size (bytes))
            json_object_set (b, "ioServiceBytesRecursive", bytes);
          if (json_array_size (ios))
            json_object_set (b, "ioServicedRecursive", ios);
          json_decref (bytes);
          json_decref (ios);
          break;
        }
      json_decref (bytes);
      json_decref (ios);
    }
  return b;
}

static json_t *
cgroup_v1_stats_hugetlb (const cgroup *cg)
{
  cleanup_free char *dir = cgroup_v1_res_dir (cg, "hugetlb");
  json_t *h = json_object ();
  cleanup_closedir DIR *d = dir ? opendir (dir) : NULL;
  struct dirent *de;
  while (d && (de = readdir (d)) != NULL)
    {
      /* hugetlb.<size>.limit_in_bytes, not the .rsvd. ones */
      const char *name = de->d_name, *suffix = ".limit_in_bytes";
      size_t len = strlen (name), sl = strlen (suffix);
      if (strncmp (name, "hugetlb.", 8) != 0 || len <= 8 + sl
          || strcmp (name + len - sl, suffix) != 0 || strstr (name, ".rsvd."))
        continue;
      cleanup_free char *size = xstrndup (name + 8, len - 8 - sl);
      char f[96];
      uint64_t usage = 0, max = 0, failcnt = 0;
      snprintf (f, sizeof f, "hugetlb.%s.usage_in_bytes", size);
      cgroup_read_u64 (dir, f, &usage);
      snprintf (f, sizeof f, "hugetlb.%s.max_usage_in_bytes", size);
      cgroup_read_u64 (dir, f, &max);
      snprintf (f, sizeof f, "hugetlb.%s.failcnt", size);
      cgroup_read_u64 (dir, f, &failcnt);
      json_t *e = json_object ();
      cgroup_stats_set_nonzero (e, "usage", usage);
      cgroup_stats_set_nonzero (e, "max", max);
      json_object_set_new (e, "failcnt", json_integer (cgroup_stats_bytes (failcnt)));
      json_object_set_new (h, size, e);
    }
  return h;
}

json_t *
cgroup_v1_resources_stats (const cgroup *cg, polis_error **err)
{
  (void) err;
  return json_pack ("{s:o, s:o, s:o, s:o, s:o}", "cpu", cgroup_v1_stats_cpu (cg), "memory",
                    cgroup_v1_stats_memory (cg), "pids", cgroup_v1_stats_pids (cg), "blkio",
                    cgroup_v1_stats_blkio (cg), "hugetlb", cgroup_v1_stats_hugetlb (cg));
}
