/* spec_default.c - the config.json that `polis-runtime spec` writes. */
#include "spec_default.h"

#include <stdlib.h>
#include <string.h>

#include "polis-config.h"

static const char spec_default_json[] =
  "{"
  "\"ociVersion\":\"" POLIS_OCI_VERSION "\","
  "\"process\":{"
  "\"terminal\":true,"
  "\"user\":{\"uid\":0,\"gid\":0},"
  "\"args\":[\"sh\"],"
  "\"env\":[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\",\"TERM=xterm\"],"
  "\"cwd\":\"/\","
  "\"capabilities\":{"
  "\"bounding\":[\"CAP_AUDIT_WRITE\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"],"
  "\"effective\":[\"CAP_AUDIT_WRITE\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"],"
  "\"permitted\":[\"CAP_AUDIT_WRITE\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"]},"
  "\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"hard\":1024,\"soft\":1024}],"
  "\"noNewPrivileges\":true},"
  "\"root\":{\"path\":\"rootfs\",\"readonly\":true},"
  "\"hostname\":\"polis\","
  "\"mounts\":["
  "{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
  "{\"destination\":\"/dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\",\"options\":[\"nosuid\",\"strictatime\",\"mode=755\",\"size=65536k\"]},"
  "{\"destination\":\"/dev/pts\",\"type\":\"devpts\",\"source\":\"devpts\",\"options\":[\"nosuid\",\"noexec\",\"newinstance\",\"ptmxmode=0666\",\"mode=0620\",\"gid=5\"]},"
  "{\"destination\":\"/dev/shm\",\"type\":\"tmpfs\",\"source\":\"shm\",\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"mode=1777\",\"size=65536k\"]},"
  "{\"destination\":\"/dev/mqueue\",\"type\":\"mqueue\",\"source\":\"mqueue\",\"options\":[\"nosuid\",\"noexec\",\"nodev\"]},"
  "{\"destination\":\"/sys\",\"type\":\"sysfs\",\"source\":\"sysfs\",\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"ro\"]},"
  "{\"destination\":\"/sys/fs/cgroup\",\"type\":\"cgroup\",\"source\":\"cgroup\",\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"relatime\",\"ro\"]}"
  "],"
  "\"linux\":{"
  "\"resources\":{\"devices\":[{\"allow\":false,\"access\":\"rwm\"}]},"
  "\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"network\"},{\"type\":\"ipc\"},{\"type\":\"uts\"},{\"type\":\"mount\"},{\"type\":\"cgroup\"}],"
  "\"maskedPaths\":[\"/proc/acpi\",\"/proc/asound\",\"/proc/kcore\",\"/proc/keys\",\"/proc/latency_stats\",\"/proc/timer_list\",\"/proc/timer_stats\",\"/proc/sched_debug\",\"/sys/firmware\",\"/proc/scsi\"],"
  "\"readonlyPaths\":[\"/proc/bus\",\"/proc/fs\",\"/proc/irq\",\"/proc/sys\",\"/proc/sysrq-trigger\"]"
  "}"
  "}";

static void
spec_default_make_rootless (json_t *j, uid_t uid, gid_t gid)
{
  json_t *lnx = json_object_get (j, "linux");
  json_t *nss = json_object_get (lnx, "namespaces");
  size_t i;
  json_t *ns;
  json_t *kept = json_array ();
  json_array_foreach (nss, i, ns)
  {
    const char *t = json_string_value (json_object_get (ns, "type"));
    if (t && strcmp (t, "network") != 0 && strcmp (t, "user") != 0)
      json_array_append (kept, ns);
  }
  json_array_append_new (kept, json_pack ("{s:s}", "type", "user"));
  json_object_set_new (lnx, "namespaces", kept);
  json_object_set_new (lnx, "uidMappings",
                       json_pack ("[{s:i, s:I, s:i}]", "containerID", 0, "hostID",
                                  (json_int_t) uid, "size", 1));
  json_object_set_new (lnx, "gidMappings",
                       json_pack ("[{s:i, s:I, s:i}]", "containerID", 0, "hostID",
                                  (json_int_t) gid, "size", 1));
  json_object_del (lnx, "resources");

  json_t *mounts = json_object_get (j, "mounts");
  json_t *newm = json_array ();
  json_t *m;
  json_array_foreach (mounts, i, m)
  {
    const char *type = json_string_value (json_object_get (m, "type"));
    if (type && strcmp (type, "cgroup") == 0)
      continue;
    if (type && strcmp (type, "sysfs") == 0)
      {
        json_array_append_new (
            newm, json_pack ("{s:s, s:s, s:s, s:[s,s,s,s,s]}", "destination", "/sys",
                             "type", "none", "source", "/sys", "options", "rbind",
                             "nosuid", "noexec", "nodev", "ro"));
        continue;
      }
    if (type && strcmp (type, "devpts") == 0)
      {
        json_t *opts = json_object_get (m, "options");
        json_t *o2 = json_array ();
        size_t k;
        json_t *o;
        json_array_foreach (opts, k, o)
        if (strncmp (json_string_value (o), "gid=", 4) != 0)
          json_array_append (o2, o);
        json_object_set_new (m, "options", o2);
      }
    json_array_append (newm, m);
  }
  json_object_set_new (j, "mounts", newm);
}

json_t *
spec_default (bool rootless, uid_t uid, gid_t gid)
{
  json_t *j = json_loads (spec_default_json, 0, NULL);
  if (j == NULL)
    abort ();
  if (rootless)
    spec_default_make_rootless (j, uid, gid);
  return j;
}
