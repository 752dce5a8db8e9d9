/* gotemplate.c - the part of Go's text/template that docker users type.
 *
 * Two stages: the text is cut into text and {{action}} pieces and each
 * action is parsed into a small tree (pipelines of commands of operands);
 * if/range/with nest through an explicit stack.  Execution walks the tree
 * with the data as jansson values, one new reference per result.
 */
#include "cli/gotemplate.h"
#include "cli/gotemplate_internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/pjson.h"
#include "base/xalloc.h"

/* Nesting of if/range/with, and of parentheses in one action. */
#define GOTEMPLATE_MAX_DEPTH 64
/* Longest output one execution may produce. */
#define GOTEMPLATE_MAX_OUTPUT (256 * 1024 * 1024)

typedef enum
{
  OP_FIELD,  /* .A.B applied to dot (chain may be empty: ".") */
  OP_VAR,    /* $x.A.B */
  OP_STRING, /* literal */
  OP_NUMBER,
  OP_BOOL,
  OP_NIL,
  OP_IDENT, /* a function name */
  OP_PIPE,  /* (pipe).A.B */
} op_kind;

typedef struct tpl_pipe tpl_pipe;

typedef struct
{
  op_kind kind;
  char *name;   /* var name, function name, string literal */
  char **chain; /* field names */
  json_t *lit;  /* number or bool */
  tpl_pipe *sub;
} operand;

typedef struct
{
  operand *args;
  size_t n;
} command;

struct tpl_pipe
{
  char *decl[2]; /* $i, $e (NULL when absent) */
  size_t ndecl;
  bool assign; /* "=" rather than ":=" */
  command *cmds;
  size_t n;
};

typedef enum
{
  N_TEXT,
  N_ACTION,
  N_IF,
  N_RANGE,
  N_WITH,
} node_kind;

typedef struct node node;
typedef struct
{
  node **items;
  size_t n;
} node_list;

struct node
{
  node_kind kind;
  char *text;
  tpl_pipe *p;
  node_list list, else_list;
};

struct gotemplate
{
  node_list root;
};

/* ---- freeing ---- */

static void pipe_free (tpl_pipe *p);

static void
operand_clear (operand *o)
{
  free (o->name);
  if (o->chain)
    {
      for (char **c = o->chain; *c; c++)
        free (*c);
      free (o->chain);
    }
  if (o->lit)
    json_decref (o->lit);
  pipe_free (o->sub);
}

static void
pipe_free (tpl_pipe *p)
{
  if (p == NULL)
    return;
  free (p->decl[0]);
  free (p->decl[1]);
  for (size_t i = 0; i < p->n; i++)
    {
      for (size_t j = 0; j < p->cmds[i].n; j++)
        operand_clear (&p->cmds[i].args[j]);
      free (p->cmds[i].args);
    }
  free (p->cmds);
  free (p);
}

static void node_list_clear (node_list *l);

static void
node_free (node *n)
{
  if (n == NULL)
    return;
  free (n->text);
  pipe_free (n->p);
  node_list_clear (&n->list);
  node_list_clear (&n->else_list);
  free (n);
}

static void
node_list_clear (node_list *l)
{
  for (size_t i = 0; i < l->n; i++)
    node_free (l->items[i]);
  free (l->items);
  l->items = NULL;
  l->n = 0;
}

void
gotemplate_free (gotemplate *t)
{
  if (t == NULL)
    return;
  node_list_clear (&t->root);
  free (t);
}

static void
node_list_add (node_list *l, node *n)
{
  l->items = xreallocarray (l->items, l->n + 1, sizeof (node *));
  l->items[l->n++] = n;
}

/* ---- parsing one action ---- */

typedef struct
{
  const char *s; /* action text */
  size_t i, len;
  int depth;
  polis_error **err;
} lexer;

static void
lx_skip (lexer *lx)
{
  while (lx->i < lx->len && isspace ((unsigned char) lx->s[lx->i]))
    lx->i++;
}

static bool
is_ident_char (char c)
{
  return isalnum ((unsigned char) c) || c == '_';
}

static int
lx_fail (lexer *lx, const char *fmt, ...)
{
  va_list ap;
  char *m = NULL;
  va_start (ap, fmt);
  if (vasprintf (&m, fmt, ap) < 0)
    abort ();
  va_end (ap);
  error_set (lx->err, ERROR_INVALID, EINVAL, "template: :1: %s", m);
  free (m);
  return -1;
}

