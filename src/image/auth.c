/* auth.c - registry authentication: challenges, credentials, tokens. */
#include "auth.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/file.h"
#include "base/pjson.h"
#include "base/xalloc.h"

void
auth_challenge_clear (auth_challenge *c)
{
  free (c->realm);
  free (c->service);
  free (c->scope);
  free (c->error);
  *c = (auth_challenge){ 0 };
}

static const char *
skip_ws (const char *p)
{
  while (*p == ' ' || *p == '\t')
    p++;
  return p;
}

static bool
is_token_char (char c)
{
  /* strchr finds the terminating NUL too: rule it out first. */
  return c != '\0'
         && (isalnum ((unsigned char) c) || strchr ("!#$%&'*+-.^_`|~", c));
}

/* Parse one "key=value" or key="quoted" at *PP.  Returns 1 on a pair, 0
   when the next thing is a new challenge (a scheme), -1 on error. */
static int
parse_param (const char **pp, char **key, char **value, polis_error **err)
{
  const char *p = skip_ws (*pp);
  const char *k = p;
  while (is_token_char (*p))
    p++;
  if (p == k)
    return error_set (err, ERROR_INVALID, EINVAL,
                      "WWW-Authenticate: expected a parameter");
  size_t klen = (size_t) (p - k);
  p = skip_ws (p);
  if (*p != '=')
    return 0; /* a new scheme */
  p = skip_ws (p + 1);
  cleanup_free char *v = xmalloc (strlen (p) + 1);
  size_t vlen = 0;
  if (*p == '"')
    {
      p++;
      while (*p && *p != '"')
        {
          if (*p == '\\' && p[1])
            p++;
          v[vlen++] = *p++;
        }
      if (*p != '"')
        return error_set (err, ERROR_INVALID, EINVAL,
                          "WWW-Authenticate: unterminated quoted string");
      p++;
    }
  else
    while (is_token_char (*p) || *p == '/' || *p == ':')
      v[vlen++] = *p++;
  v[vlen] = '\0';
  p = skip_ws (p);
  if (*p == ',')
    p++;
  *key = xstrndup (k, klen);
  *value = steal_pointer (&v);
  *pp = p;
  return 1;
}

int
auth_parse_challenge (const char *header, auth_challenge *out,
                      polis_error **err)
{
  auth_challenge best = { 0 };
  if (strlen (header) > AUTH_HEADER_MAX)
    return error_set (err, ERROR_INVALID, E2BIG,
                      "WWW-Authenticate longer than %d bytes", AUTH_HEADER_MAX);
  const char *p = header;
  while (*(p = skip_ws (p)))
    {
      while (*p == ',' || *p == ' ')
        p++;
      if (!*p)
        break;
      const char *s = p;
      while (is_token_char (*p))
        p++;
      if (p == s)
        {
          auth_challenge_clear (&best);
          return error_set (err, ERROR_INVALID, EINVAL,
                            "WWW-Authenticate: expected a scheme");
        }
      size_t slen = (size_t) (p - s);
      auth_challenge c = { 0 };
      if (slen == 6 && strncasecmp (s, "bearer", 6) == 0)
        c.scheme = AUTH_BEARER;
      else if (slen == 5 && strncasecmp (s, "basic", 5) == 0)
        c.scheme = AUTH_BASIC;
      for (int n = 0;; n++)
        {
          const char *save = p;
          char *k = NULL, *v = NULL;
          if (*skip_ws (p) == '\0')
            break;
          if (n >= AUTH_PARAMS_MAX)
            {
              auth_challenge_clear (&c);
              auth_challenge_clear (&best);
              return error_set (err, ERROR_INVALID, E2BIG,
                                "WWW-Authenticate: more than %d parameters",
                                AUTH_PARAMS_MAX);
            }
          int r = parse_param (&p, &k, &v, err);
          if (r < 0)
            {
              auth_challenge_clear (&c);
              auth_challenge_clear (&best);
              return -1;
            }
          if (r == 0)
            {
              p = save;
              break;
            }
          char **slot = NULL;
          if (strcasecmp (k, "realm") == 0)
            slot = &c.realm;
          else if (strcasecmp (k, "service") == 0)
            slot = &c.service;
          else if (strcasecmp (k, "scope") == 0)
            slot = &c.scope;
          else if (strcasecmp (k, "error") == 0)
            slot = &c.error;
          if (slot)
            {
              free (*slot);
              *slot = v;
              v = NULL;
            }
          free (k);
          free (v);
        }
      if (c.scheme == AUTH_BEARER && best.scheme != AUTH_BEARER)
        {
          auth_challenge_clear (&best);
          best = c;
        }
      else if (c.scheme == AUTH_BASIC && best.scheme == AUTH_NONE)
        best = c;
      else
        auth_challenge_clear (&c);
    }
  if (best.scheme == AUTH_BEARER && (best.realm == NULL || *best.realm == '\0'))
    {
      auth_challenge_clear (&best);
      return error_set (err, ERROR_INVALID, EINVAL,
                        "WWW-Authenticate: Bearer challenge without a realm");
    }
  *out = best;
  return 0;
}

char *
auth_base64_encode (const void *buf, size_t len)
{
  char *out = xmalloc (4 * ((len + 2) / 3) + 1);
  EVP_EncodeBlock ((unsigned char *) out, buf, (int) len);
  return out;
}

