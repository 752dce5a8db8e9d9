/* container_create.c - POST /containers/create: validate a request as
 * dockerd does, merge the image's config into it, record the container. */
#include "engine_internal.h"
#include "network.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/file.h"
#include "base/log.h"
#include "base/pjson.h"
#include "base/xalloc.h"
#include "container_mounts.h"
#include "container_schema.h"
#include "image/image_db.h"
#include "image/image_inspect.h"
#include "image/image_store.h"
#include "image/reference.h"
#include "oci_spec.h"
#include "runtime/caps.h"
#include "volume.h"

#define MIN_MEMORY (6 * 1024 * 1024)

/* --- names and ids ----------------------------------------------------------- */

bool
engine_valid_name (const char *name)
{
  if (name[0] == '/')
    name++;
  size_t n = strlen (name);
  if (n < 2 || n > 255)
    return false;
  for (size_t i = 0; i < n; i++)
    {
      char ch = name[i];
      bool alnum = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')
                   || (ch >= '0' && ch <= '9');
      if (!alnum && (i == 0 || (ch != '_' && ch != '.' && ch != '-')))
        return false;
    }
  return true;
}

static const char *const name_left[] = {
  "admiring", "agitated", "amazing", "bold", "brave", "busy", "calm",
  "clever", "cool", "crazy", "dazzling", "determined", "eager", "ecstatic",
  "elegant", "epic", "focused", "friendly", "gallant", "gifted", "happy",
  "hopeful", "inspiring", "jolly", "keen", "kind", "laughing", "lucid",
  "magical", "modest", "nice", "nifty", "nostalgic", "objective", "optimistic",
  "peaceful", "pensive", "quirky", "relaxed", "serene", "sharp", "silly",
  "stoic", "sweet", "tender", "trusting", "upbeat", "vibrant", "wizardly",
  "zealous",
};

static const char *const name_right[] = {
  "agnesi", "albattani", "allen", "archimedes", "babbage", "bardeen",
  "bell", "bohr", "borg", "carson", "cerf", "curie", "darwin", "dijkstra",
  "einstein", "euler", "fermat", "feynman", "franklin", "galileo", "gauss",
  "goldberg", "goodall", "hamilton", "hawking", "hopper", "hypatia",
  "kepler", "knuth", "lamport", "liskov", "lovelace", "maxwell", "mccarthy",
  "meitner", "newton", "noether", "pare", "pascal", "perlman", "ritchie",
  "shannon", "shtern", "thompson", "torvalds", "turing", "wilson", "wing",
  "wozniak", "yonath",
};

static uint32_t
random_u32 (void)
{
  uint32_t v = 0;
  if (getrandom (&v, sizeof v, 0) != sizeof v)
    abort ();
  return v;
}

static void
random_id (char out[65])
{
  unsigned char b[32];
  if (getrandom (b, sizeof b, 0) != sizeof b)
    abort ();
  for (int i = 0; i < 32; i++)
    snprintf (out + 2 * i, 3, "%02x", b[i]);
  /* Docker never hands out an ID that looks like a number: a short ID
     of only digits would be read as a name's prefix by some tools. */
  bool digits = true;
  for (int i = 0; i < 12; i++)
    digits = digits && out[i] >= '0' && out[i] <= '9';
  if (digits)
    out[0] = 'a';
}

static char *
generate_name (engine *e)
{
  size_t nl = sizeof name_left / sizeof *name_left;
  size_t nr = sizeof name_right / sizeof *name_right;
  for (int attempt = 0; attempt < 10; attempt++)
    {
      char *n = xasprintf ("%s_%s", name_left[random_u32 () % nl],
                           name_right[random_u32 () % nr]);
      if (attempt >= 3)
        {
          char *m = xasprintf ("%s%u", n, random_u32 () % 10);
          free (n);
          n = m;
        }
      if (engine_find_name (e, n) == NULL)
        return n;
      free (n);
    }
  char id[65];
  random_id (id);
  return xasprintf ("polis_%.12s", id);
}

/* --- validation ------------------------------------------------------------- */

