/* cgroup_devices.c - which devices a container may use, as a rule set. */
#include "cgroup_devices.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/xalloc.h"

/* The rules runc appends to every container's list (libcontainer's
   specconv.AllowedDevices, runc 1.1): mknod of any node, the usual
   character devices, the pty devices and tun.  Appended *after* the
   configured entries, so a config cannot take them away - which is what
   runc, and the programs written against it, do.  (crun also allows
   /dev/console, 5:1; runc does not, and a container's console is a pty
   anyway.) */
static const cgroup_device_rule cgroup_devices_defaults[] = {
  { 'c', CGROUP_DEV_ANY, CGROUP_DEV_ANY, CGROUP_DEV_MKNOD },
  { 'b', CGROUP_DEV_ANY, CGROUP_DEV_ANY, CGROUP_DEV_MKNOD },
  { 'c', 1, 3, CGROUP_DEV_RWM },               /* /dev/null */
  { 'c', 1, 8, CGROUP_DEV_RWM },               /* /dev/random */
  { 'c', 1, 7, CGROUP_DEV_RWM },               /* /dev/full */
  { 'c', 5, 0, CGROUP_DEV_RWM },               /* /dev/tty */
  { 'c', 1, 5, CGROUP_DEV_RWM },               /* /dev/zero */
  { 'c', 1, 9, CGROUP_DEV_RWM },               /* /dev/urandom */
  { 'c', 136, CGROUP_DEV_ANY, CGROUP_DEV_RWM }, /* /dev/pts/N */
  { 'c', 5, 2, CGROUP_DEV_RWM },               /* /dev/ptmx */
  { 'c', 10, 200, CGROUP_DEV_RWM },            /* /dev/net/tun */
};

void
cgroup_devices_free (cgroup_device_rules *r)
{
  if (r == NULL)
    return;
  free (r->rules);
  free (r);
}

static void
cgroup_devices_access_string (unsigned access, char out[4])
{
  size_t i = 0;
  if (access & CGROUP_DEV_READ)
    out[i++] = 'r';
  if (access & CGROUP_DEV_WRITE)
    out[i++] = 'w';
  if (access & CGROUP_DEV_MKNOD)
    out[i++] = 'm';
  out[i] = '\0';
}

void
cgroup_devices_format (const cgroup_device_rule *r, char *buf, size_t len)
{
  char major[24] = "*", minor[24] = "*", acc[4];
  if (r->major != CGROUP_DEV_ANY)
    snprintf (major, sizeof major, "%lld", (long long) r->major);
  if (r->minor != CGROUP_DEV_ANY)
    snprintf (minor, sizeof minor, "%lld", (long long) r->minor);
  cgroup_devices_access_string (r->access, acc);
  snprintf (buf, len, "%c %s:%s %s", r->type, major, minor, acc);
}

static ssize_t
cgroup_devices_find (const cgroup_device_rules *st, char type, int64_t major,
                     int64_t minor)
{
  for (size_t i = 0; i < st->n; i++)
    if (st->rules[i].type == type && st->rules[i].major == major
        && st->rules[i].minor == minor)
      return (ssize_t) i;
  return -1;
}

static unsigned
cgroup_devices_access_of (const cgroup_device_rules *st, char type,
                          int64_t major, int64_t minor)
{
  ssize_t i = cgroup_devices_find (st, type, major, minor);
  return i < 0 ? 0 : st->rules[i].access;
}

static void
cgroup_devices_reset (cgroup_device_rules *st, bool allow)
{
  st->default_allow = allow;
  st->n = 0;
}

/* Add an exception, merging with one for the same node. */
static void
cgroup_devices_add (cgroup_device_rules *st, const cgroup_device_rule *r)
{
  ssize_t i = cgroup_devices_find (st, r->type, r->major, r->minor);
  if (i >= 0)
    {
      st->rules[i].access |= r->access;
      return;
    }
  st->rules = xreallocarray (st->rules, st->n + 1, sizeof *st->rules);
  st->rules[st->n++] = *r;
}

