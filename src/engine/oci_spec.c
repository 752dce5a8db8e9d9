/* oci_spec.c - config.json for a container, as dockerd would write it. */
#include "oci_spec.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "base/cleanup.h"
#include "base/pjson.h"
#include "base/xalloc.h"
#include "runtime/caps.h"
#include "seccomp_profile.h"

#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* moby oci/caps/defaults.go */
static const char *const default_caps[] = {
  "CAP_CHOWN",       "CAP_DAC_OVERRIDE", "CAP_FSETID",
  "CAP_FOWNER",      "CAP_MKNOD",        "CAP_NET_RAW",
  "CAP_SETGID",      "CAP_SETUID",       "CAP_SETFCAP",
  "CAP_SETPCAP",     "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
  "CAP_KILL",        "CAP_AUDIT_WRITE",
};

/* moby oci/defaults.go */
static const char *const masked_paths[] = {
  "/proc/asound",      "/proc/acpi",          "/proc/interrupts",
  "/proc/kcore",       "/proc/keys",          "/proc/latency_stats",
  "/proc/timer_list",  "/proc/timer_stats",   "/proc/sched_debug",
  "/proc/scsi",        "/sys/firmware",       "/sys/devices/virtual/powercap",
};

static const char *const readonly_paths[] = {
  "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
};

static const struct
{
  const char *docker, *oci;
} rlimits[] = {
  { "as", "RLIMIT_AS" },         { "core", "RLIMIT_CORE" },
  { "cpu", "RLIMIT_CPU" },       { "data", "RLIMIT_DATA" },
  { "fsize", "RLIMIT_FSIZE" },   { "locks", "RLIMIT_LOCKS" },
  { "memlock", "RLIMIT_MEMLOCK" }, { "msgqueue", "RLIMIT_MSGQUEUE" },
  { "nice", "RLIMIT_NICE" },     { "nofile", "RLIMIT_NOFILE" },
  { "nproc", "RLIMIT_NPROC" },   { "rss", "RLIMIT_RSS" },
  { "rtprio", "RLIMIT_RTPRIO" }, { "rttime", "RLIMIT_RTTIME" },
  { "sigpending", "RLIMIT_SIGPENDING" }, { "stack", "RLIMIT_STACK" },
};

const char *
oci_spec_rlimit_name (const char *docker_name)
{
  for (size_t i = 0; i < sizeof rlimits / sizeof *rlimits; i++)
    if (strcmp (rlimits[i].docker, docker_name) == 0)
      return rlimits[i].oci;
  return NULL;
}

static bool
hc_bool (const json_t *hc, const char *k)
{
  return json_is_true (json_object_get (hc, k));
}

static const char *
hc_str (const json_t *hc, const char *k)
{
  const char *s = json_string_value (json_object_get (hc, k));
  return s ? s : "";
}

static json_int_t
hc_int (const json_t *hc, const char *k)
{
  return json_integer_value (json_object_get (hc, k));
}

/* The capabilities polisd itself may hand out: its bounding set (a
   machine may withhold some from root, and asking for one the caller has
   not fails capset). */
static uint64_t
own_bounding (void)
{
  static uint64_t cached;
  if (cached)
    return cached;
  uint64_t v = 0;
  cleanup_fclose FILE *f = fopen ("/proc/self/status", "re");
  char line[256];
  while (f && fgets (line, sizeof line, f))
    if (strncmp (line, "CapBnd:", 7) == 0)
      v = strtoull (line + 7, NULL, 16);
  cached = v ? v : ~UINT64_C (0);
  return cached;
}

