/* stats.c - a container's resource usage in Docker's StatsResponse shape.
 *
 * The runtime library reads the cgroup (v1 or v2) into runc's `events
 * --stats` document; this turns that into what dockerd reports for the
 * same host (the v1 fields with their total_* memory stats, or the v2
 * ones), plus the host's CPU time, which `docker stats` needs to compute
 * a percentage.
 */
#include "engine_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/file.h"
#include "base/pjson.h"
#include "base/xalloc.h"
#include "bundle.h"
#include "runtime/cgroup.h"

/* Host CPU time in nanoseconds (all CPUs, the "cpu" line of /proc/stat). */
static uint64_t
system_cpu_ns (void)
{
  polis_error *err = NULL;
  cleanup_free char *s = file_read_at (AT_FDCWD, "/proc/stat", 1 << 20, NULL, &err);
  error_free (&err);
  if (s == NULL || strncmp (s, "cpu ", 4) != 0)
    return 0;
  unsigned long long v[8] = { 0 };
  sscanf (s + 4, "%llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1],
          &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]);
  unsigned long long ticks = 0;
  for (int i = 0; i < 8; i++)
    ticks += v[i];
  long hz = sysconf (_SC_CLK_TCK);
  return (uint64_t) (ticks * (1000000000ULL / (unsigned long long) (hz > 0 ? hz : 100)));
}

static uint64_t
host_mem_total (void)
{
  long pages = sysconf (_SC_PHYS_PAGES), ps = sysconf (_SC_PAGESIZE);
  return pages > 0 && ps > 0 ? (uint64_t) pages * (uint64_t) ps : 0;
}

static json_int_t
geti (const json_t *o, const char *k)
{
  return json_integer_value (json_object_get (o, k));
}

static json_t *
cpu_stats (const json_t *cpu, bool v1)
{
  json_t *usage = json_object_get (cpu, "usage");
  json_t *thr = json_object_get (cpu, "throttling");
  json_t *percpu = json_object_get (usage, "percpu");
  long online = sysconf (_SC_NPROCESSORS_ONLN);
  json_t *cu = json_pack ("{s:I,s:I,s:I}", "total_usage", geti (usage, "total"),
                          "usage_in_kernelmode", geti (usage, "kernel"),
                          "usage_in_usermode", geti (usage, "user"));
  if (v1 && json_is_array (percpu))
    json_object_set (cu, "percpu_usage", percpu);
  return json_pack ("{s:o,s:I,s:i,s:{s:I,s:I,s:I}}", "cpu_usage", cu,
                    "system_cpu_usage", (json_int_t) system_cpu_ns (),
                    "online_cpus", (int) (online > 0 ? online : 1),
                    "throttling_data", "periods", geti (thr, "periods"),
                    "throttled_periods", geti (thr, "throttledPeriods"),
                    "throttled_time", geti (thr, "throttledTime"));
}

static json_t *
memory_stats (const json_t *mem, bool v1)
{
  json_t *usage = json_object_get (mem, "usage");
  json_t *raw = json_object_get (mem, "raw");
  uint64_t limit = (uint64_t) geti (usage, "limit");
  uint64_t total = host_mem_total ();
  if (limit == 0 || (total > 0 && limit > total))
    limit = total;
  json_t *stats = json_object ();
  const char *k;
  json_t *v;
  json_object_foreach (raw, k, v)
    if (json_is_integer (v))
      json_object_set (stats, k, v);
  json_t *o = json_pack ("{s:I,s:o,s:I}", "usage", geti (usage, "usage"), "stats",
                         stats, "limit", (json_int_t) limit);
  if (v1)
    {
      json_object_set_new (o, "max_usage", json_integer (geti (usage, "max")));
      json_object_set_new (o, "failcnt", json_integer (geti (usage, "failcnt")));
    }
  return o;
}

static json_t *
blkio_list (const json_t *list)
{
  if (!json_is_array (list) || json_array_size (list) == 0)
    return json_null ();
  json_t *out = json_array ();
  size_t i;
  json_t *e;
  json_array_foreach (list, i, e)
    json_array_append_new (out, json_pack ("{s:I,s:I,s:s,s:I}", "major",
                                           geti (e, "major"), "minor",
                                           geti (e, "minor"), "op",
                                           json_string_value (json_object_get (e, "op"))
                                               ?: "",
                                           "value", geti (e, "value")));
  return out;
}

