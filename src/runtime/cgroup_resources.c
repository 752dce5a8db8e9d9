/* cgroup_resources.c - linux.resources, checked and typed. */
#include "cgroup_resources.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/pjson.h"
#include "base/xalloc.h"

/* Longest list we accept in blockIO, hugepageLimits, ... (the kernel has
   nowhere near that many devices or page sizes). */
#define CGROUP_RES_MAX_LIST 4096

#define CTX_MAX 96

static const char *const cgroup_throttle_fields[CGROUP_THROTTLE_N] = {
  "throttleReadBpsDevice", "throttleWriteBpsDevice",
  "throttleReadIOPSDevice", "throttleWriteIOPSDevice",
};
static const char *const cgroup_throttle_v1[CGROUP_THROTTLE_N] = {
  "blkio.throttle.read_bps_device", "blkio.throttle.write_bps_device",
  "blkio.throttle.read_iops_device", "blkio.throttle.write_iops_device",
};
static const char *const cgroup_throttle_v2[CGROUP_THROTTLE_N] = {
  "rbps", "wbps", "riops", "wiops",
};

const char *
cgroup_resources_throttle_field (cgroup_throttle_kind k)
{
  return cgroup_throttle_fields[k];
}

const char *
cgroup_resources_throttle_v1_file (cgroup_throttle_kind k)
{
  return cgroup_throttle_v1[k];
}

const char *
cgroup_resources_throttle_v2_key (cgroup_throttle_kind k)
{
  return cgroup_throttle_v2[k];
}

uint64_t
cgroup_resources_cpu_weight (uint64_t shares)
{
  if (shares < 2)
    shares = 2;
  if (shares > 262144)
    shares = 262144;
  return 1 + ((shares - 2) * 9999) / 262142;
}

uint64_t
cgroup_resources_io_weight (uint64_t w)
{
  if (w < 10)
    w = 10;
  if (w > 1000)
    w = 1000;
  return 1 + (w - 10) * 9999 / 990;
}

int
cgroup_resources_v2_swap (int64_t swap, int64_t limit, int64_t *out,
                          polis_error **err)
{
  /* v1 compatibility, as runc: an unlimited memory limit with no swap
     given means unlimited swap too. */
  if (swap <= 0)
    {
      *out = swap < 0 ? -1 : 0;
      return 0;
    }
  if (limit <= 0)
    return error_set (err, ERROR_INVALID, EINVAL,
                      "linux.resources.memory.swap: a memory+swap limit needs a memory limit");
  if (swap < limit)
    return error_set (err, ERROR_INVALID, EINVAL,
                      "linux.resources.memory.swap: the memory+swap limit (%lld) is below the memory limit (%lld)",
                      (long long) swap, (long long) limit);
  *out = swap - limit;
  return 0;
}

int
cgroup_resources_rdma_line (const cgroup_res_rdma *e, char *buf, size_t len)
{
  char h[40] = "", o[40] = "";
  if (e->hca_handles.set)
    snprintf (h, sizeof h, " hca_handle=%llu", (unsigned long long) e->hca_handles.v);
  if (e->hca_objects.set)
    snprintf (o, sizeof o, " hca_object=%llu", (unsigned long long) e->hca_objects.v);
  return snprintf (buf, len, "%s%s%s", e->device, h, o);
}

void
cgroup_resources_free (cgroup_resources *r)
{
  if (r == NULL)
    return;
  free (r->blkio.weight_device);
  for (int k = 0; k < CGROUP_THROTTLE_N; k++)
    free (r->blkio.throttle[k]);
  free (r->hugepages);
  free (r->network.priorities);
  free (r->rdma);
  cgroup_devices_free (r->devices);
  free (r->unified);
  free (r);
}

