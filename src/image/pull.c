/* pull.c - pull an image from a registry into the store.  See pull.h.
 *
 * Threads: the curl loop runs in the calling thread; each layer being
 * unpacked has a thread of its own, because gunzip + tar extraction is
 * CPU-bound and the point of streaming is to overlap it with the network
 * and with the other layers (a loop cannot use the second core).  Downloads
 * and unpacks have separate limits: a finished download frees its slot at
 * once, so later layers arrive while earlier ones are still unpacked.
 *
 * The curl loop never waits for the disk: it writes and hashes, and checks
 * digest and size when a transfer ends.  The layer's thread, once the
 * layer is unpacked and its diff ID matches, fsyncs the blob and renames it
 * into blobs/ (content_writer_commit).  A thread touches only its job's
 * feed, writer (after the download), snapshot fd and result fields, and
 * says it is done through a pipe the curl loop polls.
 */
#include "pull.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/log.h"
#include "base/strv.h"
#include "base/xalloc.h"
#include "manifest.h"
#include "reference.h"
#include "unpack.h"

typedef struct
{
  size_t idx;
  char digest[DIGEST_STRING_LEN + 1];
  int64_t size;
  char diff_id[DIGEST_STRING_LEN + 1];
  char chain_id[DIGEST_STRING_LEN + 1];
  char parent[DIGEST_STRING_LEN + 1]; /* "" for the first layer */
  char short_id[13];
  bool exists;    /* snapshot already present: nothing to do */
  bool waiting;   /* another process holds the blob's lock */
  bool opened;    /* writer open, download started or not needed */
  bool download_done; /* verified (or already present); w is the thread's */
  bool finished;
  content_writer *w;
  registry_blob_get *get;
  int attempts;
  unpack_feed feed;
  bool feed_init;
  pthread_t thread;
  bool thread_started;
  int unpacked;    /* atomic: extraction over, the slot is free */
  bool slot_freed;
  int thread_done; /* atomic */
  int src_fd, snap_fd;
  char *snap_name;
  /* Written by the thread, read after the join. */
  polis_error *unpack_err;
  bool committed_blob;
  char got_diff_id[DIGEST_STRING_LEN + 1];
  uint64_t unpacked_size;
  uint64_t extract_pos; /* atomic */
  int wake_fd;
} pull_job;

typedef struct
{
  image_store *s;
  registry *reg;
  progress *progress;
  pull_job *jobs;
  size_t n_jobs;
  int parallel;     /* downloads at once */
  int unpack_limit; /* unpack threads at once */
  int wake[2];
  /* Manifests and config, verified, committed with the image. */
  content_writer *staged[3];
  size_t n_staged;
} pull_ctx;

static int
stage_blob (pull_ctx *c, const char *buf, size_t len, const char *digest,
            polis_error **err)
{
  content_writer *w = content_store_stage_blob (c->s->cs, buf, len, digest, err);
  if (w == NULL)
    return -1;
  if (c->n_staged == sizeof c->staged / sizeof c->staged[0])
    abort ();
  c->staged[c->n_staged++] = w;
  return 0;
}

static size_t
job_sink (void *ud, const char *buf, size_t len)
{
  pull_job *j = ud;
  polis_error *e = NULL;
  if (content_writer_write (j->w, buf, len, &e) < 0)
    {
      log_error ("%s", e->msg);
      error_free (&e);
      return 0;
    }
  unpack_feed_advance (&j->feed, content_writer_offset (j->w));
  return len;
}

static void
job_extract_progress (void *ud, uint64_t pos)
{
  pull_job *j = ud;
  __atomic_store_n (&j->extract_pos, pos, __ATOMIC_RELAXED);
}

/* Unpack, check the diff ID, then make the blob durable and visible: the
   order that keeps a layer the config does not describe out of blobs/. */
