/* gotemplate.h - the part of Go's text/template that docker users type.
 *
 * Data is JSON (jansson).  Supported: text and actions with {{- -}} trims
 * and comments; fields and chains (.A.B, $x.A, (pipe).A); variables
 * ($x := pipe, $ for the root); pipelines (a | f b); literals (strings,
 * raw strings, numbers, true, false, nil); if / else if / else, range
 * (with $i, $e :=, and else), with; the functions docker adds (json, join,
 * split, lower, upper, title, pad, truncate, println) and Go's builtins
 * (index, len, slice, print, printf, eq, ne, lt, le, gt, ge, and, or, not,
 * urlquery).  Not supported, with an error that says so: define,
 * template, block, break, continue.
 *
 * A field followed by arguments on an object indexes it: ps's
 * {{.Label "com.example"}} is docker's Label method.  Keys that start
 * with \x01 are hidden: a field name reaches them, printing and json
 * leave them out (the map behind such a method).
 */
#ifndef POLIS_CLI_GOTEMPLATE_H
#define POLIS_CLI_GOTEMPLATE_H

#include <jansson.h>
#include <stdbool.h>

#include "base/error.h"

typedef struct gotemplate gotemplate;

/* Parse TEXT.  NULL with a "template: ..." error. */
gotemplate *gotemplate_parse (const char *text, polis_error **err);
void gotemplate_free (gotemplate *t);

static inline void
cleanup_gotemplate_fn (gotemplate **t)
{
  gotemplate_free (*t);
  *t = NULL;
}
#define cleanup_gotemplate __attribute__ ((cleanup (cleanup_gotemplate_fn)))

/* Run T with DOT as data; the output is a heap string in *OUT.  With
   STRICT a missing field is an error (Go on a struct); without, it prints
   "<no value>" (Go on a map).  -1 on error. */
int gotemplate_exec (gotemplate *t, json_t *dot, bool strict, char **out,
                     polis_error **err);

/* Go's %v of a JSON value (strings raw, [a b], map[k:v], <nil>). Heap. */
char *gotemplate_format_value (const json_t *v);

/* docker's {{json}}: compact JSON, with <, >, & escaped as Go does. */
char *gotemplate_json (const json_t *v);

#endif