/* ".A.B" starting at a '.', into a heap strv (possibly empty). */
static char **
lx_chain (lexer *lx)
{
  char **chain = xzalloc (sizeof (char *));
  size_t n = 0;
  while (lx->i < lx->len && lx->s[lx->i] == '.')
    {
      size_t st = lx->i + 1, e = st;
      while (e < lx->len && is_ident_char (lx->s[e]))
        e++;
      if (e == st)
        {
          lx->i++; /* a bare "." */
          break;
        }
      chain = xreallocarray (chain, n + 2, sizeof (char *));
      chain[n++] = xstrndup (lx->s + st, e - st);
      chain[n] = NULL;
      lx->i = e;
    }
  return chain;
}

static tpl_pipe *lx_pipe (lexer *lx, bool in_paren);

static int
lx_string (lexer *lx, char **out)
{
  char q = lx->s[lx->i++];
  size_t cap = 16, n = 0;
  char *buf = xmalloc (cap);
  while (lx->i < lx->len && lx->s[lx->i] != q)
    {
      char c = lx->s[lx->i++];
      if (q == '"' && c == '\\' && lx->i < lx->len)
        {
          char e = lx->s[lx->i++];
          c = e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : e;
        }
      if (n + 2 > cap)
        buf = xrealloc (buf, cap *= 2);
      buf[n++] = c;
    }
  if (lx->i >= lx->len)
    {
      free (buf);
      return lx_fail (lx, "unterminated quoted string");
    }
  lx->i++;
  buf[n] = '\0';
  *out = buf;
  return 0;
}

/* One operand, or 0 when the command ends here (| or ) or the end). */
static int
lx_operand (lexer *lx, operand *o)
{
  lx_skip (lx);
  memset (o, 0, sizeof *o);
  if (lx->i >= lx->len)
    return 0;
  char c = lx->s[lx->i];
  if (c == '|' || c == ')')
    return 0;
  if (c == '.')
    {
      o->kind = OP_FIELD;
      o->chain = lx_chain (lx);
      return 1;
    }
  if (c == '$')
    {
      size_t st = lx->i++;
      while (lx->i < lx->len && is_ident_char (lx->s[lx->i]))
        lx->i++;
      o->kind = OP_VAR;
      o->name = xstrndup (lx->s + st, lx->i - st);
      o->chain = lx_chain (lx);
      return 1;
    }
  if (c == '"' || c == '`')
    {
      o->kind = OP_STRING;
      return lx_string (lx, &o->name) < 0 ? -1 : 1;
    }
  if (c == '(')
    {
      lx->i++;
      if (++lx->depth > GOTEMPLATE_MAX_DEPTH)
        return lx_fail (lx, "too deeply nested");
      o->kind = OP_PIPE;
      o->sub = lx_pipe (lx, true);
      lx->depth--;
      if (o->sub == NULL)
        return -1;
      if (lx->i >= lx->len || lx->s[lx->i] != ')')
        return lx_fail (lx, "unclosed left paren");
      lx->i++;
      o->chain = lx_chain (lx);
      return 1;
    }
  if (isdigit ((unsigned char) c) || c == '-' || c == '+')
    {
      char *end = NULL;
      const char *st = lx->s + lx->i;
      long long v = strtoll (st, &end, 0);
      if (end != st && (*end == '.' || *end == 'e' || *end == 'E'))
        {
          double d = strtod (st, &end);
          o->lit = json_real (d);
        }
      else
        o->lit = json_integer (v);
      if (end == st)
        return lx_fail (lx, "bad number syntax: %c", c);
      o->kind = OP_NUMBER;
      lx->i += (size_t) (end - st);
      return 1;
    }
  if (is_ident_char (c))
    {
      size_t st = lx->i;
      while (lx->i < lx->len && is_ident_char (lx->s[lx->i]))
        lx->i++;
      char *w = xstrndup (lx->s + st, lx->i - st);
      if (strcmp (w, "true") == 0 || strcmp (w, "false") == 0)
        {
          o->kind = OP_BOOL;
          o->lit = json_boolean (w[0] == 't');
          free (w);
        }
      else if (strcmp (w, "nil") == 0)
        {
          o->kind = OP_NIL;
          free (w);
        }
      else
        {
          o->kind = OP_IDENT;
          o->name = w;
        }
      return 1;
    }
  return lx_fail (lx, "unexpected \"%c\" in command", c);
}

