/* cgroup_v2_resources.c - linux.resources on the unified hierarchy.
 *
 * The spec's values are v1's; they are converted as runc converts them
 * (cpu shares to cpu.weight, memory+swap to memory.swap.max, blkio weight
 * to io.weight), and device rules become an eBPF program (cgroup_bpf.h).
 * A value v2 has no place for (swappiness, realtime, net_cls...) is
 * dropped with a warning, as runc drops it (crun refuses it): engines send
 * them to every host.  A file whose controller is not enabled for the
 * cgroup is an error that says so.
 */
#include "runtime/cgroup_v2_resources.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/log.h"
#include "base/pjson.h"
#include "base/xalloc.h"
#include "runtime/cgroup_bpf.h"
#include "runtime/cgroup_internal.h"
#include "runtime/cgroup_resources.h"

/* Whether CONTROLLER is listed in DIR's cgroup.controllers. */
static bool
cgroup_v2_res_has_controller (const char *dir, const char *controller)
{
  cleanup_error polis_error *e = NULL;
  cleanup_free char *list = cgroup_read (dir, "cgroup.controllers", &e);
  char *save = NULL;
  for (char *c = list ? strtok_r (list, " \n", &save) : NULL; c; c = strtok_r (NULL, " \n", &save))
    if (strcmp (c, controller) == 0)
      return true;
  return false;
}

/* The error for FILE missing from DIR: its controller is not enabled, or
   the kernel does not have it. */
static int
cgroup_v2_res_missing (const char *dir, const char *file, const char *field,
                       polis_error **err)
{
  const char *dot = strchr (file, '.');
  cleanup_free char *ctrl = xstrndup (file, dot ? (size_t) (dot - file) : strlen (file));
  if (strcmp (ctrl, "cgroup") != 0 && !cgroup_v2_res_has_controller (dir, ctrl))
    return error_set (err, ERROR_UNAVAILABLE, ENOTSUP,
                      "%s: the %s controller is not enabled for cgroup %s", field, ctrl, dir);
  return error_set (err, ERROR_UNAVAILABLE, ENOENT,
                    "%s: the cgroup has no %s (not supported by this kernel)", field, file);
}

static int
cgroup_v2_res_write (const char *dir, const char *file, const char *value,
                     const char *field, polis_error **err)
{
  cleanup_error polis_error *e = NULL;
  if (cgroup_write (dir, file, value, &e) == 0)
    return 0;
  if (e->code == ENOENT)
    return cgroup_v2_res_missing (dir, file, field, err);
  *err = steal_pointer (&e);
  return error_wrap (err, "%s", field);
}

/* A limit: -1 is "max". */
static int
cgroup_v2_res_write_limit (const char *dir, const char *file, int64_t v,
                           const char *field, polis_error **err)
{
  char buf[32] = "max";
  if (v >= 0)
    snprintf (buf, sizeof buf, "%" PRId64, v);
  return cgroup_v2_res_write (dir, file, buf, field, err);
}

/* runc's checkBeforeUpdate: refuse a limit at or below what is in use
   (v2 would OOM-kill instead of refusing, as v1 does). */
static int
cgroup_v2_res_check_usage (const char *dir, const cgroup_resources *r, polis_error **err)
{
  uint64_t cur = 0, swap_cur = 0;
  if (!cgroup_read_u64 (dir, "memory.current", &cur))
    return 0;
  cgroup_read_u64 (dir, "memory.swap.current", &swap_cur);
  if (r->memory.limit.set && r->memory.limit.v > 0 && cur >= (uint64_t) r->memory.limit.v)
    return error_set (err, ERROR_INVALID, EBUSY,
                      "linux.resources.memory.limit: %" PRId64
                      " is not above the current memory usage (%" PRIu64 " bytes)",
                      r->memory.limit.v, cur);
  if (r->memory.swap.set && r->memory.swap.v > 0
      && cur + swap_cur >= (uint64_t) r->memory.swap.v)
    return error_set (err, ERROR_INVALID, EBUSY,
                      "linux.resources.memory.swap: %" PRId64
                      " is not above the current memory+swap usage (%" PRIu64 " bytes)",
                      r->memory.swap.v, cur + swap_cur);
  return 0;
}

