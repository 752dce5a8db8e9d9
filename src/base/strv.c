/* strv.c - NULL-terminated arrays of heap strings. */
#include "strv.h"

#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

size_t
strv_length (char *const *v)
{
  size_t n = 0;
  while (v && v[n])
    n++;
  return n;
}

void
strv_append (char ***v, const char *s)
{
  size_t n = strv_length (*v);
  *v = xreallocarray (*v, n + 2, sizeof (char *));
  (*v)[n] = xstrdup (s);
  (*v)[n + 1] = NULL;
}

char **
strv_dup (char *const *v)
{
  if (v == NULL)
    return NULL;
  size_t n = strv_length (v);
  char **out = xzalloc ((n + 1) * sizeof (char *));
  for (size_t i = 0; i < n; i++)
    out[i] = xstrdup (v[i]);
  return out;
}

int
strv_env_find (char *const *env, const char *key, size_t key_len)
{
  for (size_t i = 0; env && env[i]; i++)
    if (strncmp (env[i], key, key_len) == 0 && env[i][key_len] == '=')
      return (int) i;
  return -1;
}

void
strv_env_set (char ***env, const char *kv)
{
  const char *eq = strchr (kv, '=');
  size_t klen = eq ? (size_t) (eq - kv) : strlen (kv);
  int i = strv_env_find (*env, kv, klen);
  if (i < 0)
    {
      strv_append (env, kv);
      return;
    }
  free ((*env)[i]);
  (*env)[i] = xstrdup (kv);
}

const char *
strv_env_get (char *const *env, const char *key)
{
  int i = strv_env_find (env, key, strlen (key));
  return i < 0 ? NULL : env[i] + strlen (key) + 1;
}