static int
normalize_caps (json_t *hc, const char *key, polis_error **err)
{
  json_t *caps = json_object_get (hc, key);
  if (!json_is_array (caps))
    return 0;
  json_t *out = json_array ();
  size_t i;
  json_t *v;
  json_array_foreach (caps, i, v)
  {
    const char *s = json_string_value (v);
    if (strcasecmp (s, "ALL") == 0)
      {
        json_array_append_new (out, json_string ("ALL"));
        continue;
      }
    cleanup_free char *up = xasprintf ("%s%s",
                                       strncasecmp (s, "CAP_", 4) == 0 ? "" : "CAP_",
                                       s);
    for (char *p = up; *p; p++)
      if (*p >= 'a' && *p <= 'z')
        *p = (char) (*p - 'a' + 'A');
    if (caps_from_name (up) < 0)
      {
        json_decref (out);
        return error_set (err, ERROR_INVALID, EINVAL,
                          "invalid %s: unknown capability: \"%s\"", key, up);
      }
    json_array_append_new (out, json_string (up));
  }
  json_object_set_new (hc, key, out);
  return 0;
}

static int
validate_restart (json_t *hc, polis_error **err)
{
  json_t *rp = json_object_get (hc, "RestartPolicy");
  const char *name = json_string_value (json_object_get (rp, "Name"));
  json_int_t max = json_integer_value (json_object_get (rp, "MaximumRetryCount"));
  if (name == NULL || *name == '\0')
    name = "no";
  if (strcmp (name, "no") != 0 && strcmp (name, "always") != 0
      && strcmp (name, "unless-stopped") != 0
      && strcmp (name, "on-failure") != 0)
    return error_set (err, ERROR_INVALID, EINVAL,
                      "invalid restart policy: unknown policy '%s'; use one of "
                      "'no', 'always', 'on-failure', or 'unless-stopped'",
                      name);
  if (max < 0)
    return error_set (err, ERROR_INVALID, EINVAL,
                      "invalid restart policy: maximum retry count cannot be "
                      "negative");
  if (max > 0 && strcmp (name, "on-failure") != 0)
    return error_set (err, ERROR_INVALID, EINVAL,
                      "invalid restart policy: maximum retry count can only "
                      "be used with 'on-failure'");
  if (strcmp (name, "no") != 0
      && json_is_true (json_object_get (hc, "AutoRemove")))
    return error_set (err, ERROR_INVALID, EINVAL,
                      "can't create 'AutoRemove' container with restart "
                      "policy");
  json_object_set_new (hc, "RestartPolicy",
                       json_pack ("{s:s,s:I}", "Name", name,
                                  "MaximumRetryCount", max));
  return 0;
}

static int
validate_security_opt (json_t *hc, polis_error **err)
{
  json_t *so = json_object_get (hc, "SecurityOpt");
  size_t i;
  json_t *v;
  json_array_foreach (so, i, v)
  {
    const char *s = json_string_value (v);
    const char *eq = strpbrk (s, "=:");
    size_t kl = eq ? (size_t) (eq - s) : strlen (s);
    if ((kl == 17 && strncmp (s, "no-new-privileges", 17) == 0)
        || (kl == 7 && strncmp (s, "seccomp", 7) == 0)
        || (kl == 8 && strncmp (s, "apparmor", 8) == 0)
        || (kl == 5 && strncmp (s, "label", 5) == 0)
        || (kl == 11 && strncmp (s, "systempaths", 11) == 0))
      {
        if (kl == 7 && eq && strcmp (eq + 1, "unconfined") != 0)
          {
            polis_error *e = NULL;
            cleanup_json json_t *p = pjson_parse (eq + 1, strlen (eq + 1),
                                                  "seccomp profile", &e);
            if (p == NULL)
              {
                error_set (err, ERROR_INVALID, EINVAL,
                           "decoding seccomp profile failed: %s", e->msg);
                error_free (&e);
                return -1;
              }
          }
        continue;
      }
    return error_set (err, ERROR_INVALID, EINVAL,
                      "invalid --security-opt 1: \"%s\"", s);
  }
  return 0;
}