static void *
unpack_thread (void *arg)
{
  pull_job *j = arg;
  unpack_opts o = { .src_fd = j->src_fd, .feed = &j->feed,
                    .dest_fd = j->snap_fd, .progress = job_extract_progress,
                    .progress_ud = j };
  polis_error *e = NULL;
  int ret = unpack_layer (&o, j->got_diff_id, &j->unpacked_size, &e);
  if (ret == 0 && strcmp (j->got_diff_id, j->diff_id) != 0)
    ret = error_set (&e, ERROR_INVALID, EBADMSG,
                     "diff ID %s does not match the config's %s",
                     j->got_diff_id, j->diff_id);
  /* The CPU work is over: let the next layer start while we wait for the
     disk. */
  __atomic_store_n (&j->unpacked, 1, __ATOMIC_RELEASE);
  ssize_t n = write (j->wake_fd, "x", 1);
  (void) n;
  /* Reading to the end means the feed finished well: the curl loop has
     verified the blob and no longer touches the writer. */
  if (ret == 0)
    {
      ret = content_writer_commit (j->w, NULL, &e);
      if (ret == 0)
        j->committed_blob = true;
    }
  if (ret < 0)
    j->unpack_err = e;
  __atomic_store_n (&j->thread_done, 1, __ATOMIC_RELEASE);
  ssize_t w = write (j->wake_fd, "x", 1);
  (void) w;
  return NULL;
}

static void
job_start_get (pull_ctx *c, pull_job *j)
{
  j->get = registry_blob_get_new (c->reg, j->digest,
                                  content_writer_offset (j->w), job_sink, j);
  curl_multi_add_handle (registry_multi (c->reg), registry_blob_get_easy (j->get));
}

/* Open the job's blob and start its download.  1: started (or the blob is
   already complete), 0: another process is writing this blob (try again
   later), -1: error. */
static int
job_open (pull_ctx *c, pull_job *j, polis_error **err)
{
  polis_error *e = NULL;
  j->w = content_store_writer (c->s->cs, j->digest, j->size,
                               CONTENT_WRITER_RESUME | CONTENT_WRITER_NOWAIT,
                               &e);
  if (j->w == NULL && e->cls == ERROR_CONFLICT && e->code == EAGAIN)
    {
      /* Not a blocking wait: that process may wait for a blob of ours. */
      error_free (&e);
      if (!j->waiting)
        progress_status (c->progress, j->short_id, "Waiting");
      j->waiting = true;
      return 0;
    }
  if (j->w == NULL)
    {
      *err = e;
      return -1;
    }
  j->opened = true;
  bool complete = content_writer_done (j->w);
  if (!complete && content_writer_offset (j->w) == (uint64_t) j->size)
    {
      /* A partial that was complete when the last pull died. */
      if (content_writer_commit (j->w, NULL, &e) == 0)
        {
          complete = true;
          j->committed_blob = true;
        }
      else
        {
          log_debug ("discarding the partial of %s: %s", j->digest, e->msg);
          error_free (&e);
          content_writer_free (j->w);
          j->w = content_store_writer (c->s->cs, j->digest, j->size,
                                       CONTENT_WRITER_RESUME, err);
          if (j->w == NULL)
            return -1;
        }
    }
  j->src_fd = content_writer_reader_fd (j->w, err);
  if (j->src_fd < 0)
    return -1;
  unpack_feed_init (&j->feed);
  j->feed_init = true;
  if (complete)
    {
      j->download_done = true;
      unpack_feed_advance (&j->feed, (uint64_t) j->size);
      unpack_feed_finish (&j->feed, true);
      progress_status (c->progress, j->short_id, "Download complete");
      return 1;
    }
  unpack_feed_advance (&j->feed, content_writer_offset (j->w));
  if (content_writer_offset (j->w) > 0)
    log_debug ("resuming %s at %llu", j->digest,
               (unsigned long long) content_writer_offset (j->w));
  job_start_get (c, j);
  return 1;
}

static int
job_start_unpack (pull_ctx *c, pull_job *j, polis_error **err)
{
  j->snap_fd = snapshot_prepare (c->s->snaps, j->chain_id, &j->snap_name, err);
  if (j->snap_fd < 0)
    return -1;
  j->wake_fd = c->wake[1];
  int r = pthread_create (&j->thread, NULL, unpack_thread, j);
  if (r != 0)
    return error_sys_code (err, r, "start unpack thread");
  j->thread_started = true;
  return 0;
}

static pull_job *
job_of_easy (pull_ctx *c, CURL *e)
{
  for (size_t i = 0; i < c->n_jobs; i++)
    if (c->jobs[i].get && registry_blob_get_easy (c->jobs[i].get) == e)
      return &c->jobs[i];
  return NULL;
}

