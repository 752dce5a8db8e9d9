/* progress.h - pull and push progress, as `docker pull` shows it.
 *
 * One stream of events (status lines, per-layer states and byte counts) and
 * three renderings: per-layer bars redrawn in place on a terminal, plain
 * lines (state changes only) for logs, and Docker API JSON messages
 * ({"status","id","progressDetail","progress"}, \r\n separated) that the
 * engine streams to clients as they are.
 */
#ifndef POLIS_IMAGE_PROGRESS_H
#define POLIS_IMAGE_PROGRESS_H

#include <stdint.h>
#include <stdio.h>

typedef enum
{
  PROGRESS_NONE = 0,
  PROGRESS_TTY,
  PROGRESS_PLAIN,
  PROGRESS_JSON,
} progress_mode;

typedef struct progress progress;

/* Write to OUT (not owned).  For PROGRESS_JSON with SINK set, each message
   goes to SINK instead (the engine's HTTP stream). */
progress *progress_new (progress_mode mode, FILE *out);
void progress_set_sink (progress *p, void (*sink) (void *ud, const char *msg),
                        void *ud);
void progress_free (progress *p);

/* A line without bytes: "Pulling fs layer", "Already exists"...  ID may
   be NULL (a message that resets the per-layer layout). */
void progress_status (progress *p, const char *id, const char *status);
/* Bytes: "Downloading" / "Extracting" / "Pushing", CURRENT of TOTAL.
   Throttled to ~10 updates a second per id unless CURRENT == TOTAL. */
void progress_bytes (progress *p, const char *id, const char *status,
                     uint64_t current, uint64_t total);
/* An error message (errorDetail + error in JSON). */
void progress_error (progress *p, const char *msg);

/* Docker's human sizes: "1.2MB", "524.3kB" (decimal units). */
void progress_human_size (uint64_t n, char *buf, size_t len);

#endif
