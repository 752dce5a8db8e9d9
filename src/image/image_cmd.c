/* image_cmd.c - the polis-image command line.
 *
 *   polis-image [--root DIR] COMMAND [flags] ARGS
 *
 * Flags may come anywhere; each command uses those that apply to it.
 * Results go to stdout, errors to stderr with exit status 1 (125 for usage
 * errors, as docker).
 */
#include "image_cmd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "archive.h"
#include "base/cleanup.h"
#include "base/file.h"
#include "base/log.h"
#include "base/opts.h"
#include "base/pjson.h"
#include "base/strv.h"
#include "base/xalloc.h"
#include "image_import.h"
#include "image_inspect.h"
#include "image_mount.h"
#include "image_store.h"
#include "polis-config.h"
#include "progress.h"
#include "pull.h"
#include "push.h"
#include "reference.h"

#define IMAGE_CMD_DEFAULT_ROOT "/var/lib/polis"

typedef struct
{
  const char *root;
  bool debug, help, version, quiet, force, all, legacy_mount, no_trunc,
      digests;
  const char *platform, *parallel, *progress, *creds, *output, *input,
      *format, *name, *message, *stall;
  char **insecure, **mirrors, **changes;
} image_cmd_flags;

static void
flags_free (image_cmd_flags *f)
{
  cleanup_strv_fn (&f->insecure);
  cleanup_strv_fn (&f->mirrors);
  cleanup_strv_fn (&f->changes);
}

static progress_mode
progress_mode_of (const image_cmd_flags *f)
{
  if (f->quiet)
    return PROGRESS_NONE;
  const char *m = f->progress ? f->progress : "auto";
  if (strcmp (m, "json") == 0)
    return PROGRESS_JSON;
  if (strcmp (m, "plain") == 0)
    return PROGRESS_PLAIN;
  if (strcmp (m, "none") == 0 || strcmp (m, "quiet") == 0)
    return PROGRESS_NONE;
  if (strcmp (m, "tty") == 0)
    return PROGRESS_TTY;
  return isatty (STDOUT_FILENO) ? PROGRESS_TTY : PROGRESS_PLAIN;
}

static registry_opts
registry_opts_of (const image_cmd_flags *f)
{
  registry_opts r = { .insecure = f->insecure, .mirrors = f->mirrors,
                      .creds = f->creds, .debug = f->debug };
  if (f->stall)
    r.stall_timeout = atol (f->stall);
  return r;
}

static int
need_args (const char *cmd, char **pos, size_t min, size_t max,
           polis_error **err)
{
  size_t n = strv_length (pos);
  if (n < min || n > max)
    return error_set (err, ERROR_INVALID, EINVAL,
                      "\"polis-image %s\" requires %s%zu argument%s", cmd,
                      min == max ? "exactly " : "at least ", min,
                      min == 1 ? "" : "s");
  return 0;
}

static int
cmd_pull (image_store *s, image_cmd_flags *f, char **pos, polis_error **err)
{
  if (need_args ("pull", pos, 1, 1, err) < 0)
    return -1;
  progress *p = progress_new (progress_mode_of (f), stdout);
  pull_opts o = { .reg = registry_opts_of (f), .platform = f->platform,
                  .parallel = f->parallel ? atoi (f->parallel) : 0,
                  .progress = p };
  cleanup_free char *id = NULL;
  int ret = pull_image (s, pos[0], &o, &id, err);
  if (ret < 0)
    progress_error (p, (*err)->msg);
  progress_free (p);
  if (ret == 0 && f->quiet)
    {
      cleanup_reference image_reference *r = image_reference_parse (pos[0], NULL);
      cleanup_free char *full = r ? image_reference_string (r) : xstrdup (pos[0]);
      printf ("%s\n", full);
    }
  return ret;
}

static int
cmd_push (image_store *s, image_cmd_flags *f, char **pos, polis_error **err)
{
  if (need_args ("push", pos, 1, 1, err) < 0)
    return -1;
  progress *p = progress_new (progress_mode_of (f), stdout);
  push_opts o = { .reg = registry_opts_of (f), .progress = p };
  int ret = push_image (s, pos[0], &o, err);
  if (ret < 0)
    progress_error (p, (*err)->msg);
  progress_free (p);
  return ret;
}

