/* container_opts.c - docker run / create flags to a ContainerCreateRequest. */
#include "cli/container_opts.h"

#include <ctype.h>
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
#include "cli/stream.h"
#include "cli/units.h"

/* Longest --env-file / --label-file read. */
#define CONTAINER_OPTS_MAX_ENV_FILE (1024 * 1024)

opt_def *
container_opts_defs (container_opts *o, bool run)
{
  const opt_def common[] = {
    { "interactive", 'i', OPT_BOOL, &o->interactive, "Keep STDIN open even if not attached" },
    { "tty", 't', OPT_BOOL, &o->tty, "Allocate a pseudo-TTY" },
    { "name", 0, OPT_STRING, &o->name, "Assign a name to the container" },
    { "env", 'e', OPT_STRV, &o->env, "Set environment variables" },
    { "env-file", 0, OPT_STRV, &o->env_file, "Read in a file of environment variables" },
    { "volume", 'v', OPT_STRV, &o->volume, "Bind mount a volume" },
    { "mount", 0, OPT_STRV, &o->mount, "Attach a filesystem mount to the container" },
    { "publish", 'p', OPT_STRV, &o->publish, "Publish a container's port(s) to the host" },
    { "publish-all", 'P', OPT_BOOL, &o->publish_all, "Publish all exposed ports to random ports" },
    { "expose", 0, OPT_STRV, &o->expose, "Expose a port or a range of ports" },
    { "restart", 0, OPT_STRING, &o->restart, "Restart policy to apply when a container exits" },
    { "health-cmd", 0, OPT_STRING, &o->health_cmd, "Command to run to check health" },
    { "health-interval", 0, OPT_STRING, &o->health_interval, "Time between running the check (ms|s|m|h)" },
    { "health-timeout", 0, OPT_STRING, &o->health_timeout, "Maximum time to allow one check to run (ms|s|m|h)" },
    { "health-retries", 0, OPT_STRING, &o->health_retries, "Consecutive failures needed to report unhealthy" },
    { "health-start-period", 0, OPT_STRING, &o->health_start_period, "Start period for the container to initialize" },
    { "health-start-interval", 0, OPT_STRING, &o->health_start_interval, "Time between running the check during the start period" },
    { "no-healthcheck", 0, OPT_BOOL, &o->no_healthcheck, "Disable any container-specified HEALTHCHECK" },
    { "memory", 'm', OPT_STRING, &o->memory, "Memory limit" },
    { "memory-swap", 0, OPT_STRING, &o->memory_swap, "Swap limit equal to memory plus swap: '-1' to enable unlimited swap" },
    { "memory-reservation", 0, OPT_STRING, &o->memory_reservation, "Memory soft limit" },
    { "cpus", 0, OPT_STRING, &o->cpus, "Number of CPUs" },
    { "cpu-shares", 'c', OPT_STRING, &o->cpu_shares, "CPU shares (relative weight)" },
    { "cpuset-cpus", 0, OPT_STRING, &o->cpuset_cpus, "CPUs in which to allow execution (0-3, 0,1)" },
    { "pids-limit", 0, OPT_STRING, &o->pids_limit, "Tune container pids limit (set -1 for unlimited)" },
    { "oom-kill-disable", 0, OPT_BOOL, &o->oom_kill_disable, "Disable OOM Killer" },
    { "entrypoint", 0, OPT_STRING, &o->entrypoint, "Overwrite the default ENTRYPOINT of the image" },
    { "workdir", 'w', OPT_STRING, &o->workdir, "Working directory inside the container" },
    { "user", 'u', OPT_STRING, &o->user, "Username or UID (format: <name|uid>[:<group|gid>])" },
    { "group-add", 0, OPT_STRV, &o->group_add, "Add additional groups to join" },
    { "read-only", 0, OPT_BOOL, &o->read_only, "Mount the container's root filesystem as read only" },
    { "privileged", 0, OPT_BOOL, &o->privileged, "Give extended privileges to this container" },
    { "cap-add", 0, OPT_STRV, &o->cap_add, "Add Linux capabilities" },
    { "cap-drop", 0, OPT_STRV, &o->cap_drop, "Drop Linux capabilities" },
    { "security-opt", 0, OPT_STRV, &o->security_opt, "Security Options" },
    { "init", 0, OPT_BOOL, &o->init, "Run an init inside the container that forwards signals and reaps processes" },
    { "log-driver", 0, OPT_STRING, &o->log_driver, "Logging driver for the container" },
    { "log-opt", 0, OPT_STRV, &o->log_opt, "Log driver options" },
    { "label", 'l', OPT_STRV, &o->label, "Set meta data on a container" },
    { "label-file", 0, OPT_STRV, &o->label_file, "Read in a line delimited file of labels" },
    { "network", 0, OPT_STRING, &o->network, "Connect a container to a network" },
    { "net", 0, OPT_STRING, &o->network, "Connect a container to a network" },
    { "network-alias", 0, OPT_STRV, &o->network_alias, "Add network-scoped alias for the container" },
    { "ip", 0, OPT_STRING, &o->ip, "IPv4 address (e.g., 172.30.100.104)" },
    { "mac-address", 0, OPT_STRING, &o->mac_address, "Container MAC address" },
    { "hostname", 'h', OPT_STRING, &o->hostname, "Container host name" },
    { "domainname", 0, OPT_STRING, &o->domainname, "Container NIS domain name" },
    { "add-host", 0, OPT_STRV, &o->add_host, "Add a custom host-to-IP mapping (host:ip)" },
    { "dns", 0, OPT_STRV, &o->dns, "Set custom DNS servers" },
    { "dns-search", 0, OPT_STRV, &o->dns_search, "Set custom DNS search domains" },
    { "dns-option", 0, OPT_STRV, &o->dns_option, "Set DNS options" },
    { "tmpfs", 0, OPT_STRV, &o->tmpfs, "Mount a tmpfs directory" },
    { "ulimit", 0, OPT_STRV, &o->ulimit, "Ulimit options" },
    { "device", 0, OPT_STRV, &o->device, "Add a host device to the container" },
    { "sysctl", 0, OPT_STRV, &o->sysctl, "Sysctl options" },
    { "stop-signal", 0, OPT_STRING, &o->stop_signal, "Signal to stop the container" },
    { "stop-timeout", 0, OPT_STRING, &o->stop_timeout, "Timeout (in seconds) to stop a container" },
    { "shm-size", 0, OPT_STRING, &o->shm_size, "Size of /dev/shm" },
    { "ipc", 0, OPT_STRING, &o->ipc, "IPC mode to use" },
    { "pid", 0, OPT_STRING, &o->pid, "PID namespace to use" },
    { "uts", 0, OPT_STRING, &o->uts, "UTS namespace to use" },
    { "userns", 0, OPT_STRING, &o->userns, "User namespace to use" },
    { "cgroupns", 0, OPT_STRING, &o->cgroupns, "Cgroup namespace to use (host|private)" },
    { "runtime", 0, OPT_STRING, &o->runtime, "Runtime to use for this container" },
    { "volumes-from", 0, OPT_STRV, &o->volumes_from, "Mount volumes from the specified container(s)" },
    { "link", 0, OPT_STRV, &o->link, "Add link to another container" },
    { "platform", 0, OPT_STRING, &o->platform, "Set platform if server is multi-platform capable" },
    { "pull", 0, OPT_STRING, &o->pull, "Pull image before running (\"always\", \"missing\", \"never\")" },
    { "cidfile", 0, OPT_STRING, &o->cidfile, "Write the container ID to the file" },
    { "attach", 'a', OPT_STRV, &o->attach, "Attach to STDIN, STDOUT or STDERR" },
  };
  const opt_def run_only[] = {
    { "detach", 'd', OPT_BOOL, &o->detach, "Run container in background and print container ID" },
    { "rm", 0, OPT_BOOL, &o->rm, "Automatically remove the container and its associated anonymous volumes when it exits" },
    { "detach-keys", 0, OPT_STRING, &o->detach_keys, "Override the key sequence for detaching a container" },
    { "sig-proxy", 0, OPT_BOOL, &o->sig_proxy, "Proxy received signals to the process (default true)" },
  };
  size_t nc = sizeof common / sizeof common[0];
  size_t nr = run ? sizeof run_only / sizeof run_only[0] : 0;
  opt_def *defs = xzalloc ((nc + nr + 1) * sizeof (opt_def));
  memcpy (defs, run_only, nr * sizeof (opt_def));
  memcpy (defs + nr, common, nc * sizeof (opt_def));
  /* --rm is also a create flag in docker. */
  return defs;
}

