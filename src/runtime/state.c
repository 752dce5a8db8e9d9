/* state.c - what the runtime remembers of a container between commands. */
#include "state.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/file.h"
#include "base/pjson.h"
#include "base/xalloc.h"
#include "polis-config.h"
#include "runtime/cgroup.h"

#define STATE_MAX_SIZE (1u << 20)

void
state_free (container_state *st)
{
  if (st == NULL)
    return;
  free (st->id);
  free (st->bundle);
  free (st->rootfs);
  free (st->created);
  free (st->owner);
  cgroup_free (st->cg);
  if (st->annotations)
    json_decref (st->annotations);
  free (st);
}

int
state_id_check (const char *id, polis_error **err)
{
  size_t n = strlen (id);
  if (n == 0)
    return error_set (err, ERROR_INVALID, EINVAL, "container id cannot be empty");
  if (n > STATE_ID_MAX)
    return error_set (err, ERROR_INVALID, EINVAL,
                      "container id is longer than %d characters", STATE_ID_MAX);
  if (strcmp (id, ".") == 0 || strcmp (id, "..") == 0)
    return error_set (err, ERROR_INVALID, EINVAL, "invalid container id: %s", id);
  for (const char *p = id; *p; p++)
    if (!isalnum ((unsigned char) *p) && !strchr ("_-.+", *p))
      return error_set (err, ERROR_INVALID, EINVAL,
                        "invalid container id `%s`: only letters, digits and _ - . + are allowed",
                        id);
  return 0;
}