static tpl_pipe *
lx_pipe (lexer *lx, bool in_paren)
{
  tpl_pipe *p = xzalloc (sizeof *p);
  lx_skip (lx);
  /* Declarations: "$x :=", "$i, $e :=", "$x =". */
  size_t save = lx->i;
  if (lx->i < lx->len && lx->s[lx->i] == '$')
    {
      for (;;)
        {
          lx_skip (lx);
          if (lx->i >= lx->len || lx->s[lx->i] != '$')
            break;
          size_t st = lx->i++;
          while (lx->i < lx->len && is_ident_char (lx->s[lx->i]))
            lx->i++;
          if (p->ndecl < 2)
            p->decl[p->ndecl++] = xstrndup (lx->s + st, lx->i - st);
          lx_skip (lx);
          if (lx->i < lx->len && lx->s[lx->i] == ',')
            {
              lx->i++;
              continue;
            }
          break;
        }
      if (lx->i + 1 < lx->len && lx->s[lx->i] == ':' && lx->s[lx->i + 1] == '=')
        lx->i += 2;
      else if (lx->i < lx->len && lx->s[lx->i] == '='
               && (lx->i + 1 >= lx->len || lx->s[lx->i + 1] != '='))
        {
          lx->i++;
          p->assign = true;
        }
      else
        {
          /* Not a declaration: a pipeline starting with a variable. */
          free (p->decl[0]);
          free (p->decl[1]);
          p->decl[0] = p->decl[1] = NULL;
          p->ndecl = 0;
          lx->i = save;
        }
    }
  for (;;)
    {
      command cmd = { 0 };
      for (;;)
        {
          operand o;
          int r = lx_operand (lx, &o);
          if (r < 0)
            {
              for (size_t j = 0; j < cmd.n; j++)
                operand_clear (&cmd.args[j]);
              free (cmd.args);
              pipe_free (p);
              return NULL;
            }
          if (r == 0)
            break;
          cmd.args = xreallocarray (cmd.args, cmd.n + 1, sizeof (operand));
          cmd.args[cmd.n++] = o;
        }
      if (cmd.n == 0)
        {
          pipe_free (p);
          lx_fail (lx, "missing value for command");
          return NULL;
        }
      p->cmds = xreallocarray (p->cmds, p->n + 1, sizeof (command));
      p->cmds[p->n++] = cmd;
      lx_skip (lx);
      if (lx->i < lx->len && lx->s[lx->i] == '|')
        {
          lx->i++;
          continue;
        }
      if (lx->i < lx->len && lx->s[lx->i] == ')' && in_paren)
        break;
      if (lx->i < lx->len)
        {
          lx_fail (lx, "unexpected \"%c\" in operand", lx->s[lx->i]);
          pipe_free (p);
          return NULL;
        }
      break;
    }
  return p;
}

static tpl_pipe *
parse_pipe (const char *text, polis_error **err)
{
  lexer lx = { .s = text, .len = strlen (text), .err = err };
  return lx_pipe (&lx, false);
}

/* ---- cutting the text into nodes ---- */

typedef struct
{
  node *n;
  bool in_else;
} frame;

static node_list *
frame_target (gotemplate *t, frame *stack, int depth)
{
  if (depth == 0)
    return &t->root;
  frame *f = &stack[depth - 1];
  return f->in_else ? &f->n->else_list : &f->n->list;
}