static int
cgroup_v2_res_memory (const char *dir, const cgroup_resources *r, polis_error **err)
{
  const char *ctx = "linux.resources.memory";
  if (r->memory.check_before_update && cgroup_v2_res_check_usage (dir, r, err) < 0)
    return -1;

  if (r->memory.swap.set || (r->memory.limit.set && r->memory.limit.v == -1))
    {
      int64_t limit = r->memory.limit.set ? r->memory.limit.v : -1, swap = -1;
      if (!r->memory.limit.set)
        {
          /* An update of the swap alone: memory.swap.max is what comes on
             top of the memory limit the cgroup has now. */
          uint64_t cur = UINT64_MAX;
          cgroup_read_u64 (dir, "memory.max", &cur);
          limit = cur == UINT64_MAX ? -1 : (int64_t) cur;
        }
      if (r->memory.swap.set && cgroup_resources_v2_swap (r->memory.swap.v, limit, &swap, err) < 0)
        return -1;
      if (cgroup_has_file (dir, "memory.swap.max"))
        {
          if (cgroup_v2_res_write_limit (dir, "memory.swap.max", swap, "linux.resources.memory.swap",
                                         err)
              < 0)
            return -1;
        }
      else if (r->memory.swap.set)
        log_warning ("%s.swap: ignored, the kernel does not account swap", ctx);
    }
  if (r->memory.limit.set
      && cgroup_v2_res_write_limit (dir, "memory.max", r->memory.limit.v,
                                    "linux.resources.memory.limit", err)
             < 0)
    return -1;
  /* memory.low protects what is below it: "no reservation" (-1, v1's
     unlimited soft limit) is no protection, 0, not "max" as runc writes. */
  if (r->memory.reservation.set
      && cgroup_v2_res_write_limit (dir, "memory.low",
                                    r->memory.reservation.v < 0 ? 0 : r->memory.reservation.v,
                                    "linux.resources.memory.reservation", err)
             < 0)
    return -1;

  if (r->memory.kernel.set)
    log_warning ("%s.kernel: ignored (kernel memory limits are deprecated)", ctx);
  if (r->memory.kernel_tcp.set)
    log_warning ("%s.kernelTCP: ignored on cgroup v2", ctx);
  if (r->memory.swappiness.set)
    log_warning ("%s.swappiness: ignored on cgroup v2", ctx);
  /* v2 cannot switch the OOM killer off (memory.oom.group is something
     else: kill the whole cgroup); runc ignores the flag, crun refuses it. */
  if (r->memory.has_disable_oom && r->memory.disable_oom)
    log_warning ("%s.disableOOMKiller: ignored, cgroup v2 cannot disable the OOM killer", ctx);
  if (r->memory.has_use_hierarchy && !r->memory.use_hierarchy)
    log_warning ("%s.useHierarchy: ignored, cgroup v2 is always hierarchical", ctx);
  return 0;
}

