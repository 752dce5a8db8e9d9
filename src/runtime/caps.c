/* caps.c - Linux capabilities: names, and applying the five OCI sets. */
#include "caps.h"

#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *const caps_names[CAPS_KNOWN_LAST + 1] = {
  "CAP_CHOWN",
  "CAP_DAC_OVERRIDE",
  "CAP_DAC_READ_SEARCH",
  "CAP_FOWNER",
  "CAP_FSETID",
  "CAP_KILL",
  "CAP_SETGID",
  "CAP_SETUID",
  "CAP_SETPCAP",
  "CAP_LINUX_IMMUTABLE",
  "CAP_NET_BIND_SERVICE",
  "CAP_NET_BROADCAST",
  "CAP_NET_ADMIN",
  "CAP_NET_RAW",
  "CAP_IPC_LOCK",
  "CAP_IPC_OWNER",
  "CAP_SYS_MODULE",
  "CAP_SYS_RAWIO",
  "CAP_SYS_CHROOT",
  "CAP_SYS_PTRACE",
  "CAP_SYS_PACCT",
  "CAP_SYS_ADMIN",
  "CAP_SYS_BOOT",
  "CAP_SYS_NICE",
  "CAP_SYS_RESOURCE",
  "CAP_SYS_TIME",
  "CAP_SYS_TTY_CONFIG",
  "CAP_MKNOD",
  "CAP_LEASE",
  "CAP_AUDIT_WRITE",
  "CAP_AUDIT_CONTROL",
  "CAP_SETFCAP",
  "CAP_MAC_OVERRIDE",
  "CAP_MAC_ADMIN",
  "CAP_SYSLOG",
  "CAP_WAKE_ALARM",
  "CAP_BLOCK_SUSPEND",
  "CAP_AUDIT_READ",
  "CAP_PERFMON",
  "CAP_BPF",
  "CAP_CHECKPOINT_RESTORE",
};

int
caps_from_name (const char *name)
{
  for (int i = 0; i <= CAPS_KNOWN_LAST; i++)
    if (strcasecmp (caps_names[i], name) == 0)
      return i;
  return -1;
}

const char *
caps_name (int n)
{
  if (n < 0 || n > CAPS_KNOWN_LAST)
    return NULL;
  return caps_names[n];
}

int
caps_last_cap (void)
{
  static int last = -1;
  if (last >= 0)
    return last;
  /* Probe with PR_CAPBSET_READ: cheaper than reading /proc and works
     without /proc mounted. */
  int n = CAPS_KNOWN_LAST;
  while (n > 0 && prctl (PR_CAPBSET_READ, (unsigned long) n, 0, 0, 0) < 0)
    n--;
  for (; n < 63 && prctl (PR_CAPBSET_READ, (unsigned long) n + 1, 0, 0, 0) >= 0;)
    n++;
  last = n;
  return last;
}

int
caps_drop_bounding (uint64_t bounding, polis_error **err)
{
  int last = caps_last_cap ();
  for (int i = 0; i <= last; i++)
    {
      if (bounding & (1ULL << i))
        continue;
      if (prctl (PR_CAPBSET_DROP, (unsigned long) i, 0, 0, 0) < 0
          && errno != EINVAL)
        return error_sys (err, "drop %s from the bounding set",
                          caps_name (i) ? caps_name (i) : "capability");
    }
  return 0;
}

int
caps_apply_sets (uint64_t effective, uint64_t permitted, uint64_t inheritable,
                 uint64_t ambient, polis_error **err)
{
  int last = caps_last_cap ();
  uint64_t known = last >= 63 ? ~0ULL : ((1ULL << (last + 1)) - 1);
  effective &= known;
  permitted &= known;
  inheritable &= known;
  ambient &= known;

  struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3,
                                          .pid = 0 };
  struct __user_cap_data_struct data[2] = {
    { .effective = (uint32_t) effective,
      .permitted = (uint32_t) permitted,
      .inheritable = (uint32_t) inheritable },
    { .effective = (uint32_t) (effective >> 32),
      .permitted = (uint32_t) (permitted >> 32),
      .inheritable = (uint32_t) (inheritable >> 32) },
  };
  if (syscall (SYS_capset, &hdr, data) < 0)
    return error_sys (err, "set capabilities");

  if (prctl (PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0
      && errno != EINVAL)
    return error_sys (err, "clear ambient capabilities");
  for (int i = 0; i <= last; i++)
    {
      if (!(ambient & (1ULL << i)))
        continue;
      /* Ambient needs the capability in permitted and inheritable; runc
         ignores the ones that are not, so does this. */
      if (prctl (PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, (unsigned long) i, 0, 0)
              < 0
          && errno != EPERM && errno != EINVAL)
        return error_sys (err, "raise ambient %s", caps_name (i));
    }
  return 0;
}
