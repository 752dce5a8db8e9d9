/* lsm.c - AppArmor profiles and SELinux labels for container processes. */
#include "lsm.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/file.h"
#include "base/log.h"
#include "base/xalloc.h"

static int lsm_apparmor = -1, lsm_selinux = -1;

bool
lsm_apparmor_enabled (void)
{
  if (lsm_apparmor < 0)
    {
      cleanup_error polis_error *e = NULL;
      cleanup_free char *v = file_read_at (AT_FDCWD, "/sys/module/apparmor/parameters/enabled",
                                           16, NULL, &e);
      lsm_apparmor = v != NULL && v[0] == 'Y';
    }
  return lsm_apparmor;
}

bool
lsm_selinux_enabled (void)
{
  if (lsm_selinux < 0)
    lsm_selinux = access ("/sys/fs/selinux/enforce", F_OK) == 0;
  return lsm_selinux;
}

void
lsm_check (const spec_process *p, const char *mount_label)
{
  if (p->apparmor_profile && *p->apparmor_profile && !lsm_apparmor_enabled ())
    log_warning ("AppArmor is not enabled on this host: profile `%s` is not applied",
                 p->apparmor_profile);
  if (((p->selinux_label && *p->selinux_label) || (mount_label && *mount_label))
      && !lsm_selinux_enabled ())
    log_warning ("SELinux is not enabled on this host: labels are not applied");
}

/* Write VALUE to the first of the /proc/self/attr files that exists. */
static int
lsm_write_attr (const char *const *paths, const char *value, polis_error **err)
{
  for (size_t i = 0; paths[i]; i++)
    {
      cleanup_close int fd = open (paths[i], O_WRONLY | O_CLOEXEC);
      if (fd < 0)
        {
          if (errno == ENOENT)
            continue;
          return error_sys (err, "open %s", paths[i]);
        }
      if (file_write_all (fd, value, strlen (value), err) < 0)
        return error_wrap (err, "write %s", paths[i]);
      return 0;
    }
  return error_set (err, ERROR_UNAVAILABLE, ENOENT, "no /proc/self/attr file to write");
}

int
lsm_apply_exec (const spec_process *p, polis_error **err)
{
  if (p->apparmor_profile && *p->apparmor_profile && lsm_apparmor_enabled ())
    {
      static const char *const paths[] = { "/proc/self/attr/apparmor/exec",
                                           "/proc/self/attr/exec", NULL };
      cleanup_free char *v = xasprintf ("exec %s", p->apparmor_profile);
      if (lsm_write_attr (paths, v, err) < 0)
        return error_wrap (err, "apply AppArmor profile `%s`", p->apparmor_profile);
    }
  if (p->selinux_label && *p->selinux_label && lsm_selinux_enabled ())
    {
      static const char *const paths[] = { "/proc/self/attr/exec", NULL };
      if (lsm_write_attr (paths, p->selinux_label, err) < 0)
        return error_wrap (err, "apply SELinux label `%s`", p->selinux_label);
    }
  return 0;
}

char *
lsm_mount_data (const char *data, const char *label)
{
  if (label == NULL || *label == '\0' || !lsm_selinux_enabled ())
    return data ? xstrdup (data) : NULL;
  if (data == NULL || *data == '\0')
    return xasprintf ("context=\"%s\"", label);
  return xasprintf ("%s,context=\"%s\"", data, label);
}