/* Take R's access out of the exception for the same node.  The v1 kernel
   silently ignores the removal of part of a wildcard exception ("deny
   c 1:3" while "c *:* rw" is allowed); refuse it instead of pretending,
   as runc does. */
static int
cgroup_devices_remove (cgroup_device_rules *st, const cgroup_device_rule *r,
                       const char *what, polis_error **err)
{
  const int64_t wild[3][2] = { { CGROUP_DEV_ANY, r->minor },
                               { r->major, CGROUP_DEV_ANY },
                               { CGROUP_DEV_ANY, CGROUP_DEV_ANY } };
  for (int k = 0; k < 3; k++)
    {
      if (wild[k][0] == r->major && wild[k][1] == r->minor)
        continue;
      unsigned overlap = cgroup_devices_access_of (st, r->type, wild[k][0], wild[k][1]) & r->access;
      if (overlap)
        {
          char mine[64], theirs[64];
          cgroup_device_rule w = { r->type, wild[k][0], wild[k][1], overlap };
          cgroup_devices_format (r, mine, sizeof mine);
          cgroup_devices_format (&w, theirs, sizeof theirs);
          return error_set (err, ERROR_INVALID, EINVAL,
                            "%s: `%s` cannot take access away from part of the wildcard rule `%s`",
                            what, mine, theirs);
        }
    }
  ssize_t i = cgroup_devices_find (st, r->type, r->major, r->minor);
  if (i < 0)
    return 0;
  st->rules[i].access &= ~r->access;
  if (st->rules[i].access == 0)
    st->rules[i] = st->rules[--st->n];
  return 0;
}

/* Apply one entry; R NULL is an "a" entry (every device, every access). */
static int
cgroup_devices_apply (cgroup_device_rules *st, bool allow,
                      const cgroup_device_rule *r, const char *what,
                      polis_error **err)
{
  if (r == NULL)
    {
      cgroup_devices_reset (st, allow);
      return 0;
    }
  /* An allow entry adds an exception to a deny-all cgroup and removes one
     from an allow-all cgroup; a deny entry does the opposite. */
  if (allow != st->default_allow)
    {
      cgroup_devices_add (st, r);
      return 0;
    }
  return cgroup_devices_remove (st, r, what, err);
}

static int
cgroup_devices_cmp (const void *a, const void *b)
{
  const cgroup_device_rule *x = a, *y = b;
  if (x->major != y->major)
    return x->major < y->major ? -1 : 1;
  if (x->minor != y->minor)
    return x->minor < y->minor ? -1 : 1;
  return (x->type > y->type) - (x->type < y->type);
}

static void
cgroup_devices_sort (cgroup_device_rules *st)
{
  if (st->n > 1)
    qsort (st->rules, st->n, sizeof *st->rules, cgroup_devices_cmp);
}

static int
cgroup_devices_parse_access (const char *s, unsigned *out)
{
  unsigned a = 0;
  for (const char *p = s; *p; p++)
    switch (*p)
      {
      case 'r':
        a |= CGROUP_DEV_READ;
        break;
      case 'w':
        a |= CGROUP_DEV_WRITE;
        break;
      case 'm':
        a |= CGROUP_DEV_MKNOD;
        break;
      default:
        return -1;
      }
  *out = a;
  return 0;
}

static int
cgroup_devices_number (const json_t *e, const char *ctx, const char *key,
                       int64_t *out, polis_error **err)
{
  json_t *v = json_object_get (e, key);
  *out = CGROUP_DEV_ANY;
  if (v == NULL || json_is_null (v))
    return 0;
  if (!json_is_integer (v))
    return error_set (err, ERROR_INVALID, EINVAL, "%s.%s: expected an integer",
                      ctx, key);
  json_int_t n = json_integer_value (v);
  if (n < -1 || n > INT32_MAX)
    return error_set (err, ERROR_INVALID, EINVAL,
                      "%s.%s: %lld is neither -1 (any) nor a device number",
                      ctx, key, (long long) n);
  *out = n;
  return 0;
}