json_t *
engine_container_stats (engine *e, container *c, json_t *prev,
                        polis_error **err)
{
  char now[48];
  engine_format_time (events_now_ns (), now, sizeof now);
  engine_lock (e);
  bool running = c->status == CS_RUNNING || c->status == CS_PAUSED;
  cleanup_free char *name = xasprintf ("/%s", c->name);
  engine_unlock (e);
  json_t *empty_cpu = json_pack ("{s:{s:I,s:I,s:I},s:I,s:I,s:{s:I,s:I,s:I}}",
                                 "cpu_usage", "total_usage", (json_int_t) 0,
                                 "usage_in_kernelmode", (json_int_t) 0,
                                 "usage_in_usermode", (json_int_t) 0,
                                 "system_cpu_usage", (json_int_t) 0,
                                 "online_cpus", (json_int_t) 0, "throttling_data",
                                 "periods", (json_int_t) 0, "throttled_periods",
                                 (json_int_t) 0, "throttled_time", (json_int_t) 0);
  json_t *o = json_pack ("{s:s,s:s,s:s,s:s}", "name", name, "id", c->id, "read",
                         running ? now : "0001-01-01T00:00:00Z", "preread",
                         "0001-01-01T00:00:00Z");
  if (!running)
    {
      json_object_set_new (o, "pids_stats", json_object ());
      json_object_set_new (o, "blkio_stats",
                           json_pack ("{s:n,s:n,s:n,s:n,s:n,s:n,s:n,s:n}",
                                      "io_service_bytes_recursive",
                                      "io_serviced_recursive", "io_queue_recursive",
                                      "io_service_time_recursive",
                                      "io_wait_time_recursive", "io_merged_recursive",
                                      "io_time_recursive", "sectors_recursive"));
      json_object_set_new (o, "num_procs", json_integer (0));
      json_object_set_new (o, "storage_stats", json_object ());
      json_object_set_new (o, "cpu_stats", json_deep_copy (empty_cpu));
      json_object_set_new (o, "precpu_stats", empty_cpu);
      json_object_set_new (o, "memory_stats", json_object ());
      return o;
    }
  cleanup_free char *cgpath = bundle_cgroups_path (e, c);
  cgroup *cg = cgroup_resolve (cgpath, c->id, err);
  if (cg == NULL)
    {
      json_decref (o);
      json_decref (empty_cpu);
      return NULL;
    }
  cleanup_json json_t *raw = cgroup_stats (cg, err);
  cgroup_free (cg);
  if (raw == NULL)
    {
      json_decref (o);
      json_decref (empty_cpu);
      return NULL;
    }
  bool v1 = e->cgroup_version == 1;
  json_t *pids = json_object_get (raw, "pids");
  json_t *ps = json_pack ("{s:I}", "current", geti (pids, "current"));
  if (geti (pids, "limit") > 0)
    json_object_set_new (ps, "limit", json_integer (geti (pids, "limit")));
  json_object_set_new (o, "pids_stats", ps);
  json_t *blk = json_object_get (raw, "blkio");
  json_object_set_new (
      o, "blkio_stats",
      json_pack ("{s:o,s:o,s:n,s:n,s:n,s:n,s:n,s:n}", "io_service_bytes_recursive",
                 blkio_list (json_object_get (blk, "ioServiceBytesRecursive")),
                 "io_serviced_recursive",
                 blkio_list (json_object_get (blk, "ioServicedRecursive")),
                 "io_queue_recursive", "io_service_time_recursive",
                 "io_wait_time_recursive", "io_merged_recursive",
                 "io_time_recursive", "sectors_recursive"));
  json_object_set_new (o, "num_procs", json_integer (0));
  json_object_set_new (o, "storage_stats", json_object ());
  json_object_set_new (o, "cpu_stats", cpu_stats (json_object_get (raw, "cpu"), v1));
  json_t *pc = prev ? json_object_get (prev, "cpu_stats") : NULL;
  if (pc)
    {
      json_object_set (o, "precpu_stats", pc);
      json_object_set (o, "preread", json_object_get (prev, "read"));
      json_decref (empty_cpu);
    }
  else
    json_object_set_new (o, "precpu_stats", empty_cpu);
  json_object_set_new (o, "memory_stats",
                       memory_stats (json_object_get (raw, "memory"), v1));
  return o;
}