/* A transfer ended.  0 with *FINISHED when the blob is verified (or the
   transfer was restarted: *FINISHED false), -1 on failure. */
static int
job_download_done (pull_ctx *c, pull_job *j, CURLcode code, bool *finished,
                   polis_error **err)
{
  bool auth_retry = false, retryable = false;
  polis_error *e = NULL;
  int r = registry_blob_get_result (j->get, code, &auth_retry, &retryable, &e);
  curl_multi_remove_handle (registry_multi (c->reg),
                            registry_blob_get_easy (j->get));
  registry_blob_get_free (j->get);
  j->get = NULL;
  *finished = false;
  if (r == 0)
    {
      progress_status (c->progress, j->short_id, "Verifying Checksum");
      if (content_writer_verify (j->w, NULL, err) < 0)
        {
          unpack_feed_finish (&j->feed, false);
          return error_wrap (err, "filesystem layer verification failed for "
                                  "digest %s",
                             j->digest);
        }
      /* From here on the writer belongs to the unpack thread. */
      j->download_done = true;
      *finished = true;
      unpack_feed_finish (&j->feed, true);
      progress_status (c->progress, j->short_id, "Download complete");
      return 0;
    }
  if ((auth_retry || retryable) && ++j->attempts < PULL_ATTEMPTS)
    {
      log_debug ("retrying %s: %s", j->digest, e->msg);
      error_free (&e);
      progress_status (c->progress, j->short_id, "Retrying");
      job_start_get (c, j);
      return 0;
    }
  *err = e;
  unpack_feed_finish (&j->feed, false);
  return error_wrap (err, "layer %s", j->short_id);
}

/* Stop everything after a failure: no thread or transfer outlives it. */
static void
jobs_abort (pull_ctx *c, bool hostile)
{
  for (size_t i = 0; i < c->n_jobs; i++)
    {
      pull_job *j = &c->jobs[i];
      if (j->get)
        {
          curl_multi_remove_handle (registry_multi (c->reg),
                                    registry_blob_get_easy (j->get));
          registry_blob_get_free (j->get);
          j->get = NULL;
        }
      if (j->feed_init)
        unpack_feed_finish (&j->feed, false);
    }
  for (size_t i = 0; i < c->n_jobs; i++)
    {
      pull_job *j = &c->jobs[i];
      if (j->thread_started)
        {
          pthread_join (j->thread, NULL);
          j->thread_started = false;
        }
      if (j->snap_name)
        snapshot_remove_name (c->s->snaps, j->snap_name, NULL);
      /* Content that failed verification or unpacking must not stay. */
      if (hostile && j->w)
        content_writer_discard (j->w);
      if (hostile && j->committed_blob
          && !image_db_blob_in_use (c->s->db, j->digest))
        content_store_delete_blob (c->s->cs, j->digest, NULL);
    }
}

static void
jobs_free (pull_ctx *c)
{
  for (size_t i = 0; i < c->n_jobs; i++)
    {
      pull_job *j = &c->jobs[i];
      if (j->thread_started)
        pthread_join (j->thread, NULL);
      content_writer_free (j->w);
      if (j->feed_init)
        unpack_feed_destroy (&j->feed);
      if (j->src_fd >= 0)
        close (j->src_fd);
      if (j->snap_fd >= 0)
        close (j->snap_fd);
      free (j->snap_name);
      error_free (&j->unpack_err);
    }
  free (c->jobs);
  for (size_t i = 0; i < c->n_staged; i++)
    content_writer_free (c->staged[i]);
  if (c->wake[0] >= 0)
    close (c->wake[0]);
  if (c->wake[1] >= 0)
    close (c->wake[1]);
}

static int
job_unpacked (pull_ctx *c, pull_job *j, polis_error **err)
{
  pthread_join (j->thread, NULL);
  j->thread_started = false;
  if (j->unpack_err)
    {
      *err = steal_pointer (&j->unpack_err);
      return error_wrap (err, "layer %s", j->short_id);
    }
  j->finished = true;
  progress_status (c->progress, j->short_id, "Pull complete");
  return 0;
}

