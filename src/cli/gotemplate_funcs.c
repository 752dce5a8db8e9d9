/* gotemplate_funcs.c - the functions of the template language: docker's
 * (json, join, split, lower, upper, title, pad, truncate, println) and
 * Go's builtins (index, len, slice, print, printf, eq, ne, lt, le, gt,
 * ge, and, or, not, urlquery). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/pjson.h"
#include "base/xalloc.h"
#include "cli/gotemplate.h"
#include "cli/gotemplate_internal.h"

json_t *
gotemplate_index (exec_ctx *x, json_t *v, json_t *k)
{
  if (v == NULL || json_is_null (v))
    return NULL;
  if (json_is_object (v) && json_is_string (k))
    return ref (json_object_get (v, json_string_value (k)));
  if (json_is_array (v) && json_is_integer (k))
    {
      json_int_t i = json_integer_value (k);
      if (i < 0 || (size_t) i >= json_array_size (v))
        {
          ex_fail (x, "error calling index: index out of range: %lld",
                   (long long) i);
          return EVAL_ERROR;
        }
      return ref (json_array_get (v, (size_t) i));
    }
  if (json_is_string (v) && json_is_string (k) && strchr (json_string_value (v), '='))
    {
      /* A "k=v,k2=v2" list (ps's .Labels is one): index it by key, so
         {{index .Labels "x"}} works on ps rows as on inspect's maps. */
      const char *key = json_string_value (k);
      size_t kl = strlen (key);
      const char *p = json_string_value (v);
      while (p && *p)
        {
          const char *end = strchr (p, ',');
          size_t n = end ? (size_t) (end - p) : strlen (p);
          if (n > kl && strncmp (p, key, kl) == 0 && p[kl] == '=')
            return json_stringn (p + kl + 1, n - kl - 1);
          p = end ? end + 1 : NULL;
        }
      return NULL;
    }
  ex_fail (x, "error calling index: cannot index value");
  return EVAL_ERROR;
}

static char *
as_string (const json_t *v)
{
  return gotemplate_format_value (v);
}

static int
compare (const json_t *a, const json_t *b, bool *ok)
{
  *ok = true;
  if (a && b && json_is_number (a) && json_is_number (b))
    {
      double x = json_number_value (a), y = json_number_value (b);
      return x < y ? -1 : x > y;
    }
  if (a && b && json_is_string (a) && json_is_string (b))
    return strcmp (json_string_value (a), json_string_value (b));
  if (a && b && json_is_boolean (a) && json_is_boolean (b))
    return json_is_true (a) - json_is_true (b);
  if ((a == NULL || json_is_null (a)) && (b == NULL || json_is_null (b)))
    return 0;
  *ok = false;
  return 1;
}

/* A small printf: %s %v %d %q %% with flags and width. */
static json_t *
fn_printf (exec_ctx *x, json_t **args, size_t n)
{
  if (n == 0 || !json_is_string (args[0]))
    {
      ex_fail (x, "error calling printf: the format must be a string");
      return EVAL_ERROR;
    }
  const char *f = json_string_value (args[0]);
  size_t ai = 1, on = 0, cap = 64;
  char *out = xmalloc (cap);
  out[0] = '\0';
  for (const char *p = f; *p; p++)
    {
      if (*p != '%')
        {
          buf_add (&out, &on, &cap, p, 1);
          continue;
        }
      const char *st = p++;
      while (*p && strchr ("-+ #0123456789.", *p))
        p++;
      if (*p == '\0')
        break;
      if (*p == '%')
        {
          buf_add (&out, &on, &cap, "%", 1);
          continue;
        }
      /* Flags, width and precision, applied by hand (no format strings
         built at run time). */
      bool left = false, zero = false;
      long width = 0, prec = -1;
      for (const char *q = st + 1; q < p; q++)
        {
          if (*q == '-')
            left = true;
          else if (*q == '0' && width == 0 && prec < 0)
            zero = true;
          else if (*q == '.')
            prec = 0;
          else if (isdigit ((unsigned char) *q))
            {
              if (prec >= 0)
                prec = prec * 10 + (*q - '0');
              else
                width = width * 10 + (*q - '0');
            }
        }
      json_t *a = ai < n ? args[ai++] : NULL;
      cleanup_free char *val = NULL;
      if ((*p == 'd' || *p == 'x') && a && json_is_integer (a))
        val = xasprintf (*p == 'd' ? "%lld" : "%llx", (long long) json_integer_value (a));
      else if (*p == 'q')
        {
          cleanup_free char *s0 = as_string (a);
          val = xasprintf ("\"%s\"", s0);
        }
      else
        val = as_string (a);
      if (prec >= 0 && *p == 's' && strlen (val) > (size_t) prec)
        val[prec] = '\0';
      size_t vl = strlen (val);
      size_t padn = width > 0 && (size_t) width > vl ? (size_t) width - vl : 0;
      char *piece = xmalloc (vl + padn + 1);
      if (left)
        {
          memcpy (piece, val, vl);
          memset (piece + vl, ' ', padn);
        }
      else
        {
          memset (piece, zero ? '0' : ' ', padn);
          memcpy (piece + padn, val, vl);
        }
      piece[vl + padn] = '\0';
      buf_add (&out, &on, &cap, piece, strlen (piece));
      free (piece);
    }
  json_t *r = json_string (out);
  free (out);
  return r;
}