json_t *
oci_spec_capabilities (const json_t *hc, uint64_t *mask_out)
{
  uint64_t mask = 0;
  int last = caps_last_cap ();
  if (last > CAPS_KNOWN_LAST)
    last = CAPS_KNOWN_LAST;
  if (hc_bool (hc, "Privileged"))
    {
      for (int i = 0; i <= last; i++)
        mask |= UINT64_C (1) << i;
      mask &= own_bounding ();
    }
  else
    {
      for (size_t i = 0; i < sizeof default_caps / sizeof *default_caps; i++)
        {
          int n = caps_from_name (default_caps[i]);
          if (n >= 0)
            mask |= UINT64_C (1) << n;
        }
      size_t i;
      json_t *v;
      /* Docker: drops first, then adds ("--cap-drop ALL --cap-add X"). */
      json_array_foreach (json_object_get (hc, "CapDrop"), i, v)
      {
        const char *s = json_string_value (v);
        if (strcmp (s, "ALL") == 0)
          mask = 0;
        else if (caps_from_name (s) >= 0)
          mask &= ~(UINT64_C (1) << caps_from_name (s));
      }
      json_array_foreach (json_object_get (hc, "CapAdd"), i, v)
      {
        const char *s = json_string_value (v);
        if (strcmp (s, "ALL") == 0)
          for (int c = 0; c <= last; c++)
            mask |= (UINT64_C (1) << c) & own_bounding ();
        else if (caps_from_name (s) >= 0)
          mask |= UINT64_C (1) << caps_from_name (s);
      }
    }
  json_t *names = json_array ();
  for (int i = 0; i <= CAPS_KNOWN_LAST; i++)
    if (mask & (UINT64_C (1) << i))
      json_array_append_new (names, json_string (caps_name (i)));
  if (mask_out)
    *mask_out = mask;
  return names;
}

json_t *
oci_spec_env (const json_t *config, bool tty, const json_t *extra)
{
  json_t *env = json_array ();
  json_array_append_new (env, json_string (DEFAULT_PATH));
  cleanup_free char *host
      = xasprintf ("HOSTNAME=%s", hc_str (config, "Hostname"));
  json_array_append_new (env, json_string (host));
  if (tty)
    json_array_append_new (env, json_string ("TERM=xterm"));
  const json_t *lists[2] = { json_object_get (config, "Env"), extra };
  for (int l = 0; l < 2; l++)
    {
      size_t i;
      json_t *v;
      json_array_foreach (lists[l], i, v)
      {
        const char *s = json_string_value (v);
        if (s == NULL)
          continue;
        const char *eq = strchr (s, '=');
        size_t kl = eq ? (size_t) (eq - s) : strlen (s);
        bool replaced = false;
        for (size_t j = 0; j < json_array_size (env) && !replaced; j++)
          {
            const char *o = json_string_value (json_array_get (env, j));
            if (strncmp (o, s, kl) == 0 && (o[kl] == '=' || o[kl] == '\0'))
              {
                json_array_set (env, j, v);
                replaced = true;
              }
          }
        if (!replaced)
          json_array_append (env, v);
      }
    }
  return env;
}

bool
oci_spec_no_new_privileges (const json_t *hc)
{
  size_t i;
  json_t *v;
  bool on = false;
  json_array_foreach (json_object_get (hc, "SecurityOpt"), i, v)
  {
    const char *s = json_string_value (v);
    if (strncmp (s, "no-new-privileges", 17) != 0)
      continue;
    const char *val = s[17] ? s + 18 : "true";
    on = strcasecmp (val, "false") != 0;
  }
  return on;
}

/* The Docker-format seccomp profile asked for: NULL for the default,
   *UNCONFINED when none. */
static json_t *
seccomp_option (const json_t *hc, bool *unconfined, polis_error **err)
{
  *unconfined = false;
  size_t i;
  json_t *v;
  json_array_foreach (json_object_get (hc, "SecurityOpt"), i, v)
  {
    const char *s = json_string_value (v);
    if (strncmp (s, "seccomp", 7) != 0 || (s[7] != '=' && s[7] != ':'))
      continue;
    if (strcmp (s + 8, "unconfined") == 0)
      {
        *unconfined = true;
        return NULL;
      }
    return pjson_parse (s + 8, strlen (s + 8), "seccomp profile", err);
  }
  return NULL;
}

/* --- mounts ------------------------------------------------------------------ */

static void
add_mount (json_t *mounts, const char *dest, const char *type,
           const char *source, const char *const *opts)
{
  json_t *o = json_array ();
  for (const char *const *p = opts; p && *p; p++)
    json_array_append_new (o, json_string (*p));
  json_array_append_new (mounts, json_pack ("{s:s,s:s,s:s,s:o}", "destination",
                                            dest, "type", type, "source",
                                            source, "options", o));
}