static void
age_string (long long created, char *buf, size_t len)
{
  long long d = (long long) time (NULL) - created;
  if (created <= 0)
    snprintf (buf, len, "N/A");
  else if (d < 60)
    snprintf (buf, len, "%lld seconds ago", d < 1 ? 1 : d);
  else if (d < 3600)
    snprintf (buf, len, "%lld minutes ago", d / 60);
  else if (d < 86400 * 2)
    snprintf (buf, len, "%lld hours ago", d / 3600);
  else if (d < 86400 * 14)
    snprintf (buf, len, "%lld days ago", d / 86400);
  else if (d < 86400 * 60)
    snprintf (buf, len, "%lld weeks ago", d / 86400 / 7);
  else if (d < 86400 * 365 * 2)
    snprintf (buf, len, "%lld months ago", d / 86400 / 30);
  else
    snprintf (buf, len, "%lld years ago", d / 86400 / 365);
}

/* The digest reference of REPO (canonical) among the image's names, as
   `docker images --digests` shows it, or "<none>". */
static const char *
repo_digest (const image_record *r, const char *repo)
{
  size_t n = strlen (repo);
  for (char **p = r->names; p && *p; p++)
    if (strncmp (*p, repo, n) == 0 && (*p)[n] == '@')
      return *p + n + 1;
  return "<none>";
}

static void
print_row (image_cmd_flags *f, const image_record *r, const char *repo,
           const char *tag, const char *digest)
{
  char created[64], size[32];
  long long t = image_inspect_parse_time (r->created);
  if (f->quiet)
    {
      printf ("%.12s\n", r->id + 7);
      return;
    }
  if (f->format && strcmp (f->format, "json") == 0)
    {
      json_t *j = json_pack ("{s:s, s:s, s:s, s:s, s:I, s:s}", "Repository",
                             repo, "Tag", tag, "ID", r->id, "Digest",
                             r->manifest_digest, "Size", (json_int_t) r->size,
                             "CreatedAt", r->created ? r->created : "");
      cleanup_free char *s = pjson_dump (j);
      json_decref (j);
      printf ("%s\n", s);
      return;
    }
  age_string (t, created, sizeof created);
  progress_human_size ((uint64_t) r->size, size, sizeof size);
  if (f->digests)
    printf ("%-40s %-16s %-71s %-14.12s %-18s %s\n", repo, tag, digest,
            r->id + 7, created, size);
  else
    printf ("%-40s %-16s %-14.12s %-18s %s\n", repo, tag, r->id + 7,
            created, size);
}

static int
cmd_ls (image_store *s, image_cmd_flags *f, char **pos, polis_error **err)
{
  if (need_args ("ls", pos, 0, 1, err) < 0)
    return -1;
  cleanup_free char *filter = NULL;
  if (pos[0])
    {
      cleanup_reference image_reference *r = image_reference_parse_name (pos[0], err);
      if (r == NULL)
        return -1;
      filter = image_reference_repository (r);
    }
  cleanup_image_record_list image_record **list = image_db_list (s->db, err);
  if (list == NULL)
    return -1;
  if (!f->quiet && !f->format && f->digests)
    printf ("%-40s %-16s %-71s %-14s %-18s %s\n", "REPOSITORY", "TAG",
            "DIGEST", "IMAGE ID", "CREATED", "SIZE");
  else if (!f->quiet && !f->format)
    printf ("%-40s %-16s %-14s %-18s %s\n", "REPOSITORY", "TAG", "IMAGE ID",
            "CREATED", "SIZE");
  for (image_record **p = list; *p; p++)
    {
      bool shown = false;
      for (char **n = (*p)->names; n && *n; n++)
        {
          char *at = strchr (*n, '@');
          cleanup_free char *full = xstrndup (*n, at ? (size_t) (at - *n)
                                                     : (size_t) (strrchr (*n, ':') - *n));
          if (filter && strcmp (full, filter) != 0)
            continue;
          cleanup_free char *fam = image_reference_familiarize (*n);
          if (at)
            {
              /* A repository known only by digest: shown with
                 --digests, as docker does. */
              bool tagged = false;
              size_t len = strlen (full);
              for (char **o = (*p)->names; o && *o; o++)
                tagged |= strncmp (*o, full, len) == 0 && (*o)[len] == ':';
              if (!f->digests || tagged || f->quiet)
                continue;
              *strchr (fam, '@') = '\0';
              print_row (f, *p, fam, "<none>", at + 1);
              shown = true;
              continue;
            }
          *strrchr (fam, ':') = '\0';
          print_row (f, *p, fam, strrchr (*n, ':') + 1,
                     repo_digest (*p, full));
          shown = true;
          if (f->quiet)
            break;
        }
      if (!shown && !filter)
        print_row (f, *p, "<none>", "<none>", "<none>");
    }
  return 0;
}