gotemplate *
gotemplate_parse (const char *text, polis_error **err)
{
  gotemplate *t = xzalloc (sizeof *t);
  frame stack[GOTEMPLATE_MAX_DEPTH];
  int depth = 0;
  /* "else if" opens an implicit if that its "end" also closes. */
  int implicit[GOTEMPLATE_MAX_DEPTH] = { 0 };
  const char *p = text;
  bool trim_next = false;

  for (;;)
    {
      const char *open = strstr (p, "{{");
      const char *tend = open ? open : p + strlen (p);
      const char *ts = p;
      if (trim_next)
        while (ts < tend && isspace ((unsigned char) *ts))
          ts++;
      bool trim_before = open && open[2] == '-' && open[3] != '\0'
                         && isspace ((unsigned char) open[3]);
      const char *te = tend;
      if (trim_before)
        while (te > ts && isspace ((unsigned char) te[-1]))
          te--;
      if (te > ts)
        {
          node *n = xzalloc (sizeof *n);
          n->kind = N_TEXT;
          n->text = xstrndup (ts, (size_t) (te - ts));
          node_list_add (frame_target (t, stack, depth), n);
        }
      if (open == NULL)
        break;
      const char *as = open + 2 + (trim_before ? 2 : 0);
      const char *close = strstr (as, "}}");
      if (close == NULL)
        {
          error_set (err, ERROR_INVALID, EINVAL, "template: :1: unclosed action");
          goto fail;
        }
      const char *ae = close;
      trim_next = false;
      if (ae - as >= 2 && ae[-1] == '-' && isspace ((unsigned char) ae[-2]))
        {
          ae -= 2;
          trim_next = true;
        }
      p = close + 2;
      while (as < ae && isspace ((unsigned char) *as))
        as++;
      while (ae > as && isspace ((unsigned char) ae[-1]))
        ae--;
      cleanup_free char *action = xstrndup (as, (size_t) (ae - as));
      if (strncmp (action, "/*", 2) == 0)
        continue;
      size_t wl = 0;
      while (is_ident_char (action[wl]))
        wl++;
      const char *rest = action + wl;
#define KW(k) (wl == strlen (k) && strncmp (action, k, wl) == 0)
      if (KW ("if") || KW ("range") || KW ("with"))
        {
          if (depth >= GOTEMPLATE_MAX_DEPTH - 1)
            {
              error_set (err, ERROR_INVALID, EINVAL,
                         "template: :1: too deeply nested");
              goto fail;
            }
          node *n = xzalloc (sizeof *n);
          n->kind = KW ("if") ? N_IF : KW ("range") ? N_RANGE : N_WITH;
          n->p = parse_pipe (rest, err);
          if (n->p == NULL)
            {
              node_free (n);
              goto fail;
            }
          node_list_add (frame_target (t, stack, depth), n);
          implicit[depth] = 0;
          stack[depth++] = (frame){ n, false };
        }
      else if (KW ("else"))
        {
          if (depth == 0 || stack[depth - 1].in_else)
            {
              error_set (err, ERROR_INVALID, EINVAL,
                         "template: :1: unexpected {{else}}");
              goto fail;
            }
          stack[depth - 1].in_else = true;
          while (isspace ((unsigned char) *rest))
            rest++;
          if (strncmp (rest, "if", 2) == 0 && !is_ident_char (rest[2]))
            {
              node *n = xzalloc (sizeof *n);
              n->kind = N_IF;
              n->p = parse_pipe (rest + 2, err);
              if (n->p == NULL)
                {
                  node_free (n);
                  goto fail;
                }
              node_list_add (frame_target (t, stack, depth), n);
              if (depth >= GOTEMPLATE_MAX_DEPTH - 1)
                goto fail;
              implicit[depth] = 1;
              stack[depth++] = (frame){ n, false };
            }
        }
      else if (KW ("end"))
        {
          if (depth == 0)
            {
              error_set (err, ERROR_INVALID, EINVAL,
                         "template: :1: unexpected {{end}}");
              goto fail;
            }
          depth--;
          while (depth > 0 && implicit[depth])
            {
              implicit[depth] = 0;
              depth--;
            }
        }
      else if (KW ("define") || KW ("template") || KW ("block")
               || KW ("break") || KW ("continue"))
        {
          error_set (err, ERROR_INVALID, ENOTSUP,
                     "template: :1: {{%.*s}} is not supported by polis",
                     (int) wl, action);
          goto fail;
        }
      else
        {
          node *n = xzalloc (sizeof *n);
          n->kind = N_ACTION;
          n->p = parse_pipe (action, err);
          if (n->p == NULL)
            {
              node_free (n);
              goto fail;
            }
          node_list_add (frame_target (t, stack, depth), n);
        }
#undef KW
    }
  if (depth > 0)
    {
      error_set (err, ERROR_INVALID, EINVAL, "template: :1: unexpected EOF");
      goto fail;
    }
  return t;
fail:
  gotemplate_free (t);
  return NULL;
}