/* Drop any earlier mount on DEST: a user's mount replaces a default one. */
static void
remove_mount (json_t *mounts, const char *dest)
{
  for (size_t i = json_array_size (mounts); i > 0; i--)
    {
      const char *d = json_string_value (
          json_object_get (json_array_get (mounts, i - 1), "destination"));
      if (d && strcmp (d, dest) == 0)
        json_array_remove (mounts, i - 1);
    }
}

static size_t
depth_of (const char *path)
{
  size_t n = 0;
  for (const char *p = path; *p; p++)
    n += *p == '/';
  return n;
}

/* The container's mount points (container_mounts.h) as OCI mounts, the
   shallower destinations first so that /a is mounted before /a/b. */
static int
user_binds (json_t *mounts, const json_t *points, const json_t *hc,
            polis_error **err)
{
  (void) err; /* validated at create (container_mounts.c) */
  size_t n = json_array_size (points);
  const json_t **order = xzalloc ((n ? n : 1) * sizeof *order);
  for (size_t i = 0; i < n; i++)
    order[i] = json_array_get (points, i);
  for (size_t i = 1; i < n; i++)
    for (size_t j = i; j > 0
                       && depth_of (json_string_value (json_object_get (order[j - 1], "Destination")))
                              > depth_of (json_string_value (json_object_get (order[j], "Destination")));
         j--)
      {
        const json_t *t = order[j];
        order[j] = order[j - 1];
        order[j - 1] = t;
      }
  for (size_t i = 0; i < n; i++)
    {
      const json_t *m = order[i];
      const char *type = json_string_value (json_object_get (m, "Type"));
      const char *src = json_string_value (json_object_get (m, "Source"));
      const char *dst = json_string_value (json_object_get (m, "Destination"));
      bool ro = !json_is_true (json_object_get (m, "RW"));
      if (type == NULL || dst == NULL)
        continue;
      remove_mount (mounts, dst);
      if (strcmp (type, "tmpfs") == 0)
        {
          const char *data = json_string_value (json_object_get (m, "TmpfsData"));
          cleanup_free char *copy = xstrdup (data ? data : "");
          const char *opts[8] = { "noexec", "nosuid", "nodev", ro ? "ro" : "rw" };
          size_t k = 4;
          char *save = NULL;
          for (char *o = strtok_r (copy, ",", &save); o && k < 7; o = strtok_r (NULL, ",", &save))
            opts[k++] = o;
          opts[k] = NULL;
          add_mount (mounts, dst, "tmpfs", "tmpfs", opts);
          continue;
        }
      const char *prop = json_string_value (json_object_get (m, "Propagation"));
      const char *opts[4] = { "rbind", prop && *prop ? prop : "rprivate",
                              ro ? "ro" : NULL, NULL };
      add_mount (mounts, dst, "bind", src ? src : "", opts);
    }
  free (order);
  json_t *v;
  const char *k;
  json_object_foreach (json_object_get (hc, "Tmpfs"), k, v)
  {
    /* Docker's --tmpfs default options, then the user's. */
    cleanup_free char *copy = xstrdup (json_string_value (v));
    const char *opts[64] = { "noexec", "nosuid", "nodev" };
    size_t no = 3;
    for (char *o = strtok (copy, ","); o && no < 63; o = strtok (NULL, ","))
      opts[no++] = o;
    opts[no] = NULL;
    remove_mount (mounts, k);
    add_mount (mounts, k, "tmpfs", "tmpfs", opts);
  }
  return 0;
}

