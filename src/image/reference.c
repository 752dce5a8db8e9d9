/* reference.c - image references the way Docker reads them.
 *
 * The grammar (distribution/reference/regexp.go):
 *   reference  := name [ ":" tag ] [ "@" digest ]
 *   name       := [domain "/"] path-component ["/" path-component]*
 *   domain     := host [":" port]   host := domain-name | "[" ipv6 "]"
 *   path-component := [a-z0-9]+ (([._]|__|[-]+) [a-z0-9]+)*
 *   tag        := [\w][\w.-]{0,127}
 *   digest     := algorithm ":" hex{32,}
 * Checks are hand-written instead of a regex engine; the order in which
 * they run reproduces which of Docker's messages a bad reference gets.
 */
#include "reference.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/xalloc.h"

#define REFERENCE_DEFAULT_DOMAIN "docker.io"
#define REFERENCE_LEGACY_DOMAIN "index.docker.io"
#define REFERENCE_OFFICIAL_PREFIX "library/"
#define REFERENCE_DEFAULT_TAG "latest"
/* A whole reference string from the command line or the API. */
#define REFERENCE_INPUT_MAX 4096

static bool
is_lower_alnum (char c)
{
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool
is_alnum (char c)
{
  return isalnum ((unsigned char) c) != 0;
}

static bool
is_hex_lower (char c)
{
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/* domain-component: [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9] */
static bool
valid_domain_component (const char *s, size_t n)
{
  if (n == 0 || !is_alnum (s[0]) || !is_alnum (s[n - 1]))
    return false;
  for (size_t i = 0; i < n; i++)
    if (!is_alnum (s[i]) && s[i] != '-')
      return false;
  return true;
}

static bool
valid_domain (const char *s, size_t n)
{
  size_t hostlen = n;
  if (n == 0)
    return false;
  if (s[0] == '[')
    {
      const char *close = memchr (s, ']', n);
      if (close == NULL || close == s + 1)
        return false;
      for (const char *p = s + 1; p < close; p++)
        if (!isxdigit ((unsigned char) *p) && *p != ':')
          return false;
      hostlen = (size_t) (close - s) + 1;
    }
  else
    {
      const char *colon = memchr (s, ':', n);
      if (colon)
        hostlen = (size_t) (colon - s);
      size_t start = 0;
      for (size_t i = 0; i <= hostlen; i++)
        if (i == hostlen || s[i] == '.')
          {
            if (!valid_domain_component (s + start, i - start))
              return false;
            start = i + 1;
          }
    }
  if (hostlen == n)
    return true;
  if (s[hostlen] != ':' || hostlen + 1 == n)
    return false;
  for (size_t i = hostlen + 1; i < n; i++)
    if (!isdigit ((unsigned char) s[i]))
      return false;
  return true;
}

/* path-component with separators [._] | __ | [-]+ between alnum runs. */
static bool
valid_path_component (const char *s, size_t n)
{
  size_t i = 0;
  if (n == 0 || !is_lower_alnum (s[0]) || !is_lower_alnum (s[n - 1]))
    return false;
  while (i < n)
    {
      while (i < n && is_lower_alnum (s[i]))
        i++;
      if (i == n)
        break;
      size_t sep = i;
      if (s[i] == '.')
        i++;
      else if (s[i] == '_')
        i += (i + 1 < n && s[i + 1] == '_') ? 2 : 1;
      else if (s[i] == '-')
        while (i < n && s[i] == '-')
          i++;
      else
        return false;
      if (i == sep || i >= n || !is_lower_alnum (s[i]))
        return false;
    }
  return true;
}

static bool
valid_path (const char *s, size_t n)
{
  size_t start = 0;
  if (n == 0)
    return false;
  for (size_t i = 0; i <= n; i++)
    if (i == n || s[i] == '/')
      {
        if (!valid_path_component (s + start, i - start))
          return false;
        start = i + 1;
      }
  return true;
}

static bool
valid_tag (const char *s, size_t n)
{
  if (n == 0 || n > REFERENCE_TAG_MAX)
    return false;
  if (!is_alnum (s[0]) && s[0] != '_')
    return false;
  for (size_t i = 1; i < n; i++)
    if (!is_alnum (s[i]) && s[i] != '_' && s[i] != '.' && s[i] != '-')
      return false;
  return true;
}

/* The digest as the grammar sees it: algorithm ":" hex{32,}. */
static bool
valid_digest_shape (const char *s)
{
  const char *colon = strchr (s, ':');
  if (colon == NULL || colon == s)
    return false;
  /* algorithm-component := [A-Za-z][A-Za-z0-9]*, joined by [-_+.] */
  bool want_alpha = true;
  for (const char *p = s; p < colon; p++)
    {
      if (want_alpha)
        {
          if (!isalpha ((unsigned char) *p))
            return false;
          want_alpha = false;
        }
      else if (*p == '-' || *p == '_' || *p == '+' || *p == '.')
        want_alpha = true;
      else if (!is_alnum (*p))
        return false;
    }
  if (want_alpha)
    return false;
  size_t hex = strlen (colon + 1);
  if (hex < 32)
    return false;
  for (const char *p = colon + 1; *p; p++)
    if (!isxdigit ((unsigned char) *p))
      return false;
  return true;
}

bool
image_reference_is_digest (const char *s)
{
  if (strncmp (s, "sha256:", 7) != 0 || strlen (s) != 7 + 64)
    return false;
  for (const char *p = s + 7; *p; p++)
    if (!is_hex_lower (*p))
      return false;
  return true;
}

bool
image_reference_is_hex_id (const char *s)
{
  if (strncmp (s, "sha256:", 7) == 0)
    s += 7;
  if (*s == '\0' || strlen (s) > 64)
    return false;
  for (; *s; s++)
    if (!is_hex_lower (*s))
      return false;
  return true;
}

/* The checks of digest.Parse, in its order, with its messages. */
static int
check_digest (const char *d, polis_error **err)
{
  const char *colon = strchr (d, ':');
  size_t alg = (size_t) (colon - d);
  if (!(alg == 6 && strncmp (d, "sha256", 6) == 0))
    {
      if ((alg == 6 && strncmp (d, "sha384", 6) == 0)
          || (alg == 6 && strncmp (d, "sha512", 6) == 0))
        return error_set (err, ERROR_INVALID, EINVAL,
                          "unsupported digest algorithm");
      return error_set (err, ERROR_INVALID, EINVAL,
                        "unsupported digest algorithm");
    }
  if (strlen (colon + 1) != 64)
    return error_set (err, ERROR_INVALID, EINVAL,
                      "invalid checksum digest length");
  if (!image_reference_is_digest (d))
    return error_set (err, ERROR_INVALID, EINVAL,
                      "invalid checksum digest format");
  return 0;
}

/* Does the whole of S match the reference grammar?  On success fills the
   parts (heap). */
static bool
reference_match (const char *s, image_reference *out)
{
  cleanup_free char *rest = NULL;
  const char *at = strchr (s, '@');
  const char *digest = NULL;

  if (at)
    {
      digest = at + 1;
      if (strchr (digest, '@') || !valid_digest_shape (digest))
        return false;
      rest = xstrndup (s, (size_t) (at - s));
    }
  else
    rest = xstrdup (s);

  const char *tag = NULL;
  char *slash = strrchr (rest, '/');
  char *colon = strrchr (rest, ':');
  if (colon && (slash == NULL || colon > slash))
    {
      *colon = '\0';
      tag = colon + 1;
      if (!valid_tag (tag, strlen (tag)))
        return false;
    }

  /* The optional domain: the first component, when it is one. */
  const char *name = rest;
  const char *first_slash = strchr (name, '/');
  cleanup_free char *domain = NULL;
  const char *path = name;
  if (first_slash && valid_domain (name, (size_t) (first_slash - name))
      && valid_path (first_slash + 1, strlen (first_slash + 1)))
    {
      domain = xstrndup (name, (size_t) (first_slash - name));
      path = first_slash + 1;
    }
  else if (!valid_path (name, strlen (name)))
    return false;

  if (out)
    {
      out->domain = steal_pointer (&domain);
      out->path = xstrdup (path);
      out->tag = tag ? xstrdup (tag) : NULL;
      out->digest = digest ? xstrdup (digest) : NULL;
    }
  return true;
}

static image_reference *
reference_parse (const char *s, bool add_latest, polis_error **err)
{
  size_t len = strlen (s);
  if (len > REFERENCE_INPUT_MAX)
    {
      error_set (err, ERROR_INVALID, EINVAL, "invalid reference format");
      return NULL;
    }
  if (len == 64)
    {
      bool hex = true;
      for (size_t i = 0; i < len && hex; i++)
        hex = is_hex_lower (s[i]);
      if (hex)
        {
          error_set (err, ERROR_INVALID, EINVAL,
                     "invalid repository name (%s), cannot specify 64-byte "
                     "hexadecimal strings",
                     s);
          return NULL;
        }
    }

  /* splitDockerDomain */
  cleanup_free char *domain = NULL;
  cleanup_free char *remainder = NULL;
  const char *slash = strchr (s, '/');
  bool first_is_domain = false;
  if (slash)
    {
      size_t n = (size_t) (slash - s);
      bool has_dot_colon = memchr (s, '.', n) || memchr (s, ':', n);
      bool is_localhost = n == 9 && strncmp (s, "localhost", 9) == 0;
      bool has_upper = false;
      for (size_t i = 0; i < n; i++)
        has_upper |= isupper ((unsigned char) s[i]) != 0;
      first_is_domain = has_dot_colon || is_localhost || has_upper;
    }
  if (first_is_domain)
    {
      domain = xstrndup (s, (size_t) (slash - s));
      remainder = xstrdup (slash + 1);
    }
  else
    {
      domain = xstrdup (REFERENCE_DEFAULT_DOMAIN);
      remainder = xstrdup (s);
    }
  if (strcmp (domain, REFERENCE_LEGACY_DOMAIN) == 0)
    {
      free (domain);
      domain = xstrdup (REFERENCE_DEFAULT_DOMAIN);
    }
  if (strcmp (domain, REFERENCE_DEFAULT_DOMAIN) == 0
      && strchr (remainder, '/') == NULL)
    {
      char *r = xasprintf (REFERENCE_OFFICIAL_PREFIX "%s", remainder);
      free (remainder);
      remainder = r;
    }

  cleanup_free char *remote = xstrndup (remainder, strcspn (remainder, ":"));
  for (char *p = remote; *p; p++)
    if (isupper ((unsigned char) *p))
      {
        error_set (err, ERROR_INVALID, EINVAL,
                   "invalid reference format: repository name (%s) must be "
                   "lowercase",
                   remote);
        return NULL;
      }

  /* reference.Parse (domain + "/" + remainder) */
  cleanup_free char *full = xasprintf ("%s/%s", domain, remainder);
  image_reference tmp = { 0 };
  if (*remainder == '\0' && *s == '\0')
    {
      error_set (err, ERROR_INVALID, EINVAL,
                 "repository name must have at least one component");
      return NULL;
    }
  if (!reference_match (full, &tmp))
    {
      cleanup_free char *lower = xstrdup (full);
      for (char *p = lower; *p; p++)
        *p = (char) tolower ((unsigned char) *p);
      if (reference_match (lower, NULL))
        error_set (err, ERROR_INVALID, EINVAL,
                   "invalid reference format: repository name must be "
                   "lowercase");
      else
        error_set (err, ERROR_INVALID, EINVAL, "invalid reference format");
      return NULL;
    }
  image_reference *r = xzalloc (sizeof *r);
  *r = tmp;
  if (r->domain == NULL)
    {
      /* The grammar read no domain (e.g. "docker.io" was not one); keep
         the one splitDockerDomain chose. */
      free (r->path);
      r->domain = xstrdup (domain);
      r->path = xstrdup (remainder);
      char *cut = strpbrk (r->path, ":@");
      if (cut)
        *cut = '\0';
    }
  size_t namelen = strlen (r->domain) + 1 + strlen (r->path);
  if (namelen > REFERENCE_NAME_MAX)
    {
      image_reference_free (r);
      error_set (err, ERROR_INVALID, EINVAL,
                 "repository name must not be more than 255 characters");
      return NULL;
    }
  if (r->digest && check_digest (r->digest, err) < 0)
    {
      image_reference_free (r);
      return NULL;
    }
  if (add_latest && r->tag == NULL && r->digest == NULL)
    r->tag = xstrdup (REFERENCE_DEFAULT_TAG);
  return r;
}

image_reference *
image_reference_parse (const char *s, polis_error **err)
{
  return reference_parse (s, true, err);
}

image_reference *
image_reference_parse_name (const char *s, polis_error **err)
{
  return reference_parse (s, false, err);
}

void
image_reference_free (image_reference *r)
{
  if (r == NULL)
    return;
  free (r->domain);
  free (r->path);
  free (r->tag);
  free (r->digest);
  free (r);
}

void
image_reference_cleanup (image_reference **r)
{
  image_reference_free (*r);
  *r = NULL;
}

char *
image_reference_repository (const image_reference *r)
{
  return xasprintf ("%s/%s", r->domain, r->path);
}

char *
image_reference_string (const image_reference *r)
{
  return xasprintf ("%s/%s%s%s%s%s", r->domain, r->path, r->tag ? ":" : "",
                    r->tag ? r->tag : "", r->digest ? "@" : "",
                    r->digest ? r->digest : "");
}

char *
image_reference_familiarize (const char *canonical)
{
  const char *p = canonical;
  if (strncmp (p, REFERENCE_DEFAULT_DOMAIN "/", 10) == 0)
    {
      p += 10;
      if (strncmp (p, REFERENCE_OFFICIAL_PREFIX, 8) == 0)
        {
          const char *rest = p + 8;
          size_t n = strcspn (rest, ":@");
          if (memchr (rest, '/', n) == NULL)
            p = rest;
        }
    }
  return xstrdup (p);
}

char *
image_reference_familiar (const image_reference *r)
{
  cleanup_free char *full = image_reference_string (r);
  return image_reference_familiarize (full);
}

const char *
image_reference_api_host (const char *domain)
{
  if (strcmp (domain, REFERENCE_DEFAULT_DOMAIN) == 0)
    return "registry-1.docker.io";
  return domain;
}