int
state_root_open (const char *root, bool create, polis_error **err)
{
  int fd = open (root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0 || !create || errno != ENOENT)
    {
      if (fd < 0)
        return error_sys (err, "open state root `%s`", root);
      return fd;
    }
  if (file_mkdir_p (root, 0700, err) < 0)
    return error_wrap (err, "create state root");
  fd = open (root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return error_sys (err, "open state root `%s`", root);
  return fd;
}

static int
state_lock (int fd, const char *id, bool exclusive, polis_error **err)
{
  while (flock (fd, exclusive ? LOCK_EX : LOCK_SH) < 0)
    if (errno != EINTR)
      return error_sys (err, "lock container %s", id);
  return 0;
}

int
state_dir_create (int rootfd, const char *id, polis_error **err)
{
  if (state_id_check (id, err) < 0)
    return -1;
  if (mkdirat (rootfd, id, 0711) < 0)
    {
      if (errno == EEXIST)
        return error_set (err, ERROR_CONFLICT, EEXIST,
                          "container with id exists: %s", id);
      return error_sys (err, "create state directory for %s", id);
    }
  cleanup_close int fd = openat (rootfd, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return error_sys (err, "open state directory for %s", id);
  if (state_lock (fd, id, true, err) < 0)
    return -1;
  return move_fd (fd);
}

int
state_dir_open (int rootfd, const char *id, bool exclusive, polis_error **err)
{
  if (state_id_check (id, err) < 0)
    return -1;
  cleanup_close int fd = openat (rootfd, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    {
      if (errno == ENOENT)
        return error_set (err, ERROR_NOT_FOUND, ENOENT,
                          "container \"%s\" does not exist", id);
      return error_sys (err, "open state directory for %s", id);
    }
  /* A reader does not wait for a container still being created: that
     create may itself be waiting for a hook that asks for this state.
     Until its state is written it does not exist, as in runc. */
  if (exclusive)
    {
      if (state_lock (fd, id, true, err) < 0)
        return -1;
    }
  else
    {
      int r = flock (fd, LOCK_SH | LOCK_NB);
      if (r < 0 && errno != EWOULDBLOCK)
        return error_sys (err, "lock container %s", id);
      if (r < 0)
        {
          if (faccessat (fd, STATE_FILE, F_OK, 0) < 0 && errno == ENOENT)
            return error_set (err, ERROR_NOT_FOUND, ENOENT,
                              "container \"%s\" does not exist", id);
          if (state_lock (fd, id, false, err) < 0)
            return -1;
        }
    }
  /* A concurrent delete may have removed it while we waited. */
  if (faccessat (fd, STATE_FILE, F_OK, 0) < 0 && errno == ENOENT)
    {
      struct stat st;
      if (fstat (fd, &st) == 0 && st.st_nlink == 0)
        return error_set (err, ERROR_NOT_FOUND, ENOENT,
                          "container \"%s\" does not exist", id);
    }
  return move_fd (fd);
}

void
state_dir_unlock (int dirfd)
{
  flock (dirfd, LOCK_UN);
}

int
state_dir_remove (int rootfd, const char *id, polis_error **err)
{
  return file_remove_tree_at (rootfd, id, err);
}

container_state *
state_open_container (const char *root, const char *id, bool exclusive,
                      int *dirfd, polis_error **err)
{
  *dirfd = -1;
  cleanup_close int rootfd = open (root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0)
    {
      if (errno == ENOENT)
        error_set (err, ERROR_NOT_FOUND, ENOENT, "container \"%s\" does not exist", id);
      else
        error_sys (err, "open state root `%s`", root);
      return NULL;
    }
  cleanup_close int fd = state_dir_open (rootfd, id, exclusive, err);
  if (fd < 0)
    return NULL;
  container_state *st = state_load (fd, err);
  if (st == NULL)
    return NULL;
  *dirfd = move_fd (fd);
  return st;
}

char *
state_now_rfc3339 (void)
{
  struct timespec ts;
  struct tm tm;
  char buf[40];
  clock_gettime (CLOCK_REALTIME, &ts);
  gmtime_r (&ts.tv_sec, &tm);
  strftime (buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return xasprintf ("%s.%09ldZ", buf, ts.tv_nsec);
}

int
state_save (int dirfd, const container_state *st, polis_error **err)
{
  cleanup_json json_t *j = json_pack (
      "{s:s, s:I, s:I, s:s, s:s, s:s, s:s, s:b}", "id", st->id, "pid",
      (json_int_t) st->pid, "pid_start", (json_int_t) st->pid_start, "bundle",
      st->bundle, "rootfs", st->rootfs, "created", st->created, "owner",
      st->owner ? st->owner : "", "has_pidns", st->has_pidns);
  if (j == NULL)
    return error_set (err, ERROR_INTERNAL, 0, "encode state");
  if (st->cg)
    json_object_set_new (j, "cgroup", cgroup_to_json (st->cg));
  if (st->annotations)
    json_object_set (j, "annotations", st->annotations);
  cleanup_free char *s = pjson_dump (j);
  return file_write_atomic_at (dirfd, STATE_FILE, s, strlen (s), 0600, false,
                               err);
}

container_state *
state_load (int dirfd, polis_error **err)
{
  cleanup_json json_t *j = pjson_load_file_at (dirfd, STATE_FILE, STATE_MAX_SIZE, err);
  if (j == NULL)
    return NULL;
  cleanup_state container_state *st = xzalloc (sizeof *st);
  const char *id = NULL, *bundle = NULL, *rootfs = NULL, *created = NULL,
             *owner = NULL;
  int64_t pid = 0, start = 0;
  json_t *ann = NULL, *cg = NULL;
  if (pjson_get_string (j, "state", "id", true, &id, err) < 0
      || pjson_get_int64 (j, "state", "pid", true, &pid, err) < 0
      || pjson_get_int64 (j, "state", "pid_start", false, &start, err) < 0
      || pjson_get_string (j, "state", "bundle", true, &bundle, err) < 0
      || pjson_get_string (j, "state", "rootfs", false, &rootfs, err) < 0
      || pjson_get_string (j, "state", "created", false, &created, err) < 0
      || pjson_get_string (j, "state", "owner", false, &owner, err) < 0
      || pjson_get_object (j, "state", "cgroup", false, &cg, err) < 0
      || pjson_get_bool (j, "state", "has_pidns", &st->has_pidns, err) < 0
      || pjson_get_object (j, "state", "annotations", false, &ann, err) < 0)
    return NULL;
  st->id = xstrdup (id);
  st->pid = (pid_t) pid;
  st->pid_start = (unsigned long long) start;
  st->bundle = xstrdup (bundle);
  st->rootfs = xstrdup (rootfs ? rootfs : "");
  st->created = xstrdup (created ? created : "");
  st->owner = xstrdup (owner ? owner : "");
  if (cg && (st->cg = cgroup_from_json (cg, err)) == NULL)
    return NULL;
  st->annotations = ann ? json_incref (ann) : NULL;
  return steal_pointer (&st);
}

/* Field 3 (state) and field 22 (starttime) of /proc/PID/stat. */
static int
state_proc_stat (pid_t pid, char *state, unsigned long long *start)
{
  char path[64], buf[1024];
  snprintf (path, sizeof path, "/proc/%d/stat", (int) pid);
  cleanup_close int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  ssize_t n = read (fd, buf, sizeof buf - 1);
  if (n <= 0)
    return -1;
  buf[n] = '\0';
  /* The command name may hold spaces and ')': skip to the last ')'. */
  char *p = strrchr (buf, ')');
  if (p == NULL || p[1] != ' ')
    return -1;
  p += 2;
  *state = *p;
  for (int field = 3; field < 22; field++)
    {
      p = strchr (p, ' ');
      if (p == NULL)
        return -1;
      p++;
    }
  *start = strtoull (p, NULL, 10);
  return 0;
}

unsigned long long
state_pid_start_time (pid_t pid)
{
  char s;
  unsigned long long start = 0;
  if (state_proc_stat (pid, &s, &start) < 0)
    return 0;
  return start;
}

bool
state_init_alive (const container_state *st)
{
  char s;
  unsigned long long start = 0;
  if (st->pid <= 0 || state_proc_stat (st->pid, &s, &start) < 0)
    return false;
  if (s == 'Z' || s == 'X')
    return false;
  return st->pid_start == 0 || start == st->pid_start;
}

state_status
state_status_of (int dirfd, const container_state *st)
{
  if (!state_init_alive (st))
    return STATUS_STOPPED;
  if (faccessat (dirfd, STATE_FIFO, F_OK, 0) == 0)
    return STATUS_CREATED;
  if (st->cg && cgroup_is_frozen (st->cg))
    return STATUS_PAUSED;
  return STATUS_RUNNING;
}

const char *
state_status_name (state_status status)
{
  switch (status)
    {
    case STATUS_CREATING:
      return "creating";
    case STATUS_CREATED:
      return "created";
    case STATUS_RUNNING:
      return "running";
    case STATUS_PAUSED:
      return "paused";
    case STATUS_STOPPED:
    default:
      return "stopped";
    }
}

json_t *
state_to_oci (const container_state *st, state_status status)
{
  json_t *j = json_pack ("{s:s, s:s, s:s, s:I, s:s}", "ociVersion",
                         POLIS_OCI_VERSION, "id", st->id, "status",
                         state_status_name (status), "pid",
                         (json_int_t) (status == STATUS_STOPPED ? 0 : st->pid),
                         "bundle", st->bundle);
  if (st->annotations)
    json_object_set (j, "annotations", st->annotations);
  return j;
}