static json_t *
mounts_json (const oci_spec_input *in, polis_error **err)
{
  const json_t *hc = in->host_config;
  bool priv = hc_bool (hc, "Privileged");
  json_t *m = json_array ();
  char shm[64];
  snprintf (shm, sizeof shm, "size=%lld", (long long) hc_int (hc, "ShmSize"));
  const char *proc[] = { "nosuid", "noexec", "nodev", NULL };
  const char *dev[] = { "nosuid", "strictatime", "mode=755", "size=65536k", NULL };
  const char *pts[] = { "nosuid", "noexec", "newinstance", "ptmxmode=0666",
                        "mode=0620", "gid=5", NULL };
  const char *sys[] = { "nosuid", "noexec", "nodev", priv ? "rw" : "ro", NULL };
  const char *cg[] = { priv ? "rw" : "ro", "nosuid", "noexec", "nodev", NULL };
  const char *mq[] = { "nosuid", "noexec", "nodev", NULL };
  const char *shmo[] = { "nosuid", "noexec", "nodev", "mode=1777", shm, NULL };
  add_mount (m, "/proc", "proc", "proc", proc);
  add_mount (m, "/dev", "tmpfs", "tmpfs", dev);
  add_mount (m, "/dev/pts", "devpts", "devpts", pts);
  add_mount (m, "/sys", "sysfs", "sysfs", sys);
  add_mount (m, "/sys/fs/cgroup", "cgroup", "cgroup", cg);
  add_mount (m, "/dev/mqueue", "mqueue", "mqueue", mq);
  add_mount (m, "/dev/shm", "tmpfs", "shm", shmo);
  static const char *const files[][2] = { { "resolv.conf", "/etc/resolv.conf" },
                                          { "hostname", "/etc/hostname" },
                                          { "hosts", "/etc/hosts" } };
  const char *fopts[] = { "rbind", "rprivate", NULL };
  for (size_t i = 0; i < 3; i++)
    {
      cleanup_free char *src = xasprintf ("%s/%s", in->dir, files[i][0]);
      add_mount (m, files[i][1], "bind", src, fopts);
    }
  if (in->init_path && json_is_true (json_object_get (hc, "Init")))
    {
      const char *iopts[] = { "bind", "ro", "rprivate", NULL };
      add_mount (m, "/sbin/docker-init", "bind", in->init_path, iopts);
    }
  if (user_binds (m, in->mounts, hc, err) < 0)
    {
      json_decref (m);
      return NULL;
    }
  return m;
}

/* --- devices ---------------------------------------------------------------- */

static json_t *
device_rule (bool allow, const char *type, long major, long minor,
             const char *access)
{
  json_t *r = json_pack ("{s:b,s:s}", "allow", allow, "access", access);
  if (type)
    json_object_set_new (r, "type", json_string (type));
  if (major >= 0)
    json_object_set_new (r, "major", json_integer (major));
  if (minor >= 0)
    json_object_set_new (r, "minor", json_integer (minor));
  return r;
}

/* moby oci/defaults.go DefaultLinuxSpec: deny all, then the usual devices. */
static json_t *
default_device_rules (void)
{
  json_t *r = json_array ();
  json_array_append_new (r, device_rule (false, NULL, -1, -1, "rwm"));
  json_array_append_new (r, device_rule (true, "c", -1, -1, "m"));
  json_array_append_new (r, device_rule (true, "b", -1, -1, "m"));
  static const int devs[][2] = { { 1, 3 }, { 1, 8 }, { 1, 7 }, { 5, 0 },
                                 { 1, 5 }, { 1, 9 }, { 5, 1 }, { 136, -1 },
                                 { 5, 2 }, { 10, 200 } };
  for (size_t i = 0; i < sizeof devs / sizeof *devs; i++)
    json_array_append_new (r, device_rule (true, "c", devs[i][0], devs[i][1], "rwm"));
  return r;
}

static json_t *
device_entry (const char *path_in_container, const struct stat *st)
{
  return json_pack ("{s:s,s:s,s:I,s:I,s:i,s:I,s:I}", "path", path_in_container,
                    "type", S_ISBLK (st->st_mode) ? "b" : "c", "major",
                    (json_int_t) major (st->st_rdev), "minor",
                    (json_int_t) minor (st->st_rdev), "fileMode",
                    (int) (st->st_mode & 07777), "uid", (json_int_t) st->st_uid,
                    "gid", (json_int_t) st->st_gid);
}