static int
validate_host_config (engine *e, json_t *hc, json_t **warnings,
                      polis_error **err)
{
  (void) warnings; /* none today; kept for the next check that warns */
  json_int_t mem = json_integer_value (json_object_get (hc, "Memory"));
  json_int_t swap = json_integer_value (json_object_get (hc, "MemorySwap"));
  json_int_t nano = json_integer_value (json_object_get (hc, "NanoCpus"));
  json_int_t shm = json_integer_value (json_object_get (hc, "ShmSize"));
  if (mem > 0 && mem < MIN_MEMORY)
    return error_set (err, ERROR_INVALID, EINVAL,
                      "Minimum memory limit allowed is 6MB");
  if (mem > 0 && swap > 0 && swap < mem)
    return error_set (err, ERROR_INVALID, EINVAL,
                      "Minimum memoryswap limit should be larger than memory "
                      "limit, see usage");
  if (nano < 0)
    return error_set (err, ERROR_INVALID, EINVAL,
                      "Range of CPUs is from 0.01 to %ld.00, as there are "
                      "only %ld CPUs available",
                      sysconf (_SC_NPROCESSORS_ONLN),
                      sysconf (_SC_NPROCESSORS_ONLN));
  if (nano > 0 && json_integer_value (json_object_get (hc, "CpuPeriod")) > 0)
    return error_set (err, ERROR_INVALID, EINVAL,
                      "Conflicting options: Nano CPUs and CPU Period cannot "
                      "both be set");
  if (nano > 0 && json_integer_value (json_object_get (hc, "CpuQuota")) > 0)
    return error_set (err, ERROR_INVALID, EINVAL,
                      "Conflicting options: Nano CPUs and CPU Quota cannot "
                      "both be set");
  if (nano > (json_int_t) sysconf (_SC_NPROCESSORS_ONLN) * 1000000000)
    return error_set (err, ERROR_INVALID, EINVAL,
                      "Range of CPUs is from 0.01 to %ld.00, as there are "
                      "only %ld CPUs available",
                      sysconf (_SC_NPROCESSORS_ONLN),
                      sysconf (_SC_NPROCESSORS_ONLN));
  if (shm < 0)
    return error_set (err, ERROR_INVALID, EINVAL,
                      "SHM size can not be less than 0");
  if (shm == 0)
    json_object_set_new (hc, "ShmSize", json_integer (64 * 1024 * 1024));
  json_t *pids = json_object_get (hc, "PidsLimit");
  if (json_is_integer (pids) && json_integer_value (pids) <= 0)
    json_object_set_new (hc, "PidsLimit", json_null ());

  if (validate_restart (hc, err) < 0 || normalize_caps (hc, "CapAdd", err) < 0
      || normalize_caps (hc, "CapDrop", err) < 0
      || validate_security_opt (hc, err) < 0)
    return -1;

  /* The network mode is resolved with the endpoints (network.c). */
  const char *nm = json_string_value (json_object_get (hc, "NetworkMode"));
  if (nm == NULL || *nm == '\0' || strcmp (nm, "default") == 0)
    json_object_set_new (hc, "NetworkMode", json_string ("bridge"));
  const char *cg = json_string_value (json_object_get (hc, "CgroupnsMode"));
  if (cg == NULL || *cg == '\0')
    json_object_set_new (hc, "CgroupnsMode",
                         json_string (e->cgroup_version == 2 ? "private" : "host"));
  else if (strcmp (cg, "private") != 0 && strcmp (cg, "host") != 0)
    return error_set (err, ERROR_INVALID, EINVAL,
                      "invalid cgroup namespace mode: %s", cg);

  json_t *lc = json_object_get (hc, "LogConfig");
  const char *lt = json_string_value (json_object_get (lc, "Type"));
  if (lt == NULL || *lt == '\0')
    json_object_set_new (lc, "Type", json_string ("json-file"));
  else if (strcmp (lt, "json-file") != 0 && strcmp (lt, "none") != 0)
    return error_set (err, ERROR_INVALID, EINVAL,
                      "failed to create logger: logger: no log driver named "
                      "'%s' is registered",
                      lt);
  if (!json_is_object (json_object_get (lc, "Config")))
    json_object_set_new (lc, "Config", json_object ());

  json_t *eh = json_object_get (hc, "ExtraHosts");
  size_t i;
  json_t *v;
  json_array_foreach (eh, i, v)
  {
    const char *s = json_string_value (v);
    const char *sep = strchr (s, ':');
    const char *eq = strchr (s, '=');
    if ((sep == NULL && eq == NULL) || s[0] == ':' || s[0] == '=')
      return error_set (err, ERROR_INVALID, EINVAL,
                        "invalid argument \"%s\" for \"--add-host\" flag", s);
  }

  json_t *devs = json_object_get (hc, "Devices");
  json_array_foreach (devs, i, v)
  {
    const char *p = json_string_value (json_object_get (v, "PathOnHost"));
    struct stat st;
    if (p == NULL || stat (p, &st) < 0)
      return error_set (err, ERROR_INVALID, ENOENT,
                        "error gathering device information while adding "
                        "custom device \"%s\": no such file or directory",
                        p ? p : "");
    if (!S_ISCHR (st.st_mode) && !S_ISBLK (st.st_mode))
      return error_set (err, ERROR_INVALID, EINVAL,
                        "error gathering device information while adding "
                        "custom device \"%s\": not a device node",
                        p);
  }

  json_t *ul = json_object_get (hc, "Ulimits");
  json_array_foreach (ul, i, v)
  {
    const char *name = json_string_value (json_object_get (v, "Name"));
    if (name == NULL || oci_spec_rlimit_name (name) == NULL)
      return error_set (err, ERROR_INVALID, EINVAL, "invalid ulimit type: %s",
                        name ? name : "");
  }
  return 0;
}

