/* jsonlog.h - container logs in Docker's json-file format, with an index.
 *
 * One line per chunk of output, exactly as dockerd writes it:
 *   {"log":"text\n","stream":"stdout","time":"2026-11-29T04:55:43.123456789Z"}
 * Output is cut into lines; a line longer than JSONLOG_LINE_MAX is written
 * in parts (every part but the last without its "\n"), as Docker's copier
 * does.  The file rotates once it has reached max-size: <log>.1 is the
 * newest old file, up to max-file files in all.
 *
 * Beside each file, <file>.idx holds fixed-size records {offset, time}:
 * one for the first entry of the file and then one for the first entry
 * past every JSONLOG_INDEX_EVERY bytes.  `since T` binary-searches them and
 * reads at most one interval of entries older than T; `tail N` reads the
 * files backwards from their end.  Either way a reader touches what it
 * returns plus one index interval, however large the log.
 *
 * The writer is polis-shim's (one per container, single-threaded); the
 * reader is polisd's, and may run while the writer appends and rotates.
 */
#ifndef POLIS_ENGINE_JSONLOG_H
#define POLIS_ENGINE_JSONLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

/* Docker's copier buffer: longer lines are split into entries this long. */
#define JSONLOG_LINE_MAX (16 * 1024)
/* One index record per this many bytes of log. */
#define JSONLOG_INDEX_EVERY (64 * 1024)
/* Polis rotates by default (Docker does not): 20 MiB x 5 files. */
#define JSONLOG_DEFAULT_MAX_SIZE (20ull * 1024 * 1024)
#define JSONLOG_DEFAULT_MAX_FILE 5
/* Longest line a reader accepts (a foreign file may hold anything). */
#define JSONLOG_READ_LINE_MAX (1024 * 1024)
/* Most rotated files a reader looks for. */
#define JSONLOG_MAX_FILES 1000
/* "2006-01-02T15:04:05.999999999Z" and a NUL. */
#define JSONLOG_TIME_MAX 40

typedef enum
{
  JSONLOG_STDOUT = 1,
  JSONLOG_STDERR = 2,
} jsonlog_stream;

/* An index record, as stored (host byte order). */
typedef struct
{
  uint64_t offset;
  int64_t time_ns;
} jsonlog_index_record;

/* ---- the format ---------------------------------------------------------- */

/* TIME_NS (ns since the epoch, UTC) as Go's RFC3339Nano: trailing zeros of
   the fraction dropped, no fraction at all for a whole second.  Returns
   the length written into BUF. */
size_t jsonlog_format_time (int64_t time_ns, char buf[JSONLOG_TIME_MAX]);

/* Parse an RFC 3339 time (any offset, any number of fraction digits) into
   ns since the epoch.  -1 with *err set when malformed. */
int jsonlog_parse_time (const char *s, size_t len, int64_t *time_ns,
                        polis_error **err);

/* The entry line for DATA (LEN bytes) on STREAM at TIME_NS, "\n"
   included, escaped as Docker does (<, > and & as \u003c..., invalid
   UTF-8 as \ufffd).  Heap; *OUT_LEN gets its length. */
char *jsonlog_encode (jsonlog_stream stream, const char *data, size_t len,
                      int64_t time_ns, size_t *out_len);

/* ---- the writer (polis-shim) --------------------------------------------- */

typedef struct jsonlog_writer jsonlog_writer;

/* Open PATH for appending (created 0640), rotating at MAX_SIZE bytes
   (0: never) into at most MAX_FILE files (1: the file is emptied instead).
   NULL with *err set. */
jsonlog_writer *jsonlog_writer_open (const char *path, uint64_t max_size,
                                     unsigned max_file, polis_error **err);
/* Close the files; pending partial lines are written first.  NULL-safe. */
void jsonlog_writer_close (jsonlog_writer *w);

/* Feed LEN bytes of STREAM's output read at TIME_NS: every complete line
   becomes an entry, a line reaching JSONLOG_LINE_MAX an entry without its
   "\n"; the rest waits for more.  Returns -1 with *err set if the file
   cannot be written (the data is dropped: a full disk must not stop the
   container). */
int jsonlog_writer_feed (jsonlog_writer *w, jsonlog_stream stream,
                         const char *data, size_t len, int64_t time_ns,
                         polis_error **err);
/* STREAM ended (at TIME_NS): write what waits of it as an entry without
   "\n" (stamped with the time of its first part, if it had one). */
int jsonlog_writer_flush (jsonlog_writer *w, jsonlog_stream stream,
                          int64_t time_ns, polis_error **err);
/* Write one entry as is (DATA should end with "\n" unless partial). */
int jsonlog_writer_write (jsonlog_writer *w, jsonlog_stream stream,
                          const char *data, size_t len, int64_t time_ns,
                          polis_error **err);

/* ---- the reader (polisd) ------------------------------------------------- */

typedef struct jsonlog_reader jsonlog_reader;

typedef struct
{
  int64_t tail;     /* only the last TAIL entries; < 0: all */
  int64_t since_ns; /* only entries at or after; 0: from the first */
  int64_t until_ns; /* only entries at or before; 0: no end */
  bool follow;      /* keep reading what is appended, across rotations */
} jsonlog_read_opts;

typedef struct
{
  jsonlog_stream stream;
  int64_t time_ns;
  const char *log; /* the output bytes, valid until the next call */
  size_t log_len;
} jsonlog_entry;

/* Open the log at PATH (and its rotated files) and find where the entries
   O asks for begin.  A missing log reads as empty.  NULL with *err set. */
jsonlog_reader *jsonlog_reader_open (const char *path,
                                     const jsonlog_read_opts *o,
                                     polis_error **err);
void jsonlog_reader_free (jsonlog_reader *r);

/* The next entry: 1 with *E filled, 0 when there is none (for now, with
   follow; for good, without, or once past until), -1 with *err set.
   Lines that do not parse are skipped. */
int jsonlog_reader_next (jsonlog_reader *r, jsonlog_entry *e,
                         polis_error **err);

/* With follow, after next returned 0: wait up to TIMEOUT_MS (-1: no limit)
   for the log to change.  Returns 1 when it may have (call next), 0 on
   timeout. */
int jsonlog_reader_wait (jsonlog_reader *r, int timeout_ms, polis_error **err);
/* An fd that polls readable when the log may have changed (follow only;
   -1 otherwise), for a caller with its own event loop; call
   jsonlog_reader_wait (r, 0, ...) to consume its events. */
int jsonlog_reader_fd (const jsonlog_reader *r);

/* Bytes read from log and index files so far (for tests and benchmarks). */
uint64_t jsonlog_reader_bytes_read (const jsonlog_reader *r);

#endif