char *
auth_base64_decode (const char *s, size_t max, size_t *len)
{
  size_t n = strlen (s);
  if (n % 4 != 0 || n / 4 * 3 > max)
    return NULL;
  cleanup_free char *out = xmalloc (n / 4 * 3 + 1);
  int r = EVP_DecodeBlock ((unsigned char *) out, (const unsigned char *) s,
                           (int) n);
  if (r < 0)
    return NULL;
  /* EVP_DecodeBlock counts the padding as zero bytes. */
  size_t l = (size_t) r;
  if (n >= 1 && s[n - 1] == '=')
    l--;
  if (n >= 2 && s[n - 2] == '=')
    l--;
  out[l] = '\0';
  if (len)
    *len = l;
  return steal_pointer (&out);
}

char *
auth_basic_value (const char *user, const char *pass)
{
  cleanup_free char *up = xasprintf ("%s:%s", user, pass);
  cleanup_free char *b = auth_base64_encode (up, strlen (up));
  return xasprintf ("Basic %s", b);
}

int
auth_lookup_credentials (const char *config_dir, const char *registry,
                         char **user, char **pass, polis_error **err)
{
  cleanup_free char *dir = NULL;
  if (config_dir)
    dir = xstrdup (config_dir);
  else if (getenv ("DOCKER_CONFIG"))
    dir = xstrdup (getenv ("DOCKER_CONFIG"));
  else if (getenv ("HOME"))
    dir = xasprintf ("%s/.docker", getenv ("HOME"));
  else
    return 0;
  cleanup_free char *path = xasprintf ("%s/config.json", dir);
  polis_error *e = NULL;
  cleanup_json json_t *j
      = pjson_load_file_at (AT_FDCWD, path, AUTH_DOCKER_CONFIG_MAX, &e);
  if (j == NULL)
    {
      bool missing = e && e->code == ENOENT;
      if (missing)
        {
          error_free (&e);
          return 0;
        }
      *err = e;
      return -1;
    }
  json_t *auths = json_object_get (j, "auths");
  if (!json_is_object (auths))
    return 0;
  /* Docker Hub's entry is keyed by its legacy index URL. */
  const char *keys[4] = { registry, NULL, NULL, NULL };
  cleanup_free char *https = xasprintf ("https://%s", registry);
  cleanup_free char *http = xasprintf ("http://%s", registry);
  keys[1] = https;
  keys[2] = http;
  if (strcmp (registry, "docker.io") == 0)
    keys[3] = "https://index.docker.io/v1/";
  for (size_t i = 0; i < 4; i++)
    {
      if (keys[i] == NULL)
        continue;
      json_t *entry = json_object_get (auths, keys[i]);
      if (!json_is_object (entry))
        continue;
      const char *a = json_string_value (json_object_get (entry, "auth"));
      const char *u = json_string_value (json_object_get (entry, "username"));
      const char *p = json_string_value (json_object_get (entry, "password"));
      if (a && *a)
        {
          cleanup_free char *dec = auth_base64_decode (a, 4096, NULL);
          char *colon = dec ? strchr (dec, ':') : NULL;
          if (colon == NULL)
            return error_set (err, ERROR_INVALID, EINVAL,
                              "%s: auths.%s.auth is not base64 of user:password",
                              path, keys[i]);
          *colon = '\0';
          *user = xstrdup (dec);
          *pass = xstrdup (colon + 1);
          return 1;
        }
      if (u && p)
        {
          *user = xstrdup (u);
          *pass = xstrdup (p);
          return 1;
        }
    }
  return 0;
}

static char *
url_escape (const char *s)
{
  char *e = curl_easy_escape (NULL, s, 0);
  if (e == NULL)
    abort ();
  char *out = xstrdup (e);
  curl_free (e);
  return out;
}

char *
auth_token_url (const auth_challenge *c, char *const *scopes)
{
  char *url = xasprintf ("%s%s", c->realm, strchr (c->realm, '?') ? "&" : "?");
  bool first = true;
  if (c->service)
    {
      cleanup_free char *s = url_escape (c->service);
      char *n = xasprintf ("%sservice=%s", url, s);
      free (url);
      url = n;
      first = false;
    }
  for (char *const *sc = scopes; sc && *sc; sc++)
    {
      cleanup_free char *s = url_escape (*sc);
      char *n = xasprintf ("%s%sscope=%s", url, first ? "" : "&", s);
      free (url);
      url = n;
      first = false;
    }
  return url;
}

int
auth_parse_token_response (const char *body, size_t len, char **token,
                           long *expires_in, polis_error **err)
{
  if (len > AUTH_TOKEN_RESPONSE_MAX)
    return error_set (err, ERROR_INVALID, E2BIG, "token response too large");
  cleanup_json json_t *j = pjson_parse (body, len, "token response", err);
  if (j == NULL)
    return -1;
  const char *t = json_string_value (json_object_get (j, "token"));
  if (t == NULL || *t == '\0')
    t = json_string_value (json_object_get (j, "access_token"));
  if (t == NULL || *t == '\0')
    return error_set (err, ERROR_INVALID, EINVAL,
                      "token response has no token");
  if (strlen (t) > AUTH_HEADER_MAX)
    return error_set (err, ERROR_INVALID, E2BIG, "token too long");
  for (const char *p = t; *p; p++)
    if ((unsigned char) *p < 0x21 || (unsigned char) *p > 0x7e)
      return error_set (err, ERROR_INVALID, EINVAL,
                        "token holds characters not allowed in a header");
  json_t *e = json_object_get (j, "expires_in");
  long ex = json_is_integer (e) ? (long) json_integer_value (e) : 60;
  if (ex < 60)
    ex = 60;
  *token = xstrdup (t);
  if (expires_in)
    *expires_in = ex;
  return 0;
}
