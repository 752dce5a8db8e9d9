/* container_schema.c - Docker's Config and HostConfig objects, typed. */
#include "container_schema.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "base/xalloc.h"

typedef enum
{
  T_STR,
  T_BOOL,
  T_INT,
  T_STRV,     /* []string */
  T_STRSLICE, /* string or []string */
  T_OBJ,      /* a struct or map: any object */
  T_STRMAP,   /* map[string]string */
  T_ARR,      /* []struct */
  T_INTARR,   /* [2]uint (ConsoleSize) */
  T_HEALTH,   /* *HealthConfig */
} ftype;

typedef struct
{
  const char *name;
  ftype type;
  const char *dflt; /* JSON text; NULL: omitted when absent (omitempty) */
} field;

static const field config_fields[] = {
  { "Hostname", T_STR, "\"\"" },
  { "Domainname", T_STR, "\"\"" },
  { "User", T_STR, "\"\"" },
  { "AttachStdin", T_BOOL, "false" },
  { "AttachStdout", T_BOOL, "false" },
  { "AttachStderr", T_BOOL, "false" },
  { "ExposedPorts", T_OBJ, NULL },
  { "Tty", T_BOOL, "false" },
  { "OpenStdin", T_BOOL, "false" },
  { "StdinOnce", T_BOOL, "false" },
  { "Env", T_STRV, "null" },
  { "Cmd", T_STRSLICE, "null" },
  { "Healthcheck", T_HEALTH, NULL },
  { "ArgsEscaped", T_BOOL, NULL },
  { "Image", T_STR, "\"\"" },
  { "Volumes", T_OBJ, "null" },
  { "WorkingDir", T_STR, "\"\"" },
  { "Entrypoint", T_STRSLICE, "null" },
  { "NetworkDisabled", T_BOOL, NULL },
  { "MacAddress", T_STR, NULL },
  { "OnBuild", T_STRV, "null" },
  { "Labels", T_STRMAP, "{}" },
  { "StopSignal", T_STR, NULL },
  { "StopTimeout", T_INT, NULL },
  { "Shell", T_STRSLICE, NULL },
  { NULL, 0, NULL },
};

static const field host_config_fields[] = {
  { "Binds", T_STRV, "null" },
  { "ContainerIDFile", T_STR, "\"\"" },
  { "LogConfig", T_OBJ, "{\"Type\":\"json-file\",\"Config\":{}}" },
  { "NetworkMode", T_STR, "\"bridge\"" },
  { "PortBindings", T_OBJ, "{}" },
  { "RestartPolicy", T_OBJ, "{\"Name\":\"no\",\"MaximumRetryCount\":0}" },
  { "AutoRemove", T_BOOL, "false" },
  { "VolumeDriver", T_STR, "\"\"" },
  { "VolumesFrom", T_STRV, "null" },
  { "ConsoleSize", T_INTARR, "[0,0]" },
  { "Annotations", T_STRMAP, NULL },
  { "CapAdd", T_STRSLICE, "null" },
  { "CapDrop", T_STRSLICE, "null" },
  { "CgroupnsMode", T_STR, "\"\"" },
  { "Dns", T_STRV, "[]" },
  { "DnsOptions", T_STRV, "[]" },
  { "DnsSearch", T_STRV, "[]" },
  { "ExtraHosts", T_STRV, "null" },
  { "GroupAdd", T_STRV, "null" },
  { "IpcMode", T_STR, "\"private\"" },
  { "Cgroup", T_STR, "\"\"" },
  { "Links", T_STRV, "null" },
  { "OomScoreAdj", T_INT, "0" },
  { "PidMode", T_STR, "\"\"" },
  { "Privileged", T_BOOL, "false" },
  { "PublishAllPorts", T_BOOL, "false" },
  { "ReadonlyRootfs", T_BOOL, "false" },
  { "SecurityOpt", T_STRV, "null" },
  { "StorageOpt", T_STRMAP, NULL },
  { "Tmpfs", T_STRMAP, NULL },
  { "UTSMode", T_STR, "\"\"" },
  { "UsernsMode", T_STR, "\"\"" },
  { "ShmSize", T_INT, "67108864" },
  { "Sysctls", T_STRMAP, NULL },
  { "Runtime", T_STR, "\"polis\"" },
  { "Isolation", T_STR, "\"\"" },
  { "CpuShares", T_INT, "0" },
  { "Memory", T_INT, "0" },
  { "NanoCpus", T_INT, "0" },
  { "CgroupParent", T_STR, "\"\"" },
  { "BlkioWeight", T_INT, "0" },
  { "BlkioWeightDevice", T_ARR, "[]" },
  { "BlkioDeviceReadBps", T_ARR, "[]" },
  { "BlkioDeviceWriteBps", T_ARR, "[]" },
  { "BlkioDeviceReadIOps", T_ARR, "[]" },
  { "BlkioDeviceWriteIOps", T_ARR, "[]" },
  { "CpuPeriod", T_INT, "0" },
  { "CpuQuota", T_INT, "0" },
  { "CpuRealtimePeriod", T_INT, "0" },
  { "CpuRealtimeRuntime", T_INT, "0" },
  { "CpusetCpus", T_STR, "\"\"" },
  { "CpusetMems", T_STR, "\"\"" },
  { "Devices", T_ARR, "[]" },
  { "DeviceCgroupRules", T_STRV, "null" },
  { "DeviceRequests", T_ARR, "null" },
  { "MemoryReservation", T_INT, "0" },
  { "MemorySwap", T_INT, "0" },
  { "MemorySwappiness", T_INT, "null" },
  { "OomKillDisable", T_BOOL, "null" },
  { "PidsLimit", T_INT, "null" },
  { "Ulimits", T_ARR, "[]" },
  { "CpuCount", T_INT, "0" },
  { "CpuPercent", T_INT, "0" },
  { "IOMaximumIOps", T_INT, "0" },
  { "IOMaximumBandwidth", T_INT, "0" },
  { "Mounts", T_ARR, NULL },
  { "MaskedPaths", T_STRV, NULL },
  { "ReadonlyPaths", T_STRV, NULL },
  { "Init", T_BOOL, NULL },
  { NULL, 0, NULL },
};

