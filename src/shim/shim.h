/* shim.h - polis-shim's insides, shared by its files (not a library).
 *
 * One shim watches one container (docs/internals/shim.md).  Its pieces:
 *   shim_main.c       options, daemonizing, start-up, the readiness line
 *   shim_container.c  the container's life: create, start, exit, restart,
 *                     kill, stop, pause, delete; shim.json and exit.json
 *   shim_io.c         a process's stdio: output to the log and to attached
 *                     clients (the wire form), client input to its stdin
 *   shim_server.c     the socket: requests, replies, streams, events
 *   shim_exec.c       exec sessions and the health check's probes
 * all on one event loop (loop.c); restart.c and health.c hold Docker's
 * rules, free of any I/O.
 */
#ifndef POLIS_SHIM_SHIM_H
#define POLIS_SHIM_SHIM_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/error.h"
#include "engine/jsonlog.h"
#include "engine/shim_proto.h"
#include "runtime/state.h"
#include "shim/health.h"
#include "shim/loop.h"
#include "shim/restart.h"

/* Most execs running at once, health probes included. */
#define SHIM_EXECS_MAX 1024
/* An attached client that has this much output queued holds the
   process's output back (Docker blocks the same way) until it is down
   to SHIM_CONN_LOW. */
#define SHIM_CONN_HIGH (128 * 1024)
#define SHIM_CONN_LOW (32 * 1024)

typedef struct
{
  const char *id;
  const char *bundle;
  const char *dir;
  const char *socket;
  const char *runtime_root;
  bool tty;
  bool open_stdin;
  bool stdin_once;
  bool log_json; /* --log-driver json-file (else none) */
  uint64_t log_max_size;
  unsigned log_max_file;
  restart_policy restart;
  const char *health_file;
  bool auto_remove;
  bool no_start;
} shim_opts;

typedef enum
{
  SHIM_CREATED = 0,
  SHIM_RUNNING,
  SHIM_PAUSED,
  SHIM_RESTARTING,
  SHIM_EXITED,
  SHIM_DEAD,
} shim_status;

typedef struct shim shim;
typedef struct shim_conn shim_conn;
typedef struct shim_stdio shim_stdio;
typedef struct shim_exec shim_exec;

struct shim
{
  shim_opts o;
  loop *loop;
  int dirfd; /* the container's directory (--dir) */

  shim_status status;
  pid_t pid;              /* the init while it lives, else 0 */
  int exit_code;
  bool oom_killed;
  int64_t started_ns;     /* 0: never */
  int64_t finished_ns;
  bool manually_stopped;
  restart_state restart;
  loop_timer *restart_timer;
  loop_timer *stop_timer;
  container_state *cst;   /* the runtime's state of the current run */
  long long oom_base;     /* oom kills counted before this run */
  long long oom_seen;     /* the count when we last reported one */
  loop_watch *oom_w;      /* wakes on the cgroup's OOM events */
  loop_timer *oom_timer;  /* a second look (v1 wakes before the kill) */

  shim_stdio *io;         /* the current run's stdio */
  jsonlog_writer *log;

  health_config health;
  health_state health_st;
  loop_timer *health_timer;
  shim_exec *probe;       /* the health probe running, if any */

  shim_exec *execs;
  unsigned n_execs;
  shim_conn *conns;
  bool exiting;           /* shutting down: no new work */
};

typedef enum
{
  SHIM_CONN_REQUEST = 0, /* reading its request line */
  SHIM_CONN_STREAM,      /* attach or exec: output out, stdin in */
  SHIM_CONN_EVENTS,      /* event lines out */
  SHIM_CONN_WAIT,        /* one result line out, then closed */
  SHIM_CONN_DONE,        /* its reply is queued; closed once written */
} shim_conn_kind;

/* A client connection.  Only its own watch callback closes it: others
   mark it (finish, broken) and make it writable, so that no list is
   changed under a loop over the connections. */
struct shim_conn
{
  shim *sh;
  loop_watch *w;
  shim_conn_kind kind;
  char *in;          /* the request line so far */
  size_t in_len;
  char *out;         /* queued output: out[out_off, out_len) */
  size_t out_off, out_len, out_cap;
  bool reading;      /* wants input */
  bool finishing;    /* close once the queue is written */
  bool broken;       /* a write failed: close */
  /* SHIM_CONN_STREAM */
  shim_stdio *io;
  bool want_in, want_out, want_err;
  bool in_eof;
  uint8_t dk[SHIM_PROTO_DETACH_KEYS_MAX]; /* detach keys (TTY only) */
  size_t dk_n, dk_matched;
  /* SHIM_CONN_WAIT */
  bool wait_next_exit;
  shim_conn *prev, *next;
};

/* ---- shim_container.c ---- */
int shim_container_create (shim *sh, polis_error **err);
int shim_container_start (shim *sh, polis_error **err);
/* The init was reaped with wait STATUS. */
void shim_container_exited (shim *sh, int status);
int shim_container_kill (shim *sh, int sig, bool all, polis_error **err);
int shim_container_stop (shim *sh, int sig, int timeout_s, polis_error **err);
int shim_container_pause (shim *sh, bool pause, polis_error **err);
int shim_container_update (shim *sh, const json_t *resources,
                           const char *restart, polis_error **err);