static int
cgroup_res_invalid (polis_error **err, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

static int
cgroup_res_invalid (polis_error **err, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  cleanup_free char *msg = NULL;
  if (vasprintf (&msg, fmt, ap) < 0)
    abort ();
  va_end (ap);
  return error_set (err, ERROR_INVALID, EINVAL, "%s", msg);
}

/* An int64 field that runc treats as unset when 0; -1 means unlimited,
   other negative values are refused. */
static int
cgroup_res_limit (const json_t *obj, const char *ctx, const char *key,
                  cgroup_res_i64 *out, polis_error **err)
{
  int64_t v = 0;
  if (json_object_get (obj, key) == NULL)
    return 0;
  if (pjson_get_int64 (obj, ctx, key, false, &v, err) < 0)
    return -1;
  if (v < -1)
    return cgroup_res_invalid (err, "%s.%s: %lld is neither -1 (unlimited) nor a limit",
                               ctx, key, (long long) v);
  out->set = v != 0;
  out->v = v;
  return 0;
}

/* A uint64 field that runc treats as unset when 0, in MIN..MAX. */
static int
cgroup_res_u64_range (const json_t *obj, const char *ctx, const char *key,
                      uint64_t min, uint64_t max, cgroup_res_u64 *out,
                      polis_error **err)
{
  uint64_t v = 0;
  json_t *j = json_object_get (obj, key);
  if (j == NULL || json_is_null (j))
    return 0;
  if (json_is_integer (j) && json_integer_value (j) < 0)
    return cgroup_res_invalid (err, "%s.%s: %lld is negative", ctx, key,
                               (long long) json_integer_value (j));
  if (pjson_get_uint64 (obj, ctx, key, false, UINT64_MAX, &v, err) < 0)
    return -1;
  if (v == 0)
    return 0;
  if (v < min || v > max)
    return cgroup_res_invalid (err, "%s.%s: %llu is out of range (%llu-%llu)",
                               ctx, key, (unsigned long long) v,
                               (unsigned long long) min, (unsigned long long) max);
  out->set = true;
  out->v = v;
  return 0;
}

static int
cgroup_res_memory (const json_t *res, cgroup_resources *r, polis_error **err)
{
  const char *ctx = "linux.resources.memory";
  json_t *m = NULL;
  if (pjson_get_object (res, "linux.resources", "memory", false, &m, err) < 0)
    return -1;
  if (m == NULL)
    return 0;
  if (cgroup_res_limit (m, ctx, "limit", &r->memory.limit, err) < 0
      || cgroup_res_limit (m, ctx, "reservation", &r->memory.reservation, err) < 0
      || cgroup_res_limit (m, ctx, "swap", &r->memory.swap, err) < 0
      || cgroup_res_limit (m, ctx, "kernel", &r->memory.kernel, err) < 0
      || cgroup_res_limit (m, ctx, "kernelTCP", &r->memory.kernel_tcp, err) < 0)
    return -1;

  /* Older engines send -1 for "not set" although the field is unsigned. */
  json_t *sw = json_object_get (m, "swappiness");
  if (!(json_is_integer (sw) && json_integer_value (sw) == -1))
    {
      uint64_t v = 0;
      if (sw && !json_is_null (sw))
        {
          if (pjson_get_uint64 (m, ctx, "swappiness", false, UINT64_MAX, &v, err) < 0)
            return -1;
          if (v > 100)
            return cgroup_res_invalid (err, "%s.swappiness: %llu is out of range (0-100)",
                                       ctx, (unsigned long long) v);
          r->memory.swappiness.set = true;
          r->memory.swappiness.v = v;
        }
    }

  r->memory.has_disable_oom = json_object_get (m, "disableOOMKiller") != NULL;
  r->memory.has_use_hierarchy = json_object_get (m, "useHierarchy") != NULL;
  if (pjson_get_bool (m, ctx, "disableOOMKiller", &r->memory.disable_oom, err) < 0
      || pjson_get_bool (m, ctx, "useHierarchy", &r->memory.use_hierarchy, err) < 0
      || pjson_get_bool (m, ctx, "checkBeforeUpdate", &r->memory.check_before_update,
                         err)
             < 0)
    return -1;

  /* memory+swap must hold the memory limit (the v1 kernel refuses less,
     v2 has no way to say it).  Checked here only when both are given;
     an update of one is checked against the cgroup's current value. */
  int64_t lim = r->memory.limit.v, swap = r->memory.swap.v;
  if (r->memory.limit.set && r->memory.swap.set && swap > 0)
    {
      if (lim == -1)
        return cgroup_res_invalid (err, "%s.swap: a memory+swap limit needs a memory limit", ctx);
      if (swap < lim)
        return cgroup_res_invalid (err, "%s.swap: the memory+swap limit (%lld) is below the memory limit (%lld)",
                                   ctx, (long long) swap, (long long) lim);
    }
  return 0;
}

static int
cgroup_res_cpu (const json_t *res, cgroup_resources *r, polis_error **err)
{
  const char *ctx = "linux.resources.cpu";
  json_t *c = NULL;
  if (pjson_get_object (res, "linux.resources", "cpu", false, &c, err) < 0)
    return -1;
  if (c == NULL)
    return 0;
  /* The kernel's own ranges: shares 2..262144, CFS period 1 ms..1 s,
     the RT period up to INT_MAX us (runtime -1 = unlimited). */
  if (cgroup_res_u64_range (c, ctx, "shares", 2, 262144, &r->cpu.shares, err) < 0
      || cgroup_res_u64_range (c, ctx, "period", 1000, 1000000, &r->cpu.period, err) < 0
      || cgroup_res_u64_range (c, ctx, "realtimePeriod", 1, INT32_MAX,
                               &r->cpu.rt_period, err)
             < 0
      || cgroup_res_limit (c, ctx, "quota", &r->cpu.quota, err) < 0
      || cgroup_res_limit (c, ctx, "realtimeRuntime", &r->cpu.rt_runtime, err) < 0
      || pjson_get_string (c, ctx, "cpus", false, &r->cpu.cpus, err) < 0
      || pjson_get_string (c, ctx, "mems", false, &r->cpu.mems, err) < 0)
    return -1;
  if (r->cpu.quota.set && r->cpu.quota.v > 0 && r->cpu.quota.v < 1000)
    return cgroup_res_invalid (err, "%s.quota: %lld is below the kernel's minimum of 1000 (1 ms)",
                               ctx, (long long) r->cpu.quota.v);

  /* burst: 0 is a real value (no burst), unlike the others. */
  json_t *b = json_object_get (c, "burst");
  if (b && !json_is_null (b))
    {
      if (pjson_get_uint64 (c, ctx, "burst", false, UINT32_MAX, &r->cpu.burst.v, err) < 0)
        return -1;
      r->cpu.burst.set = true;
      if (r->cpu.quota.set && r->cpu.quota.v > 0
          && r->cpu.burst.v > (uint64_t) r->cpu.quota.v)
        return cgroup_res_invalid (err, "%s.burst: %llu is larger than the quota (%lld)",
                                   ctx, (unsigned long long) r->cpu.burst.v,
                                   (long long) r->cpu.quota.v);
    }
  json_t *idle = json_object_get (c, "idle");
  if (idle && !json_is_null (idle))
    {
      if (pjson_get_int64 (c, ctx, "idle", false, &r->cpu.idle.v, err) < 0)
        return -1;
      if (r->cpu.idle.v != 0 && r->cpu.idle.v != 1)
        return cgroup_res_invalid (err, "%s.idle: %lld is neither 0 nor 1", ctx,
                                   (long long) r->cpu.idle.v);
      r->cpu.idle.set = true;
    }
  return 0;
}

static int
cgroup_res_pids (const json_t *res, cgroup_resources *r, polis_error **err)
{
  json_t *p = NULL;
  if (pjson_get_object (res, "linux.resources", "pids", false, &p, err) < 0)
    return -1;
  if (p == NULL)
    return 0;
  if (pjson_get_int64 (p, "linux.resources.pids", "limit", true, &r->pids_limit.v, err) < 0)
    return -1;
  /* The spec: 0 is a valid limit, -1 (or any negative, as runc) none. */
  if (r->pids_limit.v < 0)
    r->pids_limit.v = -1;
  r->pids_limit.set = true;
  return 0;
}

/* major/minor of a blockIO entry: required, a real device number. */
static int
cgroup_res_blk_number (const json_t *e, const char *ctx, const char *key,
                       int64_t *out, polis_error **err)
{
  if (pjson_get_int64 (e, ctx, key, true, out, err) < 0)
    return -1;
  if (*out < 0 || *out > UINT32_MAX)
    return cgroup_res_invalid (err, "%s.%s: %lld is not a device number", ctx, key,
                               (long long) *out);
  return 0;
}

static int
cgroup_res_list (const json_t *obj, const char *ctx, const char *key,
                 json_t **arr, polis_error **err)
{
  if (pjson_get_array (obj, ctx, key, false, arr, err) < 0)
    return -1;
  if (*arr && json_array_size (*arr) > CGROUP_RES_MAX_LIST)
    return cgroup_res_invalid (err, "%s.%s: more than %d entries", ctx, key,
                               CGROUP_RES_MAX_LIST);
  return 0;
}

static int
cgroup_res_blkio (const json_t *res, cgroup_resources *r, polis_error **err)
{
  const char *ctx = "linux.resources.blockIO";
  json_t *b = NULL, *arr = NULL;
  if (pjson_get_object (res, "linux.resources", "blockIO", false, &b, err) < 0)
    return -1;
  if (b == NULL)
    return 0;
  if (cgroup_res_u64_range (b, ctx, "weight", 10, 1000, &r->blkio.weight, err) < 0
      || cgroup_res_u64_range (b, ctx, "leafWeight", 10, 1000, &r->blkio.leaf_weight, err)
             < 0)
    return -1;

  if (cgroup_res_list (b, ctx, "weightDevice", &arr, err) < 0)
    return -1;
  size_t n = arr ? json_array_size (arr) : 0;
  r->blkio.weight_device = xzalloc ((n + 1) * sizeof *r->blkio.weight_device);
  for (size_t i = 0; i < n; i++)
    {
      char c[CTX_MAX];
      json_t *e = json_array_get (arr, i);
      cgroup_res_blkdev *d = &r->blkio.weight_device[i];
      snprintf (c, sizeof c, "%s.weightDevice[%zu]", ctx, i);
      if (!json_is_object (e))
        return cgroup_res_invalid (err, "%s: expected an object", c);
      if (cgroup_res_blk_number (e, c, "major", &d->major, err) < 0
          || cgroup_res_blk_number (e, c, "minor", &d->minor, err) < 0
          || cgroup_res_u64_range (e, c, "weight", 10, 1000, &d->weight, err) < 0
          || cgroup_res_u64_range (e, c, "leafWeight", 10, 1000, &d->leaf_weight, err) < 0)
        return -1;
      if (!d->weight.set && !d->leaf_weight.set)
        return cgroup_res_invalid (err, "%s: needs a weight or a leafWeight", c);
    }
  r->blkio.n_weight_device = n;

  for (int k = 0; k < CGROUP_THROTTLE_N; k++)
    {
      if (cgroup_res_list (b, ctx, cgroup_throttle_fields[k], &arr, err) < 0)
        return -1;
      n = arr ? json_array_size (arr) : 0;
      r->blkio.throttle[k] = xzalloc ((n + 1) * sizeof *r->blkio.throttle[k]);
      for (size_t i = 0; i < n; i++)
        {
          char c[CTX_MAX];
          json_t *e = json_array_get (arr, i);
          cgroup_res_blkdev *d = &r->blkio.throttle[k][i];
          snprintf (c, sizeof c, "%s.%s[%zu]", ctx, cgroup_throttle_fields[k], i);
          if (!json_is_object (e))
            return cgroup_res_invalid (err, "%s: expected an object", c);
          if (cgroup_res_blk_number (e, c, "major", &d->major, err) < 0
              || cgroup_res_blk_number (e, c, "minor", &d->minor, err) < 0)
            return -1;
          if (json_is_integer (json_object_get (e, "rate"))
              && json_integer_value (json_object_get (e, "rate")) < 0)
            return cgroup_res_invalid (err, "%s.rate: must not be negative", c);
          if (pjson_get_uint64 (e, c, "rate", true, UINT64_MAX, &d->rate, err) < 0)
            return -1;
        }
      r->blkio.n_throttle[k] = n;
    }
  return 0;
}

/* "2MB", "64KB", "1GB": as the schema's ^[1-9][0-9]*[KMG]B$ */
static bool
cgroup_res_page_size_ok (const char *s)
{
  size_t len = strlen (s);
  if (len < 3 || len > 16 || s[0] < '1' || s[0] > '9' || s[len - 1] != 'B'
      || !strchr ("KMG", s[len - 2]))
    return false;
  for (size_t i = 1; i + 2 < len; i++)
    if (s[i] < '0' || s[i] > '9')
      return false;
  return true;
}

static int
cgroup_res_hugepages (const json_t *res, cgroup_resources *r, polis_error **err)
{
  json_t *arr = NULL;
  if (cgroup_res_list (res, "linux.resources", "hugepageLimits", &arr, err) < 0)
    return -1;
  size_t n = arr ? json_array_size (arr) : 0;
  r->hugepages = xzalloc ((n + 1) * sizeof *r->hugepages);
  for (size_t i = 0; i < n; i++)
    {
      char c[CTX_MAX];
      json_t *e = json_array_get (arr, i);
      cgroup_res_hugepage *h = &r->hugepages[i];
      snprintf (c, sizeof c, "linux.resources.hugepageLimits[%zu]", i);
      if (!json_is_object (e))
        return cgroup_res_invalid (err, "%s: expected an object", c);
      if (pjson_get_string (e, c, "pageSize", true, &h->page_size, err) < 0
          || pjson_get_uint64 (e, c, "limit", true, UINT64_MAX, &h->limit, err) < 0)
        return -1;
      if (!cgroup_res_page_size_ok (h->page_size))
        return cgroup_res_invalid (err, "%s.pageSize: `%s` is not a size like 2MB",
                                   c, h->page_size);
    }
  r->n_hugepages = n;
  return 0;
}

static int
cgroup_res_network (const json_t *res, cgroup_resources *r, polis_error **err)
{
  const char *ctx = "linux.resources.network";
  json_t *net = NULL, *arr = NULL;
  if (pjson_get_object (res, "linux.resources", "network", false, &net, err) < 0)
    return -1;
  if (net == NULL)
    return 0;
  if (json_object_get (net, "classID"))
    {
      if (pjson_get_uint64 (net, ctx, "classID", false, UINT32_MAX,
                            &r->network.class_id.v, err)
          < 0)
        return -1;
      r->network.class_id.set = true;
    }
  if (cgroup_res_list (net, ctx, "priorities", &arr, err) < 0)
    return -1;
  size_t n = arr ? json_array_size (arr) : 0;
  r->network.priorities = xzalloc ((n + 1) * sizeof *r->network.priorities);
  for (size_t i = 0; i < n; i++)
    {
      char c[CTX_MAX];
      json_t *e = json_array_get (arr, i);
      cgroup_res_ifprio *p = &r->network.priorities[i];
      uint64_t prio = 0;
      snprintf (c, sizeof c, "%s.priorities[%zu]", ctx, i);
      if (!json_is_object (e))
        return cgroup_res_invalid (err, "%s: expected an object", c);
      if (pjson_get_string (e, c, "name", true, &p->name, err) < 0
          || pjson_get_uint64 (e, c, "priority", true, UINT32_MAX, &prio, err) < 0)
        return -1;
      if (*p->name == '\0' || strpbrk (p->name, " \n/"))
        return cgroup_res_invalid (err, "%s.name: `%s` is not an interface name", c,
                                   p->name);
      p->priority = (uint32_t) prio;
    }
  r->network.n_priorities = n;
  return 0;
}

static int
cgroup_res_parse_rdma (const json_t *res, cgroup_resources *r, polis_error **err)
{
  json_t *rd = NULL;
  if (pjson_get_object (res, "linux.resources", "rdma", false, &rd, err) < 0)
    return -1;
  if (rd == NULL)
    return 0;
  if (json_object_size (rd) > CGROUP_RES_MAX_LIST)
    return cgroup_res_invalid (err, "linux.resources.rdma: more than %d devices",
                               CGROUP_RES_MAX_LIST);
  r->rdma = xzalloc ((json_object_size (rd) + 1) * sizeof *r->rdma);
  const char *dev;
  json_t *v;
  json_object_foreach (rd, dev, v)
  {
    char c[CTX_MAX];
    cgroup_res_rdma *e = &r->rdma[r->n_rdma];
    snprintf (c, sizeof c, "linux.resources.rdma.%.64s", dev);
    if (!json_is_object (v))
      return cgroup_res_invalid (err, "%s: expected an object", c);
    if (*dev == '\0' || strlen (dev) > 64 || strpbrk (dev, " \n="))
      return cgroup_res_invalid (err, "%s: not a device name", c);
    e->device = dev;
    if (json_object_get (v, "hcaHandles"))
      {
        if (pjson_get_uint64 (v, c, "hcaHandles", false, UINT32_MAX, &e->hca_handles.v,
                              err)
            < 0)
          return -1;
        e->hca_handles.set = true;
      }
    if (json_object_get (v, "hcaObjects"))
      {
        if (pjson_get_uint64 (v, c, "hcaObjects", false, UINT32_MAX, &e->hca_objects.v,
                              err)
            < 0)
          return -1;
        e->hca_objects.set = true;
      }
    if (!e->hca_handles.set && !e->hca_objects.set)
      return cgroup_res_invalid (err, "%s: needs hcaHandles or hcaObjects", c);
    r->n_rdma++;
  }
  return 0;
}

static int
cgroup_res_parse_unified (const json_t *res, cgroup_resources *r, polis_error **err)
{
  json_t *u = NULL;
  if (pjson_get_object (res, "linux.resources", "unified", false, &u, err) < 0)
    return -1;
  if (u == NULL)
    return 0;
  if (json_object_size (u) > CGROUP_RES_MAX_LIST)
    return cgroup_res_invalid (err, "linux.resources.unified: more than %d keys",
                               CGROUP_RES_MAX_LIST);
  r->unified = xzalloc ((json_object_size (u) + 1) * sizeof *r->unified);
  const char *key;
  json_t *v;
  json_object_foreach (u, key, v)
  {
    /* Each key names a file of the container's cgroup, never anything
       beside or above it. */
    const char *dot = strchr (key, '.');
    if (*key == '\0' || strchr (key, '/') || strstr (key, "..") || dot == NULL
        || dot == key || dot[1] == '\0')
      return cgroup_res_invalid (err, "linux.resources.unified: `%.64s` is not a cgroup file name (controller.file)",
                                 key);
    if (!json_is_string (v) || strlen (json_string_value (v)) != json_string_length (v))
      return cgroup_res_invalid (err, "linux.resources.unified.%.64s: expected a string", key);
    r->unified[r->n_unified].key = key;
    r->unified[r->n_unified].value = json_string_value (v);
    r->n_unified++;
  }
  return 0;
}

cgroup_resources *
cgroup_resources_parse (const json_t *resources, bool update, polis_error **err)
{
  cleanup_resources cgroup_resources *r = xzalloc (sizeof *r);
  cleanup_json json_t *empty = NULL;
  if (resources == NULL)
    resources = empty = json_object ();
  if (!json_is_object (resources))
    {
      cgroup_res_invalid (err, "linux.resources: expected an object");
      return NULL;
    }
  json_t *devices = json_object_get (resources, "devices");
  if (json_is_null (devices))
    devices = NULL;
  if (cgroup_res_memory (resources, r, err) < 0 || cgroup_res_cpu (resources, r, err) < 0
      || cgroup_res_pids (resources, r, err) < 0 || cgroup_res_blkio (resources, r, err) < 0
      || cgroup_res_hugepages (resources, r, err) < 0
      || cgroup_res_network (resources, r, err) < 0 || cgroup_res_parse_rdma (resources, r, err) < 0
      || cgroup_res_parse_unified (resources, r, err) < 0)
    return NULL;
  if (devices || !update)
    {
      r->devices = cgroup_devices_from_json (devices, err);
      if (r->devices == NULL)
        return NULL;
    }
  return steal_pointer (&r);
}
