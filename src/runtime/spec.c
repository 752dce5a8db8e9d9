/* spec.c - an OCI runtime config.json, parsed and checked. */
#include "spec.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/resource.h>

#include "base/cleanup.h"
#include "base/file.h"
#include "base/pjson.h"
#include "base/strv.h"
#include "base/xalloc.h"
#include "runtime/caps.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

static const struct
{
  const char *name;
  int flag;
} spec_ns_table[NS_COUNT] = {
  [NS_USER] = { "user", CLONE_NEWUSER },
  [NS_MNT] = { "mount", CLONE_NEWNS },
  [NS_PID] = { "pid", CLONE_NEWPID },
  [NS_NET] = { "network", CLONE_NEWNET },
  [NS_IPC] = { "ipc", CLONE_NEWIPC },
  [NS_UTS] = { "uts", CLONE_NEWUTS },
  [NS_CGROUP] = { "cgroup", CLONE_NEWCGROUP },
  [NS_TIME] = { "time", CLONE_NEWTIME },
};

static const char *const spec_hook_names[HOOK_COUNT] = {
  [HOOK_PRESTART] = "prestart",
  [HOOK_CREATE_RUNTIME] = "createRuntime",
  [HOOK_CREATE_CONTAINER] = "createContainer",
  [HOOK_START_CONTAINER] = "startContainer",
  [HOOK_POSTSTART] = "poststart",
  [HOOK_POSTSTOP] = "poststop",
};