void
container_opts_clear (container_opts *o)
{
  char ***lists[] = { &o->env, &o->env_file, &o->volume, &o->publish,
                      &o->cap_add, &o->cap_drop, &o->log_opt, &o->label,
                      &o->label_file, &o->add_host, &o->dns, &o->dns_search,
                      &o->dns_option, &o->tmpfs, &o->expose, &o->ulimit,
                      &o->device, &o->security_opt, &o->sysctl, &o->mount,
                      &o->attach, &o->group_add, &o->network_alias,
                      &o->volumes_from, &o->link };
  for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++)
    cleanup_strv_fn (lists[i]);
}

static json_t *
strv_json (char **v)
{
  json_t *a = json_array ();
  for (char **p = v; p && *p; p++)
    json_array_append_new (a, json_string (*p));
  return a;
}

/* "KEY=VALUE" kept; a bare "KEY" takes the value from our environment
   (and is dropped when unset), as docker does. */
static void
env_add (json_t *env, const char *kv)
{
  if (strchr (kv, '=') == NULL)
    {
      const char *v = getenv (kv);
      if (v == NULL)
        return;
      cleanup_free char *full = xasprintf ("%s=%s", kv, v);
      json_array_append_new (env, json_string (full));
      return;
    }
  json_array_append_new (env, json_string (kv));
}