/* ---- values ---- */

static void
fmt_real (double d, char *buf, size_t len)
{
  for (int prec = 1; prec <= 17; prec++)
    {
      snprintf (buf, len, "%.*g", prec, d);
      if (strtod (buf, NULL) == d)
        return;
    }
}

static void
format_into (const json_t *v, char **buf, size_t *n, size_t *cap);

void
gotemplate_buf_add (char **buf, size_t *n, size_t *cap, const char *s, size_t l)
{
  if (*n + l + 1 > *cap)
    {
      *cap = (*n + l + 1) * 2;
      *buf = xrealloc (*buf, *cap);
    }
  memcpy (*buf + *n, s, l);
  *n += l;
  (*buf)[*n] = '\0';
}

static int
cmp_keys (const void *a, const void *b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* The keys of object O, sorted (Go ranges and prints maps in key order). */
static const char **
sorted_keys (const json_t *o, size_t *n)
{
  *n = json_object_size (o);
  const char **keys = xmalloc ((*n + 1) * sizeof (char *));
  size_t i = 0;
  const char *k;
  json_t *v;
  json_object_foreach ((json_t *) o, k, v)
  {
    if (k[0] != '\x01')
      keys[i++] = k;
  }
  *n = i;
  qsort (keys, *n, sizeof (char *), cmp_keys);
  return keys;
}

/* Go's %v prints a struct as {v1 v2} and a map as map[k:v].  The JSON
   does not say which an object was: one whose keys are all exported Go
   identifiers ("Name", "MaximumRetryCount") is taken for a struct; label
   maps, port maps ("80/tcp") and empty objects for maps. */
static bool
looks_like_struct (const json_t *v)
{
  const char *k;
  json_t *e;
  if (json_object_size (v) == 0)
    return false;
  json_object_foreach ((json_t *) v, k, e)
  {
    if (k[0] == '\x01')
      continue;
    if (!isupper ((unsigned char) k[0]))
      return false;
    for (const char *p = k; *p; p++)
      if (!isalnum ((unsigned char) *p))
        return false;
  }
  return true;
}

static void
format_into (const json_t *v, char **buf, size_t *n, size_t *cap)
{
  char tmp[64];
  if (v == NULL)
    {
      buf_add (buf, n, cap, "<no value>", 10);
      return;
    }
  switch (json_typeof (v))
    {
    case JSON_STRING:
      buf_add (buf, n, cap, json_string_value (v), json_string_length (v));
      return;
    case JSON_INTEGER:
      snprintf (tmp, sizeof tmp, "%" JSON_INTEGER_FORMAT, json_integer_value (v));
      buf_add (buf, n, cap, tmp, strlen (tmp));
      return;
    case JSON_REAL:
      fmt_real (json_real_value (v), tmp, sizeof tmp);
      buf_add (buf, n, cap, tmp, strlen (tmp));
      return;
    case JSON_TRUE:
      buf_add (buf, n, cap, "true", 4);
      return;
    case JSON_FALSE:
      buf_add (buf, n, cap, "false", 5);
      return;
    case JSON_NULL:
      buf_add (buf, n, cap, "<nil>", 5);
      return;
    case JSON_ARRAY:
      buf_add (buf, n, cap, "[", 1);
      for (size_t i = 0; i < json_array_size (v); i++)
        {
          if (i)
            buf_add (buf, n, cap, " ", 1);
          format_into (json_array_get (v, i), buf, n, cap);
        }
      buf_add (buf, n, cap, "]", 1);
      return;
    case JSON_OBJECT:
      {
        if (looks_like_struct (v))
          {
            /* A Go struct prints its field values in order: {no 0}. */
            const char *k;
            json_t *e;
            bool first = true;
            buf_add (buf, n, cap, "{", 1);
            json_object_foreach ((json_t *) v, k, e)
            {
              if (k[0] == '\x01')
                continue;
              if (!first)
                buf_add (buf, n, cap, " ", 1);
              first = false;
              if (json_is_string (e) && json_string_length (e) == 0)
                continue;
              format_into (e, buf, n, cap);
            }
            buf_add (buf, n, cap, "}", 1);
            return;
          }
        size_t nk;
        cleanup_free const char **keys = sorted_keys (v, &nk);
        buf_add (buf, n, cap, "map[", 4);
        for (size_t i = 0; i < nk; i++)
          {
            if (i)
              buf_add (buf, n, cap, " ", 1);
            buf_add (buf, n, cap, keys[i], strlen (keys[i]));
            buf_add (buf, n, cap, ":", 1);
            format_into (json_object_get (v, keys[i]), buf, n, cap);
          }
        buf_add (buf, n, cap, "]", 1);
        return;
      }
    }
}

char *
gotemplate_format_value (const json_t *v)
{
  size_t n = 0, cap = 64;
  char *buf = xmalloc (cap);
  buf[0] = '\0';
  format_into (v, &buf, &n, &cap);
  return buf;
}

char *
gotemplate_json (const json_t *v)
{
  if (v == NULL)
    return xstrdup ("null");
  cleanup_json json_t *copy = NULL;
  if (json_is_object (v))
    {
      /* Hidden keys (\x01Name) stay out of the output. */
      const char *k;
      json_t *e;
      copy = json_object ();
      json_object_foreach ((json_t *) v, k, e)
      {
        if (k[0] != '\x01')
          json_object_set (copy, k, e);
      }
      v = copy;
    }
  cleanup_free char *d = json_dumps (v, JSON_COMPACT | JSON_ENCODE_ANY);
  size_t n = 0, cap = strlen (d) + 16;
  char *out = xmalloc (cap);
  out[0] = '\0';
  for (const char *p = d; *p; p++)
    {
      if (*p == '<')
        buf_add (&out, &n, &cap, "\\u003c", 6);
      else if (*p == '>')
        buf_add (&out, &n, &cap, "\\u003e", 6);
      else if (*p == '&')
        buf_add (&out, &n, &cap, "\\u0026", 6);
      else
        buf_add (&out, &n, &cap, p, 1);
    }
  return out;
}

bool
gotemplate_truthy (const json_t *v)
{
  if (v == NULL)
    return false;
  switch (json_typeof (v))
    {
    case JSON_STRING:
      return json_string_length (v) > 0;
    case JSON_INTEGER:
      return json_integer_value (v) != 0;
    case JSON_REAL:
      return json_real_value (v) != 0;
    case JSON_TRUE:
      return true;
    case JSON_FALSE:
    case JSON_NULL:
      return false;
    case JSON_ARRAY:
      return json_array_size (v) > 0;
    case JSON_OBJECT:
      return json_object_size (v) > 0;
    }
  return false;
}

/* ---- execution ---- */


static json_t *eval_pipe (exec_ctx *x, tpl_pipe *p, json_t *dot);

int
gotemplate_fail (exec_ctx *x, const char *fmt, ...)
{
  va_list ap;
  char *m = NULL;
  va_start (ap, fmt);
  if (vasprintf (&m, fmt, ap) < 0)
    abort ();
  va_end (ap);
  error_set (x->err, ERROR_INVALID, EINVAL,
             "template: :1: executing \"\" %s", m);
  free (m);
  return -1;
}

static void
var_push (exec_ctx *x, const char *name, json_t *v)
{
  x->vars = xreallocarray (x->vars, x->nvars + 1, sizeof (var));
  x->vars[x->nvars].name = xstrdup (name);
  x->vars[x->nvars].v = v ? json_incref (v) : NULL;
  x->nvars++;
}

static void
var_pop_to (exec_ctx *x, size_t mark)
{
  while (x->nvars > mark)
    {
      x->nvars--;
      free (x->vars[x->nvars].name);
      if (x->vars[x->nvars].v)
        json_decref (x->vars[x->nvars].v);
    }
}

static var *
var_find (exec_ctx *x, const char *name)
{
  for (size_t i = x->nvars; i > 0; i--)
    if (strcmp (x->vars[i - 1].name, name) == 0)
      return &x->vars[i - 1];
  return NULL;
}

/* Sentinel for "evaluation failed" (distinct from NULL = no value). */
json_t gotemplate_eval_error_value;

json_t *
gotemplate_ref (json_t *v)
{
  return v ? json_incref (v) : NULL;
}

void
gotemplate_unref (json_t *v)
{
  if (v && v != EVAL_ERROR)
    json_decref (v);
}

/* Apply CHAIN to V (a new reference is returned, V is consumed). */
static json_t *
apply_chain (exec_ctx *x, json_t *v, char **chain)
{
  for (char **c = chain; c && *c; c++)
    {
      if (v == NULL || json_is_null (v))
        {
          if (x->strict)
            {
              unref (v);
              ex_fail (x, "at <.%s>: nil pointer evaluating .%s", *c, *c);
              return EVAL_ERROR;
            }
          unref (v);
          return NULL;
        }
      if (!json_is_object (v))
        {
          ex_fail (x, "at <.%s>: can't evaluate field %s", *c, *c);
          unref (v);
          return EVAL_ERROR;
        }
      json_t *f = json_object_get (v, *c);
      if (f == NULL)
        {
          cleanup_free char *hidden = xasprintf ("\x01%s", *c);
          f = json_object_get (v, hidden);
        }
      if (f == NULL && x->strict)
        {
          ex_fail (x, "at <.%s>: can't evaluate field %s", *c, *c);
          unref (v);
          return EVAL_ERROR;
        }
      f = ref (f);
      unref (v);
      v = f;
    }
  return v;
}

static json_t *eval_operand (exec_ctx *x, operand *o, json_t *dot);

static json_t *
eval_operand (exec_ctx *x, operand *o, json_t *dot)
{
  switch (o->kind)
    {
    case OP_FIELD:
      return apply_chain (x, ref (dot), o->chain);
    case OP_VAR:
      {
        var *v = var_find (x, o->name);
        if (v == NULL)
          {
            error_set (x->err, ERROR_INVALID, EINVAL,
                       "template: :1: undefined variable \"%s\"", o->name);
            return EVAL_ERROR;
          }
        return apply_chain (x, ref (v->v), o->chain);
      }
    case OP_STRING:
      return json_string (o->name);
    case OP_NUMBER:
    case OP_BOOL:
      return json_incref (o->lit);
    case OP_NIL:
      return json_null ();
    case OP_IDENT:
      return gotemplate_call (x, o->name, NULL, 0);
    case OP_PIPE:
      {
        json_t *v = eval_pipe (x, o->sub, dot);
        if (v == EVAL_ERROR)
          return v;
        return apply_chain (x, v, o->chain);
      }
    }
  return NULL;
}

/* Evaluate CMD; FINAL (borrowed, may be NULL) is the previous command's
   result when HAVE_FINAL. */
static json_t *
eval_command (exec_ctx *x, command *cmd, json_t *dot, json_t *final,
              bool have_final)
{
  operand *first = &cmd->args[0];
  bool is_func = first->kind == OP_IDENT;
  /* A field followed by arguments: index an object (ps's .Label "k"). */
  bool is_method = !is_func && first->kind == OP_FIELD && cmd->n > 1;
  if (!is_func && !is_method)
    {
      if (cmd->n > 1 || have_final)
        {
          ex_fail (x, "can't give argument to non-function");
          return EVAL_ERROR;
        }
      return eval_operand (x, first, dot);
    }
  size_t n = cmd->n - 1 + (have_final ? 1 : 0) + (is_method ? 1 : 0);
  json_t **args = xzalloc ((n + 1) * sizeof (json_t *));
  size_t k = 0;
  json_t *result = EVAL_ERROR;
  if (is_method)
    {
      args[k] = eval_operand (x, first, dot);
      if (args[k++] == EVAL_ERROR)
        goto out;
    }
  for (size_t i = 1; i < cmd->n; i++)
    {
      args[k] = eval_operand (x, &cmd->args[i], dot);
      if (args[k++] == EVAL_ERROR)
        goto out;
    }
  if (have_final)
    args[k++] = ref (final);
  result = gotemplate_call (x, is_method ? "index" : first->name, args, k);
out:
  for (size_t i = 0; i < k; i++)
    unref (args[i]);
  free (args);
  return result;
}

static json_t *
eval_pipe (exec_ctx *x, tpl_pipe *p, json_t *dot)
{
  json_t *v = NULL;
  for (size_t i = 0; i < p->n; i++)
    {
      json_t *nv = eval_command (x, &p->cmds[i], dot, v, i > 0);
      unref (v);
      if (nv == EVAL_ERROR)
        return EVAL_ERROR;
      v = nv;
    }
  if (p->ndecl == 1)
    {
      var *existing = p->assign ? var_find (x, p->decl[0]) : NULL;
      if (existing)
        {
          unref (existing->v);
          existing->v = ref (v);
        }
      else
        var_push (x, p->decl[0], v);
    }
  return v;
}

static int exec_list (exec_ctx *x, node_list *l, json_t *dot);

static int
emit (exec_ctx *x, const char *s, size_t l)
{
  if (x->n + l > GOTEMPLATE_MAX_OUTPUT)
    return error_set (x->err, ERROR_INVALID, E2BIG, "template output too large");
  buf_add (&x->out, &x->n, &x->cap, s, l);
  return 0;
}

static int
exec_node (exec_ctx *x, node *nd, json_t *dot)
{
  size_t mark = x->nvars;
  int ret = 0;
  switch (nd->kind)
    {
    case N_TEXT:
      return emit (x, nd->text, strlen (nd->text));
    case N_ACTION:
      {
        json_t *v = eval_pipe (x, nd->p, dot);
        if (v == EVAL_ERROR)
          return -1;
        if (nd->p->ndecl == 0)
          {
            cleanup_free char *s = gotemplate_format_value (v);
            ret = emit (x, s, strlen (s));
          }
        unref (v);
        return ret; /* declared variables stay for the rest of the scope */
      }
    case N_IF:
    case N_WITH:
      {
        json_t *v = eval_pipe (x, nd->p, dot);
        if (v == EVAL_ERROR)
          return -1;
        if (truthy (v))
          ret = exec_list (x, &nd->list, nd->kind == N_WITH ? v : dot);
        else
          ret = exec_list (x, &nd->else_list, dot);
        unref (v);
        break;
      }
    case N_RANGE:
      {
        /* The declaration names the loop variables, not the pipe's value. */
        size_t ndecl = nd->p->ndecl;
        nd->p->ndecl = 0;
        json_t *v = eval_pipe (x, nd->p, dot);
        nd->p->ndecl = ndecl;
        if (v == EVAL_ERROR)
          return -1;
        if (!truthy (v) || !(json_is_array (v) || json_is_object (v)))
          {
            if (truthy (v))
              {
                unref (v);
                return ex_fail (x, "range can't iterate over a value");
              }
            ret = exec_list (x, &nd->else_list, dot);
            unref (v);
            break;
          }
        size_t nk = 0;
        cleanup_free const char **keys
            = json_is_object (v) ? sorted_keys (v, &nk) : NULL;
        size_t count = json_is_array (v) ? json_array_size (v) : nk;
        for (size_t i = 0; i < count && ret == 0; i++)
          {
            size_t m2 = x->nvars;
            json_t *elem = keys ? json_object_get (v, keys[i])
                                : json_array_get (v, i);
            json_t *key = keys ? json_string (keys[i])
                               : json_integer ((json_int_t) i);
            if (ndecl == 1)
              var_push (x, nd->p->decl[0], elem);
            else if (ndecl == 2)
              {
                var_push (x, nd->p->decl[0], key);
                var_push (x, nd->p->decl[1], elem);
              }
            json_decref (key);
            ret = exec_list (x, &nd->list, elem);
            var_pop_to (x, m2);
          }
        unref (v);
        break;
      }
    }
  var_pop_to (x, mark);
  return ret;
}

static int
exec_list (exec_ctx *x, node_list *l, json_t *dot)
{
  size_t mark = x->nvars;
  int ret = 0;
  for (size_t i = 0; i < l->n && ret == 0; i++)
    ret = exec_node (x, l->items[i], dot);
  var_pop_to (x, mark);
  return ret;
}

int
gotemplate_exec (gotemplate *t, json_t *dot, bool strict, char **out,
                 polis_error **err)
{
  exec_ctx x = { .strict = strict, .err = err, .cap = 256 };
  x.out = xmalloc (x.cap);
  x.out[0] = '\0';
  var_push (&x, "$", dot);
  int r = exec_list (&x, &t->root, dot);
  var_pop_to (&x, 0);
  free (x.vars);
  if (r < 0)
    {
      free (x.out);
      return -1;
    }
  *out = x.out;
  return 0;
}