json_t *
gotemplate_call (exec_ctx *x, const char *name, json_t **args, size_t n)
{
#define NEED(k)                                                                \
  do                                                                           \
    {                                                                          \
      if (n != (k))                                                            \
        {                                                                      \
          ex_fail (x, "wrong number of args for %s: want %d got %zu", name,   \
                   (int) (k), n);                                              \
          return EVAL_ERROR;                                                   \
        }                                                                      \
    }                                                                          \
  while (0)
  if (strcmp (name, "json") == 0)
    {
      NEED (1);
      cleanup_free char *s = gotemplate_json (args[0]);
      return json_string (s);
    }
  if (strcmp (name, "index") == 0)
    {
      if (n < 1)
        {
          ex_fail (x, "wrong number of args for index");
          return EVAL_ERROR;
        }
      json_t *v = ref (args[0]);
      for (size_t i = 1; i < n; i++)
        {
          json_t *nv = gotemplate_index (x, v, args[i]);
          unref (v);
          if (nv == EVAL_ERROR)
            return EVAL_ERROR;
          v = nv;
        }
      return v;
    }
  if (strcmp (name, "len") == 0)
    {
      NEED (1);
      json_t *v = args[0];
      size_t l = v == NULL                ? 0
                 : json_is_string (v)     ? json_string_length (v)
                 : json_is_array (v)      ? json_array_size (v)
                 : json_is_object (v)     ? json_object_size (v)
                                          : 0;
      return json_integer ((json_int_t) l);
    }
  if (strcmp (name, "join") == 0)
    {
      NEED (2);
      cleanup_free char *sep = as_string (args[1]);
      size_t on = 0, cap = 64;
      char *out = xmalloc (cap);
      out[0] = '\0';
      for (size_t i = 0; args[0] && json_is_array (args[0])
                         && i < json_array_size (args[0]);
           i++)
        {
          if (i)
            buf_add (&out, &on, &cap, sep, strlen (sep));
          cleanup_free char *s = as_string (json_array_get (args[0], i));
          buf_add (&out, &on, &cap, s, strlen (s));
        }
      json_t *r = json_string (out);
      free (out);
      return r;
    }
  if (strcmp (name, "split") == 0)
    {
      NEED (2);
      cleanup_free char *s = as_string (args[0]);
      cleanup_free char *sep = as_string (args[1]);
      json_t *arr = json_array ();
      size_t sl = strlen (sep);
      const char *p = s;
      for (;;)
        {
          const char *q = sl ? strstr (p, sep) : NULL;
          if (q == NULL)
            {
              json_array_append_new (arr, json_string (p));
              break;
            }
          json_array_append_new (arr, json_stringn (p, (size_t) (q - p)));
          p = q + sl;
        }
      return arr;
    }
  if (strcmp (name, "lower") == 0 || strcmp (name, "upper") == 0
      || strcmp (name, "title") == 0)
    {
      NEED (1);
      char *s = as_string (args[0]);
      bool start = true;
      for (char *p = s; *p; p++)
        {
          if (name[0] == 'l')
            *p = (char) tolower ((unsigned char) *p);
          else if (name[0] == 'u' || start)
            *p = (char) toupper ((unsigned char) *p);
          start = isspace ((unsigned char) *p);
        }
      json_t *r = json_string (s);
      free (s);
      return r;
    }
  if (strcmp (name, "pad") == 0)
    {
      NEED (3);
      cleanup_free char *s = as_string (args[0]);
      long l = args[1] && json_is_integer (args[1]) ? (long) json_integer_value (args[1]) : 0;
      long r = args[2] && json_is_integer (args[2]) ? (long) json_integer_value (args[2]) : 0;
      cleanup_free char *o = xasprintf ("%*s%s%*s", (int) l, "", s, (int) r, "");
      return json_string (o);
    }
  if (strcmp (name, "truncate") == 0)
    {
      NEED (2);
      cleanup_free char *s = as_string (args[0]);
      long l = args[1] && json_is_integer (args[1]) ? (long) json_integer_value (args[1]) : 0;
      if (l >= 0 && (size_t) l < strlen (s))
        s[l] = '\0';
      return json_string (s);
    }
  if (strcmp (name, "slice") == 0)
    {
      if (n < 1 || n > 3)
        {
          ex_fail (x, "wrong number of args for slice");
          return EVAL_ERROR;
        }
      long a = n > 1 && json_is_integer (args[1]) ? (long) json_integer_value (args[1]) : 0;
      if (args[0] && json_is_string (args[0]))
        {
          long len = (long) json_string_length (args[0]);
          long b = n > 2 && json_is_integer (args[2]) ? (long) json_integer_value (args[2]) : len;
          if (a < 0 || b > len || a > b)
            {
              ex_fail (x, "error calling slice: index out of range");
              return EVAL_ERROR;
            }
          return json_stringn (json_string_value (args[0]) + a, (size_t) (b - a));
        }
      if (args[0] && json_is_array (args[0]))
        {
          long len = (long) json_array_size (args[0]);
          long b = n > 2 && json_is_integer (args[2]) ? (long) json_integer_value (args[2]) : len;
          if (a < 0 || b > len || a > b)
            {
              ex_fail (x, "error calling slice: index out of range");
              return EVAL_ERROR;
            }
          json_t *arr = json_array ();
          for (long i = a; i < b; i++)
            json_array_append (arr, json_array_get (args[0], (size_t) i));
          return arr;
        }
      ex_fail (x, "error calling slice: can't slice item");
      return EVAL_ERROR;
    }
  if (strcmp (name, "print") == 0 || strcmp (name, "println") == 0)
    {
      size_t on = 0, cap = 64;
      char *out = xmalloc (cap);
      out[0] = '\0';
      for (size_t i = 0; i < n; i++)
        {
          bool both_str = i > 0 && json_is_string (args[i]) && json_is_string (args[i - 1]);
          if (i > 0 && (name[5] == 'l' || !both_str))
            buf_add (&out, &on, &cap, " ", 1);
          cleanup_free char *s = as_string (args[i]);
          buf_add (&out, &on, &cap, s, strlen (s));
        }
      if (name[5] == 'l')
        buf_add (&out, &on, &cap, "\n", 1);
      json_t *r = json_string (out);
      free (out);
      return r;
    }
  if (strcmp (name, "printf") == 0)
    return fn_printf (x, args, n);
  if (strcmp (name, "urlquery") == 0)
    {
      NEED (1);
      cleanup_free char *s = as_string (args[0]);
      size_t on = 0, cap = 64;
      char *out = xmalloc (cap);
      out[0] = '\0';
      for (const unsigned char *p = (const unsigned char *) s; *p; p++)
        {
          char t[4];
          if (isalnum (*p) || strchr ("-_.~", *p))
            {
              t[0] = (char) *p;
              t[1] = '\0';
            }
          else
            snprintf (t, sizeof t, "%%%02X", *p);
          buf_add (&out, &on, &cap, t, strlen (t));
        }
      json_t *r = json_string (out);
      free (out);
      return r;
    }
  if (strcmp (name, "not") == 0)
    {
      NEED (1);
      return json_boolean (!truthy (args[0]));
    }
  if (strcmp (name, "and") == 0 || strcmp (name, "or") == 0)
    {
      if (n == 0)
        {
          ex_fail (x, "wrong number of args for %s", name);
          return EVAL_ERROR;
        }
      bool is_and = name[0] == 'a';
      for (size_t i = 0; i + 1 < n; i++)
        if (truthy (args[i]) != is_and)
          return ref (args[i]);
      return ref (args[n - 1]);
    }
  if (strcmp (name, "eq") == 0 || strcmp (name, "ne") == 0)
    {
      if (n < 2)
        {
          ex_fail (x, "wrong number of args for %s", name);
          return EVAL_ERROR;
        }
      bool eq = false;
      for (size_t i = 1; i < n && !eq; i++)
        {
          bool ok;
          int c = compare (args[0], args[i], &ok);
          if (!ok && args[0] && args[i]
              && json_typeof (args[0]) != json_typeof (args[i]))
            {
              ex_fail (x, "error calling %s: incompatible types for comparison",
                       name);
              return EVAL_ERROR;
            }
          eq = ok && c == 0;
        }
      return json_boolean (name[0] == 'e' ? eq : !eq);
    }
  if (strcmp (name, "lt") == 0 || strcmp (name, "le") == 0
      || strcmp (name, "gt") == 0 || strcmp (name, "ge") == 0)
    {
      NEED (2);
      bool ok;
      int c = compare (args[0], args[1], &ok);
      if (!ok)
        {
          ex_fail (x, "error calling %s: incompatible types for comparison",
                   name);
          return EVAL_ERROR;
        }
      bool r = name[0] == 'l' ? (name[1] == 't' ? c < 0 : c <= 0)
                              : (name[1] == 't' ? c > 0 : c >= 0);
      return json_boolean (r);
    }
  error_set (x->err, ERROR_INVALID, EINVAL,
             "template: :1: function \"%s\" not defined", name);
  return EVAL_ERROR;
#undef NEED
}