/* Privileged containers get every device of the host, as Docker's. */
static void
host_devices (json_t *devices, const char *dir, int depth)
{
  if (depth > 2)
    return;
  cleanup_closedir DIR *d = opendir (dir);
  if (d == NULL)
    return;
  struct dirent *de;
  while ((de = readdir (d)))
    {
      if (de->d_name[0] == '.' || strcmp (de->d_name, "pts") == 0
          || strcmp (de->d_name, "shm") == 0 || strcmp (de->d_name, "mqueue") == 0
          || strcmp (de->d_name, "console") == 0)
        continue;
      cleanup_free char *p = xasprintf ("%s/%s", dir, de->d_name);
      struct stat st;
      if (lstat (p, &st) < 0)
        continue;
      if (S_ISDIR (st.st_mode))
        host_devices (devices, p, depth + 1);
      else if (S_ISCHR (st.st_mode) || S_ISBLK (st.st_mode))
        json_array_append_new (devices, device_entry (p, &st));
    }
}

static int
user_devices (json_t *devices, json_t *rules, const json_t *hc,
              polis_error **err)
{
  size_t i;
  json_t *v;
  json_array_foreach (json_object_get (hc, "Devices"), i, v)
  {
    const char *host = json_string_value (json_object_get (v, "PathOnHost"));
    const char *cont = json_string_value (json_object_get (v, "PathInContainer"));
    const char *perm = json_string_value (json_object_get (v, "CgroupPermissions"));
    struct stat st;
    if (host == NULL || stat (host, &st) < 0
        || (!S_ISCHR (st.st_mode) && !S_ISBLK (st.st_mode)))
      return error_set (err, ERROR_INVALID, ENOENT,
                        "error gathering device information while adding "
                        "custom device \"%s\": no such file or directory",
                        host ? host : "");
    json_array_append_new (devices, device_entry (cont && *cont ? cont : host, &st));
    json_array_append_new (rules, device_rule (true, S_ISBLK (st.st_mode) ? "b" : "c",
                                               (long) major (st.st_rdev),
                                               (long) minor (st.st_rdev),
                                               perm && *perm ? perm : "rwm"));
  }
  return 0;
}

/* --- resources ---------------------------------------------------------------- */

json_t *
oci_spec_resources (const json_t *hc)
{
  json_t *r = json_object ();
  json_t *mem = json_object ();
  json_int_t limit = hc_int (hc, "Memory");
  json_int_t swap = hc_int (hc, "MemorySwap");
  if (limit > 0)
    {
      json_object_set_new (mem, "limit", json_integer (limit));
      /* Docker: swap defaults to twice the memory limit. */
      json_object_set_new (mem, "swap",
                           json_integer (swap == 0 ? 2 * limit : swap));
    }
  else if (swap != 0)
    json_object_set_new (mem, "swap", json_integer (swap));
  if (hc_int (hc, "MemoryReservation") > 0)
    json_object_set_new (mem, "reservation",
                         json_integer (hc_int (hc, "MemoryReservation")));
  json_t *sw = json_object_get (hc, "MemorySwappiness");
  if (json_is_integer (sw) && json_integer_value (sw) >= 0)
    json_object_set_new (mem, "swappiness", json_integer (json_integer_value (sw)));
  if (json_is_true (json_object_get (hc, "OomKillDisable")))
    json_object_set_new (mem, "disableOOMKiller", json_true ());
  if (json_object_size (mem))
    json_object_set (r, "memory", mem);
  json_decref (mem);

  json_t *cpu = json_object ();
  json_int_t nano = hc_int (hc, "NanoCpus");
  if (hc_int (hc, "CpuShares") > 0)
    json_object_set_new (cpu, "shares", json_integer (hc_int (hc, "CpuShares")));
  if (nano > 0)
    {
      json_object_set_new (cpu, "period", json_integer (100000));
      json_object_set_new (cpu, "quota", json_integer (nano * 100000 / 1000000000));
    }
  else
    {
      if (hc_int (hc, "CpuPeriod") > 0)
        json_object_set_new (cpu, "period", json_integer (hc_int (hc, "CpuPeriod")));
      if (hc_int (hc, "CpuQuota") != 0)
        json_object_set_new (cpu, "quota", json_integer (hc_int (hc, "CpuQuota")));
    }
  if (*hc_str (hc, "CpusetCpus"))
    json_object_set_new (cpu, "cpus", json_string (hc_str (hc, "CpusetCpus")));
  if (*hc_str (hc, "CpusetMems"))
    json_object_set_new (cpu, "mems", json_string (hc_str (hc, "CpusetMems")));
  if (json_object_size (cpu))
    json_object_set (r, "cpu", cpu);
  json_decref (cpu);

  json_t *pids = json_object_get (hc, "PidsLimit");
  if (json_is_integer (pids) && json_integer_value (pids) > 0)
    json_object_set_new (r, "pids", json_pack ("{s:I}", "limit",
                                               json_integer_value (pids)));
  if (hc_int (hc, "BlkioWeight") > 0)
    json_object_set_new (r, "blockIO", json_pack ("{s:I}", "weight",
                                                  hc_int (hc, "BlkioWeight")));
  return r;
}