static int
cmd_rm (image_store *s, image_cmd_flags *f, char **pos, polis_error **err)
{
  if (need_args ("rm", pos, 1, 1000, err) < 0)
    return -1;
  int ret = 0;
  for (char **p = pos; *p; p++)
    {
      cleanup_strv char **report = xzalloc (sizeof (char *));
      polis_error *e = NULL;
      if (image_store_remove (s, *p, f->force, &report, &e) < 0)
        {
          fprintf (stderr, "Error response from daemon: %s\n", e->msg);
          error_free (&e);
          ret = -1;
        }
      for (char **r = report; *r; r++)
        printf ("%s\n", *r);
    }
  if (ret < 0)
    return error_set (err, ERROR_CONFLICT, 0, "%s", "");
  return 0;
}

static int
cmd_prune (image_store *s, image_cmd_flags *f, char **pos, polis_error **err)
{
  if (need_args ("prune", pos, 0, 0, err) < 0)
    return -1;
  cleanup_strv char **report = xzalloc (sizeof (char *));
  if (image_store_prune (s, f->all, &report, err) < 0)
    return -1;
  for (char **r = report; *r; r++)
    printf ("%s\n", *r);
  return 0;
}

static int
cmd_tag (image_store *s, image_cmd_flags *f, char **pos, polis_error **err)
{
  (void) f;
  if (need_args ("tag", pos, 2, 2, err) < 0)
    return -1;
  return image_store_tag (s, pos[0], pos[1], err);
}

static int
cmd_inspect (image_store *s, image_cmd_flags *f, char **pos, polis_error **err)
{
  (void) f;
  if (need_args ("inspect", pos, 1, 1000, err) < 0)
    return -1;
  cleanup_json json_t *arr = json_array ();
  int ret = 0;
  for (char **p = pos; *p; p++)
    {
      polis_error *e = NULL;
      cleanup_free char *id = image_store_resolve (s, *p, &e);
      json_t *o = id ? image_inspect_json (s, id, &e) : NULL;
      if (o == NULL)
        {
          fprintf (stderr, "Error: %s\n", e->msg);
          error_free (&e);
          ret = -1;
          continue;
        }
      json_array_append_new (arr, o);
    }
  char *out = json_dumps (arr, JSON_INDENT (4));
  printf ("%s\n", out);
  free (out);
  if (ret < 0)
    return error_set (err, ERROR_NOT_FOUND, 0, "%s", "");
  return 0;
}