static int
cgroup_v2_res_cpu (const char *dir, const cgroup_resources *r, polis_error **err)
{
  const char *ctx = "linux.resources.cpu";
  char buf[64];
  /* cpu.idle came with 5.15; 0 is what an older kernel does anyway. */
  if (r->cpu.idle.set && (r->cpu.idle.v != 0 || cgroup_has_file (dir, "cpu.idle"))
      && cgroup_v2_res_write_limit (dir, "cpu.idle", r->cpu.idle.v, "linux.resources.cpu.idle",
                                    err)
             < 0)
    return -1;
  if (r->cpu.shares.set)
    {
      snprintf (buf, sizeof buf, "%" PRIu64, cgroup_resources_cpu_weight (r->cpu.shares.v));
      if (cgroup_v2_res_write (dir, "cpu.weight", buf, "linux.resources.cpu.shares", err) < 0)
        return -1;
    }
  if (r->cpu.quota.set || r->cpu.period.set)
    {
      /* cpu.max is "QUOTA PERIOD"; a field not given keeps its value. */
      char quota[24] = "max";
      uint64_t period = 100000;
      cleanup_error polis_error *e = NULL;
      cleanup_free char *cur = cgroup_read (dir, "cpu.max", &e);
      if (cur)
        {
          char q[24];
          unsigned long long p = 0;
          if (sscanf (cur, "%23s %llu", q, &p) == 2)
            {
              if (!r->cpu.quota.set)
                snprintf (quota, sizeof quota, "%s", q);
              period = p;
            }
        }
      if (r->cpu.quota.set && r->cpu.quota.v > 0)
        snprintf (quota, sizeof quota, "%" PRId64, r->cpu.quota.v);
      if (r->cpu.period.set)
        period = r->cpu.period.v;
      snprintf (buf, sizeof buf, "%s %" PRIu64, quota, period);
      if (cgroup_v2_res_write (dir, "cpu.max", buf,
                               r->cpu.quota.set ? "linux.resources.cpu.quota"
                                                : "linux.resources.cpu.period",
                               err)
          < 0)
        return -1;
    }
  if (r->cpu.burst.set)
    {
      snprintf (buf, sizeof buf, "%" PRIu64, r->cpu.burst.v);
      if ((r->cpu.burst.v != 0 || cgroup_has_file (dir, "cpu.max.burst"))
          && cgroup_v2_res_write (dir, "cpu.max.burst", buf, "linux.resources.cpu.burst", err) < 0)
        return -1;
    }
  if ((r->cpu.rt_period.set || r->cpu.rt_runtime.set) && !cgroup_has_file (dir, "cpu.rt_runtime_us"))
    log_warning ("%s.realtimeRuntime: ignored, cgroup v2 has no real-time group scheduling", ctx);
  else
    {
      if (r->cpu.rt_period.set)
        {
          snprintf (buf, sizeof buf, "%" PRIu64, r->cpu.rt_period.v);
          if (cgroup_v2_res_write (dir, "cpu.rt_period_us", buf,
                                   "linux.resources.cpu.realtimePeriod", err)
              < 0)
            return -1;
        }
      if (r->cpu.rt_runtime.set)
        {
          snprintf (buf, sizeof buf, "%" PRId64, r->cpu.rt_runtime.v);
          if (cgroup_v2_res_write (dir, "cpu.rt_runtime_us", buf,
                                   "linux.resources.cpu.realtimeRuntime", err)
              < 0)
            return -1;
        }
    }
  if (r->cpu.cpus && *r->cpu.cpus
      && cgroup_v2_res_write (dir, "cpuset.cpus", r->cpu.cpus, "linux.resources.cpu.cpus", err) < 0)
    return -1;
  if (r->cpu.mems && *r->cpu.mems
      && cgroup_v2_res_write (dir, "cpuset.mems", r->cpu.mems, "linux.resources.cpu.mems", err) < 0)
    return -1;
  return 0;
}

static int
cgroup_v2_res_pids (const char *dir, const cgroup_resources *r, polis_error **err)
{
  if (!r->pids_limit.set)
    return 0;
  return cgroup_v2_res_write_limit (dir, "pids.max", r->pids_limit.v, "linux.resources.pids.limit",
                                    err);
}

static int
cgroup_v2_res_io (const char *dir, const cgroup_resources *r, polis_error **err)
{
  const char *ctx = "linux.resources.blockIO";
  char buf[96], field[128];
  /* The BFQ scheduler's weight takes blkio's range as it is; io.weight
     (the io controller's own) needs runc's conversion. */
  bool bfq = cgroup_has_file (dir, "io.bfq.weight");
  const char *wfile = bfq ? "io.bfq.weight" : "io.weight";

  if (r->blkio.weight.set)
    {
      uint64_t w = bfq ? r->blkio.weight.v : cgroup_resources_io_weight (r->blkio.weight.v);
      snprintf (buf, sizeof buf, "%" PRIu64, w);
      if (cgroup_v2_res_write (dir, wfile, buf, "linux.resources.blockIO.weight", err) < 0)
        return -1;
    }
  if (r->blkio.leaf_weight.set)
    log_warning ("%s.leafWeight: ignored on cgroup v2", ctx);
  for (size_t i = 0; i < r->blkio.n_weight_device; i++)
    {
      const cgroup_res_blkdev *d = &r->blkio.weight_device[i];
      snprintf (field, sizeof field, "%s.weightDevice[%zu]", ctx, i);
      if (d->leaf_weight.set)
        log_warning ("%s.leafWeight: ignored on cgroup v2", field);
      if (!d->weight.set)
        continue;
      uint64_t w = bfq ? d->weight.v : cgroup_resources_io_weight (d->weight.v);
      snprintf (buf, sizeof buf, "%" PRId64 ":%" PRId64 " %" PRIu64, d->major, d->minor, w);
      if (cgroup_v2_res_write (dir, wfile, buf, field, err) < 0)
        return -1;
    }
  for (int k = 0; k < CGROUP_THROTTLE_N; k++)
    for (size_t i = 0; i < r->blkio.n_throttle[k]; i++)
      {
        const cgroup_res_blkdev *d = &r->blkio.throttle[k][i];
        char rate[24] = "max"; /* 0 removes the limit, as on v1 */
        if (d->rate)
          snprintf (rate, sizeof rate, "%" PRIu64, d->rate);
        snprintf (field, sizeof field, "%s.%s[%zu]", ctx,
                  cgroup_resources_throttle_field ((cgroup_throttle_kind) k), i);
        snprintf (buf, sizeof buf, "%" PRId64 ":%" PRId64 " %s=%s", d->major, d->minor,
                  cgroup_resources_throttle_v2_key ((cgroup_throttle_kind) k), rate);
        if (cgroup_v2_res_write (dir, "io.max", buf, field, err) < 0)
          return -1;
      }
  return 0;
}

