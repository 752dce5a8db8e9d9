/* image_mount.c - a container root: an overlay of an image's snapshots. */
#include "image_mount.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/xalloc.h"
#include "digest.h"

static int force_legacy;

void
image_mount_force_legacy (int on)
{
  force_legacy = on;
}

/* 1 when mounted, 0 when the kernel lacks lowerdir+ (try mount(2)). */
static int
mount_new_api (char **lowers, size_t n, const char *upper, const char *work,
               const char *target, polis_error **err)
{
  cleanup_close int fs = fsopen ("overlay", FSOPEN_CLOEXEC);
  if (fs < 0)
    return (errno == ENOSYS || errno == EPERM) ? 0 : error_sys (err, "fsopen overlay");
  for (size_t i = 0; i < n; i++)
    if (fsconfig (fs, FSCONFIG_SET_STRING, "lowerdir+", lowers[i], 0) < 0)
      {
        if (errno == EINVAL && i == 0)
          return 0; /* no lowerdir+ before Linux 6.8 */
        return error_sys (err, "overlay lowerdir+ `%s`", lowers[i]);
      }
  if (fsconfig (fs, FSCONFIG_SET_STRING, "upperdir", upper, 0) < 0)
    return error_sys (err, "overlay upperdir `%s`", upper);
  if (fsconfig (fs, FSCONFIG_SET_STRING, "workdir", work, 0) < 0)
    return error_sys (err, "overlay workdir `%s`", work);
  if (fsconfig (fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
    return error_sys (err, "create overlay");
  cleanup_close int mfd = fsmount (fs, FSMOUNT_CLOEXEC, 0);
  if (mfd < 0)
    return error_sys (err, "fsmount overlay");
  if (move_mount (mfd, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) < 0)
    return error_sys (err, "mount overlay on `%s`", target);
  return 1;
}

/* mount(2): a child chdirs into the snapshots directory so the layers can
   be named by their short relative names. */
static int
mount_legacy (const char *snapdir, char **rel, size_t n, const char *upper,
              const char *work, const char *target, polis_error **err)
{
  cleanup_free char *opts = xstrdup ("lowerdir=");
  for (size_t i = 0; i < n; i++)
    {
      char *o = xasprintf ("%s%s%s", opts, i ? ":" : "", rel[i]);
      free (opts);
      opts = o;
    }
  cleanup_free char *full
      = xasprintf ("%s,upperdir=%s,workdir=%s", opts, upper, work);
  long page = sysconf (_SC_PAGESIZE);
  if ((long) strlen (full) >= page)
    return error_set (err, ERROR_INVALID, E2BIG,
                      "%zu layers do not fit mount(2)'s options (needs "
                      "Linux >= 6.8 for more)",
                      n);
  pid_t pid = fork ();
  if (pid < 0)
    return error_sys (err, "fork");
  if (pid == 0)
    {
      if (chdir (snapdir) < 0 || mount ("overlay", target, "overlay", 0, full) < 0)
        _exit (errno ? errno : 1);
      _exit (0);
    }
  int st;
  while (waitpid (pid, &st, 0) < 0 && errno == EINTR)
    ;
  if (!WIFEXITED (st) || WEXITSTATUS (st) != 0)
    return error_sys_code (err, WIFEXITED (st) ? WEXITSTATUS (st) : EIO,
                           "mount overlay on `%s`", target);
  return 0;
}

int
image_mount_overlay (image_store *s, const char *id, const char *upper,
                     const char *work, const char *target, polis_error **err)
{
  cleanup_image_record image_record *rec = image_db_get_image (s->db, id, err);
  if (rec == NULL)
    return -1;
  size_t n = rec->n_layers;
  /* Snapshots dropped after a crash (see image_store.h) come back from
     their blobs here; present ones cost a lookup each. */
  bool missing = false;
  for (size_t i = 0; i < n && !missing; i++)
    missing = !snapshot_exists (s->snaps, rec->layers[i].chain_id);
  if (missing && s->restore
      && s->restore (s, id, s->restore_data, err) < 0)
    return error_wrap (err, "image %.19s", id);
  cleanup_strv char **abs = xzalloc ((n + 2) * sizeof (char *));
  cleanup_strv char **rel = xzalloc ((n + 2) * sizeof (char *));
  /* overlayfs wants the topmost layer first. */
  for (size_t i = 0; i < n; i++)
    {
      const char *chain = rec->layers[n - 1 - i].chain_id;
      if (!snapshot_exists (s->snaps, chain))
        return error_set (err, ERROR_NOT_FOUND, ENOENT,
                          "snapshot %s of image %.19s is missing", chain, id);
      abs[i] = snapshot_path (s->snaps, chain);
      rel[i] = xstrdup (digest_hex (chain));
    }
  if (n == 0)
    {
      /* An image without layers still needs one lower directory. */
      cleanup_free char *empty = xasprintf ("%s/snapshots/.empty", s->root);
      mkdir (empty, 0755);
      abs[0] = steal_pointer (&empty);
      rel[0] = xstrdup (".empty");
      n = 1;
    }
  if (!force_legacy)
    {
      int r = mount_new_api (abs, n, upper, work, target, err);
      if (r != 0)
        return r < 0 ? -1 : 0;
    }
  cleanup_free char *snapdir = xasprintf ("%s/snapshots", s->root);
  return mount_legacy (snapdir, rel, n, upper, work, target, err);
}
