/* container_mounts.c - Binds, Mounts and Config.Volumes into mount points. */
#include "container_mounts.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "base/cleanup.h"
#include "base/path.h"
#include "base/pjson.h"
#include "base/xalloc.h"
#include "volume.h"

const char *
container_mounts_str (const json_t *m, const char *key)
{
  const char *s = json_string_value (json_object_get (m, key));
  return s ? s : "";
}

static void
random_name (char out[65])
{
  unsigned char b[32];
  if (getrandom (b, sizeof b, 0) != sizeof b)
    abort ();
  for (int i = 0; i < 32; i++)
    snprintf (out + 2 * i, 3, "%02x", b[i]);
}

static bool
is_propagation (const char *o)
{
  static const char *const p[] = { "private", "rprivate", "shared", "rshared",
                                   "slave",   "rslave",   NULL };
  for (const char *const *q = p; *q; q++)
    if (strcmp (o, *q) == 0)
      return true;
  return false;
}

static int
too_long (const char *what, const char *s, polis_error **err)
{
  if (s && strlen (s) > CONTAINER_MOUNTS_STR_MAX)
    return error_set (err, ERROR_INVALID, E2BIG,
                      "invalid mount config: %s is longer than %d bytes", what,
                      CONTAINER_MOUNTS_STR_MAX);
  return 0;
}

static int
check_target (const char *type, const char *dst, polis_error **err)
{
  if (dst == NULL || *dst == '\0')
    return error_set (err, ERROR_INVALID, EINVAL,
                      "invalid mount config for type \"%s\": field Target "
                      "must not be empty",
                      type);
  if (dst[0] != '/')
    return error_set (err, ERROR_INVALID, EINVAL,
                      "invalid mount config for type \"%s\": invalid mount "
                      "path: '%s' mount path must be absolute",
                      type, dst);
  if (strcmp (dst, "/") == 0)
    return error_set (err, ERROR_INVALID, EINVAL,
                      "invalid mount config for type \"%s\": invalid "
                      "specification: destination can't be '/'",
                      type);
  return 0;
}

/* Append M to OUT unless its destination is taken ("Duplicate mount
   point", Docker's 400).  Steals M. */
static int
add (json_t *out, json_t *m, polis_error **err)
{
  const char *dst = container_mounts_str (m, "Destination");
  size_t i;
  json_t *v;
  json_array_foreach (out, i, v)
    if (strcmp (container_mounts_str (v, "Destination"), dst) == 0)
      {
        error_set (err, ERROR_INVALID, EINVAL, "Duplicate mount point: %s", dst);
        json_decref (m);
        return -1;
      }
  if (json_array_size (out) >= CONTAINER_MOUNTS_MAX)
    {
      json_decref (m);
      return error_set (err, ERROR_INVALID, E2BIG,
                        "invalid mount config: more than %d mounts",
                        CONTAINER_MOUNTS_MAX);
    }
  json_array_append_new (out, m);
  return 0;
}

static json_t *
volume_point (const char *volumes_dir, const char *name, const char *dst,
              const char *mode, bool rw, bool copy_up)
{
  char anon[65];
  bool anonymous = name == NULL || *name == '\0';
  if (anonymous)
    {
      random_name (anon);
      name = anon;
    }
  cleanup_free char *src = xasprintf ("%s/%s/_data", volumes_dir, name);
  return json_pack ("{s:s,s:s,s:s,s:s,s:s,s:s,s:b,s:s,s:b,s:b}", "Type",
                    "volume", "Name", name, "Source", src, "Destination", dst,
                    "Driver", "local", "Mode", mode, "RW", rw, "Propagation",
                    "", "CopyUp", copy_up, "Anonymous", anonymous);
}

