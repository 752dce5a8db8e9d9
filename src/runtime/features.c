/* features.c - the runtime spec's features document (`features`). */
#include "features.h"

#include "polis-config.h"
#include "runtime/caps.h"
#include "runtime/seccomp.h"
#include "runtime/spec.h"

json_t *
features_document (void)
{
  json_t *hooks = json_array ();
  for (int k = 0; k < HOOK_COUNT; k++)
    json_array_append_new (hooks, json_string (spec_hook_name (k)));

  json_t *nss = json_array ();
  for (int k = 0; k < NS_COUNT; k++)
    json_array_append_new (nss, json_string (spec_ns_name (k)));

  json_t *caps = json_array ();
  int last = caps_last_cap ();
  for (int i = 0; i <= last && i <= CAPS_KNOWN_LAST; i++)
    json_array_append_new (caps, json_string (caps_name (i)));

  json_t *lnx = json_pack (
      "{s:o, s:o, s:{s:b, s:b, s:b, s:b, s:b}, s:o, s:{s:b}, s:{s:b}, "
      "s:{s:b}, s:{s:b}, s:{s:{s:b}}}",
      "namespaces", nss, "capabilities", caps, "cgroup", "v1", 1, "v2", 1,
      "systemd", 0, "systemdUser", 0, "rdma", 0, "seccomp", seccomp_features (),
      "apparmor", "enabled", 1, "selinux", "enabled", 1, "intelRdt", "enabled",
      0, "memoryPolicy", "enabled", 0, "mountExtensions", "idmap", "enabled", 0);

  return json_pack ("{s:s, s:s, s:o, s:o, s:o, s:{s:s, s:s}}", "ociVersionMin",
                    "1.0.0", "ociVersionMax", POLIS_OCI_VERSION, "hooks", hooks,
                    "mountOptions", spec_mount_option_names (), "linux", lnx,
                    "annotations", "io.github.polis.version", POLIS_VERSION,
                    "io.github.polis.commit", POLIS_COMMIT);
}