/* Parse entry I of linux.resources.devices.  *IS_ALL is set for an "a"
   entry (whose major, minor and access the kernel ignores). */
static int
cgroup_devices_parse_entry (const json_t *e, const char *ctx, bool *allow,
                            bool *is_all, cgroup_device_rule *r,
                            polis_error **err)
{
  if (!json_is_object (e))
    return error_set (err, ERROR_INVALID, EINVAL, "%s: expected an object", ctx);
  json_t *a = json_object_get (e, "allow");
  if (a == NULL || json_is_null (a))
    return error_set (err, ERROR_INVALID, EINVAL, "%s.allow: missing", ctx);
  if (!json_is_boolean (a))
    return error_set (err, ERROR_INVALID, EINVAL, "%s.allow: expected a boolean", ctx);
  *allow = json_is_true (a);

  json_t *t = json_object_get (e, "type");
  const char *type = "a";
  if (t && !json_is_null (t))
    {
      if (!json_is_string (t))
        return error_set (err, ERROR_INVALID, EINVAL, "%s.type: expected a string", ctx);
      if (json_string_length (t) > 0)
        type = json_string_value (t);
    }
  if (strcmp (type, "a") != 0 && strcmp (type, "c") != 0 && strcmp (type, "b") != 0)
    return error_set (err, ERROR_INVALID, EINVAL,
                      "%s.type: `%s` is not a, c or b", ctx, type);

  r->type = type[0];
  if (cgroup_devices_number (e, ctx, "major", &r->major, err) < 0
      || cgroup_devices_number (e, ctx, "minor", &r->minor, err) < 0)
    return -1;

  /* The spec makes access optional; unset means every kind of access. */
  json_t *acc = json_object_get (e, "access");
  r->access = CGROUP_DEV_RWM;
  if (acc && !json_is_null (acc))
    {
      if (!json_is_string (acc))
        return error_set (err, ERROR_INVALID, EINVAL, "%s.access: expected a string", ctx);
      if (cgroup_devices_parse_access (json_string_value (acc), &r->access) < 0
          || json_string_length (acc) != strlen (json_string_value (acc)))
        return error_set (err, ERROR_INVALID, EINVAL,
                          "%s.access: `%s` is not made of r, w and m", ctx,
                          json_string_value (acc));
      if (r->access == 0 && r->type != 'a')
        return error_set (err, ERROR_INVALID, EINVAL, "%s.access: empty", ctx);
    }
  *is_all = r->type == 'a';
  return 0;
}

cgroup_device_rules *
cgroup_devices_from_json (const json_t *devices, polis_error **err)
{
  cleanup_device_rules cgroup_device_rules *st = xzalloc (sizeof *st);

  if (devices && !json_is_array (devices))
    {
      error_set (err, ERROR_INVALID, EINVAL,
                 "linux.resources.devices: expected an array");
      return NULL;
    }
  for (size_t i = 0; devices && i < json_array_size (devices); i++)
    {
      char ctx[64];
      bool allow = false, is_all = false;
      cgroup_device_rule r = { 0 };
      snprintf (ctx, sizeof ctx, "linux.resources.devices[%zu]", i);
      if (cgroup_devices_parse_entry (json_array_get (devices, i), ctx, &allow,
                                      &is_all, &r, err)
              < 0
          || cgroup_devices_apply (st, allow, is_all ? NULL : &r, ctx, err) < 0)
        return NULL;
    }
  for (size_t i = 0; i < sizeof cgroup_devices_defaults / sizeof *cgroup_devices_defaults; i++)
    if (cgroup_devices_apply (st, true, &cgroup_devices_defaults[i],
                              "linux.resources.devices: default rule", err)
        < 0)
      return NULL;
  cgroup_devices_sort (st);
  return steal_pointer (&st);
}

static int
cgroup_devices_list_number (const char *s, char **end, int64_t *out)
{
  if (*s == '*')
    {
      *out = CGROUP_DEV_ANY;
      *end = (char *) s + 1;
      return 0;
    }
  errno = 0;
  unsigned long v = strtoul (s, end, 10);
  if (*end == s || errno || v > INT32_MAX)
    return -1;
  *out = (int64_t) v;
  return 0;
}