/* One HostConfig.Binds entry: [src:]dst[:mode]. */
static int
parse_bind (const char *volumes_dir, const char *spec, json_t *out,
            polis_error **err)
{
  if (too_long ("a bind", spec, err) < 0)
    return -1;
  cleanup_free char *copy = xstrdup (spec);
  char *parts[3] = { NULL, NULL, NULL };
  size_t n = 0;
  for (char *p = copy, *s; p && n < 4; p = s)
    {
      s = strchr (p, ':');
      if (s)
        *s++ = '\0';
      if (n == 3)
        return error_set (err, ERROR_INVALID, EINVAL,
                          "invalid volume specification: '%s'", spec);
      parts[n++] = p;
    }
  const char *src = n >= 2 ? parts[0] : "";
  const char *dst = n >= 2 ? parts[1] : parts[0];
  const char *mode = n == 3 ? parts[2] : "";
  if (n == 0 || dst == NULL || *dst == '\0' || (n >= 2 && *src == '\0'))
    return error_set (err, ERROR_INVALID, EINVAL,
                      "invalid volume specification: '%s'", spec);
  bool bind = src[0] == '/';
  const char *type = bind ? "bind" : "volume";
  if (dst[0] != '/')
    return error_set (err, ERROR_INVALID, EINVAL,
                      "invalid volume specification: '%s': invalid mount "
                      "config for type \"%s\": invalid mount path: '%s' mount "
                      "path must be absolute",
                      spec, type, dst);
  cleanup_free char *cdst = path_clean (dst);
  if (strcmp (cdst, "/") == 0)
    return error_set (err, ERROR_INVALID, EINVAL,
                      "invalid volume specification: '%s': invalid mount "
                      "config for type \"%s\": invalid specification: "
                      "destination can't be '/'",
                      spec, type);
  bool rw = true, seen_rw = false, nocopy = false;
  const char *prop = NULL;
  int labels = 0;
  cleanup_free char *mcopy = xstrdup (mode);
  char *save = NULL;
  for (char *o = strtok_r (mcopy, ",", &save); o; o = strtok_r (NULL, ",", &save))
    {
      if (strcmp (o, "ro") == 0 || strcmp (o, "rw") == 0)
        {
          if (seen_rw)
            return error_set (err, ERROR_INVALID, EINVAL, "invalid mode: %s", mode);
          seen_rw = true;
          rw = o[1] == 'w';
        }
      else if (strcmp (o, "z") == 0 || strcmp (o, "Z") == 0)
        {
          /* SELinux relabelling: accepted, nothing to do without SELinux. */
          if (labels++)
            return error_set (err, ERROR_INVALID, EINVAL, "invalid mode: %s", mode);
        }
      else if (is_propagation (o) && prop == NULL && bind)
        prop = o;
      else if (strcmp (o, "nocopy") == 0 && !bind && !nocopy)
        nocopy = true;
      else
        return error_set (err, ERROR_INVALID, EINVAL, "invalid mode: %s", mode);
    }
  if (!bind)
    {
      if (n >= 2 && volume_check_name (src, err) < 0)
        return -1;
      return add (out,
                  volume_point (volumes_dir, n >= 2 ? src : NULL, cdst,
                                *mode ? mode : "z", rw, !nocopy),
                  err);
    }
  cleanup_free char *csrc = path_clean (src);
  return add (out,
              json_pack ("{s:s,s:s,s:s,s:s,s:b,s:s,s:b}", "Type", "bind",
                         "Source", csrc, "Destination", cdst, "Mode", mode,
                         "RW", rw, "Propagation", prop ? prop : "rprivate",
                         "CreateSource", true),
              err);
}

static int
forbid (const char *type, const json_t *m, const char *field, polis_error **err)
{
  json_t *v = json_object_get (m, field);
  if (v && !json_is_null (v))
    return error_set (err, ERROR_INVALID, EINVAL,
                      "invalid mount config for type \"%s\": field %s must "
                      "not be specified",
                      type, field);
  return 0;
}

/* Copy a {string: string} object of at most 256 entries (labels, driver
   options), checking sizes. */
static int
string_map (const json_t *in, const char *what, json_t **out, polis_error **err)
{
  *out = NULL;
  if (in == NULL || json_is_null (in))
    return 0;
  if (!json_is_object (in))
    return error_set (err, ERROR_INVALID, EINVAL,
                      "invalid mount config: %s must be an object", what);
  if (json_object_size (in) > 256)
    return error_set (err, ERROR_INVALID, E2BIG,
                      "invalid mount config: more than 256 %s", what);
  const char *k;
  json_t *v;
  json_object_foreach ((json_t *) in, k, v)
    if (!json_is_string (v) || too_long (what, k, err) < 0
        || too_long (what, json_string_value (v), err) < 0)
      return error_set (err, ERROR_INVALID, EINVAL,
                        "invalid mount config: %s must map strings to strings",
                        what);
  *out = json_deep_copy (in);
  return 0;
}