static int
validate_health (json_t *hc_cfg, polis_error **err)
{
  if (!json_is_object (hc_cfg))
    return 0;
  static const char *const keys[] = { "Interval", "Timeout", "StartPeriod",
                                      "StartInterval" };
  for (size_t i = 0; i < 4; i++)
    {
      json_int_t v = json_integer_value (json_object_get (hc_cfg, keys[i]));
      if (v != 0 && v < 1000000)
        return error_set (err, ERROR_INVALID, EINVAL,
                          "%s in Healthcheck cannot be less than 1ms",
                          keys[i]);
    }
  if (json_integer_value (json_object_get (hc_cfg, "Retries")) < 0)
    return error_set (err, ERROR_INVALID, EINVAL,
                      "Retries in Healthcheck cannot be negative");
  return 0;
}

/* --- merging the image config (Docker's daemon.merge) ----------------------- */

static void
merge_env (json_t *config, json_t *img_env)
{
  json_t *user = json_object_get (config, "Env");
  json_t *out = json_array ();
  size_t i;
  json_t *v;
  json_array_foreach (img_env, i, v)
    if (json_is_string (v))
      json_array_append (out, v);
  json_array_foreach (user, i, v)
  {
    const char *s = json_string_value (v);
    const char *eq = strchr (s, '=');
    size_t kl = eq ? (size_t) (eq - s) : strlen (s);
    bool replaced = false;
    for (size_t j = 0; j < json_array_size (out); j++)
      {
        const char *o = json_string_value (json_array_get (out, j));
        if (strncmp (o, s, kl) == 0 && (o[kl] == '=' || o[kl] == '\0'))
          {
            json_array_set (out, j, v);
            replaced = true;
            break;
          }
      }
    if (!replaced)
      json_array_append (out, v);
  }
  json_object_set_new (config, "Env", out);
}