static int
cmd_history (image_store *s, image_cmd_flags *f, char **pos, polis_error **err)
{
  if (need_args ("history", pos, 1, 1, err) < 0)
    return -1;
  cleanup_free char *id = image_store_resolve (s, pos[0], err);
  if (id == NULL)
    return -1;
  cleanup_json json_t *h = image_inspect_history (s, id, err);
  if (h == NULL)
    return -1;
  if (f->format && strcmp (f->format, "json") == 0)
    {
      char *out = json_dumps (h, JSON_INDENT (4));
      printf ("%s\n", out);
      free (out);
      return 0;
    }
  printf ("%-14s %-18s %-45s %-10s %s\n", "IMAGE", "CREATED", "CREATED BY",
          "SIZE", "COMMENT");
  size_t i;
  json_t *e;
  json_array_foreach (h, i, e)
  {
    const char *hid = json_string_value (json_object_get (e, "Id"));
    char created[64], size[32];
    age_string ((long long) json_integer_value (json_object_get (e, "Created")),
                created, sizeof created);
    progress_human_size ((uint64_t) json_integer_value (json_object_get (e, "Size")),
                         size, sizeof size);
    const char *by = json_string_value (json_object_get (e, "CreatedBy"));
    printf ("%-14.12s %-18s %-45.45s %-10s %s\n",
            strncmp (hid, "sha256:", 7) == 0 ? hid + 7 : hid, created,
            by ? by : "", size,
            json_string_value (json_object_get (e, "Comment")));
  }
  return 0;
}

static int
cmd_save (image_store *s, image_cmd_flags *f, char **pos, polis_error **err)
{
  if (need_args ("save", pos, 1, 1000, err) < 0)
    return -1;
  cleanup_close int fd = -1;
  if (f->output)
    {
      fd = open (f->output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (fd < 0)
        return error_sys (err, "open `%s`", f->output);
    }
  else if (isatty (STDOUT_FILENO))
    return error_set (err, ERROR_INVALID, EINVAL,
                      "cowardly refusing to save to a terminal. Use the -o "
                      "flag or redirect");
  return archive_save (s, pos, fd >= 0 ? fd : STDOUT_FILENO, err);
}

static int
cmd_load (image_store *s, image_cmd_flags *f, char **pos, polis_error **err)
{
  if (need_args ("load", pos, 0, 0, err) < 0)
    return -1;
  cleanup_close int fd = -1;
  if (f->input)
    {
      fd = open (f->input, O_RDONLY | O_CLOEXEC);
      if (fd < 0)
        return error_sys (err, "open `%s`", f->input);
    }
  cleanup_strv char **loaded = NULL;
  if (archive_load (s, fd >= 0 ? fd : STDIN_FILENO, &loaded, err) < 0)
    return -1;
  for (char **l = loaded; l && *l; l++)
    printf ("%s\n", *l);
  return 0;
}

static int
cmd_import (image_store *s, image_cmd_flags *f, char **pos, polis_error **err)
{
  if (need_args ("import", pos, 1, 2, err) < 0)
    return -1;
  cleanup_close int fd = -1;
  if (strcmp (pos[0], "-") != 0)
    {
      fd = open (pos[0], O_RDONLY | O_CLOEXEC);
      if (fd < 0)
        return error_sys (err, "open `%s`", pos[0]);
    }
  image_import_opts o = { .name = pos[1], .message = f->message,
                          .changes = f->changes, .platform = f->platform };
  cleanup_free char *id = NULL;
  if (image_import (s, fd >= 0 ? fd : STDIN_FILENO, &o, &id, err) < 0)
    return -1;
  printf ("%s\n", id);
  return 0;
}

/* polis-image mount [--name NAME] IMAGE TARGET: a container-style root. */
static int
cmd_mount (image_store *s, image_cmd_flags *f, char **pos, polis_error **err)
{
  if (need_args ("mount", pos, 2, 2, err) < 0)
    return -1;
  cleanup_free char *id = image_store_resolve (s, pos[0], err);
  if (id == NULL)
    return -1;
  char gen[32];
  snprintf (gen, sizeof gen, "mount-%d-%ld", (int) getpid (), (long) time (NULL));
  const char *name = f->name ? f->name : gen;
  if (strchr (name, '/') || strcmp (name, "..") == 0 || strcmp (name, ".") == 0)
    return error_set (err, ERROR_INVALID, EINVAL, "invalid name `%s`", name);
  cleanup_free char *dir = xasprintf ("%s/containers/%s", s->root, name);
  cleanup_free char *upper = xasprintf ("%s/upper", dir);
  cleanup_free char *work = xasprintf ("%s/work", dir);
  if (file_mkdir_p (upper, 0755, err) < 0 || file_mkdir_p (work, 0700, err) < 0)
    return -1;
  image_mount_force_legacy (f->legacy_mount);
  if (image_mount_overlay (s, id, upper, work, pos[1], err) < 0)
    return -1;
  cleanup_close int dfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0 || file_write_atomic_at (dfd, "target", pos[1], strlen (pos[1]),
                                       0600, false, err)
                     < 0)
    {
      umount2 (pos[1], MNT_DETACH);
      return dfd < 0 ? error_sys (err, "open `%s`", dir) : -1;
    }
  if (image_db_hold (s->db, id, name, err) < 0)
    return -1;
  printf ("%s\n", name);
  return 0;
}

