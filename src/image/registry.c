/* registry.c - a client of the OCI distribution API on libcurl's multi
 * interface.  See registry.h. */
#include "registry.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "base/cleanup.h"
#include "base/log.h"
#include "base/pjson.h"
#include "base/strv.h"
#include "base/xalloc.h"
#include "manifest.h"
#include "polis-config.h"
#include "reference.h"

struct registry
{
  registry_opts o;
  char **insecure, **mirrors;
  char *creds;
  char *docker_config;
  char *domain, *repository;
  char *base; /* "https://host" */
  bool push, pinged;
  char **scopes;
  CURLM *multi;      /* the caller's blob transfers */
  CURLM *sync_multi; /* one request at a time (http_run) */
  char *auth_value; /* "Bearer …" / "Basic …" */
  auth_challenge challenge;
  char *user, *pass;
  bool creds_loaded;
};

/* One HTTP exchange; the response headers that matter are kept, capped. */
typedef struct
{
  CURL *easy;
  struct curl_slist *headers;
  char *url;
  long status;
  char content_type[256];
  char docker_digest[128];
  char www_auth[REGISTRY_HEADER_MAX];
  char location[REGISTRY_HEADER_MAX];
  char errbuf[CURL_ERROR_SIZE];
  /* body into memory */
  char *body;
  size_t body_len, body_max;
  bool too_big;
  /* or into a sink (blob downloads), skipping SKIP bytes */
  registry_sink_fn sink;
  void *sink_ud;
  uint64_t offset, skip;
  bool decided; /* status looked at for the first body byte */
  bool sink_failed;
  /* upload */
  const char *up_buf;
  size_t up_len, up_pos;
  int up_fd;
} http_req;

struct registry_blob_get
{
  registry *r;
  http_req req;
  char *digest;
};

static const char *
base_for (registry *r)
{
  return r->base;
}

static bool
host_is_local (const char *host)
{
  size_t n = strcspn (host, ":");
  if (host[0] == '[')
    return strncmp (host, "[::1]", 5) == 0;
  return (n == 9 && strncmp (host, "localhost", 9) == 0)
         || strncmp (host, "127.", 4) == 0;
}

registry *
registry_new (const registry_opts *o, const char *domain,
              const char *repository, bool push)
{
  registry *r = xzalloc (sizeof *r);
  r->o = *o;
  r->insecure = strv_dup (o->insecure);
  r->mirrors = strv_dup (o->mirrors);
  r->creds = o->creds ? xstrdup (o->creds) : NULL;
  r->docker_config = o->docker_config ? xstrdup (o->docker_config) : NULL;
  r->o.insecure = r->insecure;
  r->o.mirrors = r->mirrors;
  r->o.creds = r->creds;
  r->o.docker_config = r->docker_config;
  if (r->o.stall_timeout <= 0)
    r->o.stall_timeout = 30;
  r->domain = xstrdup (domain);
  r->repository = xstrdup (repository);
  r->push = push;
  const char *host = image_reference_api_host (domain);
  bool plain = host_is_local (host);
  for (char **p = r->insecure; p && *p && !plain; p++)
    plain = strcmp (*p, host) == 0 || strcmp (*p, domain) == 0;
  r->base = xasprintf ("%s://%s", plain ? "http" : "https", host);
  r->scopes = xzalloc (sizeof (char *));
  cleanup_free char *scope = xasprintf ("repository:%s:%s", repository,
                                        push ? "pull,push" : "pull");
  strv_append (&r->scopes, scope);
  r->multi = curl_multi_init ();
  r->sync_multi = curl_multi_init ();
  if (r->multi == NULL || r->sync_multi == NULL)
    abort ();
  return r;
}

void
registry_free (registry *r)
{
  if (r == NULL)
    return;
  cleanup_strv_fn (&r->insecure);
  cleanup_strv_fn (&r->mirrors);
  cleanup_strv_fn (&r->scopes);
  free (r->creds);
  free (r->docker_config);
  free (r->domain);
  free (r->repository);
  free (r->base);
  free (r->auth_value);
  auth_challenge_clear (&r->challenge);
  free (r->user);
  free (r->pass);
  if (r->multi)
    curl_multi_cleanup (r->multi);
  if (r->sync_multi)
    curl_multi_cleanup (r->sync_multi);
  free (r);
}