static void
merge_image_config (json_t *config, const json_t *img)
{
  if (!json_is_object (img))
    return;
  merge_env (config, json_object_get (img, "Env"));
  json_t *ep = json_object_get (config, "Entrypoint");
  json_t *cmd = json_object_get (config, "Cmd");
  if (json_array_size (ep) == 0)
    {
      if (json_array_size (cmd) == 0)
        {
          json_t *ic = json_object_get (img, "Cmd");
          if (json_is_array (ic))
            json_object_set_new (config, "Cmd", json_deep_copy (ic));
          json_t *ae = json_object_get (img, "ArgsEscaped");
          if (json_is_true (ae))
            json_object_set (config, "ArgsEscaped", ae);
        }
      if (json_is_null (ep) || ep == NULL)
        {
          json_t *ie = json_object_get (img, "Entrypoint");
          if (json_is_array (ie))
            json_object_set_new (config, "Entrypoint", json_deep_copy (ie));
        }
    }
  static const char *const str_keys[] = { "WorkingDir", "User", "StopSignal" };
  for (size_t i = 0; i < 3; i++)
    {
      const char *cur = json_string_value (json_object_get (config, str_keys[i]));
      json_t *iv = json_object_get (img, str_keys[i]);
      if ((cur == NULL || *cur == '\0') && json_is_string (iv)
          && *json_string_value (iv))
        json_object_set (config, str_keys[i], iv);
    }
  /* Labels, exposed ports and volumes: the image's, then the user's. */
  static const char *const map_keys[] = { "Labels", "ExposedPorts", "Volumes" };
  for (size_t i = 0; i < 3; i++)
    {
      json_t *iv = json_object_get (img, map_keys[i]);
      if (!json_is_object (iv) || json_object_size (iv) == 0)
        continue;
      json_t *merged = json_deep_copy (iv);
      json_t *cur = json_object_get (config, map_keys[i]);
      if (json_is_object (cur))
        json_object_update (merged, cur);
      json_object_set_new (config, map_keys[i], merged);
    }
  json_t *ih = json_object_get (img, "Healthcheck");
  if (json_is_object (ih))
    {
      json_t *h = json_object_get (config, "Healthcheck");
      if (h == NULL)
        json_object_set_new (config, "Healthcheck",
                             schema_normalize (SCHEMA_HEALTHCHECK, ih, NULL));
      else
        {
          static const char *const hk[] = { "Test", "Interval", "Timeout",
                                            "StartPeriod", "StartInterval",
                                            "Retries" };
          for (size_t i = 0; i < 6; i++)
            {
              json_t *cur = json_object_get (h, hk[i]);
              bool empty = cur == NULL || (json_is_array (cur) && json_array_size (cur) == 0)
                           || (json_is_integer (cur) && json_integer_value (cur) == 0);
              json_t *iv = json_object_get (ih, hk[i]);
              if (empty && iv)
                json_object_set (h, hk[i], iv);
            }
        }
    }
  json_t *ob = json_object_get (img, "OnBuild");
  if (json_is_array (ob) && json_array_size (ob) > 0
      && json_is_null (json_object_get (config, "OnBuild")))
    json_object_set (config, "OnBuild", ob);
}

/* --- create ------------------------------------------------------------------ */

typedef struct
{
  const char *ref;
  char *id;
  json_t *img_config;
  char *familiar;
} image_lookup;

static int
lookup_image (void *ud, image_store *s, polis_error **err)
{
  image_lookup *l = ud;
  polis_error *e = NULL;
  l->id = image_store_resolve (s, l->ref, &e);
  if (l->id == NULL)
    {
      error_free (&e);
      /* Docker names the image as it would pull it: "busybox:latest". */
      cleanup_reference image_reference *r = image_reference_parse (l->ref, &e);
      if (r == NULL)
        {
          error_set (err, ERROR_INVALID, EINVAL, "%s", e->msg);
          error_free (&e);
          return -1;
        }
      cleanup_free char *fam = image_reference_familiar (r);
      return error_set (err, ERROR_NOT_FOUND, ENOENT, "No such image: %s", fam);
    }
  cleanup_json json_t *ins = image_inspect_json (s, l->id, err);
  if (ins == NULL)
    return -1;
  json_t *cfg = json_object_get (ins, "Config");
  l->img_config = json_is_object (cfg) ? json_incref (cfg) : json_object ();
  return 0;
}

static int
hold_image (void *ud, image_store *s, polis_error **err)
{
  container *c = ud;
  return image_db_hold (s->db, c->image_id, c->id, err);
}

static int
release_image (void *ud, image_store *s, polis_error **err)
{
  container *c = ud;
  return image_db_release (s->db, c->id, err);
}

int
engine_release_image (engine *e, container *c)
{
  polis_error *err = NULL;
  int r = engine_with_images (e, release_image, c, &err);
  if (r < 0)
    {
      log_warning ("release image of %.12s: %s", c->id, err->msg);
      error_free (&err);
    }
  return r;
}

static int
make_dirs (container *c, polis_error **err)
{
  static const char *const subs[] = { "", "/rootfs", "/upper", "/work" };
  for (size_t i = 0; i < 4; i++)
    {
      cleanup_free char *p = xasprintf ("%s%s", c->dir, subs[i]);
      if (mkdir (p, i == 0 ? 0710 : 0755) < 0)
        return error_sys (err, "mkdir `%s`", p);
    }
  return 0;
}

