/* router.c - match requests against the route table; print it as docs. */
#include "router.h"

#include <string.h>

/* Does pattern segment P (up to '/' or NUL, length PLEN) equal S? */
static bool
seg_eq (const char *p, size_t plen, const char *s)
{
  return strlen (s) == plen && memcmp (p, s, plen) == 0;
}

/* Split PATTERN ("/images/{name}/json") into at most MAX segments. */
static size_t
pattern_split (const char *pattern, const char **segs, size_t *lens,
               size_t max)
{
  size_t n = 0;
  for (const char *p = pattern; *p && n < max;)
    {
      while (*p == '/')
        p++;
      if (*p == '\0')
        break;
      const char *e = strchr (p, '/');
      size_t len = e ? (size_t) (e - p) : strlen (p);
      segs[n] = p;
      lens[n] = len;
      n++;
      p += len;
    }
  return n;
}

static bool
is_param (const char *p, size_t len)
{
  return len >= 2 && p[0] == '{' && p[len - 1] == '}';
}

static void
join_into (char *out, size_t max, char *const *segs, size_t from, size_t to)
{
  size_t o = 0;
  out[0] = '\0';
  for (size_t i = from; i < to; i++)
    {
      size_t l = strlen (segs[i]);
      if (o + l + 2 > max)
        return;
      if (i > from)
        out[o++] = '/';
      memcpy (out + o, segs[i], l);
      o += l;
      out[o] = '\0';
    }
}

static bool
route_matches (const api_route *r, char *const *segs, size_t n, char *param,
               size_t param_max)
{
  const char *ps[16];
  size_t pl[16];
  size_t m = pattern_split (r->path, ps, pl, 16);
  size_t g = m; /* index of the parameter segment, m when none */
  for (size_t i = 0; i < m; i++)
    if (is_param (ps[i], pl[i]))
      g = i;
  if (!(r->flags & API_ROUTE_GREEDY) || g == m)
    {
      if (m != n)
        return false;
      for (size_t i = 0; i < m; i++)
        if (i != g && !seg_eq (ps[i], pl[i], segs[i]))
          return false;
      if (g < m)
        join_into (param, param_max, segs, g, g + 1);
      return true;
    }
  /* Greedy: literal prefix, then >= 1 segments, then the literal tail. */
  size_t tail = m - g - 1;
  if (n < g + 1 + tail)
    return false;
  for (size_t i = 0; i < g; i++)
    if (!seg_eq (ps[i], pl[i], segs[i]))
      return false;
  for (size_t i = 0; i < tail; i++)
    if (!seg_eq (ps[g + 1 + i], pl[g + 1 + i], segs[n - tail + i]))
      return false;
  join_into (param, param_max, segs, g, n - tail);
  return true;
}

const api_route *
router_match (const char *method, char *const *segments, size_t n,
              char *param, size_t param_max)
{
  /* Exact routes first ("/images/json" is not an image called "json"),
     then the greedy ones, longest tail first: "/images/{name}/json"
     before "/images/{name}". */
  for (int pass = 0; pass < 2; pass++)
    {
      const api_route *best = NULL;
      size_t best_len = 0;
      for (const api_route *r = api_routes; r->method; r++)
        {
          bool greedy = (r->flags & API_ROUTE_GREEDY) != 0;
          if ((pass == 0) == greedy || strcmp (r->method, method) != 0)
            continue;
          char tmp[4096];
          if (!route_matches (r, segments, n, tmp, sizeof tmp))
            continue;
          size_t len = strlen (r->path);
          if (best == NULL || len > best_len)
            {
              best = r;
              best_len = len;
              size_t l = strlen (tmp);
              if (l >= param_max)
                l = param_max - 1;
              memcpy (param, tmp, l);
              param[l] = '\0';
            }
          if (pass == 0)
            return best;
        }
      if (best)
        return best;
    }
  return NULL;
}

static const char *
compat_word (api_compat c)
{
  switch (c)
    {
    case COMPAT_IMPLEMENTED:
      return "implemented";
    case COMPAT_PARTIAL:
      return "partial";
    case COMPAT_MISSING:
    default:
      return "missing";
    }
}

void
router_print_compat (FILE *out)
{
  size_t counts[3] = { 0, 0, 0 };
  for (const api_route *r = api_routes; r->method; r++)
    counts[r->compat]++;
  fprintf (out,
           "# Docker Engine API compatibility\n"
           "\n"
           "Generated from polisd's route table (`src/api/routes.c`) by\n"
           "`polisd --api-compat`; `tests/integration/engine/test_api_compat.py`\n"
           "checks that this file matches the table and that the table has a\n"
           "row for every route of the Docker Engine API v1.51 swagger.\n"
           "\n"
           "polisd speaks API versions " API_VERSION_MIN_STR
           " to " API_VERSION_MAX_STR " (and unversioned paths);\n"
           "`Api-Version: " API_VERSION_MAX_STR "` on every response.\n"
           "\n"
           "Summary: %zu implemented, %zu partial, %zu missing, of %zu routes.\n"
           "\n"
           "| method | path | status | notes |\n"
           "|---|---|---|---|\n",
           counts[0], counts[1], counts[2], counts[0] + counts[1] + counts[2]);
  for (const api_route *r = api_routes; r->method; r++)
    fprintf (out, "| %s | `%s` | %s | %s |\n", r->method, r->path,
             compat_word (r->compat), r->note ? r->note : "");
}