/* --- the whole spec ----------------------------------------------------------- */

static json_t *
namespaces (const oci_spec_input *in)
{
  const json_t *hc = in->host_config;
  json_t *ns = json_array ();
  if (strcmp (hc_str (hc, "PidMode"), "host") != 0)
    json_array_append_new (ns, json_pack ("{s:s}", "type", "pid"));
  if (strcmp (hc_str (hc, "IpcMode"), "host") != 0)
    json_array_append_new (ns, json_pack ("{s:s}", "type", "ipc"));
  if (strcmp (hc_str (hc, "UTSMode"), "host") != 0)
    json_array_append_new (ns, json_pack ("{s:s}", "type", "uts"));
  json_array_append_new (ns, json_pack ("{s:s}", "type", "mount"));
  if (strcmp (hc_str (hc, "NetworkMode"), "host") != 0)
    json_array_append_new (ns, in->netns_path
                                   ? json_pack ("{s:s,s:s}", "type", "network",
                                                "path", in->netns_path)
                                   : json_pack ("{s:s}", "type", "network"));
  /* Docker's default: a private cgroup namespace on v2, the host's on v1. */
  const char *cg = hc_str (hc, "CgroupnsMode");
  if (strcmp (cg, "private") == 0 || (*cg == '\0' && in->cgroup_version == 2))
    json_array_append_new (ns, json_pack ("{s:s}", "type", "cgroup"));
  return ns;
}

static json_t *
process_json (const oci_spec_input *in, uint64_t *bounding, polis_error **err)
{
  const json_t *c = in->config, *hc = in->host_config;
  bool tty = hc_bool (c, "Tty");
  json_t *args = json_array ();
  if (in->init_path && json_is_true (json_object_get (hc, "Init")))
    {
      json_array_append_new (args, json_string ("/sbin/docker-init"));
      json_array_append_new (args, json_string ("--"));
    }
  json_array_extend (args, json_object_get (c, "Entrypoint"));
  json_array_extend (args, json_object_get (c, "Cmd"));
  json_t *caps = oci_spec_capabilities (hc, bounding);
  json_t *gids = json_array ();
  for (size_t i = 0; i < in->n_groups; i++)
    json_array_append_new (gids, json_integer (in->groups[i]));
  const char *cwd = hc_str (c, "WorkingDir");
  json_t *p = json_pack (
      "{s:b, s:{s:I,s:I,s:o}, s:o, s:o, s:s, s:{s:O,s:O,s:O,s:o}, s:b}",
      "terminal", tty, "user", "uid", (json_int_t) in->uid, "gid",
      (json_int_t) in->gid, "additionalGids", gids, "args", args, "env",
      oci_spec_env (c, tty, NULL), "cwd", *cwd ? cwd : "/", "capabilities",
      "bounding", caps, "effective", caps, "permitted", caps, "inheritable",
      json_array (), "noNewPrivileges", oci_spec_no_new_privileges (hc));
  json_decref (caps);
  json_t *cs = json_object_get (hc, "ConsoleSize");
  if (tty && json_integer_value (json_array_get (cs, 0)) > 0)
    json_object_set_new (p, "consoleSize",
                         json_pack ("{s:O,s:O}", "height", json_array_get (cs, 0),
                                    "width", json_array_get (cs, 1)));
  if (hc_int (hc, "OomScoreAdj") != 0)
    json_object_set_new (p, "oomScoreAdj", json_integer (hc_int (hc, "OomScoreAdj")));
  json_t *rl = json_array ();
  size_t i;
  json_t *v;
  json_array_foreach (json_object_get (hc, "Ulimits"), i, v)
  {
    const char *n = oci_spec_rlimit_name (hc_str (v, "Name"));
    if (n == NULL)
      {
        json_decref (rl);
        json_decref (p);
        error_set (err, ERROR_INVALID, EINVAL, "invalid ulimit type: %s",
                   hc_str (v, "Name"));
        return NULL;
      }
    json_array_append_new (rl, json_pack ("{s:s,s:I,s:I}", "type", n, "soft",
                                          hc_int (v, "Soft"), "hard",
                                          hc_int (v, "Hard")));
  }
  if (json_array_size (rl))
    json_object_set (p, "rlimits", rl);
  json_decref (rl);
  return p;
}

