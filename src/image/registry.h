/* registry.h - a client of the OCI distribution API on libcurl's multi
 * interface.
 *
 * One `registry` value talks to one repository: it pings /v2/, answers
 * Basic and Bearer challenges (credentials from ~/.docker/config.json or
 * --creds), and keeps the token for its scope.  Plain HTTP is used for
 * localhost, 127.0.0.0/8, ::1 and registries named insecure; Docker Hub
 * pulls try the configured mirrors first.  Responses are capped.
 *
 * Blob downloads are exposed as transfers the caller adds to the client's
 * multi handle (registry_multi), so that a puller can run several in
 * parallel in its own loop.
 */
#ifndef POLIS_IMAGE_REGISTRY_H
#define POLIS_IMAGE_REGISTRY_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "digest.h"

#define REGISTRY_ERROR_BODY_MAX 65536
#define REGISTRY_HEADER_MAX 8192

typedef struct
{
  char **insecure;          /* hosts (host:port) to reach over plain HTTP */
  char **mirrors;           /* URLs of Docker Hub mirrors */
  const char *creds;        /* "user:password", overrides config.json */
  const char *docker_config; /* directory of config.json, NULL = default */
  long stall_timeout;       /* seconds without a byte before giving up */
  bool debug;
} registry_opts;

typedef struct registry registry;

/* A client for DOMAIN/REPOSITORY.  PUSH asks for push scope.  Does not
   touch the network yet.  Caller frees. */
registry *registry_new (const registry_opts *o, const char *domain,
                        const char *repository, bool push);
void registry_free (registry *r);
void registry_cleanup (registry **r);
#define cleanup_registry __attribute__ ((cleanup (registry_cleanup)))

/* Also ask for pull on REPOSITORY (cross-repository mounts). */
void registry_add_scope_repo (registry *r, const char *repository);

/* GET /v2/: check the registry speaks the API and learn its challenge. */
int registry_ping (registry *r, polis_error **err);

/* Fetch a manifest by tag or digest (capped at MANIFEST_SIZE_MAX).
   *BODY, *CONTENT_TYPE are heap; DIGEST gets the sha256 of the body; when
   REF is a digest it is verified.  ERROR_NOT_FOUND when absent. */
int registry_get_manifest (registry *r, const char *ref, char **body,
                           size_t *len, char **content_type,
                           char digest[DIGEST_STRING_LEN + 1],
                           polis_error **err);

/* Fetch a small blob (config) into memory, verified, at most MAX bytes. */
char *registry_get_blob (registry *r, const char *digest, size_t max,
                         size_t *len, polis_error **err);

/* HEAD a blob: 1 present, 0 absent. */
int registry_blob_exists (registry *r, const char *digest, polis_error **err);
/* Bytes of an upload sent so far, of TOTAL. */
typedef void (*registry_progress_fn) (void *ud, uint64_t sent, uint64_t total);

/* Upload FD (SIZE bytes, its digest DIGEST).  With FROM (a repository on
   the same registry), try a cross-repository mount first.  *MOUNTED is
   set when the mount did it.  PROGRESS (may be NULL) is called as the
   bytes go. */
int registry_upload_blob (registry *r, const char *digest, int fd,
                          uint64_t size, const char *from, bool *mounted,
                          registry_progress_fn progress, void *progress_ud,
                          polis_error **err);
/* PUT a manifest under REF (tag or digest). */
int registry_put_manifest (registry *r, const char *ref, const char *body,
                           size_t len, const char *media_type,
                           polis_error **err);

/* The multi handle blob transfers run on. */
CURLM *registry_multi (registry *r);

/* A blob download from OFFSET (a Range request when > 0).  SINK gets the
   body's bytes from OFFSET on, even when the server ignores the range; it
   returns LEN, or 0 to abort. */
typedef size_t (*registry_sink_fn) (void *ud, const char *buf, size_t len);
typedef struct registry_blob_get registry_blob_get;
registry_blob_get *registry_blob_get_new (registry *r, const char *digest,
                                          uint64_t offset,
                                          registry_sink_fn sink, void *ud);
CURL *registry_blob_get_easy (registry_blob_get *g);
/* Judge a finished transfer (CODE from curl).  0: complete.  -1 with *err;
   *AUTH_RETRY set when a new token was fetched and a retry should work,
   *RETRYABLE when the failure was the network's (resume may help). */
int registry_blob_get_result (registry_blob_get *g, CURLcode code,
                              bool *auth_retry, bool *retryable,
                              polis_error **err);
void registry_blob_get_free (registry_blob_get *g);

#endif
