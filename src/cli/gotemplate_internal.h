/* gotemplate_internal.h - what the template executor (gotemplate.c) and
 * its functions (gotemplate_funcs.c) share.  Not for other modules. */
#ifndef POLIS_CLI_GOTEMPLATE_INTERNAL_H
#define POLIS_CLI_GOTEMPLATE_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"

typedef struct
{
  char *name;
  json_t *v;
} var;

typedef struct
{
  char *out;
  size_t n, cap;
  bool strict;
  var *vars;
  size_t nvars;
  polis_error **err;
} exec_ctx;

/* Sentinel for "evaluation failed" (distinct from NULL = no value). */
extern json_t gotemplate_eval_error_value;
#define EVAL_ERROR (&gotemplate_eval_error_value)

/* Fail with "template: :1: executing ..." and return -1. */
int gotemplate_fail (exec_ctx *x, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));
bool gotemplate_truthy (const json_t *v);
void gotemplate_buf_add (char **buf, size_t *n, size_t *cap, const char *s,
                         size_t l);
/* A new reference (NULL stays NULL), and its release (sentinel-safe). */
json_t *gotemplate_ref (json_t *v);
void gotemplate_unref (json_t *v);
/* V[K]: an object by a string, an array by an integer. */
json_t *gotemplate_index (exec_ctx *x, json_t *v, json_t *k);
/* Call the template function NAME with ARGS (borrowed). */
json_t *gotemplate_call (exec_ctx *x, const char *name, json_t **args,
                         size_t n);

/* Short names inside the two files. */
#define ex_fail gotemplate_fail
#define truthy gotemplate_truthy
#define buf_add gotemplate_buf_add
#define ref gotemplate_ref
#define unref gotemplate_unref

#endif
