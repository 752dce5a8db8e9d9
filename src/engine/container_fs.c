/* container_fs.c - a container's files on the host. */
#include "container_fs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/file.h"
#include "base/path.h"
#include "base/xalloc.h"
#include "image/image_mount.h"
#include "image/image_store.h"
#include "network.h"
#include "network/ipv4.h"

#define ETC_FILE_MAX (4u << 20) /* a container's /etc/passwd or /etc/group */

bool
container_fs_mounted (container *c)
{
  cleanup_free char *rootfs = xasprintf ("%s/rootfs", c->dir);
  struct stat a, b;
  if (stat (rootfs, &a) < 0 || stat (c->dir, &b) < 0)
    return false;
  return a.st_dev != b.st_dev;
}

int
container_fs_restore_image (image_store *s, const char *id, void *data,
                            polis_error **err)
{
  engine *e = data;
  char *argv[] = { (char *) e->opts.image_tool, "--root", s->root, "unpack",
                   (char *) id, NULL };
  char *env[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };
  int errp[2];
  if (pipe2 (errp, O_CLOEXEC) < 0)
    return error_sys (err, "pipe");
  cleanup_close int rd = errp[0];
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init (&fa);
  posix_spawn_file_actions_addopen (&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen (&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_adddup2 (&fa, errp[1], 2);
  pid_t pid;
  int r = posix_spawn (&pid, e->opts.image_tool, &fa, NULL, argv, env);
  posix_spawn_file_actions_destroy (&fa);
  close (errp[1]);
  if (r != 0)
    return error_sys_code (err, r, "run `%s`", e->opts.image_tool);
  /* Its last words, capped (the rest is drained): the error to pass on. */
  char msg[1024], sink[256];
  size_t len = 0;
  for (;;)
    {
      bool full = len == sizeof msg - 1;
      ssize_t k = read (rd, full ? sink : msg + len,
                        full ? sizeof sink : sizeof msg - 1 - len);
      if (k < 0 && errno == EINTR)
        continue;
      if (k <= 0)
        break;
      if (!full)
        len += (size_t) k;
    }
  msg[len] = '\0';
  while (len > 0 && msg[len - 1] == '\n')
    msg[--len] = '\0';
  int status;
  while (waitpid (pid, &status, 0) < 0)
    if (errno != EINTR)
      return error_sys (err, "wait for `%s`", e->opts.image_tool);
  if (WIFEXITED (status) && WEXITSTATUS (status) == 0)
    return 0;
  const char *m = strncmp (msg, "Error: ", 7) == 0 ? msg + 7 : msg;
  return error_set (err, ERROR_INTERNAL, EIO, "unpack the layers again: %s",
                    *m ? m : "polis-image failed");
}

static int
do_mount (void *ud, image_store *s, polis_error **err)
{
  container *c = ud;
  cleanup_free char *rootfs = xasprintf ("%s/rootfs", c->dir);
  cleanup_free char *upper = xasprintf ("%s/upper", c->dir);
  cleanup_free char *work = xasprintf ("%s/work", c->dir);
  return image_mount_overlay (s, c->image_id, upper, work, rootfs, err);
}

int
container_fs_mount (engine *e, container *c, polis_error **err)
{
  if (container_fs_mounted (c))
    return 0;
  if (engine_with_images (e, do_mount, c, err) < 0)
    return error_wrap (err, "mount the root file system");
  return 0;
}

/* The host's resolv.conf without loopback name servers, which mean
   nothing in another network namespace (Docker's rule); Google's public
   servers when none is left, as Docker. */
static char *
resolv_conf (bool host_network, uint32_t resolver, const json_t *hc)
{
  const json_t *dns = json_object_get (hc, "Dns");
  const json_t *search = json_object_get (hc, "DnsSearch");
  const json_t *opts = json_object_get (hc, "DnsOptions");
  polis_error *e = NULL;
  cleanup_free char *host = file_read_at (AT_FDCWD, "/etc/resolv.conf",
                                          1 << 16, NULL, &e);
  error_free (&e);
  if (host == NULL)
    host = xstrdup ("");
  if (host_network && json_array_size (dns) + json_array_size (search)
                          + json_array_size (opts) == 0)
    return steal_pointer (&host);
  /* Each name and option is capped at 250 bytes below. */
  size_t cap = strlen (host) + 128
               + 256 * (json_array_size (dns) + json_array_size (search) + json_array_size (opts) + 2),
         o = 0;
  char *out = xmalloc (cap);
  out[0] = '\0';
  bool ns = false;
  /* --dns, or the embedded resolver of a user network, replace the
     host's servers; its search and options lines stay. */
  size_t i;
  json_t *v;
  json_array_foreach (dns, i, v)
  {
    if (json_string_value (v) && strlen (json_string_value (v)) < 60)
      o += (size_t) snprintf (out + o, cap - o, "nameserver %s\n", json_string_value (v));
    ns = true;
  }
  if (!ns && resolver)
    {
      char b[IPV4_STR];
      o += (size_t) snprintf (out + o, cap - o, "nameserver %s\n", ipv4_format (resolver, b));
      ns = true;
    }
  bool replaced = ns;
  for (char *line = strtok (host, "\n"); line; line = strtok (NULL, "\n"))
    {
      if (strncmp (line, "nameserver", 10) == 0 && replaced)
        continue;
      if ((strncmp (line, "search", 6) == 0 || strncmp (line, "domain", 6) == 0)
          && json_array_size (search) > 0)
        continue;
      if (strncmp (line, "options", 7) == 0 && json_array_size (opts) > 0)
        continue;
      if (strncmp (line, "nameserver", 10) == 0)
        {
          const char *a = line + 10;
          while (*a == ' ' || *a == '\t')
            a++;
          if (strncmp (a, "127.", 4) == 0 || strcmp (a, "::1") == 0)
            continue;
          ns = true;
        }
      o += (size_t) snprintf (out + o, cap - o, "%s\n", line);
    }
  /* --dns-search and --dns-option replace the host's lines. */
  const json_t *lists[2] = { search, opts };
  const char *words[2] = { "search", "options" };
  for (int l = 0; l < 2; l++)
    {
      if (json_array_size (lists[l]) == 0)
        continue;
      o += (size_t) snprintf (out + o, cap - o, "%s", words[l]);
      json_array_foreach (lists[l], i, v)
      {
        const char *s = json_string_value (v);
        if (s && strlen (s) < 250 && !strpbrk (s, " \t\n"))
          o += (size_t) snprintf (out + o, cap - o, " %s", s);
      }
      o += (size_t) snprintf (out + o, cap - o, "\n");
    }
  if (!ns)
    snprintf (out + o, cap - o, "nameserver 8.8.8.8\nnameserver 8.8.4.4\n");
  return out;
}

int
container_fs_write_etc (container *c, polis_error **err)
{
  const char *hostname = json_string_value (json_object_get (c->config, "Hostname"));
  const char *domain = json_string_value (json_object_get (c->config, "Domainname"));
  bool host_net = strcmp (json_string_value (json_object_get (c->host_config,
                                                              "NetworkMode")),
                          "host")
                  == 0;
  cleanup_close int dfd = open (c->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    return error_sys (err, "open `%s`", c->dir);
  cleanup_free char *hn = xasprintf ("%s\n", hostname ? hostname : "");
  char own_ip[IPV4_STR] = "127.0.1.1";
  if (network_container_ip (c))
    ipv4_format (network_container_ip (c), own_ip);
  size_t cap = 4096;
  cleanup_free char *hosts = xmalloc (cap);
  size_t o = 0;
  if (host_net)
    {
      polis_error *e = NULL;
      char *h = file_read_at (AT_FDCWD, "/etc/hosts", 1 << 20, NULL, &e);
      error_free (&e);
      free (hosts);
      hosts = h ? h : xstrdup ("127.0.0.1\tlocalhost\n");
      o = strlen (hosts);
      cap = o + 1;
    }
  else
    {
      o = (size_t) snprintf (hosts, cap,
                             "127.0.0.1\tlocalhost\n"
                             "::1\tlocalhost ip6-localhost ip6-loopback\n"
                             "fe00::\tip6-localnet\n"
                             "ff00::\tip6-mcastprefix\n"
                             "ff02::1\tip6-allnodes\n"
                             "ff02::2\tip6-allrouters\n"
                             "%s\t%s%s%s\n",
                             own_ip, hostname, domain && *domain ? "." : "",
                             domain ? domain : "");
    }
  size_t i;
  json_t *v;
  json_array_foreach (json_object_get (c->host_config, "ExtraHosts"), i, v)
  {
    /* "host:ip" (or "host=ip"); the address may itself hold colons. */
    cleanup_free char *h = xstrdup (json_string_value (v));
    char *sep = strchr (h, '=');
    if (sep == NULL)
      sep = strchr (h, ':');
    if (sep == NULL)
      continue;
    *sep = '\0';
    const char *ip = sep + 1;
    if (strcmp (ip, "host-gateway") == 0)
      ip = "127.0.0.1";
    size_t need = strlen (h) + strlen (ip) + 3;
    if (o + need >= cap)
      {
        cap = (o + need) * 2;
        hosts = xrealloc (hosts, cap);
      }
    o += (size_t) snprintf (hosts + o, cap - o, "%s\t%s\n", ip, h);
  }
  cleanup_free char *resolv
      = resolv_conf (host_net, network_container_dns (c->eng, c), c->host_config);
  if (file_write_atomic_at (dfd, "hostname", hn, strlen (hn), 0644, false, err) < 0
      || file_write_atomic_at (dfd, "hosts", hosts, o, 0644, false, err) < 0
      || file_write_atomic_at (dfd, "resolv.conf", resolv, strlen (resolv), 0644,
                               false, err)
             < 0)
    return -1;
  return 0;
}

/* --- users ---------------------------------------------------------------------- */

static char *
read_etc (int rootfd, const char *path)
{
  polis_error *e = NULL;
  cleanup_close int fd = path_open_in_root (rootfd, path, O_RDONLY, PATH_OPEN, 0, &e);
  error_free (&e);
  if (fd < 0)
    return NULL;
  char *buf = file_read_fd (fd, ETC_FILE_MAX, NULL, &e);
  error_free (&e);
  return buf;
}

static bool
all_digits (const char *s)
{
  if (*s == '\0')
    return false;
  for (; *s; s++)
    if (*s < '0' || *s > '9')
      return false;
  return true;
}

/* Field N (0-based) of a colon-separated LINE, into OUT. */
static bool
field_n (const char *line, int n, char *out, size_t max)
{
  const char *p = line;
  for (int i = 0; i < n; i++)
    {
      p = strchr (p, ':');
      if (p == NULL)
        return false;
      p++;
    }
  size_t l = strcspn (p, ":\n");
  if (l >= max)
    return false;
  memcpy (out, p, l);
  out[l] = '\0';
  return true;
}

/* Find an entry of FILE whose name (field 0) or id (field 2) is KEY.
   Returns the line (pointer into FILE) or NULL. */
static const char *
find_entry (const char *file, const char *key, bool by_id)
{
  for (const char *line = file; line && *line;)
    {
      char f[256];
      if (line[0] != '#' && field_n (line, by_id ? 2 : 0, f, sizeof f)
          && strcmp (f, key) == 0)
        return line;
      line = strchr (line, '\n');
      if (line)
        line++;
    }
  return NULL;
}

static bool
group_has_member (const char *line, const char *user)
{
  char members[4096];
  if (!field_n (line, 3, members, sizeof members))
    return false;
  for (char *m = strtok (members, ","); m; m = strtok (NULL, ","))
    if (strcmp (m, user) == 0)
      return true;
  return false;
}

int
container_fs_resolve_user (const char *rootfs, const char *user,
                           const json_t *extra_groups, uid_t *uid, gid_t *gid,
                           gid_t *groups, size_t *n_groups, polis_error **err)
{
  *uid = 0;
  *gid = 0;
  *n_groups = 0;
  cleanup_close int rootfd = open (rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0)
    return error_sys (err, "open `%s`", rootfs);
  cleanup_free char *passwd = read_etc (rootfd, "/etc/passwd");
  cleanup_free char *group = read_etc (rootfd, "/etc/group");
  cleanup_free char *u = xstrdup (user ? user : "");
  char *g = strchr (u, ':');
  if (g)
    *g++ = '\0';
  char uname[256] = "";
  if (*u == '\0')
    u = (free (u), xstrdup ("0"));
  if (all_digits (u))
    {
      *uid = (uid_t) strtoul (u, NULL, 10);
      const char *line = passwd ? find_entry (passwd, u, true) : NULL;
      char f[64];
      if (line && field_n (line, 3, f, sizeof f) && all_digits (f))
        *gid = (gid_t) strtoul (f, NULL, 10);
      if (line)
        field_n (line, 0, uname, sizeof uname);
    }
  else
    {
      const char *line = passwd ? find_entry (passwd, u, false) : NULL;
      char f[64];
      if (line == NULL || !field_n (line, 2, f, sizeof f) || !all_digits (f))
        return error_set (err, ERROR_INVALID, ENOENT,
                          "unable to find user %s: no matching entries in "
                          "passwd file",
                          u);
      *uid = (uid_t) strtoul (f, NULL, 10);
      if (field_n (line, 3, f, sizeof f) && all_digits (f))
        *gid = (gid_t) strtoul (f, NULL, 10);
      snprintf (uname, sizeof uname, "%s", u);
    }
  if (g && *g)
    {
      if (all_digits (g))
        *gid = (gid_t) strtoul (g, NULL, 10);
      else
        {
          const char *line = group ? find_entry (group, g, false) : NULL;
          char f[64];
          if (line == NULL || !field_n (line, 2, f, sizeof f) || !all_digits (f))
            return error_set (err, ERROR_INVALID, ENOENT,
                              "unable to find group %s: no matching entries "
                              "in group file",
                              g);
          *gid = (gid_t) strtoul (f, NULL, 10);
        }
    }
  /* Supplementary groups: those that list the user (when it has a name
     and no explicit group was given), then GroupAdd. */
  if (uname[0] && !(g && *g) && group)
    for (const char *line = group; line && *line;)
      {
        char f[64];
        if (line[0] != '#' && group_has_member (line, uname)
            && field_n (line, 2, f, sizeof f) && all_digits (f)
            && *n_groups < CONTAINER_FS_GROUPS_MAX)
          groups[(*n_groups)++] = (gid_t) strtoul (f, NULL, 10);
        line = strchr (line, '\n');
        if (line)
          line++;
      }
  size_t i;
  json_t *v;
  json_array_foreach (extra_groups, i, v)
  {
    const char *s = json_string_value (v);
    gid_t x;
    if (all_digits (s))
      x = (gid_t) strtoul (s, NULL, 10);
    else
      {
        const char *line = group ? find_entry (group, s, false) : NULL;
        char f[64];
        if (line == NULL || !field_n (line, 2, f, sizeof f) || !all_digits (f))
          return error_set (err, ERROR_INVALID, ENOENT,
                            "unable to find group %s: no matching entries in "
                            "group file",
                            s);
        x = (gid_t) strtoul (f, NULL, 10);
      }
    if (*n_groups < CONTAINER_FS_GROUPS_MAX)
      groups[(*n_groups)++] = x;
  }
  return 0;
}

int
container_fs_make_workdir (const char *rootfs, const char *dir, uid_t uid,
                           gid_t gid, polis_error **err)
{
  if (dir == NULL || *dir == '\0' || strcmp (dir, "/") == 0)
    return 0;
  cleanup_close int rootfd = open (rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0)
    return error_sys (err, "open `%s`", rootfs);
  polis_error *e = NULL;
  cleanup_close int fd = path_open_in_root (rootfd, dir, O_RDONLY | O_DIRECTORY,
                                            PATH_OPEN, 0, &e);
  if (fd >= 0)
    return 0;
  error_free (&e);
  fd = path_open_in_root (rootfd, dir, O_RDONLY | O_DIRECTORY, PATH_MKDIR, 0755,
                          err);
  if (fd < 0)
    return error_wrap (err, "create working directory `%s`", dir);
  if (fchown (fd, uid, gid) < 0)
    return error_sys (err, "chown working directory `%s`", dir);
  return 0;
}