static const field health_fields[] = {
  { "Test", T_STRV, NULL },
  { "Interval", T_INT, NULL },
  { "Timeout", T_INT, NULL },
  { "StartPeriod", T_INT, NULL },
  { "StartInterval", T_INT, NULL },
  { "Retries", T_INT, NULL },
  { NULL, 0, NULL },
};

/* container.UpdateConfig: Resources plus RestartPolicy; absent means
   "unchanged", so nothing has a default. */
static const field update_fields[] = {
  { "CpuShares", T_INT, NULL },
  { "Memory", T_INT, NULL },
  { "NanoCpus", T_INT, NULL },
  { "CgroupParent", T_STR, NULL },
  { "BlkioWeight", T_INT, NULL },
  { "CpuPeriod", T_INT, NULL },
  { "CpuQuota", T_INT, NULL },
  { "CpuRealtimePeriod", T_INT, NULL },
  { "CpuRealtimeRuntime", T_INT, NULL },
  { "CpusetCpus", T_STR, NULL },
  { "CpusetMems", T_STR, NULL },
  { "MemoryReservation", T_INT, NULL },
  { "MemorySwap", T_INT, NULL },
  { "MemorySwappiness", T_INT, NULL },
  { "OomKillDisable", T_BOOL, NULL },
  { "PidsLimit", T_INT, NULL },
  { "RestartPolicy", T_OBJ, NULL },
  { NULL, 0, NULL },
};

static const field exec_fields[] = {
  { "AttachStdin", T_BOOL, "false" },
  { "AttachStdout", T_BOOL, "false" },
  { "AttachStderr", T_BOOL, "false" },
  { "ConsoleSize", T_INTARR, "null" },
  { "DetachKeys", T_STR, "\"\"" },
  { "Tty", T_BOOL, "false" },
  { "Env", T_STRV, "null" },
  { "Cmd", T_STRSLICE, "null" },
  { "Privileged", T_BOOL, "false" },
  { "User", T_STR, "\"\"" },
  { "WorkingDir", T_STR, "\"\"" },
  { NULL, 0, NULL },
};

static const struct
{
  const field *fields;
  const char *go_name;
} kinds[] = {
  [SCHEMA_CONFIG] = { config_fields, "Config" },
  [SCHEMA_HOST_CONFIG] = { host_config_fields, "HostConfig" },
  [SCHEMA_HEALTHCHECK] = { health_fields, "HealthConfig" },
  [SCHEMA_UPDATE] = { update_fields, "UpdateConfig" },
  [SCHEMA_EXEC] = { exec_fields, "ExecOptions" },
};

static const char *
json_kind (const json_t *v)
{
  switch (json_typeof (v))
    {
    case JSON_OBJECT:
      return "object";
    case JSON_ARRAY:
      return "array";
    case JSON_STRING:
      return "string";
    case JSON_INTEGER:
    case JSON_REAL:
      return "number";
    case JSON_TRUE:
    case JSON_FALSE:
      return "bool";
    default:
      return "null";
    }
}

