/* strv.h - NULL-terminated arrays of heap strings (argv, env). */
#ifndef POLIS_BASE_STRV_H
#define POLIS_BASE_STRV_H

#include <stddef.h>

/* Number of entries (a NULL strv has none). */
size_t strv_length (char *const *v);
/* Append a copy of S to the heap strv *V (allocating it when NULL). */
void strv_append (char ***v, const char *s);
/* A deep copy; NULL stays NULL. */
char **strv_dup (char *const *v);
/* Index of the "KEY=..." entry in an environment, or -1. */
int strv_env_find (char *const *env, const char *key, size_t key_len);
/* Set or replace "KEY=VALUE" given as one string in *ENV. */
void strv_env_set (char ***env, const char *kv);
/* Value of KEY in ENV ("PATH" -> "/bin:..."), or NULL. */
const char *strv_env_get (char *const *env, const char *key);

#endif