/* Lines of an env or label file: blank lines and # comments skipped. */
static int
read_kv_file (const char *path, json_t *env, json_t *labels, polis_error **err)
{
  cleanup_free char *text = file_read_at (AT_FDCWD, path,
                                          CONTAINER_OPTS_MAX_ENV_FILE, NULL,
                                          err);
  if (text == NULL)
    return error_wrap (err, "open %s", path);
  char *save = NULL;
  for (char *l = strtok_r (text, "\n", &save); l; l = strtok_r (NULL, "\n", &save))
    {
      while (isspace ((unsigned char) *l))
        l++;
      size_t n = strlen (l);
      while (n > 0 && isspace ((unsigned char) l[n - 1]))
        l[--n] = '\0';
      if (*l == '\0' || *l == '#')
        continue;
      if (env)
        env_add (env, l);
      else
        {
          char *eq = strchr (l, '=');
          if (eq)
            *eq = '\0';
          json_object_set_new (labels, l, json_string (eq ? eq + 1 : ""));
        }
    }
  return 0;
}

static int
parse_port_range (const char *s, long *lo, long *hi)
{
  char *end = NULL;
  *lo = strtol (s, &end, 10);
  if (end == s)
    return -1;
  *hi = *lo;
  if (*end == '-')
    {
      const char *s2 = end + 1;
      *hi = strtol (s2, &end, 10);
      if (end == s2)
        return -1;
    }
  if (*end != '\0' || *lo < 0 || *hi > 65535 || *lo > *hi)
    return -1;
  return 0;
}

int
container_opts_add_publish (json_t *ports, json_t *bindings, const char *spec,
                            polis_error **err)
{
  cleanup_free char *s = xstrdup (spec);
  const char *proto = "tcp";
  char *slash = strrchr (s, '/');
  if (slash)
    {
      *slash = '\0';
      proto = slash + 1;
    }
  /* ip:host:container, host:container, container; an IPv6 ip in []. */
  char *parts[3] = { NULL, NULL, NULL };
  int n = 0;
  char *p = s;
  if (*p == '[')
    {
      char *close = strchr (p, ']');
      if (close == NULL || close[1] != ':')
        return error_set (err, ERROR_INVALID, EINVAL, "invalid port format: %s",
                          spec);
      *close = '\0';
      parts[n++] = p + 1;
      p = close + 2;
    }
  for (char *tok = p;;)
    {
      char *colon = strchr (tok, ':');
      if (n >= 3)
        return error_set (err, ERROR_INVALID, EINVAL,
                          "invalid port format: %s", spec);
      parts[n++] = tok;
      if (colon == NULL)
        break;
      *colon = '\0';
      tok = colon + 1;
    }
  const char *ip = n == 3 ? parts[0] : "";
  const char *host = n >= 2 ? parts[n - 2] : "";
  const char *cport = parts[n - 1];
  long clo, chi, hlo = 0, hhi = 0;
  if (parse_port_range (cport, &clo, &chi) < 0)
    return error_set (err, ERROR_INVALID, EINVAL, "invalid containerPort: %s",
                      cport);
  if (*host && parse_port_range (host, &hlo, &hhi) < 0)
    return error_set (err, ERROR_INVALID, EINVAL, "invalid hostPort: %s", host);
  if (*host && hhi - hlo != chi - clo && hlo != hhi)
    return error_set (err, ERROR_INVALID, EINVAL,
                      "invalid ranges specified for container and host Ports: "
                      "%s and %s",
                      cport, host);
  for (long c = clo; c <= chi; c++)
    {
      char key[32], hp[64];
      snprintf (key, sizeof key, "%ld/%s", c, proto);
      json_object_set_new (ports, key, json_object ());
      if (bindings == NULL)
        continue;
      if (!*host)
        hp[0] = '\0';
      else if (hlo == hhi && clo != chi)
        snprintf (hp, sizeof hp, "%ld", hlo);
      else if (hlo == hhi)
        snprintf (hp, sizeof hp, "%s", host);
      else
        snprintf (hp, sizeof hp, "%ld", hlo + (c - clo));
      json_t *arr = json_object_get (bindings, key);
      if (arr == NULL)
        {
          arr = json_array ();
          json_object_set_new (bindings, key, arr);
        }
      json_array_append_new (arr, json_pack ("{s:s,s:s}", "HostIp", ip,
                                             "HostPort", hp));
    }
  return 0;
}