void
registry_cleanup (registry **r)
{
  registry_free (*r);
  *r = NULL;
}

void
registry_add_scope_repo (registry *r, const char *repository)
{
  cleanup_free char *scope = xasprintf ("repository:%s:pull", repository);
  for (char **p = r->scopes; *p; p++)
    if (strcmp (*p, scope) == 0)
      return;
  strv_append (&r->scopes, scope);
}

CURLM *
registry_multi (registry *r)
{
  return r->multi;
}

static void
copy_header_value (char *dst, size_t cap, const char *v, size_t n)
{
  while (n > 0 && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' '))
    n--;
  if (n >= cap)
    n = cap - 1;
  memcpy (dst, v, n);
  dst[n] = '\0';
}

static size_t
header_cb (char *buf, size_t size, size_t nitems, void *ud)
{
  http_req *q = ud;
  size_t n = size * nitems;
  if (n >= 5 && strncmp (buf, "HTTP/", 5) == 0)
    {
      /* A new response (after a redirect or a 100): forget the last one. */
      q->content_type[0] = q->docker_digest[0] = q->www_auth[0] = '\0';
      q->location[0] = '\0';
      return n;
    }
  const char *colon = memchr (buf, ':', n);
  if (colon == NULL)
    return n;
  size_t klen = (size_t) (colon - buf);
  const char *v = colon + 1;
  while (v < buf + n && (*v == ' ' || *v == '\t'))
    v++;
  size_t vlen = (size_t) (buf + n - v);
#define HDR(name, field)                                                       \
  if (klen == sizeof name - 1 && strncasecmp (buf, name, klen) == 0)           \
    copy_header_value (q->field, sizeof q->field, v, vlen);
  HDR ("Content-Type", content_type)
  HDR ("Docker-Content-Digest", docker_digest)
  HDR ("WWW-Authenticate", www_auth)
  HDR ("Location", location)
#undef HDR
  return n;
}

static size_t
write_cb (char *buf, size_t size, size_t nmemb, void *ud)
{
  http_req *q = ud;
  size_t n = size * nmemb;
  if (!q->decided)
    {
      q->decided = true;
      curl_easy_getinfo (q->easy, CURLINFO_RESPONSE_CODE, &q->status);
      /* A server that ignores Range sends the whole blob: skip what we
         already have. */
      if (q->sink && q->status == 200 && q->offset > 0)
        q->skip = q->offset;
    }
  if (q->sink && (q->status == 200 || q->status == 206))
    {
      size_t drop = q->skip < n ? (size_t) q->skip : n;
      q->skip -= drop;
      if (drop == n)
        return n;
      if (q->sink (q->sink_ud, buf + drop, n - drop) != n - drop)
        {
          q->sink_failed = true;
          return 0;
        }
      return n;
    }
  size_t max = q->sink ? REGISTRY_ERROR_BODY_MAX : q->body_max;
  if (q->body_len + n > max)
    {
      q->too_big = true;
      return 0;
    }
  q->body = xrealloc (q->body, q->body_len + n + 1);
  memcpy (q->body + q->body_len, buf, n);
  q->body_len += n;
  q->body[q->body_len] = '\0';
  return n;
}

static size_t
read_cb (char *buf, size_t size, size_t nitems, void *ud)
{
  http_req *q = ud;
  size_t n = size * nitems;
  if (q->up_fd >= 0)
    {
      ssize_t r;
      do
        r = read (q->up_fd, buf, n);
      while (r < 0 && errno == EINTR);
      return r < 0 ? CURL_READFUNC_ABORT : (size_t) r;
    }
  size_t left = q->up_len - q->up_pos;
  if (n > left)
    n = left;
  memcpy (buf, q->up_buf + q->up_pos, n);
  q->up_pos += n;
  return n;
}

