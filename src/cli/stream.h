/* stream.h - the container's streams on the client side: stdcopy frames
 * (8-byte header: stream id, 3 zero bytes, big-endian length) split onto
 * stdout and stderr, the terminal in raw mode, and the pump of a hijacked
 * attach/exec connection with window-size changes and signals forwarded.
 */
#ifndef POLIS_CLI_STREAM_H
#define POLIS_CLI_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <termios.h>

#include "base/error.h"
#include "cli/http_client.h"

/* Largest stdcopy frame accepted. */
#define STREAM_MAX_FRAME (16 * 1024 * 1024)

typedef struct
{
  unsigned char hdr[8];
  size_t hlen;
  int stream;       /* of the current frame */
  size_t remaining; /* payload bytes left in the current frame */
} stream_demux;

/* Feed LEN bytes of stdcopy frames; writes payloads to fd 1 / 2.  -1 with
   an error for a bad header or a systemerr frame ("error from daemon in
   stream: ..."). */
int stream_demux_feed (stream_demux *d, const char *buf, size_t len,
                       polis_error **err);

/* Put FD's terminal in raw mode, saving the old mode in *SAVED.  0, or -1
   when FD is not a terminal. */
int stream_raw_mode (int fd, struct termios *saved);
void stream_restore_mode (int fd, const struct termios *saved);

/* The terminal's size (rows, cols) on FD; false when not a terminal. */
bool stream_term_size (int fd, int *rows, int *cols);

typedef struct
{
  bool tty;         /* raw output; else stdcopy frames */
  bool send_stdin;  /* copy fd 0 to the connection */
  bool detach_keys; /* the detach sequence detaches (tty) */
  unsigned char detach_seq[16];
  size_t detach_len; /* 0: ctrl-p ctrl-q */
  /* Called on SIGWINCH (with the new size) and for forwarded signals
     (sig > 0, non-tty sessions with sig-proxy). */
  void (*on_resize) (void *ud, int rows, int cols);
  void (*on_signal) (void *ud, int sig);
  void *ud;
} stream_opts;

/* docker's --detach-keys ("ctrl-p,ctrl-q", "ctrl-a,x") to bytes in OUT
   (at most 16); -1 with docker's error for a bad key. */
int stream_parse_detach_keys (const char *spec, unsigned char *out,
                              size_t *len, polis_error **err);

/* Pump CONN (after its 101) until the server ends the output.  Returns 0,
   1 when the user detached, -1 on error. */
int stream_pump (http_conn *conn, const stream_opts *o, polis_error **err);

/* Copy a plain (non-hijacked) response body as container output. */
int stream_copy_body (http_conn *conn, bool tty, polis_error **err);

#endif