/* Name C (GIVEN, or a generated name) and insert it in the database and
   the table, in one step under the lock so that two creates cannot take
   the same name. */
static int
record (engine *e, container *c, char *given, polis_error **err)
{
  engine_lock (e);
  if (given)
    {
      container *other = engine_find_name (e, given);
      if (other)
        {
          engine_unlock (e);
          return error_set (err, ERROR_CONFLICT, EEXIST,
                            "Conflict. The container name \"/%s\" is already "
                            "in use by container \"%s\". You have to remove "
                            "(or rename) that container to be able to reuse "
                            "that name.",
                            given, other->id);
        }
      c->name = xstrdup (given);
    }
  else
    c->name = generate_name (e);
  cleanup_json json_t *doc = container_doc (c);
  cleanup_free char *text = json_dumps (doc, JSON_COMPACT);
  int r = state_db_insert_container (e->db, c->id, c->name, c->created_ns, text,
                                     err);
  if (r == 0)
    engine_table_add (e, c);
  engine_unlock (e);
  return r;
}

/* HostConfig.VolumesFrom: "container[:ro|rw]" takes that container's binds
   and volumes (not its tmpfs mounts) at destinations MOUNTS does not have
   yet, read-only or writable as asked, else as they were. */
static int
volumes_from (engine *e, const json_t *hc, json_t *mounts, polis_error **err)
{
  size_t i;
  json_t *v;
  json_array_foreach (json_object_get (hc, "VolumesFrom"), i, v)
  {
    cleanup_free char *ref = xstrdup (json_string_value (v));
    char *mode = strrchr (ref, ':');
    if (mode)
      *mode++ = '\0';
    if (mode && strcmp (mode, "ro") != 0 && strcmp (mode, "rw") != 0)
      return error_set (err, ERROR_INVALID, EINVAL, "invalid mode: %s", mode);
    cleanup_container container *src = engine_container_get (e, ref, err);
    if (src == NULL)
      {
        /* Not 404: clients take a 404 from create as a missing image and
           pull it. */
        (*err)->cls = ERROR_INVALID;
        return -1;
      }
    size_t j;
    json_t *m;
    json_array_foreach (src->mounts, j, m)
    {
      const char *dst = container_mounts_str (m, "Destination");
      if (strcmp (container_mounts_str (m, "Type"), "tmpfs") == 0)
        continue;
      bool taken = false;
      size_t k;
      json_t *o;
      json_array_foreach (mounts, k, o)
        taken = taken || strcmp (container_mounts_str (o, "Destination"), dst) == 0;
      if (taken)
        continue;
      if (json_array_size (mounts) >= CONTAINER_MOUNTS_MAX)
        return error_set (err, ERROR_INVALID, E2BIG,
                          "invalid mount config: more than %d mounts",
                          CONTAINER_MOUNTS_MAX);
      json_t *copy = json_deep_copy (m);
      json_object_set_new (copy, "CopyUp", json_false ());
      json_object_del (copy, "CreateSource");
      if (mode)
        json_object_set_new (copy, "RW", json_boolean (strcmp (mode, "rw") == 0));
      json_array_append_new (mounts, copy);
    }
  }
  return 0;
}

/* Make the volumes C names, then record C, under the volume lock: a
   volume removal cannot slip in between.  A failed record takes back the
   volumes it made. */
static int
record_with_volumes (engine *e, container *c, char *given, polis_error **err)
{
  cleanup_json json_t *made = json_array ();
  volume_lock (e);
  int r = volume_ensure_for (e, c, made, err);
  if (r == 0)
    r = record (e, c, given, err);
  if (r < 0)
    volume_remove_names (e, made);
  volume_unlock (e);
  return r;
}

