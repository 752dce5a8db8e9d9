/* cmd_run.c - run, create, start, attach and exec: the commands that
 * make containers and hold their streams.
 *
 * run orders its requests as the docker CLI does (create -> attach ->
 * wait -> start, docker-api-notes §6): the attach comes before the start
 * so no output is lost, and the wait's headers are in before the start so
 * a short-lived (or --rm) container cannot end unseen.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/file.h"
#include "base/pjson.h"
#include "base/xalloc.h"
#include "cli/cli.h"
#include "cli/container_opts.h"
#include "cli/stream.h"

/* docker's toStatusError: what a failed start means as an exit code.
   Matched without regard to case (docker matches runc's lowercase words;
   a runtime that says "No such file or directory", strerror's spelling,
   means the same). */
static int
run_status_of_error (const polis_error *err)
{
  const char *m = err && err->msg ? err->msg : "";
  if (strcasestr (m, "executable file not found")
      || strcasestr (m, "no such file or directory"))
    return 127;
  if (strcasestr (m, "permission denied") || strcasestr (m, "is a directory"))
    return 126;
  return 125;
}

static int
run_fail (cli_ctx *ctx, const polis_error *err, int code)
{
  fprintf (stderr, "%s: %s\n\nRun '%s %s --help' for more information\n",
           ctx->prog, err->msg, ctx->prog, ctx->cmd);
  return code;
}

typedef struct
{
  api_client *client;
  const char *id;
  bool exec;
} session;

static void
session_resize (void *ud, int rows, int cols)
{
  session *s = ud;
  cleanup_error polis_error *err = NULL;
  cleanup_free char *path = client_path ("/%s/%s/resize?h=%d&w=%d",
                                         s->exec ? "exec" : "containers",
                                         s->id, rows, cols);
  client_call (s->client, "POST", path, NULL, NULL, &err);
}

static void
session_signal (void *ud, int sig)
{
  session *s = ud;
  cleanup_error polis_error *err = NULL;
  /* docker sends the signal's name ("TERM"). */
  const char *name = sigabbrev_np (sig);
  cleanup_free char *path = name ? client_path ("/containers/%s/kill?signal=%s", s->id, name)
                                 : client_path ("/containers/%s/kill?signal=%d", s->id, sig);
  client_call (s->client, "POST", path, NULL, NULL, &err);
}

/* Create the container, pulling its image when the daemon does not have
   it (or always, with --pull always).  *ID gets the heap id. */