/* polis-image unpack IMAGE...: the snapshots a crash dropped (see
   image_store.h), unpacked again from their blobs now rather than at the
   next mount.  polisd runs it for the images it mounts. */
static int
cmd_unpack (image_store *s, image_cmd_flags *f, char **pos, polis_error **err)
{
  (void) f;
  if (need_args ("unpack", pos, 1, SIZE_MAX, err) < 0)
    return -1;
  for (char **p = pos; *p; p++)
    {
      cleanup_free char *id = image_store_resolve (s, *p, err);
      if (id == NULL || pull_restore_image (s, id, NULL, err) < 0)
        return -1;
    }
  return 0;
}

/* polis-image umount NAME: unmount, drop the upper layer, release. */
static int
cmd_umount (image_store *s, image_cmd_flags *f, char **pos, polis_error **err)
{
  (void) f;
  if (need_args ("umount", pos, 1, 1, err) < 0)
    return -1;
  if (strchr (pos[0], '/'))
    return error_set (err, ERROR_INVALID, EINVAL, "invalid name `%s`", pos[0]);
  cleanup_free char *dir = xasprintf ("%s/containers/%s", s->root, pos[0]);
  cleanup_free char *tfile = xasprintf ("%s/target", dir);
  cleanup_free char *target = file_read_at (AT_FDCWD, tfile, 4096, NULL, err);
  if (target == NULL)
    return -1;
  if (umount2 (target, MNT_DETACH) < 0 && errno != EINVAL)
    return error_sys (err, "umount `%s`", target);
  if (file_remove_tree_at (AT_FDCWD, dir, err) < 0)
    return -1;
  return image_db_release (s->db, pos[0], err);
}

static void
usage (FILE *out)
{
  fprintf (out,
           "Usage: polis-image [--root DIR] COMMAND [flags] ARGS\n\n"
           "Commands:\n"
           "  pull IMAGE          [--platform os/arch[/variant]] [--parallel N] [-q]\n"
           "  push IMAGE\n"
           "  ls [REPOSITORY]     [-q] [--digests] [--format json]\n"
           "  rm IMAGE...         [-f]\n"
           "  tag SOURCE TARGET\n"
           "  inspect IMAGE...\n"
           "  history IMAGE       [--format json]\n"
           "  save IMAGE...       [-o FILE]   (docker save + OCI layout tar)\n"
           "  load                [-i FILE]\n"
           "  import FILE|- [REPOSITORY[:TAG]] [-m MESSAGE] [-c CHANGE]\n"
           "  mount IMAGE TARGET  [--name NAME]\n"
           "  umount NAME\n"
           "  unpack IMAGE...     (snapshots a crash dropped, from the blobs)\n"
           "  prune               [-a]\n\n"
           "Registry flags: --insecure-registry HOST, --registry-mirror URL,\n"
           "  --creds USER:PASSWORD (else ~/.docker/config.json)\n"
           "Progress: --progress auto|tty|plain|json|none\n");
}