static int
jobs_run (pull_ctx *c, polis_error **err)
{
  size_t next_dl = 0, next_unpack = 0, downloading = 0, unpacking = 0;
  size_t done = 0, todo = 0;
  CURLM *multi = registry_multi (c->reg);
  for (size_t i = 0; i < c->n_jobs; i++)
    todo += !c->jobs[i].exists;
  while (done < todo)
    {
      bool waiting = false;
      while (downloading < (size_t) c->parallel && next_dl < c->n_jobs)
        {
          pull_job *j = &c->jobs[next_dl];
          if (j->exists)
            {
              next_dl++;
              continue;
            }
          int r = job_open (c, j, err);
          if (r < 0)
            return -1;
          if (r == 0)
            {
              waiting = true;
              break;
            }
          next_dl++;
          downloading += !j->download_done;
        }
      /* A layer is unpacked while it downloads; in layer order, so that a
         slow early layer does not wait behind later ones. */
      while (unpacking < (size_t) c->unpack_limit && next_unpack < next_dl)
        {
          pull_job *j = &c->jobs[next_unpack++];
          if (j->exists)
            continue;
          if (job_start_unpack (c, j, err) < 0)
            return -1;
          unpacking++;
        }
      int running = 0;
      curl_multi_perform (multi, &running);
      CURLMsg *m;
      int left;
      while ((m = curl_multi_info_read (multi, &left)))
        {
          if (m->msg != CURLMSG_DONE)
            continue;
          pull_job *j = job_of_easy (c, m->easy_handle);
          bool finished = false;
          if (j == NULL)
            continue;
          if (job_download_done (c, j, m->data.result, &finished, err) < 0)
            return -1;
          downloading -= finished;
        }
      char drain[64];
      while (read (c->wake[0], drain, sizeof drain) > 0)
        ;
      for (size_t i = 0; i < c->n_jobs; i++)
        {
          pull_job *j = &c->jobs[i];
          if (!j->thread_started)
            continue;
          if (!j->slot_freed && __atomic_load_n (&j->unpacked, __ATOMIC_ACQUIRE))
            {
              j->slot_freed = true;
              unpacking--;
            }
          if (!__atomic_load_n (&j->thread_done, __ATOMIC_ACQUIRE))
            continue;
          if (job_unpacked (c, j, err) < 0)
            return -1;
          done++;
        }
      for (size_t i = 0; i < c->n_jobs; i++)
        {
          pull_job *j = &c->jobs[i];
          if (!j->opened || j->finished)
            continue;
          if (!j->download_done)
            progress_bytes (c->progress, j->short_id, "Downloading",
                            content_writer_offset (j->w), (uint64_t) j->size);
          else if (j->thread_started)
            progress_bytes (c->progress, j->short_id, "Extracting",
                            __atomic_load_n (&j->extract_pos, __ATOMIC_RELAXED),
                            (uint64_t) j->size);
        }
      if (done < todo)
        {
          struct curl_waitfd w = { .fd = c->wake[0], .events = CURL_WAIT_POLLIN };
          curl_multi_poll (multi, &w, 1, waiting ? 50 : 200, NULL);
        }
    }
  return 0;
}

/* Rename the verified snapshots into place and record everything.  The
   blobs are on disk already; the snapshots' files may not be (see
   image_store.h). */
static int
pull_record (pull_ctx *c, const image_record *rec, char **names,
             polis_error **err)
{
  for (size_t i = 0; i < c->n_staged; i++)
    if (content_writer_commit (c->staged[i], NULL, err) < 0)
      return -1;
  if (image_store_before_commit (c->s, err) < 0)
    return -1;
  if (image_db_begin (c->s->db, err) < 0)
    return -1;
  for (size_t i = 0; i < c->n_jobs; i++)
    {
      pull_job *j = &c->jobs[i];
      if (j->exists)
        continue;
      if (image_store_commit_layer (c->s, j->snap_name, j->chain_id,
                                    j->diff_id, *j->parent ? j->parent : NULL,
                                    (int64_t) j->unpacked_size, err)
          < 0)
        goto fail;
      free (j->snap_name);
      j->snap_name = NULL;
    }
  if (image_store_after_commit (c->s, err) < 0)
    goto fail;
  if (image_db_put_image (c->s->db, rec, err) < 0)
    goto fail;
  for (char **n = names; n && *n; n++)
    if (image_db_set_name (c->s->db, *n, rec->id, NULL, err) < 0)
      goto fail;
  return image_db_commit (c->s->db, err);
fail:
  image_db_rollback (c->s->db);
  return -1;
}