static int
parse_ns_duration (const char *flag, const char *v, json_t *obj,
                   const char *key, polis_error **err)
{
  if (v == NULL)
    return 0;
  int64_t ns = units_parse_duration_ns (v, false);
  if (ns < 0)
    return error_set (err, ERROR_INVALID, EINVAL,
                      "invalid argument \"%s\" for \"--%s\" flag: time: "
                      "invalid duration \"%s\"",
                      v, flag, v);
  json_object_set_new (obj, key, json_integer (ns));
  return 0;
}

static int
parse_bytes_flag (const char *flag, const char *v, json_t *obj, const char *key,
                  polis_error **err)
{
  if (v == NULL)
    return 0;
  int64_t b = strcmp (v, "-1") == 0 ? -1 : units_ram_in_bytes (v);
  if (b < 0 && strcmp (v, "-1") != 0)
    return error_set (err, ERROR_INVALID, EINVAL,
                      "invalid argument \"%s\" for \"--%s\" flag: invalid size: "
                      "'%s'",
                      v, flag, v);
  json_object_set_new (obj, key, json_integer (b));
  return 0;
}

static int
parse_int_flag (const char *flag, const char *v, json_t *obj, const char *key,
                polis_error **err)
{
  if (v == NULL)
    return 0;
  char *end = NULL;
  long long n = strtoll (v, &end, 10);
  if (end == v || *end)
    return error_set (err, ERROR_INVALID, EINVAL,
                      "invalid argument \"%s\" for \"--%s\" flag: strconv."
                      "ParseInt: parsing \"%s\": invalid syntax",
                      v, flag, v);
  json_object_set_new (obj, key, json_integer (n));
  return 0;
}

/* -v SRC:DST[:MODE] to Binds, a lone -v /DST to Volumes. */
static int
add_volume (json_t *binds, json_t *volumes, const char *spec, polis_error **err)
{
  if (spec[0] == '\0')
    return error_set (err, ERROR_INVALID, EINVAL, "invalid empty volume spec");
  const char *colon = strchr (spec, ':');
  if (colon == NULL)
    {
      if (spec[0] != '/')
        return error_set (err, ERROR_INVALID, EINVAL,
                          "invalid volume specification: '%s'", spec);
      json_object_set_new (volumes, spec, json_object ());
      return 0;
    }
  if (spec[0] == '.' || spec[0] == '~')
    {
      /* docker makes relative host paths absolute. */
      char cwd[4096];
      if (getcwd (cwd, sizeof cwd) == NULL)
        return error_sys (err, "getcwd");
      const char *rel = spec[0] == '.' && spec[1] == '/' ? spec + 2
                        : spec[0] == '.' && spec[1] == ':' ? spec + 1
                                                           : spec;
      cleanup_free char *abs = spec[0] == '~'
                                   ? xasprintf ("%s%s", getenv ("HOME") ? getenv ("HOME") : "", spec + 1)
                                   : xasprintf ("%s%s%s", cwd, *rel == ':' ? "" : "/", rel);
      json_array_append_new (binds, json_string (abs));
      return 0;
    }
  json_array_append_new (binds, json_string (spec));
  return 0;
}

/* M's object member KEY, made when missing. */
static json_t *
mount_sub (json_t *m, const char *key)
{
  json_t *o = json_object_get (m, key);
  if (!json_is_object (o))
    json_object_set_new (m, key, o = json_object ());
  return o;
}

/* --mount type=bind,source=/a,target=/b[,readonly] to HostConfig.Mounts
   (docker's keys: readonly, bind-propagation, volume-nocopy, volume-label,
   volume-driver, volume-opt, tmpfs-size, tmpfs-mode). */
