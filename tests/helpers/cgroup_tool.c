/* polis-cgroup-tool: drive the cgroup library on a polis-runtime container,
 * for integration tests of what the command line does not reach yet.
 *
 *   polis-cgroup-tool ROOT ID update JSON   cgroup_update with JSON (a
 *                                           linux.resources object)
 *   polis-cgroup-tool ROOT ID stats         print cgroup_stats
 *   polis-cgroup-tool ROOT ID oom-kills     print cgroup_oom_kills
 *   polis-cgroup-tool ROOT ID freeze 1|0    cgroup_freeze
 *
 * Errors go to stderr as "polis-cgroup-tool: MESSAGE", exit status 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/pjson.h"
#include "runtime/cgroup.h"
#include "runtime/state.h"

static int
fail (polis_error *err)
{
  int status = err ? 1 : 2;
  fprintf (stderr, "polis-cgroup-tool: %s\n",
           err ? err->msg : "usage: ROOT ID update|stats|oom-kills|freeze [ARG]");
  error_free (&err);
  return status;
}

int
main (int argc, char **argv)
{
  polis_error *err = NULL;
  if (argc < 4)
    return fail (NULL);
  const char *cmd = argv[3];
  cleanup_close int rootfd = state_root_open (argv[1], false, &err);
  if (rootfd < 0)
    return fail (err);
  cleanup_close int dirfd = state_dir_open (rootfd, argv[2], false, &err);
  if (dirfd < 0)
    return fail (err);
  cleanup_state container_state *st = state_load (dirfd, &err);
  if (st == NULL)
    return fail (err);
  if (st->cg == NULL)
    {
      error_set (&err, ERROR_INVALID, 0, "container %s has no cgroup", argv[2]);
      return fail (err);
    }

  if (strcmp (cmd, "update") == 0 && argc == 5)
    {
      cleanup_json json_t *res = pjson_parse (argv[4], strlen (argv[4]), "resources", &err);
      if (res == NULL || cgroup_update (st->cg, res, &err) < 0)
        return fail (err);
      return 0;
    }
  if (strcmp (cmd, "stats") == 0)
    {
      cleanup_json json_t *stats = cgroup_stats (st->cg, &err);
      if (stats == NULL)
        return fail (err);
      cleanup_free char *s = pjson_dump (stats);
      printf ("%s\n", s);
      return 0;
    }
  if (strcmp (cmd, "oom-kills") == 0)
    {
      printf ("%lld\n", cgroup_oom_kills (st->cg));
      return 0;
    }
  if (strcmp (cmd, "freeze") == 0 && argc == 5)
    {
      if (cgroup_freeze (st->cg, strcmp (argv[4], "1") == 0, &err) < 0)
        return fail (err);
      printf ("%s\n", cgroup_is_frozen (st->cg) ? "frozen" : "thawed");
      return 0;
    }
  return fail (NULL);
}