/* Unpack threads at once: one per CPU keeps every core busy; a layer
   thread also waits on the download and on the disk, hence one more.
   POLIS_PULL_UNPACK_THREADS overrides it (benchmarks). */
static int
pull_unpack_limit (void)
{
  const char *env = getenv ("POLIS_PULL_UNPACK_THREADS");
  if (env && atoi (env) > 0)
    return atoi (env);
  long n = sysconf (_SC_NPROCESSORS_ONLN);
  if (n < 1)
    n = 1;
  return n > 7 ? 8 : (int) n + 1;
}

/* Get the manifest blob for REF, store it, and select a platform. */
static manifest *
fetch_manifest (pull_ctx *c, const char *ref, const platform *want,
                char top_digest[DIGEST_STRING_LEN + 1],
                char img_digest[DIGEST_STRING_LEN + 1], polis_error **err)
{
  cleanup_free char *body = NULL, *ct = NULL;
  size_t len = 0;
  if (registry_get_manifest (c->reg, ref, &body, &len, &ct, top_digest, err) < 0)
    return NULL;
  manifest *m = manifest_parse (body, len, ct, err);
  if (m == NULL)
    return NULL;
  if (stage_blob (c, body, len, top_digest, err) < 0)
    {
      manifest_free (m);
      return NULL;
    }
  memcpy (img_digest, top_digest, DIGEST_STRING_LEN + 1);
  if (m->kind == MANIFEST_INDEX)
    {
      const manifest_descriptor *d = manifest_select_platform (m, want, err);
      if (d == NULL)
        {
          manifest_free (m);
          return NULL;
        }
      cleanup_free char *dg = xstrdup (d->digest);
      int64_t dsize = d->size;
      manifest_free (m);
      free (body);
      free (ct);
      body = ct = NULL;
      if (registry_get_manifest (c->reg, dg, &body, &len, &ct, img_digest, err) < 0)
        return NULL;
      if ((int64_t) len != dsize)
        {
          error_set (err, ERROR_INVALID, EBADMSG,
                     "manifest %s: size %zu, the index says %lld", dg, len,
                     (long long) dsize);
          return NULL;
        }
      m = manifest_parse (body, len, ct, err);
      if (m == NULL)
        return NULL;
      if (m->kind != MANIFEST_IMAGE)
        {
          manifest_free (m);
          error_set (err, ERROR_INVALID, EINVAL,
                     "manifest %s: an index inside an index", dg);
          return NULL;
        }
      if (stage_blob (c, body, len, img_digest, err) < 0)
        {
          manifest_free (m);
          return NULL;
        }
    }
  return m;
}