static int
add_mount (json_t *mounts, const char *spec, polis_error **err)
{
  cleanup_free char *s = xstrdup (spec);
  json_t *m = json_object ();
  json_object_set_new (m, "Type", json_string ("volume"));
  char *save = NULL;
  for (char *kv = strtok_r (s, ",", &save); kv; kv = strtok_r (NULL, ",", &save))
    {
      char *eq = strchr (kv, '=');
      const char *v = eq ? eq + 1 : "true";
      if (eq)
        *eq = '\0';
      if (strcmp (kv, "type") == 0)
        json_object_set_new (m, "Type", json_string (v));
      else if (strcmp (kv, "source") == 0 || strcmp (kv, "src") == 0)
        json_object_set_new (m, "Source", json_string (v));
      else if (strcmp (kv, "target") == 0 || strcmp (kv, "destination") == 0
               || strcmp (kv, "dst") == 0)
        json_object_set_new (m, "Target", json_string (v));
      else if (strcmp (kv, "readonly") == 0 || strcmp (kv, "ro") == 0)
        json_object_set_new (m, "ReadOnly", json_boolean (strcmp (v, "false") != 0 && strcmp (v, "0") != 0));
      else if (strcmp (kv, "tmpfs-size") == 0)
        json_object_set_new (mount_sub (m, "TmpfsOptions"), "SizeBytes",
                             json_integer ((json_int_t) units_ram_in_bytes (v)));
      else if (strcmp (kv, "tmpfs-mode") == 0)
        {
          char *end = NULL;
          long mode = strtol (v, &end, 8);
          if (end == v || *end || mode < 0 || mode > 07777)
            {
              json_decref (m);
              return error_set (err, ERROR_INVALID, EINVAL,
                                "invalid argument \"%s\" for \"--mount\" flag: "
                                "invalid value for %s: %s",
                                spec, kv, v);
            }
          json_object_set_new (mount_sub (m, "TmpfsOptions"), "Mode", json_integer (mode));
        }
      else if (strcmp (kv, "bind-propagation") == 0)
        json_object_set_new (mount_sub (m, "BindOptions"), "Propagation", json_string (v));
      else if (strcmp (kv, "volume-nocopy") == 0)
        json_object_set_new (mount_sub (m, "VolumeOptions"), "NoCopy",
                             json_boolean (strcmp (v, "false") != 0 && strcmp (v, "0") != 0));
      else if (strcmp (kv, "volume-driver") == 0)
        json_object_set_new (mount_sub (mount_sub (m, "VolumeOptions"), "DriverConfig"),
                             "Name", json_string (v));
      else if (strcmp (kv, "volume-label") == 0 || strcmp (kv, "volume-opt") == 0)
        {
          /* k=v: the value holds the second "=". */
          char *eq2 = eq ? strchr (eq + 1, '=') : NULL;
          if (eq2)
            *eq2 = '\0';
          json_t *vo = mount_sub (m, "VolumeOptions");
          json_t *dst = kv[7] == 'l' ? mount_sub (vo, "Labels")
                                     : mount_sub (mount_sub (vo, "DriverConfig"), "Options");
          json_object_set_new (dst, v, json_string (eq2 ? eq2 + 1 : ""));
        }
      else
        {
          json_decref (m);
          return error_set (err, ERROR_INVALID, EINVAL,
                            "invalid argument \"%s\" for \"--mount\" flag: "
                            "unexpected key '%s' in '%s'",
                            spec, kv, spec);
        }
    }
  if (json_object_get (m, "Target") == NULL)
    {
      json_decref (m);
      return error_set (err, ERROR_INVALID, EINVAL,
                        "invalid argument \"%s\" for \"--mount\" flag: target "
                        "is required",
                        spec);
    }
  json_array_append_new (mounts, m);
  return 0;
}

static int
add_restart (json_t *hc, const char *v, polis_error **err)
{
  cleanup_free char *s = xstrdup (v);
  char *colon = strchr (s, ':');
  long max = 0;
  if (colon)
    {
      *colon = '\0';
      char *end = NULL;
      max = strtol (colon + 1, &end, 10);
      if (end == colon + 1 || *end)
        return error_set (err, ERROR_INVALID, EINVAL,
                          "invalid restart policy format: maximum retry count "
                          "must be an integer");
    }
  if (strcmp (s, "no") != 0 && strcmp (s, "always") != 0
      && strcmp (s, "unless-stopped") != 0 && strcmp (s, "on-failure") != 0)
    return error_set (err, ERROR_INVALID, EINVAL,
                      "invalid restart policy format: unknown policy '%s'; use "
                      "one of 'no', 'always', 'on-failure', or "
                      "'unless-stopped'",
                      s);
  if (colon && strcmp (s, "on-failure") != 0)
    return error_set (err, ERROR_INVALID, EINVAL,
                      "invalid restart policy format: maximum retry count can "
                      "only be used with 'on-failure'");
  json_object_set_new (hc, "RestartPolicy",
                       json_pack ("{s:s,s:i}", "Name", s, "MaximumRetryCount",
                                  (int) max));
  return 0;
}

