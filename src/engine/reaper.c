/* reaper.c - what a removed container leaves on disk, removed in the
 * background. */
#include "reaper.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "base/cleanup.h"
#include "base/file.h"
#include "base/log.h"
#include "base/xalloc.h"
#include "base/strv.h"
#include "netns.h"
#include "network/netlink.h"

typedef struct job
{
  char **links;
  char *dir, *run_dir, *netns;
  struct job *next;
} job;

struct reaper
{
  pthread_mutex_t lock;
  pthread_cond_t cond;
  job *head, **tail;
  bool stopping;
  pthread_t thread;
};

int
reaper_remove_now (char *const *links, const char *dir, const char *run_dir,
                   const char *netns, polis_error **err)
{
  if (links && *links)
    {
      polis_error *e2 = NULL;
      cleanup_netlink netlink_sock *nl = netlink_open (&e2);
      for (char *const *l = links; nl && *l; l++)
        if (netlink_link_del (nl, *l, &e2) < 0)
          {
            log_warning ("delete %s: %s", *l, e2->msg);
            error_free (&e2);
          }
      if (nl == NULL)
        {
          log_warning ("netlink: %s", e2->msg);
          error_free (&e2);
        }
    }
  if (dir)
    {
      cleanup_free char *rootfs = xasprintf ("%s/rootfs", dir);
      struct stat a, b;
      if (stat (rootfs, &a) == 0 && stat (dir, &b) == 0 && a.st_dev != b.st_dev
          && umount2 (rootfs, MNT_DETACH) < 0 && errno != EINVAL)
        return error_sys (err, "umount `%s`", rootfs);
    }
  netns_release (netns);
  if (run_dir && file_remove_tree_at (AT_FDCWD, run_dir, err) < 0)
    return -1;
  if (dir && file_remove_tree_at (AT_FDCWD, dir, err) < 0)
    return -1;
  return 0;
}

static void
job_free (job *j)
{
  cleanup_strv_fn (&j->links);
  free (j->dir);
  free (j->run_dir);
  free (j->netns);
  free (j);
}

static void *
reaper_main (void *arg)
{
  reaper *r = arg;
  pthread_mutex_lock (&r->lock);
  for (;;)
    {
      job *j = r->head;
      if (j == NULL)
        {
          if (r->stopping)
            break;
          pthread_cond_wait (&r->cond, &r->lock);
          continue;
        }
      r->head = j->next;
      if (r->head == NULL)
        r->tail = &r->head;
      pthread_mutex_unlock (&r->lock);
      polis_error *err = NULL;
      if (reaper_remove_now (j->links, j->dir, j->run_dir, j->netns, &err) < 0)
        {
          log_warning ("remove %s: %s", j->dir ? j->dir : "?", err->msg);
          error_free (&err);
        }
      job_free (j);
      pthread_mutex_lock (&r->lock);
    }
  pthread_mutex_unlock (&r->lock);
  return NULL;
}

reaper *
reaper_start (polis_error **err)
{
  reaper *r = xzalloc (sizeof *r);
  pthread_mutex_init (&r->lock, NULL);
  pthread_cond_init (&r->cond, NULL);
  r->tail = &r->head;
  pthread_attr_t at;
  pthread_attr_init (&at);
  pthread_attr_setstacksize (&at, 128 << 10);
  int e = pthread_create (&r->thread, &at, reaper_main, r);
  pthread_attr_destroy (&at);
  if (e != 0)
    {
      error_sys_code (err, e, "start the reaper thread");
      pthread_cond_destroy (&r->cond);
      pthread_mutex_destroy (&r->lock);
      free (r);
      return NULL;
    }
  return r;
}

void
reaper_stop (reaper *r)
{
  if (r == NULL)
    return;
  pthread_mutex_lock (&r->lock);
  r->stopping = true;
  pthread_cond_signal (&r->cond);
  pthread_mutex_unlock (&r->lock);
  pthread_join (r->thread, NULL);
  pthread_cond_destroy (&r->cond);
  pthread_mutex_destroy (&r->lock);
  free (r);
}

void
reaper_add (reaper *r, char *const *links, const char *dir, const char *run_dir,
            const char *netns)
{
  job *j = xzalloc (sizeof *j);
  for (char *const *l = links; l && *l; l++)
    strv_append (&j->links, *l);
  j->dir = dir ? xstrdup (dir) : NULL;
  j->run_dir = run_dir ? xstrdup (run_dir) : NULL;
  j->netns = netns ? xstrdup (netns) : NULL;
  pthread_mutex_lock (&r->lock);
  *r->tail = j;
  r->tail = &j->next;
  pthread_cond_signal (&r->cond);
  pthread_mutex_unlock (&r->lock);
}
