/* seccomp_profile.c - Docker's seccomp profiles, resolved per container. */
#include "seccomp_profile.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

#include "base/cleanup.h"
#include "base/pjson.h"
#include "runtime/caps.h"

/* Generated at build time from tests/data/seccomp-default.json. */
extern const char seccomp_default_json[];
extern const unsigned long seccomp_default_json_len;

static pthread_once_t default_once = PTHREAD_ONCE_INIT;
static json_t *default_profile;

/* The last resolution of the default profile: most containers have the
   same bounding set, and parsing + resolving costs more than the rest of
   config.json. */
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t cache_bounding;
static json_t *cache_result;

static void
load_default (void)
{
  polis_error *err = NULL;
  default_profile = pjson_parse (seccomp_default_json,
                                 seccomp_default_json_len, "seccomp profile",
                                 &err);
  error_free (&err);
}

/* uname -m -> the profile's arch word and the libseccomp arch name. */
static void
host_arch (const char **arch, const char **scmp)
{
  static const struct
  {
    const char *machine, *arch, *scmp;
  } arches[] = {
    { "x86_64", "amd64", "SCMP_ARCH_X86_64" },
    { "aarch64", "arm64", "SCMP_ARCH_AARCH64" },
    { "i686", "x86", "SCMP_ARCH_X86" },
    { "ppc64le", "ppc64le", "SCMP_ARCH_PPC64LE" },
    { "s390x", "s390x", "SCMP_ARCH_S390X" },
    { "riscv64", "riscv64", "SCMP_ARCH_RISCV64" },
  };
  struct utsname u;
  *arch = *scmp = "";
  if (uname (&u) < 0)
    return;
  for (size_t i = 0; i < sizeof arches / sizeof *arches; i++)
    if (strcmp (u.machine, arches[i].machine) == 0)
      {
        *arch = arches[i].arch;
        *scmp = arches[i].scmp;
      }
}

/* Is the running kernel at least WANT ("4.8")? */
static bool
kernel_at_least (const char *want)
{
  struct utsname u;
  int hm = 0, hn = 0, wm = 0, wn = 0;
  if (uname (&u) < 0 || sscanf (u.release, "%d.%d", &hm, &hn) < 1
      || sscanf (want, "%d.%d", &wm, &wn) < 1)
    return false;
  return hm > wm || (hm == wm && hn >= wn);
}

static bool
strings_contain (const json_t *arr, const char *s)
{
  size_t i;
  json_t *v;
  json_array_foreach (arr, i, v)
    if (json_is_string (v) && strcmp (json_string_value (v), s) == 0)
      return true;
  return false;
}

static bool
has_cap (uint64_t bounding, const char *name)
{
  int n = caps_from_name (name);
  return n >= 0 && (bounding & (UINT64_C (1) << n));
}

static bool
rule_applies (const json_t *rule, const char *arch, uint64_t bounding)
{
  json_t *exc = json_object_get (rule, "excludes");
  json_t *inc = json_object_get (rule, "includes");
  size_t i;
  json_t *v;
  if (strings_contain (json_object_get (exc, "arches"), arch))
    return false;
  json_array_foreach (json_object_get (exc, "caps"), i, v)
    if (json_is_string (v) && has_cap (bounding, json_string_value (v)))
      return false;
  const char *mk = json_string_value (json_object_get (exc, "minKernel"));
  if (mk && kernel_at_least (mk))
    return false;
  json_t *ia = json_object_get (inc, "arches");
  if (json_array_size (ia) > 0 && !strings_contain (ia, arch))
    return false;
  json_array_foreach (json_object_get (inc, "caps"), i, v)
    if (json_is_string (v) && !has_cap (bounding, json_string_value (v)))
      return false;
  mk = json_string_value (json_object_get (inc, "minKernel"));
  if (mk && !kernel_at_least (mk))
    return false;
  return true;
}

static json_t *
resolve (const json_t *profile, uint64_t bounding, polis_error **err)
{
  if (!json_is_object (profile))
    {
      error_set (err, ERROR_INVALID, EINVAL,
                 "seccomp profile: expected an object");
      return NULL;
    }
  const char *arch, *scmp;
  host_arch (&arch, &scmp);
  json_t *out = json_object ();
  static const char *const copied[]
      = { "defaultAction", "defaultErrnoRet", "flags", "listenerPath",
          "listenerMetadata", "architectures" };
  for (size_t i = 0; i < sizeof copied / sizeof *copied; i++)
    {
      json_t *v = json_object_get (profile, copied[i]);
      if (v && !json_is_null (v))
        json_object_set (out, copied[i], v);
    }
  size_t i;
  json_t *m;
  json_array_foreach (json_object_get (profile, "archMap"), i, m)
  {
    const char *a = json_string_value (json_object_get (m, "architecture"));
    if (a == NULL || strcmp (a, scmp) != 0)
      continue;
    json_t *arches = json_pack ("[s]", a);
    json_array_extend (arches, json_object_get (m, "subArchitectures"));
    json_object_set_new (out, "architectures", arches);
  }
  json_t *rules = json_array ();
  json_t *r;
  json_array_foreach (json_object_get (profile, "syscalls"), i, r)
  {
    if (!rule_applies (r, arch, bounding))
      continue;
    json_t *names = json_object_get (r, "names");
    json_t *name = json_object_get (r, "name");
    json_t *oci = json_object ();
    if (json_is_array (names))
      json_object_set (oci, "names", names);
    else if (json_is_string (name))
      json_object_set_new (oci, "names", json_pack ("[O]", name));
    else
      {
        json_decref (oci);
        continue;
      }
    json_t *action = json_object_get (r, "action");
    if (json_is_string (action))
      json_object_set (oci, "action", action);
    else
      json_object_set_new (oci, "action", json_string ("SCMP_ACT_ALLOW"));
    json_t *er = json_object_get (r, "errnoRet");
    if (er && !json_is_null (er))
      json_object_set (oci, "errnoRet", er);
    json_t *args = json_object_get (r, "args");
    if (json_is_array (args) && json_array_size (args) > 0)
      json_object_set (oci, "args", args);
    json_array_append_new (rules, oci);
  }
  json_object_set_new (out, "syscalls", rules);
  return out;
}

json_t *
seccomp_profile_resolve (const json_t *profile, uint64_t bounding,
                         polis_error **err)
{
  if (profile)
    return resolve (profile, bounding, err);
  pthread_once (&default_once, load_default);
  if (default_profile == NULL)
    {
      error_set (err, ERROR_INTERNAL, EINVAL,
                 "the built-in seccomp profile does not parse");
      return NULL;
    }
  pthread_mutex_lock (&cache_lock);
  if (cache_result == NULL || cache_bounding != bounding)
    {
      json_t *r = resolve (default_profile, bounding, err);
      if (r == NULL)
        {
          pthread_mutex_unlock (&cache_lock);
          return NULL;
        }
      json_decref (cache_result);
      cache_result = r;
      cache_bounding = bounding;
    }
  /* Callers own their copy: the config.json writer adds nothing to it,
     but a shared object must never be changed under another thread. */
  json_t *copy = json_incref (cache_result);
  pthread_mutex_unlock (&cache_lock);
  return copy;
}