json_t *
container_opts_build (container_opts *o, const char *image, char **args,
                      polis_error **err)
{
  cleanup_json json_t *cfg = json_object ();
  json_t *hc = json_object ();
  json_object_set_new (cfg, "HostConfig", hc);

  bool attach_stdin = o->interactive, attach_stdout = true,
       attach_stderr = true;
  if (o->attach && o->attach[0])
    {
      attach_stdin = attach_stdout = attach_stderr = false;
      for (char **a = o->attach; *a; a++)
        {
          if (strcasecmp (*a, "stdin") == 0)
            attach_stdin = true;
          else if (strcasecmp (*a, "stdout") == 0)
            attach_stdout = true;
          else if (strcasecmp (*a, "stderr") == 0)
            attach_stderr = true;
          else
            {
              error_set (err, ERROR_INVALID, EINVAL,
                         "invalid argument \"%s\" for \"-a, --attach\" flag: "
                         "valid streams are STDIN, STDOUT and STDERR",
                         *a);
              return NULL;
            }
        }
    }
  if (o->detach)
    attach_stdin = attach_stdout = attach_stderr = false;
  json_object_set_new (cfg, "Hostname", json_string (o->hostname ? o->hostname : ""));
  json_object_set_new (cfg, "Domainname", json_string (o->domainname ? o->domainname : ""));
  json_object_set_new (cfg, "User", json_string (o->user ? o->user : ""));
  json_object_set_new (cfg, "AttachStdin", json_boolean (attach_stdin));
  json_object_set_new (cfg, "AttachStdout", json_boolean (attach_stdout));
  json_object_set_new (cfg, "AttachStderr", json_boolean (attach_stderr));
  json_object_set_new (cfg, "Tty", json_boolean (o->tty));
  json_object_set_new (cfg, "OpenStdin", json_boolean (o->interactive));
  json_object_set_new (cfg, "StdinOnce", json_boolean (o->interactive && !o->detach));

  json_t *env = json_array ();
  json_object_set_new (cfg, "Env", env);
  for (char **f = o->env_file; f && *f; f++)
    if (read_kv_file (*f, env, NULL, err) < 0)
      return NULL;
  for (char **e = o->env; e && *e; e++)
    env_add (env, *e);

  if (args && args[0])
    json_object_set_new (cfg, "Cmd", strv_json (args));
  json_object_set_new (cfg, "Image", json_string (image));
  json_t *volumes = json_object ();
  json_t *binds = json_array ();
  for (char **v = o->volume; v && *v; v++)
    if (add_volume (binds, volumes, *v, err) < 0)
      {
        json_decref (volumes);
        json_decref (binds);
        return NULL;
      }
  json_object_set_new (cfg, "Volumes", volumes);
  json_object_set_new (hc, "Binds", binds);
  json_object_set_new (cfg, "WorkingDir", json_string (o->workdir ? o->workdir : ""));
  if (o->entrypoint)
    {
      json_t *ep = json_array ();
      json_array_append_new (ep, json_string (o->entrypoint));
      json_object_set_new (cfg, "Entrypoint", ep);
    }

  json_t *labels = json_object ();
  json_object_set_new (cfg, "Labels", labels);
  for (char **f = o->label_file; f && *f; f++)
    if (read_kv_file (*f, NULL, labels, err) < 0)
      return NULL;
  for (char **l = o->label; l && *l; l++)
    {
      const char *eq = strchr (*l, '=');
      cleanup_free char *k = eq ? xstrndup (*l, (size_t) (eq - *l)) : xstrdup (*l);
      json_object_set_new (labels, k, json_string (eq ? eq + 1 : ""));
    }
  if (o->stop_signal)
    json_object_set_new (cfg, "StopSignal", json_string (o->stop_signal));
  if (parse_int_flag ("stop-timeout", o->stop_timeout, cfg, "StopTimeout", err) < 0)
    return NULL;
  if (o->mac_address)
    json_object_set_new (cfg, "MacAddress", json_string (o->mac_address));

  json_t *ports = json_object ();
  json_t *bindings = json_object ();
  json_object_set_new (cfg, "ExposedPorts", ports);
  json_object_set_new (hc, "PortBindings", bindings);
  for (char **p = o->publish; p && *p; p++)
    if (container_opts_add_publish (ports, bindings, *p, err) < 0)
      return NULL;
  for (char **p = o->expose; p && *p; p++)
    if (container_opts_add_publish (ports, NULL, *p, err) < 0)
      return NULL;
  json_object_set_new (hc, "PublishAllPorts", json_boolean (o->publish_all));

  if (o->no_healthcheck || o->health_cmd || o->health_interval
      || o->health_timeout || o->health_retries || o->health_start_period
      || o->health_start_interval)
    {
      json_t *h = json_object ();
      json_object_set_new (cfg, "Healthcheck", h);
      if (o->no_healthcheck)
        {
          if (o->health_cmd)
            {
              error_set (err, ERROR_INVALID, EINVAL,
                         "--no-healthcheck conflicts with --health-* options");
              return NULL;
            }
          json_object_set_new (h, "Test", json_pack ("[s]", "NONE"));
        }
      else if (o->health_cmd)
        json_object_set_new (h, "Test", json_pack ("[s,s]", "CMD-SHELL",
                                                   o->health_cmd));
      if (parse_ns_duration ("health-interval", o->health_interval, h, "Interval", err) < 0
          || parse_ns_duration ("health-timeout", o->health_timeout, h, "Timeout", err) < 0
          || parse_ns_duration ("health-start-period", o->health_start_period, h, "StartPeriod", err) < 0
          || parse_ns_duration ("health-start-interval", o->health_start_interval, h, "StartInterval", err) < 0
          || parse_int_flag ("health-retries", o->health_retries, h, "Retries", err) < 0)
        return NULL;
    }

  /* HostConfig */
  json_object_set_new (hc, "NetworkMode", json_string (o->network ? o->network : "default"));
  if (o->restart && add_restart (hc, o->restart, err) < 0)
    return NULL;
  json_object_set_new (hc, "AutoRemove", json_boolean (o->rm));
  json_object_set_new (hc, "Privileged", json_boolean (o->privileged));
  json_object_set_new (hc, "ReadonlyRootfs", json_boolean (o->read_only));
  if (o->cap_add)
    json_object_set_new (hc, "CapAdd", strv_json (o->cap_add));
  if (o->cap_drop)
    json_object_set_new (hc, "CapDrop", strv_json (o->cap_drop));
  if (o->security_opt)
    json_object_set_new (hc, "SecurityOpt", strv_json (o->security_opt));
  if (o->init)
    json_object_set_new (hc, "Init", json_true ());
  if (o->group_add)
    json_object_set_new (hc, "GroupAdd", strv_json (o->group_add));
  if (o->dns)
    json_object_set_new (hc, "Dns", strv_json (o->dns));
  if (o->dns_search)
    json_object_set_new (hc, "DnsSearch", strv_json (o->dns_search));
  if (o->dns_option)
    json_object_set_new (hc, "DnsOptions", strv_json (o->dns_option));
  if (o->add_host)
    json_object_set_new (hc, "ExtraHosts", strv_json (o->add_host));
  if (o->volumes_from)
    json_object_set_new (hc, "VolumesFrom", strv_json (o->volumes_from));
  if (o->link)
    json_object_set_new (hc, "Links", strv_json (o->link));
  if (o->ipc)
    json_object_set_new (hc, "IpcMode", json_string (o->ipc));
  if (o->pid)
    json_object_set_new (hc, "PidMode", json_string (o->pid));
  if (o->uts)
    json_object_set_new (hc, "UTSMode", json_string (o->uts));
  if (o->userns)
    json_object_set_new (hc, "UsernsMode", json_string (o->userns));
  if (o->cgroupns)
    json_object_set_new (hc, "CgroupnsMode", json_string (o->cgroupns));
  if (o->runtime)
    json_object_set_new (hc, "Runtime", json_string (o->runtime));
  if (parse_bytes_flag ("shm-size", o->shm_size, hc, "ShmSize", err) < 0)
    return NULL;
  json_t *lc = json_object ();
  json_object_set_new (hc, "LogConfig", lc);
  json_object_set_new (lc, "Type", json_string (o->log_driver ? o->log_driver : ""));
  json_t *lconf = json_object ();
  json_object_set_new (lc, "Config", lconf);
  for (char **l = o->log_opt; l && *l; l++)
    {
      const char *eq = strchr (*l, '=');
      if (eq == NULL)
        {
          error_set (err, ERROR_INVALID, EINVAL,
                     "invalid argument \"%s\" for \"--log-opt\" flag: invalid "
                     "key value pair format in log options",
                     *l);
          return NULL;
        }
      cleanup_free char *k = xstrndup (*l, (size_t) (eq - *l));
      json_object_set_new (lconf, k, json_string (eq + 1));
    }
  json_t *tmpfs = json_object ();
  for (char **t = o->tmpfs; t && *t; t++)
    {
      const char *colon = strchr (*t, ':');
      cleanup_free char *k = colon ? xstrndup (*t, (size_t) (colon - *t)) : xstrdup (*t);
      json_object_set_new (tmpfs, k, json_string (colon ? colon + 1 : ""));
    }
  if (json_object_size (tmpfs))
    json_object_set_new (hc, "Tmpfs", tmpfs);
  else
    json_decref (tmpfs);
  if (o->sysctl)
    {
      json_t *sc = json_object ();
      for (char **s = o->sysctl; *s; s++)
        {
          const char *eq = strchr (*s, '=');
          if (eq == NULL)
            continue;
          cleanup_free char *k = xstrndup (*s, (size_t) (eq - *s));
          json_object_set_new (sc, k, json_string (eq + 1));
        }
      json_object_set_new (hc, "Sysctls", sc);
    }
  if (o->mount)
    {
      json_t *mounts = json_array ();
      json_object_set_new (hc, "Mounts", mounts);
      for (char **m = o->mount; *m; m++)
        if (add_mount (mounts, *m, err) < 0)
          return NULL;
    }
  if (o->ulimit)
    {
      json_t *ul = json_array ();
      json_object_set_new (hc, "Ulimits", ul);
      for (char **u = o->ulimit; *u; u++)
        {
          long long soft = 0, hard = 0;
          const char *eq = strchr (*u, '=');
          if (eq == NULL || sscanf (eq + 1, "%lld", &soft) != 1)
            {
              error_set (err, ERROR_INVALID, EINVAL,
                         "invalid argument \"%s\" for \"--ulimit\" flag: "
                         "invalid ulimit argument: %s",
                         *u, *u);
              return NULL;
            }
          const char *colon = strchr (eq, ':');
          hard = colon ? strtoll (colon + 1, NULL, 10) : soft;
          cleanup_free char *name = xstrndup (*u, (size_t) (eq - *u));
          json_array_append_new (ul, json_pack ("{s:s,s:I,s:I}", "Name", name,
                                                "Soft", (json_int_t) soft,
                                                "Hard", (json_int_t) hard));
        }
    }
  if (o->device)
    {
      json_t *devs = json_array ();
      json_object_set_new (hc, "Devices", devs);
      for (char **d = o->device; *d; d++)
        {
          cleanup_free char *s = xstrdup (*d);
          char *parts[3] = { s, NULL, NULL };
          char *c1 = strchr (s, ':');
          if (c1)
            {
              *c1 = '\0';
              parts[1] = c1 + 1;
              char *c2 = strchr (parts[1], ':');
              if (c2)
                {
                  *c2 = '\0';
                  parts[2] = c2 + 1;
                }
            }
          json_array_append_new (devs, json_pack ("{s:s,s:s,s:s}", "PathOnHost", parts[0],
                                                  "PathInContainer", parts[1] ? parts[1] : parts[0],
                                                  "CgroupPermissions", parts[2] ? parts[2] : "rwm"));
        }
    }
  /* Resources */
  if (parse_bytes_flag ("memory", o->memory, hc, "Memory", err) < 0
      || parse_bytes_flag ("memory-swap", o->memory_swap, hc, "MemorySwap", err) < 0
      || parse_bytes_flag ("memory-reservation", o->memory_reservation, hc, "MemoryReservation", err) < 0
      || parse_int_flag ("cpu-shares", o->cpu_shares, hc, "CpuShares", err) < 0
      || parse_int_flag ("pids-limit", o->pids_limit, hc, "PidsLimit", err) < 0)
    return NULL;
  if (o->cpus)
    {
      char *end = NULL;
      double c = strtod (o->cpus, &end);
      if (end == o->cpus || *end || c < 0)
        {
          error_set (err, ERROR_INVALID, EINVAL,
                     "invalid argument \"%s\" for \"--cpus\" flag: failed to "
                     "parse %s as a rational number",
                     o->cpus, o->cpus);
          return NULL;
        }
      json_object_set_new (hc, "NanoCpus", json_integer ((json_int_t) (c * 1e9 + 0.5)));
    }
  if (o->cpuset_cpus)
    json_object_set_new (hc, "CpusetCpus", json_string (o->cpuset_cpus));
  if (o->oom_kill_disable)
    json_object_set_new (hc, "OomKillDisable", json_true ());
  if (o->tty)
    {
      int rows, cols;
      if (stream_term_size (STDOUT_FILENO, &rows, &cols)
          || stream_term_size (STDIN_FILENO, &rows, &cols))
        json_object_set_new (hc, "ConsoleSize", json_pack ("[i,i]", rows, cols));
    }

  /* NetworkingConfig: --ip and --network-alias on the named network. */
  json_t *nc = json_object ();
  json_object_set_new (cfg, "NetworkingConfig", nc);
  if (o->network && (o->ip || o->network_alias))
    {
      json_t *ep = json_object ();
      if (o->network_alias)
        json_object_set_new (ep, "Aliases", strv_json (o->network_alias));
      if (o->ip)
        json_object_set_new (ep, "IPAMConfig", json_pack ("{s:s}", "IPv4Address", o->ip));
      json_object_set_new (nc, "EndpointsConfig", json_pack ("{s:o}", o->network, ep));
    }
  return steal_pointer (&cfg);
}