static const char *
go_type (ftype t)
{
  switch (t)
    {
    case T_STR:
      return "string";
    case T_BOOL:
      return "bool";
    case T_INT:
      return "int64";
    case T_STRV:
    case T_STRSLICE:
      return "[]string";
    case T_STRMAP:
      return "map[string]string";
    case T_ARR:
      return "[]struct";
    case T_INTARR:
      return "[2]uint";
    default:
      return "struct";
    }
}

static int
type_error (polis_error **err, const char *go_struct, const char *name,
            const json_t *v, ftype t)
{
  return error_set (err, ERROR_INVALID, EINVAL,
                    "json: cannot unmarshal %s into Go struct field %s.%s of "
                    "type %s",
                    json_kind (v), go_struct, name, go_type (t));
}

static bool
all_strings (const json_t *a)
{
  size_t i;
  json_t *x;
  json_array_foreach (a, i, x)
    if (!json_is_string (x))
      return false;
  return true;
}

json_t *
schema_strslice (const json_t *v, const char *ctx, polis_error **err)
{
  if (v == NULL || json_is_null (v))
    return json_null ();
  if (json_is_string (v))
    return json_pack ("[O]", v);
  if (json_is_array (v) && all_strings (v))
    return json_deep_copy (v);
  error_set (err, ERROR_INVALID, EINVAL,
             "json: cannot unmarshal %s into Go value of type strslice.StrSlice"
             " (%s)",
             json_kind (v), ctx);
  return NULL;
}

/* The value of NAME in IN, matched case-insensitively as Go does. */
static json_t *
lookup (const json_t *in, const char *name)
{
  json_t *v = json_object_get (in, name);
  if (v)
    return v;
  const char *k;
  json_t *x;
  json_object_foreach ((json_t *) in, k, x)
    if (strcasecmp (k, name) == 0)
      return x;
  return NULL;
}

json_t *
schema_normalize (schema_kind kind, const json_t *in, polis_error **err)
{
  const field *fields = kinds[kind].fields;
  const char *go_struct = kinds[kind].go_name;
  json_t *out = json_object ();
  for (const field *f = fields; f->name; f++)
    {
      json_t *v = in ? lookup (in, f->name) : NULL;
      if (v == NULL || json_is_null (v))
        {
          if (f->dflt)
            json_object_set_new (out, f->name,
                                 json_loads (f->dflt, JSON_DECODE_ANY, NULL));
          continue;
        }
      json_t *nv = NULL;
      switch (f->type)
        {
        case T_STR:
          /* Go cannot tell "" from absent: Docker fills the default. */
          if (json_is_string (v) && *json_string_value (v) == '\0' && f->dflt
              && strcmp (f->dflt, "\"\"") != 0)
            nv = json_loads (f->dflt, JSON_DECODE_ANY, NULL);
          else if (json_is_string (v))
            nv = json_incref (v);
          break;
        case T_BOOL:
          if (json_is_boolean (v))
            nv = json_incref (v);
          break;
        case T_INT:
          if (json_is_integer (v))
            nv = json_incref (v);
          else if (json_is_real (v) && json_real_value (v) > -9e18
                   && json_real_value (v) < 9e18
                   && (double) (json_int_t) json_real_value (v) == json_real_value (v))
            nv = json_integer ((json_int_t) json_real_value (v));
          break;
        case T_STRV:
          if (json_is_array (v) && all_strings (v))
            nv = json_deep_copy (v);
          break;
        case T_STRSLICE:
          if (json_is_string (v) || (json_is_array (v) && all_strings (v)))
            nv = schema_strslice (v, f->name, NULL);
          break;
        case T_STRMAP:
          if (json_is_object (v))
            {
              const char *k;
              json_t *x;
              bool ok = true;
              json_object_foreach (v, k, x)
                ok = ok && json_is_string (x);
              if (ok)
                nv = json_deep_copy (v);
            }
          break;
        case T_OBJ:
          if (json_is_object (v))
            nv = json_deep_copy (v);
          break;
        case T_ARR:
          if (json_is_array (v))
            nv = json_deep_copy (v);
          break;
        case T_INTARR:
          if (json_is_array (v) && json_array_size (v) == 2
              && json_is_integer (json_array_get (v, 0))
              && json_is_integer (json_array_get (v, 1)))
            nv = json_deep_copy (v);
          break;
        case T_HEALTH:
          if (json_is_object (v))
            {
              nv = schema_normalize (SCHEMA_HEALTHCHECK, v, err);
              if (nv == NULL)
                {
                  json_decref (out);
                  return NULL;
                }
            }
          break;
        }
      if (nv == NULL)
        {
          type_error (err, go_struct, f->name, v, f->type);
          json_decref (out);
          return NULL;
        }
      json_object_set_new (out, f->name, nv);
    }
  return out;
}