static int
create_container (cli_ctx *ctx, container_opts *o, const char *image,
                  char **args, char **id, polis_error **err)
{
  cleanup_json json_t *body = container_opts_build (o, image, args, err);
  if (body == NULL)
    return -1;
  cleanup_free char *path = xstrdup ("/containers/create");
  if (o->name)
    client_query_add (&path, "name", o->name);
  if (o->platform)
    client_query_add (&path, "platform", o->platform);
  const char *pull = o->pull ? o->pull : "missing";
  if (strcmp (pull, "always") == 0)
    {
      if (cli_pull_image (ctx, image, o->platform, false, stderr, err) < 0)
        return -1;
    }
  else if (strcmp (pull, "missing") != 0 && strcmp (pull, "never") != 0)
    return error_set (err, ERROR_INVALID, EINVAL,
                      "invalid pull option: '%s': must be one of \"always\", "
                      "\"missing\" or \"never\"",
                      pull);
  cleanup_json json_t *resp = NULL;
  cleanup_error polis_error *cerr = NULL;
  int r = client_call (ctx->client, "POST", path, body, &resp, &cerr);
  if (r < 0 && cerr->cls == ERROR_NOT_FOUND && strcmp (pull, "never") != 0
      && strstr (cerr->msg, "No such container") == NULL)
    {
      cleanup_free char *name = NULL, *tag = NULL;
      cli_split_reference (image, &name, &tag);
      const char *fam = strncmp (name, "docker.io/library/", 18) == 0 ? name + 18
                        : strncmp (name, "docker.io/", 10) == 0     ? name + 10
                                                                    : name;
      fprintf (stderr, "Unable to find image '%s%s%s' locally\n", fam,
               tag[0] == 's' && strncmp (tag, "sha256:", 7) == 0 ? "@" : ":",
               tag);
      if (cli_pull_image (ctx, image, o->platform, false, stderr, err) < 0)
        return -1;
      error_free (&cerr);
      r = client_call (ctx->client, "POST", path, body, &resp, &cerr);
    }
  if (r < 0)
    {
      *err = steal_pointer (&cerr);
      return -1;
    }
  const char *cid = resp ? json_string_value (json_object_get (resp, "Id")) : NULL;
  if (cid == NULL)
    return error_set (err, ERROR_INTERNAL, 0, "the daemon sent no container id");
  json_t *warnings = json_object_get (resp, "Warnings");
  for (size_t i = 0; i < json_array_size (warnings); i++)
    fprintf (stderr, "WARNING: %s\n", json_string_value (json_array_get (warnings, i)));
  if (o->cidfile)
    {
      cleanup_close int fd = open (o->cidfile, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
      if (fd < 0)
        return error_sys (err, "container ID file found, make sure the other "
                               "container isn't running or delete %s",
                          o->cidfile);
      if (file_write_all (fd, cid, strlen (cid), err) < 0)
        return -1;
    }
  *id = xstrdup (cid);
  return 0;
}

/* The exit status from a wait response body. */
static int
read_wait_result (http_conn *wait, polis_error **err)
{
  cleanup_free char *text = http_conn_read_all (wait, 1024 * 1024, NULL, err);
  if (text == NULL)
    return -1;
  cleanup_json json_t *j = json_loads (text, 0, NULL);
  if (j == NULL)
    return error_set (err, ERROR_INTERNAL, 0, "bad wait response: %s", text);
  json_t *e = json_object_get (j, "Error");
  const char *m = e ? json_string_value (json_object_get (e, "Message")) : NULL;
  if (m && *m)
    return error_set (err, ERROR_INTERNAL, 0, "%s", m);
  return (int) json_integer_value (json_object_get (j, "StatusCode"));
}

static char *
attach_path (const char *id, bool in, bool out, bool errs, const char *keys)
{
  cleanup_free char *p = client_path ("/containers/%s/attach?", id);
  char *full = NULL;
  if (keys)
    {
      cleanup_free char *esc = http_query_escape (keys);
      full = xasprintf ("%sdetachKeys=%s&", p, esc);
    }
  else
    full = xstrdup (p);
  char *r = xasprintf ("%s%s%s%s%sstream=1", full, errs ? "stderr=1&" : "",
                       in ? "stdin=1&" : "", out ? "stdout=1&" : "", "");
  free (full);
  return r;
}

/* Pump a session's streams with the terminal set up as docker does. */
static int
session_pump (api_client *client, http_conn *conn, const char *id, bool exec,
              bool tty, bool in, bool sig_proxy, const char *keys,
              polis_error **err)
{
  session s = { client, id, exec };
  unsigned char seq[16];
  size_t seq_len = 0;
  if (keys && *keys && stream_parse_detach_keys (keys, seq, &seq_len, err) < 0)
    return -1;
  struct termios saved;
  bool raw = false;
  if (tty && in && isatty (STDIN_FILENO))
    raw = stream_raw_mode (STDIN_FILENO, &saved) == 0;
  if (tty)
    {
      int rows, cols;
      if (stream_term_size (STDOUT_FILENO, &rows, &cols)
          || stream_term_size (STDIN_FILENO, &rows, &cols))
        session_resize (&s, rows, cols);
    }
  stream_opts so = {
    .tty = tty,
    .send_stdin = in,
    .detach_keys = tty && in,
    .on_resize = tty ? session_resize : NULL,
    .on_signal = (!tty && sig_proxy && !exec) ? session_signal : NULL,
    .ud = &s,
    .detach_len = seq_len,
  };
  memcpy (so.detach_seq, seq, seq_len);
  int r = stream_pump (conn, &so, err);
  if (raw)
    stream_restore_mode (STDIN_FILENO, &saved);
  return r;
}

static int
run_or_create (cli_ctx *ctx, int argc, char **argv, bool run)
{
  container_opts o = { .sig_proxy = true };
  cleanup_free opt_def *defs = container_opts_defs (&o, run);
  cleanup_strv char **pos = NULL;
  int r = cli_parse (ctx, defs, argc, argv, true, 1, -1, &pos);
  if (r != 0)
    {
      container_opts_clear (&o);
      return r;
    }
  cleanup_error polis_error *err = NULL;
  cleanup_free char *id = NULL;
  const char *conflict = NULL;
  bool plain = false; /* docker prints this one without the "run" wrapping */
  if (o.rm && o.restart && strcmp (o.restart, "no") != 0)
    conflict = "cannot specify both --restart and --rm";
  else if (run && o.detach && o.attach && o.attach[0])
    {
      conflict = "cannot specify both --attach and --detach";
      plain = true;
    }
  if (conflict)
    {
      container_opts_clear (&o);
      if (plain)
        return cli_fail (1, "conflicting options: %s", conflict);
      return cli_fail (125, "%s: conflicting options: %s\n\nRun '%s %s --help' for more information",
                       ctx->prog, conflict, ctx->prog, ctx->cmd);
    }
  r = create_container (ctx, &o, pos[0], pos + 1, &id, &err);
  if (r < 0)
    {
      container_opts_clear (&o);
      return run_fail (ctx, err, 125);
    }
  if (!run)
    {
      printf ("%s\n", id);
      container_opts_clear (&o);
      return 0;
    }

  bool in = o.interactive, out = true, errs = true;
  if (o.attach && o.attach[0])
    {
      in = out = errs = false;
      for (char **a = o.attach; *a; a++)
        {
          in |= strcasecmp (*a, "stdin") == 0;
          out |= strcasecmp (*a, "stdout") == 0;
          errs |= strcasecmp (*a, "stderr") == 0;
        }
    }
  bool tty = o.tty, detach = o.detach, rm = o.rm, sig_proxy = o.sig_proxy;
  cleanup_free char *keys = o.detach_keys ? xstrdup (o.detach_keys) : NULL;
  container_opts_clear (&o);

  if (tty && in && !isatty (STDIN_FILENO))
    return cli_fail (1, "the input device is not a TTY");

  cleanup_http_conn http_conn *attach = NULL;
  cleanup_http_conn http_conn *wait = NULL;
  if (!detach)
    {
      cleanup_free char *ap = attach_path (id, in, out, errs, keys);
      attach = client_hijack (ctx->client, ap, NULL, &err);
      if (attach == NULL)
        return run_fail (ctx, err, 125);
      cleanup_free char *wp = client_path ("/containers/%s/wait?condition=%s",
                                           id, rm ? "removed" : "next-exit");
      wait = client_send (ctx->client, "POST", wp, NULL, NULL, &err);
      if (wait == NULL || client_check (wait, &err) < 0)
        return run_fail (ctx, err, 125);
    }
  cleanup_free char *sp = client_path ("/containers/%s/start", id);
  r = client_call (ctx->client, "POST", sp, NULL, NULL, &err);
  if (r < 0)
    return run_fail (ctx, err, run_status_of_error (err));
  if (detach)
    {
      printf ("%s\n", id);
      return 0;
    }
  r = session_pump (ctx->client, attach, id, false, tty, in, sig_proxy, keys, &err);
  if (r < 0)
    return cli_error (ctx, err);
  if (r == 1)
    return 0; /* detached with ctrl-p ctrl-q */
  int status = read_wait_result (wait, &err);
  if (status < 0)
    {
      fprintf (stderr, "%s\n", err->msg);
      return 125;
    }
  return status;
}

int
cmd_run (cli_ctx *ctx, int argc, char **argv)
{
  return run_or_create (ctx, argc, argv, true);
}

int
cmd_create (cli_ctx *ctx, int argc, char **argv)
{
  return run_or_create (ctx, argc, argv, false);
}

/* Inspect a container; NULL with docker's error. */
static json_t *
inspect_container (cli_ctx *ctx, const char *name, polis_error **err)
{
  cleanup_free char *p = client_path ("/containers/%s/json", name);
  json_t *j = NULL;
  if (client_call (ctx->client, "GET", p, NULL, &j, err) < 0)
    return NULL;
  if (j == NULL)
    error_set (err, ERROR_INTERNAL, 0, "empty inspect response");
  return j;
}

/* Attach to ID (already inspected as C), optionally starting it, and
   return its exit status. */
static int
attach_and_wait (cli_ctx *ctx, json_t *c, bool in, bool start,
                 const char *keys, bool sig_proxy)
{
  cleanup_error polis_error *err = NULL;
  const char *id = json_string_value (json_object_get (c, "Id"));
  json_t *cfg = json_object_get (c, "Config");
  bool tty = json_is_true (json_object_get (cfg, "Tty"));
  in = in && json_is_true (json_object_get (cfg, "OpenStdin"));
  if (tty && in && !isatty (STDIN_FILENO))
    return cli_fail (1, "the input device is not a TTY");
  cleanup_free char *ap = attach_path (id, in, true, true, keys);
  cleanup_http_conn http_conn *attach = client_hijack (ctx->client, ap, NULL, &err);
  if (attach == NULL)
    return cli_error (ctx, err);
  cleanup_free char *wp = client_path ("/containers/%s/wait?condition=next-exit", id);
  cleanup_http_conn http_conn *wait = client_send (ctx->client, "POST", wp, NULL, NULL, &err);
  if (wait == NULL || client_check (wait, &err) < 0)
    return cli_error (ctx, err);
  if (start)
    {
      cleanup_free char *sp = client_path ("/containers/%s/start", id);
      if (client_call (ctx->client, "POST", sp, NULL, NULL, &err) < 0)
        {
          fprintf (stderr, "%s\n", err->msg);
          return run_status_of_error (err) == 125 ? 1 : run_status_of_error (err);
        }
    }
  int r = session_pump (ctx->client, attach, id, false, tty, in, sig_proxy, keys, &err);
  if (r < 0)
    return cli_error (ctx, err);
  if (r == 1)
    return 0;
  int status = read_wait_result (wait, &err);
  if (status < 0)
    return cli_error (ctx, err);
  return status;
}

int
cmd_start (cli_ctx *ctx, int argc, char **argv)
{
  bool attach = false, interactive = false;
  const char *keys = NULL;
  const opt_def defs[] = {
    { "attach", 'a', OPT_BOOL, &attach, "Attach STDOUT/STDERR and forward signals" },
    { "interactive", 'i', OPT_BOOL, &interactive, "Attach container's STDIN" },
    { "detach-keys", 0, OPT_STRING, &keys, "Override the key sequence for detaching a container" },
    { NULL, 0, 0, NULL, NULL },
  };
  cleanup_strv char **pos = NULL;
  int r = cli_parse (ctx, defs, argc, argv, false, 1, -1, &pos);
  if (r != 0)
    return r;
  if (attach || interactive)
    {
      if (strv_length (pos) > 1)
        return cli_fail (1, "you cannot start and attach multiple containers at once");
      cleanup_error polis_error *err = NULL;
      cleanup_json json_t *c = inspect_container (ctx, pos[0], &err);
      if (c == NULL)
        return cli_error (ctx, err);
      return attach_and_wait (ctx, c, interactive, true, keys, true);
    }
  int status = 0;
  for (char **a = pos; *a; a++)
    {
      cleanup_error polis_error *err = NULL;
      cleanup_free char *p = client_path ("/containers/%s/start", *a);
      if (client_call (ctx->client, "POST", p, NULL, NULL, &err) < 0)
        {
          fprintf (stderr, "%s\n", err->msg);
          status = 1;
          continue;
        }
      printf ("%s\n", *a);
    }
  if (status)
    fprintf (stderr, "Error: failed to start containers: ");
  for (char **a = pos; status && *a; a++)
    fprintf (stderr, "%s%s", *a, a[1] ? ", " : "\n");
  return status;
}

int
cmd_attach (cli_ctx *ctx, int argc, char **argv)
{
  bool no_stdin = false, sig_proxy = true;
  const char *keys = NULL;
  const opt_def defs[] = {
    { "no-stdin", 0, OPT_BOOL, &no_stdin, "Do not attach STDIN" },
    { "sig-proxy", 0, OPT_BOOL, &sig_proxy, "Proxy all received signals to the process (default true)" },
    { "detach-keys", 0, OPT_STRING, &keys, "Override the key sequence for detaching a container" },
    { NULL, 0, 0, NULL, NULL },
  };
  cleanup_strv char **pos = NULL;
  int r = cli_parse (ctx, defs, argc, argv, false, 1, 1, &pos);
  if (r != 0)
    return r;
  cleanup_error polis_error *err = NULL;
  cleanup_json json_t *c = inspect_container (ctx, pos[0], &err);
  if (c == NULL)
    return cli_error (ctx, err);
  json_t *st = json_object_get (c, "State");
  if (!json_is_true (json_object_get (st, "Running")))
    return cli_fail (1, "You cannot attach to a stopped container, start it first");
  if (json_is_true (json_object_get (st, "Paused")))
    return cli_fail (1, "You cannot attach to a paused container, unpause it first");
  return attach_and_wait (ctx, c, !no_stdin, false, keys, sig_proxy);
}

int
cmd_exec (cli_ctx *ctx, int argc, char **argv)
{
  bool interactive = false, tty = false, detach = false, privileged = false;
  const char *user = NULL, *workdir = NULL, *keys = NULL;
  cleanup_strv char **env = NULL;
  cleanup_strv char **env_file = NULL;
  const opt_def defs[] = {
    { "interactive", 'i', OPT_BOOL, &interactive, "Keep STDIN open even if not attached" },
    { "tty", 't', OPT_BOOL, &tty, "Allocate a pseudo-TTY" },
    { "detach", 'd', OPT_BOOL, &detach, "Detached mode: run command in the background" },
    { "env", 'e', OPT_STRV, &env, "Set environment variables" },
    { "env-file", 0, OPT_STRV, &env_file, "Read in a file of environment variables" },
    { "user", 'u', OPT_STRING, &user, "Username or UID (format: \"<name|uid>[:<group|gid>]\")" },
    { "workdir", 'w', OPT_STRING, &workdir, "Working directory inside the container" },
    { "privileged", 0, OPT_BOOL, &privileged, "Give extended privileges to the command" },
    { "detach-keys", 0, OPT_STRING, &keys, "Override the key sequence for detaching a container" },
    { NULL, 0, 0, NULL, NULL },
  };
  cleanup_strv char **pos = NULL;
  int r = cli_parse (ctx, defs, argc, argv, true, 2, -1, &pos);
  if (r != 0)
    return r;
  cleanup_error polis_error *err = NULL;
  cleanup_json json_t *c = inspect_container (ctx, pos[0], &err);
  if (c == NULL)
    return cli_error (ctx, err);
  if (tty && interactive && !detach && !isatty (STDIN_FILENO))
    return cli_fail (1, "the input device is not a TTY");

  cleanup_json json_t *body = json_object ();
  json_object_set_new (body, "User", json_string (user ? user : ""));
  json_object_set_new (body, "Privileged", json_boolean (privileged));
  json_object_set_new (body, "Tty", json_boolean (tty));
  json_object_set_new (body, "AttachStdin", json_boolean (interactive && !detach));
  json_object_set_new (body, "AttachStderr", json_boolean (!detach));
  json_object_set_new (body, "AttachStdout", json_boolean (!detach));
  json_object_set_new (body, "Detach", json_boolean (detach));
  json_object_set_new (body, "DetachKeys", json_string (keys ? keys : ""));
  json_object_set_new (body, "WorkingDir", json_string (workdir ? workdir : ""));
  json_t *e = json_array ();
  for (char **f = env_file; f && *f; f++)
    {
      cleanup_free char *text = file_read_at (AT_FDCWD, *f, 1024 * 1024, NULL, &err);
      if (text == NULL)
        return cli_error (ctx, err);
      char *save = NULL;
      for (char *l = strtok_r (text, "\n", &save); l; l = strtok_r (NULL, "\n", &save))
        if (*l && *l != '#')
          json_array_append_new (e, json_string (l));
    }
  for (char **v = env; v && *v; v++)
    {
      if (strchr (*v, '=') == NULL)
        {
          const char *val = getenv (*v);
          if (val)
            {
              cleanup_free char *kv = xasprintf ("%s=%s", *v, val);
              json_array_append_new (e, json_string (kv));
            }
          continue;
        }
      json_array_append_new (e, json_string (*v));
    }
  json_object_set_new (body, "Env", e);
  json_t *cmd = json_array ();
  for (char **a = pos + 1; *a; a++)
    json_array_append_new (cmd, json_string (*a));
  json_object_set_new (body, "Cmd", cmd);
  int rows = 0, cols = 0;
  bool have_size = tty && (stream_term_size (STDOUT_FILENO, &rows, &cols)
                           || stream_term_size (STDIN_FILENO, &rows, &cols));
  if (have_size && client_version_at_least (ctx->client, 1, 42))
    json_object_set_new (body, "ConsoleSize", json_pack ("[i,i]", rows, cols));

  const char *cid = json_string_value (json_object_get (c, "Id"));
  cleanup_free char *p = client_path ("/containers/%s/exec", cid);
  cleanup_json json_t *resp = NULL;
  if (client_call (ctx->client, "POST", p, body, &resp, &err) < 0)
    return cli_error (ctx, err);
  const char *eid = json_string_value (json_object_get (resp, "Id"));
  if (eid == NULL)
    return cli_fail (1, "exec: the daemon sent no exec id");
  cleanup_free char *sp = client_path ("/exec/%s/start", eid);
  cleanup_json json_t *sbody = json_pack ("{s:b,s:b}", "Detach", detach, "Tty", tty);
  if (have_size && client_version_at_least (ctx->client, 1, 42))
    json_object_set_new (sbody, "ConsoleSize", json_pack ("[i,i]", rows, cols));
  if (detach)
    {
      if (client_call (ctx->client, "POST", sp, sbody, NULL, &err) < 0)
        return cli_error (ctx, err);
      return 0;
    }
  cleanup_http_conn http_conn *conn = client_hijack (ctx->client, sp, sbody, &err);
  if (conn == NULL)
    return cli_error (ctx, err);
  r = session_pump (ctx->client, conn, eid, true, tty, interactive, false, keys, &err);
  if (r < 0)
    return cli_error (ctx, err);
  cleanup_free char *ip = client_path ("/exec/%s/json", eid);
  /* The stream can end a moment before the server has the exit code:
     ask again, briefly, while it still says Running. */
  for (int attempt = 0;; attempt++)
    {
      cleanup_json json_t *info = NULL;
      if (client_call (ctx->client, "GET", ip, NULL, &info, &err) < 0)
        return cli_error (ctx, err);
      json_t *code = json_object_get (info, "ExitCode");
      if (json_is_true (json_object_get (info, "Running")) && attempt < 100)
        {
          struct timespec pause = { 0, 20 * 1000 * 1000 };
          nanosleep (&pause, NULL);
          continue;
        }
      return code && json_is_integer (code) ? (int) json_integer_value (code) : 0;
    }
}
