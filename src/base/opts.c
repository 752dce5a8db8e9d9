/* opts.c - command-line flags in the styles runc and docker users type. */
#include "opts.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cleanup.h"
#include "xalloc.h"

static const opt_def *
opts_find_long (const opt_def *defs, const char *name, size_t len)
{
  for (const opt_def *d = defs; d->name; d++)
    if (strlen (d->name) == len && strncmp (d->name, name, len) == 0)
      return d;
  return NULL;
}

static const opt_def *
opts_find_short (const opt_def *defs, char c)
{
  for (const opt_def *d = defs; d->name; d++)
    if (d->short_name == c)
      return d;
  return NULL;
}

static int
opts_parse_bool (const char *flag, const char *v, bool *out, polis_error **err)
{
  if (strcmp (v, "true") == 0 || strcmp (v, "1") == 0)
    *out = true;
  else if (strcmp (v, "false") == 0 || strcmp (v, "0") == 0)
    *out = false;
  else
    return error_set (err, ERROR_INVALID, EINVAL,
                      "invalid boolean value `%s` for flag -%s", v, flag);
  return 0;
}

/* Store VALUE into D's target.  For booleans VALUE may be NULL (= true). */
static int
opts_store (const opt_def *d, const char *value, polis_error **err)
{
  switch (d->type)
    {
    case OPT_BOOL:
      if (value == NULL)
        {
          *(bool *) d->target = true;
          return 0;
        }
      return opts_parse_bool (d->name, value, (bool *) d->target, err);
    case OPT_STRING:
      *(const char **) d->target = value;
      return 0;
    case OPT_STRV:
      strv_append ((char ***) d->target, value);
      return 0;
    }
  return 0;
}

int
opts_parse (const opt_def *defs, int argc, char **argv,
            bool stop_at_positional, char ***positional, polis_error **err)
{
  cleanup_strv char **pos = xzalloc (sizeof (char *));
  int i = 0;

  while (i < argc)
    {
      const char *a = argv[i];
      if (strcmp (a, "--") == 0)
        {
          for (i++; i < argc; i++)
            strv_append (&pos, argv[i]);
          break;
        }
      if (a[0] != '-' || a[1] == '\0')
        {
          if (stop_at_positional)
            {
              for (; i < argc; i++)
                strv_append (&pos, argv[i]);
              break;
            }
          strv_append (&pos, a);
          i++;
          continue;
        }

      const char *name = a + 1 + (a[1] == '-');
      const char *eq = strchr (name, '=');
      size_t nlen = eq ? (size_t) (eq - name) : strlen (name);
      const opt_def *d = opts_find_long (defs, name, nlen);

      if (d == NULL && a[1] != '-')
        {
          /* Short flags: "-d", "-b value", "-bvalue", "-it". */
          for (const char *s = name; *s; s++)
            {
              const opt_def *sd = opts_find_short (defs, *s);
              if (sd == NULL)
                return error_set (err, ERROR_INVALID, EINVAL,
                                  "flag provided but not defined: -%c", *s);
              if (sd->type == OPT_BOOL)
                {
                  if (s[1] == '=')
                    {
                      if (opts_store (sd, s + 2, err) < 0)
                        return -1;
                      break;
                    }
                  opts_store (sd, NULL, err);
                  continue;
                }
              const char *value = s[1] ? s + 1 + (s[1] == '=') : NULL;
              if (value == NULL)
                {
                  if (i + 1 >= argc)
                    return error_set (err, ERROR_INVALID, EINVAL,
                                      "flag needs an argument: -%c", *s);
                  value = argv[++i];
                }
              if (opts_store (sd, value, err) < 0)
                return -1;
              break;
            }
          i++;
          continue;
        }
      if (d == NULL)
        return error_set (err, ERROR_INVALID, EINVAL,
                          "flag provided but not defined: %.*s",
                          (int) (nlen + (size_t) (name - a)), a);

      const char *value = eq ? eq + 1 : NULL;
      if (d->type != OPT_BOOL && value == NULL)
        {
          if (i + 1 >= argc)
            return error_set (err, ERROR_INVALID, EINVAL,
                              "flag needs an argument: %s", a);
          value = argv[++i];
        }
      if (opts_store (d, value, err) < 0)
        return -1;
      i++;
    }
  *positional = steal_pointer (&pos);
  return 0;
}

void
opts_print_help (const opt_def *defs, void *stream)
{
  FILE *out = stream;
  for (const opt_def *d = defs; d->name; d++)
    {
      char left[64];
      if (d->short_name)
        snprintf (left, sizeof left, "--%s, -%c%s", d->name, d->short_name,
                  d->type == OPT_BOOL ? "" : " value");
      else
        snprintf (left, sizeof left, "--%s%s", d->name,
                  d->type == OPT_BOOL ? "" : " value");
      fprintf (out, "   %-32s %s\n", left, d->help ? d->help : "");
    }
}