static int
cgroup_v2_res_hugetlb (const char *dir, const cgroup_resources *r, polis_error **err)
{
  for (size_t i = 0; i < r->n_hugepages; i++)
    {
      char field[96], file[96], rsvd[96], buf[32];
      const char *size = r->hugepages[i].page_size;
      snprintf (field, sizeof field, "linux.resources.hugepageLimits[%zu]", i);
      snprintf (file, sizeof file, "hugetlb.%s.max", size);
      snprintf (rsvd, sizeof rsvd, "hugetlb.%s.rsvd.max", size);
      snprintf (buf, sizeof buf, "%" PRIu64, r->hugepages[i].limit);
      if (!cgroup_has_file (dir, file))
        {
          if (!cgroup_v2_res_has_controller (dir, "hugetlb"))
            return cgroup_v2_res_missing (dir, file, field, err);
          return error_set (err, ERROR_INVALID, EINVAL,
                            "%s.pageSize: this host has no %s huge pages", field, size);
        }
      /* The reservation limit too where the kernel has one: it fails
         mmap() instead of killing with SIGBUS at fault time. */
      if (cgroup_has_file (dir, rsvd) && cgroup_v2_res_write (dir, rsvd, buf, field, err) < 0)
        return -1;
      if (cgroup_v2_res_write (dir, file, buf, field, err) < 0)
        return -1;
    }
  return 0;
}

static int
cgroup_v2_res_rdma (const char *dir, const cgroup_resources *r, polis_error **err)
{
  for (size_t i = 0; i < r->n_rdma; i++)
    {
      char field[128], buf[160];
      snprintf (field, sizeof field, "linux.resources.rdma.%.64s", r->rdma[i].device);
      cgroup_resources_rdma_line (&r->rdma[i], buf, sizeof buf);
      if (cgroup_v2_res_write (dir, "rdma.max", buf, field, err) < 0)
        return -1;
    }
  return 0;
}

static int
cgroup_v2_res_devices (const char *dir, const cgroup_resources *r, polis_error **err)
{
  if (r->devices == NULL)
    return 0;
  cleanup_close int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return error_sys (err, "linux.resources.devices: open cgroup `%s`", dir);
  if (cgroup_bpf_set_devices (fd, r->devices, err) < 0)
    return error_wrap (err, "linux.resources.devices");
  return 0;
}

/* The unified map, written last so that it can override the rest.  A
   value of several lines (io.max for two devices) is written a line at a
   time: most cgroup files take one entry per write. */