int
pull_image (image_store *s, const char *ref_s, const pull_opts *o, char **id_out,
            polis_error **err)
{
  cleanup_reference image_reference *ref = image_reference_parse (ref_s, err);
  if (ref == NULL)
    return -1;
  platform want = { 0 };
  if (o->platform)
    {
      if (platform_parse (o->platform, &want, err) < 0)
        return -1;
    }
  else
    platform_host (&want);
  cleanup_registry registry *reg = registry_new (&o->reg, ref->domain, ref->path,
                                                 false);
  pull_ctx c = { .s = s, .reg = reg, .progress = o->progress,
                 .parallel = o->parallel > 0 ? o->parallel : PULL_PARALLEL_DEFAULT,
                 .unpack_limit = pull_unpack_limit (),
                 .wake = { -1, -1 } };
  cleanup_free char *repo = image_reference_repository (ref);
  cleanup_free char *familiar = image_reference_familiar (ref);
  cleanup_manifest manifest *m = NULL;
  cleanup_image_config image_config *cfg = NULL;
  cleanup_free char *cfg_buf = NULL;
  cleanup_strv char **names = NULL;
  image_record rec = { 0 };
  char top[DIGEST_STRING_LEN + 1], img[DIGEST_STRING_LEN + 1];
  int ret = -1;
  bool hostile = false;
  cleanup_free char *dn = NULL, *before = NULL, *dline = NULL, *sline = NULL;

  snapshot_gc_temporaries (s->snaps);
  content_store_gc_temporaries (s->cs);
  cleanup_free char *pulling = xasprintf ("Pulling from %s", ref->path);
  progress_status (o->progress, ref->tag ? ref->tag : ref->digest, pulling);
  m = fetch_manifest (&c, ref->digest ? ref->digest : ref->tag, &want, top, img,
                      err);
  if (m == NULL)
    goto out;

  size_t cfg_len = 0;
  if (m->config.size > (int64_t) MANIFEST_CONFIG_MAX)
    {
      error_set (err, ERROR_INVALID, E2BIG, "image config larger than %u bytes",
                 MANIFEST_CONFIG_MAX);
      goto out;
    }
  if (content_store_has (s->cs, m->config.digest, NULL))
    cfg_buf = content_store_read_blob (s->cs, m->config.digest,
                                       MANIFEST_CONFIG_MAX, &cfg_len, err);
  else
    {
      cfg_buf = registry_get_blob (reg, m->config.digest, MANIFEST_CONFIG_MAX,
                                   &cfg_len, err);
      if (cfg_buf && stage_blob (&c, cfg_buf, cfg_len, m->config.digest, err) < 0)
        goto out;
    }
  if (cfg_buf == NULL)
    goto out;
  cfg = image_config_parse (cfg_buf, cfg_len, err);
  if (cfg == NULL)
    goto out;
  if (cfg->n_diff_ids != m->n_layers)
    {
      error_set (err, ERROR_INVALID, EINVAL,
                 "image config has %zu diff IDs for %zu layers", cfg->n_diff_ids,
                 m->n_layers);
      goto out;
    }

  if (pipe2 (c.wake, O_CLOEXEC | O_NONBLOCK) < 0)
    {
      error_sys (err, "pipe");
      goto out;
    }
  c.n_jobs = m->n_layers;
  c.jobs = xzalloc ((c.n_jobs ? c.n_jobs : 1) * sizeof *c.jobs);
  rec.layers = xzalloc ((c.n_jobs ? c.n_jobs : 1) * sizeof *rec.layers);
  rec.n_layers = c.n_jobs;
  int64_t total = m->config.size;
  for (size_t i = 0; i < c.n_jobs; i++)
    {
      pull_job *j = &c.jobs[i];
      const manifest_descriptor *d = &m->layers[i];
      layer_compression comp;
      j->src_fd = j->snap_fd = -1;
      j->idx = i;
      if (manifest_layer_compression (d->media_type, &comp, err) < 0)
        goto out;
      snprintf (j->digest, sizeof j->digest, "%s", d->digest);
      j->size = d->size;
      snprintf (j->diff_id, sizeof j->diff_id, "%s", cfg->diff_ids[i]);
      snprintf (j->parent, sizeof j->parent, "%s", i ? c.jobs[i - 1].chain_id : "");
      manifest_chain_id (i ? c.jobs[i - 1].chain_id : NULL, j->diff_id,
                         j->chain_id);
      snprintf (j->short_id, sizeof j->short_id, "%.12s", digest_hex (j->digest));
      j->exists = image_db_has_layer (s->db, j->chain_id)
                  && snapshot_exists (s->snaps, j->chain_id);
      progress_status (o->progress, j->short_id,
                       j->exists ? "Already exists" : "Pulling fs layer");
      rec.layers[i] = (image_layer_rec){
        .chain_id = j->chain_id, .diff_id = j->diff_id, .digest = j->digest,
        .media_type = d->media_type, .size = d->size,
      };
      total += d->size;
    }
  if (jobs_run (&c, err) < 0)
    {
      hostile = *err && (*err)->cls == ERROR_INVALID;
      jobs_abort (&c, hostile);
      goto out;
    }

  rec.id = m->config.digest;
  rec.manifest_digest = img;
  rec.manifest_media_type = m->media_type;
  rec.created = (char *) cfg->created;
  rec.os = (char *) cfg->os;
  rec.architecture = (char *) cfg->architecture;
  rec.variant = (char *) cfg->variant;
  rec.size = total;
  names = xzalloc (sizeof (char *));
  if (ref->tag && !ref->digest)
    {
      cleanup_free char *n = xasprintf ("%s:%s", repo, ref->tag);
      strv_append (&names, n);
    }
  dn = xasprintf ("%s@%s", repo, top);
  strv_append (&names, dn);
  before = names[0] && ref->tag && !ref->digest
                                  ? image_db_lookup_name (s->db, names[0], NULL)
                                  : NULL;
  bool new_layers = false;
  for (size_t i = 0; i < c.n_jobs; i++)
    new_layers |= !c.jobs[i].exists;
  if (pull_record (&c, &rec, names, err) < 0)
    {
      jobs_abort (&c, false);
      goto out;
    }
  for (size_t i = 0; i < c.n_jobs; i++)
    image_db_add_blob_source (s->db, c.jobs[i].digest, ref->domain, ref->path,
                              NULL);
  dline = xasprintf ("Digest: %s", top);
  progress_status (o->progress, NULL, dline);
  bool up_to_date = !new_layers && before && strcmp (before, rec.id) == 0;
  sline = xasprintf ("Status: %s for %s",
                   up_to_date ? "Image is up to date" : "Downloaded newer image",
                   familiar);
  progress_status (o->progress, NULL, sline);
  if (id_out)
    *id_out = xstrdup (rec.id);
  ret = 0;
out:
  if (ret < 0)
    error_wrap (err, "pull %s", familiar);
  jobs_free (&c);
  free (rec.layers);
  platform_clear (&want);
  return ret;
}