/* Remove the runtime's container (FORCE: kill it first). */
int shim_container_delete (shim *sh, bool force, polis_error **err);
const char *shim_status_name (shim_status s);
/* The state document (`state` reply, shim.json).  New reference. */
json_t *shim_state_json (const shim *sh);
/* Rewrite shim.json (atomically). */
void shim_save_state (shim *sh);
/* Is the container's process alive (running or paused)? */
bool shim_container_active (const shim *sh);

/* ---- shim_io.c ---- */
typedef enum
{
  SHIM_IO_CONTAINER, /* output to the log and to attached clients */
  SHIM_IO_EXEC,      /* output to attached clients */
  SHIM_IO_CAPTURE,   /* output kept, up to HEALTH_OUTPUT_MAX (a probe) */
  SHIM_IO_DISCARD,   /* output read and dropped (a detached exec) */
} shim_io_mode;

/* Make the stdio of a process to come: pipes (or, with TTY, a pty to
   come from the runtime) and, with OPEN_STDIN, a stdin the clients write
   to.  CHILD gets the three fds the process takes as 0, 1, 2; they are
   closed by shim_stdio_started.  ON_END (may be NULL) is called, from the
   loop and never from inside a shim_stdio_* call, once the output has
   ended. */
shim_stdio *shim_stdio_new (shim *sh, shim_io_mode mode, bool tty,
                            bool open_stdin, bool stdin_once, int child[3],
                            void (*on_end) (void *data), void *data,
                            polis_error **err);
/* The process runs: close the child's ends, take the pty MASTER (-1:
   none), start reading. */
int shim_stdio_started (shim_stdio *io, int master, polis_error **err);
/* The process is gone: read what is left of its output, then end. */
void shim_stdio_process_exited (shim_stdio *io);
/* Free (NULL-safe): attached clients are closed. */
void shim_stdio_free (shim_stdio *io);
/* Attach the connection C (after its reply): output of STDOUT/STDERR to
   it, its input to the process's stdin with STDIN. */
int shim_stdio_attach (shim_stdio *io, shim_conn *c, bool in, bool out,
                       bool errs, const char *detach_keys, polis_error **err);
int shim_stdio_resize (shim_stdio *io, unsigned height, unsigned width,
                       polis_error **err);
/* The captured output (SHIM_IO_CAPTURE), "..." appended when cut. */
char *shim_stdio_captured (const shim_stdio *io);
/* A client attached to IO has drained: reading may go on. */
void shim_stdio_resume (shim_stdio *io);
/* Input from the attached client C (EOF: LEN 0 and EOF true), detach
   keys looked for with a TTY. */
void shim_stdio_input (shim_stdio *io, shim_conn *c, const char *data,
                       size_t len, bool eof);
/* Has IO's output ended? */
bool shim_stdio_ended (const shim_stdio *io);
/* The client C is going away. */
void shim_stdio_detach (shim_stdio *io, shim_conn *c);

/* ---- shim_server.c ---- */
int shim_server_listen (shim *sh, polis_error **err);
/* Queue bytes on a client; false if it is gone. */
bool shim_conn_send (shim_conn *c, const void *data, size_t len);
size_t shim_conn_backlog (const shim_conn *c);
/* Close C once its queue is written. */
void shim_conn_finish (shim_conn *c);
/* Start or stop reading from C (stdin back-pressure). */
void shim_conn_set_reading (shim_conn *c, bool on);
/* Tell every events subscriber: ACTION with FIELDS (consumed). */
void shim_emit (shim *sh, const char *action, json_t *fields);
/* The container exited: answer the waits whose condition now holds. */
void shim_notify_waiters (shim *sh, bool next_exit_only);
/* Write what is queued on every client, waiting at most TIMEOUT_MS. */
void shim_server_flush (shim *sh, int timeout_ms);
/* Remove the socket and pid file. */
void shim_server_close (shim *sh);

/* ---- shim_exec.c ---- */
/* Run an exec request (process object in REQ) on C: see the contract. */
int shim_exec_request (shim *sh, shim_conn *c, const json_t *req,
                       polis_error **err);
/* A reaped child that is an exec or probe: true if it was one. */
bool shim_exec_reaped (shim *sh, pid_t pid, int status);
int shim_exec_resize (shim *sh, const char *exec_id, unsigned height,
                      unsigned width, polis_error **err);
/* Free every exec (the shim is exiting). */
void shim_exec_free_all (shim *sh);
/* Start, or stop, the health check with the container. */
void shim_health_start (shim *sh);
void shim_health_stop (shim *sh);

/* Now, in ns since the epoch. */
int64_t shim_now_ns (void);
/* The exit code of a wait status: the code, or 128 + the signal. */
int shim_exit_code (int status);

#endif
