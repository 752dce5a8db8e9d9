/* netns.c - network namespaces for containers, made by polisd. */
#include "netns.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/file.h"
#include "base/log.h"
#include "base/xalloc.h"

#define NETNS_POOL_MAX 16

struct netns_pool
{
  char *dir;
  unsigned target;
  pthread_mutex_t lock;
  pthread_cond_t cond;
  char *ready[NETNS_POOL_MAX];
  unsigned n_ready;
  bool stopping;
  pthread_t thread;
  bool thread_started;
};

/* Bring "lo" up in the calling thread's network namespace. */
static int
loopback_up (polis_error **err)
{
  cleanup_close int s = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0)
    return error_sys (err, "socket");
  struct ifreq ifr;
  memset (&ifr, 0, sizeof ifr);
  memcpy (ifr.ifr_name, "lo", 3);
  if (ioctl (s, SIOCGIFFLAGS, &ifr) < 0)
    return error_sys (err, "get the flags of lo");
  ifr.ifr_flags |= IFF_UP;
  if (ioctl (s, SIOCSIFFLAGS, &ifr) < 0)
    return error_sys (err, "bring lo up");
  return 0;
}

typedef struct
{
  const char *path;
  polis_error *err;
} make_args;

/* In a thread of its own (unshare changes the calling thread only, and
   the thread ends with it): a new namespace, lo up, bind-mounted. */
static void *
make_thread (void *arg)
{
  make_args *a = arg;
  if (unshare (CLONE_NEWNET) < 0)
    {
      error_sys (&a->err, "unshare(CLONE_NEWNET)");
      return NULL;
    }
  if (loopback_up (&a->err) < 0)
    return NULL;
  char self[64];
  snprintf (self, sizeof self, "/proc/self/task/%d/ns/net", (int) gettid ());
  if (mount (self, a->path, NULL, MS_BIND, NULL) < 0)
    error_sys (&a->err, "bind-mount the namespace on `%s`", a->path);
  return NULL;
}

static char *
netns_make (const char *dir, polis_error **err)
{
  unsigned char b[8];
  if (getrandom (b, sizeof b, 0) != sizeof b)
    abort ();
  char *path = xasprintf ("%s/%02x%02x%02x%02x%02x%02x%02x%02x", dir, b[0], b[1],
                          b[2], b[3], b[4], b[5], b[6], b[7]);
  int fd = open (path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
  if (fd < 0)
    {
      error_sys (err, "create `%s`", path);
      free (path);
      return NULL;
    }
  close (fd);
  make_args a = { .path = path };
  pthread_t t;
  pthread_attr_t at;
  pthread_attr_init (&at);
  pthread_attr_setstacksize (&at, 64 << 10);
  int r = pthread_create (&t, &at, make_thread, &a);
  pthread_attr_destroy (&at);
  if (r != 0)
    error_sys_code (&a.err, r, "start a thread");
  else
    pthread_join (t, NULL);
  if (a.err)
    {
      *err = a.err;
      unlink (path);
      free (path);
      return NULL;
    }
  return path;
}

void
netns_release (const char *path)
{
  if (path == NULL || *path == '\0')
    return;
  if (umount2 (path, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
    log_warning ("umount %s: %s", path, strerror (errno));
  unlink (path);
}

static void *
refill_main (void *arg)
{
  netns_pool *p = arg;
  pthread_mutex_lock (&p->lock);
  while (!p->stopping)
    {
      if (p->n_ready >= p->target)
        {
          pthread_cond_wait (&p->cond, &p->lock);
          continue;
        }
      pthread_mutex_unlock (&p->lock);
      polis_error *err = NULL;
      char *path = netns_make (p->dir, &err);
      pthread_mutex_lock (&p->lock);
      if (path == NULL)
        {
          log_warning ("network namespace pool: %s", err->msg);
          error_free (&err);
          break; /* takes make their own from now on */
        }
      if (p->stopping || p->n_ready == NETNS_POOL_MAX)
        {
          netns_release (path);
          free (path);
          continue;
        }
      p->ready[p->n_ready++] = path;
    }
  pthread_mutex_unlock (&p->lock);
  return NULL;
}

static bool
listed (char *const *v, const char *s)
{
  for (; v && *v; v++)
    if (strcmp (*v, s) == 0)
      return true;
  return false;
}

netns_pool *
netns_pool_new (const char *dir, unsigned target, char *const *in_use,
                polis_error **err)
{
  if (file_mkdir_p (dir, 0700, err) < 0)
    return NULL;
  netns_pool *p = xzalloc (sizeof *p);
  p->dir = xstrdup (dir);
  p->target = target > NETNS_POOL_MAX ? NETNS_POOL_MAX : target;
  pthread_mutex_init (&p->lock, NULL);
  pthread_cond_init (&p->cond, NULL);
  /* Namespaces an earlier daemon left: those no container holds are free
     (mounted ones are kept as they are, unmounted files removed). */
  cleanup_closedir DIR *d = opendir (dir);
  struct dirent *de;
  while (d && (de = readdir (d)))
    {
      if (de->d_name[0] == '.')
        continue;
      cleanup_free char *path = xasprintf ("%s/%s", dir, de->d_name);
      if (listed (in_use, path))
        continue;
      struct stat a, b;
      bool mounted = stat (path, &a) == 0 && stat (dir, &b) == 0 && a.st_dev != b.st_dev;
      if (mounted && p->n_ready < p->target)
        p->ready[p->n_ready++] = steal_pointer (&path);
      else
        netns_release (path);
    }
  if (p->target > 0)
    {
      pthread_attr_t at;
      pthread_attr_init (&at);
      pthread_attr_setstacksize (&at, 128 << 10);
      p->thread_started = pthread_create (&p->thread, &at, refill_main, p) == 0;
      pthread_attr_destroy (&at);
    }
  return p;
}

void
netns_pool_free (netns_pool *p)
{
  if (p == NULL)
    return;
  pthread_mutex_lock (&p->lock);
  p->stopping = true;
  pthread_cond_broadcast (&p->cond);
  pthread_mutex_unlock (&p->lock);
  if (p->thread_started)
    pthread_join (p->thread, NULL);
  for (unsigned i = 0; i < p->n_ready; i++)
    {
      netns_release (p->ready[i]);
      free (p->ready[i]);
    }
  pthread_cond_destroy (&p->cond);
  pthread_mutex_destroy (&p->lock);
  free (p->dir);
  free (p);
}

char *
netns_pool_take (netns_pool *p, polis_error **err)
{
  pthread_mutex_lock (&p->lock);
  char *path = p->n_ready > 0 ? p->ready[--p->n_ready] : NULL;
  pthread_cond_signal (&p->cond);
  pthread_mutex_unlock (&p->lock);
  if (path)
    return path;
  return netns_make (p->dir, err);
}