int
engine_container_create (engine *e, const char *name, json_t *body,
                         int api_version, char **id_out, json_t **warnings_out,
                         polis_error **err)
{
  (void) api_version;
  if (!json_is_object (body) || json_object_size (body) == 0)
    return error_set (err, ERROR_INVALID, EINVAL,
                      "config cannot be empty in order to create a container");
  if (name && *name && !engine_valid_name (name))
    return error_set (err, ERROR_INVALID, EINVAL,
                      "Invalid container name (%s), only "
                      "[a-zA-Z0-9][a-zA-Z0-9_.-] are allowed",
                      name);
  cleanup_json json_t *config = schema_normalize (SCHEMA_CONFIG, body, err);
  if (config == NULL)
    return -1;
  json_t *hc_in = json_object_get (body, "HostConfig");
  if (hc_in && !json_is_object (hc_in) && !json_is_null (hc_in))
    return error_set (err, ERROR_INVALID, EINVAL,
                      "json: cannot unmarshal %s into Go struct field "
                      "CreateRequest.HostConfig of type container.HostConfig",
                      json_is_array (hc_in) ? "array" : "value");
  cleanup_json json_t *hc = schema_normalize (SCHEMA_HOST_CONFIG, hc_in, err);
  if (hc == NULL)
    return -1;
  cleanup_json json_t *warnings = json_array ();
  if (validate_host_config (e, hc, &warnings, err) < 0
      || validate_health (json_object_get (config, "Healthcheck"), err) < 0)
    return -1;

  const char *image = json_string_value (json_object_get (config, "Image"));
  if (image == NULL || *image == '\0')
    return error_set (err, ERROR_INVALID, EINVAL,
                      "no image specified: config.Image is empty");
  image_lookup il = { .ref = image };
  if (engine_with_images (e, lookup_image, &il, err) < 0)
    return -1;
  cleanup_free char *image_id = il.id;
  cleanup_json json_t *img_config = il.img_config;
  merge_image_config (config, img_config);
  json_t *ep = json_object_get (config, "Entrypoint");
  json_t *cmd = json_object_get (config, "Cmd");
  if (json_array_size (ep) + json_array_size (cmd) == 0)
    return error_set (err, ERROR_INVALID, EINVAL, "no command specified");
  cleanup_json json_t *mounts
      = container_mounts_resolve (e->volumes_dir, config, hc, err);
  if (mounts == NULL || volumes_from (e, hc, mounts, err) < 0)
    return -1;

  char id[65];
  random_id (id);
  const char *hn = json_string_value (json_object_get (config, "Hostname"));
  if (hn == NULL || *hn == '\0')
    json_object_set_new (config, "Hostname", json_stringn (id, 12));
  json_t *nc = json_object_get (body, "NetworkingConfig");

  cleanup_free char *given = name && *name ? xstrdup (name[0] == '/' ? name + 1 : name) : NULL;
  container *c = container_new (e, id);
  c->created_ns = events_now_ns ();
  c->image_ref = xstrdup (image);
  c->image_id = xstrdup (image_id);
  c->config = json_incref (config);
  c->host_config = json_incref (hc);
  c->net_config = json_is_object (nc) ? json_incref (nc) : NULL;
  c->status = CS_CREATED;
  c->mounts = steal_pointer (&mounts);

  if (make_dirs (c, err) < 0)
    {
      container_free (c);
      return -1;
    }
  if (record_with_volumes (e, c, given, err) < 0)
    goto fail;
  /* The name is known now (the resolver answers it): the endpoints and
     their addresses; without them the container goes again. */
  if (network_container_prepare (e, c, err) < 0)
    {
      engine_lock (e);
      polis_error *e3 = NULL;
      state_db_delete_container (e->db, c->id, &e3);
      error_free (&e3);
      engine_table_remove (e, c);
      engine_unlock (e);
      goto fail;
    }
  engine_lock (e);
  free (c->summary_static); /* a ps meanwhile saw no endpoints yet */
  c->summary_static = NULL;
  container_save (e, c, NULL);
  engine_unlock (e);

  polis_error *hold_err = NULL;
  if (engine_with_images (e, hold_image, c, &hold_err) < 0)
    log_warning ("hold image for %.12s: %s", c->id, hold_err->msg);
  error_free (&hold_err);
  container_event (e, c, "create", NULL);
  *id_out = xstrdup (c->id);
  *warnings_out = steal_pointer (&warnings);
  return 0;
fail:
  {
    polis_error *e2 = NULL;
    file_remove_tree_at (AT_FDCWD, c->dir, &e2);
    error_free (&e2);
  }
  container_free (c);
  return -1;
}