/* One HostConfig.Mounts entry (Docker's mount.Mount). */
static int
parse_mount (const char *volumes_dir, const json_t *m, json_t *out,
             polis_error **err)
{
  if (!json_is_object (m))
    return error_set (err, ERROR_INVALID, EINVAL,
                      "invalid mount config: a mount must be an object");
  const char *type = container_mounts_str (m, "Type");
  const char *src = container_mounts_str (m, "Source");
  const char *dst = container_mounts_str (m, "Target");
  bool ro = json_is_true (json_object_get (m, "ReadOnly"));
  if (too_long ("Source", src, err) < 0 || too_long ("Target", dst, err) < 0)
    return -1;
  if (strcmp (type, "bind") != 0 && strcmp (type, "volume") != 0
      && strcmp (type, "tmpfs") != 0)
    return error_set (err, ERROR_INVALID, EINVAL,
                      "invalid mount config for type \"%s\": mount type unknown",
                      type);
  if (check_target (type, dst, err) < 0)
    return -1;
  cleanup_free char *cdst = path_clean (dst);
  if (strcmp (type, "bind") == 0)
    {
      if (forbid (type, m, "VolumeOptions", err) < 0
          || forbid (type, m, "TmpfsOptions", err) < 0)
        return -1;
      if (*src == '\0')
        return error_set (err, ERROR_INVALID, EINVAL,
                          "invalid mount config for type \"bind\": field "
                          "Source must not be empty");
      if (src[0] != '/')
        return error_set (err, ERROR_INVALID, EINVAL,
                          "invalid mount config for type \"bind\": invalid "
                          "mount path: '%s' mount path must be absolute",
                          src);
      json_t *bo = json_object_get (m, "BindOptions");
      const char *prop = container_mounts_str (bo, "Propagation");
      if (*prop && !is_propagation (prop))
        return error_set (err, ERROR_INVALID, EINVAL,
                          "invalid mount config for type \"bind\": invalid "
                          "propagation mode: %s",
                          prop);
      bool create = json_is_true (json_object_get (bo, "CreateMountpoint"));
      struct stat st;
      if (!create && stat (src, &st) < 0)
        return error_set (err, ERROR_INVALID, ENOENT,
                          "invalid mount config for type \"bind\": bind "
                          "source path does not exist: %s",
                          src);
      cleanup_free char *csrc = path_clean (src);
      return add (out,
                  json_pack ("{s:s,s:s,s:s,s:s,s:b,s:s,s:b}", "Type", "bind",
                             "Source", csrc, "Destination", cdst, "Mode", "",
                             "RW", !ro, "Propagation", *prop ? prop : "rprivate",
                             "CreateSource", create),
                  err);
    }
  if (strcmp (type, "tmpfs") == 0)
    {
      if (*src)
        return error_set (err, ERROR_INVALID, EINVAL,
                          "invalid mount config for type \"tmpfs\": field "
                          "Source must not be specified");
      if (forbid (type, m, "BindOptions", err) < 0
          || forbid (type, m, "VolumeOptions", err) < 0)
        return -1;
      json_t *to = json_object_get (m, "TmpfsOptions");
      json_int_t size = json_integer_value (json_object_get (to, "SizeBytes"));
      json_int_t mode = json_integer_value (json_object_get (to, "Mode"));
      if (size < 0)
        return error_set (err, ERROR_INVALID, EINVAL,
                          "invalid mount config for type \"tmpfs\": invalid "
                          "tmpfs size %lld",
                          (long long) size);
      if (mode < 0 || mode > 07777)
        return error_set (err, ERROR_INVALID, EINVAL,
                          "invalid mount config for type \"tmpfs\": invalid "
                          "tmpfs mode %llo",
                          (long long) mode);
      char data[96] = "";
      int off = 0;
      if (size > 0)
        off = snprintf (data, sizeof data, "size=%lld", (long long) size);
      if (mode > 0)
        snprintf (data + off, sizeof data - (size_t) off, "%smode=%llo",
                  off ? "," : "", (long long) mode);
      return add (out,
                  json_pack ("{s:s,s:s,s:s,s:s,s:b,s:s,s:s}", "Type", "tmpfs",
                             "Source", "", "Destination", cdst, "Mode", "",
                             "RW", !ro, "Propagation", "", "TmpfsData", data),
                  err);
    }
  /* volume */
  if (forbid (type, m, "BindOptions", err) < 0
      || forbid (type, m, "TmpfsOptions", err) < 0)
    return -1;
  json_t *vo = json_object_get (m, "VolumeOptions");
  json_t *dc = json_object_get (vo, "DriverConfig");
  const char *driver = container_mounts_str (dc, "Name");
  if (*driver && strcmp (driver, "local") != 0)
    /* 400, not Docker's 404: clients take a 404 from create as a missing
       image and pull it. */
    return error_set (err, ERROR_INVALID, ENOENT,
                      "error looking up volume plugin %s: plugin \"%s\" not "
                      "found",
                      driver, driver);
  if (*container_mounts_str (vo, "Subpath"))
    return error_set (err, ERROR_INVALID, EINVAL,
                      "invalid mount config for type \"volume\": volume "
                      "subpaths are not supported by polisd");
  if (*src && volume_check_name (src, err) < 0)
    return -1;
  cleanup_json json_t *labels = NULL, *opts = NULL;
  if (string_map (json_object_get (vo, "Labels"), "volume labels", &labels, err) < 0
      || string_map (json_object_get (dc, "Options"), "volume options", &opts, err) < 0)
    return -1;
  json_t *p = volume_point (volumes_dir, src, cdst, "z", !ro,
                            !json_is_true (json_object_get (vo, "NoCopy")));
  if (labels)
    json_object_set (p, "VolumeLabels", labels);
  if (opts)
    json_object_set (p, "VolumeOptions", opts);
  return add (out, p, err);
}

