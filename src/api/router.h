/* router.h - the one route table of polisd's API.
 *
 * Every method + path of the Docker Engine API v1.51 swagger has a row:
 * its handler (NULL when missing), how complete it is, and a note.  The
 * router matches requests against it, and `polisd --api-compat` prints it
 * as docs/api-compat.md (a test checks that file and the swagger against
 * the table).  Paths are the swagger's ("/containers/{id}/json"); image
 * routes capture a {name} that may hold slashes ("ghcr.io/org/app:1"), as
 * Docker's {name:.*}.
 */
#ifndef POLIS_API_ROUTER_H
#define POLIS_API_ROUTER_H

#include <stdbool.h>
#include <stdio.h>

#include "http.h"

typedef enum
{
  COMPAT_IMPLEMENTED,
  COMPAT_PARTIAL,
  COMPAT_MISSING,
} api_compat;

enum
{
  API_ROUTE_GREEDY = 1 << 0,    /* the parameter may span segments */
  API_ROUTE_BODY_FILE = 1 << 1, /* spool the body to a file (tar uploads) */
  API_ROUTE_SWARM = 1 << 2,     /* missing: 503 "not a swarm manager" */
};

struct api_route
{
  const char *method;
  const char *path;
  api_handler handler;
  api_compat compat;
  unsigned flags;
  const char *note;
};

/* The table, terminated by a row with a NULL method. */
extern const api_route api_routes[];

/* Find the route for METHOD and the N path SEGMENTS (without the version
   prefix).  The parameter, if any, is written to PARAM (at most PARAM_MAX
   bytes, joined with "/" for greedy ones).  NULL when nothing matches
   (Docker answers an unknown path and a wrong method alike: 404). */
const api_route *router_match (const char *method, char *const *segments,
                               size_t n, char *param, size_t param_max);

/* docs/api-compat.md, generated from the table. */
void router_print_compat (FILE *out);

#endif