int
image_cmd_main (int argc, char **argv)
{
  image_cmd_flags f = { .root = IMAGE_CMD_DEFAULT_ROOT };
  cleanup_error polis_error *err = NULL;
  cleanup_strv char **pos = NULL;
  opt_def defs[] = {
    { "root", 0, OPT_STRING, &f.root, "image store root" },
    { "debug", 'D', OPT_BOOL, &f.debug, "debug logs" },
    { "help", 'h', OPT_BOOL, &f.help, "show help" },
    { "version", 'v', OPT_BOOL, &f.version, "print the version" },
    { "quiet", 'q', OPT_BOOL, &f.quiet, "only IDs / names" },
    { "force", 'f', OPT_BOOL, &f.force, "force removal" },
    { "all", 'a', OPT_BOOL, &f.all, "all" },
    { "no-trunc", 0, OPT_BOOL, &f.no_trunc, "do not truncate" },
    { "digests", 0, OPT_BOOL, &f.digests, "ls: show digests" },
    { "platform", 0, OPT_STRING, &f.platform, "os/arch[/variant]" },
    { "parallel", 0, OPT_STRING, &f.parallel, "parallel layer downloads" },
    { "progress", 0, OPT_STRING, &f.progress, "auto|tty|plain|json|none" },
    { "creds", 0, OPT_STRING, &f.creds, "user:password" },
    { "insecure-registry", 0, OPT_STRV, &f.insecure, "plain HTTP registry" },
    { "registry-mirror", 0, OPT_STRV, &f.mirrors, "Docker Hub mirror URL" },
    { "output", 'o', OPT_STRING, &f.output, "save: output file" },
    { "input", 'i', OPT_STRING, &f.input, "load: input file" },
    { "format", 0, OPT_STRING, &f.format, "json" },
    { "name", 0, OPT_STRING, &f.name, "mount: name of the writable layer" },
    { "message", 'm', OPT_STRING, &f.message, "import: commit message" },
    { "change", 'c', OPT_STRV, &f.changes, "import: Dockerfile instruction" },
    { "stall-timeout", 0, OPT_STRING, &f.stall, "seconds without data" },
    { "legacy-mount", 0, OPT_BOOL, &f.legacy_mount, "mount(2), not lowerdir+" },
    { 0 },
  };
  if (opts_parse (defs, argc - 1, argv + 1, false, &pos, &err) < 0)
    {
      fprintf (stderr, "polis-image: %s\n", err->msg);
      flags_free (&f);
      return 125;
    }
  if (f.version)
    {
      printf ("polis-image version %s, commit %s\n", POLIS_VERSION, POLIS_COMMIT);
      flags_free (&f);
      return 0;
    }
  if (f.help || pos[0] == NULL)
    {
      usage (f.help ? stdout : stderr);
      flags_free (&f);
      return f.help ? 0 : 125;
    }
  log_set_debug (f.debug);
  static const struct
  {
    const char *name;
    int (*fn) (image_store *, image_cmd_flags *, char **, polis_error **);
  } cmds[] = {
    { "pull", cmd_pull },       { "push", cmd_push },
    { "ls", cmd_ls },           { "images", cmd_ls },
    { "list", cmd_ls },         { "rm", cmd_rm },
    { "rmi", cmd_rm },          { "tag", cmd_tag },
    { "inspect", cmd_inspect }, { "history", cmd_history },
    { "save", cmd_save },       { "load", cmd_load },
    { "import", cmd_import },   { "mount", cmd_mount },
    { "umount", cmd_umount },   { "prune", cmd_prune },
    { "unpack", cmd_unpack },
  };
  for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
    {
      if (strcmp (cmds[i].name, pos[0]) != 0)
        continue;
      curl_global_init (CURL_GLOBAL_DEFAULT);
      cleanup_image_store image_store *s = image_store_open (f.root, &err);
      if (s)
        s->restore = pull_restore_image;
      int ret = s ? cmds[i].fn (s, &f, pos + 1, &err) : -1;
      flags_free (&f);
      curl_global_cleanup ();
      if (ret < 0)
        {
          if (err && err->msg && *err->msg)
            fprintf (stderr, "Error: %s\n", err->msg);
          return err && err->cls == ERROR_INVALID && err->code == EINVAL ? 125 : 1;
        }
      return 0;
    }
  fprintf (stderr, "polis-image: unknown command `%s`\n", pos[0]);
  usage (stderr);
  flags_free (&f);
  return 125;
}