static int
cgroup_v2_res_unified (const char *dir, const cgroup_resources *r, polis_error **err)
{
  for (size_t i = 0; i < r->n_unified; i++)
    {
      char field[128];
      const char *key = r->unified[i].key;
      snprintf (field, sizeof field, "linux.resources.unified.%.64s", key);
      if (!cgroup_has_file (dir, key))
        return cgroup_v2_res_missing (dir, key, field, err);
      cleanup_free char *copy = xstrdup (r->unified[i].value);
      char *save = NULL;
      bool wrote = false;
      for (char *line = strtok_r (copy, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
        {
          if (cgroup_v2_res_write (dir, key, line, field, err) < 0)
            return -1;
          wrote = true;
        }
      if (!wrote && cgroup_v2_res_write (dir, key, "", field, err) < 0)
        return -1;
    }
  return 0;
}

static void
cgroup_v2_res_warn_v1_only (const cgroup_resources *r)
{
  if (r->network.class_id.set || r->network.n_priorities)
    log_warning ("linux.resources.network: ignored, cgroup v2 has no net_cls or net_prio");
}

int
cgroup_v2_resources_apply (const char *dir, const json_t *resources,
                           bool update, polis_error **err)
{
  cleanup_resources cgroup_resources *r = cgroup_resources_parse (resources, update, err);
  if (r == NULL)
    return -1;
  cgroup_v2_res_warn_v1_only (r);
  if (cgroup_v2_res_devices (dir, r, err) < 0 || cgroup_v2_res_pids (dir, r, err) < 0
      || cgroup_v2_res_memory (dir, r, err) < 0 || cgroup_v2_res_io (dir, r, err) < 0
      || cgroup_v2_res_cpu (dir, r, err) < 0 || cgroup_v2_res_hugetlb (dir, r, err) < 0
      || cgroup_v2_res_rdma (dir, r, err) < 0 || cgroup_v2_res_unified (dir, r, err) < 0)
    return -1;
  return 0;
}

/* Statistics, in the shape of runc's types.Stats (events --stats). */

static uint64_t
cgroup_v2_stats_key (const json_t *obj, const char *key)
{
  json_t *v = json_object_get (obj, key);
  return v ? (uint64_t) json_integer_value (v) : 0;
}

static json_t *
cgroup_v2_stats_cpu (const char *dir)
{
  cleanup_json json_t *st = cgroup_read_keyed (dir, "cpu.stat");
  json_t *usage = json_object (), *thr = json_object ();
  cgroup_stats_set_nonzero (usage, "total", cgroup_v2_stats_key (st, "usage_usec") * 1000);
  json_object_set_new (usage, "kernel",
                       json_integer (cgroup_stats_bytes (cgroup_v2_stats_key (st, "system_usec")
                                                         * 1000)));
  json_object_set_new (usage, "user",
                       json_integer (cgroup_stats_bytes (cgroup_v2_stats_key (st, "user_usec")
                                                         * 1000)));
  cgroup_stats_set_nonzero (thr, "periods", cgroup_v2_stats_key (st, "nr_periods"));
  cgroup_stats_set_nonzero (thr, "throttledPeriods", cgroup_v2_stats_key (st, "nr_throttled"));
  cgroup_stats_set_nonzero (thr, "throttledTime", cgroup_v2_stats_key (st, "throttled_usec") * 1000);
  return json_pack ("{s:o, s:o}", "usage", usage, "throttling", thr);
}

static json_t *
cgroup_v2_stats_entry (uint64_t limit, uint64_t usage, uint64_t max, uint64_t failcnt)
{
  json_t *e = json_object ();
  json_object_set_new (e, "limit", json_integer (cgroup_stats_bytes (limit)));
  cgroup_stats_set_nonzero (e, "usage", usage);
  cgroup_stats_set_nonzero (e, "max", max);
  json_object_set_new (e, "failcnt", json_integer (cgroup_stats_bytes (failcnt)));
  return e;
}

static json_t *
cgroup_v2_stats_memory (const char *dir)
{
  json_t *m = json_object ();
  uint64_t cur = 0, max = UINT64_MAX, peak = 0, scur = 0, smax = UINT64_MAX;
  cgroup_read_u64 (dir, "memory.current", &cur);
  cgroup_read_u64 (dir, "memory.max", &max);
  cgroup_read_u64 (dir, "memory.peak", &peak);
  cleanup_json json_t *ev = cgroup_read_keyed (dir, "memory.events");
  json_object_set_new (m, "usage", cgroup_v2_stats_entry (max, cur, peak,
                                                          cgroup_v2_stats_key (ev, "max")));
  /* As runc: v1 reported memory+swap, so v2's swap is shown added to
     memory. */
  bool has_swap = cgroup_read_u64 (dir, "memory.swap.current", &scur);
  cgroup_read_u64 (dir, "memory.swap.max", &smax);
  cleanup_json json_t *sev = cgroup_read_keyed (dir, "memory.swap.events");
  uint64_t slimit = (smax == UINT64_MAX || max == UINT64_MAX) ? UINT64_MAX : smax + max;
  json_object_set_new (m, "swap",
                       has_swap ? cgroup_v2_stats_entry (slimit, scur + cur, 0,
                                                         cgroup_v2_stats_key (sev, "max"))
                                : cgroup_v2_stats_entry (0, 0, 0, 0));
  json_object_set_new (m, "kernel", cgroup_v2_stats_entry (0, 0, 0, 0));
  json_object_set_new (m, "kernelTCP", cgroup_v2_stats_entry (0, 0, 0, 0));
  json_t *raw = cgroup_read_keyed (dir, "memory.stat");
  cgroup_stats_set_nonzero (m, "cache", cgroup_v2_stats_key (raw, "file"));
  if (json_object_size (raw))
    json_object_set_new (m, "raw", raw);
  else
    json_decref (raw);
  return m;
}

static json_t *
cgroup_v2_stats_pids (const char *dir)
{
  json_t *p = json_object ();
  uint64_t cur = 0, max = 0;
  cgroup_read_u64 (dir, "pids.current", &cur);
  cgroup_read_u64 (dir, "pids.max", &max);
  cgroup_stats_set_nonzero (p, "current", cur);
  cgroup_stats_set_nonzero (p, "limit", max == UINT64_MAX ? 0 : max);
  return p;
}

/* io.stat: "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0". */
static json_t *
cgroup_v2_stats_io (const char *dir)
{
  static const struct
  {
    const char *key, *list, *op;
  } map[] = {
    { "rbytes", "ioServiceBytesRecursive", "Read" },
    { "wbytes", "ioServiceBytesRecursive", "Write" },
    { "dbytes", "ioServiceBytesRecursive", "Discard" },
    { "rios", "ioServicedRecursive", "Read" },
    { "wios", "ioServicedRecursive", "Write" },
    { "dios", "ioServicedRecursive", "Discard" },
  };
  json_t *b = json_object ();
  cleanup_error polis_error *e = NULL;
  cleanup_free char *buf = cgroup_read (dir, "io.stat", &e);
  char *save = NULL;
  for (char *line = buf ? strtok_r (buf, "\n", &save) : NULL; line;
       line = strtok_r (NULL, "\n", &save))
    {
      unsigned long long major = 0, minor = 0;
      int used = 0;
      if (sscanf (line, "%llu:%llu%n", &major, &minor, &used) != 2)
        continue;
      char *save2 = NULL;
      for (char *kv = strtok_r (line + used, " ", &save2); kv; kv = strtok_r (NULL, " ", &save2))
        {
          char *eq = strchr (kv, '=');
          if (eq == NULL)
            continue;
          *eq = '\0';
          for (size_t i = 0; i < sizeof map / sizeof *map; i++)
            if (strcmp (kv, map[i].key) == 0)
              {
                json_t *arr = json_object_get (b, map[i].list);
                if (arr == NULL)
                  {
                    arr = json_array ();
                    json_object_set_new (b, map[i].list, arr);
                  }
                json_t *ent = json_object ();
                cgroup_stats_set_nonzero (ent, "major", major);
                cgroup_stats_set_nonzero (ent, "minor", minor);
                json_object_set_new (ent, "op", json_string (map[i].op));
                cgroup_stats_set_nonzero (ent, "value", strtoull (eq + 1, NULL, 10));
                json_array_append_new (arr, ent);
              }
        }
    }
  return b;
}

static json_t *
cgroup_v2_stats_hugetlb (const char *dir)
{
  json_t *h = json_object ();
  cleanup_closedir DIR *d = opendir (dir);
  struct dirent *de;
  while (d && (de = readdir (d)) != NULL)
    {
      const char *name = de->d_name;
      size_t len = strlen (name);
      /* hugetlb.<size>.max, not hugetlb.<size>.rsvd.max */
      if (strncmp (name, "hugetlb.", 8) != 0 || len <= 12 || strcmp (name + len - 4, ".max") != 0
          || strstr (name, ".rsvd."))
        continue;
      cleanup_free char *size = xstrndup (name + 8, len - 12);
      char f[96];
      uint64_t usage = 0;
      snprintf (f, sizeof f, "hugetlb.%s.current", size);
      cgroup_read_u64 (dir, f, &usage);
      snprintf (f, sizeof f, "hugetlb.%s.events", size);
      cleanup_json json_t *ev = cgroup_read_keyed (dir, f);
      json_t *e = json_object ();
      cgroup_stats_set_nonzero (e, "usage", usage);
      json_object_set_new (e, "failcnt",
                           json_integer (cgroup_stats_bytes (cgroup_v2_stats_key (ev, "max"))));
      json_object_set_new (h, size, e);
    }
  return h;
}

json_t *
cgroup_v2_resources_stats (const char *dir, polis_error **err)
{
  if (access (dir, F_OK) < 0)
    {
      error_sys (err, "cgroup `%s`", dir);
      return NULL;
    }
  return json_pack ("{s:o, s:o, s:o, s:o, s:o}", "cpu", cgroup_v2_stats_cpu (dir), "memory",
                    cgroup_v2_stats_memory (dir), "pids", cgroup_v2_stats_pids (dir), "blkio",
                    cgroup_v2_stats_io (dir), "hugetlb", cgroup_v2_stats_hugetlb (dir));
}