json_t *
container_mounts_resolve (const char *volumes_dir, const json_t *config,
                          const json_t *hc, polis_error **err)
{
  cleanup_json json_t *out = json_array ();
  json_t *binds = json_object_get (hc, "Binds");
  json_t *mounts = json_object_get (hc, "Mounts");
  if (json_array_size (binds) + json_array_size (mounts) > CONTAINER_MOUNTS_MAX)
    {
      error_set (err, ERROR_INVALID, E2BIG,
                 "invalid mount config: more than %d mounts",
                 CONTAINER_MOUNTS_MAX);
      return NULL;
    }
  size_t i;
  json_t *v;
  json_array_foreach (binds, i, v)
  {
    if (!json_is_string (v))
      {
        error_set (err, ERROR_INVALID, EINVAL, "invalid volume specification");
        return NULL;
      }
    if (parse_bind (volumes_dir, json_string_value (v), out, err) < 0)
      return NULL;
  }
  json_array_foreach (mounts, i, v)
    if (parse_mount (volumes_dir, v, out, err) < 0)
      return NULL;
  /* HostConfig.Tmpfs may not take a destination twice either. */
  const char *k;
  json_object_foreach (json_object_get (hc, "Tmpfs"), k, v)
  {
    cleanup_free char *cdst = path_clean (k);
    size_t j;
    json_t *m;
    json_array_foreach (out, j, m)
      if (strcmp (container_mounts_str (m, "Destination"), cdst) == 0)
        {
          error_set (err, ERROR_INVALID, EINVAL, "Duplicate mount point: %s", cdst);
          return NULL;
        }
    if (k[0] != '/')
      {
        error_set (err, ERROR_INVALID, EINVAL,
                   "invalid mount config for type \"tmpfs\": invalid mount "
                   "path: '%s' mount path must be absolute",
                   k);
        return NULL;
      }
  }
  /* The image's VOLUMEs and `-v /path`: an anonymous volume for every
     destination nothing else covers. */
  json_t *vols = json_object_get (config, "Volumes");
  if (json_object_size (vols) > CONTAINER_MOUNTS_MAX)
    {
      error_set (err, ERROR_INVALID, E2BIG,
                 "invalid mount config: more than %d volumes",
                 CONTAINER_MOUNTS_MAX);
      return NULL;
    }
  json_object_foreach (vols, k, v)
  {
    if (too_long ("a volume path", k, err) < 0)
      return NULL;
    if (k[0] != '/')
      {
        error_set (err, ERROR_INVALID, EINVAL,
                   "invalid mount config for type \"volume\": invalid mount "
                   "path: '%s' mount path must be absolute",
                   k);
        return NULL;
      }
    cleanup_free char *cdst = path_clean (k);
    if (strcmp (cdst, "/") == 0)
      {
        error_set (err, ERROR_INVALID, EINVAL,
                   "invalid mount config for type \"volume\": invalid "
                   "specification: destination can't be '/'");
        return NULL;
      }
    bool taken = json_object_get (json_object_get (hc, "Tmpfs"), k) != NULL;
    size_t j;
    json_t *m;
    json_array_foreach (out, j, m)
      taken = taken || strcmp (container_mounts_str (m, "Destination"), cdst) == 0;
    if (taken)
      continue;
    if (add (out, volume_point (volumes_dir, NULL, cdst, "", true, true), err) < 0)
      return NULL;
  }
  return steal_pointer (&out);
}

json_t *
container_mounts_public (const json_t *mounts)
{
  json_t *out = json_array ();
  size_t i;
  json_t *m;
  json_array_foreach (mounts, i, m)
  {
    const char *type = container_mounts_str (m, "Type");
    json_t *o = json_pack ("{s:s}", "Type", type);
    if (strcmp (type, "volume") == 0)
      json_object_set (o, "Name", json_object_get (m, "Name"));
    json_object_set_new (o, "Source", json_string (container_mounts_str (m, "Source")));
    json_object_set_new (o, "Destination",
                         json_string (container_mounts_str (m, "Destination")));
    if (strcmp (type, "volume") == 0)
      json_object_set_new (o, "Driver", json_string ("local"));
    json_object_set_new (o, "Mode", json_string (container_mounts_str (m, "Mode")));
    json_object_set_new (o, "RW", json_boolean (json_is_true (json_object_get (m, "RW"))));
    json_object_set_new (o, "Propagation",
                         json_string (container_mounts_str (m, "Propagation")));
    json_array_append_new (out, o);
  }
  return out;
}