static const struct
{
  const char *name;
  int resource;
} spec_rlimit_table[] = {
  { "RLIMIT_AS", RLIMIT_AS },
  { "RLIMIT_CORE", RLIMIT_CORE },
  { "RLIMIT_CPU", RLIMIT_CPU },
  { "RLIMIT_DATA", RLIMIT_DATA },
  { "RLIMIT_FSIZE", RLIMIT_FSIZE },
  { "RLIMIT_LOCKS", RLIMIT_LOCKS },
  { "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK },
  { "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE },
  { "RLIMIT_NICE", RLIMIT_NICE },
  { "RLIMIT_NOFILE", RLIMIT_NOFILE },
  { "RLIMIT_NPROC", RLIMIT_NPROC },
  { "RLIMIT_RSS", RLIMIT_RSS },
  { "RLIMIT_RTPRIO", RLIMIT_RTPRIO },
  { "RLIMIT_RTTIME", RLIMIT_RTTIME },
  { "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING },
  { "RLIMIT_STACK", RLIMIT_STACK },
};

/* Mount options: each either sets or clears MS_* flags, or is a
   propagation type, or a recursive attribute for mount_setattr(). */
typedef enum
{
  OPT_FLAG_SET,
  OPT_FLAG_CLEAR,
  OPT_PROPAGATION,
  OPT_ATTR_SET,
  OPT_ATTR_CLEAR,
  OPT_BIND,
  OPT_RBIND,
  OPT_TMPCOPYUP,
  OPT_IGNORE,
} spec_mount_opt_kind;

static const struct
{
  const char *name;
  spec_mount_opt_kind kind;
  unsigned long value;
} spec_mount_opts[] = {
  { "defaults", OPT_IGNORE, 0 },
  { "ro", OPT_FLAG_SET, MS_RDONLY },
  { "rw", OPT_FLAG_CLEAR, MS_RDONLY },
  { "suid", OPT_FLAG_CLEAR, MS_NOSUID },
  { "nosuid", OPT_FLAG_SET, MS_NOSUID },
  { "dev", OPT_FLAG_CLEAR, MS_NODEV },
  { "nodev", OPT_FLAG_SET, MS_NODEV },
  { "exec", OPT_FLAG_CLEAR, MS_NOEXEC },
  { "noexec", OPT_FLAG_SET, MS_NOEXEC },
  { "sync", OPT_FLAG_SET, MS_SYNCHRONOUS },
  { "async", OPT_FLAG_CLEAR, MS_SYNCHRONOUS },
  { "dirsync", OPT_FLAG_SET, MS_DIRSYNC },
  { "remount", OPT_FLAG_SET, MS_REMOUNT },
  { "mand", OPT_FLAG_SET, MS_MANDLOCK },
  { "nomand", OPT_FLAG_CLEAR, MS_MANDLOCK },
  { "atime", OPT_FLAG_CLEAR, MS_NOATIME },
  { "noatime", OPT_FLAG_SET, MS_NOATIME },
  { "diratime", OPT_FLAG_CLEAR, MS_NODIRATIME },
  { "nodiratime", OPT_FLAG_SET, MS_NODIRATIME },
  { "relatime", OPT_FLAG_SET, MS_RELATIME },
  { "norelatime", OPT_FLAG_CLEAR, MS_RELATIME },
  { "strictatime", OPT_FLAG_SET, MS_STRICTATIME },
  { "nostrictatime", OPT_FLAG_CLEAR, MS_STRICTATIME },
  { "silent", OPT_FLAG_SET, MS_SILENT },
  { "loud", OPT_FLAG_CLEAR, MS_SILENT },
  { "lazytime", OPT_FLAG_SET, MS_LAZYTIME },
  { "nolazytime", OPT_FLAG_CLEAR, MS_LAZYTIME },
  { "iversion", OPT_FLAG_SET, MS_I_VERSION },
  { "noiversion", OPT_FLAG_CLEAR, MS_I_VERSION },
  { "bind", OPT_BIND, 0 },
  { "rbind", OPT_RBIND, 0 },
  { "private", OPT_PROPAGATION, MS_PRIVATE },
  { "rprivate", OPT_PROPAGATION, MS_PRIVATE | MS_REC },
  { "shared", OPT_PROPAGATION, MS_SHARED },
  { "rshared", OPT_PROPAGATION, MS_SHARED | MS_REC },
  { "slave", OPT_PROPAGATION, MS_SLAVE },
  { "rslave", OPT_PROPAGATION, MS_SLAVE | MS_REC },
  { "unbindable", OPT_PROPAGATION, MS_UNBINDABLE },
  { "runbindable", OPT_PROPAGATION, MS_UNBINDABLE | MS_REC },
  { "rro", OPT_ATTR_SET, MOUNT_ATTR_RDONLY },
  { "rrw", OPT_ATTR_CLEAR, MOUNT_ATTR_RDONLY },
  { "rnosuid", OPT_ATTR_SET, MOUNT_ATTR_NOSUID },
  { "rsuid", OPT_ATTR_CLEAR, MOUNT_ATTR_NOSUID },
  { "rnodev", OPT_ATTR_SET, MOUNT_ATTR_NODEV },
  { "rdev", OPT_ATTR_CLEAR, MOUNT_ATTR_NODEV },
  { "rnoexec", OPT_ATTR_SET, MOUNT_ATTR_NOEXEC },
  { "rexec", OPT_ATTR_CLEAR, MOUNT_ATTR_NOEXEC },
  { "rnodiratime", OPT_ATTR_SET, MOUNT_ATTR_NODIRATIME },
  { "rdiratime", OPT_ATTR_CLEAR, MOUNT_ATTR_NODIRATIME },
  { "rnoatime", OPT_ATTR_SET, MOUNT_ATTR_NOATIME },
  { "rrelatime", OPT_ATTR_SET, MOUNT_ATTR_RELATIME },
  { "rstrictatime", OPT_ATTR_SET, MOUNT_ATTR_STRICTATIME },
  { "tmpcopyup", OPT_TMPCOPYUP, 0 },
  /* Docker/podman hints for other runtimes; meaningless here. */
  { "z", OPT_IGNORE, 0 },
  { "Z", OPT_IGNORE, 0 },
  { "U", OPT_IGNORE, 0 },
  { "copy", OPT_IGNORE, 0 },
  { "nocopy", OPT_IGNORE, 0 },
};

const char *
spec_ns_name (spec_ns_kind kind)
{
  return spec_ns_table[kind].name;
}

int
spec_ns_clone_flag (spec_ns_kind kind)
{
  return spec_ns_table[kind].flag;
}

const char *
spec_hook_name (spec_hook_kind kind)
{
  return spec_hook_names[kind];
}

static int
spec_invalid (polis_error **err, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

static int
spec_invalid (polis_error **err, const char *fmt, ...)
{
  va_list ap;
  cleanup_free char *msg = NULL;
  va_start (ap, fmt);
  if (vasprintf (&msg, fmt, ap) < 0)
    abort ();
  va_end (ap);
  return error_set (err, ERROR_INVALID, EINVAL, "%s", msg);
}

int
spec_mount_parse_options (spec_mount *m, char *const *options, const char *ctx,
                          polis_error **err)
{
  cleanup_free char *data = NULL;
  size_t data_len = 0;

  for (size_t i = 0; options && options[i]; i++)
    {
      const char *o = options[i];
      bool found = false;
      for (size_t k = 0; k < sizeof spec_mount_opts / sizeof *spec_mount_opts;
           k++)
        {
          if (strcmp (o, spec_mount_opts[k].name) != 0)
            continue;
          found = true;
          unsigned long v = spec_mount_opts[k].value;
          switch (spec_mount_opts[k].kind)
            {
            case OPT_FLAG_SET:
              m->flags |= v;
              break;
            case OPT_FLAG_CLEAR:
              m->flags &= ~v;
              break;
            case OPT_PROPAGATION:
              m->propagation = v;
              break;
            case OPT_ATTR_SET:
              m->attr_set |= v;
              m->attr_clr &= ~v;
              break;
            case OPT_ATTR_CLEAR:
              m->attr_clr |= v;
              m->attr_set &= ~v;
              break;
            case OPT_BIND:
              m->bind = true;
              break;
            case OPT_RBIND:
              m->bind = true;
              m->flags |= MS_REC;
              break;
            case OPT_TMPCOPYUP:
              m->tmpcopyup = true;
              break;
            case OPT_IGNORE:
              break;
            }
          break;
        }
      if (found)
        continue;
      if (strchr (o, ',') != NULL)
        return spec_invalid (err, "%s.options[%zu]: `%s` contains a comma",
                             ctx, i, o);
      /* Anything else is file-system data (size=, mode=, uid=...). */
      size_t ol = strlen (o);
      data = xrealloc (data, data_len + ol + 2);
      if (data_len)
        data[data_len++] = ',';
      memcpy (data + data_len, o, ol + 1);
      data_len += ol;
    }
  free (m->data);
  m->data = steal_pointer (&data);
  return 0;
}

static int
spec_parse_mounts (spec *s, polis_error **err)
{
  json_t *arr = NULL;
  if (pjson_get_array (s->json, "", "mounts", false, &arr, err) < 0)
    return -1;
  if (arr == NULL)
    return 0;
  size_t n = json_array_size (arr);
  if (n > SPEC_MAX_MOUNTS)
    return spec_invalid (err, "mounts: more than %u entries", SPEC_MAX_MOUNTS);
  s->mounts = xzalloc ((n + 1) * sizeof (spec_mount));
  for (size_t i = 0; i < n; i++)
    {
      json_t *mj = json_array_get (arr, i);
      spec_mount *m = &s->mounts[i];
      char ctx[64];
      snprintf (ctx, sizeof ctx, "mounts[%zu]", i);
      s->n_mounts = i + 1;
      if (!json_is_object (mj))
        return spec_invalid (err, "%s: expected an object", ctx);
      if (pjson_get_string (mj, ctx, "destination", true, &m->destination, err)
              < 0
          || pjson_get_string (mj, ctx, "type", false, &m->type, err) < 0
          || pjson_get_string (mj, ctx, "source", false, &m->source, err) < 0)
        return -1;
      if (m->destination[0] != '/')
        return spec_invalid (err, "%s.destination: `%s` must be an absolute path",
                             ctx, m->destination);
      cleanup_strv char **options = NULL;
      if (pjson_get_strv (mj, ctx, "options", false, &options, err) < 0)
        return -1;
      if (spec_mount_parse_options (m, options, ctx, err) < 0)
        return -1;
      if (m->type && strcmp (m->type, "bind") == 0)
        m->bind = true;
      if (m->type == NULL && !m->bind)
        return spec_invalid (err, "%s.type: missing for a mount that is not a bind mount",
                             ctx);
      if (m->bind && (m->source == NULL || *m->source == '\0'))
        return spec_invalid (err, "%s.source: missing for a bind mount", ctx);
      json_t *uidm = json_object_get (mj, "uidMappings");
      json_t *gidm = json_object_get (mj, "gidMappings");
      if ((uidm && json_array_size (uidm)) || (gidm && json_array_size (gidm)))
        return error_set (err, ERROR_INVALID, ENOTSUP,
                          "%s: id-mapped mounts are not supported", ctx);
    }
  return 0;
}

static int
spec_parse_hooks (spec *s, polis_error **err)
{
  json_t *hooks = NULL;
  if (pjson_get_object (s->json, "", "hooks", false, &hooks, err) < 0)
    return -1;
  if (hooks == NULL)
    return 0;
  for (int k = 0; k < HOOK_COUNT; k++)
    {
      json_t *arr = NULL;
      if (pjson_get_array (hooks, "hooks", spec_hook_names[k], false, &arr, err)
          < 0)
        return -1;
      if (arr == NULL)
        continue;
      size_t n = json_array_size (arr);
      if (n > SPEC_MAX_HOOKS)
        return spec_invalid (err, "hooks.%s: more than %u hooks",
                             spec_hook_names[k], SPEC_MAX_HOOKS);
      s->hooks[k] = xzalloc ((n + 1) * sizeof (spec_hook));
      for (size_t i = 0; i < n; i++)
        {
          json_t *hj = json_array_get (arr, i);
          spec_hook *h = &s->hooks[k][i];
          char ctx[64];
          int64_t timeout = 0;
          snprintf (ctx, sizeof ctx, "hooks.%s[%zu]", spec_hook_names[k], i);
          s->n_hooks[k] = i + 1;
          if (!json_is_object (hj))
            return spec_invalid (err, "%s: expected an object", ctx);
          if (pjson_get_string (hj, ctx, "path", true, &h->path, err) < 0
              || pjson_get_strv (hj, ctx, "args", false, &h->args, err) < 0
              || pjson_get_strv (hj, ctx, "env", false, &h->env, err) < 0
              || pjson_get_int64 (hj, ctx, "timeout", false, &timeout, err) < 0)
            return -1;
          if (h->path[0] != '/')
            return spec_invalid (err, "%s.path: `%s` must be an absolute path",
                                 ctx, h->path);
          if (json_object_get (hj, "timeout") && (timeout <= 0 || timeout > 86400))
            return spec_invalid (err, "%s.timeout: must be a positive number of seconds",
                                 ctx);
          h->timeout = (int) timeout;
        }
    }
  return 0;
}

static int
spec_parse_caps (spec_process *p, const json_t *pj, const char *ctx,
                 polis_error **err)
{
  static const char *const set_names[CAP_SET_COUNT] = {
    [CAP_SET_BOUNDING] = "bounding",
    [CAP_SET_EFFECTIVE] = "effective",
    [CAP_SET_INHERITABLE] = "inheritable",
    [CAP_SET_PERMITTED] = "permitted",
    [CAP_SET_AMBIENT] = "ambient",
  };
  json_t *caps = NULL;
  char cctx[96];
  snprintf (cctx, sizeof cctx, "%s.capabilities", ctx);
  if (pjson_get_object (pj, ctx, "capabilities", false, &caps, err) < 0)
    return -1;
  if (caps == NULL)
    return 0;
  p->has_caps = true;
  for (int k = 0; k < CAP_SET_COUNT; k++)
    {
      cleanup_strv char **names = NULL;
      if (pjson_get_strv (caps, cctx, set_names[k], false, &names, err) < 0)
        return -1;
      for (size_t i = 0; names && names[i]; i++)
        {
          int n = caps_from_name (names[i]);
          if (n < 0)
            {
              /* runc and crun warn and go on: configs written for newer
                 kernels must still run here. */
              continue;
            }
          p->caps[k] |= 1ULL << n;
        }
    }
  return 0;
}

static int
spec_parse_rlimits (spec_process *p, const json_t *pj, const char *ctx,
                    polis_error **err)
{
  json_t *arr = NULL;
  if (pjson_get_array (pj, ctx, "rlimits", false, &arr, err) < 0)
    return -1;
  if (arr == NULL)
    return 0;
  size_t n = json_array_size (arr);
  if (n > 64)
    return spec_invalid (err, "%s.rlimits: too many entries", ctx);
  p->rlimits = xzalloc ((n + 1) * sizeof (spec_rlimit));
  for (size_t i = 0; i < n; i++)
    {
      json_t *rj = json_array_get (arr, i);
      spec_rlimit *r = &p->rlimits[i];
      char rctx[96];
      const char *type = NULL;
      snprintf (rctx, sizeof rctx, "%s.rlimits[%zu]", ctx, i);
      if (!json_is_object (rj))
        return spec_invalid (err, "%s: expected an object", rctx);
      if (pjson_get_string (rj, rctx, "type", true, &type, err) < 0
          || pjson_get_uint64 (rj, rctx, "soft", true, UINT64_MAX, &r->soft, err)
                 < 0
          || pjson_get_uint64 (rj, rctx, "hard", true, UINT64_MAX, &r->hard, err)
                 < 0)
        return -1;
      r->resource = -1;
      for (size_t k = 0;
           k < sizeof spec_rlimit_table / sizeof *spec_rlimit_table; k++)
        if (strcmp (spec_rlimit_table[k].name, type) == 0)
          r->resource = spec_rlimit_table[k].resource;
      if (r->resource < 0)
        return spec_invalid (err, "%s.type: unknown rlimit `%s`", rctx, type);
      for (size_t k = 0; k < i; k++)
        if (p->rlimits[k].resource == r->resource)
          return spec_invalid (err, "%s.type: `%s` given twice", rctx, type);
      if (r->soft > r->hard)
        return spec_invalid (err, "%s: soft limit %llu is above the hard limit %llu",
                             rctx, (unsigned long long) r->soft,
                             (unsigned long long) r->hard);
      r->name = type;
      p->n_rlimits = i + 1;
    }
  return 0;
}

int
spec_process_parse (const json_t *pj, const char *ctx, spec_process *p,
                    polis_error **err)
{
  json_t *user = NULL, *console = NULL, *gids = NULL;
  uint64_t v = 0;

  memset (p, 0, sizeof *p);
  if (pjson_get_bool (pj, ctx, "terminal", &p->terminal, err) < 0
      || pjson_get_strv (pj, ctx, "args", false, &p->args, err) < 0
      || pjson_get_strv (pj, ctx, "env", false, &p->env, err) < 0
      || pjson_get_string (pj, ctx, "cwd", false, &p->cwd, err) < 0
      || pjson_get_bool (pj, ctx, "noNewPrivileges", &p->no_new_privileges, err)
             < 0
      || pjson_get_string (pj, ctx, "apparmorProfile", false,
                           &p->apparmor_profile, err)
             < 0
      || pjson_get_string (pj, ctx, "selinuxLabel", false, &p->selinux_label,
                           err)
             < 0)
    return -1;
  if (p->args == NULL || p->args[0] == NULL || p->args[0][0] == '\0')
    return spec_invalid (err, "%s.args: must name the program to run", ctx);
  if (p->cwd == NULL)
    p->cwd = "/";
  if (p->cwd[0] != '/')
    return spec_invalid (err, "%s.cwd: `%s` must be an absolute path", ctx,
                         p->cwd);
  for (size_t i = 0; p->env && p->env[i]; i++)
    if (strchr (p->env[i], '=') == NULL)
      return spec_invalid (err, "%s.env[%zu]: `%s` is not KEY=VALUE", ctx, i,
                           p->env[i]);

  if (pjson_get_object (pj, ctx, "consoleSize", false, &console, err) < 0)
    return -1;
  if (console)
    {
      char cctx[96];
      snprintf (cctx, sizeof cctx, "%s.consoleSize", ctx);
      if (pjson_get_uint64 (console, cctx, "height", true, 65535, &v, err) < 0)
        return -1;
      p->console_height = (unsigned) v;
      if (pjson_get_uint64 (console, cctx, "width", true, 65535, &v, err) < 0)
        return -1;
      p->console_width = (unsigned) v;
    }

  if (pjson_get_object (pj, ctx, "user", false, &user, err) < 0)
    return -1;
  if (user)
    {
      char uctx[96];
      snprintf (uctx, sizeof uctx, "%s.user", ctx);
      v = 0;
      if (pjson_get_uint64 (user, uctx, "uid", false, UINT32_MAX - 1, &v, err) < 0)
        return -1;
      p->uid = (uid_t) v;
      v = 0;
      if (pjson_get_uint64 (user, uctx, "gid", false, UINT32_MAX - 1, &v, err) < 0)
        return -1;
      p->gid = (gid_t) v;
      if (json_object_get (user, "umask"))
        {
          if (pjson_get_uint64 (user, uctx, "umask", false, 0777, &v, err) < 0)
            return -1;
          p->has_umask = true;
          p->umask = (mode_t) v;
        }
      if (pjson_get_array (user, uctx, "additionalGids", false, &gids, err) < 0)
        return -1;
      if (gids)
        {
          size_t n = json_array_size (gids);
          if (n > 65536)
            return spec_invalid (err, "%s.additionalGids: too many", uctx);
          p->additional_gids = xzalloc ((n + 1) * sizeof (gid_t));
          for (size_t i = 0; i < n; i++)
            {
              json_t *g = json_array_get (gids, i);
              if (!json_is_integer (g) || json_integer_value (g) < 0
                  || json_integer_value (g) >= UINT32_MAX)
                return spec_invalid (err, "%s.additionalGids[%zu]: expected a gid",
                                     uctx, i);
              p->additional_gids[i] = (gid_t) json_integer_value (g);
            }
          p->n_additional_gids = n;
        }
    }

  if (spec_parse_caps (p, pj, ctx, err) < 0
      || spec_parse_rlimits (p, pj, ctx, err) < 0)
    return -1;

  if (json_object_get (pj, "oomScoreAdj"))
    {
      int64_t adj = 0;
      if (pjson_get_int64 (pj, ctx, "oomScoreAdj", false, &adj, err) < 0)
        return -1;
      if (adj < -1000 || adj > 1000)
        return spec_invalid (err, "%s.oomScoreAdj: %lld is outside -1000..1000",
                             ctx, (long long) adj);
      p->has_oom_score_adj = true;
      p->oom_score_adj = (int) adj;
    }
  return 0;
}

void
spec_process_clear (spec_process *p)
{
  cleanup_strv_fn (&p->args);
  cleanup_strv_fn (&p->env);
  free (p->additional_gids);
  free (p->rlimits);
  memset (p, 0, sizeof *p);
}

static int
spec_parse_idmaps (const json_t *lnx, const char *key, spec_idmap **out,
                   size_t *n_out, polis_error **err)
{
  json_t *arr = NULL;
  if (pjson_get_array (lnx, "linux", key, false, &arr, err) < 0)
    return -1;
  if (arr == NULL)
    return 0;
  size_t n = json_array_size (arr);
  if (n > SPEC_MAX_IDMAPS)
    return spec_invalid (err, "linux.%s: more than %u ranges", key,
                         SPEC_MAX_IDMAPS);
  *out = xzalloc ((n + 1) * sizeof (spec_idmap));
  for (size_t i = 0; i < n; i++)
    {
      json_t *mj = json_array_get (arr, i);
      char ctx[64];
      uint64_t c = 0, h = 0, sz = 0;
      snprintf (ctx, sizeof ctx, "linux.%s[%zu]", key, i);
      if (!json_is_object (mj))
        return spec_invalid (err, "%s: expected an object", ctx);
      if (pjson_get_uint64 (mj, ctx, "containerID", true, UINT32_MAX, &c, err) < 0
          || pjson_get_uint64 (mj, ctx, "hostID", true, UINT32_MAX, &h, err) < 0
          || pjson_get_uint64 (mj, ctx, "size", true, UINT32_MAX, &sz, err) < 0)
        return -1;
      if (sz == 0 || c + sz > (1ULL << 32) || h + sz > (1ULL << 32))
        return spec_invalid (err, "%s: range out of bounds", ctx);
      (*out)[i] = (spec_idmap){ (uint32_t) c, (uint32_t) h, (uint32_t) sz };
    }
  *n_out = n;
  return 0;
}

static int
spec_parse_devices (spec *s, const json_t *lnx, polis_error **err)
{
  json_t *arr = NULL;
  if (pjson_get_array (lnx, "linux", "devices", false, &arr, err) < 0)
    return -1;
  if (arr == NULL)
    return 0;
  size_t n = json_array_size (arr);
  if (n > 4096)
    return spec_invalid (err, "linux.devices: too many entries");
  s->devices = xzalloc ((n + 1) * sizeof (spec_device));
  for (size_t i = 0; i < n; i++)
    {
      json_t *dj = json_array_get (arr, i);
      spec_device *d = &s->devices[i];
      char ctx[64];
      const char *type = NULL;
      uint64_t v = 0;
      snprintf (ctx, sizeof ctx, "linux.devices[%zu]", i);
      if (!json_is_object (dj))
        return spec_invalid (err, "%s: expected an object", ctx);
      if (pjson_get_string (dj, ctx, "path", true, &d->path, err) < 0
          || pjson_get_string (dj, ctx, "type", true, &type, err) < 0)
        return -1;
      if (d->path[0] != '/')
        return spec_invalid (err, "%s.path: `%s` must be an absolute path", ctx,
                             d->path);
      if (strlen (type) != 1 || strchr ("cbup", type[0]) == NULL)
        return spec_invalid (err, "%s.type: `%s` is not one of c, b, u, p", ctx,
                             type);
      d->type = type[0];
      if (d->type != 'p')
        {
          if (pjson_get_int64 (dj, ctx, "major", true, &d->major, err) < 0
              || pjson_get_int64 (dj, ctx, "minor", true, &d->minor, err) < 0)
            return -1;
          if (d->major < 0 || d->major > 4095 || d->minor < 0
              || d->minor > 1048575)
            return spec_invalid (err, "%s: device number %lld:%lld out of range",
                                 ctx, (long long) d->major,
                                 (long long) d->minor);
        }
      if (json_object_get (dj, "fileMode"))
        {
          if (pjson_get_uint64 (dj, ctx, "fileMode", false, 07777, &v, err) < 0)
            return -1;
          d->mode = (mode_t) v;
          d->has_mode = true;
        }
      v = 0;
      if (pjson_get_uint64 (dj, ctx, "uid", false, UINT32_MAX - 1, &v, err) < 0)
        return -1;
      d->uid = (uid_t) v;
      v = 0;
      if (pjson_get_uint64 (dj, ctx, "gid", false, UINT32_MAX - 1, &v, err) < 0)
        return -1;
      d->gid = (gid_t) v;
      s->n_devices = i + 1;
    }
  return 0;
}

static int
spec_parse_time_offset (const json_t *offsets, const char *key,
                        spec_time_offset *out, polis_error **err)
{
  json_t *o = NULL;
  char ctx[64];
  snprintf (ctx, sizeof ctx, "linux.timeOffsets.%s", key);
  if (pjson_get_object (offsets, "linux.timeOffsets", key, false, &o, err) < 0)
    return -1;
  if (o == NULL)
    return 0;
  uint64_t ns = 0;
  if (pjson_get_int64 (o, ctx, "secs", false, &out->secs, err) < 0
      || pjson_get_uint64 (o, ctx, "nanosecs", false, 999999999, &ns, err) < 0)
    return -1;
  out->nanosecs = (uint32_t) ns;
  out->set = true;
  return 0;
}

static int
spec_parse_personality (spec *s, const json_t *pj, polis_error **err)
{
  const char *domain = NULL;
  json_t *flags = NULL;
  if (pjson_get_string (pj, "linux.personality", "domain", true, &domain, err) < 0
      || pjson_get_array (pj, "linux.personality", "flags", false, &flags, err) < 0)
    return -1;
  if (strcmp (domain, "LINUX") == 0)
    s->personality = PER_LINUX;
  else if (strcmp (domain, "LINUX32") == 0)
    s->personality = PER_LINUX32;
  else
    return spec_invalid (err, "linux.personality.domain: `%s` is not LINUX or LINUX32",
                         domain);
  /* The runtime spec defines no flag yet. */
  if (json_array_size (flags) > 0)
    return spec_invalid (err, "linux.personality.flags: no flag is supported");
  s->has_personality = true;
  return 0;
}

static int
spec_parse_linux (spec *s, polis_error **err)
{
  json_t *lnx = NULL, *nss = NULL, *offsets = NULL, *personality = NULL;
  const char *prop = NULL;

  if (pjson_get_object (s->json, "", "linux", false, &lnx, err) < 0)
    return -1;
  if (lnx == NULL)
    return 0;

  if (pjson_get_array (lnx, "linux", "namespaces", false, &nss, err) < 0)
    return -1;
  for (size_t i = 0; nss && i < json_array_size (nss); i++)
    {
      json_t *nj = json_array_get (nss, i);
      char ctx[64];
      const char *type = NULL, *path = NULL;
      snprintf (ctx, sizeof ctx, "linux.namespaces[%zu]", i);
      if (!json_is_object (nj))
        return spec_invalid (err, "%s: expected an object", ctx);
      if (pjson_get_string (nj, ctx, "type", true, &type, err) < 0
          || pjson_get_string (nj, ctx, "path", false, &path, err) < 0)
        return -1;
      int kind = -1;
      for (int k = 0; k < NS_COUNT; k++)
        if (strcmp (spec_ns_table[k].name, type) == 0)
          kind = k;
      if (kind < 0)
        return spec_invalid (err, "%s.type: unknown namespace `%s`", ctx, type);
      if (s->ns[kind].present)
        return spec_invalid (err, "%s.type: namespace `%s` listed twice", ctx,
                             type);
      if (path && path[0] != '/')
        return spec_invalid (err, "%s.path: `%s` must be an absolute path", ctx,
                             path);
      s->ns[kind].present = true;
      s->ns[kind].path = (path && *path) ? path : NULL;
    }

  if (spec_parse_idmaps (lnx, "uidMappings", &s->uid_maps, &s->n_uid_maps,
                         err)
          < 0
      || spec_parse_idmaps (lnx, "gidMappings", &s->gid_maps,
                            &s->n_gid_maps, err)
             < 0)
    return -1;
  if ((s->n_uid_maps || s->n_gid_maps) && !s->ns[NS_USER].present)
    return spec_invalid (err, "linux.uidMappings: mappings given without a user namespace");
  if (s->ns[NS_USER].present && !s->ns[NS_USER].path
      && (s->n_uid_maps == 0 || s->n_gid_maps == 0))
    return spec_invalid (err, "linux.uidMappings: a new user namespace needs uid and gid mappings");

  if (spec_parse_devices (s, lnx, err) < 0)
    return -1;

  if (pjson_get_string (lnx, "linux", "cgroupsPath", false, &s->cgroups_path,
                        err)
          < 0
      || pjson_get_object (lnx, "linux", "resources", false, &s->resources,
                           err)
             < 0
      || pjson_get_object (lnx, "linux", "sysctl", false, &s->sysctl, err) < 0
      || pjson_get_object (lnx, "linux", "seccomp", false, &s->seccomp, err)
             < 0
      || pjson_get_object (lnx, "linux", "personality", false, &personality,
                           err)
             < 0
      || pjson_get_string (lnx, "linux", "rootfsPropagation", false, &prop,
                           err)
             < 0
      || pjson_get_strv (lnx, "linux", "maskedPaths", false, &s->masked_paths,
                         err)
             < 0
      || pjson_get_strv (lnx, "linux", "readonlyPaths", false,
                         &s->readonly_paths, err)
             < 0
      || pjson_get_string (lnx, "linux", "mountLabel", false, &s->mount_label,
                           err)
             < 0)
    return -1;

  if (s->sysctl)
    {
      const char *key;
      json_t *val;
      json_object_foreach (s->sysctl, key, val)
      {
        if (!json_is_string (val))
          return spec_invalid (err, "linux.sysctl.%s: expected a string", key);
        if (*key == '\0' || strstr (key, "..") || strchr (key, '/') == key)
          return spec_invalid (err, "linux.sysctl: invalid name `%s`", key);
      }
    }

  if (personality && spec_parse_personality (s, personality, err) < 0)
    return -1;

  if (prop)
    {
      spec_mount tmp = { 0 };
      char *opts[] = { (char *) prop, NULL };
      if (*prop)
        {
          if (spec_mount_parse_options (&tmp, opts, "linux.rootfsPropagation",
                                        err)
              < 0)
            return -1;
          free (tmp.data);
          if (tmp.propagation == 0 || tmp.data)
            return spec_invalid (err, "linux.rootfsPropagation: `%s` is not a propagation type",
                                 prop);
          s->rootfs_propagation = tmp.propagation;
        }
    }

  if (pjson_get_object (lnx, "linux", "timeOffsets", false, &offsets, err)
      < 0)
    return -1;
  if (offsets)
    {
      if (spec_parse_time_offset (offsets, "monotonic", &s->time_monotonic, err)
              < 0
          || spec_parse_time_offset (offsets, "boottime", &s->time_boottime,
                                     err)
                 < 0)
        return -1;
      if (!s->ns[NS_TIME].present || s->ns[NS_TIME].path)
        return spec_invalid (err, "linux.timeOffsets: needs a new time namespace");
    }
  return 0;
}

static spec *
spec_from_json (json_t *j, polis_error **err)
{
  cleanup_spec spec *s = xzalloc (sizeof *s);
  json_t *root = NULL, *process = NULL;
  s->json = j;

  if (!json_is_object (j))
    {
      spec_invalid (err, "config.json: expected a JSON object");
      return NULL;
    }
  if (pjson_get_string (j, "", "ociVersion", true, &s->oci_version, err) < 0
      || pjson_get_object (j, "", "root", true, &root, err) < 0
      || pjson_get_string (root, "root", "path", true, &s->root_path, err) < 0
      || pjson_get_bool (root, "root", "readonly", &s->root_readonly, err) < 0
      || pjson_get_string (j, "", "hostname", false, &s->hostname, err) < 0
      || pjson_get_string (j, "", "domainname", false, &s->domainname, err) < 0
      || pjson_get_object (j, "", "annotations", false, &s->annotations, err)
             < 0
      || pjson_get_object (j, "", "process", false, &process, err) < 0)
    return NULL;
  if (strncmp (s->oci_version, "1.", 2) != 0)
    {
      spec_invalid (err, "ociVersion: unsupported version `%s`", s->oci_version);
      return NULL;
    }
  if (*s->root_path == '\0')
    {
      spec_invalid (err, "root.path: must not be empty");
      return NULL;
    }
  if (process)
    {
      if (spec_process_parse (process, "process", &s->process, err) < 0)
        return NULL;
      s->has_process = true;
    }
  if (spec_parse_mounts (s, err) < 0 || spec_parse_hooks (s, err) < 0
      || spec_parse_linux (s, err) < 0)
    return NULL;
  if (s->hostname && *s->hostname && !s->ns[NS_UTS].present)
    {
      spec_invalid (err, "hostname: setting it needs a new UTS namespace");
      return NULL;
    }
  return steal_pointer (&s);
}

spec *
spec_parse (const char *buf, size_t len, polis_error **err)
{
  json_t *j = pjson_parse (buf, len, "config.json", err);
  if (j == NULL)
    return NULL;
  spec *s = spec_from_json (j, err);
  if (s == NULL)
    error_wrap (err, "config.json");
  return s;
}

spec *
spec_load_at (int dirfd, const char *path, polis_error **err)
{
  size_t len = 0;
  cleanup_free char *buf = file_read_at (dirfd, path, SPEC_MAX_SIZE, &len, err);
  if (buf == NULL)
    return NULL;
  return spec_parse (buf, len, err);
}

void
spec_free (spec *s)
{
  if (s == NULL)
    return;
  spec_process_clear (&s->process);
  for (size_t i = 0; i < s->n_mounts; i++)
    free (s->mounts[i].data);
  free (s->mounts);
  for (int k = 0; k < HOOK_COUNT; k++)
    {
      for (size_t i = 0; i < s->n_hooks[k]; i++)
        {
          cleanup_strv_fn (&s->hooks[k][i].args);
          cleanup_strv_fn (&s->hooks[k][i].env);
        }
      free (s->hooks[k]);
    }
  free (s->uid_maps);
  free (s->gid_maps);
  free (s->devices);
  cleanup_strv_fn (&s->masked_paths);
  cleanup_strv_fn (&s->readonly_paths);
  if (s->json)
    json_decref (s->json);
  free (s);
}

json_t *
spec_mount_option_names (void)
{
  json_t *arr = json_array ();
  for (size_t k = 0; k < sizeof spec_mount_opts / sizeof *spec_mount_opts; k++)
    if (spec_mount_opts[k].kind != OPT_IGNORE
        || strcmp (spec_mount_opts[k].name, "defaults") == 0)
      json_array_append_new (arr, json_string (spec_mount_opts[k].name));
  return arr;
}