json_t *
oci_spec_generate (const oci_spec_input *in, polis_error **err)
{
  const json_t *c = in->config, *hc = in->host_config;
  bool priv = hc_bool (hc, "Privileged");
  uint64_t bounding = 0;
  cleanup_json json_t *process = process_json (in, &bounding, err);
  if (process == NULL)
    return NULL;
  cleanup_json json_t *mounts = mounts_json (in, err);
  if (mounts == NULL)
    return NULL;
  json_t *devices = json_array ();
  json_t *rules = default_device_rules ();
  if (priv)
    {
      json_decref (rules);
      rules = json_pack ("[{s:b,s:s}]", "allow", true, "access", "rwm");
      host_devices (devices, "/dev", 0);
    }
  if (user_devices (devices, rules, hc, err) < 0)
    {
      json_decref (devices);
      json_decref (rules);
      return NULL;
    }
  json_t *resources = oci_spec_resources (hc);
  json_object_set_new (resources, "devices", rules);

  json_t *lx = json_pack ("{s:o, s:o, s:o, s:s}", "namespaces",
                             namespaces (in), "resources", resources,
                             "devices", devices, "cgroupsPath",
                             in->cgroups_path);
  if (!priv)
    {
      json_t *mp = json_array (), *rp = json_array ();
      for (size_t i = 0; i < sizeof masked_paths / sizeof *masked_paths; i++)
        json_array_append_new (mp, json_string (masked_paths[i]));
      for (size_t i = 0; i < sizeof readonly_paths / sizeof *readonly_paths; i++)
        json_array_append_new (rp, json_string (readonly_paths[i]));
      json_t *ump = json_object_get (hc, "MaskedPaths");
      json_t *urp = json_object_get (hc, "ReadonlyPaths");
      json_object_set_new (lx, "maskedPaths", json_is_array (ump) ? json_deep_copy (ump) : mp);
      json_object_set_new (lx, "readonlyPaths", json_is_array (urp) ? json_deep_copy (urp) : rp);
      if (json_is_array (ump))
        json_decref (mp);
      if (json_is_array (urp))
        json_decref (rp);
      bool unconfined;
      cleanup_json json_t *custom = seccomp_option (hc, &unconfined, err);
      if (custom == NULL && *err)
        {
          json_decref (lx);
          return NULL;
        }
      if (!unconfined)
        {
          json_t *sc = seccomp_profile_resolve (custom, bounding, err);
          if (sc == NULL)
            {
              json_decref (lx);
              return NULL;
            }
          json_object_set_new (lx, "seccomp", sc);
        }
    }
  json_t *sysctls = json_object_get (hc, "Sysctls");
  if (json_object_size (sysctls))
    json_object_set (lx, "sysctl", sysctls);

  const char *dn = hc_str (c, "Domainname");
  json_t *spec = json_pack ("{s:s, s:O, s:{s:s,s:b}, s:s, s:O, s:o}",
                            "ociVersion", "1.0.2", "process", process, "root",
                            "path", "rootfs", "readonly",
                            hc_bool (hc, "ReadonlyRootfs"), "hostname",
                            hc_str (c, "Hostname"), "mounts", mounts, "linux",
                            lx);
  if (*dn)
    json_object_set_new (spec, "domainname", json_string (dn));
  return spec;
}
