/* shim_proto.h - the polis-shim socket protocol, both ends
 * (docs/internals/engine-contracts.md).
 *
 * One request per connection: the client writes one JSON object and "\n",
 * the shim answers one JSON line, {"ok":true,...} or
 * {"ok":false,"message":"...","code":N} with N the HTTP status of the
 * error's class (error_http_status).  Some requests then turn the
 * connection into a stream: attach and exec carry the container's output
 * in the wire form Docker clients expect (raw with a TTY, stdcopy frames
 * without), events and wait carry JSON lines.
 */
#ifndef POLIS_ENGINE_SHIM_PROTO_H
#define POLIS_ENGINE_SHIM_PROTO_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

/* Longest request line (an exec's process object with its environment). */
#define SHIM_PROTO_REQUEST_MAX (1u << 20)
/* Longest reply line a client should accept (a state with a health log). */
#define SHIM_PROTO_REPLY_MAX (1u << 20)
/* An stdcopy frame header: stream id, three zero bytes, uint32 BE length. */
#define SHIM_PROTO_STDCOPY_HEADER 8
/* Most bytes of a detach sequence. */
#define SHIM_PROTO_DETACH_KEYS_MAX 16

typedef enum
{
  SHIM_PROTO_STDIN = 0,
  SHIM_PROTO_STDOUT = 1,
  SHIM_PROTO_STDERR = 2,
  SHIM_PROTO_SYSTEMERR = 3, /* the client stops with the payload as error */
} shim_proto_stream;

/* Fill HDR for a frame of LEN bytes on STREAM. */
void shim_proto_stdcopy_header (uint8_t hdr[SHIM_PROTO_STDCOPY_HEADER],
                                shim_proto_stream stream, uint32_t len);
/* Read a frame header; -1 with *err set unless it is a valid one. */
int shim_proto_stdcopy_parse (const uint8_t hdr[SHIM_PROTO_STDCOPY_HEADER],
                              shim_proto_stream *stream, uint32_t *len,
                              polis_error **err);

/* The request line {"op":OP, ...FIELDS} ("\n" included).  FIELDS (an
   object or NULL) is consumed.  Heap; *LEN gets its length. */
char *shim_proto_request (const char *op, json_t *fields, size_t *len);
/* Parse a request line (LEN bytes, without "\n").  Returns the object
   (new reference) and points *OP into it; NULL with *err set. */
json_t *shim_proto_parse_request (const char *line, size_t len,
                                  const char **op, polis_error **err);

/* The reply {"ok":true, ...FIELDS}, FIELDS (may be NULL) consumed. */
char *shim_proto_reply_ok (json_t *fields, size_t *len);
/* The reply {"ok":false,"message":...,"code":...} for ERR. */
char *shim_proto_reply_error (const polis_error *err, size_t *len);
/* Parse a reply line.  {"ok":true,...}: returns it (new reference).
   {"ok":false,...}: NULL with *err of the class CODE names and the
   message verbatim (Docker clients match on some). */
json_t *shim_proto_parse_reply (const char *line, size_t len,
                                polis_error **err);
/* The error class of an HTTP status, the inverse of error_http_status. */
polis_error_class shim_proto_class_of (int code);

/* An events-stream line {"action":ACTION,"time_nano":TIME_NS, ...FIELDS}
   (FIELDS consumed, may be NULL). */
char *shim_proto_event (const char *action, json_t *fields, int64_t time_ns,
                        size_t *len);
/* The line that ends a wait: {"exit_code":N,"error":null|{"Message":...}}. */
char *shim_proto_wait_result (int exit_code, const char *error, size_t *len);

/* Docker's detach keys ("ctrl-p,ctrl-q", "a", "ctrl-@") as bytes: KEYS
   gets *N of them (at most SHIM_PROTO_DETACH_KEYS_MAX).  -1 with *err set
   (Docker's wording) when malformed. */
int shim_proto_parse_detach_keys (const char *s,
                                  uint8_t keys[SHIM_PROTO_DETACH_KEYS_MAX],
                                  size_t *n, polis_error **err);

#endif