cgroup_device_rules *
cgroup_devices_from_list (const char *list, polis_error **err)
{
  cleanup_device_rules cgroup_device_rules *st = xzalloc (sizeof *st);
  for (const char *line = list; line && *line;)
    {
      const char *eol = strchrnul (line, '\n');
      cleanup_free char *l = xstrndup (line, (size_t) (eol - line));
      line = *eol ? eol + 1 : NULL;
      if (*l == '\0')
        continue;
      if (l[0] == 'a')
        {
          cgroup_devices_reset (st, true);
          continue;
        }
      cgroup_device_rule r = { .type = l[0] };
      char *p = l + 1, *end = NULL;
      while (*p == ' ')
        p++;
      if ((r.type != 'c' && r.type != 'b')
          || cgroup_devices_list_number (p, &end, &r.major) < 0 || *end != ':'
          || cgroup_devices_list_number (end + 1, &end, &r.minor) < 0
          || *end != ' '
          || cgroup_devices_parse_access (end + 1, &r.access) < 0 || r.access == 0)
        {
          error_set (err, ERROR_INTERNAL, EINVAL,
                     "devices.list: cannot parse `%s`", l);
          return NULL;
        }
      cgroup_devices_apply (st, true, &r, "devices.list", NULL);
    }
  cgroup_devices_sort (st);
  return steal_pointer (&st);
}

/* Whether R asks for nothing more than one default rule grants. */
static bool
cgroup_devices_within_default (const cgroup_device_rule *r)
{
  for (size_t i = 0; i < sizeof cgroup_devices_defaults / sizeof *cgroup_devices_defaults; i++)
    {
      const cgroup_device_rule *d = &cgroup_devices_defaults[i];
      if (d->type == r->type && d->major == r->major && d->minor == r->minor
          && (r->access & ~d->access) == 0)
        return true;
    }
  return false;
}

static void
cgroup_devices_emit (cgroup_device_write **out, size_t *n, bool allow,
                     const cgroup_device_rule *r)
{
  *out = xreallocarray (*out, *n + 1, sizeof **out);
  cgroup_device_write *w = &(*out)[(*n)++];
  w->allow = allow;
  w->default_rule = allow && r && cgroup_devices_within_default (r);
  if (r == NULL)
    snprintf (w->line, sizeof w->line, "a");
  else
    cgroup_devices_format (r, w->line, sizeof w->line);
}

size_t
cgroup_devices_transition (const cgroup_device_rules *cur,
                           const cgroup_device_rules *want,
                           cgroup_device_write **out)
{
  size_t n = 0;
  cgroup_device_rules none = { .default_allow = want->default_allow };
  const cgroup_device_rules *old = cur;
  *out = NULL;

  /* devices.list of an allow-all cgroup does not show its deny
     exceptions, so it can only be reset. */
  if (cur->default_allow || cur->default_allow != want->default_allow)
    {
      cgroup_devices_emit (out, &n, want->default_allow, NULL);
      old = &none;
    }
  /* Exceptions are allows in a deny-all cgroup and denies in an allow-all
     one: taking one away is written to the file of the default. */
  for (size_t i = 0; i < old->n; i++)
    {
      const cgroup_device_rule *r = &old->rules[i];
      unsigned keep = cgroup_devices_access_of (want, r->type, r->major, r->minor);
      cgroup_device_rule drop = *r;
      drop.access = r->access & ~keep;
      if (drop.access)
        cgroup_devices_emit (out, &n, want->default_allow, &drop);
    }
  for (size_t i = 0; i < want->n; i++)
    {
      const cgroup_device_rule *r = &want->rules[i];
      unsigned had = cgroup_devices_access_of (old, r->type, r->major, r->minor);
      cgroup_device_rule add = *r;
      add.access = r->access & ~had;
      if (add.access)
        cgroup_devices_emit (out, &n, !want->default_allow, &add);
    }
  return n;
}