int
pull_unpack_local (image_store *s, char *const *layers, char *const *diff_ids,
                   size_t n, progress *p, polis_error **err)
{
  char parent[DIGEST_STRING_LEN + 1] = "";
  for (size_t i = 0; i < n; i++)
    {
      char chain[DIGEST_STRING_LEN + 1], got[DIGEST_STRING_LEN + 1];
      char short_id[13];
      snprintf (short_id, sizeof short_id, "%.12s", digest_hex (layers[i]));
      manifest_chain_id (i ? parent : NULL, diff_ids[i], chain);
      if (image_db_has_layer (s->db, chain) && snapshot_exists (s->snaps, chain))
        {
          snprintf (parent, sizeof parent, "%s", chain);
          continue;
        }
      progress_status (p, short_id, "Loading layer");
      cleanup_close int src = content_store_open_blob (s->cs, layers[i], err);
      if (src < 0)
        return -1;
      cleanup_free char *tmp = NULL;
      cleanup_close int dfd = snapshot_prepare (s->snaps, chain, &tmp, err);
      if (dfd < 0)
        return -1;
      unpack_opts o = { .src_fd = src, .dest_fd = dfd };
      uint64_t size = 0;
      int ret = unpack_layer (&o, got, &size, err);
      if (ret == 0 && strcmp (got, diff_ids[i]) != 0)
        ret = error_set (err, ERROR_INVALID, EBADMSG,
                         "layer %s: diff ID %s does not match the config's %s",
                         short_id, got, diff_ids[i]);
      if (ret == 0)
        ret = image_store_before_commit (s, err);
      if (ret == 0)
        ret = image_db_begin (s->db, err);
      if (ret == 0)
        {
          ret = image_store_commit_layer (s, tmp, chain, diff_ids[i],
                                          i ? parent : NULL, (int64_t) size,
                                          err);
          if (ret >= 0)
            ret = image_store_after_commit (s, err);
          if (ret >= 0)
            ret = image_db_commit (s->db, err);
          else
            image_db_rollback (s->db);
        }
      if (ret < 0)
        {
          snapshot_remove_name (s->snaps, tmp, NULL);
          return error_wrap (err, "unpack layer %s", short_id);
        }
      snprintf (parent, sizeof parent, "%s", chain);
    }
  return 0;
}

int
pull_restore_image (image_store *s, const char *id, void *data,
                    polis_error **err)
{
  (void) data;
  cleanup_image_record image_record *rec = image_db_get_image (s->db, id, err);
  if (rec == NULL)
    return -1;
  size_t n = rec->n_layers;
  cleanup_strv char **digests = xzalloc ((n + 1) * sizeof (char *));
  cleanup_strv char **diff_ids = xzalloc ((n + 1) * sizeof (char *));
  for (size_t i = 0; i < n; i++)
    {
      digests[i] = xstrdup (rec->layers[i].digest);
      diff_ids[i] = xstrdup (rec->layers[i].diff_id);
    }
  return pull_unpack_local (s, digests, diff_ids, n, NULL, err);
}