static void
http_req_clear (http_req *q)
{
  if (q->easy)
    curl_easy_cleanup (q->easy);
  curl_slist_free_all (q->headers);
  free (q->url);
  free (q->body);
  *q = (http_req){ .up_fd = -1 };
}

static void
http_req_setup (registry *r, http_req *q, const char *method, const char *url,
                size_t body_max)
{
  q->up_fd = -1;
  q->easy = curl_easy_init ();
  if (q->easy == NULL)
    abort ();
  q->url = xstrdup (url);
  q->body_max = body_max;
  CURL *e = q->easy;
  curl_easy_setopt (e, CURLOPT_URL, q->url);
  curl_easy_setopt (e, CURLOPT_USERAGENT, "polis/" POLIS_VERSION);
  curl_easy_setopt (e, CURLOPT_HEADERFUNCTION, header_cb);
  curl_easy_setopt (e, CURLOPT_HEADERDATA, q);
  curl_easy_setopt (e, CURLOPT_WRITEFUNCTION, write_cb);
  curl_easy_setopt (e, CURLOPT_WRITEDATA, q);
  curl_easy_setopt (e, CURLOPT_ERRORBUFFER, q->errbuf);
  curl_easy_setopt (e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt (e, CURLOPT_CONNECTTIMEOUT, 30L);
  /* A registry that stops sending is an error, not a hang. */
  curl_easy_setopt (e, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt (e, CURLOPT_LOW_SPEED_TIME, r->o.stall_timeout);
  curl_easy_setopt (e, CURLOPT_PROTOCOLS_STR, "http,https");
  /* Redirects to a CDN are normal; curl does not send our Authorization
     header to another host (distribution-spec: MUST NOT). */
  curl_easy_setopt (e, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt (e, CURLOPT_MAXREDIRS, 5L);
  curl_easy_setopt (e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt (e, CURLOPT_BUFFERSIZE, 256L * 1024);
  if (strcmp (method, "HEAD") == 0)
    curl_easy_setopt (e, CURLOPT_NOBODY, 1L);
  else if (strcmp (method, "GET") != 0)
    curl_easy_setopt (e, CURLOPT_CUSTOMREQUEST, method);
  if (r->auth_value)
    {
      cleanup_free char *h = xasprintf ("Authorization: %s", r->auth_value);
      q->headers = curl_slist_append (q->headers, h);
    }
  if (r->o.debug)
    log_debug ("registry: %s %s", method, url);
}

static void
http_req_finish_headers (http_req *q)
{
  curl_easy_setopt (q->easy, CURLOPT_HTTPHEADER, q->headers);
}

/* Run one request until it completes.  Not on the transfers' multi
   handle: a token fetched in the middle of a pull (a 401 on one layer)
   would drive the other layers' transfers and swallow their completion
   messages, and the pull would wait for them forever. */
static CURLcode
http_run (registry *r, http_req *q)
{
  CURLM *multi = r->sync_multi;
  http_req_finish_headers (q);
  curl_multi_add_handle (multi, q->easy);
  CURLcode result = CURLE_OK;
  int running = 1;
  while (running)
    {
      CURLMcode mc = curl_multi_perform (multi, &running);
      if (mc != CURLM_OK)
        {
          result = CURLE_FAILED_INIT;
          break;
        }
      if (running)
        curl_multi_poll (multi, NULL, 0, 1000, NULL);
    }
  CURLMsg *m;
  int left;
  while ((m = curl_multi_info_read (multi, &left)))
    if (m->msg == CURLMSG_DONE && m->easy_handle == q->easy)
      result = m->data.result;
  curl_multi_remove_handle (multi, q->easy);
  curl_easy_getinfo (q->easy, CURLINFO_RESPONSE_CODE, &q->status);
  return result;
}

/* The message of a registry's JSON error body, or the HTTP status. */
static char *
error_body_message (const http_req *q)
{
  if (q->body && q->body_len > 0)
    {
      json_error_t je;
      json_t *j = json_loadb (q->body, q->body_len, 0, &je);
      json_t *first = json_array_get (json_object_get (j, "errors"), 0);
      const char *code = json_string_value (json_object_get (first, "code"));
      const char *msg = json_string_value (json_object_get (first, "message"));
      char *out = NULL;
      if (msg)
        out = xasprintf ("%.200s%s%.200s", code ? code : "",
                         code ? ": " : "", msg);
      if (code && msg)
        {
          free (out);
          cleanup_free char *lc = xstrdup (code);
          for (char *p = lc; *p; p++)
            *p = *p == '_' ? ' ' : (char) tolower ((unsigned char) *p);
          out = xasprintf ("%.200s: %.200s", lc, msg);
        }
      json_decref (j);
      if (out)
        return out;
    }
  return xasprintf ("HTTP status %ld", q->status);
}

static int
transport_error (registry *r, http_req *q, CURLcode c, polis_error **err)
{
  (void) r;
  if (q->too_big)
    return error_set (err, ERROR_INVALID, E2BIG,
                      "%s: response larger than the limit of %zu bytes",
                      q->url, q->body_max);
  int code = c == CURLE_COULDNT_CONNECT ? ECONNREFUSED
             : c == CURLE_OPERATION_TIMEDOUT ? ETIMEDOUT
                                             : ECONNRESET;
  return error_set (err, ERROR_UNAVAILABLE, code, "%s: %s", q->url,
                    q->errbuf[0] ? q->errbuf : curl_easy_strerror (c));
}

static int
load_creds (registry *r, polis_error **err)
{
  if (r->creds_loaded)
    return 0;
  r->creds_loaded = true;
  if (r->creds)
    {
      const char *colon = strchr (r->creds, ':');
      if (colon == NULL)
        return error_set (err, ERROR_INVALID, EINVAL,
                          "--creds: expected user:password");
      r->user = xstrndup (r->creds, (size_t) (colon - r->creds));
      r->pass = xstrdup (colon + 1);
      return 0;
    }
  int found = auth_lookup_credentials (r->docker_config, r->domain, &r->user,
                                       &r->pass, err);
  return found < 0 ? -1 : 0;
}

/* Answer a challenge: Basic with credentials, Bearer with a token. */
static int
authenticate (registry *r, const char *www, polis_error **err)
{
  auth_challenge c = { 0 };
  if (auth_parse_challenge (www, &c, err) < 0)
    return -1;
  auth_challenge_clear (&r->challenge);
  r->challenge = c;
  if (load_creds (r, err) < 0)
    return -1;
  if (c.scheme == AUTH_BASIC)
    {
      if (r->user == NULL)
        return error_set (err, ERROR_FORBIDDEN, EACCES,
                          "unauthorized: %s needs credentials (docker login, "
                          "or --creds)",
                          r->domain);
      free (r->auth_value);
      r->auth_value = auth_basic_value (r->user, r->pass);
      return 0;
    }
  if (c.scheme != AUTH_BEARER)
    return error_set (err, ERROR_FORBIDDEN, EACCES,
                      "unauthorized: unsupported authentication scheme");
  cleanup_free char *url = auth_token_url (&c, r->scopes);
  http_req q = { 0 };
  /* The token request goes to the realm, with Basic credentials if any. */
  free (r->auth_value);
  r->auth_value = r->user ? auth_basic_value (r->user, r->pass) : NULL;
  http_req_setup (r, &q, "GET", url, 1u << 20);
  CURLcode rc = http_run (r, &q);
  int ret = 0;
  free (r->auth_value);
  r->auth_value = NULL;
  if (rc != CURLE_OK)
    ret = transport_error (r, &q, rc, err);
  else if (q.status != 200)
    {
      cleanup_free char *m = error_body_message (&q);
      ret = error_set (err, q.status == 401 || q.status == 403 ? ERROR_FORBIDDEN
                                                               : ERROR_UNAVAILABLE,
                       EACCES, "get token from %s: %s", c.realm, m);
    }
  else
    {
      char *token = NULL;
      long expires = 0;
      ret = auth_parse_token_response (q.body ? q.body : "", q.body_len, &token,
                                       &expires, err);
      if (ret == 0)
        {
          r->auth_value = xasprintf ("Bearer %s", token);
          free (token);
        }
    }
  http_req_clear (&q);
  return ret;
}

int
registry_ping (registry *r, polis_error **err)
{
  if (r->pinged)
    return 0;
  /* Docker Hub pulls go to the first mirror that answers. */
  if (strcmp (r->domain, "docker.io") == 0 && !r->push && r->mirrors)
    for (char **m = r->mirrors; *m; m++)
      {
        cleanup_free char *url = xasprintf ("%s/v2/", *m);
        http_req q = { 0 };
        http_req_setup (r, &q, "GET", url, REGISTRY_ERROR_BODY_MAX);
        CURLcode rc = http_run (r, &q);
        bool ok = rc == CURLE_OK && (q.status == 200 || q.status == 401);
        http_req_clear (&q);
        if (ok)
          {
            free (r->base);
            r->base = xstrdup (*m);
            size_t n = strlen (r->base);
            while (n > 0 && r->base[n - 1] == '/')
              r->base[--n] = '\0';
            break;
          }
      }
  cleanup_free char *url = xasprintf ("%s/v2/", base_for (r));
  http_req q = { 0 };
  http_req_setup (r, &q, "GET", url, REGISTRY_ERROR_BODY_MAX);
  CURLcode rc = http_run (r, &q);
  int ret = 0;
  if (rc != CURLE_OK)
    ret = transport_error (r, &q, rc, err);
  else if (q.status == 401)
    ret = authenticate (r, q.www_auth, err);
  else if (q.status != 200)
    ret = error_set (err, ERROR_UNAVAILABLE, EPROTO,
                     "%s: not a registry (HTTP status %ld)", url, q.status);
  http_req_clear (&q);
  if (ret == 0)
    r->pinged = true;
  return ret < 0 ? error_wrap (err, "registry %s", r->domain) : 0;
}

typedef struct
{
  const char *method;
  const char *url;
  const char *accept;
  const char *content_type;
  const char *body;
  size_t body_len;
  int body_fd;
  uint64_t body_size;
  size_t max;
  registry_progress_fn progress;
  void *progress_ud;
} req_spec;

static int
xferinfo_cb (void *ud, curl_off_t dltotal, curl_off_t dlnow,
             curl_off_t ultotal, curl_off_t ulnow)
{
  const req_spec *s = ud;
  (void) dltotal;
  (void) dlnow;
  if (ultotal > 0)
    s->progress (s->progress_ud, (uint64_t) ulnow, (uint64_t) ultotal);
  return 0;
}

/* One request with the registry's auth; a 401 gets one new token and one
   retry.  *Q holds the response; the caller clears it. */
static int
do_request (registry *r, const req_spec *s, http_req *q, polis_error **err)
{
  int ret = registry_ping (r, err);
  if (ret < 0)
    return ret;
  for (int attempt = 0;; attempt++)
    {
      http_req_setup (r, q, s->method, s->url, s->max);
      if (s->accept)
        {
          cleanup_free char *h = xasprintf ("Accept: %s", s->accept);
          q->headers = curl_slist_append (q->headers, h);
        }
      if (s->content_type)
        {
          cleanup_free char *h = xasprintf ("Content-Type: %s", s->content_type);
          q->headers = curl_slist_append (q->headers, h);
        }
      if (s->body || s->body_fd >= 0)
        {
          q->up_buf = s->body;
          q->up_len = s->body_len;
          q->up_fd = s->body_fd;
          if (s->body_fd >= 0 && lseek (s->body_fd, 0, SEEK_SET) < 0)
            return error_sys (err, "seek");
          curl_easy_setopt (q->easy, CURLOPT_UPLOAD, 1L);
          curl_easy_setopt (q->easy, CURLOPT_READFUNCTION, read_cb);
          curl_easy_setopt (q->easy, CURLOPT_READDATA, q);
          curl_easy_setopt (q->easy, CURLOPT_INFILESIZE_LARGE,
                            (curl_off_t) (s->body_fd >= 0 ? s->body_size
                                                          : s->body_len));
          curl_easy_setopt (q->easy, CURLOPT_CUSTOMREQUEST, s->method);
          q->headers = curl_slist_append (q->headers, "Expect:");
          if (s->progress)
            {
              curl_easy_setopt (q->easy, CURLOPT_XFERINFOFUNCTION, xferinfo_cb);
              curl_easy_setopt (q->easy, CURLOPT_XFERINFODATA, s);
              curl_easy_setopt (q->easy, CURLOPT_NOPROGRESS, 0L);
            }
        }
      else if (strcmp (s->method, "POST") == 0)
        {
          curl_easy_setopt (q->easy, CURLOPT_POST, 1L);
          curl_easy_setopt (q->easy, CURLOPT_POSTFIELDSIZE, 0L);
        }
      CURLcode rc = http_run (r, q);
      if (rc != CURLE_OK)
        return transport_error (r, q, rc, err);
      if (q->status == 401 && attempt == 0)
        {
          cleanup_free char *www = xstrdup (q->www_auth);
          http_req_clear (q);
          if (authenticate (r, www, err) < 0)
            return -1;
          continue;
        }
      if (q->status == 401 || q->status == 403)
        {
          cleanup_free char *m = error_body_message (q);
          return error_set (err, ERROR_FORBIDDEN, EACCES, "%s", m);
        }
      return 0;
    }
}

int
registry_get_manifest (registry *r, const char *ref, char **body, size_t *len,
                       char **content_type, char digest[DIGEST_STRING_LEN + 1],
                       polis_error **err)
{
  cleanup_free char *url
      = xasprintf ("%s/v2/%s/manifests/%s", base_for (r), r->repository, ref);
  req_spec s = { .method = "GET", .url = url, .accept = MANIFEST_ACCEPT,
                 .body_fd = -1, .max = MANIFEST_SIZE_MAX };
  http_req q = { 0 };
  int ret = do_request (r, &s, &q, err);
  if (ret == 0 && q.status == 404)
    {
      cleanup_free char *m = error_body_message (&q);
      ret = error_set (err, ERROR_NOT_FOUND, ENOENT,
                       "manifest for %s/%s%s%s not found: %s", r->domain,
                       r->repository, image_reference_is_digest (ref) ? "@" : ":",
                       ref, m);
    }
  else if (ret == 0 && q.status != 200)
    {
      cleanup_free char *m = error_body_message (&q);
      ret = error_set (err, ERROR_UNAVAILABLE, EPROTO,
                       "get manifest %s: %s", ref, m);
    }
  if (ret == 0)
    {
      digest_buffer (q.body ? q.body : "", q.body_len, digest);
      if (image_reference_is_digest (ref) && strcmp (ref, digest) != 0)
        ret = error_set (err, ERROR_INVALID, EBADMSG,
                         "manifest verification failed for digest %s "
                         "(got %s)",
                         ref, digest);
      else if (q.docker_digest[0] && image_reference_is_digest (q.docker_digest)
               && strcmp (q.docker_digest, digest) != 0)
        ret = error_set (err, ERROR_INVALID, EBADMSG,
                         "manifest verification failed: Docker-Content-Digest "
                         "%s, body is %s",
                         q.docker_digest, digest);
    }
  if (ret == 0)
    {
      *body = q.body ? steal_pointer (&q.body) : xstrdup ("");
      *len = q.body_len;
      *content_type = xstrdup (q.content_type);
    }
  http_req_clear (&q);
  return ret;
}

char *
registry_get_blob (registry *r, const char *digest, size_t max, size_t *len,
                   polis_error **err)
{
  cleanup_free char *url
      = xasprintf ("%s/v2/%s/blobs/%s", base_for (r), r->repository, digest);
  req_spec s = { .method = "GET", .url = url, .body_fd = -1, .max = max };
  http_req q = { 0 };
  char *out = NULL;
  int ret = do_request (r, &s, &q, err);
  if (ret == 0 && q.status != 200)
    {
      cleanup_free char *m = error_body_message (&q);
      error_set (err, q.status == 404 ? ERROR_NOT_FOUND : ERROR_UNAVAILABLE,
                 q.status == 404 ? ENOENT : EPROTO, "get blob %s: %s", digest,
                 m);
    }
  else if (ret == 0)
    {
      char d[DIGEST_STRING_LEN + 1];
      digest_buffer (q.body ? q.body : "", q.body_len, d);
      if (strcmp (d, digest) != 0)
        error_set (err, ERROR_INVALID, EBADMSG,
                   "blob verification failed for digest %s (got %s)", digest,
                   d);
      else
        {
          out = q.body ? steal_pointer (&q.body) : xstrdup ("");
          *len = q.body_len;
        }
    }
  http_req_clear (&q);
  return out;
}

int
registry_blob_exists (registry *r, const char *digest, polis_error **err)
{
  cleanup_free char *url
      = xasprintf ("%s/v2/%s/blobs/%s", base_for (r), r->repository, digest);
  req_spec s = { .method = "HEAD", .url = url, .body_fd = -1,
                 .max = REGISTRY_ERROR_BODY_MAX };
  http_req q = { 0 };
  int ret = do_request (r, &s, &q, err);
  if (ret == 0)
    {
      if (q.status == 200)
        ret = 1;
      else if (q.status == 404)
        ret = 0;
      else
        ret = error_set (err, ERROR_UNAVAILABLE, EPROTO,
                         "check blob %s: HTTP status %ld", digest, q.status);
    }
  http_req_clear (&q);
  return ret;
}

/* A Location header made absolute against the registry's base URL. */
static char *
absolute_location (registry *r, const char *loc)
{
  if (strncmp (loc, "http://", 7) == 0 || strncmp (loc, "https://", 8) == 0)
    return xstrdup (loc);
  return xasprintf ("%s%s%s", base_for (r), loc[0] == '/' ? "" : "/", loc);
}

int
registry_upload_blob (registry *r, const char *digest, int fd, uint64_t size,
                      const char *from, bool *mounted,
                      registry_progress_fn progress, void *progress_ud,
                      polis_error **err)
{
  cleanup_free char *url = NULL;
  *mounted = false;
  if (from)
    url = xasprintf ("%s/v2/%s/blobs/uploads/?mount=%s&from=%s", base_for (r),
                     r->repository, digest, from);
  else
    url = xasprintf ("%s/v2/%s/blobs/uploads/", base_for (r), r->repository);
  req_spec s = { .method = "POST", .url = url, .body_fd = -1,
                 .max = REGISTRY_ERROR_BODY_MAX };
  http_req q = { 0 };
  int ret = do_request (r, &s, &q, err);
  if (ret == 0 && q.status == 201)
    {
      *mounted = from != NULL;
      http_req_clear (&q);
      return 0;
    }
  if (ret == 0 && q.status != 202)
    {
      cleanup_free char *m = error_body_message (&q);
      ret = error_set (err, ERROR_UNAVAILABLE, EPROTO,
                       "start upload of %s: %s", digest, m);
    }
  if (ret == 0 && q.location[0] == '\0')
    ret = error_set (err, ERROR_UNAVAILABLE, EPROTO,
                     "start upload of %s: no Location", digest);
  if (ret < 0)
    {
      http_req_clear (&q);
      return ret;
    }
  cleanup_free char *loc = absolute_location (r, q.location);
  http_req_clear (&q);
  cleanup_free char *put
      = xasprintf ("%s%sdigest=%s", loc, strchr (loc, '?') ? "&" : "?", digest);
  req_spec ps = { .method = "PUT", .url = put,
                  .content_type = "application/octet-stream", .body_fd = fd,
                  .body_size = size, .max = REGISTRY_ERROR_BODY_MAX,
                  .progress = progress, .progress_ud = progress_ud };
  /* An fd body with size 0 still needs the upload path. */
  ret = do_request (r, &ps, &q, err);
  if (ret == 0 && q.status != 201)
    {
      cleanup_free char *m = error_body_message (&q);
      ret = error_set (err, ERROR_UNAVAILABLE, EPROTO, "upload %s: %s", digest,
                       m);
    }
  http_req_clear (&q);
  return ret;
}

int
registry_put_manifest (registry *r, const char *ref, const char *body,
                       size_t len, const char *media_type, polis_error **err)
{
  cleanup_free char *url
      = xasprintf ("%s/v2/%s/manifests/%s", base_for (r), r->repository, ref);
  req_spec s = { .method = "PUT", .url = url, .content_type = media_type,
                 .body = body, .body_len = len, .body_fd = -1,
                 .max = REGISTRY_ERROR_BODY_MAX };
  http_req q = { 0 };
  int ret = do_request (r, &s, &q, err);
  if (ret == 0 && q.status != 201 && q.status != 200)
    {
      cleanup_free char *m = error_body_message (&q);
      ret = error_set (err, ERROR_UNAVAILABLE, EPROTO, "put manifest %s: %s",
                       ref, m);
    }
  http_req_clear (&q);
  return ret;
}

registry_blob_get *
registry_blob_get_new (registry *r, const char *digest, uint64_t offset,
                       registry_sink_fn sink, void *ud)
{
  registry_blob_get *g = xzalloc (sizeof *g);
  g->r = r;
  g->digest = xstrdup (digest);
  cleanup_free char *url
      = xasprintf ("%s/v2/%s/blobs/%s", base_for (r), r->repository, digest);
  http_req_setup (r, &g->req, "GET", url, REGISTRY_ERROR_BODY_MAX);
  g->req.sink = sink;
  g->req.sink_ud = ud;
  g->req.offset = offset;
  if (offset > 0)
    {
      char range[64];
      snprintf (range, sizeof range, "%llu-", (unsigned long long) offset);
      curl_easy_setopt (g->req.easy, CURLOPT_RANGE, range);
    }
  http_req_finish_headers (&g->req);
  return g;
}

CURL *
registry_blob_get_easy (registry_blob_get *g)
{
  return g->req.easy;
}

int
registry_blob_get_result (registry_blob_get *g, CURLcode code, bool *auth_retry,
                          bool *retryable, polis_error **err)
{
  http_req *q = &g->req;
  *auth_retry = *retryable = false;
  curl_easy_getinfo (q->easy, CURLINFO_RESPONSE_CODE, &q->status);
  if (q->sink_failed)
    return error_set (err, ERROR_INTERNAL, EIO, "blob %s: write failed",
                      g->digest);
  if (code != CURLE_OK && (q->status == 200 || q->status == 206 || q->status == 0))
    {
      *retryable = true;
      return transport_error (g->r, q, code, err);
    }
  if (q->status == 200 || q->status == 206)
    {
      if (q->skip > 0)
        {
          *retryable = true;
          return error_set (err, ERROR_UNAVAILABLE, ECONNRESET,
                            "blob %s: response shorter than what we had",
                            g->digest);
        }
      return 0;
    }
  if (q->status == 401)
    {
      if (authenticate (g->r, q->www_auth, err) < 0)
        return -1;
      *auth_retry = true;
      return error_set (err, ERROR_FORBIDDEN, EACCES, "blob %s: unauthorized",
                        g->digest);
    }
  cleanup_free char *m = error_body_message (q);
  if (q->status >= 500 || q->status == 429)
    *retryable = true;
  return error_set (err, q->status == 404 ? ERROR_NOT_FOUND : ERROR_UNAVAILABLE,
                    q->status == 404 ? ENOENT : EPROTO, "get blob %s: %s",
                    g->digest, m);
}

void
registry_blob_get_free (registry_blob_get *g)
{
  if (g == NULL)
    return;
  http_req_clear (&g->req);
  free (g->digest);
  free (g);
}
